-- A multicast subscriber for the multicast tests: joins the channel id it is given and
-- answers "got" with everything received so far.
local skynet = require "skynet"
local multicast = require "skynet.multicast"

local channel_id = tonumber((...))

skynet.start(function()
	local got = {}
	local chan = multicast.new {
		channel = channel_id,
		dispatch = function(self, source, ...)
			got[#got + 1] = { source = source, channel = self.channel, n = select("#", ...), ... }
		end,
	}
	local cmd = {}
	function cmd.subscribe()
		chan:subscribe()
		chan:subscribe()	-- a second subscribe changes nothing
	end
	function cmd.unsubscribe()
		chan:unsubscribe()
	end
	function cmd.got()
		return got
	end
	skynet.dispatch("lua", function(_, _, name)
		skynet.ret(skynet.pack(cmd[name]()))
	end)
end)

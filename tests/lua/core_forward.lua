-- skynet.forward_type: text messages are dispatched as the "raw" protocol, which keeps
-- (and here frees) the message itself; other types are dispatched as usual.
local skynet = require "skynet"
require "skynet.manager"

local got = {}

skynet.register_protocol {
	name = "raw",
	id = 101,
	unpack = function(msg, sz)
		return msg, sz
	end,
	dispatch = function(_, _, msg, sz)
		got[#got + 1] = skynet.tostring(msg, sz)
		skynet.trash(msg, sz)
	end,
}

skynet.forward_type({ [skynet.PTYPE_TEXT] = 101 }, function()
	skynet.dispatch("lua", function(_, _, what)
		assert(what == "got")
		skynet.retpack(table.concat(got, ","))
	end)
end)

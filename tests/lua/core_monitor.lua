-- A monitor service (skynet.monitor): the core tells it, with a "client" message from
-- the exiting handle, whenever a service exits.
local skynet = require "skynet"

local seen = {}

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = function() end,
	dispatch = function(_, source)
		seen[source] = true
	end,
}

skynet.start(function()
	skynet.dispatch("lua", function(_, _, what, addr)
		assert(what == "seen")
		skynet.retpack(seen[addr] == true)
	end)
end)

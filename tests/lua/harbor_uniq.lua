-- A service started with uniqueservice(true) by both nodes of the harbor test.
local skynet = require "skynet"

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "ping" then
			skynet.ret(skynet.pack("pong"))
		end
	end)
end)

-- A helper service: answers "echo" with its arguments and its launch arguments.
local skynet = require "skynet"
local args = { ... }

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		if cmd == "echo" then
			skynet.ret(skynet.pack(table.concat(args, " "), ...))
		end
	end)
end)

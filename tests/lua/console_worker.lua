-- A service the debug console tests inspect: three coroutines parked on the same line
-- (task, uniqtask, killtask) and lua commands the remote debugger steps through.
local skynet = require "skynet"

local CMD = {}

local function nap()
	skynet.wait()
end

function CMD.add(a, b)
	local sum = a + b
	return sum
end

skynet.start(function()
	for _ = 1, 3 do
		skynet.fork(nap)
	end
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = assert(CMD[cmd], cmd)
		skynet.ret(skynet.pack(f(...)))
	end)
end)

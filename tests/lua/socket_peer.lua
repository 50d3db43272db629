-- Helper for socket_tcp: takes over a socket another service abandoned and answers each
-- line with "peer:<line>".
local skynet = require "skynet"
local socket = require "skynet.socket"

local closed = false
local close_waiter

local function serve(id)
	while true do
		local line = socket.readline(id)
		if not line then
			break
		end
		socket.write(id, "peer:" .. line .. "\n")
	end
	socket.close(id)
	closed = true
	if close_waiter then
		skynet.wakeup(close_waiter)
	end
end

local command = {}

function command.take(id)
	local ok = socket.start(id)
	if ok ~= id then
		return "start failed"
	end
	skynet.fork(serve, id)
	return "started"
end

function command.wait_close()
	if not closed then
		close_waiter = coroutine.running()
		skynet.wait(close_waiter)
	end
	return closed
end

function command.exit()
	skynet.exit()
end

skynet.start(function()
	skynet.dispatch("lua", function(session, _, cmd, ...)
		local f = assert(command[cmd])
		if session == 0 then
			f(...)
		else
			skynet.ret(skynet.pack(f(...)))
		end
	end)
end)

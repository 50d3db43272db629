-- An agent for gate_watchdog: takes one fd forwarded by the gate and answers each
-- packet with "agent:<packet>".
local skynet = require "skynet"
local socket = require "skynet.socket"
-- this agent's failures are the test's
local T = require "testcase" "gate_watchdog"

local client_fd

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
	dispatch = function(fd, _, msg)
		skynet.ignoreret()
		if not T.check(fd == client_fd, "packet for fd", fd, "expected", client_fd) then
			return
		end
		socket.write(fd, string.pack(">s2", "agent:" .. msg))
	end,
}

local command = {}

function command.start(gate, fd)
	client_fd = fd
	skynet.call(gate, "lua", "forward", fd)
	socket.write(fd, string.pack(">s2", "agent ready"))
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

-- The example watchdog: owns the Lua gate and starts one agent per client.
-- The gate reports connections as lua messages ("socket", event, fd, ...); main calls
-- "start" with the gate's listen conf, and agents call "close" to drop their client.
local skynet = require "skynet"

local gate
local agents = {} -- fd -> agent service

local function close_agent(fd)
	local agent = agents[fd]
	agents[fd] = nil
	if agent then
		skynet.call(gate, "lua", "kick", fd)
		-- The agent exits on "disconnect", so it never answers.
		skynet.send(agent, "lua", "disconnect")
	end
end

local SOCKET = {}

function SOCKET.open(fd, addr)
	skynet.error("New client from : " .. addr)
	local agent = skynet.newservice("agent")
	agents[fd] = agent
	skynet.call(agent, "lua", "start", { gate = gate, client = fd, watchdog = skynet.self() })
end

function SOCKET.close(fd)
	skynet.error("socket close", fd)
	close_agent(fd)
end

function SOCKET.error(fd, msg)
	skynet.error("socket error", fd, msg)
	close_agent(fd)
end

-- kbytes K bytes are still waiting to be sent to fd.
function SOCKET.warning(fd, kbytes)
	skynet.error("socket warning", fd, kbytes)
end

-- Packets reach the watchdog only for clients that have no agent; agents get theirs.
function SOCKET.data(fd, msg)
end

local CMD = {}

function CMD.start(conf)
	return skynet.call(gate, "lua", "open", conf)
end

function CMD.close(fd)
	close_agent(fd)
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, subcmd, ...)
		if cmd == "socket" then
			-- Gate notifications are sends: nothing to answer.
			SOCKET[subcmd](...)
		else
			local f = assert(CMD[cmd], cmd)
			skynet.ret(skynet.pack(f(subcmd, ...)))
		end
	end)
	gate = skynet.newservice("gate")
end)

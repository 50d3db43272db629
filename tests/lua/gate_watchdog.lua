-- A watchdog for service/gate.lua driven by tests/lua_socket.rs. Arg: maxclient.
-- Prints "GATE listen <port>", then "GATE open|close|error <fd>" per connection event.
-- Packets reaching the watchdog:
--   agent -> hand the fd to a new gate_agent (the gate forwards to it from then on)
--   kick  -> the gate closes the connection
--   close -> the gate stops listening; answers "closed"
--   bye   -> the test ends
--   other -> "echo:<packet>" (or "len:<n>" for packets over 1000 bytes)
local skynet = require "skynet"
local socket = require "skynet.socket"

local T = require "testcase" "gate_watchdog"
local maxclient = math.tointeger(tonumber((...))) or 64
local gate
local agents = {}

local function reply(fd, text)
	socket.write(fd, string.pack(">s2", text))
end

local SOCKET = {}

function SOCKET.open(fd, addr)
	skynet.error("GATE open", fd, addr)
	skynet.call(gate, "lua", "accept", fd)
end

function SOCKET.data(fd, msg)
	if msg == "agent" then
		local agent = skynet.newservice("gate_agent")
		agents[fd] = agent
		skynet.call(agent, "lua", "start", gate, fd)
	elseif msg == "kick" then
		skynet.call(gate, "lua", "kick", fd)
	elseif msg == "close" then
		skynet.call(gate, "lua", "close")
		reply(fd, "closed")
	elseif msg == "bye" then
		T.finish()
	elseif #msg > 1000 then
		reply(fd, "len:" .. #msg)
	else
		reply(fd, "echo:" .. msg)
	end
end

local function drop(fd)
	local agent = agents[fd]
	if agent then
		agents[fd] = nil
		skynet.send(agent, "lua", "exit")
	end
end

function SOCKET.close(fd)
	skynet.error("GATE close", fd)
	drop(fd)
end

function SOCKET.error(fd, msg)
	skynet.error("GATE error", fd, msg)
	drop(fd)
	skynet.call(gate, "lua", "kick", fd)
end

function SOCKET.warning(fd, size)
	skynet.error("GATE warning", fd, size)
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, event, ...)
		if cmd == "socket" then
			SOCKET[event](...)
		else
			error("unexpected command " .. tostring(cmd))
		end
	end)
	gate = skynet.newservice("gate")
	local addr, port = skynet.call(gate, "lua", "open", {
		address = "127.0.0.1",
		port = 0,
		maxclient = maxclient,
		nodelay = true,
	})
	T.check(addr == "127.0.0.1", "open returned", addr, port)
	skynet.error("GATE listen " .. port)
end)

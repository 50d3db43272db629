-- The Lua gate: accepts TCP clients through snax.gateserver and reports them to a
-- watchdog as lua messages ("socket", event, fd, ...). Once the watchdog (or an agent)
-- asks to "forward" an fd, its packets go straight to the agent as PTYPE_CLIENT
-- messages with the fd as session; "accept" makes them flow to the watchdog instead.

local skynet = require "skynet"
local gateserver = require "snax.gateserver"

local watchdog
-- fd -> { fd, ip, agent, client }; agent/client are set while the fd is forwarded
local conns = {}

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
}

local function stop_forwarding(c)
	c.agent = nil
	c.client = nil
end

local function forget(fd)
	local c = conns[fd]
	if c then
		stop_forwarding(c)
		conns[fd] = nil
	end
end

local handler = {}

function handler.open(source, conf)
	watchdog = conf.watchdog or source
	return conf.address, conf.port
end

function handler.connect(fd, addr)
	conns[fd] = { fd = fd, ip = addr }
	skynet.send(watchdog, "lua", "socket", "open", fd, addr)
end

function handler.message(fd, msg, sz)
	local c = conns[fd]
	local agent = c and c.agent
	if agent then
		-- The agent's dispatch takes over the block; gateserver does not free it.
		skynet.redirect(agent, c.client, "client", fd, msg, sz)
	else
		-- The watchdog gets a copy, so this block is ours to free.
		skynet.send(watchdog, "lua", "socket", "data", fd, skynet.tostring(msg, sz))
		skynet.trash(msg, sz)
	end
end

function handler.disconnect(fd)
	forget(fd)
	skynet.send(watchdog, "lua", "socket", "close", fd)
end

function handler.error(fd, msg)
	forget(fd)
	skynet.send(watchdog, "lua", "socket", "error", fd, msg)
end

function handler.warning(fd, kbytes)
	skynet.send(watchdog, "lua", "socket", "warning", fd, kbytes)
end

local command = {}

-- forward(fd[, client[, address]]): packets from fd go to `address` (default: the caller)
-- with `client` as their source.
function command.forward(source, fd, client, address)
	local c = assert(conns[fd], "unknown fd")
	stop_forwarding(c)
	c.client = client or 0
	c.agent = address or source
	gateserver.openclient(fd)
end

-- accept(fd): start reading fd, reporting its packets to the watchdog.
function command.accept(_, fd)
	local c = assert(conns[fd], "unknown fd")
	stop_forwarding(c)
	gateserver.openclient(fd)
end

function command.kick(_, fd)
	gateserver.closeclient(fd)
end

function handler.command(cmd, source, ...)
	local f = command[cmd]
	if f == nil then
		error(string.format("gate: unknown command %s", tostring(cmd)))
	end
	return f(source, ...)
end

gateserver.start(handler)

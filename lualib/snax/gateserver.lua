-- snax.gateserver: a TCP front end that cuts the byte stream into packets with a 2-byte
-- big-endian length header (skynet.netpack) and hands them to a handler table.
--
-- handler.connect(fd, addr) and handler.message(fd, msg, sz) are required; msg is a
-- malloc'd block the handler now owns (send it on, or skynet.trash it).
-- Optional: open(source, conf), disconnect(fd), error(fd, msg), warning(fd, kbytes),
-- command(cmd, source, ...) and embed (start dispatching now instead of skynet.start).

local skynet = require "skynet"
local netpack = require "skynet.netpack"
local driver = require "skynet.socketdriver"

local gateserver = {}

local listen_fd -- the listening socket while the gate is open
local queue -- netpack's store of complete packets, created by netpack.filter
local maxclient
local nodelay = false
local client_count = 0

-- fd -> true while the client may send, false once it closed its side. An fd appears
-- here from accept until closeclient.
local clients = {}
-- fds counted in client_count (accepted and not yet reported closed)
local counted = {}

-- Frees whatever packets are still queued when the service's Lua state closes.
local commands = setmetatable({}, {
	__gc = function()
		if queue then
			netpack.clear(queue)
		end
	end,
})

-- Starts reading from fd (a connection stays paused until someone accepts or forwards it).
function gateserver.openclient(fd)
	if clients[fd] then
		driver.start(fd)
	end
end

function gateserver.closeclient(fd)
	if clients[fd] ~= nil then
		clients[fd] = nil
		driver.close(fd)
	end
end

function gateserver.start(handler)
	assert(handler.message, "gateserver needs handler.message")
	assert(handler.connect, "gateserver needs handler.connect")

	-- Set while commands.open waits for the core to report the listening address.
	local pending_listen

	function commands.open(source, conf)
		assert(not listen_fd, "gate is already listening")
		local host = conf.address or "0.0.0.0"
		local port = assert(conf.port, "gate needs conf.port")
		maxclient = conf.maxclient or 1024
		nodelay = conf.nodelay
		skynet.error(string.format("Listen on %s:%d", host, port))
		listen_fd = driver.listen(host, port, conf.backlog)
		local wait = { co = coroutine.running(), fd = listen_fd }
		pending_listen = wait
		skynet.wait(wait.co)
		pending_listen = nil
		conf.address = wait.addr
		conf.port = wait.port
		driver.start(listen_fd)
		if handler.open then
			return handler.open(source, conf)
		end
	end

	function commands.close()
		assert(listen_fd, "gate is not listening")
		driver.close(listen_fd)
	end

	local function deliver(fd, msg, sz)
		if clients[fd] then
			handler.message(fd, msg, sz)
		else
			skynet.error(string.format("Drop message from fd (%d) : %s", fd, netpack.tostring(msg, sz)))
		end
	end

	-- Several packets arrived at once. handler.message may block, so a fork stands by
	-- to carry on with the rest of the queue meanwhile.
	local function drain()
		local fd, msg, sz = netpack.pop(queue)
		if fd == nil then
			return
		end
		skynet.fork(drain)
		repeat
			deliver(fd, msg, sz)
			fd, msg, sz = netpack.pop(queue)
		until fd == nil
	end

	local on = {}
	on.data = deliver
	on.more = drain

	function on.open(fd, addr)
		if client_count >= maxclient then
			driver.shutdown(fd)
			return
		end
		client_count = client_count + 1
		counted[fd] = true
		if nodelay then
			driver.nodelay(fd)
		end
		clients[fd] = true
		handler.connect(fd, addr)
	end

	local function uncount(fd)
		if counted[fd] then
			counted[fd] = nil
			client_count = client_count - 1
			return true
		end
	end

	function on.close(fd)
		if fd == listen_fd then
			listen_fd = nil
			return
		end
		-- Connections refused for maxclient were never announced, so stay silent.
		if not uncount(fd) then
			return
		end
		if clients[fd] then
			clients[fd] = false
		end
		if handler.disconnect then
			handler.disconnect(fd)
		end
	end

	function on.error(fd, msg)
		if fd == listen_fd then
			skynet.error("gateserver accept error:", msg)
			return
		end
		driver.shutdown(fd)
		if uncount(fd) and handler.error then
			handler.error(fd, msg)
		end
	end

	function on.warning(fd, kbytes)
		if handler.warning then
			handler.warning(fd, kbytes)
		end
	end

	-- The core reports a listening socket's address and port (also a started socket's).
	function on.init(fd, addr, port)
		local wait = pending_listen
		if wait and wait.co and fd == wait.fd then
			wait.addr = addr
			wait.port = port
			local co = wait.co
			wait.co = nil
			skynet.wakeup(co)
		end
	end

	skynet.register_protocol {
		name = "socket",
		id = skynet.PTYPE_SOCKET,
		unpack = function(msg, sz)
			return netpack.filter(queue, msg, sz)
		end,
		dispatch = function(_, _, q, kind, ...)
			queue = q
			if kind then
				on[kind](...)
			end
		end,
	}

	local function serve()
		skynet.dispatch("lua", function(_, source, cmd, ...)
			local f = commands[cmd]
			if f then
				skynet.ret(skynet.pack(f(source, ...)))
			elseif handler.command then
				skynet.ret(skynet.pack(handler.command(cmd, source, ...)))
			else
				error(string.format("gateserver: unknown command %s", tostring(cmd)))
			end
		end)
	end

	if handler.embed then
		serve()
	else
		skynet.start(serve)
	end
end

return gateserver

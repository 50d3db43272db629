-- skynet.socket: blocking-style TCP and UDP for Lua services.
--
-- The core reports every socket event to the owning service as a PTYPE_SOCKET message.
-- Each open socket has a record here holding its read buffer; a coroutine that needs more
-- than the buffer holds parks on the record until an event satisfies it.

local skynet = require "skynet"
local core = require "skynet.core"
local driver = require "skynet.socketdriver"

local assert = assert
local error = error
local type = type
local tostring = tostring
local format = string.format
local running = coroutine.running

-- Past this many buffered bytes the fd stops being read until a reader wants more, so a
-- fast peer cannot fill the service's memory.
local PAUSE_ABOVE = 128 * 1024

local socket = {}

-- Socket id -> record. Fields of a record:
--   id, protocol ("TCP" or "UDP")
--   buffer, pool   read buffer and its node pool (absent for listen/accept and UDP records)
--   connected      true once the core reported the socket usable, false after close/error
--   connecting     true until the first CONNECT/ERROR; then the error text if it failed
--   want           what the parked reader waits for: byte count (0: any data), separator, or
--                  true (everything until close); false/nil when nobody waits
--   waiter         the parked coroutine
--   halted         true while reading is paused; false once a close forbids resuming
--   closer         the coroutine inside socket.close waiting for the reader to finish
--   callback       accept callback (listening TCP) or datagram callback (UDP)
--   listen, addr, port, limit, on_warning
-- The service's sockets are closed when its Lua state goes away.
local records = setmetatable({}, {
	__gc = function(all)
		for id in pairs(all) do
			driver.close(id)
		end
	end,
})

local close_hooks = {}

local function record_of(id)
	local s = records[id]
	if s == nil then
		error(format("socket %s is not open in this service", tostring(id)), 3)
	end
	return s
end

local function wake_reader(s)
	local co = s.waiter
	if co then
		s.waiter = nil
		skynet.wakeup(co)
	end
end

local function halt(s, size)
	if s.halted ~= nil then
		return
	end
	if size then
		skynet.error(format("Pause socket (%d) size : %d", s.id, size))
	else
		skynet.error(format("Pause socket (%d)", s.id))
	end
	driver.pause(s.id)
	s.halted = true
	-- Data that arrived before the pause is still queued for us: let it come in.
	skynet.yield()
end

-- Parks the running coroutine until an event for `s` wakes it, resuming a paused fd first.
local function park(s)
	if s.waiter then
		error(format("socket %d is already being read by another coroutine", s.id), 3)
	end
	local co = running()
	s.waiter = co
	if s.halted then
		skynet.error(format("Resume socket (%d)", s.id))
		s.halted = nil
		driver.start(s.id)
	end
	skynet.wait(co)
	-- socket.close waits until the reader has taken what it needs from the buffer.
	local closer = s.closer
	if closer then
		skynet.wakeup(closer)
	end
end

local function leftover(s)
	return driver.readall(s.buffer, s.pool)
end

---------------------------------------------------------------- events from the core

local on_event = {}

-- SKYNET_SOCKET_TYPE_DATA
on_event[1] = function(id, size, data)
	local s = records[id]
	if s == nil or s.buffer == nil then
		skynet.error("socket: drop package from " .. id)
		driver.drop(data, size)
		return
	end
	local total = driver.push(s.buffer, s.pool, data, size)
	local want = s.want
	local done
	if type(want) == "number" then
		done = total >= want
	elseif type(want) == "string" then
		done = driver.readline(s.buffer, nil, want)
	end
	if done then
		s.want = nil
		if total > PAUSE_ABOVE then
			halt(s, total)
		end
		wake_reader(s)
		return
	end
	if s.limit and total > s.limit then
		skynet.error(format("socket buffer overflow: fd=%d size=%d", id, total))
		driver.close(id)
		return
	end
	-- A reader waiting for a byte count, a line or the close still needs the data flowing.
	if not want and total > PAUSE_ABOVE then
		halt(s, total)
	end
end

-- SKYNET_SOCKET_TYPE_CONNECT (also sent again when a socket is started or handed over)
on_event[2] = function(id, port, addr)
	local s = records[id]
	if s == nil or s.connected then
		return
	end
	if s.listen then
		s.addr = addr
		s.port = port
	end
	s.connected = true
	wake_reader(s)
end

-- SKYNET_SOCKET_TYPE_CLOSE
on_event[3] = function(id)
	local s = records[id]
	if s then
		s.connected = false
		wake_reader(s)
	else
		driver.close(id)
	end
	local hook = close_hooks[id]
	if hook then
		close_hooks[id] = nil
		hook(id)
	end
end

-- SKYNET_SOCKET_TYPE_ACCEPT: `id` is the listening socket, `newid` the connection.
on_event[4] = function(id, newid, addr)
	local s = records[id]
	if s == nil or s.callback == nil then
		driver.close(newid)
		return
	end
	s.callback(newid, addr)
end

-- SKYNET_SOCKET_TYPE_ERROR
on_event[5] = function(id, _, err)
	local s = records[id]
	if s == nil then
		driver.shutdown(id)
		skynet.error("socket: error on unknown", id, err)
		return
	end
	if s.callback then
		-- A listening socket survives a failed accept (e.g. out of fds).
		skynet.error("socket: accept error:", err)
		return
	end
	if s.connected then
		skynet.error("socket: error on", id, err)
	elseif s.connecting then
		s.connecting = err
	end
	s.connected = false
	driver.shutdown(id)
	wake_reader(s)
end

-- SKYNET_SOCKET_TYPE_UDP
on_event[6] = function(id, size, data, from)
	local s = records[id]
	if s == nil or s.callback == nil then
		skynet.error("socket: drop udp package from " .. id)
		driver.drop(data, size)
		return
	end
	local msg = skynet.tostring(data, size)
	core.trash(data, size)
	s.callback(msg, from)
end

-- SKYNET_SOCKET_TYPE_WARNING: `kbytes` still to send, 0 once the backlog has drained.
on_event[7] = function(id, kbytes)
	local s = records[id]
	if s == nil then
		return
	end
	local handler = s.on_warning
	if handler then
		handler(id, kbytes)
	else
		skynet.error(format("WARNING: %d K bytes need to send out (fd = %d)", kbytes, id))
	end
end

skynet.register_protocol {
	name = "socket",
	id = skynet.PTYPE_SOCKET,
	unpack = driver.unpack,
	dispatch = function(_, _, kind, ...)
		local f = on_event[kind]
		if f then
			f(...)
		else
			skynet.error("socket: unknown event type", kind)
		end
	end,
}

---------------------------------------------------------------- opening

-- Registers `id` and waits for the core to confirm it (CONNECT) or refuse it (ERROR/CLOSE).
-- `accept` makes it a listening socket that hands new connections to that function.
local function attach(id, accept)
	assert(not close_hooks[id], "socket has onclose callback")
	local old = records[id]
	if old and not old.listen then
		error("socket is not closed")
	end
	local buffer
	if accept == nil then
		buffer = driver.buffer()
	end
	local s = {
		id = id,
		protocol = "TCP",
		buffer = buffer,
		pool = buffer and {},
		connected = false,
		connecting = true,
		want = false,
		callback = accept,
	}
	records[id] = s
	park(s)
	local err = s.connecting
	s.connecting = nil
	if s.connected then
		return id
	end
	records[id] = nil
	if type(err) ~= "string" then
		err = "socket closed"
	end
	return nil, err
end

function socket.open(addr, port)
	local id = driver.connect(addr, port)
	if id < 0 then
		return nil, "no free socket slot"
	end
	return attach(id)
end

function socket.bind(os_fd)
	return attach(driver.bind(os_fd))
end

function socket.stdin()
	return socket.bind(0)
end

function socket.start(id, accept)
	driver.start(id)
	return attach(id, accept)
end

function socket.listen(host, port, backlog)
	if port == nil then
		local h, p = string.match(host, "^(.+):(%d+)$")
		if h == nil then
			error(format("invalid listen address %s", tostring(host)), 2)
		end
		host, port = h, tonumber(p)
	end
	local id = driver.listen(host, port, backlog)
	local s = { id = id, protocol = "TCP", connected = false, listen = true }
	assert(records[id] == nil)
	records[id] = s
	park(s)
	return id, s.addr, s.port
end

---------------------------------------------------------------- reading

function socket.read(id, sz)
	local s = record_of(id)
	if sz == nil then
		local data = leftover(s)
		if data ~= "" then
			return data
		end
		if not s.connected then
			return false, data
		end
		assert(not s.want)
		s.want = 0
		park(s)
		data = leftover(s)
		if data ~= "" then
			return data
		end
		return false, data
	end
	if sz <= 0 then
		if sz == 0 then
			return ""
		end
		error(format("socket.read: negative size %d", sz), 2)
	end
	local data = driver.pop(s.buffer, s.pool, sz)
	if data then
		return data
	end
	if s.closer or not s.connected then
		return false, leftover(s)
	end
	assert(not s.want)
	s.want = sz
	park(s)
	data = driver.pop(s.buffer, s.pool, sz)
	if data then
		return data
	end
	return false, leftover(s)
end

function socket.readall(id)
	local s = record_of(id)
	if not s.connected then
		local data = leftover(s)
		return data ~= "" and data
	end
	assert(not s.want)
	s.want = true
	park(s)
	return leftover(s)
end

function socket.readline(id, sep)
	sep = sep or "\n"
	local s = record_of(id)
	local line = driver.readline(s.buffer, s.pool, sep)
	if line then
		return line
	end
	if not s.connected then
		return false, leftover(s)
	end
	assert(not s.want)
	s.want = sep
	park(s)
	line = driver.readline(s.buffer, s.pool, sep)
	if line then
		return line
	end
	return false, leftover(s)
end

-- Waits for the next event on `id`; true while it is still connected.
function socket.block(id)
	local s = records[id]
	if s == nil or not s.connected then
		return false
	end
	assert(not s.want)
	s.want = 0
	park(s)
	return s.connected
end

---------------------------------------------------------------- writing and state

socket.write = assert(driver.send)
socket.lwrite = assert(driver.lsend)
socket.header = assert(driver.header)

function socket.invalid(id)
	return records[id] == nil
end

function socket.disconnected(id)
	local s = records[id]
	if s then
		return not (s.connected or s.connecting)
	end
end

function socket.pause(id)
	local s = records[id]
	if s then
		halt(s)
	end
end

-- Closes at once, dropping unsent data; the CLOSE event still follows, so call close later.
function socket.shutdown(id)
	if records[id] then
		driver.shutdown(id)
	end
end

function socket.close_fd(id)
	assert(records[id] == nil, "Use socket.close instead")
	driver.close(id)
end

function socket.close(id)
	local s = records[id]
	if s == nil then
		return
	end
	driver.close(id)
	if s.connected then
		-- Never resume reading a socket that is going away.
		s.halted = false
		if s.waiter then
			-- Another coroutine is reading: let it take its data before the record goes.
			assert(not s.closer)
			local co = running()
			s.closer = co
			skynet.wait(co)
		else
			park(s)
		end
		s.connected = false
	end
	records[id] = nil
end

-- Gives up `id` without closing it, so another service can socket.start it.
function socket.abandon(id)
	local s = records[id]
	if s then
		s.connected = false
		wake_reader(s)
		close_hooks[id] = nil
		records[id] = nil
	end
end

-- Closes the socket once more than `limit` bytes wait unread in its buffer.
function socket.limit(id, limit)
	record_of(id).limit = limit
end

function socket.warning(id, callback)
	record_of(id).on_warning = callback
end

function socket.onclose(id, callback)
	close_hooks[id] = callback
end

---------------------------------------------------------------- UDP

local function add_udp(id, callback)
	assert(not records[id], "socket is not closed")
	records[id] = { id = id, protocol = "UDP", connected = true, callback = callback }
end

function socket.udp(callback, host, port)
	local id = driver.udp(host, port)
	add_udp(id, callback)
	return id
end

function socket.udp_connect(id, addr, port, callback)
	local s = records[id]
	if s then
		assert(s.protocol == "UDP")
		if callback then
			s.callback = callback
		end
	else
		add_udp(id, callback)
	end
	driver.udp_connect(id, addr, port)
end

function socket.udp_listen(addr, port, callback)
	local id = driver.udp_listen(addr, port)
	add_udp(id, callback)
	return id
end

function socket.udp_dial(addr, port, callback)
	local id = driver.udp_dial(addr, port)
	add_udp(id, callback)
	return id
end

socket.sendto = assert(driver.udp_send)
socket.udp_address = assert(driver.udp_address)
socket.netstat = assert(driver.info)
socket.resolve = assert(driver.resolve)

return socket

-- skynet.socketchannel: one TCP connection to a server, shared by all the coroutines of a
-- service that make requests on it.
--
-- Replies are matched to requests in one of two ways:
--   order mode    every request brings its own reader function; the server answers in
--                 request order and one dispatcher coroutine runs the readers in turn.
--   session mode  desc.response reads any reply and says which session it answers; each
--                 request waits under its session key.
-- The channel connects on demand, reconnects (running desc.auth again) once the connection
-- is lost, and turns a connection lost under a request into an error raised in the caller:
-- socketchannel.error when the connection failed under it, the reader's error when a
-- reader raised, and "channel_closed" for a request queued behind a reply that was read
-- whole on a connection the channel let go of meanwhile.

local skynet = require "skynet"
local socket = require "skynet.socket"
local driver = require "skynet.socketdriver"

local assert = assert
local error = error
local pcall = pcall
local ipairs = ipairs
local pairs = pairs
local type = type
local setmetatable = setmetatable
local format = string.format
local running = coroutine.running
local wait = skynet.wait
local wakeup = skynet.wakeup

local socketchannel = {}

-- The error value raised when the connection fails under a request.
local socket_error = setmetatable({}, { __tostring = function() return "[Error: socket]" end })
socketchannel.error = socket_error

---------------------------------------------------------------- the socket handed to readers

-- A reader's sock is { fd }; fd becomes false once the channel has let go of it.
local function raising(read)
	return function(sock, ...)
		local fd = sock[1]
		if fd then
			local data = read(fd, ...)
			if data then
				return data
			end
		end
		error(socket_error)
	end
end

local sock_methods = {
	read = raising(socket.read),
	readline = raising(socket.readline),
}

-- A sock dropped without the channel closing it must not keep the connection open.
local function sock_gc(sock)
	local fd = sock[1]
	if fd then
		sock[1] = false
		socket.shutdown(fd)
	end
end

local default_sock_meta = { __index = sock_methods, __gc = sock_gc }

---------------------------------------------------------------- replies

local channel = {}
local channel_meta = { __index = channel, __gc = function(self) self:close() end }

function socketchannel.channel(desc)
	local sock_meta = default_sock_meta
	if desc.socket_read or desc.socket_readline then
		sock_meta = {
			__index = {
				read = desc.socket_read or sock_methods.read,
				readline = desc.socket_readline or sock_methods.readline,
			},
			__gc = sock_gc,
		}
	end
	local self = {
		__host = assert(desc.host),
		__port = assert(desc.port),
		__backup = desc.backup,
		__auth = desc.auth,
		__response = desc.response,
		__nodelay = desc.nodelay,
		__overload_notify = desc.overload,
		__overload = false,
		__sock = false,
		__closed = false,
		__sock_meta = sock_meta,
		-- order mode: the queue of the current connection (see new_queue)
		__queue = false,
		-- session mode: session -> waiting coroutine
		__sessions = {},
		-- what a woken caller finds: coroutine -> first reader result / its data
		__ok = {},
		__data = {},
		__connecting = false,   -- list of coroutines waiting for another one to connect
		__authco = false,       -- the coroutine running desc.auth
	}
	return setmetatable(self, channel_meta)
end

local function answer(self, co, ok, data)
	self.__ok[co] = ok
	self.__data[co] = data
	wakeup(co)
end

-- Order mode: the requests sent on one connection, in line from head to tail, each as
-- its reader and its caller; idle is the connection's dispatcher while it waits for one.
-- Each connection has its own queue, so the dispatcher of a connection the channel let go
-- of settles its own requests and never those of the next connection.
local function new_queue()
	return { readers = {}, callers = {}, head = 1, tail = 0, idle = false }
end

local function wake_idle(q)
	local idle = q.idle
	if idle then
		q.idle = false
		wakeup(idle)
	end
end

-- Fails the requests still in queue `q` with `why` (a message) or socket_error.
local function fail_queue(self, q, why)
	local readers, callers = q.readers, q.callers
	for i = q.head, q.tail do
		local co = callers[i]
		readers[i] = nil
		callers[i] = nil
		answer(self, co, socket_error, why)
	end
	q.head, q.tail = 1, 0
end

-- Session mode: fails every request waiting for a reply.
local function fail_sessions(self, why)
	local sessions = self.__sessions
	for session, co in pairs(sessions) do
		sessions[session] = nil
		answer(self, co, socket_error, why)
	end
end

-- Lets go of the connection `sock` if it is still the current one. In session mode the
-- waiting requests fail with `why` (or socket_error) at once; in order mode the dispatcher
-- of `sock` settles its queue, after the reply it may be reading right now.
local function drop(self, sock, why)
	if not sock or self.__sock ~= sock then
		return
	end
	self.__sock = false
	if self.__response then
		fail_sessions(self, why)
	else
		wake_idle(self.__queue)
	end
	pcall(socket.close, sock[1])
	sock[1] = false
end

-- Calls an order-mode reader; a reader answering (true, data, true) has more parts to read,
-- and the caller then gets them all in a list.
local function read_reply(reader, sock)
	local ok, data, more = reader(sock)
	if not (ok and more) then
		return ok, data
	end
	local parts = { data }
	repeat
		ok, data, more = reader(sock)
		if not ok then
			return ok, data
		end
		parts[#parts + 1] = data
	until not more
	return true, parts
end

local function serve_in_order(self, sock, q)
	local readers, callers = q.readers, q.callers
	while self.__sock == sock do
		local head = q.head
		local reader = readers[head]
		if reader == nil then
			local me = running()
			q.idle = me
			wait(me)
		else
			local co = callers[head]
			readers[head] = nil
			callers[head] = nil
			if head == q.tail then
				q.head, q.tail = 1, 0
			else
				q.head = head + 1
			end
			local done, ok, data = pcall(read_reply, reader, sock)
			if done then
				answer(self, co, ok, data)
			else
				-- the connection failed under this reply: the ones behind it fail alike
				local why = ok ~= socket_error and ok or nil
				answer(self, co, socket_error, why)
				drop(self, sock)
				fail_queue(self, q, why)
				return
			end
		end
	end
	-- let go of between replies
	fail_queue(self, q, "channel_closed")
end

local function serve_sessions(self, sock)
	local respond = self.__response
	local sessions = self.__sessions
	local data_of = self.__data
	while self.__sock == sock do
		local done, session, ok, data, more = pcall(respond, sock)
		if self.__sock ~= sock then
			-- The channel moved on while this reply was read: it may not match a new request.
			return
		end
		if not (done and session) then
			drop(self, sock, session ~= socket_error and session or nil)
			return
		end
		local co = sessions[session]
		if co == nil then
			skynet.error("socket: unknown session :", session)
		elseif ok and more then
			local parts = data_of[co]
			if parts == nil then
				parts = {}
				data_of[co] = parts
			end
			parts[#parts + 1] = data
		else
			sessions[session] = nil
			local parts = data_of[co]
			if ok and parts then
				parts[#parts + 1] = data
				data = parts
			end
			answer(self, co, ok, data)
		end
	end
end

-- Queues the running coroutine for the reply matched by `key` (a reader in order mode, a
-- session in session mode) and returns that reply's data.
local function await(self, key)
	local co = running()
	if self.__response then
		self.__sessions[key] = co
	else
		local q = self.__queue
		local tail = q.tail + 1
		q.tail = tail
		q.readers[tail] = key
		q.callers[tail] = co
		wake_idle(q)
	end
	wait(co)
	local ok, data = self.__ok[co], self.__data[co]
	self.__ok[co] = nil
	self.__data[co] = nil
	if ok == socket_error then
		error(data or socket_error)
	end
	assert(ok, data)
	return data
end

---------------------------------------------------------------- connecting

local function on_warning(self, fd, kbytes)
	local sock = self.__sock
	if not sock or sock[1] ~= fd then
		return
	end
	local notify = self.__overload_notify
	if kbytes == 0 then
		if self.__overload then
			self.__overload = false
			notify(false)
		end
	elseif not self.__overload then
		self.__overload = true
		notify(true)
	else
		skynet.error(format("WARNING: %d K bytes need to send out (fd = %d %s:%s)",
			kbytes, fd, self.__host, self.__port))
	end
end

-- In order mode the dispatcher only reads while a reply is due, so it learns of a close
-- while idle from this hook.
local function on_close(self, sock, q)
	if self.__sock == sock and q.idle then
		skynet.error("socket closed by peer : ", self.__host, self.__port)
		drop(self, sock)
	end
end

-- Makes `fd` (just connected to host:port) the channel's connection and runs auth on it.
-- Returns false if auth failed (the connection is gone then), else true and whether auth
-- left the channel without a connection (it moved the channel with changehost).
local function adopt(self, fd, host, port)
	assert(not self.__sock and not self.__authco)
	self.__host, self.__port = host, port
	if self.__nodelay then
		driver.nodelay(fd)
	end
	local notify = self.__overload_notify
	if notify then
		socket.warning(fd, function(id, kbytes)
			on_warning(self, id, kbytes)
		end)
		-- An overload of the previous connection is over.
		if self.__overload then
			self.__overload = false
			skynet.fork(notify, false)
		end
	end
	local sock = setmetatable({ fd }, self.__sock_meta)
	self.__sock = sock
	if self.__response then
		skynet.fork(serve_sessions, self, sock)
	else
		local q = new_queue()
		self.__queue = q
		socket.onclose(fd, function()
			on_close(self, sock, q)
		end)
		skynet.fork(serve_in_order, self, sock, q)
	end
	local auth = self.__auth
	if not auth then
		return true, false
	end
	self.__authco = running()
	local ok, err = pcall(auth, self)
	self.__authco = false
	if not ok then
		drop(self, sock)
		if err ~= socket_error then
			skynet.error("socket: auth failed", err)
		end
		return false
	end
	return true, not self.__sock
end

-- Appends the backup addresses not seen yet to `list` as { host, port }.
local function add_backups(self, list, seen)
	local backup = self.__backup
	if not backup then
		return
	end
	for _, b in ipairs(backup) do
		local host, port
		if type(b) == "table" then
			host, port = b.host, b.port
		else
			host, port = b, self.__port
		end
		local key = host .. ":" .. port
		if not seen[key] then
			seen[key] = true
			list[#list + 1] = { host, port }
		end
	end
end

-- One round: the current address, then each backup. Returns true once connected and
-- authenticated, else false and why.
local function connect_round(self)
	if self.__closed then
		return false
	end
	local others, seen = {}, {}
	add_backups(self, others, seen)
	local host, port = self.__host, self.__port
	while true do
		local fd, err = socket.open(host, port)
		if fd then
			local ok, moved = adopt(self, fd, host, port)
			if ok then
				if moved then
					return connect_round(self)
				end
				return true
			end
			-- auth may have changed the backup list
			add_backups(self, others, seen)
			err = "no more backup host"
		end
		local nxt = table.remove(others, 1)
		if nxt == nil then
			return false, err
		end
		host, port = nxt[1], nxt[2]
		skynet.error("socket: connect to backup host", host, port)
	end
end

-- Connects, retrying with a growing pause unless `once`. Returns why the last try failed.
local function keep_connecting(self, once)
	local pause = 0
	while not self.__closed do
		local ok, err = connect_round(self)
		if ok then
			if not once then
				skynet.error("socket: connect to", self.__host, self.__port)
			end
			return
		end
		if once then
			return err
		end
		skynet.error("socket: connect", err)
		if pause > 1000 then
			skynet.error("socket: try to reconnect", self.__host, self.__port)
			skynet.sleep(pause)
			pause = 100
		else
			skynet.sleep(pause)
			pause = pause + 100
		end
	end
end

-- Whether the running coroutine may use the connection: true, false (the channel is closed,
-- or the connection died under auth), or nil (a connection has to be made first).
local function usable(self)
	local sock = self.__sock
	if sock then
		local authco = self.__authco
		if socket.disconnected(sock[1]) then
			skynet.error("socket: disconnect detected ", self.__host, self.__port)
			drop(self, sock)
			if authco and authco == running() then
				return false
			end
		elseif not authco or authco == running() then
			return true
		end
	end
	if self.__closed then
		return false
	end
end

-- Returns usable(self), connecting first if needed (one coroutine connects, the others
-- wait for it); raises socket_error if no connection could be made.
local function ensure(self, once)
	local state = usable(self)
	if state ~= nil then
		return state
	end
	local err
	local waiting = self.__connecting
	if waiting then
		local co = running()
		waiting[#waiting + 1] = co
		wait(co)
	else
		waiting = {}
		self.__connecting = waiting
		err = keep_connecting(self, once)
		self.__connecting = false
		for _, co in ipairs(waiting) do
			wakeup(co)
		end
	end
	state = usable(self)
	if state == nil then
		skynet.error(format("Connect to %s:%s failed (%s)", self.__host, self.__port, err))
		error(socket_error)
	end
	return state
end

---------------------------------------------------------------- the channel's methods

function channel:connect(once)
	self.__closed = false
	return ensure(self, once)
end

-- Sends `request` (then the strings of `padding`, at low priority) and, unless `response`
-- is nil, waits for the reply it names.
function channel:request(request, response, padding)
	assert(ensure(self, true))
	local sock = self.__sock
	local fd = sock[1]
	local sent
	if padding then
		sent = socket.lwrite(fd, request)
		for _, part in ipairs(padding) do
			sent = sent and socket.lwrite(fd, part)
		end
	else
		sent = socket.write(fd, request)
	end
	if not sent then
		drop(self, sock)
		error(socket_error)
	end
	if response == nil then
		return
	end
	return await(self, response)
end

-- Waits for a reply no request asked for (a server push).
function channel:response(response)
	assert(ensure(self))
	return await(self, response)
end

function channel:close()
	if not self.__closed then
		self.__closed = true
		drop(self, self.__sock)
	end
end

function channel:changehost(host, port)
	self.__host = host
	if port then
		self.__port = port
	end
	if not self.__closed then
		drop(self, self.__sock)
	end
end

function channel:changebackup(backup)
	self.__backup = backup
end

return socketchannel

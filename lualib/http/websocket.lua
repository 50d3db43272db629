-- http.websocket: RFC 6455 over a skynet socket, plain (ws) or through http.tlshelper
-- (wss). The server side is websocket.accept, which runs a connection to its end and
-- reports through callbacks; the client side is websocket.connect and websocket.read.
-- write, ping, close and the queries work on either side, by socket id.

local skynet = require "skynet"
local socket = require "skynet.socket"
local crypt = require "skynet.crypt"
local httpd = require "http.httpd"
local internal = require "http.internal"
local sockethelper = require "http.sockethelper"

local socket_error = sockethelper.socket_error
local pack, unpack = string.pack, string.unpack
local concat = table.concat

local WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
-- What a server accepts in one frame, and in one message made of fragments.
local MAX_FRAME_SIZE = 256 * 1024

-- Close codes (RFC 6455 7.4.1).
local CLOSE_PROTOCOL_ERROR = 1002
local CLOSE_TOO_BIG = 1009
local CLOSE_INTERNAL_ERROR = 1011

local OPCODES = {
	frame = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA,
}
local OPNAMES = {}
for name, code in pairs(OPCODES) do
	OPNAMES[code] = name
end

local websocket = {}

local conns = {}	-- socket id -> connection object of this service

local function is_closed(id)
	return conns[id] == nil
end

local function drop(conn)
	conns[conn.id] = nil
	conn.close()
end

-- A violation of the protocol by the peer: the connection is closed with `code`.
local violation_mt = {
	__tostring = function(v)
		return v.reason
	end,
}

local function violation(code, reason)
	error(setmetatable({ code = code, reason = reason }, violation_mt), 0)
end

local function is_violation(err)
	return getmetatable(err) == violation_mt
end

-- Makes conn.read hand out `leftover` (bytes read past the HTTP header) first.
local function prepend(conn, leftover)
	if #leftover == 0 then
		return
	end
	local read = conn.read
	conn.read = function(sz)
		if sz == nil or sz == #leftover then
			conn.read = read
			return leftover
		end
		if sz < #leftover then
			local s = leftover:sub(1, sz)
			leftover = leftover:sub(sz + 1)
			return s
		end
		conn.read = read
		return leftover .. read(sz - #leftover)
	end
end

-- A header value as one string (a repeated header arrives as a table).
local function header_value(header, name)
	local v = header[name]
	if type(v) == "table" then
		return concat(v, ",")
	end
	return v
end

local function is_token(value, want)
	return value ~= nil and value:lower() == want
end

------------------------------------------------------------------ frames

-- Writes one unfragmented frame. A client masks every frame (with `masking_key`, a 32
-- bit integer, when given); a server never does.
local function write_frame(conn, op, payload, masking_key)
	payload = payload or ""
	local len = #payload
	local first = 0x80 | OPCODES[op]
	local maskbit = conn.mode == "client" and 0x80 or 0
	local head
	if len < 126 then
		head = pack("BB", first, maskbit | len)
	elseif len <= 0xffff then
		head = pack(">BBI2", first, maskbit | 126, len)
	else
		head = pack(">BBI8", first, maskbit | 127, len)
	end
	if maskbit ~= 0 then
		local key = masking_key and pack(">I4", masking_key) or crypt.randomkey():sub(1, 4)
		head = head .. key
		if len > 0 then
			payload = crypt.xor_str(payload, key)
		end
	end
	conn.write(head .. payload)
end

-- Reads one frame: fin, opcode name, unmasked payload. Checks the frame against the
-- rules for the side reading it before reading its payload.
local function read_frame(conn)
	local b1, b2 = unpack("BB", conn.read(2))
	local fin = (b1 & 0x80) ~= 0
	if (b1 & 0x70) ~= 0 then
		violation(CLOSE_PROTOCOL_ERROR, "reserved bits set without an extension")
	end
	local op = OPNAMES[b1 & 0x0f]
	if op == nil then
		violation(CLOSE_PROTOCOL_ERROR, string.format("unknown opcode %d", b1 & 0x0f))
	end
	local masked = (b2 & 0x80) ~= 0
	local len = b2 & 0x7f
	if len == 126 then
		len = unpack(">I2", conn.read(2))
	elseif len == 127 then
		len = unpack(">i8", conn.read(8))
		if len < 0 then
			violation(CLOSE_PROTOCOL_ERROR, "invalid payload length")
		end
	end
	if OPCODES[op] >= 0x8 and (not fin or len > 125) then
		violation(CLOSE_PROTOCOL_ERROR, "fragmented or oversized control frame")
	end
	if conn.mode == "server" then
		if not masked then
			violation(CLOSE_PROTOCOL_ERROR, "client frame is not masked")
		end
		if len > MAX_FRAME_SIZE then
			violation(CLOSE_TOO_BIG, "payload_len is too large")
		end
	elseif masked then
		violation(CLOSE_PROTOCOL_ERROR, "server frame is masked")
	end
	local key = masked and conn.read(4)
	local payload = len > 0 and conn.read(len) or ""
	if key and len > 0 then
		payload = crypt.xor_str(payload, key)
	end
	return fin, op, payload
end

-- The status code and reason of a close frame's payload (both nil when it has none).
local function parse_close(payload)
	local n = #payload
	if n == 0 then
		return
	end
	if n == 1 then
		violation(CLOSE_PROTOCOL_ERROR, "close frame with a one byte payload")
	end
	return unpack(">I2", payload), payload:sub(3)
end

local function close_payload(code, reason)
	if code == nil then
		return nil
	end
	return pack(">I2", code) .. (reason or "")
end

-- Collects the data frames of a message: feed returns the message and its type once
-- its last frame arrived, nil before. `limit` (or nil) bounds a message's size.
local function assembler(limit)
	local parts, size, kind
	return function(fin, op, payload)
		if op == "frame" then
			if parts == nil then
				violation(CLOSE_PROTOCOL_ERROR, "continuation frame outside a message")
			end
		elseif parts then
			violation(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one")
		elseif fin then
			return payload, op
		else
			parts, size, kind = {}, 0, op
		end
		size = size + #payload
		if limit and size > limit then
			violation(CLOSE_TOO_BIG, "payload_len is too large")
		end
		parts[#parts + 1] = payload
		if fin then
			local msg, msgkind = concat(parts), kind
			parts, size, kind = nil, 0, nil
			return msg, msgkind
		end
	end
end

-- Tells the peer why we stop, once it speaks websocket (best effort: the socket may be
-- gone already).
local function send_close(conn, code, reason)
	if conn.upgraded then
		pcall(write_frame, conn, "close", close_payload(code, reason))
	end
end

------------------------------------------------------------------ server side

local function callback(conn, name, ...)
	local f = conn.handle and conn.handle[name]
	if f then
		f(conn.id, ...)
	end
end

-- Reads and checks the upgrade request (or takes the one httpd already parsed, from
-- options.upgrade) and answers it. Returns nil, header, url when the connection is a
-- websocket now, or an HTTP status code and message to answer with.
local function server_handshake(conn, upgrade)
	local header, url
	if upgrade then
		header, url = upgrade.header, upgrade.url
	else
		local lines = {}
		local leftover = internal.recvheader(conn.read, lines, "")
		if not leftover then
			return 413
		end
		prepend(conn, leftover)
		local method, httpver
		method, url, httpver = (lines[1] or ""):match("^(%a+)%s+(.-)%s+HTTP/([%d%.]+)$")
		if method == nil then
			return 400, "Bad request line"
		end
		if method ~= "GET" then
			return 400, "need GET method"
		end
		if (tonumber(httpver) or 0) < 1.1 then
			return 505
		end
		header = internal.parseheader(lines, 2, {})
	end
	if not header then
		return 400
	end
	if not is_token(header_value(header, "upgrade"), "websocket") then
		return 426, "Upgrade Required"
	end
	if not header.host then
		return 400, "host Required"
	end
	local connection = header_value(header, "connection")
	if not connection or not connection:lower():find("upgrade", 1, true) then
		return 400, "Connection must Upgrade"
	end
	local key = header_value(header, "sec-websocket-key")
	if not key then
		return 400, "Sec-WebSocket-Key Required"
	end
	local ok, raw = pcall(crypt.base64decode, key)
	if not ok or #raw ~= 16 then
		return 400, "Sec-WebSocket-Key invalid"
	end
	if header_value(header, "sec-websocket-version") ~= "13" then
		return 400, "Sec-WebSocket-Version must 13"
	end
	local protocol_line = ""
	local offered = header_value(header, "sec-websocket-protocol")
	if offered then
		-- the only sub-protocol a server of this module speaks is "chat"
		for name in offered:gmatch("[^%s,]+") do
			if name == "chat" then
				protocol_line = "Sec-WebSocket-Protocol: chat\r\n"
				break
			end
		end
		if protocol_line == "" then
			return 400, "Sec-WebSocket-Protocol need include chat"
		end
	end
	conn.real_ip = header_value(header, "x-real-ip")	-- set by a proxy such as nginx
	conn.write("HTTP/1.1 101 Switching Protocols\r\n" ..
		"Upgrade: websocket\r\n" ..
		"Connection: Upgrade\r\n" ..
		"Sec-WebSocket-Accept: " .. crypt.base64encode(crypt.sha1(key .. WS_GUID)) .. "\r\n" ..
		protocol_line ..
		"\r\n")
	return nil, header, url
end

local function serve(conn, options)
	if conn.init then
		conn.init()
	end
	callback(conn, "connect")
	local code, header, url = server_handshake(conn, options and options.upgrade)
	if code then
		local ok, err = httpd.write_response(conn.write, code, header)
		if not ok then
			error(err)
		end
		callback(conn, "close")
		return
	end
	conn.upgraded = true
	callback(conn, "handshake", header, url)
	local feed = assembler(MAX_FRAME_SIZE)
	while not is_closed(conn.id) do
		local fin, op, payload = read_frame(conn)
		if op == "close" then
			local status, reason = parse_close(payload)
			write_frame(conn, "close", close_payload(status))
			callback(conn, "close", status, reason)
			return
		elseif op == "ping" then
			write_frame(conn, "pong", payload)
			callback(conn, "ping", payload)
		elseif op == "pong" then
			callback(conn, "pong", payload)
		else
			local msg, kind = feed(fin, op, payload)
			if msg then
				callback(conn, "message", msg, kind)
			end
		end
	end
	callback(conn, "close")
end

local SERVER_SSLCTX
local function server_conn(id, handle, protocol)
	local conn
	if protocol == "ws" then
		conn = {
			read = sockethelper.readfunc(id),
			write = sockethelper.writefunc(id),
			close = function()
				socket.close(id)
			end,
		}
	elseif protocol == "wss" then
		local tls = require "http.tlshelper"
		if not SERVER_SSLCTX then
			local ctx = tls.newctx()
			-- e.g. openssl req -x509 -newkey rsa:2048 -days 3650 -nodes -keyout server-key.pem -out server-cert.pem
			ctx:set_cert(skynet.getenv "certfile" or "./server-cert.pem",
				skynet.getenv "keyfile" or "./server-key.pem")
			SERVER_SSLCTX = ctx
		end
		local tls_ctx = tls.newtls("server", SERVER_SSLCTX)
		local close_tls = tls.closefunc(tls_ctx)
		conn = {
			init = tls.init_responsefunc(id, tls_ctx),
			read = tls.readfunc(id, tls_ctx),
			write = tls.writefunc(id, tls_ctx),
			close = function()
				socket.close(id)
				close_tls()
			end,
		}
	else
		error(string.format("invalid websocket protocol:%s", tostring(protocol)))
	end
	conn.mode = "server"
	conn.id = id
	conn.handle = handle
	conns[id] = conn
	return conn
end

-- Serves socket `id` (accepted by the caller) as a websocket until it closes. `handle`
-- holds the callbacks connect, handshake(id, header, url), message(id, msg, "text" or
-- "binary"), ping, pong, close(id, code, reason), error(id, err) and warning(conn, size).
-- Returns true, or false and an error for a failure other than the socket going away.
function websocket.accept(id, handle, protocol, addr, options)
	if not (options and options.upgrade) then
		local ok, err = socket.start(id)
		if not ok then
			return false, err
		end
	end
	local conn = server_conn(id, handle, protocol or "ws")
	conn.addr = addr
	local on_warning = handle and handle.warning
	if on_warning then
		local ok = pcall(socket.warning, id, function(_, size)
			on_warning(conn, size)
		end)
		if not ok then
			if not is_closed(id) then
				drop(conn)
			end
			return false, "connect is closed " .. id
		end
	end

	local ok, err = xpcall(serve, debug.traceback, conn, options)
	local closed = is_closed(id)
	if not ok and not closed and err ~= socket_error then
		if is_violation(err) then
			send_close(conn, err.code, err.reason)
		else
			send_close(conn, CLOSE_INTERNAL_ERROR)
		end
	end
	if not closed then
		drop(conn)
	end
	if ok then
		return true
	end
	if err == socket_error then
		if closed then
			callback(conn, "close")
		else
			callback(conn, "error", err)
		end
		return true
	end
	return false, tostring(err)
end

------------------------------------------------------------------ client side

-- Sends the upgrade request and checks the server's answer.
local function client_handshake(conn, host, uri, extra)
	local key = crypt.base64encode(crypt.randomkey() .. crypt.randomkey())
	local request = {
		["Upgrade"] = "websocket",
		["Connection"] = "Upgrade",
		["Sec-WebSocket-Version"] = "13",
		["Sec-WebSocket-Key"] = key,
	}
	for name, value in pairs(extra or {}) do
		if request[name] ~= nil then
			error("websocket header set twice: " .. tostring(name))
		end
		request[name] = value
	end
	local header = {}
	local code, leftover = internal.request(conn, "GET", host, uri, header, request)
	if code ~= 101 then
		error(string.format("websocket handshake error: code[%s] info:%s", code, leftover))
	end
	prepend(conn, leftover)
	if not is_token(header_value(header, "upgrade"), "websocket") then
		error("websocket handshake upgrade must websocket")
	end
	if not is_token(header_value(header, "connection"), "upgrade") then
		error("websocket handshake connection must upgrade")
	end
	local accept = header_value(header, "sec-websocket-accept")
	if not accept then
		error("websocket handshake need Sec-WebSocket-Accept")
	end
	local ok, digest = pcall(crypt.base64decode, accept)
	if not ok or digest ~= crypt.sha1(key .. WS_GUID) then
		error("websocket handshake invalid Sec-WebSocket-Accept")
	end
end

local CLIENT_SSLCTX
local function client_conn(id, protocol, hostname)
	local conn
	if protocol == "ws" then
		conn = {
			read = sockethelper.readfunc(id),
			write = sockethelper.writefunc(id),
			readall = function()
				return socket.readall(id)
			end,
			close = function()
				socket.close(id)
			end,
		}
	else
		local tls = require "http.tlshelper"
		CLIENT_SSLCTX = CLIENT_SSLCTX or tls.newctx()
		local tls_ctx = tls.newtls("client", CLIENT_SSLCTX, hostname)
		local close_tls = tls.closefunc(tls_ctx)
		conn = {
			init = tls.init_requestfunc(id, tls_ctx),
			read = tls.readfunc(id, tls_ctx),
			write = tls.writefunc(id, tls_ctx),
			readall = tls.readallfunc(id, tls_ctx),
			close = function()
				socket.close(id)
				close_tls()
			end,
		}
	end
	conn.mode = "client"
	conn.id = id
	conns[id] = conn
	return conn
end

-- Splits "host", "host:port", "[v6]" or "[v6]:port" into address and port ("" if none).
local function split_host(host)
	local addr, port = host:match("^%[([^%]]+)%]:?(%d*)$")
	if addr == nil then
		addr, port = host:match("^([^:]+):?(%d*)$")
	end
	if addr == nil then
		error(string.format("invalid websocket host: %s", host))
	end
	return addr, port
end

-- Opens a websocket to `url` (ws://host[:port]/path or wss://...), with `header` as
-- extra request headers and `timeout` (in 1/100 s) for the TCP connect. Returns its id.
function websocket.connect(url, header, timeout)
	local protocol, host, uri = url:match("^(wss?)://([^/]+)(.*)$")
	if protocol ~= "ws" and protocol ~= "wss" then
		error(string.format("invalid protocol: %s", tostring(protocol or url)))
	end
	local addr, port = split_host(host)
	if port == "" then
		port = protocol == "ws" and 80 or 443
	end
	-- SNI carries names only, never an address
	local hostname = not addr:match("%d$") and not addr:find(":", 1, true) and addr or nil
	local id = sockethelper.connect(addr, tonumber(port), timeout)
	local ok, conn = pcall(client_conn, id, protocol, hostname)
	if not ok then
		socket.close(id)
		error(conn)
	end
	conn.addr = host
	local done, err = pcall(function()
		if conn.init then
			conn.init()
		end
		client_handshake(conn, host, uri == "" and "/" or uri, header)
		conn.upgraded = true
	end)
	if not done then
		drop(conn)
		error(err)
	end
	return id
end

-- Reads the next message of a client connection. Returns it (and "text" or "binary"),
-- or false and the close frame's payload when the server closed the websocket. Pings
-- are answered on the way.
function websocket.read(id)
	local conn = assert(conns[id])
	local feed = assembler(nil)
	while true do
		local ok, fin, op, payload = pcall(read_frame, conn)
		if not ok then
			if is_violation(fin) then
				send_close(conn, fin.code, fin.reason)
			end
			if not is_closed(id) then
				drop(conn)
			end
			error(fin, 0)
		end
		if op == "close" then
			local status = #payload >= 2 and unpack(">I2", payload) or nil
			send_close(conn, status)
			drop(conn)
			return false, payload
		elseif op == "ping" then
			write_frame(conn, "pong", payload)
		elseif op ~= "pong" then
			local msgok, msg, kind = pcall(feed, fin, op, payload)
			if not msgok then
				send_close(conn, msg.code, msg.reason)
				drop(conn)
				error(msg, 0)
			end
			if msg then
				return msg, kind
			end
		end
	end
end

------------------------------------------------------------------ either side

-- Sends a message: fmt is "text" (default) or "binary".
function websocket.write(id, data, fmt, masking_key)
	local conn = assert(conns[id])
	fmt = fmt or "text"
	assert(fmt == "text" or fmt == "binary", "websocket.write: fmt must be text or binary")
	write_frame(conn, fmt, data, masking_key)
end

function websocket.ping(id)
	local conn = assert(conns[id])
	write_frame(conn, "ping")
end

function websocket.addrinfo(id)
	local conn = assert(conns[id])
	return conn.addr
end

function websocket.real_ip(id)
	local conn = assert(conns[id])
	return conn.real_ip
end

-- Sends a close frame (with code and reason when code is given) and closes the socket.
function websocket.close(id, code, reason)
	local conn = conns[id]
	if conn == nil then
		return
	end
	local ok, err = pcall(write_frame, conn, "close", close_payload(code, reason))
	drop(conn)
	if not ok and err ~= socket_error then
		skynet.error("websocket close: " .. tostring(err))
	end
end

websocket.is_close = is_closed

return websocket

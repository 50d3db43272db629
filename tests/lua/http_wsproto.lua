-- http.websocket's protocol rules, frame by frame, with raw sockets on the other side:
--   server side: websocket.accept against a raw client written here (pings, fragments
--     with a control frame between them, the frame size limit exactly, close codes, each
--     protocol violation and handshake refusal, and an upgrade httpd parsed first);
--   client side: websocket.connect/read against a raw server written here (frames are
--     masked, with the key given or a random one, fragments and pings, a frame over the
--     server's limit, the server's close, a masked server frame, a bad accept key).
local skynet = require "skynet"
local socket = require "skynet.socket"
local crypt = require "skynet.crypt"
local httpd = require "http.httpd"
local sockethelper = require "http.sockethelper"
local websocket = require "http.websocket"

local NAME = "http_wsproto"
local T = require "testcase" (NAME)
local check, same = T.check, T.same

local GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
local LIMIT = 256 * 1024	-- what a server accepts in one frame or message
local pack, unpack = string.pack, string.unpack

---------------------------------------------------------------- events

-- Values posted by one coroutine and awaited by another, by name.
local posted, waiting = {}, {}

local function post(name, value)
	posted[name] = value
	local co = waiting[name]
	if co then
		waiting[name] = nil
		skynet.wakeup(co)
	end
end

local function await(name)
	if posted[name] == nil then
		waiting[name] = coroutine.running()
		skynet.wait()
	end
	local value = posted[name]
	posted[name] = nil
	return value
end

---------------------------------------------------------------- raw frames

-- A frame with first byte `b1`; masked with `key` (4 bytes) when given.
local function frame(b1, payload, key)
	local len = #payload
	local maskbit = key and 0x80 or 0
	local head
	if len < 126 then
		head = pack("BB", b1, maskbit | len)
	elseif len <= 0xffff then
		head = pack(">BBI2", b1, maskbit | 126, len)
	else
		head = pack(">BBI8", b1, maskbit | 127, len)
	end
	if key then
		return head .. key .. crypt.xor_str(payload, key)
	end
	return head .. payload
end

local KEY = "\x11\x22\x33\x44"

-- A client frame, masked as a client must.
local function cframe(b1, payload)
	return frame(b1, payload, KEY)
end

-- Reads one frame: first byte, masking key (nil if unmasked), unmasked payload; nil when
-- the connection closed.
local function read_frame(fd)
	local head = socket.read(fd, 2)
	if not head then
		return nil
	end
	local b1, b2 = unpack("BB", head)
	local len = b2 & 0x7f
	if len == 126 then
		len = unpack(">I2", assert(socket.read(fd, 2)))
	elseif len == 127 then
		len = unpack(">I8", assert(socket.read(fd, 8)))
	end
	local key = (b2 & 0x80) ~= 0 and assert(socket.read(fd, 4)) or nil
	local payload = len > 0 and assert(socket.read(fd, len)) or ""
	if key then
		payload = crypt.xor_str(payload, key)
	end
	return b1, key, payload
end

local function close_code(payload)
	return #payload >= 2 and unpack(">I2", payload) or nil
end

---------------------------------------------------------------- our server

local urls = {}	-- id -> url of the upgrade

local handle = {}

function handle.handshake(id, _, url)
	urls[id] = url
end

function handle.message(id, msg, kind)
	websocket.write(id, msg, kind)
end

function handle.ping(id, data)
	post("ping " .. urls[id], data)
end

function handle.close(id, code, reason)
	if urls[id] then
		post("close " .. urls[id], { code = code, reason = reason })
	end
end

local function serve(id, addr)
	local ok, err = websocket.accept(id, handle, "ws", addr)
	if urls[id] then
		post("accept " .. urls[id], { ok = ok, err = tostring(err) })
	end
end

-- The upgrade request read by httpd first, then handed over.
local function serve_upgrade(id, addr)
	socket.start(id)
	local code, url, method, header = httpd.read_request(sockethelper.readfunc(id))
	if code ~= 200 then
		socket.close(id)
		return
	end
	local ok, err = websocket.accept(id, handle, "ws", addr,
		{ upgrade = { header = header, method = method, url = url } })
	post("accept " .. url, { ok = ok, err = tostring(err) })
end

local function listen(accept)
	local lid, _, port = socket.listen("127.0.0.1", 0)
	socket.start(lid, function(id, addr)
		skynet.fork(accept, id, addr)
	end)
	return port
end

-- Sends an upgrade request (plus `extra` header lines); returns the fd, the status code
-- and the header lines of the answer.
local function upgrade(port, path, extra, request_line)
	local fd = assert(socket.open("127.0.0.1", port))
	local key = crypt.base64encode("0123456789abcdef")
	socket.write(fd, (request_line or ("GET " .. path .. " HTTP/1.1")) .. "\r\n" ..
		"Host: 127.0.0.1\r\n" ..
		(extra or "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" ..
			"Sec-WebSocket-Key: " .. key .. "\r\n") ..
		"\r\n")
	local status = assert(socket.readline(fd, "\r\n"))
	local lines = {}
	while true do
		local line = assert(socket.readline(fd, "\r\n"))
		if line == "" then
			break
		end
		lines[#lines + 1] = line
	end
	local code = math.tointeger(tonumber(status:match "^HTTP/1%.1 (%d%d%d) "))
	if code == 101 then
		local want = "Sec-WebSocket-Accept: " .. crypt.base64encode(crypt.sha1(key .. GUID))
		local found = false
		for _, l in ipairs(lines) do
			found = found or l == want
		end
		check(found, "accept key of " .. path, table.concat(lines, "|"))
	end
	return fd, code, lines
end

-- Ends a raw connection the server has closed: reads until the close is seen.
local function until_closed(fd)
	while socket.read(fd) do
	end
	socket.close(fd)
end

local function server_frames(port)
	local fd, code = upgrade(port, "/frames")
	same(code, 101, "upgrade status")

	-- a ping's payload comes back in the pong, unmasked; the callback sees it
	socket.write(fd, cframe(0x89, "abc"))
	local b1, key, payload = read_frame(fd)
	check(b1 == 0x8A and key == nil and payload == "abc", "pong for a ping", b1, key, payload)
	same(await "ping /frames", "abc", "ping callback data")

	-- a message in fragments, a ping between them
	socket.write(fd, cframe(0x01, "ab") .. cframe(0x89, "p") .. cframe(0x00, "cd") .. cframe(0x80, "ef"))
	b1, key, payload = read_frame(fd)
	check(b1 == 0x8A and payload == "p", "pong between fragments", b1, payload)
	b1, key, payload = read_frame(fd)
	check(b1 == 0x81 and key == nil and payload == "abcdef", "fragments joined as text", b1, payload)
	same(await "ping /frames", "p", "ping between fragments seen")

	-- frames and fragmented messages of exactly the limit are accepted
	local full = string.rep("x", LIMIT)
	socket.write(fd, cframe(0x82, full))
	b1, key, payload = read_frame(fd)
	check(b1 == 0x82 and payload == full, "a frame of exactly the limit", b1, #payload)
	socket.write(fd, cframe(0x02, full:sub(1, 1000)) .. cframe(0x80, full:sub(1001)))
	b1, key, payload = read_frame(fd)
	check(b1 == 0x82 and payload == full, "a fragmented message of exactly the limit", b1, #payload)

	-- the client's close: the server answers with the same code and reports both
	socket.write(fd, cframe(0x88, pack(">I2", 1000) .. "bye"))
	b1, key, payload = read_frame(fd)
	check(b1 == 0x88 and key == nil, "close answered", b1)
	same(close_code(payload), 1000, "close code echoed")
	local closed = await "close /frames"
	check(closed.code == 1000 and closed.reason == "bye", "close callback", closed.code, closed.reason)
	same(await("accept /frames").ok, true, "accept returns true after a close")
	until_closed(fd)

	-- a close without a status code: an empty close back
	fd = upgrade(port, "/quiet")
	socket.write(fd, cframe(0x88, ""))
	b1, key, payload = read_frame(fd)
	check(b1 == 0x88 and payload == "", "empty close answered with an empty close", b1, payload)
	closed = await "close /quiet"
	check(closed.code == nil and closed.reason == nil, "close callback without a code", closed.code)
	await "accept /quiet"
	until_closed(fd)
end

-- Each violation (only bytes the server reads before it notices, so none is left unread)
-- closes the connection with `code`, and accept returns false and the reason.
local VIOLATIONS = {
	{ "/rsv", pack("BB", 0xC1, 0x80), 1002, "reserved bits set" },
	{ "/opcode", pack("BB", 0x83, 0x80), 1002, "unknown opcode 3" },
	{ "/unmasked", pack("BB", 0x81, 0x00), 1002, "client frame is not masked" },
	{ "/ctlfrag", pack("BB", 0x09, 0x80), 1002, "fragmented or oversized control frame" },
	{ "/ctlbig", pack(">BBI2", 0x89, 0x80 | 126, 126), 1002, "fragmented or oversized control frame" },
	{ "/toobig", pack(">BBI8", 0x82, 0x80 | 127, LIMIT + 1), 1009, "payload_len is too large" },
	{ "/orphan", cframe(0x80, "x"), 1002, "continuation frame outside a message" },
	{ "/nested", cframe(0x01, "a") .. cframe(0x81, "b"), 1002, "new message inside a fragmented one" },
	{ "/close1", cframe(0x88, "\3"), 1002, "close frame with a one byte payload" },
	{ "/bigmsg", cframe(0x02, string.rep("m", LIMIT)) .. cframe(0x80, "m"), 1009, "payload_len is too large" },
}

local function server_violations(port)
	for _, v in ipairs(VIOLATIONS) do
		local path, bytes, want, reason = table.unpack(v)
		local fd = upgrade(port, path)
		socket.write(fd, bytes)
		local b1, key, payload = read_frame(fd)
		check(b1 == 0x88 and key == nil, path .. ": a close frame", b1)
		same(close_code(payload or ""), want, path .. ": close code")
		same(socket.read(fd), false, path .. ": connection closed")
		socket.close(fd)
		local result = await("accept " .. path)
		check(result.ok == false and result.err:find(reason, 1, true), path .. ": accept's answer",
			result.ok, result.err)
	end
end

local function server_refusals(port)
	local function refused(what, want, path, extra, request_line)
		local fd, code = upgrade(port, path or "/", extra, request_line)
		same(code, want, what)
		until_closed(fd)
	end
	local key = "Sec-WebSocket-Key: " .. crypt.base64encode("0123456789abcdef") .. "\r\n"
	local base = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	refused("no key", 400, nil, base .. "Sec-WebSocket-Version: 13\r\n")
	refused("short key", 400, nil, base .. "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " ..
		crypt.base64encode("short") .. "\r\n")
	refused("version 8", 400, nil, base .. "Sec-WebSocket-Version: 8\r\n" .. key)
	refused("no Connection: Upgrade", 400, nil, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" .. key)
	refused("no Upgrade", 426, nil, "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" .. key)
	refused("POST", 400, nil, nil, "POST / HTTP/1.1")
	refused("HTTP/1.0", 505, nil, nil, "GET / HTTP/1.0")
	refused("a sub-protocol other than chat", 400, nil,
		base .. "Sec-WebSocket-Version: 13\r\n" .. key .. "Sec-WebSocket-Protocol: superchat\r\n")

	local fd, code, lines = upgrade(port, "/chat", base .. "Sec-WebSocket-Version: 13\r\n" .. key ..
		"Sec-WebSocket-Protocol: x, chat\r\n")
	same(code, 101, "chat offered")
	local chosen = false
	for _, l in ipairs(lines) do
		chosen = chosen or l == "Sec-WebSocket-Protocol: chat"
	end
	check(chosen, "chat chosen", table.concat(lines, "|"))
	socket.write(fd, cframe(0x88, ""))
	same(read_frame(fd), 0x88, "chat connection closes")
	await "accept /chat"
	until_closed(fd)
end

local function server_upgrade_from_httpd(port)
	local fd, code = upgrade(port, "/via-httpd")
	same(code, 101, "upgrade of a request httpd read")
	socket.write(fd, cframe(0x81, "hello"))
	local b1, _, payload = read_frame(fd)
	check(b1 == 0x81 and payload == "hello", "echo after an httpd upgrade", b1, payload)
	socket.write(fd, cframe(0x88, pack(">I2", 1001)))
	same(read_frame(fd), 0x88, "close after an httpd upgrade")
	same(await("accept /via-httpd").ok, true, "accept with options.upgrade")
	until_closed(fd)
end

---------------------------------------------------------------- our client

-- A raw server: answers the upgrade (with a wrong accept key for /badaccept), then plays
-- the script for the path.
local scripts = {}

function scripts.talk(fd)
	-- the client's frames, unmasked here
	post("client frame 1", { read_frame(fd) })
	post("client frame 2", { read_frame(fd) })
	-- a fragmented message with a ping inside: the pong comes back masked
	socket.write(fd, frame(0x01, "he") .. frame(0x89, "x") .. frame(0x00, "l") .. frame(0x80, "lo"))
	post("client pong", { read_frame(fd) })
	-- more than a server would take: a client has no limit
	socket.write(fd, frame(0x82, string.rep("\0\1", LIMIT)))
	-- our close, then the client's answer
	socket.write(fd, frame(0x88, pack(">I2", 4005) .. "server bye"))
	post("client close", { read_frame(fd) })
	post("client gone", socket.read(fd) == false)
end

function scripts.masked(fd)
	socket.write(fd, frame(0x81, "masked", "\1\2\3\4"))
	post("masked answer", { read_frame(fd) })
end

function scripts.badaccept()
end

local function raw_server(id)
	socket.start(id)
	local lines = {}
	while true do
		local line = socket.readline(id, "\r\n")
		if not line or line == "" then
			break
		end
		lines[#lines + 1] = line
	end
	local path = (lines[1] or ""):match "^GET /(%w+) "
	local key
	for _, l in ipairs(lines) do
		local k, v = l:match "^([^:]+):%s*(.-)%s*$"
		if k and k:lower() == "sec-websocket-key" then
			key = v
		end
	end
	local accept = crypt.base64encode(crypt.sha1((path == "badaccept" and "wrong" or key or "") .. GUID))
	socket.write(id, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" ..
		"Sec-WebSocket-Accept: " .. accept .. "\r\n\r\n")
	local script = scripts[path]
	if script then
		script(id)
	end
	until_closed(id)
end

local function client_cases(port)
	local base = "ws://127.0.0.1:" .. port .. "/"
	local id = websocket.connect(base .. "talk")

	-- every client frame is masked: with the key given, or a random one
	websocket.write(id, "hi")
	websocket.write(id, "hey", "binary", 0x01020304)
	local f = await "client frame 1"
	check(f[1] == 0x81 and f[2] and #f[2] == 4 and f[3] == "hi", "text frame masked", f[1], f[3])
	f = await "client frame 2"
	check(f[1] == 0x82 and f[2] == "\1\2\3\4" and f[3] == "hey", "binary frame masked with the given key",
		f[1], f[2] and crypt.hexencode(f[2]), f[3])

	local msg, kind = websocket.read(id)
	check(msg == "hello" and kind == "text", "fragments joined", msg, kind)
	f = await "client pong"
	check(f[1] == 0x8A and f[2] and f[3] == "x", "pong masked, with the ping's data", f[1], f[3])
	msg, kind = websocket.read(id)
	check(msg == string.rep("\0\1", LIMIT) and kind == "binary", "a message over the server limit", #msg, kind)

	msg, kind = websocket.read(id)
	check(msg == false and kind == pack(">I2", 4005) .. "server bye", "the server's close", msg, kind)
	check(websocket.is_close(id), "closed after the server's close")
	f = await "client close"
	check(f[1] == 0x88 and f[2] and close_code(f[3]) == 4005, "close answered, masked, with the code", f[1])
	same(await "client gone", true, "client closed the socket")

	-- a masked frame from a server breaks the protocol
	id = websocket.connect(base .. "masked")
	local ok, err = pcall(websocket.read, id)
	check(not ok and tostring(err):find("server frame is masked", 1, true), "masked server frame", tostring(err))
	check(websocket.is_close(id), "closed after a masked server frame")
	f = await "masked answer"
	check(f[1] == 0x88 and close_code(f[3]) == 1002, "close 1002 for a masked server frame", f[1], f[3])

	ok, err = pcall(websocket.connect, base .. "badaccept")
	check(not ok and tostring(err):find("invalid Sec-WebSocket-Accept", 1, true), "bad accept key", tostring(err))
end

skynet.start(function()
	local ok, err = xpcall(function()
		local ws_port = listen(serve)
		server_frames(ws_port)
		server_violations(ws_port)
		server_refusals(ws_port)
		server_upgrade_from_httpd(listen(serve_upgrade))
		client_cases(listen(raw_server))
	end, debug.traceback)
	check(ok, "error", err)
	T.finish()
end)

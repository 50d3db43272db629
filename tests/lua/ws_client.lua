-- Our websocket client (http.websocket.connect/read) against tests/py/ws_server.py.
-- Arguments: port, "ws" or "wss", the host name to connect to, a port nothing listens on.
local skynet = require "skynet"
require "skynet.manager"
local websocket = require "http.websocket"

local NAME = "ws_client"
local port, scheme, host, deadport = ...

local T = require "testcase" (NAME)
local check, same = T.check, T.same

local function url(path)
	return string.format("%s://%s:%s%s", scheme, host, port, path)
end

local function echo_session()
	local id = websocket.connect(url("/echo"), { ["X-Test"] = "yes" }, 500)
	check(not websocket.is_close(id), "open after connect")
	same(websocket.addrinfo(id), host .. ":" .. port, "addrinfo")

	websocket.write(id, "hello")
	local msg, kind = websocket.read(id)
	same(msg, "hello", "text echo")
	same(kind, "text", "text kind")

	local bin = "\0\1\2\255"
	websocket.write(id, bin, "binary")
	msg, kind = websocket.read(id)
	same(msg, bin, "binary echo")
	same(kind, "binary", "binary kind")

	-- over 64K: the 64 bit length form, masked by us and unmasked by the server
	local big = string.rep("0123456789", 7000)
	websocket.write(id, big, "binary", 0x12345678)
	same(websocket.read(id), big, "70K echo with a given masking key")

	websocket.write(id, "frag please")
	same(websocket.read(id), "part1-part2", "fragmented message from the server")

	websocket.write(id, "big please")
	local want = {}
	for i = 0, 255 do
		want[#want + 1] = string.char(i)
	end
	same(websocket.read(id), string.rep(table.concat(want), 400), "100K message from the server")

	websocket.write(id, "ping please")
	same(websocket.read(id), "pong received", "the server's ping was answered")

	websocket.ping(id)
	websocket.write(id, "after ping")
	same(websocket.read(id), "after ping", "the server's pong is skipped")

	websocket.close(id, 4003, "client bye")
	check(websocket.is_close(id), "closed after close")
	check(not pcall(websocket.write, id, "x"), "write after close fails")
end

local function server_close()
	local id = websocket.connect(url("/echo"))
	websocket.write(id, "close please")
	local msg, payload = websocket.read(id)
	same(msg, false, "read after the server's close")
	local code = string.unpack(">I2", payload)
	same(code, 4002, "server close code")
	same(payload:sub(3), "server bye", "server close reason")
	check(websocket.is_close(id), "closed after the server's close")
end

local function refused()
	local ok, err = pcall(websocket.connect, url("/forbidden"))
	check(not ok and tostring(err):find("websocket handshake error: code[403]", 1, true),
		"handshake answered 403", tostring(err))
	ok, err = pcall(websocket.connect, string.format("%s://127.0.0.1:%s/", scheme, deadport), nil, 500)
	check(not ok, "connect to a closed port", tostring(err))
	ok, err = pcall(websocket.connect, "http://127.0.0.1/")
	check(not ok and tostring(err):find("invalid protocol", 1, true), "http:// refused", tostring(err))
end

skynet.start(function()
	local ok, err = xpcall(function()
		echo_session()
		server_close()
		refused()
	end, debug.traceback)
	check(ok, "error", err)
	T.finish()
end)

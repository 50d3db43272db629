-- A websocket echo server (http.websocket.accept) driven by tests/py/ws_client.py.
-- Arguments: port, "ws" or "wss". The client's last message, "quit", ends the test once
-- every event the client caused has been seen here.
local skynet = require "skynet"
require "skynet.manager"
local socket = require "skynet.socket"
local websocket = require "http.websocket"

local NAME = "ws_server"
local port, protocol = ...
port = assert(tonumber(port), "port argument")
protocol = protocol or "ws"

local T = require "testcase" (NAME)
local check = T.check

-- What the client's scenarios must have produced here, counted as they happen.
local seen = {}
local waiter
local function note(event)
	seen[event] = (seen[event] or 0) + 1
	skynet.error("WSEVENT " .. event)
	if waiter then
		skynet.wakeup(waiter)
	end
end

local EXPECTED = {
	"connect", "handshake", "ping pp", "pong", "close 4000 bye",
	"refused", "violation client frame is not masked",
	"violation payload_len is too large", "violation fragmented too large",
}

local function missing()
	for _, e in ipairs(EXPECTED) do
		if not seen[e] then
			return e
		end
	end
end

local function finish()
	-- the connections the client dropped may still be winding down
	local timed_out = false
	skynet.timeout(3000, function()
		timed_out = true
		if waiter then
			skynet.wakeup(waiter)
		end
	end)
	while missing() and not timed_out do
		waiter = coroutine.running()
		skynet.wait(waiter)
		waiter = nil
	end
	check(missing() == nil, "event never seen:", missing())
	T.finish()
end

local handle = {}
local urls = {}	-- id -> url of the upgrade request

function handle.connect(id)
	note "connect"
end

function handle.handshake(id, header, url)
	note "handshake"
	urls[id] = url
	check(websocket.addrinfo(id):match("^127%.0%.0%.1:%d+$"), "addrinfo", websocket.addrinfo(id))
	check(type(header) == "table" and header.host, "handshake header")
end

function handle.message(id, msg, kind)
	if msg == "quit" then
		websocket.close(id)
		skynet.fork(finish)
	elseif msg == "close me" then
		websocket.close(id, 4001, "done")
	elseif msg == "ping me" then
		websocket.ping(id)
	elseif msg == "who" then
		websocket.write(id, string.format("url=%s real_ip=%s", urls[id], tostring(websocket.real_ip(id))))
	else
		websocket.write(id, msg, kind)
	end
end

function handle.ping(id, data)
	note("ping " .. tostring(data))
	websocket.write(id, "ping seen:" .. tostring(data))
end

function handle.pong(id)
	note "pong"
	websocket.write(id, "pong seen")
end

function handle.close(id, code, reason)
	if not urls[id] then
		-- closed before the upgrade: the request was answered with an HTTP error
		note "refused"
	elseif code then
		note(string.format("close %d %s", code, reason))
	end
end

function handle.error(id, err)
	skynet.error("WS error", id, tostring(err))
end

local function serve(id, addr)
	local ok, err = websocket.accept(id, handle, protocol, addr)
	if not ok then
		local url = urls[id]
		if err:find("client frame is not masked", 1, true) then
			note "violation client frame is not masked"
		elseif err:find("payload_len is too large", 1, true) and url == "/big-frame" then
			note "violation payload_len is too large"
		elseif err:find("payload_len is too large", 1, true) and url == "/big-message" then
			note "violation fragmented too large"
		else
			check(false, "accept failed:", url, err)
		end
	end
	check(websocket.is_close(id), "connection still open after accept returned")
end

skynet.start(function()
	local listener = socket.listen("127.0.0.1", port)
	socket.start(listener, serve)
	skynet.error(string.format("WS ready %d %s", port, protocol))
end)

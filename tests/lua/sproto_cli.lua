-- A stand-alone sproto client, as examples/client.lua: run by the bundled interpreter
-- (lua tests/lua/sproto_cli.lua <skynet root> <port>) against tests/lua/sproto_rpc.lua.
-- It parses the schemas itself, speaks 2-byte-length framed sproto RPC through a gate,
-- and prints "TEST sproto_cli PASS" when every answer was right.
local root, port = arg[1], tonumber(arg[2])
assert(root and port, "usage: sproto_cli.lua <skynet root> <port>")
package.cpath = root .. "/luaclib/?.so"
package.path = root .. "/lualib/?.lua;" .. root .. "/tests/lua/?.lua"

local socket = require "client.socket"
local sproto = require "sproto"
local schema = require "sproto_schema"

local failures = 0
local function check(cond, ...)
	if not cond then
		failures = failures + 1
		print("TEST sproto_cli FAIL", ...)
	end
	return cond
end

local host = sproto.parse(schema.s2c):host "package"
local request = host:attach(sproto.parse(schema.c2s))
local fd = socket.connect("127.0.0.1", port)

local session = 0
local function send(name, args, ud)
	session = session + 1
	socket.send(fd, string.pack(">s2", request(name, args, session, ud)))
	return session
end

local buffered = ""

-- The next packet from the server; waits for data (the test's runner bounds the time).
local function recv_packet()
	while true do
		if #buffered >= 2 then
			local size = string.unpack(">I2", buffered)
			if #buffered >= size + 2 then
				local packet = buffered:sub(3, size + 2)
				buffered = buffered:sub(size + 3)
				return packet
			end
		end
		local data = socket.recv(fd)
		if data == "" then
			error "the server closed the connection"
		elseif data then
			buffered = buffered .. data
		else
			socket.usleep(1000)
		end
	end
end

-- The response to `want`, checking the pushes that come first.
local function response(want)
	while true do
		local kind, a, b, c = host:dispatch(recv_packet())
		if kind == "RESPONSE" then
			check(a == want, "response to session", a, "expected", want)
			return b, c
		end
		check(a == "heartbeat" or (a == "notice" and b.text == "hello cli"), "push", a)
	end
end

local msg, ud = response(send("handshake", nil, "cli"))
check(msg and msg.msg == "welcome" and ud == "cli", "handshake")

socket.send(fd, string.pack(">s2", request("set", { what = "color", value = "blue" })))
local got = response(send("get", { what = "color" }))
check(got and got.result == "blue", "get after set")

local sample = schema.sample()
local echoed = response(send("echo", sample))
check(schema.same(echoed, sample), "echo of every field type")

local none = response(send("ping"))
check(none == nil, "response nil")

response(send("quit"))
socket.close(fd)

if failures == 0 then
	print("TEST sproto_cli PASS")
else
	os.exit(1)
end

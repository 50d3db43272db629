-- Two scripted clients of the example node (examples/config), on the bundled interpreter:
--   lua tests/lua/example_cli.lua <skynet root> <port>
-- They speak the sproto protocol of examples/proto.lua through the gate and print
-- "TEST example_cli PASS" when every answer was right: handshake, set/get, a value
-- shared between clients, the heartbeat push, a bad packet that leaves the agent
-- serving, and quit answered before the connection closes.
local root, port = arg[1], tonumber(arg[2])
assert(root and port, "usage: example_cli.lua <skynet root> <port>")
package.cpath = root .. "/luaclib/?.so"
package.path = root .. "/lualib/?.lua;" .. root .. "/examples/?.lua"

local socket = require "client.socket"
local sproto = require "sproto"
local proto = require "proto"

local failures = 0
local function check(cond, ...)
	if not cond then
		failures = failures + 1
		print("TEST example_cli FAIL", ...)
	end
	return cond
end

local c2s = sproto.new(proto.c2s)
local s2c = sproto.new(proto.s2c)

-- A connection with its own sessions; pushes are counted, responses returned.
local function client()
	local self = { fd = assert(socket.connect("127.0.0.1", port)), session = 0, pushes = {}, buffered = "" }
	local host = s2c:host "package"
	local request = host:attach(c2s)

	function self.send_raw(packet)
		socket.send(self.fd, string.pack(">s2", packet))
	end

	-- The next packet, or nil once the server has closed the connection.
	function self.recv_packet()
		while true do
			if #self.buffered >= 2 then
				local size = string.unpack(">I2", self.buffered)
				if #self.buffered >= size + 2 then
					local packet = self.buffered:sub(3, size + 2)
					self.buffered = self.buffered:sub(size + 3)
					return packet
				end
			end
			local data = socket.recv(self.fd)
			if data == "" then
				return nil
			elseif data then
				self.buffered = self.buffered .. data
			else
				socket.usleep(1000)
			end
		end
	end

	-- Handles one packet: true for a response to `want` (then its fields), false for a
	-- push, nil when the connection closed.
	local function next_message(want)
		local packet = self.recv_packet()
		if packet == nil then
			return nil
		end
		local kind, a, b = host:dispatch(packet)
		if kind == "RESPONSE" then
			check(a == want, "response to session", a, "expected", want)
			return true, b
		end
		check(a == "heartbeat" and b == nil, "push", a)
		self.pushes[a] = (self.pushes[a] or 0) + 1
		return false
	end

	-- Sends a request and returns true and the response's fields (nil if it has none).
	function self.call(name, args)
		self.session = self.session + 1
		self.send_raw(request(name, args, self.session))
		while true do
			local answered, fields = next_message(self.session)
			if answered == nil then
				check(false, "connection closed before the response to", name)
				return false
			elseif answered then
				return true, fields
			end
		end
	end

	-- Reads until a heartbeat has arrived (they come every 5 seconds).
	function self.wait_heartbeat()
		while not self.pushes.heartbeat do
			if next_message() == nil then
				return check(false, "connection closed before a heartbeat")
			end
		end
	end

	-- Returns once the server has closed the connection (the runner bounds the wait).
	function self.wait_closed()
		while true do
			local packet = self.recv_packet()
			if packet == nil then
				socket.close(self.fd)
				return
			end
			check(host:dispatch(packet) == "REQUEST", "only pushes after quit")
		end
	end

	return self
end

local KEY = "example_cli"

local a = client()
local ok, r = a.call("handshake")
check(ok and r and r.msg == "Welcome to skynet, I will send heartbeat every 5 sec.", "handshake", r and r.msg)
ok, r = a.call("get", { what = KEY })
check(ok and r and r.result == nil, "get before set", r and r.result)
ok, r = a.call("set", { what = KEY, value = "first value" })
check(ok and r == nil, "set has no response fields")
ok, r = a.call("get", { what = KEY })
check(ok and r and r.result == "first value", "get after set", r and r.result)

-- A packet of no c2s protocol is logged by the agent, which keeps serving.
a.send_raw(c2s:pencode("package", { type = 99, session = 99 }))
ok, r = a.call("get", { what = KEY })
check(ok and r and r.result == "first value", "get after a bad packet", r and r.result)

-- simpledb is shared: a second client sees the first one's value.
local b = client()
ok, r = b.call("get", { what = KEY })
check(ok and r and r.result == "first value", "second client's get", r and r.result)
ok, r = b.call("quit")
check(ok and r == nil, "quit is answered")
b.wait_closed()

a.wait_heartbeat()
check(a.call("set", { what = KEY, value = "second value" }), "second set")
ok, r = a.call("get", { what = KEY })
check(ok and r and r.result == "second value", "the first client is still served", r and r.result)
check(a.call("quit"), "first client's quit")
a.wait_closed()

if failures == 0 then
	print("TEST example_cli PASS")
else
	os.exit(1)
end

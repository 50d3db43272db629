-- Against the login example's gate, run by the bundled `lua` after examples/login/client.lua:
-- with that client's login (user, subid, secret) it reuses the last handshake index
-- (403), connects with the next one and makes a request (200), and signs with a wrong
-- secret (401). Prints "TEST login_reuse PASS" when all of that held.
-- usage: lua tests/lua/login_reuse.lua <root> <gate_port> <user> <subid> <secret hex> <last index>
local root, gate_port, user, subid, secret_hex, last = ...
package.cpath = root .. "/luaclib/?.so"
local socket = require "client.socket"
local crypt = require "client.crypt"

io.stdout:setvbuf("line")
local secret = crypt.hexdecode(secret_hex)
last = math.tointeger(tonumber(last))

local failures = 0
local function same(got, want, what)
	if got ~= want then
		failures = failures + 1
		print("TEST login_reuse FAIL", what, "got", tostring(got), "want", tostring(want))
		return false
	end
	return true
end

-- A connection to the gate and the bytes received on it not used yet.
local function open()
	return { fd = assert(socket.connect("127.0.0.1", math.tointeger(tonumber(gate_port)))), inbox = "" }
end

-- The next packet (2-byte big-endian length header), or false once the gate closed.
local function recv_packet(c)
	while true do
		if #c.inbox >= 2 then
			local size = string.unpack(">I2", c.inbox)
			if #c.inbox >= size + 2 then
				local packet = c.inbox:sub(3, size + 2)
				c.inbox = c.inbox:sub(size + 3)
				return packet
			end
		end
		local got = socket.recv(c.fd)
		if got == "" then
			return false
		elseif got then
			c.inbox = c.inbox .. got
		else
			socket.usleep(1000)	-- nothing yet: the gate answers soon
		end
	end
end

local function send_packet(c, text)
	socket.send(c.fd, string.pack(">s2", text))
end

local function handshake(index, key)
	local c = open()
	local username = string.format("%s@%s#%s", crypt.base64encode(user), crypt.base64encode("sample"),
		crypt.base64encode(subid))
	local text = username .. ":" .. index
	send_packet(c, text .. ":" .. crypt.base64encode(crypt.hmac64(crypt.hashkey(text), key)))
	return c, recv_packet(c)
end

local c, answer = handshake(last, secret)
if same(answer, "403 Index Expired", "the last index again") then
	same(recv_packet(c), false, "closed after 403")
end
socket.close(c.fd)

c, answer = handshake(last + 1, secret)
if same(answer, "200 OK", "the next index") then
	send_packet(c, "reused" .. string.pack(">I4", 7))
	same(recv_packet(c), "reused" .. string.pack(">BI4", 1, 7), "a request after the reuse")
end
socket.close(c.fd)

local wrong = crypt.hexdecode(secret_hex:sub(1, -2) .. (secret_hex:sub(-1) == "0" and "1" or "0"))
c, answer = handshake(last + 2, wrong)
same(answer, "401 Unauthorized", "a wrong secret")
socket.close(c.fd)

if failures > 0 then
	os.exit(1)
end
print("TEST login_reuse PASS")

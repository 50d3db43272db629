-- A command-line client for the login example (examples/login/config), run from the top
-- of the tree with the interpreter `make linux` builds:
--   3rd/lua/lua examples/login/client.lua [host [login_port [gate_port [user [password]]]]]
--   (defaults: 127.0.0.1 8001 8888 hello password)
-- It logs in, connects to the gate, sends a request and drops the connection before the
-- answer, then reconnects with the next index and gets that answer replayed.
package.cpath = "luaclib/?.so"

local socket = require "client.socket"
local crypt = require "client.crypt"

io.stdout:setvbuf("line")

local host, login_port, gate_port, user, password = ...
host = host or "127.0.0.1"
login_port = math.tointeger(tonumber(login_port)) or 8001
gate_port = math.tointeger(tonumber(gate_port)) or 8888

local token = {
	server = "sample",
	user = user or "hello",
	pass = password or "password",
}

local fd
local inbox = ""	-- bytes received on fd and not used yet

-- Returns a reader that waits until `split(inbox)` finds a whole unit in the input.
local function reader(split)
	return function()
		while true do
			local unit, rest = split(inbox)
			if unit then
				inbox = rest
				return unit
			end
			local got = socket.recv(fd)
			if got == "" then
				error "Server closed"
			elseif got then
				inbox = inbox .. got
			else
				socket.usleep(100)
			end
		end
	end
end

local readline = reader(function(text)
	local nl = text:find("\n", 1, true)
	if nl then
		return text:sub(1, nl - 1), text:sub(nl + 1)
	end
end)

-- a packet with a 2-byte big-endian length header
local readpackage = reader(function(text)
	if #text >= 2 then
		local size = string.unpack(">I2", text)
		if #text >= size + 2 then
			return text:sub(3, size + 2), text:sub(size + 3)
		end
	end
end)

local function writeline(text)
	socket.send(fd, text .. "\n")
end

local function connect(port)
	fd = assert(socket.connect(host, port))
	inbox = ""
end

---------------------------------------------------------------- the login server

connect(login_port)
local challenge = crypt.base64decode(readline())
local clientkey = crypt.randomkey()
writeline(crypt.base64encode(crypt.dhexchange(clientkey)))
local secret = crypt.dhsecret(crypt.base64decode(readline()), clientkey)
print("secret is", crypt.hexencode(secret))

writeline(crypt.base64encode(crypt.hmac64(challenge, secret)))
local plain = string.format("%s@%s:%s",
	crypt.base64encode(token.user),
	crypt.base64encode(token.server),
	crypt.base64encode(token.pass))
writeline(crypt.base64encode(crypt.desencode(secret, plain)))

local result = readline()
print(result)
socket.close(fd)
if result:sub(1, 4) ~= "200 " then
	error("login failed: " .. result)
end
local subid = crypt.base64decode(result:sub(5))
print("login ok, subid=", subid)

---------------------------------------------------------------- the gate

local function send_package(text)
	socket.send(fd, string.pack(">s2", text))
end

local function send_request(text, session)
	send_package(text .. string.pack(">I4", session))
	return text, session
end

local function recv_response()
	local pack = readpackage()
	local content, ok, session = string.unpack("c" .. (#pack - 5) .. "B>I4", pack)
	return ok ~= 0, content, session
end

-- Connects and shakes hands as the index-th connection of this login.
local function handshake(index)
	connect(gate_port)
	local username = string.format("%s@%s#%s",
		crypt.base64encode(token.user),
		crypt.base64encode(token.server),
		crypt.base64encode(subid))
	local text = username .. ":" .. index
	local hmac = crypt.hmac64(crypt.hashkey(text), secret)
	send_package(text .. ":" .. crypt.base64encode(hmac))
	print(readpackage())
end

print("connect")
handshake(1)
print("===>", send_request("echo", 0))
-- leave before the answer comes
print("disconnect")
socket.close(fd)

print("connect again")
handshake(2)
-- session 0 again: the content is ignored, the answer to "echo" comes back instead
print("===>", send_request("fake", 0))
print("===>", send_request("again", 1))
print("<===", recv_response())
print("<===", recv_response())
print("disconnect")
socket.close(fd)

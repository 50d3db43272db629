-- A command-line client for the example node (examples/config), run from the top of the
-- tree with the interpreter `make linux` builds:
--   3rd/lua/lua examples/client.lua [host [port]]      (default 127.0.0.1 8888)
-- It says hello (handshake, set hello world), then sends one request per stdin line:
--   quit | set <key> <value> | echo <text> | <key> (a get)
-- and prints what the server sends back. See examples/agent.lua for the protocol.
package.cpath = "luaclib/?.so"
package.path = "lualib/?.lua;examples/?.lua"

local socket = require "client.socket"

io.stdout:setvbuf("line")

local host, port = ...
host = host or "127.0.0.1"
port = math.tointeger(tonumber(port)) or 8888

local fd = assert(socket.connect(host, port))

local function send_package(text)
	socket.send(fd, string.pack(">s2", text))
end

-- Splits one framed packet off the front of `pending`; nil if it is not complete yet.
local function split_package(pending)
	if #pending < 2 then
		return nil, pending
	end
	local size = string.unpack(">I2", pending)
	if #pending < size + 2 then
		return nil, pending
	end
	return pending:sub(3, 2 + size), pending:sub(3 + size)
end

local pending = ""

-- The next complete packet, or nil when nothing complete has arrived yet.
local function recv_package()
	while true do
		local packet
		packet, pending = split_package(pending)
		if packet then
			return packet
		end
		local data = socket.recv(fd)
		if data == nil then
			return nil
		end
		if data == "" then
			print("Server closed")
			socket.close(fd)
			os.exit(0)
		end
		pending = pending .. data
	end
end

local session = 0

local function send_request(text)
	session = session + 1
	send_package(session .. " " .. text)
	print("Request:", session, text)
end

local function command(line)
	if line == "quit" then
		send_request("quit")
	elseif line:match("^set%s") or line:match("^echo%s") then
		send_request(line)
	elseif line ~= "" then
		send_request("get " .. line)
	end
end

send_request("handshake")
send_request("set hello world")
while true do
	local packet = recv_package()
	while packet do
		print(packet)
		packet = recv_package()
	end
	local line = socket.readstdin()
	if line then
		command(line)
	else
		socket.usleep(100)
	end
end

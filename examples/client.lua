-- A command-line client for the example node (examples/config), run from the top of the
-- tree with the interpreter `make linux` builds:
--   3rd/lua/lua examples/client.lua [host [port]]      (default 127.0.0.1 8888)
-- It speaks the sproto protocol of examples/proto.lua: it sends handshake and
-- set hello world, then one request per stdin line:
--   quit | set <key> <value> | <key> (a get)
-- and prints every request it sends and every message the server sends.
package.cpath = "luaclib/?.so"
package.path = "lualib/?.lua;examples/?.lua"

local socket = require "client.socket"
local sproto = require "sproto"
local proto = require "proto"

io.stdout:setvbuf("line")

local host, port = ...
host = host or "127.0.0.1"
port = math.tointeger(tonumber(port)) or 8888

-- Decodes the server's pushes and the responses to our requests.
local dispatcher = sproto.new(proto.s2c):host "package"
local encode_request = dispatcher:attach(sproto.new(proto.c2s))

local fd = assert(socket.connect(host, port))

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

-- One "field<TAB>value" line per field, in key order so the output is stable.
local function print_fields(fields)
	if fields == nil then
		return
	end
	local keys = {}
	for k in pairs(fields) do
		keys[#keys + 1] = k
	end
	table.sort(keys)
	for _, k in ipairs(keys) do
		print(k, fields[k])
	end
end

local function print_package(kind, what, fields)
	print(kind, what)
	print_fields(fields)
end

local session = 0

local function send_request(name, args)
	session = session + 1
	socket.send(fd, string.pack(">s2", encode_request(name, args, session)))
	print("Request:", session, name)
end

local function command(line)
	if line == "quit" then
		send_request("quit")
		return
	end
	local key, value = line:match("^set%s+(%S+)%s+(.-)%s*$")
	if key then
		send_request("set", { what = key, value = value })
	elseif line ~= "" then
		send_request("get", { what = line })
	end
end

send_request("handshake")
send_request("set", { what = "hello", value = "world" })
while true do
	local packet = recv_package()
	while packet do
		print_package(dispatcher:dispatch(packet))
		packet = recv_package()
	end
	local line = socket.readstdin()
	if line then
		command(line)
	else
		socket.usleep(100)
	end
end

-- The master of a multi-node harbor network (config `standalone`).
--
-- Every slave (cslave) keeps one TCP connection here. The master remembers where each
-- harbor listens and which global names exist, introduces new slaves to the live ones
-- and tells everyone when a slave goes away.
--
-- Frames both ways: one length byte, then `skynet.packstring(kind, ...)`.
--   slave -> master   H id address | R name handle | Q name
--   master -> slave   W count | C id address | N name handle | D id
local skynet = require "skynet"
local socket = require "skynet.socket"

local harbors = {}	-- id -> { fd = fd or false once down, address = "ip:port" }
local names = {}	-- global name -> handle

local function encode(...)
	local body = skynet.packstring(...)
	assert(#body <= 255, "harbor control frame too long")
	return string.char(#body) .. body
end

local function receive(fd)
	local head = assert(socket.read(fd, 1), "closed")
	local body = assert(socket.read(fd, head:byte()), "closed")
	return skynet.unpack(body)
end

local function broadcast(frame)
	for _, h in pairs(harbors) do
		if h.fd then
			socket.write(h.fd, frame)
		end
	end
end

-- Reads the H frame, introduces the newcomer to every live slave (they will dial it)
-- and tells it how many connections to expect.
local function greet(fd)
	local kind, id, address = receive(fd)
	assert(kind == "H", "Invalid handshake type " .. tostring(kind))
	assert(math.type(id) == "integer" and id > 0 and id < 256, "Invalid slave id " .. tostring(id))
	assert(type(address) == "string", "Invalid slave address")
	local old = harbors[id]
	if old then
		error(string.format("Slave %d already register on %s", id, old.address))
	end
	local live = 0
	local intro = encode("C", id, address)
	for _, h in pairs(harbors) do
		if h.fd then
			socket.write(h.fd, intro)
			live = live + 1
		end
	end
	socket.write(fd, encode("W", live))
	harbors[id] = { fd = fd, address = address }
	return id, address
end

local requests = {}

function requests.R(fd, name, handle)
	assert(type(name) == "string" and math.type(handle) == "integer", "Invalid request")
	-- The first registration wins; everyone learns the winner.
	if names[name] == nil then
		names[name] = handle
	end
	broadcast(encode("N", name, names[name]))
end

function requests.Q(fd, name)
	local handle = names[name]
	-- An unknown name stays unanswered: the N broadcast of a later R answers it.
	if handle then
		socket.write(fd, encode("N", name, handle))
	end
end

local function serve(id)
	local h = harbors[id]
	local fd = h.fd
	skynet.error(string.format("Harbor %d (fd=%d) report %s", id, fd, h.address))
	while true do
		local ok, kind, a, b = pcall(receive, fd)
		if not ok then
			break
		end
		local f = requests[kind]
		if f then
			local done, err = pcall(f, fd, a, b)
			if not done then
				skynet.error(string.format("Bad request from harbor %d: %s", id, err))
			end
		else
			skynet.error("Invalid slave message type " .. tostring(kind))
		end
	end
	skynet.error("slave " .. id .. " is down")
	h.fd = false
	broadcast(encode("D", id))
	socket.close(fd)
end

skynet.start(function()
	local listen_at = skynet.getenv "standalone"
	skynet.error("master listen socket " .. tostring(listen_at))
	local listener = socket.listen(listen_at)
	socket.start(listener, function(fd, addr)
		skynet.error("connect from " .. addr .. " " .. fd)
		socket.start(fd)
		local ok, id = pcall(greet, fd)
		if ok then
			skynet.fork(serve, id)
		else
			skynet.error(string.format("disconnect fd = %d, error = %s", fd, id))
			socket.close(fd)
		end
	end)
end)

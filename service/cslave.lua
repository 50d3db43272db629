-- `.cslave`: this node's agent in a multi-node harbor network (harbor >= 1).
--
-- It talks to the master (cmaster) to learn the other harbors and the global names, opens
-- or accepts one TCP link per peer harbor and gives that socket to the C `harbor`
-- service, which carries the messages. The frames exchanged with the master are
-- described in cmaster.lua.
local skynet = require "skynet"
local socket = require "skynet.socket"
local socketdriver = require "skynet.socketdriver"
require "skynet.manager"

local harbor_service	-- the C harbor
local master_fd

-- Peer links: id -> fd while connected, false once down; nil means never seen.
local peers = {}
-- Peers announced before the handshake finished, connected in `ready` (nil afterwards).
local deferred = {}
local names = {}	-- global name -> handle
local name_waiters = {}	-- global name -> responses of QUERYNAME calls
local link_waiters = {}	-- id -> responses of LINK/CONNECT calls, answered on any change
local master_waiters = {}	-- responses of LINKMASTER calls
-- While starting: the peers that must dial us before we are ready, and who waits for them.
local expected

skynet.register_protocol {
	name = "harbor",
	id = skynet.PTYPE_HARBOR,
	pack = function(...) return ... end,
	unpack = skynet.tostring,
}

skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	pack = function(...) return ... end,
	unpack = skynet.tostring,
}

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

local function answer_all(list, ...)
	if list then
		for _, resp in ipairs(list) do
			resp(true, ...)
		end
	end
end

local function peer_changed(id)
	local list = link_waiters[id]
	link_waiters[id] = nil
	answer_all(list)
end

-- Binds `name` in the C harbor; the source of the message is the named service.
local function bind_name(name, handle)
	skynet.redirect(harbor_service, handle, "harbor", 0, "N " .. name)
end

local function learn_name(name, handle)
	names[name] = handle
	local list = name_waiters[name]
	name_waiters[name] = nil
	answer_all(list, handle)
end

-- A peer we were told to expect has dialled us or is gone.
local function settle(id)
	if expected and not expected.seen[id] then
		expected.seen[id] = true
		expected.left = expected.left - 1
		if expected.left == 0 then
			skynet.wakeup(expected.co)
		end
	end
end

-- The harbor gets the socket before anyone waiting for the link is told it is up.
local function give_to_harbor(fd, id, command)
	socket.abandon(fd)
	skynet.send(harbor_service, "harbor", string.format("%s %d %d", command, fd, id))
	peers[id] = fd
	peer_changed(id)
	settle(id)
end

local function dial(id, address)
	if peers[id] ~= nil then
		return
	end
	local fd = socket.open(address)
	if not fd then
		skynet.error(string.format("Can't connect to harbor %d at %s", id, address))
		return
	end
	if peers[id] ~= nil then
		-- It dialled us while we were dialling it.
		socket.close(fd)
		return
	end
	socketdriver.nodelay(fd)
	skynet.error(string.format("Connect to harbor %d (fd=%d), %s", id, fd, address))
	give_to_harbor(fd, id, "S")
end

-- A peer dialled us: its first byte is its harbor id.
local function welcome(fd)
	socket.start(fd)
	local b = socket.read(fd, 1)
	if not b then
		skynet.error(string.format("Connection (fd =%d) closed", fd))
		socket.close(fd)
		return
	end
	local id = b:byte()
	if peers[id] ~= nil then
		skynet.error(string.format("Slave %d exist (fd =%d)", id, fd))
		socket.close(fd)
		return
	end
	skynet.error(string.format("Harbor %d connected (fd = %d)", id, fd))
	give_to_harbor(fd, id, "A")
end

local function ready()
	local queue = deferred
	deferred = nil
	for id, address in pairs(queue) do
		dial(id, address)
	end
	for name, handle in pairs(names) do
		bind_name(name, handle)
	end
end

local from_master = {}

function from_master.C(id, address)
	if expected then
		-- It joined after us: we dial it, it is not one of those that dial us.
		expected.seen[id] = true
	end
	if deferred then
		deferred[id] = address
	else
		dial(id, address)
	end
end

function from_master.N(name, handle)
	learn_name(name, handle)
	if not deferred then
		bind_name(name, handle)
	end
end

function from_master.D(id)
	-- The C harbor notices the link closing by itself; here only the bookkeeping.
	local was = peers[id]
	peers[id] = false
	if was then
		peer_changed(id)
	end
	settle(id)
end

local function follow_master()
	while true do
		local ok, kind, a, b = pcall(receive, master_fd)
		if not ok then
			break
		end
		local f = from_master[kind]
		if f then
			f(a, b)
		else
			skynet.error("Unknown message from master: " .. tostring(kind))
		end
	end
	skynet.error("Master disconnect")
	local list = master_waiters
	master_waiters = {}
	answer_all(list)
	socket.close(master_fd)
end

-- Text requests from the C harbor: `Q name` (resolve a global name), `D id` (link lost).
local function from_harbor(_, _, text)
	local kind, arg = text:match "^(%a) (.*)$"
	if kind == "Q" then
		local handle = names[arg]
		if handle then
			bind_name(arg, handle)
		else
			socket.write(master_fd, encode("Q", arg))
		end
	elseif kind == "D" then
		local id = tonumber(arg)
		if id then
			if peers[id] then
				peer_changed(id)
			end
			peers[id] = false
		end
	else
		skynet.error("Unknown command ", text)
	end
end

local api = {}

function api.REGISTER(name, handle)
	assert(type(name) == "string" and math.type(handle) == "integer", "Invalid REGISTER")
	assert(names[name] == nil, "global name " .. name .. " already exists")
	learn_name(name, handle)
	socket.write(master_fd, encode("R", name, handle))
	bind_name(name, handle)
end

function api.QUERYNAME(name)
	assert(type(name) == "string", "Invalid QUERYNAME")
	if name:sub(1, 1) == "." then
		return skynet.ret(skynet.pack(skynet.localname(name)))
	end
	local handle = names[name]
	if handle then
		return skynet.ret(skynet.pack(handle))
	end
	local list = name_waiters[name]
	if list then
		table.insert(list, skynet.response())
	else
		name_waiters[name] = { skynet.response() }
		socket.write(master_fd, encode("Q", name))
	end
end

local function wait_change(id)
	local list = link_waiters[id]
	if not list then
		list = {}
		link_waiters[id] = list
	end
	table.insert(list, skynet.response())
end

-- Returns once the link to harbor `id` is lost (at once if it is not up).
function api.LINK(id)
	if peers[id] then
		wait_change(id)
	else
		skynet.ret()
	end
end

-- Returns once harbor `id` is linked (at once if it already is).
function api.CONNECT(id)
	if peers[id] then
		skynet.ret()
	else
		wait_change(id)
	end
end

-- Returns once the master connection is lost.
function api.LINKMASTER()
	table.insert(master_waiters, skynet.response())
end

skynet.start(function()
	local master_at = skynet.getenv "master"
	local harbor_id = tonumber(skynet.getenv "harbor")
	local address = assert(skynet.getenv "address", "config address is missing")
	local listener = socket.listen(address)
	skynet.error("slave connect to master " .. tostring(master_at))
	master_fd = assert(socket.open(master_at), "Can't connect to master")

	skynet.dispatch("lua", function(_, _, command, ...)
		local f = assert(api[command], command)
		f(...)
	end)
	skynet.dispatch("text", from_harbor)

	harbor_service = assert(skynet.launch("harbor", harbor_id, skynet.self()))

	socket.write(master_fd, encode("H", harbor_id, address))
	local ok, kind, expect = pcall(receive, master_fd)
	assert(ok, "the master closed the connection: harbor id " .. harbor_id .. " refused?")
	assert(kind == "W" and math.type(expect) == "integer", "slave shakehand failed")
	skynet.error(string.format("Waiting for %d harbors", expect))
	skynet.fork(follow_master)
	if expect > 0 then
		expected = { co = coroutine.running(), left = expect, seen = {} }
		socket.start(listener, function(fd, addr)
			skynet.error(string.format("New connection (fd = %d, %s)", fd, addr))
			socketdriver.nodelay(fd)
			local ok, err = pcall(welcome, fd)
			if not ok then
				skynet.error(err)
			end
		end)
		skynet.wait()
		expected = nil
	end
	socket.close(listener)
	skynet.error("Shakehand ready")
	skynet.fork(ready)
end)

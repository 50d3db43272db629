-- The multicast channel manager (one per node, started by skynet.multicast).
--
-- A channel id's low 8 bits are the harbor id of the node that owns it. The owner keeps
-- the local subscribers and the set of other nodes with subscribers; a node subscribing
-- to a remote channel keeps its own local group and receives each message once from the
-- owner. Every node's multicastd is found through the datacenter key
-- ("multicast", harbor id).
local skynet = require "skynet"
local mc = require "skynet.multicast.core"
local datacenter = require "skynet.datacenter"

local my_harbor = skynet.harbor(skynet.self())

local groups = {}	-- channel -> { [subscriber] = true }, for channels with local subscribers
local counts = {}	-- channel -> number of local subscribers
local remote_nodes = {}	-- owned channel -> { [harbor id] = true } having subscribers
local next_id = my_harbor

local peers = setmetatable({}, {
	__index = function(t, harbor_id)
		local addr = assert(datacenter.get("multicast", harbor_id), "no multicastd on harbor " .. harbor_id)
		t[harbor_id] = addr
		return addr
	end,
})

local function owner(c)
	return c % 256
end

local NORET = {}
local command = {}

function command.NEW()
	while groups[next_id] do
		next_id = mc.nextid(next_id)
	end
	local c = next_id
	groups[c] = {}
	counts[c] = 0
	next_id = mc.nextid(next_id)
	return c
end

-- From the owner: a remote channel we subscribed to is gone.
function command.DELR(_, c)
	groups[c] = nil
	counts[c] = nil
	return NORET
end

function command.DEL(_, c)
	local node = owner(c)
	if node ~= my_harbor then
		skynet.send(peers[node], "lua", "DEL", c)
		return NORET
	end
	local nodes = remote_nodes[c]
	groups[c] = nil
	counts[c] = nil
	remote_nodes[c] = nil
	if nodes then
		for n in pairs(nodes) do
			skynet.send(peers[n], "lua", "DELR", c)
		end
	end
	return NORET
end

-- Sends a plain (unshared) copy of a message to another node's multicastd.
local function forward(node, c, source, msg, sz)
	skynet.redirect(peers[node], source, "multicast", c, msg, sz)
end

-- Hands `package` (a struct mc_package ** from mc.pack/packremote) to every subscriber.
local function fan_out(c, source, package, size)
	local nodes = remote_nodes[c]
	if nodes then
		-- Other nodes get a copy of the payload, never a pointer.
		local _, msg, sz = mc.unpack(package, size)
		local copy = skynet.tostring(msg, sz)
		for n in pairs(nodes) do
			forward(n, c, source, copy)
		end
	end
	local group = groups[c]
	if group == nil or next(group) == nil then
		mc.close(mc.bind(package, 1))
		return
	end
	-- The message body is the struct mc_package * itself, shared by all receivers.
	local pointer = skynet.tostring(package, size)
	mc.bind(package, counts[c])
	for subscriber in pairs(group) do
		skynet.redirect(subscriber, source, "multicast", c, pointer)
	end
end

-- A message from another node for a channel here: the channel id is in the session.
skynet.register_protocol {
	name = "multicast",
	id = skynet.PTYPE_MULTICAST,
	unpack = mc.packremote,
	dispatch = function(c, source, package, size)
		skynet.ignoreret()
		fan_out(c, source, package, size)
	end,
}

function command.PUB(source, c, package, size)
	assert(skynet.harbor(source) == my_harbor, "PUB from another node")
	local node = owner(c)
	if node ~= my_harbor then
		forward(node, c, source, mc.remote(package))
	else
		fan_out(c, source, package, size)
	end
end

-- From another node that wants messages of channel `c` owned here. Returns true if the
-- channel does not exist.
function command.SUBR(source, c)
	if not groups[c] then
		return true
	end
	local node = skynet.harbor(source)
	assert(node ~= my_harbor and owner(c) == my_harbor, "invalid SUBR")
	local nodes = remote_nodes[c]
	if not nodes then
		nodes = {}
		remote_nodes[c] = nodes
	end
	nodes[node] = true
end

function command.SUB(source, c)
	local node = owner(c)
	if node ~= my_harbor and groups[c] == nil then
		if skynet.call(peers[node], "lua", "SUBR", c) then
			-- No such channel on its owner.
			return
		end
		-- Another SUB may have set it up while we waited.
		if groups[c] == nil then
			groups[c] = {}
			counts[c] = 0
		end
	end
	local group = groups[c]
	if group and not group[source] then
		group[source] = true
		counts[c] = counts[c] + 1
	end
end

-- From another node that has no subscriber left for channel `c`.
function command.USUBR(source, c)
	local node = skynet.harbor(source)
	assert(node ~= my_harbor, "invalid USUBR")
	local nodes = remote_nodes[c]
	if nodes then
		nodes[node] = nil
	end
	return NORET
end

function command.USUB(source, c)
	local group = groups[c]
	if group and group[source] then
		group[source] = nil
		counts[c] = counts[c] - 1
		local node = owner(c)
		if counts[c] == 0 and node ~= my_harbor then
			groups[c] = nil
			counts[c] = nil
			skynet.send(peers[node], "lua", "USUBR", c)
		end
	end
	return NORET
end

skynet.start(function()
	skynet.dispatch("lua", function(_, source, cmd, ...)
		local f = assert(command[cmd], cmd)
		local result = f(source, ...)
		if result ~= NORET then
			skynet.ret(skynet.pack(result))
		end
	end)
	assert(datacenter.set("multicast", my_harbor, skynet.self()) == nil)
end)

-- `DATACENTER`: a tree of values addressed by key paths (skynet.datacenter).
--   QUERY k1 k2 ...        the value at the path (nil if absent)
--   UPDATE k1 ... kn v     sets it, answers the old value, wakes waiters of that leaf
--   WAIT k1 k2 ...         the value at the path, waiting until a leaf gets set there

local skynet = require "skynet"

local data = {}
-- Mirrors the paths being waited on: inner nodes are branches, and a leaf holds the
-- response closures waiting for it. KIND marks which one a node is.
local waits = {}
local KIND = {}

local function lookup(node, key, ...)
	if node == nil or key == nil then
		return node
	end
	return lookup(node[key], ...)
end

local function query(key, ...)
	local node = data[key]
	if node ~= nil then
		return lookup(node, ...)
	end
end

local function store(node, key, value, ...)
	if select("#", ...) == 0 then
		local old = node[key]
		node[key] = value
		return old, value
	end
	local child = node[key]
	if child == nil then
		child = {}
		node[key] = child
	end
	return store(child, value, ...)
end

-- Detaches the waiters of the path just updated. A path that ends on a branch can't
-- satisfy the waiters below it: they all fail.
local function take_waiters(node, key, ...)
	if key == nil then
		return
	end
	local w = node[key]
	if w == nil then
		return
	end
	if w[KIND] ~= "leaf" then
		return take_waiters(w, ...)
	end
	node[key] = nil
	if select("#", ...) == 1 then
		return w
	end
	for _, respond in ipairs(w) do
		respond(false)
	end
end

local function update(...)
	local old, value = store(data, ...)
	if old ~= nil or value == nil then
		return old
	end
	local list = take_waiters(waits, ...)
	if list then
		for _, respond in ipairs(list) do
			respond(true, value)
		end
	end
end

local function add_waiter(node, key, nextkey, ...)
	local w = node[key]
	if nextkey == nil then
		if w == nil then
			w = { [KIND] = "leaf" }
			node[key] = w
		else
			assert(w[KIND] == "leaf")
		end
		w[#w + 1] = skynet.response()
		return
	end
	if w == nil then
		w = { [KIND] = "branch" }
		node[key] = w
	else
		assert(w[KIND] == "branch")
	end
	return add_waiter(w, nextkey, ...)
end

local command = {
	QUERY = query,
	UPDATE = update,
}

skynet.start(function()
	skynet.dispatch("lua", function(_, _, name, ...)
		if name == "WAIT" then
			local value = query(...)
			if value ~= nil then
				skynet.ret(skynet.pack(value))
			else
				add_waiter(waits, ...)
			end
			return
		end
		local f = assert(command[name])
		skynet.ret(skynet.pack(f(...)))
	end)
end)

-- A `require` that lets modules load from inside skynet coroutines.
--
-- A module may register initialisers with skynet.init(f). When the module is required
-- from the service's main chunk they are deferred until skynet.start runs them (just
-- before the start function); when it is required later, from a running coroutine, they
-- run right after the module's chunk. Such a late load may block (the chunk or an
-- initialiser may call other services); concurrent requires of the same module wait
-- for the first one instead of loading it twice.

local M = {}

local main_co, is_main = coroutine.running()
assert(is_main, "skynet.require must initialize in main thread")

local plain_require = _G.require
local loaded = package.loaded

-- coroutine -> list of initialisers registered while it loads a module
local pending_inits = { [main_co] = {} }
-- module name -> { owner = coroutine, waiters... } while a late load is in progress
local in_progress = {}

local function wake_all(list)
	if #list > 0 then
		local skynet = plain_require "skynet"
		for i = 1, #list do
			skynet.wakeup(list[i])
		end
	end
end

local function wait_for(name, entry, co)
	assert(entry.owner ~= co, "circular dependency")
	local skynet = plain_require "skynet"
	entry[#entry + 1] = co
	skynet.wait(co)
	local m = loaded[name]
	if m == nil then
		error(string.format("require %s failed", name))
	end
	return m
end

function M.require(name)
	local m = loaded[name]
	if m ~= nil then
		return m
	end
	local co, main = coroutine.running()
	if main then
		return plain_require(name)
	end
	local path = package.searchpath(name, package.path)
	local chunk = path and loadfile(path)
	if not chunk then
		-- C modules, or a broken file: let the standard require report it.
		return plain_require(name)
	end
	local entry = in_progress[name]
	if entry then
		return wait_for(name, entry, co)
	end
	entry = { owner = co }
	in_progress[name] = entry

	local outer = pending_inits[co]
	local inits = {}
	pending_inits[co] = inits
	-- Runs as plain Lua (not a C boundary) so the chunk may yield.
	local ok, err = xpcall(function()
		local result = chunk(name, path)
		for _, f in ipairs(inits) do
			f()
		end
		if result == nil then
			result = true
		end
		loaded[name] = result
	end, debug.traceback)
	pending_inits[co] = outer
	in_progress[name] = nil
	wake_all(entry)
	if not ok then
		error(err)
	end
	return loaded[name]
end

function M.init(f)
	assert(type(f) == "function")
	local list = pending_inits[coroutine.running()]
	list[#list + 1] = f
end

function M.init_all()
	local list = pending_inits[main_co]
	pending_inits[main_co] = nil
	for _, f in ipairs(list or {}) do
		f()
	end
end

return M

-- Coroutines usable inside skynet services. A plain coroutine that calls skynet.call
-- (or sleep, wait...) would hand the framework's "SUSPEND" to whoever resumed it;
-- these pass such framework yields up to the service's own coroutine and feed the
-- answer back down, so only skynet.coroutine.yield reaches the resumer.

local co_create = coroutine.create
local co_resume = coroutine.resume
local co_yield = coroutine.yield
local co_status = coroutine.status
local co_running = coroutine.running
local co_close = coroutine.close
local select = select

local M = {}

M.isyieldable = coroutine.isyieldable
M.running = coroutine.running

-- co -> true: a skynet coroutine; false: blocked in the framework (call, sleep...)
local state = setmetatable({}, { __mode = "kv" })
-- co -> the service coroutine at the root of the chain that resumed it
local root = setmetatable({}, { __mode = "kv" })

function M.create(f)
	local co = co_create(f)
	state[co] = true
	return co
end

local relay

local function resume_again(co, ...)
	state[co] = true
	return co_resume(co, ...)
end

-- Handles one result of resuming co.
function relay(co, ok, ...)
	if not ok then
		return false, ...
	end
	if co_status(co) == "dead" then
		state[co] = nil
		return true, ...
	end
	if (...) == "USER" then
		return true, select(2, ...)
	end
	-- a framework yield: block our own caller the same way, then pass the answer down
	state[co] = false
	return relay(co, resume_again(co, co_yield(...)))
end

function M.resume(co, ...)
	local s = state[co]
	if s == false then
		return false, "cannot resume a skynet coroutine suspend by skynet framework"
	end
	if s == nil then
		if co_status(co) == "dead" then
			-- let Lua produce its usual "cannot resume dead coroutine"
			return co_resume(co, ...)
		end
		return false, "cannot resume none skynet coroutine"
	end
	local from = co_running()
	root[co] = root[from] or from
	return relay(co, co_resume(co, ...))
end

-- The service coroutine co (default: the running one) works for, and whether co is
-- that service coroutine itself.
function M.thread(co)
	co = co or co_running()
	if state[co] ~= nil then
		return root[co], false
	end
	return co, true
end

function M.status(co)
	local s = co_status(co)
	if s == "suspended" and state[co] == false then
		return "blocked"
	end
	return s
end

function M.yield(...)
	return co_yield("USER", ...)
end

local function unwrap(ok, ...)
	if not ok then
		error(...)
	end
	return ...
end

function M.wrap(f)
	local co = M.create(f)
	return function(...)
		return unwrap(M.resume(co, ...))
	end
end

function M.close(co)
	state[co] = nil
	return co_close(co)
end

return M

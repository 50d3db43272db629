-- `.service`: unique services (skynet.uniqueservice / queryservice). Each name is
-- launched once; callers arriving while it boots wait for the outcome.
-- On the standalone node it is also the global `SERVICE`, which owns the global unique
-- services of every node; other nodes forward their global requests to it.

local skynet = require "skynet"
require "skynet.manager"

-- name -> handle once launched, error text if the launch failed, or while booting a
-- table { launch = {co, session, source} | nil, [i] = waiting {co, session, source} }
local registry = {}
local cmd = {}

local function settle(name, ok, result)
	local state = registry[name]
	assert(type(state) == "table")
	if ok then
		registry[name] = result
	else
		registry[name] = tostring(result)
	end
	for _, waiter in ipairs(state) do
		skynet.wakeup(waiter.co)
	end
	if not ok then
		error(tostring(result))
	end
	return result
end

-- The handle of `name`, launching it with launcher(...) if nobody did yet. Without a
-- launcher, waits until someone else launches it.
local function obtain(name, launcher, ...)
	local state = registry[name]
	if type(state) == "number" then
		return state
	elseif type(state) == "string" then
		error(state)
	elseif state == nil then
		state = {}
		registry[name] = state
	end
	local session, source = skynet.context()
	local me = { co = coroutine.running(), session = session, source = source }
	if launcher and state.launch == nil then
		state.launch = me
		return settle(name, pcall(launcher, ...))
	end
	state[#state + 1] = me
	skynet.wait()
	state = registry[name]
	if type(state) == "string" then
		error(state)
	end
	assert(type(state) == "number")
	return state
end

-- "@name" marks a global service here; the real service name has no '@'.
local function real_name(name)
	if name:sub(1, 1) == "@" then
		return name:sub(2)
	end
	return name
end

function cmd.LAUNCH(name, subname, ...)
	local real = real_name(name)
	if real == "snaxd" then
		local snax = require "skynet.snax"
		return obtain(name .. "." .. subname, snax.rawnewservice, subname, ...)
	end
	return obtain(name, skynet.newservice, real, subname, ...)
end

function cmd.QUERY(name, subname)
	if real_name(name) == "snaxd" then
		return obtain(name .. "." .. subname)
	end
	return obtain(name)
end

-- What each booting service is stuck on, for the debug console.
local function describe_booting(state)
	local lines = {}
	local launch = state.launch
	if launch then
		local session = skynet.task(launch.co)
		local booting = skynet.call(".launcher", "lua", "QUERY", session)
		if booting then
			lines[#lines + 1] = "Init as " .. skynet.address(booting)
			lines[#lines + 1] = skynet.call(booting, "debug", "TASK", "init")
			lines[#lines + 1] = "Launching from " .. skynet.address(launch.source)
			lines[#lines + 1] = skynet.call(launch.source, "debug", "TASK", launch.session)
		end
	end
	if #state > 0 then
		lines[#lines + 1] = "Querying:"
		for _, w in ipairs(state) do
			lines[#lines + 1] = skynet.address(w.source) .. " "
				.. tostring(skynet.call(w.source, "debug", "TASK", w.session))
		end
	end
	return table.concat(lines, "\n")
end

local function list_local()
	local result = {}
	for name, state in pairs(registry) do
		local kind = type(state)
		if kind == "string" then
			result[name] = "Error: " .. state
		elseif kind == "table" then
			result[name] = describe_booting(state)
		else
			result[name] = skynet.address(state)
		end
	end
	return result
end

-- The global SERVICE (standalone node).
local function serve_global()
	local reporters = {}

	function cmd.GLAUNCH(name, ...)
		return cmd.LAUNCH("@" .. name, ...)
	end

	function cmd.GQUERY(name, ...)
		return cmd.QUERY("@" .. name, ...)
	end

	function cmd.REPORT(mgr)
		reporters[mgr] = true
	end

	local function merge_remote(all, mgr)
		local suffix = "@" .. skynet.harbor(mgr)
		for name, v in pairs(skynet.call(mgr, "lua", "LIST")) do
			all[name .. suffix] = v
		end
	end

	function cmd.LIST()
		local all = {}
		for mgr in pairs(reporters) do
			pcall(merge_remote, all, mgr)
		end
		for name, v in pairs(list_local()) do
			all[name] = v
		end
		return all
	end
end

-- Other nodes: global requests go to SERVICE, the answer is cached here.
local function forward_global()
	local function remote(what, name, ...)
		local global = "@" .. name
		local key = global
		if name == "snaxd" then
			key = global .. "." .. (...)
		end
		return obtain(key, skynet.call, "SERVICE", "lua", what, global, ...)
	end

	function cmd.GLAUNCH(...)
		return remote("LAUNCH", ...)
	end

	function cmd.GQUERY(...)
		return remote("QUERY", ...)
	end

	function cmd.LIST()
		return list_local()
	end

	skynet.call("SERVICE", "lua", "REPORT", skynet.self())
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, name, ...)
		local f = cmd[name]
		if f == nil then
			skynet.ret(skynet.pack(nil, "Invalid command " .. tostring(name)))
			return
		end
		local ok, r = pcall(f, ...)
		if ok then
			skynet.ret(skynet.pack(r))
		else
			skynet.ret(skynet.pack(nil, r))
		end
	end)
	local other = skynet.localname ".service"
	if other then
		skynet.error(".service is already register by ", skynet.address(other))
		skynet.exit()
	else
		skynet.register ".service"
	end
	if skynet.getenv "standalone" then
		skynet.register "SERVICE"
		serve_global()
	else
		forward_global()
	end
end)

-- `.launcher`: launches services for skynet.newservice and answers the caller once the
-- new service reports LAUNCHOK (or ERROR). Also keeps the list of live services for the
-- LIST/STAT/MEM/GC/KILL queries of the debug console.

local skynet = require "skynet"
local core = require "skynet.core"
require "skynet.manager"

local services = {}	-- handle -> launch line
local pending = {}	-- handle -> response closure of the LAUNCH still booting it
local pending_session = {}	-- handle -> session of that LAUNCH request

local NORET = {}
local command = {}

function command.LIST()
	local list = {}
	for handle, line in pairs(services) do
		list[skynet.address(handle)] = line
	end
	return list
end

-- Asks every service `debug` `...` in parallel, waiting at most `ti` (in 1/100 s).
-- format(answer, handle) turns each answer ("ERROR"/"TIMEOUT" on failure) into the value.
local function ask_all(ti, format, ...)
	local result = {}
	local unanswered = {}
	local req = skynet.request()
	for handle in pairs(services) do
		local r = { handle, "debug", ... }
		req:add(r)
		unanswered[r] = handle
	end
	for r, resp in req:select(ti) do
		local handle = r[1]
		local answer = "ERROR"
		if resp then
			answer = resp[1]
		end
		result[skynet.address(handle)] = format(answer, handle)
		unanswered[r] = nil
	end
	for _, handle in pairs(unanswered) do
		result[skynet.address(handle)] = format("TIMEOUT", handle)
	end
	return result
end

function command.STAT(_, ti)
	return ask_all(ti, function(stat) return stat end, "STAT")
end

function command.MEM(_, ti)
	return ask_all(ti, function(kb, handle)
		local line = services[handle]
		if type(kb) == "string" then
			return string.format("%s (%s)", kb, line)
		end
		return string.format("%.2f Kb (%s)", kb, line)
	end, "MEM")
end

function command.GC(addr, ti)
	for handle in pairs(services) do
		skynet.send(handle, "debug", "GC")
	end
	return command.MEM(addr, ti)
end

function command.KILL(_, handle)
	skynet.kill(handle)
	local ret = { [skynet.address(handle)] = tostring(services[handle]) }
	services[handle] = nil
	return ret
end

local function settle(handle, ...)
	local respond = pending[handle]
	if respond then
		pending[handle] = nil
		pending_session[handle] = nil
		respond(...)
	end
end

-- Sent (not called) by a service that exits, or by skynet.kill.
function command.REMOVE(_, handle, killed)
	services[handle] = nil
	-- A service exiting by itself during init makes newservice return nil; a killed
	-- one makes it raise.
	settle(handle, not killed)
	return NORET
end

local function launch(service, ...)
	local line = table.concat({ ... }, " ")
	local handle = skynet.launch(service, line)
	local session = skynet.context()
	local respond = skynet.response()
	if not handle then
		respond(false)
		return
	end
	services[handle] = service .. " " .. line
	pending[handle] = respond
	pending_session[handle] = session
	return handle
end

function command.LAUNCH(_, service, ...)
	launch(service, ...)
	return NORET
end

function command.LOGLAUNCH(_, service, ...)
	local handle = launch(service, ...)
	if handle then
		core.command("LOGON", skynet.address(handle))
	end
	return NORET
end

-- The new service failed to start (sent by skynet.init_service, or by snlua itself).
function command.ERROR(handle)
	settle(handle, false)
	services[handle] = nil
	return NORET
end

function command.LAUNCHOK(handle)
	settle(handle, true, handle)
	return NORET
end

-- Which service is being launched for the LAUNCH request with this session.
function command.QUERY(_, session)
	for handle, s in pairs(pending_session) do
		if s == session then
			return handle
		end
	end
end

-- C services (snlua's load failure) report in text: "" for ok, "ERROR" for failure.
skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	unpack = skynet.tostring,
	dispatch = function(_, source, text)
		if text == "" then
			command.LAUNCHOK(source)
		elseif text == "ERROR" then
			command.ERROR(source)
		else
			error("Invalid text command " .. text)
		end
	end,
}

skynet.dispatch("lua", function(_, source, name, ...)
	local f = command[string.upper(name)]
	if not f then
		skynet.ret(skynet.pack { "Unknown command" })
		return
	end
	local ret = f(source, ...)
	if ret ~= NORET then
		skynet.ret(skynet.pack(ret))
	end
end)

skynet.start(function() end)

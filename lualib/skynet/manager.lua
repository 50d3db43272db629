-- Service management additions to the skynet module: launching C services, killing,
-- naming, message filters and the monitor.

local skynet = require "skynet"
local c = require "skynet.core"

-- A numeric handle for a number or a ":hex" string, nil for names.
local function as_handle(name)
	if type(name) == "number" then
		return name
	end
	if type(name) == "string" then
		local hex = name:match "^:(%x+)"
		if hex then
			return tonumber(hex, 16)
		end
	end
end

function skynet.launch(...)
	local addr = c.command("LAUNCH", table.concat({ ... }, " "))
	if addr then
		return tonumber(addr:sub(2), 16)
	end
end

function skynet.kill(name)
	local handle = as_handle(name)
	if handle then
		skynet.send(".launcher", "lua", "REMOVE", handle, true)
		name = skynet.address(handle)
	end
	c.command("KILL", name)
end

function skynet.abort()
	c.command "ABORT"
end

-- Registers a global (harbor-wide) name; returns false for a local ".name".
local function global_name(name, handle)
	local first = name:sub(1, 1)
	assert(first ~= ":")
	if first == "." then
		return false
	end
	assert(#name < 16)	-- GLOBALNAME_LENGTH in skynet_harbor.h
	assert(tonumber(name) == nil)	-- a number can't be a name
	require("skynet.harbor").globalname(name, handle)
	return true
end

function skynet.register(name)
	if not global_name(name) then
		c.command("REG", name)
	end
end

function skynet.name(name, handle)
	if not global_name(name, handle) then
		c.command("NAME", name .. " " .. skynet.address(handle))
	end
end

local dispatch_message = skynet.dispatch_message

-- map: message type -> type to dispatch it as. The callback runs in forward mode (the
-- core keeps no ownership), so messages not forwarded are freed here.
function skynet.forward_type(map, start_func)
	c.callback(function(ptype, msg, sz, ...)
		local as = map[ptype]
		if as then
			dispatch_message(as, msg, sz, ...)
			return
		end
		local ok, err = pcall(dispatch_message, ptype, msg, sz, ...)
		c.trash(msg, sz)
		if not ok then
			error(err)
		end
	end, true)
	skynet.timeout(0, function()
		skynet.init_service(start_func)
	end)
end

-- f(type, msg, sz, session, source) rewrites every message before dispatch.
function skynet.filter(f, start_func)
	c.callback(function(...)
		dispatch_message(f(...))
	end)
	skynet.timeout(0, function()
		skynet.init_service(start_func)
	end)
end

function skynet.monitor(service, query)
	local addr
	if query then
		addr = skynet.queryservice(true, service)
	else
		addr = skynet.uniqueservice(true, service)
	end
	assert(addr, "Monitor launch failed")
	c.command("MONITOR", string.format(":%08x", addr))
	return addr
end

return skynet

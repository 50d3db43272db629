-- skynet.service.new(name, mainfunc, ...): a named service made from a Lua function,
-- launched once per node by service_provider. mainfunc must use no upvalue but _ENV,
-- since it is shipped as dumped code.

local skynet = require "skynet"
require "skynet.manager"	-- skynet.kill

local service = {}
local known = {}	-- name -> address
local provider

local function get_provider()
	if provider == nil then
		provider = skynet.uniqueservice "service_provider"
	end
	return provider
end

local function check(func)
	local info = debug.getinfo(func, "u")
	assert(info.nups == 1)
	assert(debug.getupvalue(func, 1) == "_ENV")
end

function service.new(name, mainfunc, ...)
	local p = get_provider()
	local addr, booting = skynet.call(p, "lua", "test", name)
	if not addr then
		if booting then
			addr = skynet.call(p, "lua", "query", name)
		else
			check(mainfunc)
			addr = skynet.call(p, "lua", "launch", name, string.dump(mainfunc), ...)
		end
	end
	known[name] = addr
	return addr
end

function service.close(name)
	local addr = skynet.call(get_provider(), "lua", "close", name)
	if not addr then
		return false
	end
	known[name] = nil
	skynet.kill(addr)
	return true
end

function service.query(name)
	local addr = known[name]
	if addr == nil then
		addr = skynet.call(get_provider(), "lua", "query", name)
		known[name] = addr
	end
	return addr
end

return service

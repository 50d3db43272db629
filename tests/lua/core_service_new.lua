-- skynet.service.new: services made from Lua functions, once per name.

local skynet = require "skynet"
local service = require "skynet.service"
local T = require "testcase" "core_service_new"

local function doubler(factor)
	local skynet = require "skynet"
	skynet.start(function()
		skynet.dispatch("lua", function(_, _, x)
			skynet.retpack(x * tonumber(factor))
		end)
	end)
end

T.run(function()
	local addr = service.new("core_doubler", doubler, 2)
	T.same(type(addr), "number", "service.new returns an address")
	T.same(skynet.call(addr, "lua", 21), 42, "the function runs as a service")
	T.same(service.new("core_doubler", doubler, 100), addr, "same name, same service")
	T.same(service.query "core_doubler", addr, "query")

	-- concurrent news of one name launch once
	local results = {}
	for i = 1, 3 do
		skynet.fork(function()
			results[i] = service.new("core_tripler", doubler, 3)
		end)
	end
	while not (results[1] and results[2] and results[3]) do
		skynet.sleep(1)
	end
	T.check(results[1] == results[2] and results[2] == results[3], "one service for concurrent news")
	T.same(skynet.call(results[1], "lua", 5), 15, "its arguments")

	-- functions with upvalues can't be shipped
	local captured = 1
	T.raises(nil, "upvalues refused", service.new, "core_bad", function() return captured end)

	-- a main function that fails
	T.raises(nil, "failing main function", service.new, "core_failing", function()
		error "core_service_new failing main"
	end)

	-- the provider's INFO lists them
	local provider = skynet.uniqueservice "service_provider"
	local info = skynet.call(provider, "debug", "INFO")
	local entry = info[skynet.address(addr)]
	if T.same(type(entry), "table", "provider INFO entry") then
		T.same(entry.name, "core_doubler", "INFO name")
		T.same(entry.init, "2", "INFO init arguments")
	end

	-- close kills it
	T.same(service.close "core_doubler", true, "close")
	T.raises(nil, "closed service is gone", skynet.call, addr, "lua", 1)
	T.same(service.close "core_never_made", false, "close an unknown name")
end)

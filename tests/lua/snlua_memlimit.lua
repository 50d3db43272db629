-- skynet.memlimit caps the Lua heap of the service that sets it while loading;
-- past the cap allocations fail with a memory error and the service lives on.
local skynet = require "skynet"

local NAME = "snlua_memlimit"
local T = require "testcase" (NAME)
local LIMIT = 4 * 1024 * 1024

local mode = ...
if mode == "capped" then
	skynet.memlimit(LIMIT)
end

if mode then
	-- a helper instance: "grow" builds a string of n bytes and reports what happened
	skynet.start(function()
		skynet.dispatch("lua", function(_, _, cmd, n)
			if cmd == "grow" then
				local ok, err = pcall(string.rep, "x", n)
				skynet.ret(skynet.pack(ok, (not ok) and tostring(err) or #err))
			end
		end)
	end)
	return
end

skynet.start(function()
	local capped = skynet.newservice(NAME, "capped")
	local free = skynet.newservice(NAME, "free")

	local ok, err = skynet.call(capped, "lua", "grow", 8 * 1024 * 1024)
	T.check(not ok and tostring(err):find("not enough memory", 1, true),
		"capped service grew past its limit: " .. tostring(ok) .. " " .. tostring(err))
	-- still alive, and small allocations still work
	ok, err = skynet.call(capped, "lua", "grow", 1024)
	T.check(ok and err == 1024, "capped service can't allocate 1K after the failure: " .. tostring(err))

	-- an uncapped service crosses the 32M and 64M warning thresholds
	ok, err = skynet.call(free, "lua", "grow", 72 * 1024 * 1024)
	T.check(ok, "uncapped service failed: " .. tostring(err))
	T.finish()
end)

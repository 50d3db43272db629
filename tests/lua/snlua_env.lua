-- What snlua sets up before the loader runs: libraries, registry entries, globals.
local skynet = require "skynet"
require "skynet.manager"
local profile = require "skynet.profile"
local codecache = require "skynet.codecache"

local NAME = "snlua_env"
local failed = false

local function check(cond, what)
	if not cond then
		failed = true
		skynet.error(string.format("TEST %s FAIL %s", NAME, what))
	end
end

local function expect_error(pattern, f, ...)
	local ok, err = pcall(f, ...)
	check(not ok, "no error, expected " .. pattern)
	check(not ok and string.find(tostring(err), pattern, 1, true) ~= nil,
		"error " .. tostring(err) .. " does not contain " .. pattern)
end

local reg = debug.getregistry()

-- the service's own arguments arrive after its name
local a1, a2 = ...
check(a1 == "alpha" and a2 == "42", "args " .. tostring(a1) .. " " .. tostring(a2))
check(SERVICE_NAME == NAME, "SERVICE_NAME " .. tostring(SERVICE_NAME))
-- the preload file named by the config ran first, with the same arguments
check(SNLUA_PRELOADED == NAME, "preload ran with " .. tostring(SNLUA_PRELOADED))
check(reg.LUA_NOENV == true, "LUA_NOENV")
check(type(reg.skynet_context) == "userdata", "skynet_context")
check(package.loaded["skynet.profile"] == profile, "skynet.profile not in package.loaded")
check(coroutine.resume == profile.resume, "coroutine.resume is not the profiling one")
check(coroutine.wrap == profile.wrap, "coroutine.wrap is not the profiling one")
check(type(profile.start) == "function" and type(profile.stop) == "function", "profile.start/stop")
check(codecache.loadfile == loadfile, "codecache.loadfile")
check(codecache.clear() == nil and select("#", codecache.mode("OFF")) == 0, "codecache.clear/mode")
-- the boot stops the collector and restarts it once the service has loaded
check(not collectgarbage("isrunning"), "the collector runs during loading")
check(collectgarbage("generational") == "generational", "the collector is not generational")
check(LUA_PATH == nil and LUA_CPATH == nil and LUA_SERVICE == nil, "loader globals left behind")
for _, lib in ipairs { "string", "table", "math", "io", "os", "debug", "utf8", "coroutine", "package" } do
	check(type(_G[lib]) == "table", "library " .. lib)
end

-- profile.start/stop misuse
expect_error("Call profile.start() before profile.stop()", profile.stop)
local co = coroutine.create(function() end)
expect_error("Call profile.start() before profile.stop()", profile.stop, co)
profile.start(co)
expect_error(string.format("Thread %s start profile more than once", tostring(co):match("0x%x+")), profile.start, co)
check(profile.stop(co) >= 0, "stop after start")
expect_error("Call profile.start() before profile.stop()", profile.stop, co)
expect_error("thread expected", profile.start, 1)
expect_error("thread expected", coroutine.resume, 1)
expect_error("function expected", coroutine.wrap, 1)

-- time spent inside a profiled coroutine is charged to it, only while it runs
local worker = coroutine.create(function(n)
	local s = 0
	while true do
		for i = 1, n do
			s = s + i % 7
		end
		n = coroutine.yield(s)
	end
end)
profile.start(worker)
local r = { coroutine.resume(worker, 200000) }
check(r[1] == true and type(r[2]) == "number", "resume results")
r = { coroutine.resume(worker, 200000) }
check(r[1] == true, "second resume")
local spent = profile.stop(worker)
check(type(spent) == "number" and spent > 0 and spent < 60, "profiled time " .. tostring(spent))

-- profile.start() with no argument profiles the caller
profile.start()
expect_error("start profile more than once", profile.start)
local own = profile.stop()
check(type(own) == "number" and own >= 0, "own time")

-- coroutine.wrap: values in and out, errors raised in the caller with position
local gen = coroutine.wrap(function(x)
	local y = coroutine.yield(x + 1)
	error("wrapped " .. y)
end)
check(gen(1) == 2, "wrap yield")
expect_error("wrapped boom", gen, "boom")
expect_error("cannot resume dead coroutine", gen)

-- a resumed coroutine that errors returns false and the message
local bad = coroutine.create(function() error("inner") end)
local ok, err = coroutine.resume(bad)
check(ok == false and err:find("inner", 1, true), "resume error " .. tostring(err))
ok, err = coroutine.resume(bad)
check(ok == false and err:find("cannot resume dead coroutine", 1, true), "dead resume " .. tostring(err))

skynet.start(function()
	check(collectgarbage("isrunning"), "the collector is not running")
	if not failed then
		skynet.error(string.format("TEST %s PASS", NAME))
	end
	skynet.abort()
end)

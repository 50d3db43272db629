-- What snlua sets up before the loader runs: libraries, registry entries, globals.
local skynet = require "skynet"
local profile = require "skynet.profile"
local codecache = require "skynet.codecache"

local NAME = "snlua_env"
local T = require "testcase" (NAME)

local reg = debug.getregistry()

-- the service's own arguments arrive after its name
local a1, a2 = ...
T.check(a1 == "alpha" and a2 == "42", "args " .. tostring(a1) .. " " .. tostring(a2))
T.check(SERVICE_NAME == NAME, "SERVICE_NAME " .. tostring(SERVICE_NAME))
-- the preload file named by the config ran first, with the same arguments
T.check(SNLUA_PRELOADED == NAME, "preload ran with " .. tostring(SNLUA_PRELOADED))
T.check(reg.LUA_NOENV == true, "LUA_NOENV")
T.check(type(reg.skynet_context) == "userdata", "skynet_context")
T.check(package.loaded["skynet.profile"] == profile, "skynet.profile not in package.loaded")
T.check(coroutine.resume == profile.resume, "coroutine.resume is not the profiling one")
T.check(coroutine.wrap == profile.wrap, "coroutine.wrap is not the profiling one")
T.check(type(profile.start) == "function" and type(profile.stop) == "function", "profile.start/stop")
T.check(codecache.loadfile == loadfile, "codecache.loadfile")
T.check(codecache.clear() == nil and select("#", codecache.mode("OFF")) == 0, "codecache.clear/mode")
-- the boot stops the collector and restarts it once the service has loaded
T.check(not collectgarbage("isrunning"), "the collector runs during loading")
T.check(collectgarbage("generational") == "generational", "the collector is not generational")
T.check(LUA_PATH == nil and LUA_CPATH == nil and LUA_SERVICE == nil, "loader globals left behind")
for _, lib in ipairs { "string", "table", "math", "io", "os", "debug", "utf8", "coroutine", "package" } do
	T.check(type(_G[lib]) == "table", "library " .. lib)
end

-- profile.start/stop misuse
T.raises("Call profile.start() before profile.stop()", "profile.stop() first", profile.stop)
local co = coroutine.create(function() end)
T.raises("Call profile.start() before profile.stop()", "profile.stop(co) first", profile.stop, co)
profile.start(co)
T.raises(string.format("Thread %s start profile more than once", tostring(co):match("0x%x+")), "profile.start(co) twice",
	profile.start, co)
T.check(profile.stop(co) >= 0, "stop after start")
T.raises("Call profile.start() before profile.stop()", "profile.stop(co) twice", profile.stop, co)
T.raises("thread expected", "profile.start(1)", profile.start, 1)
T.raises("thread expected", "coroutine.resume(1)", coroutine.resume, 1)
T.raises("function expected", "coroutine.wrap(1)", coroutine.wrap, 1)

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
T.check(r[1] == true and type(r[2]) == "number", "resume results")
r = { coroutine.resume(worker, 200000) }
T.check(r[1] == true, "second resume")
local spent = profile.stop(worker)
T.check(type(spent) == "number" and spent > 0 and spent < 60, "profiled time " .. tostring(spent))

-- profile.start() with no argument profiles the caller
profile.start()
T.raises("start profile more than once", "profile.start() twice", profile.start)
local own = profile.stop()
T.check(type(own) == "number" and own >= 0, "own time")

-- coroutine.wrap: values in and out, errors raised in the caller with position
local gen = coroutine.wrap(function(x)
	local y = coroutine.yield(x + 1)
	error("wrapped " .. y)
end)
T.check(gen(1) == 2, "wrap yield")
T.raises("wrapped boom", "an error in a wrapped coroutine", gen, "boom")
T.raises("cannot resume dead coroutine", "a finished wrapped coroutine", gen)

-- a resumed coroutine that errors returns false and the message
local bad = coroutine.create(function() error("inner") end)
local ok, err = coroutine.resume(bad)
T.check(ok == false and err:find("inner", 1, true), "resume error " .. tostring(err))
ok, err = coroutine.resume(bad)
T.check(ok == false and err:find("cannot resume dead coroutine", 1, true), "dead resume " .. tostring(err))

skynet.start(function()
	T.check(collectgarbage("isrunning"), "the collector is not running")
	T.finish()
end)

-- Identity, environment, time, serialisation, stats and tracing.

local skynet = require "skynet"
local T = require "testcase" "core_basic"

local traced = {}

skynet.dispatch("lua", function(_, _, what, ...)
	if what == "trace_me" then
		skynet.trace("core_basic")
		traced.tag = skynet.tracetag()
		skynet.retpack(skynet.call(skynet.self(), "lua", "plain"))
	elseif what == "plain" then
		skynet.retpack "plain"
	end
end)

local loader_globals = { LUA_PATH, LUA_CPATH, LUA_SERVICE }

T.run(function()
	local me = skynet.self()

	-- what loader.lua set up
	T.same(SERVICE_NAME, "core_basic", "SERVICE_NAME")
	T.check(type(SERVICE_PATH) == "string" and SERVICE_PATH:find("tests/lua/$"), "SERVICE_PATH: " .. tostring(SERVICE_PATH))
	T.same(next(loader_globals), nil, "loader cleared LUA_PATH, LUA_CPATH, LUA_SERVICE")
	T.check(package.path:find("lualib/?.lua", 1, true), "package.path from lua_path")
	T.check(package.cpath:find("/?.so", 1, true), "package.cpath from lua_cpath")
	T.same(require, require("skynet.require").require, "require is skynet.require")
	T.same(type(me), "number", "self")
	T.same(skynet.address(me), string.format(":%08x", me), "address of a handle")
	T.same(skynet.address ".name", ".name", "address of a name")
	local harbor_id = tonumber(skynet.getenv "harbor")
	local h, remote = skynet.harbor(me)
	T.same(h, harbor_id, "harbor of self")
	T.same(remote, false, "self is local")

	-- environment
	T.same(skynet.getenv "core_basic_unset", nil, "unset key")
	T.same(skynet.getenv "start", "core_basic", "config key")
	skynet.setenv("core_basic_key", "value 1")
	T.same(skynet.getenv "core_basic_key", "value 1", "setenv then getenv")
	T.raises("Can't setenv exist key : core_basic_key", "setenv twice", skynet.setenv, "core_basic_key", "x")

	-- time: now in 1/100 s since start, time in seconds since the epoch
	local now = skynet.now()
	T.same(math.type(now), "integer", "now is an integer")
	local start = skynet.starttime()
	T.check(math.abs(start - os.time()) < 3600, "starttime is wall-clock seconds")
	local tm = skynet.time()
	T.check(tm >= start and tm - start - now / 100 < 1, "time = starttime + now/100")
	local h1 = skynet.hpc()
	local h2 = skynet.hpc()
	T.check(math.type(h1) == "integer" and h2 >= h1, "hpc is monotonic")

	-- serialisation
	local msg, sz = skynet.pack(1, "two", { three = 3 }, nil, true)
	local v = table.pack(skynet.unpack(msg, sz))
	T.same(v.n, 5, "unpack count")
	T.same(v[2], "two", "unpack string")
	T.same(v[3].three, 3, "unpack table")
	T.same(v[5], true, "unpack boolean")
	skynet.trash(msg, sz)
	local s = skynet.packstring("a", 2)
	T.same(type(s), "string", "packstring")
	T.same_list(table.pack(skynet.unpack(s)), table.pack("a", 2), "unpack a string")
	local m2, sz2 = skynet.pack "x"
	T.same(skynet.tostring(m2, sz2), skynet.packstring "x", "tostring of a message")
	skynet.trash(m2, sz2)

	-- stats
	T.same(skynet.endless(), false, "not endless")
	T.same(math.type(skynet.mqlen()), "integer", "mqlen")
	T.check(skynet.stat "message" > 0, "stat message")
	T.same(type(skynet.task()), "number", "task count")

	-- memlimit (read by snlua after the main chunk)
	local limited = skynet.newservice "core_memlimit"
	local once, ok, err = skynet.call(limited, "lua")
	T.same(once, true, "memlimit can be set once")
	T.same(ok, false, "allocation over the limit fails")
	T.check(err:find("not enough memory", 1, true), "memory error: " .. err)

	-- tracing: the Rust side checks the <TRACE> lines
	T.same(skynet.call(me, "lua", "trace_me"), "plain", "traced request")
	T.same(traced.tag, string.format(":%08x-1", me), "trace tag")
	skynet.tracelog("core_basic_tag", "core_basic tracelog")
	skynet.traceproto("lua", false)
	T.raises(nil, "traceproto of an unknown protocol", skynet.traceproto, "nope", true)
	skynet.traceproto("lua", nil)

	-- the code cache module
	T.same(type(skynet.cache), "table", "skynet.cache")
	T.same(skynet.pcall, pcall, "skynet.pcall")
	skynet.error("core_basic", "error", "joins", 3, "values")
end)

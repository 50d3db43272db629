-- Identity, environment, time, serialisation, stats and tracing.

local skynet = require "skynet"
local t = require "core_check"

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

t.run("core_basic", function()
	local me = skynet.self()

	-- what loader.lua set up
	t.eq(SERVICE_NAME, "core_basic", "SERVICE_NAME")
	t.ok(type(SERVICE_PATH) == "string" and SERVICE_PATH:find("tests/lua/$"), "SERVICE_PATH: " .. tostring(SERVICE_PATH))
	t.eq(next(loader_globals), nil, "loader cleared LUA_PATH, LUA_CPATH, LUA_SERVICE")
	t.ok(package.path:find("lualib/?.lua", 1, true), "package.path from lua_path")
	t.ok(package.cpath:find("/?.so", 1, true), "package.cpath from lua_cpath")
	t.eq(require, require("skynet.require").require, "require is skynet.require")
	t.eq(type(me), "number", "self")
	t.eq(skynet.address(me), string.format(":%08x", me), "address of a handle")
	t.eq(skynet.address ".name", ".name", "address of a name")
	local harbor_id = tonumber(skynet.getenv "harbor")
	local h, remote = skynet.harbor(me)
	t.eq(h, harbor_id, "harbor of self")
	t.eq(remote, false, "self is local")

	-- environment
	t.eq(skynet.getenv "core_basic_unset", nil, "unset key")
	t.eq(skynet.getenv "start", "core_basic", "config key")
	skynet.setenv("core_basic_key", "value 1")
	t.eq(skynet.getenv "core_basic_key", "value 1", "setenv then getenv")
	t.raises("Can't setenv exist key : core_basic_key", "setenv twice", skynet.setenv, "core_basic_key", "x")

	-- time: now in 1/100 s since start, time in seconds since the epoch
	local now = skynet.now()
	t.eq(math.type(now), "integer", "now is an integer")
	local start = skynet.starttime()
	t.ok(math.abs(start - os.time()) < 3600, "starttime is wall-clock seconds")
	local tm = skynet.time()
	t.ok(tm >= start and tm - start - now / 100 < 1, "time = starttime + now/100")
	local h1 = skynet.hpc()
	local h2 = skynet.hpc()
	t.ok(math.type(h1) == "integer" and h2 >= h1, "hpc is monotonic")

	-- serialisation
	local msg, sz = skynet.pack(1, "two", { three = 3 }, nil, true)
	local v = table.pack(skynet.unpack(msg, sz))
	t.eq(v.n, 5, "unpack count")
	t.eq(v[2], "two", "unpack string")
	t.eq(v[3].three, 3, "unpack table")
	t.eq(v[5], true, "unpack boolean")
	skynet.trash(msg, sz)
	local s = skynet.packstring("a", 2)
	t.eq(type(s), "string", "packstring")
	t.same(table.pack(skynet.unpack(s)), table.pack("a", 2), "unpack a string")
	local m2, sz2 = skynet.pack "x"
	t.eq(skynet.tostring(m2, sz2), skynet.packstring "x", "tostring of a message")
	skynet.trash(m2, sz2)

	-- stats
	t.eq(skynet.endless(), false, "not endless")
	t.eq(math.type(skynet.mqlen()), "integer", "mqlen")
	t.ok(skynet.stat "message" > 0, "stat message")
	t.eq(type(skynet.task()), "number", "task count")

	-- memlimit (read by snlua after the main chunk)
	local limited = skynet.newservice "core_memlimit"
	local once, ok, err = skynet.call(limited, "lua")
	t.eq(once, true, "memlimit can be set once")
	t.eq(ok, false, "allocation over the limit fails")
	t.ok(err:find("not enough memory", 1, true), "memory error: " .. err)

	-- tracing: the Rust side checks the <TRACE> lines
	t.eq(skynet.call(me, "lua", "trace_me"), "plain", "traced request")
	t.eq(traced.tag, string.format(":%08x-1", me), "trace tag")
	skynet.tracelog("core_basic_tag", "core_basic tracelog")
	skynet.traceproto("lua", false)
	t.raises(nil, "traceproto of an unknown protocol", skynet.traceproto, "nope", true)
	skynet.traceproto("lua", nil)

	-- the code cache module
	t.eq(type(skynet.cache), "table", "skynet.cache")
	t.eq(skynet.pcall, pcall, "skynet.pcall")
	skynet.error("core_basic", "error", "joins", 3, "values")
end)

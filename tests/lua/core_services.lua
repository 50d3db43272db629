-- newservice / uniqueservice / queryservice, the launcher's commands, skynet.manager.

local skynet = require "skynet"
require "skynet.manager"
local t = require "core_check"

local function until_true(cond)
	for _ = 1, 1000 do
		if cond() then
			return true
		end
		skynet.sleep(1)
	end
	return false
end

t.run("core_services", function()
	local me = skynet.self()

	-- what bootstrap set up
	for _, name in ipairs { ".launcher", ".cslave", ".service" } do
		t.eq(type(skynet.localname(name)), "number", "bootstrap named " .. name)
	end
	t.eq(skynet.getenv "standalone" ~= nil, true, "standalone is set on this node")

	-- newservice passes its arguments as strings
	local echo = skynet.newservice("core_echo", "a", 2, "c")
	t.eq(type(echo), "number", "newservice returns a handle")
	t.same(table.pack(skynet.call(echo, "lua", "args")), table.pack("a", "2", "c"), "service arguments")
	-- a service that exits in its start function: newservice returns nil
	t.eq(skynet.newservice "core_quickexit", nil, "newservice of a service exiting at start")

	-- uniqueservice launches once; queryservice finds it
	local u1 = skynet.uniqueservice("core_echo", "uniq")
	local u2 = skynet.uniqueservice("core_echo", "other args are ignored")
	t.eq(u1, u2, "uniqueservice twice")
	t.ok(u1 ~= echo, "uniqueservice is a new service")
	t.eq(skynet.queryservice "core_echo", u1, "queryservice")
	t.same(table.pack(skynet.call(u1, "lua", "args")), table.pack("uniq"), "unique service arguments")

	-- queryservice before the launch waits for it
	local queried
	skynet.fork(function()
		queried = skynet.queryservice "core_quiet"
	end)
	skynet.yield()
	t.eq(queried, nil, "queryservice still waiting")
	local quiet = skynet.uniqueservice "core_quiet"
	t.ok(until_true(function() return queried ~= nil end), "waiting queryservice answered")
	t.eq(queried, quiet, "queryservice result after the launch")

	-- a failing unique service: every request fails with the launch error
	t.raises(nil, "uniqueservice of a failing service", skynet.uniqueservice, "core_badstart")
	t.raises(nil, "queryservice of the failed service", skynet.queryservice, "core_badstart")

	-- global unique services
	local g1 = skynet.uniqueservice(true, "core_echo", "global")
	t.eq(skynet.uniqueservice(true, "core_echo"), g1, "global uniqueservice twice")
	t.ok(g1 ~= u1, "global and local unique services differ")
	t.eq(skynet.queryservice(true, "core_echo"), g1, "global queryservice")
	local list = skynet.call(".service", "lua", "LIST")
	t.eq(list.core_echo, skynet.address(u1), "service_mgr LIST local")
	t.eq(list["@core_echo"], skynet.address(g1), "service_mgr LIST global")
	t.same(table.pack(skynet.call(".service", "lua", "NOPE")), table.pack(nil, "Invalid command NOPE"), "service_mgr unknown command")

	-- launcher LIST / STAT / MEM / GC / KILL
	list = skynet.call(".launcher", "lua", "LIST")
	t.eq(list[skynet.address(echo)], "snlua core_echo a 2 c", "launcher LIST entry")
	t.eq(list[skynet.address(me)], "snlua core_services", "launcher LIST has us")
	local stat = skynet.call(".launcher", "lua", "STAT")
	local st = stat[skynet.address(echo)]
	if t.eq(type(st), "table", "launcher STAT entry") then
		t.eq(type(st.task), "number", "STAT task")
		t.eq(type(st.mqlen), "number", "STAT mqlen")
		t.eq(type(st.message), "number", "STAT message")
		t.ok(st.cpu ~= nil, "STAT cpu")
	end
	local mem = skynet.call(".launcher", "lua", "MEM")
	t.ok(tostring(mem[skynet.address(echo)]):match "^%d+%.%d%d Kb %(snlua core_echo a 2 c%)$", "launcher MEM entry: " .. tostring(mem[skynet.address(echo)]))
	local gc = skynet.call(".launcher", "lua", "GC")
	t.ok(tostring(gc[skynet.address(echo)]):match "^%d+%.%d%d Kb %(", "launcher GC entry")
	t.eq(type(skynet.call(".launcher", "lua", "mem")), "table", "launcher commands are case-insensitive")
	t.same(table.pack(skynet.call(".launcher", "lua", "NOPE")[1]), table.pack("Unknown command"), "launcher unknown command")
	local killed = skynet.call(".launcher", "lua", "KILL", echo)
	t.eq(killed[skynet.address(echo)], "snlua core_echo a 2 c", "launcher KILL answer")
	list = skynet.call(".launcher", "lua", "LIST")
	t.eq(list[skynet.address(echo)], nil, "killed service left LIST")
	t.raises("call to invalid address", "killed service is gone", skynet.call, echo, "lua", "echo")

	-- an exiting service leaves the list too
	local leaving = skynet.newservice "core_echo"
	t.raises("call failed", "exit_now", skynet.call, leaving, "lua", "exit_now")
	t.ok(until_true(function()
		return skynet.call(".launcher", "lua", "LIST")[skynet.address(leaving)] == nil
	end), "exited service left LIST")

	-- skynet.launch / skynet.kill / names
	local raw = skynet.launch("snlua", "core_echo", "raw")
	t.eq(type(raw), "number", "launch returns a handle")
	t.eq(skynet.launch("no_such_module_core_services"), nil, "launch of a missing module")
	-- launch doesn't wait for the start function; a debug round trip orders us after it
	skynet.call(raw, "debug", "PING")
	skynet.name(".core_raw", raw)
	t.eq(skynet.localname ".core_raw", raw, "name then localname")
	t.eq(skynet.call(".core_raw", "lua", "echo", "named"), "named", "call by the new name")
	skynet.kill ".core_raw"
	t.raises(nil, "killed by name", skynet.call, raw, "lua", "echo")
	local raw2 = skynet.launch("snlua", "core_echo")
	skynet.kill(skynet.address(raw2))
	t.raises(nil, "killed by :address", skynet.call, raw2, "lua", "echo")
	skynet.register ".core_services"
	t.eq(skynet.localname ".core_services", me, "register a local name")
	t.eq(skynet.localname ".core_nobody", nil, "localname of an unknown name")
	-- global names (through .cslave)
	skynet.register "CORESVC"
	t.eq(skynet.call("CORESVC", "lua", "ping"), "pong", "call by a global name")
	local harbor = require "skynet.harbor"
	t.eq(harbor.queryname "CORESVC", me, "harbor.queryname of a global name")
	skynet.name("COREU1", u1)
	t.eq(skynet.call("COREU1", "lua", "echo", "g"), "g", "skynet.name of a global name")

	-- the monitor hears about exiting services
	local monitor = skynet.monitor "core_monitor"
	t.eq(skynet.queryservice(true, "core_monitor"), monitor, "monitor is a global unique service")
	local watched = skynet.newservice "core_echo"
	skynet.kill(watched)
	t.ok(until_true(function()
		return skynet.call(monitor, "lua", "seen", watched)
	end), "monitor saw the exit")

	-- dbg prints the launcher's answer to stdout (the Rust side checks it)
	t.eq(skynet.newservice("dbg", "LIST"), nil, "dbg exits at once")
end)

skynet.dispatch("lua", function(_, _, what)
	if what == "ping" then
		skynet.retpack "pong"
	end
end)

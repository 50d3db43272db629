-- newservice / uniqueservice / queryservice, the launcher's commands, skynet.manager.

local skynet = require "skynet"
require "skynet.manager"
local T = require "testcase" "core_services"

T.run(function()
	local me = skynet.self()

	-- what bootstrap set up
	for _, name in ipairs { ".launcher", ".cslave", ".service" } do
		T.same(type(skynet.localname(name)), "number", "bootstrap named " .. name)
	end
	T.same(skynet.getenv "standalone" ~= nil, true, "standalone is set on this node")

	-- newservice passes its arguments as strings
	local echo = skynet.newservice("core_echo", "a", 2, "c")
	T.same(type(echo), "number", "newservice returns a handle")
	T.same_list(table.pack(skynet.call(echo, "lua", "args")), table.pack("a", "2", "c"), "service arguments")
	-- a service that exits in its start function: newservice returns nil
	T.same(skynet.newservice "core_quickexit", nil, "newservice of a service exiting at start")

	-- uniqueservice launches once; queryservice finds it
	local u1 = skynet.uniqueservice("core_echo", "uniq")
	local u2 = skynet.uniqueservice("core_echo", "other args are ignored")
	T.same(u1, u2, "uniqueservice twice")
	T.check(u1 ~= echo, "uniqueservice is a new service")
	T.same(skynet.queryservice "core_echo", u1, "queryservice")
	T.same_list(table.pack(skynet.call(u1, "lua", "args")), table.pack("uniq"), "unique service arguments")

	-- queryservice before the launch waits for it
	local queried
	skynet.fork(function()
		queried = skynet.queryservice "core_quiet"
	end)
	skynet.yield()
	T.same(queried, nil, "queryservice still waiting")
	local quiet = skynet.uniqueservice "core_quiet"
	T.check(T.eventually(function() return queried ~= nil end), "waiting queryservice answered")
	T.same(queried, quiet, "queryservice result after the launch")

	-- a failing unique service: every request fails with the launch error
	T.raises(nil, "uniqueservice of a failing service", skynet.uniqueservice, "core_badstart")
	T.raises(nil, "queryservice of the failed service", skynet.queryservice, "core_badstart")

	-- global unique services
	local g1 = skynet.uniqueservice(true, "core_echo", "global")
	T.same(skynet.uniqueservice(true, "core_echo"), g1, "global uniqueservice twice")
	T.check(g1 ~= u1, "global and local unique services differ")
	T.same(skynet.queryservice(true, "core_echo"), g1, "global queryservice")
	local list = skynet.call(".service", "lua", "LIST")
	T.same(list.core_echo, skynet.address(u1), "service_mgr LIST local")
	T.same(list["@core_echo"], skynet.address(g1), "service_mgr LIST global")
	T.same_list(table.pack(skynet.call(".service", "lua", "NOPE")), table.pack(nil, "Invalid command NOPE"), "service_mgr unknown command")

	-- launcher LIST / STAT / MEM / GC / KILL
	list = skynet.call(".launcher", "lua", "LIST")
	T.same(list[skynet.address(echo)], "snlua core_echo a 2 c", "launcher LIST entry")
	T.same(list[skynet.address(me)], "snlua core_services", "launcher LIST has us")
	local stat = skynet.call(".launcher", "lua", "STAT")
	local st = stat[skynet.address(echo)]
	if T.same(type(st), "table", "launcher STAT entry") then
		T.same(type(st.task), "number", "STAT task")
		T.same(type(st.mqlen), "number", "STAT mqlen")
		T.same(type(st.message), "number", "STAT message")
		T.check(st.cpu ~= nil, "STAT cpu")
	end
	local mem = skynet.call(".launcher", "lua", "MEM")
	T.check(tostring(mem[skynet.address(echo)]):match "^%d+%.%d%d Kb %(snlua core_echo a 2 c%)$", "launcher MEM entry: " .. tostring(mem[skynet.address(echo)]))
	local gc = skynet.call(".launcher", "lua", "GC")
	T.check(tostring(gc[skynet.address(echo)]):match "^%d+%.%d%d Kb %(", "launcher GC entry")
	T.same(type(skynet.call(".launcher", "lua", "mem")), "table", "launcher commands are case-insensitive")
	T.same_list(table.pack(skynet.call(".launcher", "lua", "NOPE")[1]), table.pack("Unknown command"), "launcher unknown command")
	local killed = skynet.call(".launcher", "lua", "KILL", echo)
	T.same(killed[skynet.address(echo)], "snlua core_echo a 2 c", "launcher KILL answer")
	list = skynet.call(".launcher", "lua", "LIST")
	T.same(list[skynet.address(echo)], nil, "killed service left LIST")
	T.raises("call to invalid address", "killed service is gone", skynet.call, echo, "lua", "echo")

	-- an exiting service leaves the list too
	local leaving = skynet.newservice "core_echo"
	T.raises("call failed", "exit_now", skynet.call, leaving, "lua", "exit_now")
	T.check(T.eventually(function()
		return skynet.call(".launcher", "lua", "LIST")[skynet.address(leaving)] == nil
	end), "exited service left LIST")

	-- skynet.launch / skynet.kill / names
	local raw = skynet.launch("snlua", "core_echo", "raw")
	T.same(type(raw), "number", "launch returns a handle")
	T.same(skynet.launch("no_such_module_core_services"), nil, "launch of a missing module")
	-- launch doesn't wait for the start function; a debug round trip orders us after it
	skynet.call(raw, "debug", "PING")
	skynet.name(".core_raw", raw)
	T.same(skynet.localname ".core_raw", raw, "name then localname")
	T.same(skynet.call(".core_raw", "lua", "echo", "named"), "named", "call by the new name")
	skynet.kill ".core_raw"
	T.raises(nil, "killed by name", skynet.call, raw, "lua", "echo")
	local raw2 = skynet.launch("snlua", "core_echo")
	skynet.kill(skynet.address(raw2))
	T.raises(nil, "killed by :address", skynet.call, raw2, "lua", "echo")
	skynet.register ".core_services"
	T.same(skynet.localname ".core_services", me, "register a local name")
	T.same(skynet.localname ".core_nobody", nil, "localname of an unknown name")
	-- global names (through .cslave)
	skynet.register "CORESVC"
	T.same(skynet.call("CORESVC", "lua", "ping"), "pong", "call by a global name")
	local harbor = require "skynet.harbor"
	T.same(harbor.queryname "CORESVC", me, "harbor.queryname of a global name")
	skynet.name("COREU1", u1)
	T.same(skynet.call("COREU1", "lua", "echo", "g"), "g", "skynet.name of a global name")

	-- the monitor hears about exiting services
	local monitor = skynet.monitor "core_monitor"
	T.same(skynet.queryservice(true, "core_monitor"), monitor, "monitor is a global unique service")
	local watched = skynet.newservice "core_echo"
	skynet.kill(watched)
	T.check(T.eventually(function()
		return skynet.call(monitor, "lua", "seen", watched)
	end), "monitor saw the exit")

	-- dbg prints the launcher's answer to stdout (the Rust side checks it)
	T.same(skynet.newservice("dbg", "LIST"), nil, "dbg exits at once")
end)

skynet.dispatch("lua", function(_, _, what)
	if what == "ping" then
		skynet.retpack "pong"
	end
end)

-- Global names on one node, under either layout (cdummy or cmaster + cslave).
local skynet = require "skynet"
local harbor = require "skynet.harbor"
require "skynet.manager"

local T = require "testcase" "harbor_names"

skynet.start(function()
	local got = {}
	skynet.dispatch("lua", function(_, _, cmd, v)
		if cmd == "put" then
			table.insert(got, v)
		else
			skynet.ret(skynet.pack(cmd, v))
		end
	end)
	local me = skynet.self()
	local id = skynet.harbor(me)

	-- A query made before the name exists is answered once it is registered.
	local late, waiting
	local asked = false
	skynet.fork(function()
		asked = true
		late = harbor.queryname("HNLATE")
		if waiting then
			skynet.wakeup(waiting)
		end
	end)
	skynet.yield()
	T.check(asked and late == nil, "queryname waits for the name")

	skynet.register("HNSELF")
	T.check(harbor.queryname("HNSELF") == me, "queryname of skynet.register")
	skynet.send("HNSELF", "lua", "put", 1)
	local a, b = skynet.call("HNSELF", "lua", "echo", 2)
	T.check(a == "echo" and b == 2, "call by global name")
	T.check(#got == 1 and got[1] == 1, "send by global name arrives before the call")

	local other = skynet.newservice("harbor_uniq")
	skynet.name("HNLATE", other)
	if late == nil then
		waiting = coroutine.running()
		skynet.wait()
	end
	T.check(late == other, "the waiting queryname got the late name")
	T.check(skynet.call("HNLATE", "lua", "ping") == "pong", "call a name bound with skynet.name")

	skynet.name(".hnlocal", other)
	T.check(harbor.queryname(".hnlocal") == other, "queryname of a local name")

	local u1 = skynet.uniqueservice(true, "harbor_uniq")
	local u2 = skynet.uniqueservice(true, "harbor_uniq")
	T.check(u1 == u2 and u1 ~= other, "uniqueservice(true) starts one service")
	T.check(skynet.queryservice(true, "harbor_uniq") == u1, "queryservice(true)")
	T.check(skynet.harbor(u1) == id, "the unique service is on this harbor")

	-- LINK to a harbor that is not linked returns at once.
	harbor.link(200)
	T.finish()
end)

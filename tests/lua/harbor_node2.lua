-- Node 2 (harbor 2) of the two-node harbor test, see harbor_node1.lua.
local skynet = require "skynet"
local harbor = require "skynet.harbor"
require "skynet.manager"

local T = require "testcase" "harbor_node2"

local notes = {}
local handlers = {}

function handlers.echo(...)
	return ...
end

function handlers.notes()
	return #notes
end

function handlers.hang()
	skynet.error("harbor_node2 hanging")
	skynet.wait()
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		if cmd == "note" then
			table.insert(notes, (...))
			return
		end
		skynet.ret(skynet.pack(handlers[cmd](...)))
	end)
	skynet.name("NODE2", skynet.self())

	local node1 = harbor.queryname("NODE1")
	T.check(skynet.harbor(node1) == 1, "NODE1 is on harbor 1")
	T.check(skynet.call("NODE1", "lua", "echo", "back") == "back", "call node 1 by global name")
	T.check(skynet.call(node1, "lua", "whoami") == node1, "call node 1 by address")
	local uniq = skynet.uniqueservice(true, "harbor_uniq")
	T.check(skynet.queryservice(true, "harbor_uniq") == uniq, "queryservice(true) on node 2")
	T.check(skynet.call(uniq, "lua", "ping") == "pong", "call the global unique service")
	T.check(harbor.queryname("NODE2") == skynet.self(), "queryname of our own global name")
	skynet.call(node1, "lua", "done", T.failures == 0, uniq)
end)

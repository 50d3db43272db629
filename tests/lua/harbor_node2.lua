-- Node 2 (harbor 2) of the two-node harbor test, see harbor_node1.lua.
local skynet = require "skynet"
local harbor = require "skynet.harbor"
require "skynet.manager"

local failed = false
local function check(cond, what)
	if not cond then
		failed = true
		skynet.error("TEST harbor_node2 FAIL: " .. what)
	end
	return cond
end

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
	check(skynet.harbor(node1) == 1, "NODE1 is on harbor 1")
	check(skynet.call("NODE1", "lua", "echo", "back") == "back", "call node 1 by global name")
	check(skynet.call(node1, "lua", "whoami") == node1, "call node 1 by address")
	local uniq = skynet.uniqueservice(true, "harbor_uniq")
	check(skynet.queryservice(true, "harbor_uniq") == uniq, "queryservice(true) on node 2")
	check(skynet.call(uniq, "lua", "ping") == "pong", "call the global unique service")
	check(harbor.queryname("NODE2") == skynet.self(), "queryname of our own global name")
	skynet.call(node1, "lua", "done", not failed, uniq)
end)

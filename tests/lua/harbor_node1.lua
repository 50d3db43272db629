-- Node 1 (harbor 1, the standalone master) of the two-node harbor test. Node 2 runs
-- harbor_node2.lua; the Rust test kills node 2 while this node waits on a call to it.
local skynet = require "skynet"
local harbor = require "skynet.harbor"
require "skynet.manager"

local T = require "testcase" "harbor_node1"

local node2_done = {}
local waiting

local handlers = {}

function handlers.echo(...)
	return ...
end

function handlers.whoami()
	return skynet.self()
end

-- Node 2 reports its own checks and what uniqueservice(true) gave it.
function handlers.done(ok, uniq)
	node2_done.ok, node2_done.uniq = ok, uniq
	if waiting then
		skynet.wakeup(waiting)
	end
	return true
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = handlers[cmd]
		skynet.ret(skynet.pack(f(...)))
	end)
	skynet.register("NODE1")
	local uniq = skynet.uniqueservice(true, "harbor_uniq")
	T.check(skynet.harbor(uniq) == 1, "the global unique service lives on node 1")
	skynet.error("harbor_node1 waiting for node 2")

	-- Waits until node 2 registers its global name.
	local peer = harbor.queryname("NODE2")
	T.check(skynet.harbor(peer) == 2, "NODE2 is on harbor 2: " .. skynet.address(peer))
	harbor.connect(2)
	T.check(skynet.call(peer, "lua", "echo", "hello", 42) == "hello", "call node 2 by address")
	local a, b = skynet.call("NODE2", "lua", "echo", "by name", 7)
	T.check(a == "by name" and b == 7, "call node 2 by global name")
	skynet.send("NODE2", "lua", "note", "sent from node 1")
	T.check(skynet.call(peer, "lua", "notes") == 1, "a send from node 1 arrived before the next call")
	T.check(skynet.call(".cslave", "lua", "QUERYNAME", ".launcher") == skynet.localname ".launcher",
		"QUERYNAME of a local name")

	if node2_done.ok == nil then
		waiting = coroutine.running()
		skynet.wait()
	end
	T.check(node2_done.ok == true, "node 2 checks passed")
	T.check(node2_done.uniq == uniq, "uniqueservice(true) gives node 2 the same service")

	-- Node 2 is killed while this call waits; the call must fail with an error.
	local down = false
	local waiting_down
	skynet.fork(function()
		harbor.link(2)
		down = true
		if waiting_down then
			skynet.wakeup(waiting_down)
		end
	end)
	local ok, err = pcall(skynet.call, peer, "lua", "hang")
	T.check(not ok, "a call pending when its node dies raises an error")
	skynet.error("harbor_node1 pending call failed: " .. tostring(err))
	local ok2 = pcall(skynet.call, peer, "lua", "echo", 1)
	T.check(not ok2, "a new call to the dead node raises an error")
	if not down then
		waiting_down = coroutine.running()
		skynet.wait()
	end
	T.check(down, "harbor.link returned when node 2 went down")
	T.check(skynet.call(uniq, "lua", "ping") == "pong", "local calls keep working")
	T.finish()
end)

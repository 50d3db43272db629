-- Two-node multicast, node 1 (harbor 1, owner of the channel). See multicast_node2.lua.
-- The nodes meet through datacenter keys under "mctest".
local skynet = require "skynet"
local multicast = require "skynet.multicast"
local datacenter = require "skynet.datacenter"

local T = require "testcase" "multicast_node1"

-- A round trip to multicastd: anything it received before is fanned out by then.
local function flush()
	skynet.call(skynet.uniqueservice "multicastd", "lua", "NEW")
end

skynet.start(function()
	local chan = multicast.new()
	local sub = skynet.newservice("multicast_sub", chan.channel)
	skynet.call(sub, "lua", "subscribe")
	datacenter.set("mctest", "channel", chan.channel)
	skynet.error("multicast_node1 waiting for node 2")

	datacenter.wait("mctest", "ready")
	chan:publish("from node 1")
	datacenter.set("mctest", "published1", true)

	local node2 = datacenter.wait("mctest", "published2")
	flush()
	local got = skynet.call(sub, "lua", "got")
	T.check(#got == 2, "the local subscriber got 2 messages, not " .. #got)
	T.check(got[1] and got[1][1] == "from node 1" and got[1].source == skynet.self(), "own message")
	T.check(got[2] and got[2][1] == "from node 2" and got[2].source == node2, "node 2's message")
	datacenter.set("mctest", "flushed", true)

	local ok = datacenter.wait("mctest", "result2")
	T.check(ok == true, "node 2 checks passed")
	T.finish()
end)

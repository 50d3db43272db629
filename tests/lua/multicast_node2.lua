-- Two-node multicast, node 2 (harbor 2): subscribes to node 1's channel and publishes on it.
local skynet = require "skynet"
local multicast = require "skynet.multicast"
local datacenter = require "skynet.datacenter"

local T = require "testcase" "multicast_node2"

local function flush()
	skynet.call(skynet.uniqueservice "multicastd", "lua", "NEW")
end

skynet.start(function()
	local c = datacenter.wait("mctest", "channel")
	T.check(c % 256 == 1, "the channel belongs to harbor 1")
	local subs = {}
	for i = 1, 2 do
		subs[i] = skynet.newservice("multicast_sub", c)
		skynet.call(subs[i], "lua", "subscribe")
	end
	datacenter.set("mctest", "ready", true)

	-- The datacenter answer travels on the same link after the message.
	datacenter.wait("mctest", "published1")
	flush()
	for i = 1, 2 do
		local got = skynet.call(subs[i], "lua", "got")
		T.check(#got == 1 and got[1][1] == "from node 1", "subscriber " .. i .. " got node 1's message")
	end

	local chan = multicast.new { channel = c }
	chan:publish("from node 2")
	datacenter.set("mctest", "published2", skynet.self())
	datacenter.wait("mctest", "flushed")
	flush()
	for i = 1, 2 do
		local got = skynet.call(subs[i], "lua", "got")
		T.check(#got == 2 and got[2][1] == "from node 2" and got[2].source == skynet.self(),
			"subscriber " .. i .. " got our own message back through the owner")
	end
	datacenter.set("mctest", "result2", T.failures == 0)
end)

-- skynet.multicast on one node: several subscribers, unsubscribe, delete.
local skynet = require "skynet"
local multicast = require "skynet.multicast"

local T = require "testcase" "multicast_basic"

local function count(sub)
	return #skynet.call(sub, "lua", "got")
end

skynet.start(function()
	local chan = multicast.new()
	T.check(math.type(chan.channel) == "integer", "a new channel has an integer id")
	T.check(tostring(chan):match "^%[Multicast:%x+%]$", "tostring of a channel")
	local other = multicast.new()
	T.check(other.channel ~= chan.channel, "two channels get different ids")

	local subs = {}
	for i = 1, 3 do
		subs[i] = skynet.newservice("multicast_sub", chan.channel)
		skynet.call(subs[i], "lua", "subscribe")
	end
	-- A subscriber of the other channel must never see this one's messages.
	local bystander = skynet.newservice("multicast_sub", other.channel)
	skynet.call(bystander, "lua", "subscribe")

	-- publish returns once multicastd has queued the message for every subscriber, so the
	-- "got" calls below arrive after it.
	chan:publish("hello", 1, { x = 2 })
	chan:publish("second")
	for i = 1, 3 do
		local got = skynet.call(subs[i], "lua", "got")
		T.check(#got == 2, "subscriber " .. i .. " got two messages, not " .. #got)
		local m = got[1]
		T.check(m and m.n == 3 and m[1] == "hello" and m[2] == 1 and m[3].x == 2, "first message content")
		T.check(m and m.source == skynet.self(), "the source is the publisher")
		T.check(m and m.channel == chan.channel, "dispatch gets the channel object")
		T.check(got[2] and got[2][1] == "second", "messages arrive in order")
	end
	T.check(count(bystander) == 0, "other channels see nothing")

	skynet.call(subs[2], "lua", "unsubscribe")
	chan:publish("third")
	T.check(count(subs[1]) == 3 and count(subs[3]) == 3, "remaining subscribers get the third message")
	T.check(count(subs[2]) == 2, "an unsubscribed service gets nothing more")

	-- A channel object built from an id can publish too.
	local same = multicast.new { channel = chan.channel }
	same:publish("fourth")
	T.check(count(subs[1]) == 4, "publish through a second object of the same channel")

	chan:delete()
	T.check(chan.channel == nil, "a deleted channel has no id")
	T.check(not pcall(chan.publish, chan, "x"), "publish on a deleted channel object fails")
	same:publish("after delete")
	T.check(count(subs[1]) == 4 and count(subs[3]) == 4, "nothing is delivered after delete")

	other:publish("other")
	local got = skynet.call(bystander, "lua", "got")
	T.check(#got == 1 and got[1][1] == "other", "the other channel still works")
	other:delete()

	T.finish()
end)

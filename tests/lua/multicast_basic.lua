-- skynet.multicast on one node: several subscribers, unsubscribe, delete.
local skynet = require "skynet"
local multicast = require "skynet.multicast"
require "skynet.manager"

local failed = false
local function check(cond, what)
	if not cond then
		failed = true
		skynet.error("TEST multicast_basic FAIL: " .. what)
	end
end

local function count(sub)
	return #skynet.call(sub, "lua", "got")
end

skynet.start(function()
	local chan = multicast.new()
	check(math.type(chan.channel) == "integer", "a new channel has an integer id")
	check(tostring(chan):match "^%[Multicast:%x+%]$", "tostring of a channel")
	local other = multicast.new()
	check(other.channel ~= chan.channel, "two channels get different ids")

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
		check(#got == 2, "subscriber " .. i .. " got two messages, not " .. #got)
		local m = got[1]
		check(m and m.n == 3 and m[1] == "hello" and m[2] == 1 and m[3].x == 2, "first message content")
		check(m and m.source == skynet.self(), "the source is the publisher")
		check(m and m.channel == chan.channel, "dispatch gets the channel object")
		check(got[2] and got[2][1] == "second", "messages arrive in order")
	end
	check(count(bystander) == 0, "other channels see nothing")

	skynet.call(subs[2], "lua", "unsubscribe")
	chan:publish("third")
	check(count(subs[1]) == 3 and count(subs[3]) == 3, "remaining subscribers get the third message")
	check(count(subs[2]) == 2, "an unsubscribed service gets nothing more")

	-- A channel object built from an id can publish too.
	local same = multicast.new { channel = chan.channel }
	same:publish("fourth")
	check(count(subs[1]) == 4, "publish through a second object of the same channel")

	chan:delete()
	check(chan.channel == nil, "a deleted channel has no id")
	check(not pcall(chan.publish, chan, "x"), "publish on a deleted channel object fails")
	same:publish("after delete")
	check(count(subs[1]) == 4 and count(subs[3]) == 4, "nothing is delivered after delete")

	other:publish("other")
	local got = skynet.call(bystander, "lua", "got")
	check(#got == 1 and got[1][1] == "other", "the other channel still works")
	other:delete()

	if not failed then
		skynet.error("TEST multicast_basic PASS")
	end
	skynet.abort()
end)

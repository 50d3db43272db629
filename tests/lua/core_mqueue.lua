-- skynet.mqueue (deprecated): one message at a time.

local skynet = require "skynet"
local mqueue = require "skynet.mqueue"
local T = require "testcase" "core_mqueue"

local order, add = T.log()

mqueue.register(function(what, n)
	if what == "slow" then
		add("in" .. n)
		skynet.sleep(2)
		add("out" .. n)
		return n * 2
	elseif what == "fail" then
		error "core_mqueue failure"
	elseif what == "note" then
		add("note" .. n)
	end
end)

T.run(function()
	local me = skynet.self()
	local results = {}
	for i = 1, 3 do
		skynet.fork(function()
			results[i] = mqueue.call(me, "slow", i)
		end)
	end
	while not (results[1] and results[2] and results[3]) do
		skynet.sleep(1)
	end
	T.same(T.joined(order), "in1 out1 in2 out2 in3 out3", "served one at a time")
	T.same(results[1] + results[2] + results[3], 12, "results")

	T.raises("core_mqueue failure", "errors reach the caller", mqueue.call, me, "fail")

	mqueue.send(me, "note", 7)
	T.same(mqueue.call(me, "slow", 9), 18, "call after a send")
	T.check(T.joined(order):find("note7 in9", 1, true), "send served in order")
	T.same(mqueue.size(), 0, "queue empty")
end)

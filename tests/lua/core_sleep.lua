-- fork, sleep, wait/wakeup, timeout, yield, killthread, task.

local skynet = require "skynet"
local T = require "testcase" "core_sleep"

T.run(function()
	-- sleep returns nothing after the time passed
	local t0 = skynet.now()
	T.same(skynet.sleep(5), nil, "sleep result")
	T.check(skynet.now() - t0 >= 5, "sleep lasts at least its time")

	-- a woken sleeper gets "BREAK"; wakeup tells whether someone slept on the token
	local result
	local sleeper = skynet.fork(function()
		result = skynet.sleep(100000)
	end)
	skynet.yield()
	T.same(skynet.wakeup(sleeper), true, "wakeup a sleeper")
	skynet.yield()
	T.same(result, "BREAK", "woken sleep returns BREAK")
	T.same(skynet.wakeup(sleeper), nil, "wakeup with nobody sleeping")

	-- an explicit token
	local token = {}
	result = nil
	skynet.fork(function()
		result = skynet.sleep(100000, token)
	end)
	skynet.yield()
	T.same(skynet.wakeup(token), true, "wakeup by token")
	skynet.yield()
	T.same(result, "BREAK", "token sleep returns BREAK")

	-- wait / wakeup
	local order, add = T.log()
	local waiter = skynet.fork(function()
		add "wait"
		skynet.wait()
		add "woken"
	end)
	skynet.yield()
	add "wake"
	T.same(skynet.wakeup(waiter), true, "wakeup a waiter")
	skynet.yield()
	T.same(T.joined(order), "wait wake woken", "wait/wakeup order")

	-- timeouts fire by expiry, equal expiries in creation order
	order, add = T.log()
	local all = {}
	for _, spec in ipairs { { 30, "c" }, { 10, "a" }, { 20, "b" }, { 20, "b2" }, { 0, "first" } } do
		all[#all + 1] = skynet.timeout(spec[1], function()
			add(spec[2])
		end)
	end
	T.same(type(all[1]), "thread", "timeout returns the coroutine")
	T.check(T.eventually(function() return #order == 5 end), "all timeouts fired")
	T.same(T.joined(order), "first a b b2 c", "timeout order")

	-- forks run in order after the current coroutine yields, with their arguments
	order, add = T.log()
	skynet.fork(add, "f1")
	skynet.fork(function(a, b, c, n)
		add(string.format("f2:%s:%s:%s:%s", a, b, c, n))
	end, 1, nil, "x", nil)
	local f3 = skynet.fork(add, "f3")
	T.same(type(f3), "thread", "fork returns the coroutine")
	add "main"
	skynet.yield()
	T.same(T.joined(order), "main f1 f2:1:nil:x:nil f3", "fork order and arguments")

	-- yield lets other coroutines run and comes back
	order, add = T.log()
	skynet.fork(function()
		add "other"
	end)
	skynet.yield()
	add "back"
	T.same(T.joined(order), "other back", "yield")

	-- task counts suspended coroutines; task(co) finds its session
	local before = skynet.task()
	local ticking = skynet.fork(function()
		skynet.sleep(100000)
	end)
	skynet.yield()
	T.same(skynet.task(), before + 1, "task counts a sleeper")
	local session = skynet.task(ticking)
	T.same(type(session), "number", "task(co) gives its session")
	T.check(tostring(skynet.task(session)):find("traceback", 1, true), "task(session) gives a traceback")
	local all_tasks = {}
	skynet.task(all_tasks)
	local found = false
	for k, v in pairs(all_tasks) do
		if k:find("session: " .. session, 1, true) then
			found = type(v) == "string"
		end
	end
	T.check(found, "task(table) lists the sleeper")
	T.check(next(skynet.uniqtask()) ~= nil, "uniqtask")
	T.same(skynet.task(987654321), "No session", "task of an unknown session")
	T.check(tostring(skynet.task "init"):find("init_service", 1, true), "task(\"init\") while the start function runs")

	-- killthread stops a sleeper for good
	local killed_ran = false
	local victim = skynet.fork(function()
		skynet.sleep(5)
		killed_ran = true
	end)
	skynet.yield()
	T.same(skynet.killthread(victim), victim, "killthread returns the coroutine")
	T.same(skynet.task(), before + 1, "killed coroutine no longer counted")
	skynet.sleep(10)
	T.check(not killed_ran, "killed coroutine never resumes")
	-- a fork that has not started yet
	local never = false
	local pending = skynet.fork(function()
		never = true
	end)
	T.same(skynet.killthread(pending), pending, "killthread of a queued fork")
	skynet.yield()
	T.check(not never, "killed fork never runs")
	skynet.killthread(ticking)

	-- trace_timeout records where timers were made
	skynet.trace_timeout(true)
	local traced = skynet.timeout(100000, function() end)
	local s = skynet.task(traced)
	T.check(tostring(skynet.task(s)):find("TIMER", 1, true), "trace_timeout traceback")
	skynet.trace_timeout(false)
	skynet.killthread(traced)

	-- many concurrent sleepers wake in expiry order
	order, add = T.log()
	for i = 5, 1, -1 do
		skynet.fork(function()
			skynet.sleep(i * 2)
			add(i)
		end)
	end
	T.check(T.eventually(function() return #order == 5 end), "all sleepers woke")
	T.same(T.joined(order), "1 2 3 4 5", "sleep order")
end)

-- skynet.coroutine: coroutines that may block in the framework.

local skynet = require "skynet"
local coroutine = require "skynet.coroutine"
local T = require "testcase" "core_coroutine"

T.run(function()
	-- yields reach the resumer; framework waits (sleep) are passed through
	local co = coroutine.create(function(a)
		local b = coroutine.yield(a + 1)
		skynet.sleep(1)
		local c = coroutine.yield(b * 2)
		return "done", c
	end)
	T.same(coroutine.status(co), "suspended", "status before start")
	T.same_list(table.pack(coroutine.resume(co, 1)), table.pack(true, 2), "first yield")
	T.same_list(table.pack(coroutine.resume(co, 5)), table.pack(true, 10), "yield after a sleep")
	T.same_list(table.pack(coroutine.resume(co, "z")), table.pack(true, "done", "z"), "return")
	T.same(coroutine.status(co), "dead", "status at the end")
	local ok, err = coroutine.resume(co)
	T.same(ok, false, "resume a dead coroutine")
	T.check(tostring(err):find("dead", 1, true), "dead coroutine message")

	-- a coroutine blocked in the framework can't be resumed by others
	local blocked = coroutine.create(function()
		skynet.sleep(5)
		return "woke"
	end)
	local result
	skynet.fork(function()
		result = table.pack(coroutine.resume(blocked))
	end)
	skynet.yield()
	T.same(coroutine.status(blocked), "blocked", "status while sleeping")
	ok, err = coroutine.resume(blocked)
	T.same(ok, false, "resume a blocked coroutine")
	T.same(err, "cannot resume a skynet coroutine suspend by skynet framework", "blocked message")
	while not result do
		skynet.sleep(1)
	end
	T.same_list(result, table.pack(true, "woke"), "blocked coroutine finishes for its resumer")

	-- plain Lua coroutines are refused
	local plain = _G.coroutine.create(function() end)
	T.same_list(table.pack(coroutine.resume(plain)), table.pack(false, "cannot resume none skynet coroutine"), "plain coroutine")

	-- errors come back as false, message
	local bad = coroutine.create(function()
		error("core_coroutine bad", 0)
	end)
	T.same_list(table.pack(coroutine.resume(bad)), table.pack(false, "core_coroutine bad"), "error result")

	-- wrap, and a call inside it
	local echo = skynet.newservice "core_echo"
	local gen = coroutine.wrap(function(n)
		for i = 1, n do
			coroutine.yield(skynet.call(echo, "lua", "echo", i * 10))
		end
		return "end"
	end)
	T.same(gen(2), 10, "wrap 1")
	T.same(gen(), 20, "wrap 2")
	T.same(gen(), "end", "wrap end")
	T.raises("core_coroutine wrapped", "wrap raises", coroutine.wrap(function()
		error "core_coroutine wrapped"
	end))

	-- thread() finds the service coroutine behind a skynet coroutine
	local main = _G.coroutine.running()
	local th, is_main = coroutine.thread()
	T.same(th, main, "thread() of the service coroutine")
	T.same(is_main, true, "the service coroutine is its own thread")
	local inner = coroutine.create(function()
		return coroutine.thread()
	end)
	local _, owner, flag = coroutine.resume(inner)
	T.same(owner, main, "thread() inside a skynet coroutine")
	T.same(flag, false, "not the service coroutine")
	T.same(coroutine.running(), main, "running")
	T.same(coroutine.isyieldable(), true, "isyieldable")

	-- close
	local closing = coroutine.create(function() coroutine.yield() end)
	coroutine.resume(closing)
	T.same(coroutine.close(closing), true, "close a suspended coroutine")
	T.same(coroutine.status(closing), "dead", "closed is dead")
end)

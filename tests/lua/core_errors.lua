-- What callers see when things go wrong, and what a failing service survives.

local skynet = require "skynet"
local T = require "testcase" "core_errors"

T.run(function()
	-- a dead callee: the call raises at once
	local gone = skynet.newservice "core_echo"
	skynet.kill(gone)
	T.raises("call to invalid address", "call to a dead service", skynet.call, gone, "lua", "echo", 1)
	T.raises("call to invalid address", "call to an unknown name", skynet.call, ".no_such_name", "lua", "echo")

	-- the callee exits while the caller waits
	local quitter = skynet.newservice "core_echo"
	T.raises("call failed", "callee exits mid-call", skynet.call, quitter, "lua", "exit_now")

	-- the callee raises in its dispatch function: the error is logged there (the Rust
	-- side checks the traceback) and the caller's call fails
	local echo = skynet.newservice "core_echo"
	T.raises("call failed", "callee raises", skynet.call, echo, "lua", "raise", "core_errors boom in dispatch")
	T.same(skynet.call(echo, "lua", "echo", "alive"), "alive", "service survives an error in dispatch")

	-- an erroring fork is logged, and neither the request nor the service dies
	T.same(skynet.call(echo, "lua", "fork_error", "core_errors boom in fork"), "forked", "request with an erroring fork")
	T.same(skynet.call(echo, "lua", "echo", "still"), "still", "service survives a fork error")

	-- an erroring fork in our own service: we keep running too
	local after = false
	skynet.fork(function()
		error "core_errors own fork boom"
	end)
	skynet.fork(function()
		after = true
	end)
	skynet.yield()
	T.check(after, "a fork queued after an erroring one still runs")

	-- a request whose handler never answers: the framework warns
	local co = skynet.fork(skynet.call, echo, "lua", "no_answer")
	skynet.yield()
	skynet.killthread(co)

	-- the callee exits while requests are held: all of them fail
	local holder = skynet.newservice "core_echo"
	local results = {}
	for i = 1, 3 do
		skynet.fork(function()
			results[i] = table.pack(pcall(skynet.call, holder, "lua", "hold"))
		end)
	end
	skynet.yield()
	skynet.send(holder, "lua", "exit_now")
	local waited = 0
	while #results < 3 and waited < 500 do
		skynet.sleep(1)
		waited = waited + 1
	end
	for i = 1, 3 do
		local r = results[i]
		if T.check(r, "held call " .. i .. " finished") then
			T.same(r[1], false, "held call " .. i .. " fails")
		end
	end

	-- skynet.term: pending calls to a service fail as if it had died
	local slow = skynet.newservice "core_echo"
	local term_result
	skynet.fork(function()
		term_result = table.pack(pcall(skynet.call, slow, "lua", "hold"))
	end)
	skynet.yield()
	skynet.term(slow)
	skynet.yield()
	if T.check(term_result, "term ends the pending call") then
		T.same(term_result[1], false, "term makes the call fail")
	end
	T.same(skynet.call(slow, "lua", "release", "late"), 1, "the held request is still there")

	-- a service whose start function raises: newservice raises
	T.raises(nil, "newservice of a failing service", skynet.newservice, "core_badstart")
	T.raises(nil, "newservice of a missing service", skynet.newservice, "core_no_such_service")

	-- calling an unknown protocol
	T.raises("Unknown protocol", "unknown protocol", skynet.call, echo, "nope")
end)

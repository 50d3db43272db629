-- The "debug" protocol every Lua service answers.

local skynet = require "skynet"
local debugproto = require "skynet.debug"
local T = require "testcase" "core_debug"

debugproto.reg_debugcmd("CORE_EXTRA", function(x)
	skynet.retpack("extra", x)
end)

local injectrun = require "skynet.injectcode"

local function probe_locals(a)
	local b = a * 2
	local ok, r = injectrun("b = b + 1 return a + b", nil, 0)
	return ok, r, b
end

local counter = 5
local function probe_upvalue()
	local ok = injectrun "counter = counter + 1"
	return ok, counter
end

local function probe_varargs(...)
	-- not a tail call: the frame must stay on the stack
	local r = table.pack(injectrun("return select('#', ...), ...", nil, 0))
	return table.unpack(r, 1, r.n)
end

T.run(function()
	local me = skynet.self()

	-- injectcode runs code in the scope of a stack frame
	T.same_list(table.pack(probe_locals(10)), table.pack(true, 31, 21), "injectcode reads and writes locals")
	T.same_list(table.pack(probe_upvalue()), table.pack(true, 6), "injectcode writes upvalues")
	T.same_list(table.pack(probe_varargs("x", nil)), table.pack(true, 2, "x", nil), "injectcode sees varargs")
	T.same(injectrun("syntax error here", nil, 0), false, "injectcode syntax error")
	T.same_list(table.pack(injectrun("return 1", nil, 1000)), table.pack(false, "Invalid level"), "injectcode bad level")

	-- the upvalues debug tools look for (skynet.remotedebug, skynet.inject)
	local function has_upvalue(f, name)
		for i = 1, math.huge do
			local n = debug.getupvalue(f, i)
			if n == nil then
				return false
			elseif n == name then
				return true
			end
		end
	end
	T.check(has_upvalue(skynet.dispatch_message, "raw_dispatch_message"), "dispatch_message has raw_dispatch_message")
	T.check(has_upvalue(skynet.register_protocol, "proto"), "register_protocol has proto")
	local echo = skynet.newservice "core_echo"

	local kb = skynet.call(echo, "debug", "MEM")
	T.check(type(kb) == "number" and kb > 0, "MEM gives Kb")

	-- GC answers nothing: it is sent
	skynet.send(echo, "debug", "GC")
	T.check(type(skynet.call(echo, "debug", "MEM")) == "number", "MEM after GC")

	local stat = skynet.call(echo, "debug", "STAT")
	T.same(type(stat), "table", "STAT")
	T.same(type(stat.task), "number", "STAT task")
	T.same(type(stat.mqlen), "number", "STAT mqlen")
	T.check(type(stat.message) == "number" and stat.message > 0, "STAT message")

	-- TASK lists suspended coroutines with tracebacks
	skynet.fork(function()
		skynet.call(echo, "lua", "hold")
	end)
	skynet.yield()
	local tasks = skynet.call(echo, "debug", "TASK")
	T.same(type(tasks), "table", "TASK")
	local mine = {}
	skynet.task(mine)
	local held_session
	for k in pairs(mine) do
		held_session = tonumber(k:match "session: (%d+)")
	end
	T.check(held_session, "our pending call shows in task()")
	T.same(type(skynet.call(echo, "debug", "UNIQTASK")), "table", "UNIQTASK")
	T.same(skynet.call(echo, "debug", "TASK", 99999), "No session", "TASK of a session")
	T.same(skynet.call(echo, "lua", "release", "r"), 1, "release the held call")

	-- INFO uses the service's info_func
	local info = skynet.call(echo, "debug", "INFO", "p", 1)
	if T.same(type(info), "table", "INFO") then
		T.same(info.info, "echo", "INFO result")
		T.same_list(info.args, table.pack("p", 1), "INFO arguments")
	end
	T.same(skynet.call(me, "debug", "INFO"), nil, "INFO without info_func")

	-- RUN injects code; it sees the protocol tables and its print is collected
	local ok, out = skynet.call(echo, "debug", "RUN", [[
		local args = ...
		print("hello", args, nil)
		print(type(_P.lua), type(_U.proto))
		return 1
	]], nil, "argument")
	T.same(ok, true, "RUN ok")
	T.same(out, "hello\targument\tnil\ntable\ttable", "RUN output")
	ok, out = skynet.call(echo, "debug", "RUN", "error 'core_debug injected'")
	T.same(ok, false, "RUN error")
	T.check(tostring(out):find("core_debug injected", 1, true), "RUN error text")
	ok, out = skynet.call(echo, "debug", "RUN", "this is not lua")
	T.same(ok, false, "RUN syntax error")
	-- RUN can reach the service's state: the dispatch's upvalues (core_echo's `stored`)
	skynet.send(echo, "lua", "store", "secret", "s3")
	ok, out = skynet.call(echo, "debug", "RUN", "print(_U.stored and _U.stored.secret)")
	T.same(out, "s3", "RUN sees upvalue tables")

	-- PING answers nothing; SUPPORT tells the protocols
	T.same(select("#", skynet.call(echo, "debug", "PING")), 0, "PING")
	T.same(skynet.call(echo, "debug", "SUPPORT", "lua"), true, "SUPPORT lua")
	T.same(skynet.call(echo, "debug", "SUPPORT", "nothing"), false, "SUPPORT unknown")
	T.same_list(table.pack(skynet.call(me, "debug", "CORE_EXTRA", 5)), table.pack("extra", 5), "registered debug command")

	-- TRACELOG switches protocol tracing
	skynet.call(echo, "debug", "TRACELOG", "lua", true)
	T.same(skynet.call(echo, "lua", "echo", "traced"), "traced", "call with tracing on")
	skynet.call(echo, "debug", "TRACELOG", nil)

	-- KILLTASK ends a suspended coroutine of the target
	skynet.fork(function()
		pcall(skynet.call, echo, "lua", "sleep_echo", 100000)
	end)
	skynet.yield()
	local before = skynet.call(echo, "debug", "STAT").task
	local tasks2 = skynet.call(echo, "debug", "TASK")
	local name
	for k in pairs(tasks2) do
		if not k:find "BREAK" then
			name = k:match "^(thread: 0x%x+)"
		end
	end
	if T.check(name, "found a task to kill") then
		T.same(select("#", skynet.call(echo, "debug", "KILLTASK", name)), 0, "KILLTASK found")
		T.same(skynet.call(echo, "debug", "STAT").task, before - 1, "one task less")
	end
	T.same(skynet.call(echo, "debug", "KILLTASK", "thread: 0xnothing"), "Not found", "KILLTASK unknown")

	-- LINK never answers until the target exits; EXIT makes it exit
	local linked
	skynet.fork(function()
		linked = table.pack(pcall(skynet.call, echo, "debug", "LINK"))
	end)
	skynet.yield()
	T.same(linked, nil, "LINK pending")
	skynet.send(echo, "debug", "EXIT")
	while not linked do
		skynet.sleep(1)
	end
	T.same(linked[1], false, "LINK fails when the target exits")
	T.raises(nil, "EXIT ended the service", skynet.call, echo, "debug", "PING")

	-- TERM: the target fails its calls to a service
	local a = skynet.newservice "core_echo"
	local b = skynet.newservice "core_echo"
	local res
	skynet.fork(function()
		res = table.pack(pcall(skynet.call, a, "lua", "call", b, "hold"))
	end)
	skynet.sleep(1)
	skynet.send(a, "debug", "TERM", b)
	while not res do
		skynet.sleep(1)
	end
	T.same(res[1], false, "TERM fails the pending call")
end)

-- send/call/ret/response and the protocol API.

local skynet = require "skynet"
local T = require "testcase" "core_call"

local selfcmd = {}

function selfcmd.ret_result()
	-- a real call: ret answers and reports true
	local ok = skynet.ret(skynet.pack "answered")
	selfcmd.last_ret = ok
end

function selfcmd.ret_on_send()
	-- a send has session 0: ret answers nobody and reports false
	selfcmd.send_ret = skynet.ret(skynet.pack "nobody")
	selfcmd.send_done = true
end

function selfcmd.context()
	local session, source = skynet.context()
	skynet.retpack(session, source)
end

function selfcmd.ignore()
	skynet.ignoreret()
	selfcmd.after_ignore = select(2, pcall(skynet.ret))
	-- still answer, through a response made before? no: a response needs a session too
	selfcmd.response_after_ignore = select(2, pcall(skynet.response))
end

function selfcmd.later(value)
	local respond = skynet.response()
	selfcmd.test_before = respond "TEST"
	skynet.fork(function()
		skynet.sleep(1)
		selfcmd.first = respond(true, value)
		selfcmd.test_after = respond "TEST"
		selfcmd.second_err = select(2, pcall(respond, true, "again"))
	end)
end

function selfcmd.refuse()
	local respond = skynet.response()
	respond(false)
end

function selfcmd.custom_pack()
	local respond = skynet.response(function(...)
		return skynet.pack("wrapped", ...)
	end)
	respond(true, "inner")
end

skynet.dispatch("lua", function(_, _, name, ...)
	local f = assert(selfcmd[name], name)
	f(...)
end)

-- a custom protocol, answered by its own dispatch
skynet.register_protocol {
	name = "upper",
	id = 100,
	pack = function(s) return s end,
	unpack = skynet.tostring,
	dispatch = function(_, _, text)
		skynet.ret(string.upper(text))
	end,
}

T.run(function()
	local me = skynet.self()
	local echo = skynet.newservice "core_echo"

	-- call: several values with nils in between survive the round trip
	T.same_list(table.pack(skynet.call(echo, "lua", "echo", 1, nil, "x", nil)), table.pack(1, nil, "x", nil), "call echo")
	T.same_list(table.pack(skynet.call(echo, "lua", "echo")), table.pack(), "call with nothing")
	local big = string.rep("z", 100000)
	T.same(skynet.call(echo, "lua", "echo", big), big, "large payload")

	-- send: no answer, but ordered before the following call
	T.same(skynet.send(echo, "lua", "store", "k", "v1"), 0, "send returns session 0")
	T.same(skynet.call(echo, "lua", "fetch", "k"), "v1", "send then call")

	-- names work as addresses
	skynet.name(".core_echo", echo)
	T.same(skynet.call(".core_echo", "lua", "echo", "by name"), "by name", "call by local name")

	-- rawsend / rawcall carry packed messages as they are
	skynet.rawsend(echo, "lua", skynet.pack("store", "k", "v2"))
	local msg, sz = skynet.rawcall(echo, "lua", skynet.pack("fetch", "k"))
	T.same(type(sz), "number", "rawcall gives msg, sz")
	T.same(skynet.unpack(msg, sz), "v2", "rawcall answer")

	-- redirect: a message with a chosen source
	skynet.redirect(echo, me, "lua", 0, skynet.pack("store", "k", "v3"))
	T.same(skynet.call(echo, "lua", "fetch", "k"), "v3", "redirect")

	-- ret / retpack / context on our own service
	T.same(skynet.call(me, "lua", "ret_result"), "answered", "ret")
	T.same(selfcmd.last_ret, true, "ret returns true for a call")
	skynet.send(me, "lua", "ret_on_send")
	while not selfcmd.send_done do
		skynet.yield()
	end
	T.same(selfcmd.send_ret, false, "ret returns false for a send")
	local session, source = skynet.call(me, "lua", "context")
	T.same(source, me, "context source")
	T.check(type(session) == "number" and session > 0, "context session")

	-- ignoreret: no session left to answer
	local co = skynet.fork(function()
		skynet.call(me, "lua", "ignore")
	end)
	while not selfcmd.after_ignore do
		skynet.yield()
	end
	T.check(tostring(selfcmd.after_ignore):find("No session", 1, true), "ret after ignoreret: " .. tostring(selfcmd.after_ignore))
	T.check(tostring(selfcmd.response_after_ignore):find("no session", 1, true), "response after ignoreret")
	T.check(skynet.killthread(co) == co, "killthread of the abandoned call")

	-- response: answered later, "TEST" reports whether it is still usable
	T.same(skynet.call(me, "lua", "later", 42), 42, "deferred response")
	T.same(selfcmd.test_before, true, "TEST before answering")
	T.same(selfcmd.first, true, "first response succeeds")
	T.same(selfcmd.test_after, false, "TEST after answering")
	T.check(tostring(selfcmd.second_err):find("Can't response more than once", 1, true), "double response: " .. tostring(selfcmd.second_err))
	T.raises("call failed", "response(false)", skynet.call, me, "lua", "refuse")
	T.same_list(table.pack(skynet.call(me, "lua", "custom_pack")), table.pack("wrapped", "inner"), "response with a pack function")

	-- custom protocols
	T.same(skynet.call(me, "upper", "shout"), "SHOUT", "custom protocol call")
	T.raises(nil, "duplicate protocol name", skynet.register_protocol, { name = "upper", id = 101 })
	T.raises(nil, "duplicate protocol id", skynet.register_protocol, { name = "other", id = 100 })
	T.raises(nil, "protocol id out of range", skynet.register_protocol, { name = "big", id = 256 })
	local upper = skynet.dispatch "upper"
	T.same(type(upper), "function", "dispatch(name) returns the handler")
	local prev = skynet.dispatch("upper", function(_, _, text)
		skynet.ret(string.lower(text))
	end)
	T.same(prev, upper, "dispatch returns the previous handler")
	T.same(skynet.call(me, "upper", "QUIET"), "quiet", "replaced handler")
	T.same(skynet.dispatch "nonexistent", nil, "dispatch of an unknown protocol")

	-- the unknown request / response hooks
	skynet.register_protocol { name = "p77", id = 77, pack = function(s) return s end, unpack = skynet.tostring }
	skynet.send(echo, "p77", "mystery")
	skynet.redirect(echo, me, "response", 123456, "stray")
	local req, resp = skynet.call(echo, "lua", "unknown_log")
	T.same(req, "77:mystery", "dispatch_unknown_request")
	T.same(resp, "123456:stray", "dispatch_unknown_response")

	-- a call to a service that answers by calling another (nested calls)
	T.same(skynet.call(echo, "lua", "call", me, "ret_result"), "answered", "nested call")

	-- select over several calls: answers in arrival order, unreachable ones first
	local slow = skynet.newservice "core_echo"
	local req = skynet.request()
	req:add { echo, "lua", "sleep_echo", 1, "quick" }
	req { slow, "lua", "sleep_echo", 100000, "never" }
	req:add { 0x00ffffff, "lua", "echo" }
	local seen = {}
	for r, resp in req:select(50) do
		if resp then
			seen[#seen + 1] = resp[1]
		else
			seen[#seen + 1] = "unreachable:" .. tostring(r[1] == 0x00ffffff)
		end
	end
	T.same(T.joined(seen), "unreachable:true quick", "select with a timeout")
	T.same(req.timeout, true, "select timed out")
	local sum = 0
	for _, resp in skynet.request { echo, "lua", "echo", 1 } { echo, "lua", "echo", 2 }:select() do
		sum = sum + resp[1]
	end
	T.same(sum, 3, "select without a timeout")

	-- genid: fresh sessions
	local a, b = skynet.genid(), skynet.genid()
	T.check(type(a) == "number" and b > a, "genid increases")
end)

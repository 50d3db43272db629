-- skynet.core, called directly: sessions, commands, addresses, sending, the
-- callback (normal and forward mode), time, and the log lines of error/trace
-- (the Rust side checks those).
local skynet = require "skynet"
require "skynet.manager"
local c = require "skynet.core"

local NAME = "core_c_api"
local T = require "testcase" (NAME)
local PTYPE_TEXT = skynet.PTYPE_TEXT
local mode = ...

-- A service driven by a raw callback (launched with "core_c_api rawcb"): it answers each
-- text message with a text line describing what it saw.
if mode == "rawcb" then
	local main_thread = coroutine.running()
	local function describe(prefix, msg, sz, session, source)
		local co, ismain = coroutine.running()
		local text = c.tostring(msg, sz)
		local reply = string.format("%s own_thread=%s main=%s text=%s session=%d",
			prefix, tostring(co ~= main_thread), tostring(ismain), text, session)
		c.send(source, PTYPE_TEXT, 0, reply)
		return text
	end
	-- forward mode: the core leaves the message to us; hand the same buffer back
	local function forward(ptype, msg, sz, session, source)
		c.redirect(source, skynet.self(), PTYPE_TEXT, session, msg, sz)
	end
	local function second(ptype, msg, sz, session, source)
		if describe("second", msg, sz, session, source) == "forward" then
			c.callback(forward, true)
		end
	end
	local function first(ptype, msg, sz, session, source)
		local text = describe("first", msg, sz, session, source)
		if text == "error" then
			error "rawcb deliberate error"
		elseif text == "switch" then
			c.callback(second)	-- replaced while it runs
		end
	end
	c.callback(first)
	return
end

local inbox = {}
local waiting

local function receive()
	while #inbox == 0 do
		waiting = coroutine.running()
		skynet.wait(waiting)
	end
	return table.remove(inbox, 1)
end

skynet.register_protocol {
	name = "text",
	id = PTYPE_TEXT,
	unpack = skynet.tostring,
	dispatch = function(session, source, msg)
		if msg == "ping" then
			skynet.ret("pong")
			return
		end
		skynet.ignoreret()
		inbox[#inbox + 1] = { session = session, source = source, msg = msg }
		if waiting then
			local w = waiting
			waiting = nil
			skynet.wakeup(w)
		end
	end,
}

local function nothing(what, ...)
	assert(select("#", ...) == 0, what .. ": expected no result")
end

local function run()
	local self = skynet.self()

	-- the module needs snlua's registry.skynet_context
	local open = package.loadlib(assert(package.searchpath("skynet", package.cpath)), "luaopen_skynet_core")
	assert(type(open) == "function", "luaopen_skynet_core")
	local registry = debug.getregistry()
	local ctx = registry.skynet_context
	registry.skynet_context = nil
	local ok, err = pcall(open)
	registry.skynet_context = ctx
	assert(not ok and tostring(err):find("Init skynet context first", 1, true), "without a context")
	assert(type(open().send) == "function", "with a context")

	-- sessions
	local s1, s2 = c.genid(), c.genid()
	assert(math.type(s1) == "integer" and s1 > 0 and s2 > s1, "genid")

	-- commands
	assert(c.command("REG") == string.format(":%x", self), "REG")
	assert(c.addresscommand("REG") == self, "addresscommand REG")
	nothing("unknown command", c.command("NO_SUCH_COMMAND"))
	nothing("unknown addresscommand", c.addresscommand("NO_SUCH_COMMAND"))
	nothing("QUERY of an unknown name", c.command("QUERY", ".core_c_api_nobody"))
	assert(c.command("REG", ".core_c_api") == "core_c_api", "REG .name")
	assert(c.addresscommand("QUERY", ".core_c_api") == self, "QUERY .name")
	assert(c.intcommand("STARTTIME") == skynet.starttime(), "STARTTIME")
	assert(math.type(c.intcommand("STAT", "mqlen")) == "integer", "STAT mqlen")
	assert(math.type(c.intcommand("STAT", "cpu")) == "float", "STAT cpu is a real")
	assert(c.intcommand("STAT", "no_such_stat") == 0, "an empty result reads as 0")
	nothing("unknown intcommand", c.intcommand("NO_SUCH_COMMAND", 5))

	-- LAUNCH answers ":%08X"; addresscommand reads upper-case hex too
	local raw = c.addresscommand("LAUNCH", "snlua core_c_api rawcb")
	assert(math.type(raw) == "integer" and raw ~= self, "LAUNCH")
	assert(raw & 0xff000000 == self & 0xff000000, "launched on this node")

	-- harbor: the high byte, and whether it is another node's
	local h, remote = c.harbor(self)
	assert(h == self >> 24 and remote == false, "harbor of self")
	local other = (((self >> 24) % 255) + 1) << 24 | 1
	h, remote = c.harbor(other)
	assert(h == other >> 24 and remote == true, "harbor of another node")

	-- messages as values
	local msg, sz = c.pack("abc", 1)
	assert(c.tostring(msg, sz) == c.packstring("abc", 1), "tostring")
	assert(c.tostring(msg, 0) == "", "tostring of 0 bytes")
	nothing("tostring(nil)", c.tostring(nil))
	c.trash(msg, sz)
	c.trash("strings are left alone", 3)
	T.raises("skynet.trash invalid param number", "trash of a number", c.trash, 1, 2)

	-- time
	local now, hpc = c.now(), c.hpc()
	assert(math.type(now) == "integer" and math.type(hpc) == "integer", "time types")
	skynet.sleep(2)
	assert(c.now() >= now + 2, "now advances in centiseconds")
	assert(c.hpc() > hpc, "hpc advances")

	-- send: errors and unreachable destinations
	T.raises("Invalid service address 0", "address 0", c.send, 0, PTYPE_TEXT, 0, "x")
	T.raises("must be a string or number", "table address", c.send, {}, PTYPE_TEXT, 0, "x")
	T.raises("invalid param table", "table message", c.send, self, PTYPE_TEXT, 0, {})
	T.raises("invalid param nil", "nil message", c.send, self, PTYPE_TEXT, 0, nil)
	local nobody = (self & 0xff000000) | 0xfffff0
	nothing("send to a dead handle", c.send(nobody, PTYPE_TEXT, 0, "lost"))
	nothing("send to an unknown name", c.send(".core_c_api_nobody", PTYPE_TEXT, 0, "lost"))
	local lost, lostsz = c.pack("lost")
	nothing("pointer to a dead handle", c.send(nobody, PTYPE_TEXT, 0, lost, lostsz))

	-- send: what arrives
	assert(c.send(self, PTYPE_TEXT, 0, "plain") == 0, "session 0 returned")
	local m = receive()
	assert(m.msg == "plain" and m.session == 0 and m.source == self, "plain text")
	local session = c.send(self, PTYPE_TEXT, nil, "with session")
	assert(math.type(session) == "integer" and session > 0, "allocated session")
	m = receive()
	assert(m.msg == "with session" and m.session == session, "message carries the session")
	c.send(".core_c_api", PTYPE_TEXT, 0, "")
	m = receive()
	assert(m.msg == "", "empty message by name")
	local p, psz = c.pack({ 1, 2, 3 })
	c.send(self, PTYPE_TEXT, 0, p, psz)
	m = receive()
	assert(m.msg == c.packstring({ 1, 2, 3 }), "pointer message")
	c.redirect(self, 0x12345, PTYPE_TEXT, 7, "redirected")
	m = receive()
	assert(m.msg == "redirected" and m.source == 0x12345 and m.session == 7, "redirect")
	assert(skynet.tostring(skynet.rawcall(self, "text", "ping")) == "pong", "call and response")

	-- the callback: own thread, errors logged, replaced from inside, forward mode
	c.send(raw, PTYPE_TEXT, 0, "hello")
	m = receive()
	assert(m.msg == "first own_thread=true main=false text=hello session=0", "rawcb: " .. m.msg)
	c.send(raw, PTYPE_TEXT, 0, "error")
	assert(receive().msg:find("text=error", 1, true), "rawcb error reply")
	c.send(raw, PTYPE_TEXT, 0, "still alive")
	assert(receive().msg:find("first .* text=still alive"), "rawcb survives an error")
	c.send(raw, PTYPE_TEXT, 0, "switch")
	assert(receive().msg:find("first .* text=switch"), "rawcb switch")
	collectgarbage()
	c.send(raw, PTYPE_TEXT, 0, "after")
	assert(receive().msg:find("second own_thread=true main=false text=after", 1, true), "rawcb second callback")

	-- trace and error output (checked by the Rust test)
	c.error("core_c_api", 42, nil, true)
	c.error()
	c.trace("core_c_tag", "plain")
	c.trace("core_c_tag", "located", 1)
	local co = coroutine.create(function() coroutine.yield() end)
	coroutine.resume(co)
	c.trace("core_c_tag", "in a coroutine", co, 1)

	-- the callback reports a failing dispatch (checked by the Rust test)
	skynet.register_protocol {
		name = "client",
		id = skynet.PTYPE_CLIENT,
		unpack = skynet.tostring,
		dispatch = function(_, _, text)
			error("core_c_api dispatch failure: " .. text)
		end,
	}
	c.send(self, skynet.PTYPE_CLIENT, 0, "boom")
	c.send(self, PTYPE_TEXT, 0, "after boom")
	assert(receive().msg == "after boom", "messages to self arrive in order")

	-- forward mode last: the raw service then echoes each message's own buffer
	c.send(raw, PTYPE_TEXT, 0, "forward")
	assert(receive().msg:find("second .* text=forward"), "rawcb forward switch")
	for i = 1, 20 do
		local text = "echo " .. i .. string.rep("!", i * 100)
		c.send(raw, PTYPE_TEXT, 0, text)
		m = receive()
		assert(m.msg == text and m.source == raw, "forwarded buffer " .. i)
	end
	skynet.kill(raw)
end

T.run(run)

-- skynet.memory and skynet.debugchannel.
local skynet = require "skynet"
local memory = require "skynet.memory"
local debugchannel = require "skynet.debugchannel"

local NAME = "core_c_misc"
local T = require "testcase" (NAME)

local function check_memory()
	for _, name in ipairs { "total", "block", "current" } do
		local v = memory[name]()
		assert(math.type(v) == "integer" and v >= 0, "memory." .. name)
	end
	-- a held C buffer shows up in this service's count (when the core accounts memory)
	local before = memory.current()
	local msg, sz = skynet.pack(string.rep("m", 1 << 20))
	local during = memory.current()
	skynet.trash(msg, sz)
	assert(before == 0 or during >= before + sz, "current counts a held buffer")
	local info = memory.info()
	assert(type(info) == "table", "memory.info")
	for handle, bytes in pairs(info) do
		assert(math.type(handle) == "integer" and math.type(bytes) == "integer", "memory.info entries")
	end
	local stats = memory.jestat()
	for _, key in ipairs { "stats.allocated", "stats.resident", "stats.retained", "stats.mapped", "stats.active" } do
		assert(math.type(stats[key]) == "integer", "jestat " .. key)
	end
	assert(math.type(memory.mallctl("stats.allocated")) == "integer", "mallctl")
	assert(type(memory.profactive()) == "boolean", "profactive")
	memory.dump()
	T.raises("string expected", "mallctl without a name", memory.mallctl)
end

local function check_channel()
	local channel, handle = debugchannel.create()
	assert(type(handle) == "userdata", "create gives a pointer")
	local reader = debugchannel.connect(handle)
	T.raises("new channel failed", "second connection", debugchannel.connect, handle)
	T.raises("Invalid channel pointer", "connect to nothing", debugchannel.connect, nil)
	assert(reader:read() == nil, "empty channel")
	channel:write("first")
	channel:write("")
	channel:write("third\0with nul")
	assert(reader:read() == "first", "first in, first out")
	assert(reader:read() == "", "empty command")
	assert(reader:read() == "third\0with nul", "binary command")
	assert(reader:read(0) == nil, "drained")
	-- either side may write; the other end still works after one side is released
	reader:write("back")
	debugchannel.release(reader)
	debugchannel.release(reader)	-- a released box is inert
	assert(channel:read() == "back", "read after the peer released")
	T.raises("released", "read on a released box", reader.read, reader)
	T.raises("string expected", "write a table", channel.write, channel, {})
	channel = nil
	collectgarbage()
end

local function check_hook()
	-- a hook returning true yields the hooked coroutine; the events reach the hook
	local events = {}
	local co = coroutine.create(function(x)
		local y = x + 1
		y = y * 2
		return y
	end)
	debugchannel.sethook(co, function(event, line)
		events[#events + 1] = event
		return event == "line"
	end, "l")
	local yields = 0
	local ok, result = coroutine.resume(co, 1)
	while coroutine.status(co) == "suspended" do
		assert(ok and result == nil, "a hook yield gives no values")
		yields = yields + 1
		ok, result = coroutine.resume(co)
	end
	assert(ok and result == 4, "the coroutine finishes normally")
	assert(yields >= 3, "one yield per line")
	assert(#events == yields and events[1] == "line", "line events")
	-- clearing the hook
	local co2 = coroutine.create(function() return "plain" end)
	debugchannel.sethook(co2, function() error "not cleared" end, "l")
	debugchannel.sethook(co2)
	assert(select(2, coroutine.resume(co2)) == "plain", "hook cleared")
	T.raises("function expected", "bad hook", debugchannel.sethook, co2, 1, "l")
end

local function run()
	check_memory()
	check_channel()
	check_hook()
end

T.run(run)

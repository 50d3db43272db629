-- skynet.stm: a writer publishes snapshots, readers (here and in another service)
-- see each new one once, and keep the last after the writer is gone.
local skynet = require "skynet"
require "skynet.manager"
local stm = require "skynet.stm"

local NAME = "core_c_stm"
local T = require "testcase" (NAME)
local mode = ...

local function decode(msg, sz)
	return skynet.unpack(msg, sz)
end

-- the reader service: "attach" takes a copy pointer, "read" reports what is new
if mode == "reader" then
	local reader
	skynet.start(function()
		skynet.dispatch("lua", function(_, _, cmd, ptr)
			if cmd == "attach" then
				reader = stm.newcopy(ptr)
				skynet.ret(skynet.pack(true))
			elseif cmd == "read" then
				skynet.ret(skynet.pack(reader(decode)))
			elseif cmd == "drop" then
				reader = nil
				collectgarbage()
				skynet.ret(skynet.pack(true))
			end
		end)
	end)
	return
end

local function run()
	-- a writer from a packed buffer (taken over) and a local reader
	local writer = stm.new(skynet.pack("v1", { n = 1 }))
	local reader = stm.newcopy(stm.copy(writer))
	local ok, s, t = reader(decode)
	assert(ok == true and s == "v1" and t.n == 1, "first read")
	assert(reader(decode) == false, "nothing new")

	-- the callback gets (msg, sz, ud) and its results come back after true
	writer(skynet.pack("v2"))
	local got_ud
	local r1, r2, r3 = reader(function(msg, sz, ud)
		got_ud = ud
		return skynet.unpack(msg, sz), "extra"
	end, "my ud")
	assert(r1 == true and r2 == "v2" and r3 == "extra" and got_ud == "my ud", "read with ud")

	-- string payloads are copied
	writer("raw bytes")
	ok, s = reader(function(msg, sz) return skynet.tostring(msg, sz) end)
	assert(ok and s == "raw bytes", "string snapshot")
	local from_string = stm.new("initial")
	local r_string = stm.newcopy(stm.copy(from_string))
	ok, s = r_string(function(msg, sz) return skynet.tostring(msg, sz) end)
	assert(ok and s == "initial", "writer from a string")

	-- only the newest snapshot is seen
	for i = 1, 10 do
		writer(skynet.pack(i))
	end
	ok, s = reader(decode)
	assert(ok and s == 10, "newest wins")

	-- another service reads the same object
	local remote = skynet.newservice(SERVICE_NAME, "reader")
	assert(skynet.call(remote, "lua", "attach", stm.copy(writer)), "attach")
	local rok, rv = skynet.call(remote, "lua", "read")
	assert(rok == true and rv == 10, "remote first read")
	assert(skynet.call(remote, "lua", "read") == false, "remote nothing new")
	writer(skynet.pack("shared"))
	rok, rv = skynet.call(remote, "lua", "read")
	assert(rok == true and rv == "shared", "remote sees the update")
	ok, s = reader(decode)
	assert(ok and s == "shared", "local sees the update too")

	-- the writer goes away: readers see nothing new, ever
	writer = nil
	collectgarbage()
	collectgarbage()
	assert(reader(decode) == false, "writer gone")
	assert(reader(decode) == false, "writer still gone")
	assert(skynet.call(remote, "lua", "read") == false, "remote: writer gone")
	assert(skynet.call(remote, "lua", "drop"), "remote drops its reader")
	skynet.kill(remote)

	-- argument checks
	T.raises("stm writer", "copy of a non-writer", stm.copy, {})
	T.raises("stm writer", "copy of a reader", stm.copy, reader)
	T.raises("userdata expected", "newcopy of nil", stm.newcopy, nil)
	T.raises("function expected", "read without a function", reader, 1)
	T.raises("string expected", "new from a number table", stm.new, {})

	reader = nil
	r_string = nil
	from_string = nil
	collectgarbage()
end

T.run(run)

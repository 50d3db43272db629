-- skynet.multicast.core's reference-counted packages, directly and through
-- skynet.multicast (multicastd) with subscribers in two services.
local skynet = require "skynet"
require "skynet.manager"
local mc = require "skynet.multicast.core"
local multicast = require "skynet.multicast"

local NAME = "core_c_multicast"
local T = require "testcase" (NAME)
local mode, channel_id = ...

-- a subscriber service: counts what it receives, reports on "count"
if mode == "sub" then
	local received = {}
	skynet.start(function()
		local ch = multicast.new {
			channel = tonumber(channel_id),
			dispatch = function(_, _, ...)
				received[#received + 1] = table.concat({ ... }, ",")
			end,
		}
		ch:subscribe()
		skynet.dispatch("lua", function(_, _, cmd)
			assert(cmd == "received")
			skynet.ret(skynet.pack(table.concat(received, ";")))
		end)
	end)
	return
end

local PTR = string.len(string.pack("T", 0))

local function run()
	-- channel ids step by 256 and stay within 31 bits
	assert(mc.nextid(0) == 256 and mc.nextid(257) == 513, "nextid")
	assert(mc.nextid(0x7fffff01) == 1, "nextid wraps")

	-- pack: a cell holding the package address
	local msg, sz = skynet.pack("hello", 42)
	local cell, csz = mc.pack(msg, sz)
	assert(type(cell) == "userdata" and csz == PTR, "pack")
	local pack, m2, s2 = mc.unpack(cell, csz)
	assert(m2 == msg and s2 == sz, "unpack gives the message back")
	local a, b = skynet.unpack(m2, s2)
	assert(a == "hello" and b == 42, "payload intact")
	T.raises("Invalid multicast package size 4", "wrong cell size", mc.unpack, cell, 4)

	-- bind to two receivers: the package survives the first close, not the second
	assert(mc.bind(cell, 2) == pack, "bind returns the package")
	mc.close(pack)
	mc.close(pack)

	-- remote: unwrap an unbound package into its message
	local rcell = mc.pack(skynet.pack("far away"))
	local rmsg, rsz = mc.remote(rcell)
	assert(skynet.unpack(rmsg, rsz) == "far away", "remote")
	skynet.trash(rmsg, rsz)

	-- packremote copies: the original can go at once
	local orig, osz = skynet.pack("copied")
	local ccell = mc.packremote(orig, osz)
	skynet.trash(orig, osz)
	local cpack, cmsg, csz2 = mc.unpack(ccell, PTR)
	assert(skynet.unpack(cmsg, csz2) == "copied", "packremote copy")
	mc.bind(ccell, 1)
	mc.close(cpack)

	T.raises("Size should be 32bit integer", "size overflow", mc.pack, msg, 1 << 40)
	T.raises("Invalid multicast package", "unpack of nothing", mc.unpack, nil, PTR)

	-- through multicastd: two subscriber services and this one
	local ch = multicast.new()
	local here = {}
	local done
	local mine = multicast.new {
		channel = ch.channel,
		dispatch = function(_, _, ...)
			here[#here + 1] = table.concat({ ... }, ",")
			if #here == 3 and done then
				skynet.wakeup(done)
			end
		end,
	}
	mine:subscribe()
	local subs = {
		skynet.newservice(SERVICE_NAME, "sub", ch.channel),
		skynet.newservice(SERVICE_NAME, "sub", ch.channel),
	}
	ch:publish("one", 1)
	ch:publish("two", 2)
	ch:publish(string.rep("big", 1000), 3)
	if #here < 3 then
		done = coroutine.running()
		skynet.wait(done)
	end
	local want = "one,1;two,2;" .. string.rep("big", 1000) .. ",3"
	assert(table.concat(here, ";") == want, "local subscriber")
	for _, s in ipairs(subs) do
		-- publish returned after multicastd queued the message for every subscriber,
		-- so this request is queued behind them
		local got = skynet.call(s, "lua", "received")
		assert(got == want, "subscriber service got " .. got)
		skynet.kill(s)
	end
	mine:unsubscribe()
	ch:delete()
end

T.run(run)

-- skynet.pack's encoding, byte for byte, against samples derived by hand from the
-- format: header = type | cookie << 3, then little-endian payload.
local skynet = require "skynet"

local NAME = "pack_bytes"
local T = require "testcase" (NAME)

local function hex(s)
	return (s:gsub(".", function(ch) return string.format("%02x ", ch:byte()) end))
end

local function bytes(...)
	return string.char(...)
end

-- skynet.pack (pointer + size) and skynet.packstring must agree
local function packed(...)
	local s = skynet.packstring(...)
	local msg, sz = skynet.pack(...)
	local copy = skynet.tostring(msg, sz)
	skynet.trash(msg, sz)
	assert(copy == s, "pack and packstring differ")
	return s
end

local function check(what, want, ...)
	local got = packed(...)
	if got ~= want then	-- hex() only for a mismatch: some samples are 64K long
		T.check(false, string.format("%s: packed as [%s], want [%s]", what, hex(got), hex(want)))
	end
end

-- an integer in n little-endian bytes, two's complement
local function le(v, n)
	local t = {}
	for i = 1, n do
		t[i] = string.char(v & 0xff)
		v = v >> 8
	end
	return table.concat(t)
end

local function run()
	-- nil and booleans
	check("nil", bytes(0x00), nil)
	check("false", bytes(0x01), false)
	check("true", bytes(0x09), true)

	-- integers pick the smallest width; negatives in int32 range use the signed dword
	check("0", bytes(0x02), 0)
	check("1", bytes(0x0a, 0x01), 1)
	check("255", bytes(0x0a, 0xff), 255)
	check("256", bytes(0x12, 0x00, 0x01), 256)
	check("65535", bytes(0x12, 0xff, 0xff), 65535)
	check("65536", bytes(0x22, 0x00, 0x00, 0x01, 0x00), 65536)
	check("2^31-1", bytes(0x22, 0xff, 0xff, 0xff, 0x7f), 0x7fffffff)
	check("-1", bytes(0x22, 0xff, 0xff, 0xff, 0xff), -1)
	check("-256", bytes(0x22, 0x00, 0xff, 0xff, 0xff), -256)
	check("-2^31", bytes(0x22, 0x00, 0x00, 0x00, 0x80), -0x80000000)
	check("2^31", bytes(0x32, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00), 0x80000000)
	check("-2^31-1", bytes(0x32, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff), -0x80000001)
	check("maxinteger", bytes(0x32, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), math.maxinteger)
	check("mininteger", bytes(0x32, 0, 0, 0, 0, 0, 0, 0, 0x80), math.mininteger)

	-- floats are always 8-byte IEEE doubles, integral or not
	check("1.0", bytes(0x42, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), 1.0)
	check("-2.0", bytes(0x42, 0, 0, 0, 0, 0, 0, 0x00, 0xc0), -2.0)
	check("0.5", bytes(0x42, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f), 0.5)
	check("0.0", bytes(0x42, 0, 0, 0, 0, 0, 0, 0, 0), 0.0)
	check("inf", bytes(0x42, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f), math.huge)

	-- strings: length in the cookie below 32, then a 2-byte, then a 4-byte length
	check("empty string", bytes(0x04), "")
	check("abc", bytes(0x1c) .. "abc", "abc")
	check("nul byte", bytes(0x0c, 0x00), "\0")
	local s31 = string.rep("x", 31)
	check("31 bytes", bytes(0xfc) .. s31, s31)
	local s32 = string.rep("y", 32)
	check("32 bytes", bytes(0x15, 0x20, 0x00) .. s32, s32)
	local s65535 = string.rep("z", 65535)
	check("65535 bytes", bytes(0x15, 0xff, 0xff) .. s65535, s65535)
	local s65536 = string.rep("w", 65536)
	check("65536 bytes", bytes(0x25, 0x00, 0x00, 0x01, 0x00) .. s65536, s65536)

	-- tables: array size in the cookie, the array values, other pairs, a nil terminator
	check("{}", bytes(0x06, 0x00), {})
	check("{1,2}", bytes(0x16, 0x0a, 0x01, 0x0a, 0x02, 0x00), { 1, 2 })
	check("{x=1}", bytes(0x06, 0x0c) .. "x" .. bytes(0x0a, 0x01, 0x00), { x = 1 })
	check("{true, k=false}", bytes(0x0e, 0x09, 0x0c) .. "k" .. bytes(0x01, 0x00), { true, k = false })
	check("{{}}", bytes(0x0e, 0x06, 0x00, 0x00), { {} })
	check("{[-1]=0}", bytes(0x06, 0x22, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00), { [-1] = 0 })
	check("{[1.5]=1}", bytes(0x06, 0x42, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x0a, 0x01, 0x00), { [1.5] = 1 })

	local a30, a31, a300 = {}, {}, {}
	local e30, e31, e300 = {}, {}, {}
	for i = 1, 30 do a30[i] = i; e30[i] = bytes(0x0a, i) end
	for i = 1, 31 do a31[i] = i; e31[i] = bytes(0x0a, i) end
	for i = 1, 300 do a300[i] = 7; e300[i] = bytes(0x0a, 7) end
	-- 30 still fits the cookie; from 31 on the cookie is 31 and an integer item follows
	check("30 items", bytes(0xf6) .. table.concat(e30) .. bytes(0x00), a30)
	check("31 items", bytes(0xfe, 0x0a, 31) .. table.concat(e31) .. bytes(0x00), a31)
	check("300 items", bytes(0xfe, 0x12) .. le(300, 2) .. table.concat(e300) .. bytes(0x00), a300)

	-- __pairs: array size 0, then whatever the iteration yields
	local proxy = setmetatable({}, { __pairs = function()
		local done = false
		return function()
			if done then return nil end
			done = true
			return "k", 5
		end
	end })
	check("__pairs", bytes(0x06, 0x0c) .. "k" .. bytes(0x0a, 0x05, 0x00), proxy)
	-- other metatables are ignored
	check("__index ignored", bytes(0x06, 0x00), setmetatable({}, { __index = function() return 1 end }))

	-- light userdata: the pointer's 8 bytes (built by decoding a hand-made item)
	local ptr_item = bytes(0x03) .. le(0x1122334455, 8)
	local ptr = skynet.unpack(ptr_item)
	assert(type(ptr) == "userdata", "light userdata expected")
	check("lightuserdata", ptr_item, ptr)

	-- several values are concatenated without a count
	check("1, 'a', nil", bytes(0x0a, 0x01, 0x0c) .. "a" .. bytes(0x00), 1, "a", nil)
	check("no values", "")

	-- decoding accepts wider encodings than the encoder picks
	local function decodes(what, s, ...)
		local want = table.pack(...)
		local got = table.pack(skynet.unpack(s))
		assert(got.n == want.n, what .. ": value count")
		for i = 1, want.n do
			assert(got[i] == want[i] and math.type(got[i]) == math.type(want[i]), what .. ": value " .. i)
		end
	end
	decodes("word 1", bytes(0x12, 0x01, 0x00), 1)
	decodes("dword 7", bytes(0x22, 0x07, 0, 0, 0), 7)
	decodes("qword -5", bytes(0x32) .. le(-5, 8), -5)
	decodes("true cookie", bytes(0x09, 0x01), true, false)
	local t = skynet.unpack(bytes(0xfe, 0x12, 0x02, 0x00, 0x0a, 0x01, 0x0a, 0x02, 0x00))
	assert(#t == 2 and t[1] == 1 and t[2] == 2, "array size in a word item")
	t = skynet.unpack(bytes(0xfe, 0x02, 0x0c) .. "k" .. bytes(0x09, 0x00))
	assert(next(t) == "k" and t.k == true, "array size zero item")
end

T.run(run)

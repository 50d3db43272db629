-- sproto's wire format: the examples of sproto's README byte for byte (encoding and
-- 0-packing), round trips of every field type, and the errors of bad values and of
-- truncated or corrupt buffers.
local skynet = require "skynet"
local netpack = require "skynet.netpack"
local sproto = require "sproto"
local core = require "sproto.core"
local schema = require "sproto_schema"

local NAME = "sproto_wire"
local T = require "testcase" (NAME)

local function hex(s)
	return (s:gsub(".", function(c)
		return string.format("%02x ", c:byte())
	end):gsub(" $", ""))
end

local function unhex(h)
	return (h:gsub("%s*(%x%x)%s*", function(x)
		return string.char(tonumber(x, 16))
	end))
end

-- The README's schema for its wire examples.
local readme = sproto.parse [[
.Person {
	name 0 : string
	age 1 : integer
	marital 2 : boolean
	children 3 : *Person
}

.Data {
	numbers 0 : *integer
	bools 1 : *boolean
	number 2 : integer
	bignumber 3 : integer
	double 4 : double
	doubles 5 : *double
	fpn 6 : integer(2)
}
]]

-- { type, value, encoding (from the README), packed encoding }
local EXAMPLES = {
	{ "Person", { name = "Alice", age = 13, marital = false },
		"03 00 00 00 1c 00 02 00 05 00 00 00 41 6c 69 63 65",
		"51 03 1c 02 f1 05 41 6c 69 63 01 65" },
	{ "Person", { name = "Bob", age = 40, children = { { name = "Alice", age = 13 }, { name = "Carol", age = 5 } } },
		"04 00 00 00 52 00 01 00 00 00 03 00 00 00 42 6f 62 26 00 00 00 0f 00 00 00 02 00 00 00 1c 00 05 00 00 00 41 6c 69 63 65 0f 00 00 00 02 00 00 00 0c 00 05 00 00 00 43 61 72 6f 6c",
		"51 04 52 01 c4 03 42 6f 23 62 26 0f a2 02 1c 05 f8 41 6c 69 63 65 11 0f 02 c5 0c 05 43 61 07 72 6f 6c" },
	{ "Data", { numbers = { 1, 2, 3, 4, 5 } },
		"01 00 00 00 15 00 00 00 04 01 00 00 00 02 00 00 00 03 00 00 00 04 00 00 00 05 00 00 00",
		"11 01 15 23 04 01 02 22 03 04 02 05" },
	{ "Data", { numbers = { (1 << 32) + 1, (1 << 32) + 2, (1 << 32) + 3 } },
		"01 00 00 00 19 00 00 00 08 01 00 00 00 01 00 00 00 02 00 00 00 01 00 00 00 03 00 00 00 01 00 00 00",
		"11 01 19 23 08 01 01 22 02 01 22 03 01 00" },
	{ "Data", { bools = { false, true, false } },
		"02 00 01 00 00 00 03 00 00 00 00 01 00",
		"45 02 01 03 08 01" },
	{ "Data", { number = 100000, bignumber = -10000000000 },
		"03 00 03 00 00 00 00 00 04 00 00 00 a0 86 01 00 08 00 00 00 00 1c f4 ab fd ff ff ff",
		"05 03 03 71 04 a0 86 01 e1 08 1c f4 ab 0f fd ff ff ff" },
	{ "Data", { double = 0.01171875, doubles = { 0.01171875, 23, 4 } },
		"03 00 07 00 00 00 00 00 08 00 00 00 00 00 00 00 00 00 88 3f 19 00 00 00 08 00 00 00 00 00 00 88 3f 00 00 00 00 00 00 37 40 00 00 00 00 00 00 10 40",
		"05 03 07 01 08 1c 88 3f 19 81 08 88 81 3f 37 81 40 10 01 40" },
	{ "Data", { fpn = 1.82 },
		"02 00 0b 00 6e 01",
		"35 02 0b 6e 01" },
}

local function readme_examples()
	for i, ex in ipairs(EXAMPLES) do
		local typename, value, wire, packed = ex[1], ex[2], ex[3], ex[4]
		local bin = readme:encode(typename, value)
		T.same(hex(bin), wire, "README example " .. i .. " encoding")
		T.same(hex(readme:pencode(typename, value)), packed, "README example " .. i .. " packed")
		T.same(hex(sproto.pack(bin)), packed, "README example " .. i .. " sproto.pack")
		local back, size = readme:decode(typename, bin)
		T.same(size, #bin, "example " .. i .. " decode size")
		T.check(schema.same(back, value), "example " .. i .. " decodes to its value")
		T.check(schema.same(readme:pdecode(typename, sproto.pack(bin)), value), "example " .. i .. " pdecode")
	end
	-- the README's packing examples
	local unpacked = unhex "08 00 00 00 03 00 02 00 19 00 00 00 aa 01 00 00"
	T.same(hex(sproto.pack(unpacked)), "51 08 03 02 31 19 aa 01", "README packing example")
	T.same(sproto.unpack(unhex "51 08 03 02 31 19 aa 01"), unpacked, "README unpacking example")
	local run = string.rep("\x8a", 30)
	T.same(hex(sproto.pack(run)), "ff 03 " .. hex(run) .. " 00 00", "README 0xff example")
	T.same(sproto.unpack(sproto.pack(run)), run .. "\0\0", "0xff example unpacks padded to 8")
end

local function packing()
	T.same(sproto.pack(""), "", "empty input packs to nothing")
	T.same(sproto.unpack(""), "", "empty input unpacks to nothing")
	T.same(hex(sproto.pack("a")), "01 61", "a partial word is padded with zeros")
	T.same(hex(sproto.unpack("\3ab")), "61 62 00 00 00 00 00 00", "a tag fills its word with zeros")
	-- a raw run goes on over words with at most two zeros and ends at a word with more
	local full, seven, five = ("\x8a"):rep(8), ("\x8a"):rep(7) .. "\0", ("\x8a"):rep(5) .. "\0\0\0"
	T.same(hex(sproto.pack(full .. seven .. five)),
		"ff 01 " .. hex(full .. seven) .. " 1f 8a 8a 8a 8a 8a", "run takes a word with one zero, not one with three")
	T.same(hex(sproto.pack(seven .. full)), "7f 8a 8a 8a 8a 8a 8a 8a ff 00 " .. hex(full), "a run starts only at a full word")
	-- runs hold at most 256 words
	local big = ("\x8a"):rep(8 * 300)
	local p = sproto.pack(big)
	T.same(#p, 2 + 256 * 8 + 2 + 44 * 8, "300 full words: two runs")
	T.same(hex(p:sub(1, 2)), "ff ff", "first run of 256 words")
	T.same(hex(p:sub(2 + 256 * 8 + 1, 2 + 256 * 8 + 2)), "ff 2b", "second run of 44 words")
	T.same(sproto.unpack(p), big, "runs unpack")
	-- random buffers survive a round trip
	math.randomseed(7)
	for _ = 1, 200 do
		local parts = {}
		for j = 1, math.random(0, 50) do
			local k = math.random(3)
			if k == 1 then
				parts[j] = ("\0"):rep(math.random(20))
			elseif k == 2 then
				parts[j] = ("\xaa"):rep(math.random(600))
			else
				parts[j] = string.char(math.random(0, 255), math.random(0, 255), math.random(0, 255))
			end
		end
		local s = table.concat(parts)
		local u = sproto.unpack(sproto.pack(s))
		if not T.check(u:sub(1, #s) == s and #u == (#s + 7) // 8 * 8 and not u:find("[^\0]", #s + 1), "pack round trip", #s) then
			break
		end
	end
	-- truncated streams
	for _, bad in ipairs { "\xff", "\xff\1abc", "\3a", "\xff\0abcdefg" } do
		T.raises("Invalid unpack stream", "truncated packed stream " .. hex(bad), sproto.unpack, bad)
	end
	T.raises("Need a string or userdata", "unpack of a number", sproto.unpack, 12)
	T.raises(nil, "pack of nil", sproto.pack, nil)
end

-- Buffers given as (pointer, size), as gate messages reach an agent.
local function pointers()
	-- netpack.pack(s) is the 2-byte big-endian size of s, then s: for s = "\1\65\0" the
	-- whole buffer 00 03 01 41 00 is a packed stream (a zero word, a word of two bytes,
	-- a zero word).
	local msg, sz = netpack.pack("\1\65\0")
	local from_ptr = sproto.unpack(msg, sz)
	local text = skynet.tostring(msg, sz)
	T.same(from_ptr, sproto.unpack(text), "unpack of a pointer and a size")
	T.same(#from_ptr, 24, "unpacked size")
	T.same(hex(sproto.pack(msg, sz)), hex(sproto.pack(text)), "pack of a pointer and a size")
	skynet.trash(msg, sz)
	-- 00 00: a struct without fields
	msg, sz = netpack.pack("")
	local t, used = readme:decode("Person", msg, sz)
	T.check(type(t) == "table" and next(t) == nil and used == 2, "decode of a pointer and a size", used)
	T.raises("bad argument", "pointer without a size", readme.decode, readme, "Person", msg)
	T.raises(nil, "negative size", readme.decode, readme, "Person", msg, -1)
	skynet.trash(msg, sz)
end

local every = sproto.parse(schema.c2s)

local function round_trips()
	local ints = { 0, 1, 0x7ffe, 0x7fff, 0xffff, -1, 0x7fffffff, -0x80000000, 0x80000000, -0x80000001,
		math.maxinteger, math.mininteger }
	for _, v in ipairs(ints) do
		local bin = every:encode("All", { i = v, ai = { v, 1 } })
		local back = every:decode("All", bin)
		T.check(math.type(back.i) == "integer" and back.i == v, "integer round trip", v, back.i)
		T.check(back.ai[1] == v and back.ai[2] == 1 and #back.ai == 2, "integer array round trip", v)
	end
	-- small integers sit in the field part, others in the data part (4 or 8 bytes)
	T.same(hex(every:encode("All", { i = 0x7ffe })), "01 00 fe ff", "0x7ffe inline")
	T.same(hex(every:encode("All", { i = 0x7fff })), "01 00 00 00 04 00 00 00 ff 7f 00 00", "0x7fff in 4 bytes")
	T.same(hex(every:encode("All", { i = -2 })), "01 00 00 00 04 00 00 00 fe ff ff ff", "negative in 4 bytes")
	T.same(hex(every:encode("All", { i = 1 << 31 })), "01 00 00 00 08 00 00 00 00 00 00 80 00 00 00 00", "2^31 in 8 bytes")
	T.same(hex(every:encode("All", { ai = {} })), "02 00 0b 00 00 00 00 00 00 00", "empty integer array is empty")
	-- integer-valued floats and numeric strings are integers, as lua_tointeger says
	T.same(every:decode("All", every:encode("All", { i = 3.0 })).i, 3, "3.0 encodes as 3")
	T.same(every:decode("All", every:encode("All", { i = "12" })).i, 12, "\"12\" encodes as 12")

	for _, d in ipairs { 0.0, -0.0, 0.1, -1e300, 1 / 0, -1 / 0, 2 ^ 53 } do
		local back = every:decode("All", every:encode("All", { d = d, ad = { d } }))
		T.check(back.d == d and math.type(back.d) == "float" and back.ad[1] == d, "double round trip", d)
	end
	local nan = every:decode("All", every:encode("All", { d = 0 / 0 })).d
	T.check(nan ~= nan, "NaN round trip")

	for _, s in ipairs { "", "a", "\0\0\0", ("x"):rep(100000) } do
		local back = every:decode("All", every:encode("All", { s = s, bin = s, as = { s, s } }))
		T.check(back.s == s and back.bin == s and back.as[2] == s, "string round trip", #s)
	end
	local back = every:decode("All", every:encode("All", { b = false, ab = { true, false } }))
	T.check(back.b == false and back.ab[1] == true and back.ab[2] == false and #back.ab == 2, "booleans")

	-- fixed-point: value * 10^n rounded half away from zero, decoded as value / 10^n
	for _, case in ipairs { { 1.82, 182 }, { -12.34, -1234 }, { 1.825, 183 }, { -1.825, -183 }, { 0.004, 0 }, { 7, 700 } } do
		local bin = every:encode("All", { fix = case[1] })
		local back = every:decode("All", bin)
		T.check(math.type(back.fix) == "float" and back.fix == case[2] / 100, "integer(2) of", case[1], back.fix)
	end

	local v = schema.sample()
	local bin = every:encode("All", v)
	T.check(schema.same(every:decode("All", bin), v), "every field round trip")
	T.check(schema.same(every:pdecode("All", every:pencode("All", v)), v), "every field through pack")
	-- *Item(id) keys by the id field; *Pair() maps key to value
	local d = every:decode("All", every:encode("All", { byid = { { id = 5, name = "five" } }, dict = { k = 9 } }))
	T.check(d.byid[5] and d.byid[5].name == "five", "main index decoded as a map")
	T.same(d.dict.k, 9, "two-field struct as a key/value map")
	-- a newer message for an older type: tags the type does not declare are skipped
	local old = every:decode("package", every:encode("All", { i = 3, s = "x", d = 1.5, far = "y" }))
	T.check(old.type == 3 and old.ud == "x" and old.session == nil and old.far == nil and old.d == nil,
		"decoding skips what the type does not declare")
	-- decode into a given table, returning the bytes used (trailing bytes ignored)
	local into = { keep = true }
	local r, used = every:decode("All", every:encode("All", { i = 1 }) .. "junk", into)
	T.check(r == into and into.keep and into.i == 1 and used == 4, "decode into a table", used)
	-- nil arguments encode as an empty message
	T.same(hex(every:encode("All", nil)), "00 00", "nil encodes as an empty struct")
end

local function defaults()
	local d = every:default("All")
	T.check(d.i == 0 and math.type(d.i) == "integer", "integer default")
	T.check(d.fix == 0 and math.type(d.fix) == "float", "fixed-point default")
	T.check(d.b == false and d.s == "" and d.bin == "" and d.d == 0.0, "scalar defaults")
	T.check(d.child.__type == "All" and d.children.__array == "All", "struct defaults")
	T.check(d.ai.__array == 0 and d.byid.__array == "Item", "array defaults")
	T.same(every:default("get", "REQUEST").what, "", "default of a protocol request")
	T.same(every:default("get", "RESPONSE").result, "", "default of a protocol response")
	T.same(every:default("quit", "REQUEST"), nil, "no request, no default")
	T.raises("Invalid type", "default of a bad part", every.default, every, "get", "BOTH")
end

local function protocols()
	local bin, tag = every:request_encode("get", { what = "k" })
	T.same(tag, 2, "request tag")
	local req, name = every:request_decode("get", bin)
	T.check(req.what == "k" and name == "get", "request decode")
	T.same(every:request_decode(2, bin).what, "k", "request decode by tag")
	local empty, qtag = every:request_encode("quit")
	T.check(empty == "" and qtag == 4, "request without a type")
	T.same(every:response_decode("get", every:response_encode("get", { result = "v" })).result, "v", "response")
	T.same(every:response_encode("set", {}), "", "response without a type")
	T.check(every:exist_proto("echo") and every:exist_proto(6) and not every:exist_proto("nope"), "exist_proto")
	T.check(every:exist_type("All") and every:exist_type("get.request") and not every:exist_type("nope"), "exist_type")
	T.raises("nope not found", "unknown protocol", every.request_encode, every, "nope", {})
	T.raises("type not found", "unknown type", every.encode, every, "Nope", {})
	local p = every:queryproto("ping")
	T.check(p.tag == 6 and p.name == "ping" and p.request == nil and p.response, "response nil has a marker")
	T.same(every:response_encode("ping"), "", "response nil encodes nothing")
	T.raises("nil expected", "response nil takes no value", every.response_encode, every, "ping", {})
	T.same(core.protocol(every.__cobj, 99), nil, "unknown tag")
end

local function bad_values()
	T.raises(".i[0] is not an integer (Is a number)", "float for integer", every.encode, every, "All", { i = 1.5 })
	T.raises(".i[0] is not an integer (Is a string)", "text for integer", every.encode, every, "All", { i = "x" })
	T.raises(".b[0] is not a boolean (Is a number)", "number for boolean", every.encode, every, "All", { b = 1 })
	T.raises(".s[0] is not a string (Is a number)", "number for string", every.encode, every, "All", { s = 12 })
	T.raises(".d[0] is not a number (Is a table)", "table for double", every.encode, every, "All", { d = {} })
	T.raises(".fix[0] is not a number", "text for fixed-point", every.encode, every, "All", { fix = "x" })
	T.raises(".child[0] is not a table (Is a number)", "number for struct", every.encode, every, "All", { child = 1 })
	T.raises(".*ai(1) should be a table", "number for array", every.encode, every, "All", { ai = 1 })
	T.raises(".ai[2] is not an integer (Is a string)", "bad array element", every.encode, every, "All", { ai = { 1, "a" } })
	T.raises(".ab[1] is not a boolean", "bad boolean element", every.encode, every, "All", { ab = { 0 } })
	T.raises(".value[0] is not an integer", "bad map value", every.encode, every, "All", { dict = { a = "b" } })
	T.raises(".byid[1] is not a table", "bad main index element", every.encode, every, "All", { byid = { 1 } })
	T.raises("out of the integer range", "fixed-point overflow", every.encode, every, "All", { fix = 1e300 })
	local loop = {}
	loop.child = loop
	T.raises("The table is too deep", "a table that contains itself", every.encode, every, "All", loop)
	T.raises("table expected", "encode of a number", core.encode, core.querytype(every.__cobj, "All"), 5)
	-- schemas and types are light userdata: other values are refused, not dereferenced
	T.raises("Need a sproto_type object", "encode with a table as type", core.encode, {}, {})
	T.raises("Need a sproto_type object", "decode with a file as type", core.decode, io.stdout, "")
	T.raises("Need a sproto object", "querytype on a file", core.querytype, io.stdout, "All")
	T.raises("Need a sproto", "protocol of a string", core.protocol, "x", 1)
	T.raises("Need a sproto object", "saveproto of a table", core.saveproto, {}, 1)
	T.raises("Need a sproto_type object", "default of nil", core.default, nil)
	T.raises("Should be number or string", "protocol by a table", core.protocol, every.__cobj, {})
	T.same(core.protocol(every.__cobj, 1.5), nil, "protocol by a fraction")
	-- metamethods: __index supplies fields, __pairs drives keyed arrays
	local proxy = setmetatable({}, { __index = function(_, k) return k == "s" and "via __index" or nil end })
	T.same(every:decode("All", every:encode("All", proxy)).s, "via __index", "fields read through __index")
	local pairs_called = false
	local dict = setmetatable({}, { __pairs = function(t)
		pairs_called = true
		return next, { x = 1 }, nil
	end })
	T.same(every:decode("All", every:encode("All", { dict = dict })).dict.x, 1, "keyed arrays iterate with __pairs")
	T.check(pairs_called, "__pairs was used")
end

local function corrupt()
	local function bad(what, bytes)
		T.raises("decode error", what, every.decode, every, "All", unhex(bytes))
	end
	bad("empty buffer", "")
	bad("one byte", "01")
	bad("field part cut", "02 00 00 00")
	bad("data part cut", "01 00 00 00 05 00 00 00 41 42")
	bad("size field cut", "01 00 00 00 05 00")
	bad("string in the field part", "02 00 03 00 04 00")
	bad("integer of 3 bytes", "01 00 00 00 03 00 00 00 ff ff ff")
	bad("boolean in the data part", "02 00 01 00 00 00 01 00 00 00 01")
	bad("double of 4 bytes", "02 00 07 00 00 00 04 00 00 00 00 00 00 00")
	bad("array in the field part", "02 00 0b 00 04 00")
	bad("integer array of bad width", "02 00 0b 00 00 00 05 00 00 00 05 01 00 00 00")
	bad("integer array cut", "02 00 0b 00 00 00 03 00 00 00 04 01 00")
	bad("string array element cut", "02 00 0f 00 00 00 06 00 00 00 05 00 00 00 41 42")
	bad("nested struct cut", "02 00 13 00 00 00 02 00 00 00 05 00")
	bad("junk after a nested struct", "02 00 13 00 00 00 04 00 00 00 00 00 41 42")
	bad("size beyond the buffer", "01 00 00 00 ff ff ff ff 41")
	T.raises("Can't find main index", "map element without its key", every.decode, every, "All",
		unhex "02 00 17 00 00 00 11 00 00 00 0d 00 00 00 02 00 01 00 00 00 03 00 00 00 61 62 63")
	T.raises("Can't find value field", "map element without a value", every.decode, every, "All",
		unhex "02 00 19 00 00 00 0d 00 00 00 09 00 00 00 01 00 00 00 01 00 00 00 61")
	-- unknown tags are skipped, even with data
	local t, used = every:decode("All", unhex "03 00 ff 01 04 00 00 00 02 00 00 00 41 42")
	T.check(next(t) == nil and used == 14, "unknown tags skipped", used)
	-- random damage: always a table or a Lua error, never a crash
	math.randomseed(11)
	local sample = every:encode("All", schema.sample())
	local errors = 0
	for _ = 1, 2000 do
		local s = sample
		local at = math.random(#s)
		if math.random(2) == 1 then
			s = s:sub(1, at - 1) .. string.char(math.random(0, 255)) .. s:sub(at + 1)
		else
			s = s:sub(1, at - 1)
		end
		local ok, r = pcall(every.decode, every, "All", s)
		if not ok then
			errors = errors + 1
		elseif type(r) ~= "table" then
			T.check(false, "corrupt decode returned", type(r))
			break
		end
	end
	T.check(errors > 0, "some damaged buffers were rejected", errors)
	-- packed garbage either unpacks or raises
	for _ = 1, 500 do
		local junk = {}
		for i = 1, math.random(40) do
			junk[i] = string.char(math.random(0, 255))
		end
		pcall(every.pdecode, every, "All", table.concat(junk))
	end
end

T.run(function()
	readme_examples()
	packing()
	pointers()
	round_trips()
	defaults()
	protocols()
	bad_values()
	corrupt()
end)

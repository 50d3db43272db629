-- skynet.pack refuses what it cannot encode and skynet.unpack refuses malformed
-- streams, with Lua errors (no crash), and a failed pack frees its buffer.
local skynet = require "skynet"
local memory = require "skynet.memory"

local NAME = "pack_errors"
local T = require "testcase" (NAME)

local BAD = "Invalid serialize stream"

local function nest(levels, leaf)
	local t = leaf
	for _ = 1, levels do t = { t } end
	return t
end

local function run()
	-- types without an encoding
	T.raises("Unsupport type function to serialize", "function", skynet.pack, print)
	T.raises("Unsupport type thread to serialize", "thread", skynet.pack, coroutine.create(print))
	T.raises("Unsupport type userdata to serialize", "full userdata", skynet.packstring, io.stdout)
	T.raises("Unsupport type function", "function in a table", skynet.pack, { 1, 2, { f = print } })
	T.raises("Unsupport type function", "function as a key", skynet.pack, { [print] = 1 })

	-- depth: a value inside 32 tables is fine, inside 33 it is not; cycles hit the same limit
	assert(skynet.unpack(skynet.packstring(nest(32, 1))), "32 levels")
	T.raises("serialize can't pack too depth table", "33 levels", skynet.pack, nest(33, 1))
	local cycle = {}
	cycle.self = cycle
	T.raises("serialize can't pack too depth table", "cycle", skynet.pack, cycle)

	-- an error from __pairs or its iterator comes through
	T.raises("pairs refused", "__pairs error", skynet.pack, setmetatable({}, { __pairs = function() error "pairs refused" end }))
	T.raises("iterator refused", "iterator error", skynet.pack, setmetatable({}, { __pairs = function()
		return function() error "iterator refused" end
	end }))

	-- strings too short for their header
	local sample = skynet.packstring({ 1, "two", { three = 3.0 }, [100] = true, s = string.rep("x", 300) })
	for n = 1, #sample - 1 do
		T.raises(BAD, "truncated at " .. n, skynet.unpack, sample:sub(1, n))
	end
	local ptr, sz = skynet.pack({ k = "value" })
	T.raises(BAD, "pointer with a short size", skynet.unpack, ptr, sz - 1)
	skynet.trash(ptr, sz)

	-- bad type tags and cookies
	T.raises(BAD, "type 7", skynet.unpack, "\7")
	T.raises(BAD, "number cookie 3", skynet.unpack, "\26\1\2\3\4\5\6\7\8")
	T.raises(BAD, "number cookie 31", skynet.unpack, "\250")
	T.raises(BAD, "long string cookie 3", skynet.unpack, "\29\3\0\0abc")
	T.raises(BAD, "long string cookie 0", skynet.unpack, "\5")

	-- lengths and sizes that exceed the stream
	T.raises(BAD, "word length", skynet.unpack, "\21\255\0abc")
	T.raises(BAD, "dword length", skynet.unpack, "\37\255\255\255\255abc")
	T.raises(BAD, "short string", skynet.unpack, "\28ab")
	T.raises(BAD, "huge array size", skynet.unpack, "\254\50\0\0\0\0\0\0\0\64\0")
	T.raises(BAD, "negative array size", skynet.unpack, "\254\34\255\255\255\255\0")
	T.raises(BAD, "array size beyond the data", skynet.unpack, "\254\18\0\1\10\1\0")
	T.raises(BAD, "real array size", skynet.unpack, "\254\66\0\0\0\0\0\0\240\63\10\1\0")
	T.raises(BAD, "string array size", skynet.unpack, "\254\12x\0")
	T.raises(BAD, "missing terminator", skynet.unpack, "\22\10\1\10\2")
	T.raises(BAD, "key without value", skynet.unpack, "\6\12k")

	-- nesting: deep but sane streams decode, absurd ones fail cleanly
	local deep = string.rep("\14", 100) .. "\2" .. string.rep("\0", 100)
	local t = skynet.unpack(deep)
	for _ = 1, 99 do t = t[1] end
	assert(t[1] == 0, "100 nested tables")
	T.raises(BAD, "100000 nested tables", skynet.unpack, string.rep("\14", 100000))
	T.raises(BAD, "100000 nested keys", skynet.unpack, string.rep("\6", 100000))

	-- a NaN key cannot go into a table
	T.raises("NaN", "NaN key", skynet.unpack, "\6\66\0\0\0\0\0\0\248\127\10\1\0")

	-- argument checks
	T.raises("deserialize null pointer", "null pointer", skynet.unpack, skynet.unpack("\3\0\0\0\0\0\0\0\0"), 4)
	T.raises("number expected", "missing size", skynet.unpack, skynet.unpack("\3\0\0\0\0\0\0\0\0"))
	assert(select("#", skynet.unpack(nil)) == 0, "unpack(nil)")
	assert(select("#", skynet.unpack("")) == 0, "unpack('')")
	assert(select("#", skynet.unpack(ptr, 0)) == 0, "unpack(ptr, 0)")

	-- a pack that fails half way (its buffer already on the heap) leaks nothing
	local long = string.rep("x", 4000)
	local function failing()
		return skynet.pack(long, long, long, print)
	end
	for _ = 1, 100 do pcall(failing) end
	local before = memory.current()
	for _ = 1, 2000 do pcall(failing) end
	local grown = memory.current() - before
	assert(grown < 1000000, "failed packs leaked " .. grown .. " bytes")

	-- and the packer still works afterwards
	assert(skynet.unpack(skynet.packstring("still", "fine")) == "still", "pack after errors")
end

T.run(run)

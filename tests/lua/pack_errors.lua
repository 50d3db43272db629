-- skynet.pack refuses what it cannot encode and skynet.unpack refuses malformed
-- streams, with Lua errors (no crash), and a failed pack frees its buffer.
local skynet = require "skynet"
require "skynet.manager"
local memory = require "skynet.memory"

local NAME = "pack_errors"

local function fails(what, pattern, f, ...)
	local ok, err = pcall(f, ...)
	assert(not ok, what .. ": no error")
	assert(tostring(err):find(pattern, 1, true), string.format("%s: error %q lacks %q", what, tostring(err), pattern))
end

local BAD = "Invalid serialize stream"

local function nest(levels, leaf)
	local t = leaf
	for _ = 1, levels do t = { t } end
	return t
end

local function run()
	-- types without an encoding
	fails("function", "Unsupport type function to serialize", skynet.pack, print)
	fails("thread", "Unsupport type thread to serialize", skynet.pack, coroutine.create(print))
	fails("full userdata", "Unsupport type userdata to serialize", skynet.packstring, io.stdout)
	fails("function in a table", "Unsupport type function", skynet.pack, { 1, 2, { f = print } })
	fails("function as a key", "Unsupport type function", skynet.pack, { [print] = 1 })

	-- depth: a value inside 32 tables is fine, inside 33 it is not; cycles hit the same limit
	assert(skynet.unpack(skynet.packstring(nest(32, 1))), "32 levels")
	fails("33 levels", "serialize can't pack too depth table", skynet.pack, nest(33, 1))
	local cycle = {}
	cycle.self = cycle
	fails("cycle", "serialize can't pack too depth table", skynet.pack, cycle)

	-- an error from __pairs or its iterator comes through
	fails("__pairs error", "pairs refused", skynet.pack, setmetatable({}, { __pairs = function() error "pairs refused" end }))
	fails("iterator error", "iterator refused", skynet.pack, setmetatable({}, { __pairs = function()
		return function() error "iterator refused" end
	end }))

	-- strings too short for their header
	local sample = skynet.packstring({ 1, "two", { three = 3.0 }, [100] = true, s = string.rep("x", 300) })
	for n = 1, #sample - 1 do
		fails("truncated at " .. n, BAD, skynet.unpack, sample:sub(1, n))
	end
	local ptr, sz = skynet.pack({ k = "value" })
	fails("pointer with a short size", BAD, skynet.unpack, ptr, sz - 1)
	skynet.trash(ptr, sz)

	-- bad type tags and cookies
	fails("type 7", BAD, skynet.unpack, "\7")
	fails("number cookie 3", BAD, skynet.unpack, "\26\1\2\3\4\5\6\7\8")
	fails("number cookie 31", BAD, skynet.unpack, "\250")
	fails("long string cookie 3", BAD, skynet.unpack, "\29\3\0\0abc")
	fails("long string cookie 0", BAD, skynet.unpack, "\5")

	-- lengths and sizes that exceed the stream
	fails("word length", BAD, skynet.unpack, "\21\255\0abc")
	fails("dword length", BAD, skynet.unpack, "\37\255\255\255\255abc")
	fails("short string", BAD, skynet.unpack, "\28ab")
	fails("huge array size", BAD, skynet.unpack, "\254\50\0\0\0\0\0\0\0\64\0")
	fails("negative array size", BAD, skynet.unpack, "\254\34\255\255\255\255\0")
	fails("array size beyond the data", BAD, skynet.unpack, "\254\18\0\1\10\1\0")
	fails("real array size", BAD, skynet.unpack, "\254\66\0\0\0\0\0\0\240\63\10\1\0")
	fails("string array size", BAD, skynet.unpack, "\254\12x\0")
	fails("missing terminator", BAD, skynet.unpack, "\22\10\1\10\2")
	fails("key without value", BAD, skynet.unpack, "\6\12k")

	-- nesting: deep but sane streams decode, absurd ones fail cleanly
	local deep = string.rep("\14", 100) .. "\2" .. string.rep("\0", 100)
	local t = skynet.unpack(deep)
	for _ = 1, 99 do t = t[1] end
	assert(t[1] == 0, "100 nested tables")
	fails("100000 nested tables", BAD, skynet.unpack, string.rep("\14", 100000))
	fails("100000 nested keys", BAD, skynet.unpack, string.rep("\6", 100000))

	-- a NaN key cannot go into a table
	fails("NaN key", "NaN", skynet.unpack, "\6\66\0\0\0\0\0\0\248\127\10\1\0")

	-- argument checks
	fails("null pointer", "deserialize null pointer", skynet.unpack, skynet.unpack("\3\0\0\0\0\0\0\0\0"), 4)
	fails("missing size", "number expected", skynet.unpack, skynet.unpack("\3\0\0\0\0\0\0\0\0"))
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

skynet.start(function()
	local ok, err = pcall(run)
	if ok then
		skynet.error("TEST " .. NAME .. " PASS")
	else
		skynet.error("TEST " .. NAME .. " FAIL " .. tostring(err))
	end
	skynet.abort()
end)

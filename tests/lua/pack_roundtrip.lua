-- Every value skynet.pack supports comes back from skynet.unpack unchanged,
-- through the pointer form and the string form.
local skynet = require "skynet"

local NAME = "pack_roundtrip"
local T = require "testcase" (NAME)

local function same(a, b, path, seen)
	if type(a) ~= type(b) then
		return false, path .. ": type " .. type(a) .. " vs " .. type(b)
	end
	if type(a) == "number" then
		if math.type(a) ~= math.type(b) then
			return false, path .. ": " .. math.type(a) .. " vs " .. math.type(b)
		end
		if a ~= a then
			return b ~= b, path .. ": NaN lost"
		end
		return a == b, path .. ": " .. tostring(a) .. " vs " .. tostring(b)
	end
	if type(a) ~= "table" then
		return a == b, path .. ": " .. tostring(a) .. " vs " .. tostring(b)
	end
	seen = seen or {}
	if seen[a] then
		return true
	end
	seen[a] = true
	for k, v in pairs(a) do
		local ok, err = same(v, b[k], path .. "." .. tostring(k), seen)
		if not ok then
			return false, err
		end
	end
	for k in pairs(b) do
		if a[k] == nil then
			return false, path .. ": extra key " .. tostring(k)
		end
	end
	return true
end

-- pack(...) then unpack through both forms; everything, nils included, must survive
local function roundtrip(what, ...)
	local want = table.pack(...)
	local msg, sz = skynet.pack(...)
	local forms = {
		table.pack(skynet.unpack(msg, sz)),
		table.pack(skynet.unpack(skynet.packstring(...))),
	}
	skynet.trash(msg, sz)
	for _, got in ipairs(forms) do
		assert(got.n == want.n, string.format("%s: %d values back, %d sent", what, got.n, want.n))
		for i = 1, want.n do
			local ok, err = same(want[i], got[i], what .. "[" .. i .. "]")
			assert(ok, err)
		end
	end
end

local function run()
	roundtrip("nothing")
	roundtrip("nil", nil)
	roundtrip("booleans", true, false)

	local ints = {
		0, 1, -1, 127, 128, 255, 256, 1000, 65535, 65536, 65537,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
		-128, -255, -256, -65536, -0x7fffffff, -0x80000000, -0x80000001,
		math.maxinteger, math.mininteger, math.maxinteger - 1, math.mininteger + 1,
	}
	for _, v in ipairs(ints) do
		roundtrip("integer " .. v, v)
	end

	local reals = { 0.0, -0.0, 1.0, -1.0, 0.5, math.pi, 1e300, -1e-300, 2^53, 2^63, math.huge, -math.huge, 0/0 }
	for _, v in ipairs(reals) do
		roundtrip("real " .. tostring(v), v)
	end

	local all_bytes = {}
	for i = 0, 255 do all_bytes[#all_bytes + 1] = string.char(i) end
	all_bytes = table.concat(all_bytes)
	for _, n in ipairs { 0, 1, 30, 31, 32, 33, 255, 256, 65535, 65536, 100000, 1 << 20 } do
		roundtrip("string of " .. n, string.rep(all_bytes, n // 256 + 1):sub(1, n))
	end

	roundtrip("empty table", {})
	roundtrip("array", { 1, "two", 3.0, false, { 5 } })
	roundtrip("hash", { a = 1, b = "x", [false] = true, [2.5] = "f", [-3] = -3, [0] = 0 })
	roundtrip("mixed", { 10, 20, 30, x = { y = { z = "deep" } }, [100] = "sparse" })
	roundtrip("holes", { 1, nil, 3, nil, 5 })
	local k, v = next(skynet.unpack(skynet.packstring({ [{ 1 }] = "table as key" })))
	assert(type(k) == "table" and k[1] == 1 and v == "table as key", "table as key")
	for _, n in ipairs { 29, 30, 31, 32, 33, 255, 256, 1000, 70000 } do
		local t = {}
		for i = 1, n do t[i] = i * 3 end
		t.n = n
		roundtrip("array of " .. n, t)
	end

	-- tables nested as deep as pack allows
	local deep = { leaf = "bottom" }
	for _ = 1, 31 do deep = { deep, level = true } end
	roundtrip("32 levels", deep)

	-- the same table twice is sent twice, as a copy
	local shared = { "s" }
	local a, b = skynet.unpack(skynet.packstring(shared, shared))
	assert(a ~= b and a[1] == "s" and b[1] == "s", "shared table")

	-- __pairs decides what is sent; the array part goes as ordinary pairs
	local proxied = setmetatable({}, { __pairs = function()
		return next, { 1, 2, k = "v" }, nil
	end })
	local p = skynet.unpack(skynet.packstring(proxied))
	assert(p[1] == 1 and p[2] == 2 and p.k == "v" and getmetatable(p) == nil, "__pairs")

	-- light userdata goes by address
	local ptr, sz = skynet.pack("payload")
	local back = skynet.unpack(skynet.packstring(ptr))
	assert(back == ptr, "light userdata")
	assert(skynet.unpack(back, sz) == "payload", "pointer still usable")
	skynet.trash(ptr, sz)

	-- many values at once
	local many = {}
	for i = 1, 500 do many[i] = (i % 3 == 0) and nil or i end
	roundtrip("500 values", table.unpack(many, 1, 500))

	-- a big message, larger than any inline buffer
	local big = {}
	for i = 1, 5000 do big[i] = { id = i, name = "item" .. i, tags = { "a", "b" }, score = i / 7 } end
	roundtrip("big", big)
end

T.run(run)

-- skynet.netpack on hand-made socket messages: framing across and within
-- messages, the queue, and every message type filter reports.
local skynet = require "skynet"
require "skynet.manager"
local netpack = require "skynet.netpack"
local driver = require "skynet.socketdriver"

local NAME = "netpack_filter"
local failed = 0

local function check(ok, what)
	if not ok then
		failed = failed + 1
		skynet.error(string.format("TEST %s FAIL %s", NAME, what))
	end
end

local function eq(got, want, what)
	check(got == want, string.format("%s: got %s, want %s", what, tostring(got), tostring(want)))
end

-- A skynet_socket_message (type, id, ud, padding, buffer pointer) built in memory.
local function address_of(p)
	return tonumber(tostring(p):match("0x(%x+)"), 16)
end

local function message(type, id, ud, buffer, text)
	local ptr = buffer and address_of(buffer) or 0
	return driver.str2p(string.pack("=i4i4i4i4T", type, id, ud, 0, ptr) .. (text or ""))
end

local queue

-- feeds bytes read on fd; returns filter's results after the queue
local function filter_raw(m, sz)
	local r = table.pack(netpack.filter(queue, m, sz))
	driver.drop(m, sz)
	queue = r[1]
	return table.unpack(r, 2, r.n)
end

local function data(fd, bytes)
	local p, n = driver.str2p(bytes)
	return filter_raw(message(1, fd, n, p))
end

-- every package "data" or "more" made available, as { fd, string } pairs
local function collect(kind, fd, msg, sz)
	local out = {}
	if kind == "data" then
		out[1] = { fd, netpack.tostring(msg, sz) }
	elseif kind == "more" then
		for pfd, pmsg, psz in netpack.pop, queue do
			out[#out + 1] = { pfd, netpack.tostring(pmsg, psz) }
		end
	else
		check(kind == nil, "unexpected filter result " .. tostring(kind))
	end
	return out
end

local function packages(fd, bytes)
	return collect(data(fd, bytes))
end

local function same(got, want, what)
	local ok = #got == #want
	for i = 1, #want do
		ok = ok and got[i] and got[i][1] == want[i][1] and got[i][2] == want[i][2]
	end
	if not ok then
		local parts = {}
		for _, v in ipairs(got) do
			parts[#parts + 1] = string.format("%d:%q", v[1], v[2])
		end
		check(false, what .. ": got {" .. table.concat(parts, ", ") .. "}")
	end
end

local function frame(s)
	return string.pack(">s2", s)
end

local function test_shapes()
	-- one whole package: "data", fd, msg, sz
	local kind, fd, msg, sz = data(5, frame "hello")
	eq(kind, "data", "single package kind")
	eq(fd, 5, "single package fd")
	eq(sz, 5, "single package size")
	eq(netpack.tostring(msg, sz), "hello", "single package bytes")

	-- part of a package: nothing but the queue
	local r = table.pack(data(5, "\0\5he"))
	eq(r.n, 0, "partial package returns only the queue")
	kind, fd, msg, sz = data(5, "llo")
	eq(kind, "data", "completed package kind")
	eq(netpack.tostring(msg, sz), "hello", "completed package bytes")

	-- several packages in one message: "more", then pop
	r = table.pack(data(6, frame "a" .. frame "bc" .. frame "def"))
	eq(r.n, 1, "more carries nothing else")
	eq(r[1], "more", "several packages kind")
	local got = {}
	for pfd, pmsg, psz in netpack.pop, queue do
		got[#got + 1] = { pfd, netpack.tostring(pmsg, psz) }
	end
	same(got, { { 6, "a" }, { 6, "bc" }, { 6, "def" } }, "popped packages")
	eq(select("#", netpack.pop(queue)), 0, "pop on an empty queue")
end

local function test_framing()
	same(packages(1, "\0"), {}, "one header byte")
	same(packages(1, "\3abc"), { { 1, "abc" } }, "header split across messages")

	same(packages(1, frame "x" .. "\0\5de"), { { 1, "x" } }, "package then a partial")
	same(packages(1, "fgh" .. frame "i"), { { 1, "defgh" }, { 1, "i" } }, "partial completed, then one more")

	same(packages(1, "\0\0"), { { 1, "" } }, "empty package")
	same(packages(1, "\0\0\0\0" .. frame "z"), { { 1, "" }, { 1, "" }, { 1, "z" } }, "empty packages in a row")

	-- two connections with partial packages at the same time
	same(packages(2, "\0\4ab"), {}, "fd 2 partial")
	same(packages(3, "\0\2x"), {}, "fd 3 partial")
	same(packages(2, "cd"), { { 2, "abcd" } }, "fd 2 completed")
	same(packages(3, "y"), { { 3, "xy" } }, "fd 3 completed")

	-- the largest package, a byte at a time for its header and in chunks after
	local big = string.rep("0123456789abcdef", 4096):sub(1, 65535)
	local wire = frame(big)
	local got = {}
	same(packages(4, wire:sub(1, 1)), {}, "big header first byte")
	local at = 2
	while at <= #wire do
		local chunk = wire:sub(at, at + 999)
		at = at + #chunk
		for _, v in ipairs(packages(4, chunk)) do
			got[#got + 1] = v
		end
	end
	eq(#got, 1, "the largest package arrives once")
	check(got[1] and got[1][2] == big, "the largest package is intact")

	-- many packages in one message grow the queue
	local parts = {}
	for i = 1, 3000 do
		parts[i] = frame(tostring(i))
	end
	local many = packages(7, table.concat(parts))
	eq(#many, 3000, "3000 packages in one message")
	local order = true
	for i = 1, #many do
		order = order and many[i][2] == tostring(i)
	end
	check(order, "3000 packages keep their order")
end

local function test_events()
	-- CLOSE and ERROR forget a partial package
	same(packages(8, "\0\9abc"), {}, "partial before close")
	local r = table.pack(filter_raw(message(3, 8, 0)))
	eq(r[1], "close", "close kind")
	eq(r[2], 8, "close fd")
	same(packages(8, frame "new"), { { 8, "new" } }, "after close a new package starts")

	same(packages(9, "\0\9abc"), {}, "partial before error")
	r = table.pack(filter_raw(message(5, 9, 0, nil, "boom")))
	eq(r[1], "error", "error kind")
	eq(r[2], 9, "error fd")
	eq(r[3], "boom", "error text")
	same(packages(9, frame "fresh"), { { 9, "fresh" } }, "after error a new package starts")

	r = table.pack(filter_raw(message(4, 11, 12, nil, "1.2.3.4:5678")))
	eq(r[1], "open", "accept kind")
	eq(r[2], 12, "accept gives the new connection")
	eq(r[3], "1.2.3.4:5678", "accept address")

	r = table.pack(filter_raw(message(7, 13, 64)))
	eq(r[1], "warning", "warning kind")
	eq(r[2], 13, "warning fd")
	eq(r[3], 64, "warning size")

	r = table.pack(filter_raw(message(2, 14, 8888, nil, "0.0.0.0")))
	eq(r[1], "init", "connect kind")
	eq(r[2], 14, "connect id")
	eq(r[3], "0.0.0.0", "connect address")
	eq(r[4], 8888, "connect port")
end

local function test_clear()
	same(packages(15, "\0\9ab"), {}, "partial before clear")
	local kind = data(16, frame "q1" .. frame "q2")
	eq(kind, "more", "queued before clear")
	netpack.clear(queue)
	eq(select("#", netpack.pop(queue)), 0, "clear empties the queue")
	same(packages(15, frame "after"), { { 15, "after" } }, "clear forgets partials")
	netpack.clear(nil)
end

local function test_pack()
	local p, sz = netpack.pack("hello")
	eq(sz, 7, "pack size")
	eq(netpack.tostring(p, sz), "\0\5hello", "pack bytes")

	local src, n = driver.str2p("raw")
	p, sz = netpack.pack(src, n)
	driver.drop(src, n)
	eq(netpack.tostring(p, sz), "\0\3raw", "pack from a pointer")

	p, sz = netpack.pack("")
	eq(netpack.tostring(p, sz), "\0\0", "pack an empty string")

	local max = string.rep("m", 65535)
	p, sz = netpack.pack(max)
	eq(sz, 65537, "pack the largest package")
	eq(netpack.tostring(p, sz), "\255\255" .. max, "largest package bytes")

	local ok, err = pcall(netpack.pack, max .. "m")
	check(not ok and tostring(err):find("too long", 1, true), "oversized package is refused: " .. tostring(err))

	eq(netpack.tostring(nil, 0), "", "tostring of nothing")
end

skynet.start(function()
	test_shapes()
	test_framing()
	test_events()
	test_clear()
	test_pack()
	if failed == 0 then
		skynet.error(string.format("TEST %s PASS", NAME))
	end
	skynet.abort()
end)

-- skynet.netpack on hand-made socket messages: framing across and within
-- messages, the queue, and every message type filter reports.
local skynet = require "skynet"
local netpack = require "skynet.netpack"
local driver = require "skynet.socketdriver"

local T = require "testcase" "netpack_filter"

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
		T.check(kind == nil, "unexpected filter result " .. tostring(kind))
	end
	return out
end

local function packages(fd, bytes)
	return collect(data(fd, bytes))
end

local function same_packages(got, want, what)
	local ok = #got == #want
	for i = 1, #want do
		ok = ok and got[i] and got[i][1] == want[i][1] and got[i][2] == want[i][2]
	end
	if not ok then
		local parts = {}
		for _, v in ipairs(got) do
			parts[#parts + 1] = string.format("%d:%q", v[1], v[2])
		end
		T.check(false, what .. ": got {" .. table.concat(parts, ", ") .. "}")
	end
end

local function frame(s)
	return string.pack(">s2", s)
end

local function test_shapes()
	-- one whole package: "data", fd, msg, sz
	local kind, fd, msg, sz = data(5, frame "hello")
	T.same(kind, "data", "single package kind")
	T.same(fd, 5, "single package fd")
	T.same(sz, 5, "single package size")
	T.same(netpack.tostring(msg, sz), "hello", "single package bytes")

	-- part of a package: nothing but the queue
	local r = table.pack(data(5, "\0\5he"))
	T.same(r.n, 0, "partial package returns only the queue")
	kind, fd, msg, sz = data(5, "llo")
	T.same(kind, "data", "completed package kind")
	T.same(netpack.tostring(msg, sz), "hello", "completed package bytes")

	-- several packages in one message: "more", then pop
	r = table.pack(data(6, frame "a" .. frame "bc" .. frame "def"))
	T.same(r.n, 1, "more carries nothing else")
	T.same(r[1], "more", "several packages kind")
	local got = {}
	for pfd, pmsg, psz in netpack.pop, queue do
		got[#got + 1] = { pfd, netpack.tostring(pmsg, psz) }
	end
	same_packages(got, { { 6, "a" }, { 6, "bc" }, { 6, "def" } }, "popped packages")
	T.same(select("#", netpack.pop(queue)), 0, "pop on an empty queue")
end

local function test_framing()
	same_packages(packages(1, "\0"), {}, "one header byte")
	same_packages(packages(1, "\3abc"), { { 1, "abc" } }, "header split across messages")

	same_packages(packages(1, frame "x" .. "\0\5de"), { { 1, "x" } }, "package then a partial")
	same_packages(packages(1, "fgh" .. frame "i"), { { 1, "defgh" }, { 1, "i" } }, "partial completed, then one more")

	same_packages(packages(1, "\0\0"), { { 1, "" } }, "empty package")
	same_packages(packages(1, "\0\0\0\0" .. frame "z"), { { 1, "" }, { 1, "" }, { 1, "z" } }, "empty packages in a row")

	-- two connections with partial packages at the same time
	same_packages(packages(2, "\0\4ab"), {}, "fd 2 partial")
	same_packages(packages(3, "\0\2x"), {}, "fd 3 partial")
	same_packages(packages(2, "cd"), { { 2, "abcd" } }, "fd 2 completed")
	same_packages(packages(3, "y"), { { 3, "xy" } }, "fd 3 completed")

	-- the largest package, a byte at a time for its header and in chunks after
	local big = string.rep("0123456789abcdef", 4096):sub(1, 65535)
	local wire = frame(big)
	local got = {}
	same_packages(packages(4, wire:sub(1, 1)), {}, "big header first byte")
	local at = 2
	while at <= #wire do
		local chunk = wire:sub(at, at + 999)
		at = at + #chunk
		for _, v in ipairs(packages(4, chunk)) do
			got[#got + 1] = v
		end
	end
	T.same(#got, 1, "the largest package arrives once")
	T.check(got[1] and got[1][2] == big, "the largest package is intact")

	-- many packages in one message grow the queue
	local parts = {}
	for i = 1, 3000 do
		parts[i] = frame(tostring(i))
	end
	local many = packages(7, table.concat(parts))
	T.same(#many, 3000, "3000 packages in one message")
	local order = true
	for i = 1, #many do
		order = order and many[i][2] == tostring(i)
	end
	T.check(order, "3000 packages keep their order")
end

local function test_events()
	-- CLOSE and ERROR forget a partial package
	same_packages(packages(8, "\0\9abc"), {}, "partial before close")
	local r = table.pack(filter_raw(message(3, 8, 0)))
	T.same(r[1], "close", "close kind")
	T.same(r[2], 8, "close fd")
	same_packages(packages(8, frame "new"), { { 8, "new" } }, "after close a new package starts")

	same_packages(packages(9, "\0\9abc"), {}, "partial before error")
	r = table.pack(filter_raw(message(5, 9, 0, nil, "boom")))
	T.same(r[1], "error", "error kind")
	T.same(r[2], 9, "error fd")
	T.same(r[3], "boom", "error text")
	same_packages(packages(9, frame "fresh"), { { 9, "fresh" } }, "after error a new package starts")

	r = table.pack(filter_raw(message(4, 11, 12, nil, "1.2.3.4:5678")))
	T.same(r[1], "open", "accept kind")
	T.same(r[2], 12, "accept gives the new connection")
	T.same(r[3], "1.2.3.4:5678", "accept address")

	r = table.pack(filter_raw(message(7, 13, 64)))
	T.same(r[1], "warning", "warning kind")
	T.same(r[2], 13, "warning fd")
	T.same(r[3], 64, "warning size")

	r = table.pack(filter_raw(message(2, 14, 8888, nil, "0.0.0.0")))
	T.same(r[1], "init", "connect kind")
	T.same(r[2], 14, "connect id")
	T.same(r[3], "0.0.0.0", "connect address")
	T.same(r[4], 8888, "connect port")
end

local function test_clear()
	same_packages(packages(15, "\0\9ab"), {}, "partial before clear")
	local kind = data(16, frame "q1" .. frame "q2")
	T.same(kind, "more", "queued before clear")
	netpack.clear(queue)
	T.same(select("#", netpack.pop(queue)), 0, "clear empties the queue")
	same_packages(packages(15, frame "after"), { { 15, "after" } }, "clear forgets partials")
	netpack.clear(nil)
end

local function test_pack()
	local p, sz = netpack.pack("hello")
	T.same(sz, 7, "pack size")
	T.same(netpack.tostring(p, sz), "\0\5hello", "pack bytes")

	local src, n = driver.str2p("raw")
	p, sz = netpack.pack(src, n)
	driver.drop(src, n)
	T.same(netpack.tostring(p, sz), "\0\3raw", "pack from a pointer")

	p, sz = netpack.pack("")
	T.same(netpack.tostring(p, sz), "\0\0", "pack an empty string")

	local max = string.rep("m", 65535)
	p, sz = netpack.pack(max)
	T.same(sz, 65537, "pack the largest package")
	T.same(netpack.tostring(p, sz), "\255\255" .. max, "largest package bytes")

	local ok, err = pcall(netpack.pack, max .. "m")
	T.check(not ok and tostring(err):find("too long", 1, true), "oversized package is refused: " .. tostring(err))

	T.same(netpack.tostring(nil, 0), "", "tostring of nothing")
end

skynet.start(function()
	test_shapes()
	test_framing()
	test_events()
	test_clear()
	test_pack()
	T.finish()
end)

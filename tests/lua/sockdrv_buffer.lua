-- skynet.socketdriver without sockets: the read buffer (push, pop, readline,
-- readall, clear), header, str2p, unpack, udp_address, resolve and info.
local skynet = require "skynet"
local driver = require "skynet.socketdriver"

local T = require "testcase" "sockdrv_buffer"

local function fill(buf, pool, ...)
	local total
	for _, s in ipairs { ... } do
		local p, n = driver.str2p(s)
		total = driver.push(buf, pool, p, n)
	end
	return total
end

local function test_readline()
	local buf, pool = driver.buffer(), {}
	T.same(fill(buf, pool, "hello", " wor", "ld\r\nsecond\r", "\nthird"), 26, "bytes after push")
	T.same(driver.readline(buf, nil, "\r\n"), true, "line check without a pool")
	T.same(driver.readline(buf, pool, "\r\n"), "hello world", "line across blocks")
	T.same(driver.readline(buf, pool, "\r\n"), "second", "separator across blocks")
	T.same(driver.readline(buf, pool, "\r\n"), nil, "no separator left")
	T.same(driver.readline(buf, nil, "\r\n"), nil, "line check finds none")
	T.same(driver.readall(buf, pool), "third", "readall takes the rest")
	T.same(driver.readall(buf, pool), "", "readall on an empty buffer")
	T.same(driver.readline(buf, pool, "\n"), nil, "readline on an empty buffer")

	fill(buf, pool, "a", "b\r", "\n")
	T.same(driver.readline(buf, pool, "\r\n"), "ab", "separator ends the last block")
	T.same(driver.readall(buf, pool), "", "nothing after the separator")

	fill(buf, pool, "x\n\ny")
	T.same(driver.readline(buf, pool, "\n"), "x", "first of two lines")
	T.same(driver.readline(buf, pool, "\n"), "", "empty line")
	T.same(driver.readline(buf, pool, "\n"), nil, "unterminated line")
	T.same(driver.readall(buf, pool), "y", "unterminated line stays")

	fill(buf, pool, "ab", "<E", "ND", "<EN", "D>tail")
	T.same(driver.readline(buf, pool, "<END>"), "ab<END", "long separator after a false start")
	T.same(driver.readall(buf, pool), "tail", "after the long separator")

	fill(buf, pool, "abc")
	T.same(driver.readline(buf, pool, "abcd"), nil, "separator longer than the data")
	T.same(driver.readall(buf, pool), "abc", "data kept")
end

local function test_pop()
	local buf, pool = driver.buffer(), {}
	fill(buf, pool, "abcdef", "ghij")
	local s, left = driver.pop(buf, pool, 3)
	T.same(s, "abc", "pop inside a block")
	T.same(left, 7, "left after the first pop")
	s, left = driver.pop(buf, pool, 5)
	T.same(s, "defgh", "pop across blocks")
	T.same(left, 2, "left after the second pop")
	s, left = driver.pop(buf, pool, 3)
	T.same(s, nil, "pop more than there is")
	T.same(left, 2, "a failed pop keeps the data")
	s, left = driver.pop(buf, pool, 0)
	T.same(s, nil, "pop nothing")
	s, left = driver.pop(buf, pool, 2)
	T.same(s, "ij", "pop the rest")
	T.same(left, 0, "empty after popping everything")

	-- many small blocks
	local parts = {}
	for i = 1, 1000 do
		parts[i] = string.format("%09d\n", i)
	end
	T.same(fill(buf, pool, table.unpack(parts)), 10000, "1000 blocks pushed")
	s, left = driver.pop(buf, pool, 9995)
	T.same(s, table.concat(parts):sub(1, 9995), "pop across 1000 blocks")
	T.same(left, 5, "left after the big pop")
	T.same(driver.readline(buf, pool, "\n"), "1000", "line in the last block")

	fill(buf, pool, "dropped", "too")
	driver.clear(buf, pool)
	T.same(driver.readall(buf, pool), "", "clear empties the buffer")
	T.same(fill(buf, pool, "again"), 5, "a cleared buffer counts from zero")
	driver.clear(nil, pool)

	T.check(not pcall(driver.pop, {}, pool, 1), "pop needs a buffer")
	T.check(not pcall(driver.push, buf, pool, nil, 1), "push needs a message block")
	T.check(not pcall(driver.readline, "x", pool, "\n"), "readline needs a buffer")

	local p, n = driver.str2p("freed")
	T.same(n, 5, "str2p size")
	driver.drop(p, n)
end

local function test_header()
	T.same(driver.header("\0\1"), 1, "2-byte header")
	T.same(driver.header("\1\2\3\4"), 0x01020304, "4-byte header")
	T.same(driver.header("\255"), 255, "1-byte header")
	T.check(not pcall(driver.header, ""), "empty header is refused")
	T.check(not pcall(driver.header, "12345"), "5-byte header is refused")
end

local function address_of(p)
	return tonumber(tostring(p):match("0x(%x+)"), 16)
end

local function test_unpack()
	local text = "10.0.0.1"
	local m, sz = driver.str2p(string.pack("=i4i4i4i4T", 2, 3, 8080, 0, 0) .. text)
	local t, id, ud, s = driver.unpack(m, sz)
	driver.drop(m, sz)
	T.same(t, 2, "unpack type")
	T.same(id, 3, "unpack id")
	T.same(ud, 8080, "unpack ud")
	T.same(s, text, "unpack padding string")

	local data, n = driver.str2p("payload")
	m, sz = driver.str2p(string.pack("=i4i4i4i4T", 1, 4, n, 0, address_of(data)))
	local r = table.pack(driver.unpack(m, sz))
	driver.drop(m, sz)
	T.same(r.n, 4, "a data message has four values")
	T.same(r[1], 1, "data type")
	T.same(r[3], 7, "data size")
	T.same(type(r[4]), "userdata", "data buffer is a pointer")
	T.same(address_of(r[4]), address_of(data), "data buffer is the message's block")
	driver.drop(data, n)
end

local function test_addresses()
	local ip, port = driver.udp_address("\1" .. string.pack(">I2", 8765) .. "\127\0\0\1")
	T.same(ip, "127.0.0.1", "udp v4 address")
	T.same(port, 8765, "udp v4 port")
	ip, port = driver.udp_address("\2" .. string.pack(">I2", 443) .. string.rep("\0", 15) .. "\1")
	T.same(ip, "::1", "udp v6 address")
	T.same(port, 443, "udp v6 port")
	T.check(not pcall(driver.udp_address, "\1\0"), "short udp address is refused")

	local list = driver.resolve("127.0.0.1")
	T.same(type(list), "table", "resolve gives a table")
	T.same(list[1], "127.0.0.1", "resolve a literal address")

	T.same(type(driver.info()), "table", "info gives a table")
	T.same(driver.send(0x7ffffff0, "nobody"), false, "send to an unknown socket")
	T.check(not pcall(driver.connect, "127.0.0.1"), "connect without a port")
end

skynet.start(function()
	test_readline()
	test_pop()
	test_header()
	test_unpack()
	test_addresses()
	T.finish()
end)

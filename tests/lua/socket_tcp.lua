-- skynet.socket servers and clients inside one node: reads of every kind, closes while a
-- reader waits, shutdown, limits, hand-off to another service, netstat.
local skynet = require "skynet"
require "skynet.manager"
local socket = require "skynet.socket"

local NAME = "socket_tcp"

local T = require "testcase" (NAME)
local check, same = T.check, T.same

-- A one-shot value one coroutine hands to another.
local function future()
	local f = {}
	local waiting
	function f.set(...)
		f.value = table.pack(...)
		if waiting then
			skynet.wakeup(waiting)
		end
	end
	function f.get()
		if not f.value then
			waiting = coroutine.running()
			skynet.wait(waiting)
			waiting = nil
		end
		return table.unpack(f.value, 1, f.value.n)
	end
	return f
end

-- Listens on a fresh port, connects to it, and runs `server(id)` on the accepted side in
-- its own coroutine. Returns the client id and a future of the server's results.
local function pair(server)
	local lid, addr, port = socket.listen("127.0.0.1", 0)
	same(addr, "127.0.0.1", "listen address")
	check(port > 0, "listen port", port)
	local result = future()
	local accepted = future()
	socket.start(lid, function(id, peer)
		check(peer:match("^127%.0%.0%.1:%d+$"), "peer address", peer)
		accepted.set()
		skynet.fork(function()
			same(socket.start(id), id, "start accepted socket")
			result.set(server(id))
		end)
	end)
	local cid = assert(socket.open("127.0.0.1", port))
	accepted.get()
	socket.close(lid)
	check(socket.invalid(lid), "listen socket closed")
	return cid, result
end

local cases = {}

function cases.read_n()
	local cid, res = pair(function(id)
		local a = socket.read(id, 5)
		local b = socket.read(id, 1)
		local c = socket.read(id, 5)
		local z = socket.read(id, 0)
		socket.close(id)
		return a, b, c, z
	end)
	socket.write(cid, "hel")
	socket.write(cid, "lo wor")
	socket.write(cid, "ld")
	local a, b, c, z = res.get()
	same(a, "hello", "read 5")
	same(b, " ", "read 1")
	same(c, "world", "read 5 again")
	same(z, "", "read 0")
	local ok, rest = socket.read(cid)
	same(ok, false, "client sees the server close")
	same(rest, "", "nothing left")
	socket.close(cid)
end

function cases.readline_separators()
	local cid, res = pair(function(id)
		local got = {}
		got[1] = socket.readline(id)
		got[2] = socket.readline(id, "\r\n")
		got[3] = socket.readline(id, "||")
		got[4] = socket.readline(id, ";;")
		got[5] = socket.readline(id, "\n")
		got[6] = socket.read(id, 1)
		socket.close(id)
		return got
	end)
	for _, piece in ipairs { "line1\nli", "ne2\r", "\nab|", "|cd;", ";;\n", "x" } do
		socket.write(cid, piece)
	end
	local got = res.get()
	same(got[1], "line1", "readline default")
	same(got[2], "line2", "readline CRLF")
	same(got[3], "ab", "readline || split across writes")
	same(got[4], "cd", "readline ;; leaves the third ;")
	same(got[5], ";", "empty-ish line")
	same(got[6], "x", "rest after lines")
	socket.close(cid)
end

function cases.read_available_and_readall()
	local cid, res = pair(function(id)
		local first = socket.read(id)
		local rest = socket.readall(id)
		local again = socket.readall(id)
		local ok, tail = socket.read(id)
		socket.close(id)
		return first, rest, again, ok, tail
	end)
	socket.write(cid, "abc")
	socket.write(cid, "def")
	socket.write(cid, "ghi")
	socket.close(cid)
	local first, rest, again, ok, tail = res.get()
	check(type(first) == "string" and #first > 0, "read() returns some bytes", first)
	same(first .. rest, "abcdefghi", "read() then readall() see everything")
	same(again, false, "readall after close with nothing left")
	same(ok, false, "read() after close")
	same(tail, "", "read() after close leaves nothing")
end

-- The peer closes while a reader is parked in read(n) / readline.
function cases.peer_close_while_reading()
	local waiting = future()
	local cid, res = pair(function(id)
		local head = socket.read(id, 2)
		waiting.set()
		local ok, rest = socket.read(id, 10)
		return head, ok, rest, socket.disconnected(id)
	end)
	socket.write(cid, "abcde")
	waiting.get()
	socket.close(cid)
	local head, ok, rest, gone = res.get()
	same(head, "ab", "read before the close")
	same(ok, false, "read(n) returns false at close")
	same(rest, "cde", "read(n) returns what was left")
	same(gone, true, "disconnected after the peer closed")

	waiting = future()
	cid, res = pair(function(id)
		waiting.set()
		local ok, rest = socket.readline(id, "\n")
		local line_after = socket.readline(id)
		socket.close(id)
		return ok, rest, line_after
	end)
	waiting.get()
	socket.write(cid, "no newline")
	socket.close(cid)
	local ok2, rest2, after = res.get()
	same(ok2, false, "readline returns false at close")
	same(rest2, "no newline", "readline returns the partial line")
	same(after, false, "readline after close")
end

-- socket.close from one coroutine while another is parked reading the same socket.
function cases.local_close_while_reading()
	local parked = future()
	local cid, res = pair(function(id)
		local reader_done = future()
		skynet.fork(function()
			local head = socket.read(id, 2)
			parked.set(head)
			reader_done.set(socket.read(id, 100))
		end)
		parked.get()
		socket.close(id)
		return socket.invalid(id), reader_done.get()
	end)
	socket.write(cid, "xyzw")
	local invalid, ok, rest = res.get()
	same(parked.get(), "xy", "reader's first read")
	same(invalid, true, "closed socket is invalid")
	same(ok, false, "parked reader gets false")
	same(rest, "zw", "parked reader gets the buffered bytes")
	local eof = socket.read(cid)
	same(eof, false, "client sees the close")
	socket.close(cid)
end

function cases.block()
	local seen = future()
	local cid, res = pair(function(id)
		local first = socket.block(id)
		seen.set(socket.read(id))
		local second = socket.block(id)
		socket.close(id)
		return first, second, socket.block(id)
	end)
	socket.write(cid, "ping")
	same(seen.get(), "ping", "data after block")
	socket.close(cid)
	local first, second, closed = res.get()
	same(first, true, "block returns true on data")
	same(second, false, "block returns false on close")
	same(closed, false, "block on a closed socket")
end

function cases.shutdown()
	local cid, res = pair(function(id)
		local line = socket.readline(id)
		socket.write(id, "bye\n")
		socket.shutdown(id)
		local ok = socket.read(id)
		socket.close(id)
		return line, ok
	end)
	socket.write(cid, "hi\n")
	local line, ok = res.get()
	same(line, "hi", "line before shutdown")
	same(ok, false, "read after own shutdown")
	local rest = socket.readall(cid)
	check(rest == false or rest == "" or rest == "bye\n", "shutdown drops or flushes", rest)
	same(socket.disconnected(cid), true, "client disconnected after shutdown")
	socket.close(cid)
end

function cases.limit_and_onclose()
	local closed = future()
	local cid, res = pair(function(id)
		socket.limit(id, 16)
		socket.onclose(id, function(fd)
			closed.set(fd)
		end)
		local ok, rest = socket.readline(id)
		socket.close(id)
		return id, ok, rest
	end)
	socket.write(cid, string.rep("z", 64))
	local id, ok, rest = res.get()
	same(ok, false, "readline over the limit fails")
	check(type(rest) == "string" and #rest > 16, "overflowing bytes are returned", rest and #rest)
	same(closed.get(), id, "onclose callback")
	socket.close(cid)
end

-- Reading paused by hand resumes for a reader; a read satisfied with more than the pause
-- threshold buffered pauses again, and the next read resumes once more.
function cases.pause_and_big_buffer()
	local size = 600 * 1024
	local paused = future()
	local cid, res = pair(function(id)
		socket.pause(id)
		paused.set()
		local data = socket.read(id, size)
		local tail = socket.read(id, 4)
		socket.close(id)
		return data, tail
	end)
	local blob = {}
	for i = 1, size // 8 do
		blob[i] = string.format("%08d", i)
	end
	blob = table.concat(blob)
	paused.get()
	socket.write(cid, blob)
	socket.write(cid, "tail")
	local data, tail = res.get()
	check(data == blob, "600K read back intact", data and #data)
	same(tail, "tail", "read after the automatic pause")
	socket.close(cid)
end

-- A peer that does not read makes the write backlog grow past 1M: the warning callback
-- hears about it, and hears 0 once the backlog has drained.
function cases.warning()
	local size = 16 * 1024 * 1024
	local paused, go = future(), future()
	local cid, res = pair(function(id)
		socket.pause(id)
		paused.set()
		go.get()
		local data = socket.read(id, size)
		socket.close(id)
		return data and #data
	end)
	local backlog, drained = future(), future()
	socket.warning(cid, function(id, kbytes)
		if kbytes > 0 then
			if not backlog.value then
				backlog.set(id, kbytes)
			end
		else
			drained.set(id)
		end
	end)
	paused.get()
	socket.write(cid, string.rep("w", size))
	local id, kbytes = backlog.get()
	same(id, cid, "warning names the socket")
	check(kbytes >= 1024, "warning reports at least 1M pending", kbytes)
	go.set()
	same(res.get(), size, "everything arrives after the warning")
	same(drained.get(), cid, "warning with 0 once drained")
	socket.close(cid)
end

function cases.lwrite_and_header()
	local cid, res = pair(function(id)
		local head = socket.read(id, 2)
		local n = socket.header(head)
		local body = socket.read(id, n)
		socket.close(id)
		return n, body
	end)
	socket.lwrite(cid, string.pack(">s2", "low priority"))
	local n, body = res.get()
	same(n, 12, "header decodes 2 bytes")
	same(body, "low priority", "lwrite delivers")
	same(socket.header("\1\0\0"), 65536, "header decodes 3 bytes")
	check(not pcall(socket.header, "12345"), "header rejects 5 bytes")
	socket.close(cid)
end

-- A socket read in this service is abandoned and started by another one.
function cases.handoff()
	local peer = skynet.newservice("socket_peer")
	local cid, res = pair(function(id)
		local first = socket.readline(id)
		socket.abandon(id)
		local invalid = socket.invalid(id)
		local reply = skynet.call(peer, "lua", "take", id)
		return first, invalid, reply
	end)
	socket.write(cid, "first\n")
	local first, invalid, reply = res.get()
	same(first, "first", "line read before the hand-off")
	same(invalid, true, "abandoned socket is invalid here")
	same(reply, "started", "peer started the socket")
	socket.write(cid, "second\n")
	same(socket.readline(cid), "peer:second", "peer answers on the handed-over socket")
	socket.close(cid)
	same(skynet.call(peer, "lua", "wait_close"), true, "peer sees the close")
	skynet.send(peer, "lua", "exit")
end

-- netstat lists started sockets with their owner (a listen socket only once started).
function cases.netstat()
	local cid, res = pair(function(id)
		local line = socket.readline(id)
		return id, line
	end)
	socket.write(cid, "counted\n")
	local sid, line = res.get()
	same(line, "counted", "line before netstat")
	local found
	for _, info in ipairs(socket.netstat()) do
		if info.id == sid then
			found = info
		end
	end
	if check(found, "accepted socket in netstat", sid) then
		same(found.type, "TCP", "netstat type")
		same(found.address, skynet.self(), "netstat owner")
		same(found.read, 8, "netstat read bytes")
		check(type(found.peer) == "string" and found.peer:find("127.0.0.1", 1, true), "netstat peer", found.peer)
	end
	socket.close(sid)
	socket.close(cid)
end

function cases.open_failures()
	-- A port nobody listens on: connect is refused.
	local lid, _, port = socket.listen("127.0.0.1", 0)
	socket.close(lid)
	local id, err = socket.open("127.0.0.1", port)
	same(id, nil, "open to a closed port fails")
	check(type(err) == "string", "open failure has a reason", err)
	check(not pcall(socket.read, 987654), "read on an unknown id raises")
	same(socket.invalid(987654), true, "unknown id is invalid")
	same(socket.block(987654), false, "block on an unknown id")
end

skynet.start(function()
	local order = {
		"read_n", "readline_separators", "read_available_and_readall", "peer_close_while_reading",
		"local_close_while_reading", "block", "shutdown", "limit_and_onclose", "pause_and_big_buffer",
		"warning", "lwrite_and_header", "handoff", "netstat", "open_failures",
	}
	for _, name in ipairs(order) do
		local ok, err = pcall(cases[name])
		check(ok, name, err)
		skynet.error("case", name, "done")
	end
	T.finish()
end)

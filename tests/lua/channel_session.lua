-- skynet.socketchannel in session mode against tests/py/channel_peer.py (session mode),
-- which answers the requests it holds newest first. Args: the peer's port.
local skynet = require "skynet"
require "skynet.manager"
local sc = require "skynet.socketchannel"

local NAME = "channel_session"
local port = math.tointeger(tonumber((...)))

local T = require "testcase" (NAME)
local check, same = T.check, T.same

-- "<session> ok|more|err <data>": more is a part of a longer reply.
local function respond(sock)
	local line = sock:readline("\n")
	local session, kind, data = line:match("^(%d+) (%a+) (.*)$")
	if not session then
		error("bad reply " .. line)
	end
	return math.tointeger(session), kind ~= "err", data, kind == "more"
end

local next_session = 0

local function request(ch, hold, cmd)
	next_session = next_session + 1
	local session = next_session
	return ch:request(string.format("%d %d %s\n", session, hold, cmd), session)
end

-- Runs f(i) for i = 1..n in forked coroutines (in that order); returns their results and
-- the order in which they finished.
local function concurrently(n, f)
	local results, finished = {}, {}
	local me = coroutine.running()
	for i = 1, n do
		skynet.fork(function()
			results[i] = table.pack(pcall(f, i))
			finished[#finished + 1] = i
			if #finished == n then
				skynet.wakeup(me)
			end
		end)
	end
	skynet.wait(me)
	return results, finished
end

local function cases()
	local connects = 0
	local ch = sc.channel {
		host = "127.0.0.1",
		port = port,
		response = respond,
		auth = function()
			connects = connects + 1
		end,
	}
	same(request(ch, 1, "hello"), "hello", "one request")

	-- Five requests answered in reverse order: each caller gets its own reply.
	local results, finished = concurrently(5, function(i)
		return request(ch, 5, "r" .. i)
	end)
	for i = 1, 5 do
		check(results[i][1], "request", i, results[i][2])
		same(results[i][2], "r" .. i, "reply " .. i)
	end
	same(table.concat(finished, ","), "5,4,3,2,1", "replies arrived out of order")

	-- An error reply, a reply in parts, a reply for a session nobody waits for.
	local ok, err = pcall(request, ch, 1, "ERR")
	check(not ok, "error reply raises")
	check(type(err) == "string" and err:find(": failed$"), "error reply message", err)
	local parts = request(ch, 1, "MULTI")
	same(type(parts), "table", "reply in parts is a list")
	same(table.concat(parts, ","), "a,b,c", "parts")
	same(request(ch, 1, "GHOST"), "real", "unknown session skipped")
	same(connects, 1, "one connection so far")

	-- The peer closes with three requests waiting: all of them get socketchannel.error.
	results = concurrently(3, function(i)
		if i < 3 then
			return request(ch, 5, "held" .. i)
		end
		return request(ch, 1, "DROP")
	end)
	for i = 1, 3 do
		same(results[i][1], false, "request " .. i .. " under DROP fails")
		same(results[i][2], sc.error, "request " .. i .. " under DROP raises socketchannel.error")
	end
	same(request(ch, 1, "back"), "back", "reconnected after the peer closed")
	same(connects, 2, "auth ran on the new connection")

	-- The peer closes in the middle of a reply, with another request waiting.
	results = concurrently(2, function(i)
		if i == 1 then
			return request(ch, 5, "held")
		end
		return request(ch, 1, "HALF")
	end)
	for i = 1, 2 do
		same(results[i][1], false, "request " .. i .. " under HALF fails")
		same(results[i][2], sc.error, "request " .. i .. " under HALF raises socketchannel.error")
	end
	same(request(ch, 1, "whole"), "whole", "reconnected after a half reply")
	same(connects, 3, "auth ran after the half reply")

	-- A reply the response function can't read: it raises, every waiting caller gets that
	-- error and the connection is dropped.
	results = concurrently(2, function(i)
		if i == 1 then
			return request(ch, 5, "held")
		end
		return request(ch, 1, "BAD")
	end)
	for i = 1, 2 do
		local err = results[i][2]
		same(results[i][1], false, "request " .. i .. " under BAD fails")
		check(type(err) == "string" and err:find("bad reply !garbage", 1, true), "request " .. i
			.. " gets the response function's error", tostring(err))
	end
	same(request(ch, 1, "fresh"), "fresh", "reconnected after an unreadable reply")
	same(connects, 4, "auth ran after the unreadable reply")

	-- close with a request waiting: it fails, and so does the next request.
	results = concurrently(2, function(i)
		if i == 1 then
			return request(ch, 2, "waiting")
		end
		ch:close()
		return "closed"
	end)
	same(results[1][1], false, "request waiting at close fails")
	same(results[1][2], sc.error, "request waiting at close raises socketchannel.error")
	ok = pcall(request, ch, 1, "after")
	check(not ok, "request on a closed channel raises")
	same(ch:connect(true), true, "connect again")
	same(request(ch, 1, "again"), "again", "request after connecting again")
	ch:close()
end

skynet.start(function()
	local ok, err = pcall(cases)
	check(ok, "cases raised", tostring(err))
	T.finish()
end)

-- skynet.socketchannel in order mode against tests/py/channel_peer.py (order mode, auth
-- token "sesame"). Args: the peer's port, a port nobody listens on.
local skynet = require "skynet"
require "skynet.manager"
local sc = require "skynet.socketchannel"

local NAME = "channel_order"
local port, dead_port = ...
port = math.tointeger(tonumber(port))
dead_port = math.tointeger(tonumber(dead_port))

local T = require "testcase" (NAME)
local check, same = T.check, T.same

-- One reply line: "-why" is a refusal, "!..." a reply the reader can't make sense of.
local function line_reader(sock)
	local line = sock:readline("\n")
	local first = line:sub(1, 1)
	if first == "-" then
		return false, line:sub(2)
	elseif first == "!" then
		error("bad reply " .. line)
	end
	return true, line
end

-- Lines until "end", as parts of one reply.
local function parts_reader(sock)
	local line = sock:readline("\n")
	return true, line, line ~= "end"
end

local function request(ch, text)
	return ch:request(text .. "\n", line_reader)
end

local auth_runs = 0

local function authed_channel(token, extra)
	local desc = {
		host = "127.0.0.1",
		port = port,
		auth = function(ch)
			auth_runs = auth_runs + 1
			local reply = ch:request("AUTH " .. token .. "\n", line_reader)
			if reply ~= "OK" then
				error("auth refused: " .. reply)
			end
		end,
	}
	for k, v in pairs(extra or {}) do
		desc[k] = v
	end
	return sc.channel(desc)
end

-- Runs f(i) for i = 1..n in forked coroutines; returns their results once all are done.
local function concurrently(n, f)
	local results, left = {}, n
	local me = coroutine.running()
	for i = 1, n do
		skynet.fork(function()
			results[i] = table.pack(pcall(f, i))
			left = left - 1
			if left == 0 then
				skynet.wakeup(me)
			end
		end)
	end
	skynet.wait(me)
	return results
end

local function basic_cases()
	local ch = authed_channel("sesame")
	same(ch:connect(true), true, "connect once")
	same(auth_runs, 1, "auth ran on connect")
	same(request(ch, "ECHO hello"), "hello", "echo")
	same(request(ch, "WHO"), "conn 1 gen 1", "first connection")

	-- Requests from many coroutines, answered in order.
	local results = concurrently(20, function(i)
		return request(ch, "ECHO n" .. i)
	end)
	for i = 1, 20 do
		check(results[i][1], "concurrent request", i, results[i][2])
		same(results[i][2], "n" .. i, "concurrent reply " .. i)
	end

	-- A reply in parts.
	local parts = ch:request("MULTI 3\n", parts_reader)
	same(type(parts), "table", "multi-part reply is a list")
	same(table.concat(parts, ","), "part1,part2,part3,end", "multi-part reply")

	-- A request without reply, then one with.
	same(ch:request("ECHO ignored\n"), nil, "no response wanted")
	same(request(ch, "ECHO after"), "ignored", "the unread reply comes next")
	same(request(ch, "ECHO x"), "after", "and order is kept")
	same(ch:response(line_reader), "x", "response reads the next reply")

	-- A reply nobody asked for, read with response().
	same(request(ch, "PUSH pushed"), "pushed", "push request")
	same(ch:response(line_reader), "pushed", "pushed reply")

	-- padding: a request in several pieces.
	same(ch:request("ECHO ", line_reader, { "pad", "ded\n" }), "padded", "padding parts")

	-- A reader answering false: the caller gets the message; the connection stays.
	local ok, err = pcall(request, ch, "FAIL")
	check(not ok, "FAIL raises")
	check(type(err) == "string" and err:find(": refused$"), "the reader's message, raised where the caller waits", err)
	same(request(ch, "WHO"), "conn 1 gen 1", "connection kept after a refusal")
	same(auth_runs, 1, "no new auth after a refusal")

	-- A reader raising: the caller gets that error, the connection is dropped.
	ok, err = pcall(request, ch, "BAD")
	check(not ok, "BAD raises")
	check(type(err) == "string" and err:find("bad reply !garbage", 1, true), "reader error reaches the caller", err)
	same(request(ch, "WHO"), "conn 2 gen 1", "reconnected after a reader error")
	same(auth_runs, 2, "auth ran again on the new connection")

	-- The peer closes before answering: the caller and the request queued behind it get
	-- socketchannel.error itself.
	results = concurrently(2, function(i)
		return request(ch, i == 1 and "DROP" or "ECHO queued")
	end)
	same(results[1][1], false, "DROP fails")
	same(results[1][2], sc.error, "DROP raises socketchannel.error")
	same(results[2][1], false, "request queued behind DROP fails")
	same(results[2][2], sc.error, "queued request raises socketchannel.error")
	same(tostring(sc.error), "[Error: socket]", "socket error string")
	same(request(ch, "WHO"), "conn 3 gen 1", "reconnected after the peer closed")
	same(auth_runs, 3, "auth ran again after the peer closed")

	-- The peer closes in the middle of a reply.
	ok, err = pcall(request, ch, "HALF")
	check(not ok and err == sc.error, "a half reply raises socketchannel.error", err)
	same(request(ch, "ECHO alive"), "alive", "usable after a half reply")

	-- The server restarts (listens anew, drops every connection) under a request.
	ok, err = pcall(request, ch, "RESTART")
	check(not ok and err == sc.error, "restart under a request raises socketchannel.error", err)
	same(request(ch, "WHO"), "conn 5 gen 2", "connected to the restarted server")
	same(auth_runs, 5, "auth ran on each connection")

	-- The peer closes while the channel is idle: at most the next request fails.
	ch:request("DROP\n")
	ok, err = pcall(request, ch, "ECHO maybe")
	check((ok and err == "maybe") or (not ok and err == sc.error), "request after an idle close", tostring(err))
	same(request(ch, "ECHO again"), "again", "usable after an idle close")

	-- close: requests fail until connect is called again.
	ch:close()
	same(ch.__closed, true, "closed flag")
	ok = pcall(request, ch, "ECHO closed")
	check(not ok, "request on a closed channel raises")
	same(ch:connect(true), true, "connect after close")
	same(request(ch, "ECHO reopened"), "reopened", "request after reconnect")
	ch:close()

	-- close under a reply being read (the peer holds it) and a request queued behind it:
	-- the connection fails under both, so both get socketchannel.error.
	same(ch:connect(true), true, "connect before closing under requests")
	results = concurrently(3, function(i)
		if i == 1 then
			return request(ch, "SINK")
		elseif i == 2 then
			return request(ch, "ECHO queued")
		end
		ch:close()
		return "closed"
	end)
	for i = 1, 2 do
		same(results[i][1], false, "request " .. i .. " under close fails")
		same(results[i][2], sc.error, "request " .. i .. " under close raises socketchannel.error")
	end

	-- a reader closing the channel: its reply is delivered, the request behind it gets
	-- "channel_closed".
	same(ch:connect(true), true, "connect before a reader closes")
	results = concurrently(2, function(i)
		if i == 1 then
			return ch:request("ECHO first\n", function(sock)
				local ok, line = line_reader(sock)
				ch:close()
				return ok, line
			end)
		end
		return request(ch, "ECHO second")
	end)
	check(results[1][1] and results[1][2] == "first", "the reply read before the close", tostring(results[1][2]))
	check(not results[2][1] and tostring(results[2][2]):find(": channel_closed$"), "the request behind it",
		tostring(results[2][2]))
end

local function connect_cases()
	-- Nobody listening: connect(true) raises socketchannel.error.
	local ch = sc.channel { host = "127.0.0.1", port = dead_port }
	local ok, err = pcall(ch.connect, ch, true)
	check(not ok and err == sc.error, "connect to a dead port raises socketchannel.error", tostring(err))
	ok, err = pcall(request, ch, "ECHO x")
	check(not ok and err == sc.error, "request to a dead port raises socketchannel.error", tostring(err))

	-- changehost moves the channel.
	ch:changehost("127.0.0.1", port)
	same(request(ch, "AUTH sesame"), "OK", "changehost to the live server")
	same(ch.__port, port, "port after changehost")
	ch:close()

	-- The backup list is tried after the main host.
	ch = authed_channel("sesame", { port = dead_port, backup = { { host = "127.0.0.1", port = port } } })
	same(request(ch, "ECHO via backup"), "via backup", "request through the backup host")
	same(ch.__port, port, "channel moved to the backup port")
	ch:close()

	-- A backup given as a bare host uses the channel's port.
	ch = authed_channel("sesame", { host = "127.0.0.2", backup = { "127.0.0.1" } })
	same(request(ch, "ECHO bare backup"), "bare backup", "bare backup host")
	same(ch.__host, "127.0.0.1", "host after a bare backup")
	ch:close()

	-- auth may move the channel (a redirect, here to the same address): it then connects
	-- anew and runs auth there.
	local moves = 0
	ch = sc.channel {
		host = "127.0.0.1",
		port = port,
		auth = function(c)
			moves = moves + 1
			if moves == 1 then
				c:changehost("127.0.0.1")
				return
			end
			same(c:request("AUTH sesame\n", line_reader), "OK", "auth after the move")
		end,
	}
	same(request(ch, "ECHO moved"), "moved", "request after auth moved the channel")
	same(moves, 2, "auth ran on both addresses")
	ch:close()

	-- Failed auth: the connection is refused as a whole.
	local before = auth_runs
	ch = authed_channel("wrong")
	ok, err = pcall(ch.connect, ch, true)
	check(not ok and err == sc.error, "failed auth raises socketchannel.error", tostring(err))
	same(auth_runs, before + 1, "auth ran once")
	ch:close()

	-- nodelay reaches the socket driver, for the channel's own connection only.
	local driver = require "skynet.socketdriver"
	local real_nodelay = driver.nodelay
	local nodelayed = {}
	driver.nodelay = function(fd)
		nodelayed[#nodelayed + 1] = fd
		return real_nodelay(fd)
	end
	ch = authed_channel("sesame", { nodelay = true })
	same(request(ch, "ECHO nodelay"), "nodelay", "request with nodelay")
	same(#nodelayed, 1, "nodelay set on connect")
	same(nodelayed[1], ch.__sock and ch.__sock[1], "nodelay set on the channel's socket")
	ch:close()
	ch = authed_channel("sesame")
	same(request(ch, "ECHO delay"), "delay", "request without nodelay")
	same(#nodelayed, 1, "no nodelay unless asked")
	ch:close()
	driver.nodelay = real_nodelay

	-- connect() without `once` keeps trying until a connection passes auth.
	local tries = 0
	ch = sc.channel {
		host = "127.0.0.1",
		port = port,
		auth = function(c)
			tries = tries + 1
			local reply = c:request("AUTH " .. (tries == 1 and "wrong" or "sesame") .. "\n", line_reader)
			if reply ~= "OK" then
				error("auth refused: " .. reply)
			end
		end,
	}
	same(ch:connect(), true, "connect retries")
	same(tries, 2, "a second connection after the refused one")
	same(request(ch, "ECHO retried"), "retried", "request after the retry")
	ch:close()

	-- Custom socket_readline is what readers call.
	local custom = 0
	ch = authed_channel("sesame", {
		socket_readline = function(sock, sep)
			custom = custom + 1
			return assert(require("skynet.socket").readline(sock[1], sep))
		end,
	})
	same(request(ch, "ECHO custom"), "custom", "request with socket_readline")
	check(custom >= 2, "socket_readline used", custom)
	ch:close()
end

local function overload_case()
	local events = {}
	local waiter
	local function notify(on)
		events[#events + 1] = on
		if waiter then
			local co = waiter
			waiter = nil
			skynet.wakeup(co)
		end
	end
	local function next_event()
		while #events == 0 do
			waiter = coroutine.running()
			skynet.wait(waiter)
		end
		return table.remove(events, 1)
	end
	local ch = authed_channel("sesame", { overload = notify })
	ch:request("SINK\n")
	-- The peer reads nothing now: send until the backlog is reported.
	local chunk = string.rep("x", 1 << 20)
	local sent = 0
	while #events == 0 and sent < 1024 do
		ch:request(chunk)
		sent = sent + 1
		skynet.yield()
	end
	same(next_event(), true, "overload reported")
	-- Let the peer read again; the backlog drains.
	local other = authed_channel("sesame")
	same(request(other, "RELEASE"), "released", "release the sink")
	other:close()
	same(next_event(), false, "overload over")
	ch:close()
end

skynet.start(function()
	for _, case in ipairs { basic_cases, connect_cases, overload_case } do
		local ok, err = pcall(case)
		check(ok, "case raised", tostring(err))
	end
	T.finish()
end)

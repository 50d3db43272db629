-- snax.loginserver and snax.msgserver driven by a client written here with skynet.socket
-- and skynet.crypt: every login answer (200/401/403/406), every handshake answer
-- (200/400/401/403/404), requests, errors, replays after a reconnect, the response cache
-- limit, session conflicts, kick and logout; and a second login server with multilogin
-- on. Args: login_port gate_port multi_port.
local skynet = require "skynet"
require "skynet.manager"
local socket = require "skynet.socket"
local crypt = require "skynet.crypt"

local NAME = "login_protocol"
local login_port, gate_port, multi_port = ...
login_port = math.tointeger(tonumber(login_port))
gate_port = math.tointeger(tonumber(gate_port))
multi_port = math.tointeger(tonumber(multi_port))

local T = require "testcase" (NAME)
local check, same = T.check, T.same

---------------------------------------------------------------- "hold" requests

-- The gate's "hold" handler calls us; the call is answered by release_hold.
local held = {}	-- pending responses to "held" calls
local hold_waiter

local function wait_hold()
	if #held == 0 then
		hold_waiter = coroutine.running()
		skynet.wait(hold_waiter)
	end
end

local function release_hold(text)
	local reply = table.remove(held, 1)
	reply(true, text)
end

-- The gate's disconnect_handler reports each call to us.
local afk = {}	-- username -> calls so far
local afk_waiter

local function wait_afk(name, count)
	while (afk[name] or 0) < count do
		afk_waiter = coroutine.running()
		skynet.wait(afk_waiter)
	end
end

---------------------------------------------------------------- login client

-- How a login goes wrong on purpose: "hmac" (a bad challenge answer), "key" (a client
-- key of the wrong size). `port` is login_port unless given.
local function login(user, password, spoil, port)
	local fd = assert(socket.open("127.0.0.1", port or login_port))
	local challenge = crypt.base64decode(assert(socket.readline(fd)))
	local private = crypt.randomkey()
	local public = crypt.dhexchange(private)
	if spoil == "key" then
		public = public .. "x"
	end
	socket.write(fd, crypt.base64encode(public) .. "\n")
	local answer, secret
	if spoil == "key" then
		answer = socket.readline(fd)
	else
		local server_public = assert(socket.readline(fd))
		secret = crypt.dhsecret(crypt.base64decode(server_public), private)
		local proof = crypt.hmac64(challenge, secret)
		if spoil == "hmac" then
			proof = crypt.hmac64(proof, secret)
		end
		socket.write(fd, crypt.base64encode(proof) .. "\n")
		local token = user .. ":" .. password
		socket.write(fd, crypt.base64encode(crypt.desencode(secret, token)) .. "\n")
		answer = socket.readline(fd)
	end
	-- the server closes the connection after its answer
	local more = socket.read(fd)
	same(more, false, "login connection closed after the answer " .. tostring(answer))
	socket.close(fd)
	local subid
	if answer and answer:sub(1, 4) == "200 " then
		subid = crypt.base64decode(answer:sub(5))
	end
	return answer, subid, secret
end

---------------------------------------------------------------- gate client

local function send_packet(fd, text)
	socket.write(fd, string.pack(">s2", text))
end

-- The next packet, or false when the server closed the connection.
local function recv_packet(fd)
	local head = socket.read(fd, 2)
	if not head then
		return false
	end
	return assert(socket.read(fd, string.unpack(">I2", head)))
end

local function username(user, subid)
	return crypt.base64encode(user) .. "@" .. crypt.base64encode("tgs") .. "#" .. crypt.base64encode(subid)
end

local function signed(name, index, secret)
	local text = name .. ":" .. index
	return text .. ":" .. crypt.base64encode(crypt.hmac64(crypt.hashkey(text), secret))
end

-- Connects and sends `hello`; returns the fd (or false when refused) and the answer.
local function greet(hello)
	local fd = assert(socket.open("127.0.0.1", gate_port))
	send_packet(fd, hello)
	local answer = recv_packet(fd)
	if answer ~= "200 OK" then
		check(recv_packet(fd) == false, "connection closed after " .. tostring(answer))
		socket.close(fd)
		return false, answer
	end
	return fd, answer
end

local function request(fd, text, session)
	send_packet(fd, text .. string.pack(">I4", session))
end

-- Returns ok, content, session of the next response.
local function response(fd)
	local p = recv_packet(fd)
	if not check(p, "a response") then
		return
	end
	local ok, session = string.unpack(">BI4", p, #p - 4)
	return ok == 1, p:sub(1, -6), session
end

local function expect(fd, want_ok, want_content, want_session, what)
	local ok, content, session = response(fd)
	same(ok, want_ok, what .. ": ok")
	same(content, want_content, what .. ": content")
	same(session, want_session, what .. ": session")
end

-- A logged-in user: its name, secret and the next handshake index.
local function session_of(user)
	local answer, subid, secret = login(user, "pw-" .. user)
	same(answer and answer:sub(1, 4), "200 ", "login of " .. user)
	return { user = user, subid = subid, secret = secret, name = username(user, subid), index = 0 }
end

local function connect(u)
	u.index = u.index + 1
	local fd, answer = greet(signed(u.name, u.index, u.secret))
	same(answer, "200 OK", "handshake of " .. u.user .. " #" .. u.index)
	return fd
end

---------------------------------------------------------------- the cases

local function test_login_answers(master)
	same(skynet.localname(".login_test"), master, "the master registered as .login_test")
	local a, b, c = skynet.call(master, "lua", "ping", 7)
	check(a == "pong" and b == 7 and c == nil, "command_handler answers", a, b, c)

	local answer, subid, secret = login("ann", "pw-ann")
	same(answer, "200 " .. crypt.base64encode("1"), "login answer")
	same(subid, "1", "subid")
	same(#secret, 8, "secret size")

	same(login("ann", "wrong"), "401 Unauthorized", "wrong password")
	same(login("ann", "pw-ann", "hmac"), "401 Unauthorized", "bad challenge answer")
	same(login("ann", "pw-ann", "key"), "401 Unauthorized", "bad client key")
	same(login("forbid", "pw-forbid"), "403 Forbidden", "login_handler error")

	-- a second login of a uid while the first is inside login_handler
	local first = {}
	skynet.fork(function()
		first.answer = login("slow", "pw-slow")
		if first.waiter then
			skynet.wakeup(first.waiter)
		end
	end)
	skynet.call(master, "lua", "entered")
	same(login("slow", "pw-slow"), "406 Not Acceptable", "concurrent login")
	skynet.call(master, "lua", "release")
	if not first.answer then
		first.waiter = coroutine.running()
		skynet.wait(first.waiter)
	end
	same(first.answer and first.answer:sub(1, 4), "200 ", "the first concurrent login")
end

local function test_handshakes()
	local u = session_of("bob")
	same(select(2, greet(signed(username("nobody", u.subid), 1, u.secret))), "404 User Not Found", "unknown user")
	same(select(2, greet(signed(u.name, 1, "12345678"))), "401 Unauthorized", "wrong secret")
	same(select(2, greet(u.name .. ":one:" .. crypt.base64encode("12345678"))), "400 Bad Request", "bad index")
	same(select(2, greet("no colons")), "404 User Not Found", "no username")
	same(select(2, greet(signed(u.name, 0, u.secret))), "403 Index Expired", "index 0")

	local fd = connect(u)	-- index 1
	request(fd, "echo:hi", 1)
	expect(fd, true, "hi", 1, "echo")
	request(fd, "fail", 2)
	expect(fd, false, "", 2, "failing request")
	request(fd, "whoami", 3)
	expect(fd, true, "bob|" .. u.subid .. "|tgs", 3, "msgserver.userid")
	request(fd, "ip", 4)
	local _, ip = response(fd)
	check(ip and ip:match "^127%.0%.0%.1", "msgserver.ip", ip)
	socket.close(fd)
	wait_afk(u.name, 1)

	same(select(2, greet(signed(u.name, 1, u.secret))), "403 Index Expired", "reused handshake")
	-- skipping indexes is allowed
	u.index = 5
	fd = connect(u)
	same(select(2, greet(signed(u.name, 3, u.secret))), "403 Index Expired", "older index")
	-- a new session: session 1 would replay "hi"
	request(fd, "ip", 5)
	_, ip = response(fd)
	check(ip and ip:match "^127%.0%.0%.1", "msgserver.ip after a reconnect", ip)
	socket.close(fd)
	wait_afk(u.name, 2)
end

local function test_replays()
	local u = session_of("cid")
	-- a response that was delivered
	local fd = connect(u)
	request(fd, "echo:one", 10)
	expect(fd, true, "one", 10, "first answer")
	-- a response the client never read
	request(fd, "echo:lost", 11)
	socket.close(fd)

	fd = connect(u)
	request(fd, "ignored", 10)
	expect(fd, true, "one", 10, "replay of a delivered response")
	request(fd, "ignored", 11)
	expect(fd, true, "lost", 11, "replay of a lost response")
	-- on the connection that got the replay, the session is free again
	request(fd, "echo:two", 10)
	expect(fd, true, "two", 10, "session reused on the same connection")

	-- a request still running when the client left
	request(fd, "hold", 12)
	wait_hold()
	socket.close(fd)
	fd = connect(u)
	request(fd, "ignored", 12)
	request(fd, "echo:after", 13)
	expect(fd, true, "after", 13, "a later request answers first")
	release_hold("late")
	expect(fd, true, "late", 12, "the running request answers the new connection")

	-- a request that finishes after the client reconnected, before it asks again: the
	-- answer still belongs to the connection that asked, so it is replayed
	request(fd, "hold", 15)
	wait_hold()
	socket.close(fd)
	fd = connect(u)
	-- the gate gets this answer before the request below
	release_hold("finished")
	request(fd, "echo:rerun", 15)
	expect(fd, true, "finished", 15, "a response finished after the reconnect")

	-- the same connection sends a running session twice: a conflict closes it
	request(fd, "hold", 14)
	wait_hold()
	request(fd, "ignored", 14)
	request(fd, "again", 14)
	same(recv_packet(fd), false, "conflicting session closes the connection")
	socket.close(fd)
	release_hold("dropped")

	-- the cache keeps only the newer responses (expired_number is 4 in login_gate)
	fd = connect(u)
	for s = 100, 108 do
		request(fd, "echo:" .. s, s)
		expect(fd, true, tostring(s), s, "cache filler")
	end
	socket.close(fd)
	fd = connect(u)
	request(fd, "echo:fresh", 100)
	expect(fd, true, "fresh", 100, "an expired response is not replayed")
	request(fd, "ignored", 108)
	expect(fd, true, "108", 108, "a recent response is replayed")
	socket.close(fd)
end

local function test_kick_and_logout(gate)
	local u = session_of("dan")
	local fd = connect(u)
	request(fd, "echo:x", 1)
	expect(fd, true, "x", 1, "before the kick")
	-- a new login of the same user kicks the old session out
	local again = session_of("dan")
	check(again.subid ~= u.subid, "a new subid", u.subid, again.subid)
	same(recv_packet(fd), false, "the kicked connection is closed")
	socket.close(fd)
	u.index = u.index + 1
	same(select(2, greet(signed(u.name, u.index, u.secret))), "404 User Not Found", "old subid after the kick")
	fd = connect(again)
	socket.close(fd)

	skynet.call(gate, "lua", "logout", "dan", math.tointeger(tonumber(again.subid)))
	again.index = again.index + 1
	same(select(2, greet(signed(again.name, again.index, again.secret))), "404 User Not Found", "after logout")
end

-- multilogin = true: two logins of one uid run login_handler at the same time, and both
-- are answered 200 (with multilogin off the second gets 406, see test_login_answers).
local function test_multilogin()
	local multi = skynet.newservice("login_multi", multi_port)
	local waiter
	local function progress()
		if waiter then
			local co = waiter
			waiter = nil
			skynet.wakeup(co)
		end
	end
	local function wait_until(cond)
		while not cond() do
			waiter = coroutine.running()
			skynet.wait(waiter)
		end
	end
	local answers, answered, both_inside = {}, 0, false
	for i = 1, 2 do
		skynet.fork(function()
			answers[i] = login("eve", "pw-eve", nil, multi_port)
			answered = answered + 1
			progress()
		end)
	end
	skynet.fork(function()
		both_inside = skynet.call(multi, "lua", "entered", 2) == 2
		progress()
	end)
	-- a refused login would answer before both are inside
	wait_until(function()
		return both_inside or answered > 0
	end)
	if not check(both_inside, "both logins of one uid inside login_handler", answers[1], answers[2]) then
		return
	end
	same(skynet.call(multi, "lua", "release"), 2, "both released")
	wait_until(function()
		return answered == 2
	end)
	local subids = {}
	for i = 1, 2 do
		local answer = answers[i] or "none"
		same(answer:sub(1, 4), "200 ", "multilogin answer " .. i)
		subids[crypt.base64decode(answer:sub(5))] = true
	end
	check(subids["1"] and subids["2"], "each login has its own subid")
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, name)
		if cmd == "held" then
			held[#held + 1] = skynet.response()
			if hold_waiter then
				local co = hold_waiter
				hold_waiter = nil
				skynet.wakeup(co)
			end
		elseif cmd == "afk" then
			afk[name] = (afk[name] or 0) + 1
			if afk_waiter then
				local co = afk_waiter
				afk_waiter = nil
				skynet.wakeup(co)
			end
		end
	end)
	local master = skynet.newservice("login_server", login_port)
	local gate = skynet.newservice("login_gate", skynet.self())
	skynet.call(gate, "lua", "open", { address = "127.0.0.1", port = gate_port, servername = "tgs" })

	test_login_answers(master)
	test_handshakes()
	test_replays()
	test_kick_and_logout(gate)
	test_multilogin()

	T.finish()
end)

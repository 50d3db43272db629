-- skynet.socket UDP (udp, udp_connect, udp_dial, udp_listen, sendto, udp_address) and
-- resolve. Args: two free UDP ports on 127.0.0.1.
local skynet = require "skynet"
require "skynet.manager"
local socket = require "skynet.socket"

local NAME = "socket_udp"
local port1, port2 = ...
port1 = math.tointeger(tonumber(port1))
port2 = math.tointeger(tonumber(port2))

local T = require "testcase" (NAME)
local check, same = T.check, T.same

-- Datagrams delivered to a callback, handed to whoever waits for them in order.
local function inbox()
	local box = { items = {} }
	local waiting
	function box.push(msg, from)
		table.insert(box.items, { msg, from })
		if waiting then
			skynet.wakeup(waiting)
		end
	end
	function box.pop()
		while #box.items == 0 do
			waiting = coroutine.running()
			skynet.wait(waiting)
			waiting = nil
		end
		return table.unpack(table.remove(box.items, 1))
	end
	return box
end

local function udp_cases()
	-- An echo server bound with socket.udp, replying to each sender with sendto.
	local server_seen = inbox()
	local server
	server = socket.udp(function(msg, from)
		server_seen.push(msg, from)
		socket.sendto(server, from, "echo:" .. msg)
	end, "127.0.0.1", port1)

	-- A client created unbound, then given a default peer with udp_connect.
	local replies = inbox()
	local client = socket.udp(replies.push)
	socket.udp_connect(client, "127.0.0.1", port1)
	check(socket.write(client, "one"), "write on a connected udp socket")
	local msg, from = server_seen.pop()
	same(msg, "one", "server receives")
	local ip, port = socket.udp_address(from)
	same(ip, "127.0.0.1", "sender address")
	check(math.type(port) == "integer" and port > 0, "sender port", port)
	local reply, rfrom = replies.pop()
	same(reply, "echo:one", "client gets the echo")
	local rip, rport = socket.udp_address(rfrom)
	same(rip, "127.0.0.1", "echo comes from the server ip")
	same(rport, port1, "echo comes from the server port")
	same(#rfrom, 7, "ipv4 udp address is 7 bytes")

	-- udp_dial makes a connected socket in one step; a large datagram arrives whole.
	local dial_replies = inbox()
	local dialed = socket.udp_dial("127.0.0.1", port1, dial_replies.push)
	local big = string.rep("0123456789", 6000)
	socket.write(dialed, big)
	local got = server_seen.pop()
	same(got, big, "60000-byte datagram")
	same(dial_replies.pop(), "echo:" .. big, "dialed socket gets the echo")

	-- udp_listen, and sendto with an address taken from a received datagram.
	local listen_seen = inbox()
	local listener = socket.udp_listen("127.0.0.1", port2, listen_seen.push)
	local to_listener = socket.udp_dial("127.0.0.1", port2, replies.push)
	socket.write(to_listener, "hello listener")
	local lmsg, lfrom = listen_seen.pop()
	same(lmsg, "hello listener", "udp_listen receives")
	check(socket.sendto(listener, lfrom, "back"), "sendto the sender")
	local back, bfrom = replies.pop()
	same(back, "back", "reply through sendto")
	same(select(2, socket.udp_address(bfrom)), port2, "reply from the listener port")

	-- udp_connect on a socket that already has a record only changes peer and callback.
	local switched = inbox()
	socket.udp_connect(client, "127.0.0.1", port2, switched.push)
	socket.write(client, "to listener")
	local smsg, sfrom = listen_seen.pop()
	same(smsg, "to listener", "udp_connect switched the peer")
	socket.sendto(listener, sfrom, "switched")
	same(switched.pop(), "switched", "udp_connect switched the callback")

	check(not pcall(socket.udp_address, "bad"), "udp_address rejects garbage")
	for _, id in ipairs { server, client, dialed, listener, to_listener } do
		socket.close(id)
		check(socket.invalid(id), "udp socket closed", id)
	end
end

local function resolve_cases()
	local addrs = socket.resolve("localhost")
	check(type(addrs) == "table" and #addrs > 0, "resolve localhost gives addresses")
	local loopback = false
	for _, a in ipairs(addrs) do
		if a == "127.0.0.1" or a == "::1" then
			loopback = true
		end
	end
	check(loopback, "localhost resolves to loopback", table.concat(addrs, ","))
	local numeric = socket.resolve("127.0.0.1")
	same(numeric[1], "127.0.0.1", "numeric address resolves to itself")
	check(not pcall(socket.resolve, "no-such-host.invalid"), "unknown host raises")
end

skynet.start(function()
	local ok, err = pcall(udp_cases)
	check(ok, "udp", err)
	ok, err = pcall(resolve_cases)
	check(ok, "resolve", err)
	T.finish()
end)

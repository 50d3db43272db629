-- A line server on skynet.socketdriver alone (no skynet.socket), driven by an
-- outside client: listen/accept/start, read buffers, the send forms (string,
-- table, pointer, low priority), close; and a UDP echo.
-- Args: tcp port, udp port. Prints "SOCKDRV READY" once both are open.
local skynet = require "skynet"
local driver = require "skynet.socketdriver"

local NAME = "sockdrv_tcp"
local T = require "testcase" (NAME)
local port, uport = ...
port, uport = tonumber(port), tonumber(uport)

local listen_id, udp_id
local conns = {}
local udp_seen = 0
local closed = false
local listen_reported = false

local function finish()
	if closed and udp_seen > 0 then
		T.check(listen_reported, "the listen socket reported its port")
		T.finish()
	end
end

local function has_socket(id, kind)
	for _, s in ipairs(driver.info()) do
		if s.id == id and s.type == kind then
			return true
		end
	end
	return false
end

local commands = {}

function commands.echo(id, arg)
	driver.send(id, { "echo:", arg, "\r\n" })
end

function commands.low(id, arg)
	driver.lsend(id, "low:" .. arg .. "\r\n")
end

function commands.ptr(id, arg)
	driver.send(id, driver.str2p("ptr:" .. arg .. "\r\n"))
end

function commands.big(id, arg)
	driver.send(id, string.rep("z", tonumber(arg)) .. "\r\n")
end

function commands.info(id)
	local ok = has_socket(id, "TCP") and has_socket(listen_id, "LISTEN")
	driver.send(id, "info:" .. (ok and "ok" or "missing") .. "\r\n")
end

function commands.bye(id)
	driver.send(id, "bye\r\n")
	driver.close(id)
end

local on = {}

on[1] = function(id, size, data)	-- DATA
	local c = conns[id]
	T.check(c, "data for an unknown socket " .. id)
	if not c then
		driver.drop(data, size)
		return
	end
	driver.push(c.buffer, c.pool, data, size)
	while true do
		local line = driver.readline(c.buffer, c.pool, "\r\n")
		if not line then
			break
		end
		local cmd, arg = line:match("^(%a+) ?(.*)$")
		local f = commands[cmd]
		T.check(f, "unknown command " .. line)
		if f then
			f(id, arg)
		end
	end
end

on[2] = function(id, ud, addr)	-- CONNECT
	-- a listen socket reports its address and port, then "start"
	if id == listen_id and addr ~= "start" then
		T.check(ud == port, "listen reports port " .. tostring(ud))
		T.check(addr == "127.0.0.1", "listen reports its address " .. tostring(addr))
		listen_reported = true
	end
end

on[3] = function(id)	-- CLOSE
	if conns[id] then
		driver.clear(conns[id].buffer, conns[id].pool)
		conns[id] = nil
		closed = true
		finish()
	end
end

on[4] = function(id, newid, addr)	-- ACCEPT
	T.check(id == listen_id, "accept on the listen socket")
	T.check(addr:match("^127%.0%.0%.1:%d+$"), "peer address " .. tostring(addr))
	conns[newid] = { buffer = driver.buffer(), pool = {} }
	driver.start(newid)
	driver.nodelay(newid)
end

on[5] = function(id, _, err)	-- ERROR
	T.check(false, string.format("socket %d error %s", id, tostring(err)))
end

on[6] = function(id, size, data, from)	-- UDP
	local text = skynet.tostring(data, size)
	driver.drop(data, size)
	T.check(id == udp_id, "udp on the udp socket")
	local ip = driver.udp_address(from)
	T.check(ip == "127.0.0.1", "udp peer " .. tostring(ip))
	udp_seen = udp_seen + 1
	driver.udp_send(udp_id, from, "ack:" .. text)
	finish()
end

on[7] = function() end	-- WARNING

skynet.register_protocol {
	name = "socket",
	id = skynet.PTYPE_SOCKET,
	unpack = driver.unpack,
	dispatch = function(_, _, t, ...)
		on[t](...)
	end,
}

skynet.start(function()
	listen_id = driver.listen("127.0.0.1", port)
	driver.start(listen_id)
	udp_id = driver.udp("127.0.0.1", uport)
	skynet.error("SOCKDRV READY")
end)

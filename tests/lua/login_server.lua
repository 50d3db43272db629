-- A snax.loginserver for login_protocol.lua. Master args: port test_service.
-- Tokens are "user:password"; the password is "pw-" .. user. User "forbid" fails in
-- login_handler (403); a login of "slow" waits for the "release" command (406 tests).
local login = require "snax.loginserver"
local crypt = require "skynet.crypt"
local skynet = require "skynet"

local port = ...

local conf = {
	host = "127.0.0.1",
	port = port,
	instance = 3,
	name = "login_test",
	multilogin = false,
}

local gates = {}
local online = {}	-- uid -> { gate, subid }
local entered	-- wakes the caller of "entered" once a slow login is in login_handler
local released	-- the slow login_handler's coroutine

function conf.auth_handler(token)
	local user, password = token:match "^([^:]+):(.*)$"
	assert(user, "Invalid token")
	assert(password == "pw-" .. user, "Invalid password")
	return "tgs", user
end

function conf.login_handler(servername, uid, secret)
	if uid == "forbid" then
		error "forbidden user"
	end
	if uid == "slow" then
		if entered then
			skynet.wakeup(entered)
			entered = nil
		end
		released = coroutine.running()
		skynet.wait(released)
	end
	local gate = assert(gates[servername], "Unknown server")
	local last = online[uid]
	if last then
		skynet.call(last.gate, "lua", "kick", uid, last.subid)
		online[uid] = nil
	end
	local subid = skynet.call(gate, "lua", "login", uid, secret)
	online[uid] = { gate = gate, subid = subid }
	return tostring(subid)
end

local CMD = {}

function CMD.register_gate(servername, address)
	gates[servername] = address
end

function CMD.entered()
	if not released then
		entered = coroutine.running()
		skynet.wait(entered)
	end
	return true
end

function CMD.release()
	local co = released
	released = nil
	skynet.wakeup(co)
	return true
end

function CMD.ping(...)
	return "pong", ...
end

function conf.command_handler(cmd, ...)
	return assert(CMD[cmd], "unknown command")(...)
end

login(conf)

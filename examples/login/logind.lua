-- The login server: a snax.loginserver that accepts any user whose password is
-- "password", and sends the user on to the gate named in the token. One login per user:
-- logging in again kicks out the earlier session.
local login = require "snax.loginserver"
local crypt = require "skynet.crypt"
local skynet = require "skynet"

local server = {
	host = "127.0.0.1",
	-- only the master (started by main with the port) listens
	port = math.tointeger(tonumber((...))) or 8001,
	multilogin = false,
	name = "login_master",
}

local gates = {}	-- server name -> gate address
local online = {}	-- uid -> { gate, subid, servername }

-- The client's token is base64(user)@base64(server):base64(password).
function server.auth_handler(token)
	local user, servername, password = token:match "([^@]+)@([^:]+):(.+)"
	assert(user, "Invalid token")
	user = crypt.base64decode(user)
	servername = crypt.base64decode(servername)
	password = crypt.base64decode(password)
	assert(password == "password", "Invalid password")
	return servername, user
end

function server.login_handler(servername, uid, secret)
	skynet.error(string.format("%s@%s is login, secret is %s", uid, servername, crypt.hexencode(secret)))
	local gate = assert(gates[servername], "Unknown server")
	local last = online[uid]
	if last then
		skynet.call(last.gate, "lua", "kick", uid, last.subid)
	end
	-- the kick ends with a logout command that clears the entry
	if online[uid] then
		error(string.format("user %s is already online", uid))
	end
	local subid = tostring(skynet.call(gate, "lua", "login", uid, secret))
	online[uid] = { gate = gate, subid = subid, servername = servername }
	return subid
end

local CMD = {}

function CMD.register_gate(servername, address)
	gates[servername] = address
end

function CMD.logout(uid, subid)
	local u = online[uid]
	if u and u.subid == tostring(subid) then
		skynet.error(string.format("%s@%s is logout", uid, u.servername))
		online[uid] = nil
	end
end

function server.command_handler(command, ...)
	local f = assert(CMD[command], "Unknown command")
	return f(...)
end

login(server)

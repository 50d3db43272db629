-- The gate: a snax.msgserver that starts one msgagent per login and passes the user's
-- requests to it. Started by main with the login server's address.
local msgserver = require "snax.msgserver"
local skynet = require "skynet"

local logind = tonumber((...))

local server = {}
local servername	-- set when the gate opens
local by_uid = {}	-- uid -> user
local by_name = {}	-- username -> user
local last_subid = 0

-- The login server calls this through the "login" command (never twice at once for a
-- uid, as it disallows multilogin).
function server.login_handler(uid, secret)
	if by_uid[uid] then
		error(string.format("%s is already login", uid))
	end
	last_subid = last_subid + 1
	local subid = last_subid
	local username = msgserver.username(uid, subid, servername)
	local agent = skynet.newservice "msgagent"
	skynet.call(agent, "lua", "login", uid, subid, secret)
	local u = { username = username, agent = agent, uid = uid, subid = subid }
	by_uid[uid] = u
	by_name[username] = u
	msgserver.login(username, secret)
	return subid
end

-- The agent calls this (the "logout" command) when it quits.
function server.logout_handler(uid, subid)
	local u = by_uid[uid]
	if u and u.username == msgserver.username(uid, subid, servername) then
		msgserver.logout(u.username)
		by_uid[uid] = nil
		by_name[u.username] = nil
		skynet.call(logind, "lua", "logout", uid, subid)
	end
end

-- The login server calls this (the "kick" command) when the user logs in again.
function server.kick_handler(uid, subid)
	local u = by_uid[uid]
	if u and u.username == msgserver.username(uid, subid, servername) then
		-- the agent exits while it logs out, so the call may fail
		pcall(skynet.call, u.agent, "lua", "logout")
	end
end

-- The connection dropped; the user stays logged in and may reconnect.
function server.disconnect_handler(username)
	local u = by_name[username]
	if u then
		skynet.call(u.agent, "lua", "afk")
	end
end

function server.request_handler(username, msg)
	local u = by_name[username]
	return skynet.tostring(skynet.rawcall(u.agent, "client", msg))
end

function server.register_handler(name)
	servername = name
	skynet.call(logind, "lua", "register_gate", servername, skynet.self())
end

msgserver.start(server)

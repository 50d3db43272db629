-- A snax.msgserver for login_protocol.lua. Args: test_service. Requests:
--   "echo:<text>" -> text      "fail" -> an error       "ip" -> msgserver.ip
--   "whoami" -> uid|subid|server from msgserver.userid
--   "hold" -> asks the test service ("held"), which answers when it wants
-- and tells the test service about each disconnect ("afk", username).
local msgserver = require "snax.msgserver"
local skynet = require "skynet"

local tester = tonumber((...))

local server = { expired_number = 4 }
local servername
local last_subid = 0
local subids = {}	-- uid -> subid

function server.register_handler(name)
	servername = name
	local login = skynet.localname(".login_test")
	skynet.call(login, "lua", "register_gate", name, skynet.self())
end

function server.login_handler(uid, secret)
	last_subid = last_subid + 1
	subids[uid] = last_subid
	msgserver.login(msgserver.username(uid, last_subid, servername), secret)
	return last_subid
end

function server.logout_handler(uid, subid)
	msgserver.logout(msgserver.username(uid, subid, servername))
end

function server.kick_handler(uid, subid)
	server.logout_handler(uid, subid)
end

function server.disconnect_handler(username)
	skynet.send(tester, "lua", "afk", username)
end

function server.request_handler(username, msg)
	local text = msg:match "^echo:(.*)$"
	if text then
		return text
	elseif msg == "fail" then
		error "request failed on purpose"
	elseif msg == "ip" then
		return msgserver.ip(username) or "none"
	elseif msg == "whoami" then
		local uid, subid, sname = msgserver.userid(username)
		return table.concat({ uid, subid, sname }, "|")
	elseif msg == "hold" then
		return skynet.call(tester, "lua", "held")
	end
	error("unknown request " .. msg)
end

msgserver.start(server)

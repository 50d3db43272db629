-- A snax.loginserver with multilogin = true for login_protocol.lua. Master args: port.
-- Tokens are "user:password"; the password is "pw-" .. user. login_handler waits in
-- every login until the "release" command, and answers the count of logins it has seen.
-- "entered" n: answers once n logins are inside login_handler at the same time.
local login = require "snax.loginserver"
local skynet = require "skynet"

local conf = {
	host = "127.0.0.1",
	port = ...,
	instance = 2,
	name = "login_multi",
	multilogin = true,
}

local inside = {}	-- coroutines waiting in login_handler
local seen = 0
local watcher	-- { n = wanted, co = waiting caller of "entered" }

function conf.auth_handler(token)
	local user, password = token:match "^([^:]+):(.*)$"
	assert(user and password == "pw-" .. user, "Invalid password")
	return "tgs", user
end

function conf.login_handler()
	seen = seen + 1
	local subid = seen
	local co = coroutine.running()
	inside[#inside + 1] = co
	if watcher and #inside >= watcher.n then
		skynet.wakeup(watcher.co)
		watcher = nil
	end
	skynet.wait(co)
	return tostring(subid)
end

local CMD = {}

function CMD.entered(n)
	if #inside < n then
		watcher = { n = n, co = coroutine.running() }
		skynet.wait(watcher.co)
	end
	return #inside
end

function CMD.release()
	local all = inside
	inside = {}
	for _, co in ipairs(all) do
		skynet.wakeup(co)
	end
	return #all
end

function conf.command_handler(cmd, ...)
	return assert(CMD[cmd], "unknown command")(...)
end

login(conf)

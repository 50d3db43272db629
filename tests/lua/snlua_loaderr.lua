-- A service that fails to load is logged with a traceback and reported to the launcher;
-- the node goes on.
local skynet = require "skynet"
require "skynet.manager"

local NAME = "snlua_loaderr"

skynet.start(function()
	local ok, err = pcall(skynet.newservice, "snlua_broken")
	if ok then
		skynet.error("TEST " .. NAME .. " FAIL snlua_broken started")
	end
	ok, err = pcall(skynet.newservice, "snlua_no_such_service")
	if ok then
		skynet.error("TEST " .. NAME .. " FAIL snlua_no_such_service started")
	end
	local echo = skynet.newservice("snlua_echo", "a", "b")
	local launched, value = skynet.call(echo, "lua", "echo", 7)
	if launched == "a b" and value == 7 then
		skynet.error("TEST " .. NAME .. " PASS")
	else
		skynet.error("TEST " .. NAME .. " FAIL echo " .. tostring(launched) .. " " .. tostring(value))
	end
	skynet.abort()
end)

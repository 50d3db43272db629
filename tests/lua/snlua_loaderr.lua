-- A service that fails to load is logged with a traceback and reported to the launcher;
-- the node goes on.
local skynet = require "skynet"

local NAME = "snlua_loaderr"
local T = require "testcase" (NAME)

skynet.start(function()
	T.check(not pcall(skynet.newservice, "snlua_broken"), "snlua_broken started")
	T.check(not pcall(skynet.newservice, "snlua_no_such_service"), "snlua_no_such_service started")
	local echo = skynet.newservice("snlua_echo", "a", "b")
	local launched, value = skynet.call(echo, "lua", "echo", 7)
	T.check(launched == "a b" and value == 7, "echo " .. tostring(launched) .. " " .. tostring(value))
	T.finish()
end)

-- Start service of the debug console tests beyond the basics: a unique console_worker
-- and a debug_console on the port given as argument. The Rust tests drive the console.
local skynet = require "skynet"

local port = ...

skynet.start(function()
	local worker = skynet.uniqueservice("console_worker")
	skynet.newservice("debug_console", "127.0.0.1", port)
	skynet.error("console_more worker=" .. skynet.address(worker))
end)

-- Start service of the debug console test: a debug_console on the port given as
-- argument and one console_target to inspect. The Rust test drives the console over TCP.
local skynet = require "skynet"

local port = ...

skynet.start(function()
	local target = skynet.newservice("console_target")
	skynet.newservice("debug_console", "127.0.0.1", port)
	skynet.error("console_node target=" .. skynet.address(target))
end)

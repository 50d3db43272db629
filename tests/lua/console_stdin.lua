-- Start service of the stdin console test: launches service/console, which starts a
-- service for each line the Rust test writes to the node's stdin.
local skynet = require "skynet"

skynet.start(function()
	skynet.newservice("console")
	skynet.error("console_stdin ready")
end)

-- Announces that the node booted, then stays idle until the test ends the node.
local skynet = require "skynet"

skynet.start(function()
	skynet.error("harbor_idle running")
end)

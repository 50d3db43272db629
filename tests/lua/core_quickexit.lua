-- A service that exits in its start function (core_services).
local skynet = require "skynet"

skynet.start(function()
	skynet.exit()
end)

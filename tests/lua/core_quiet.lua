-- A service that does nothing (core_services).
local skynet = require "skynet"

skynet.start(function() end)

-- A service whose start function fails (core_errors).
local skynet = require "skynet"

skynet.start(function()
	error "core_badstart fails on purpose"
end)

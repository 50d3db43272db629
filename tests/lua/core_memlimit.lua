-- A service with a memory limit (core_basic): big allocations fail.
local skynet = require "skynet"

skynet.memlimit(8 * 1024 * 1024)
local once = skynet.memlimit == nil

skynet.start(function()
	skynet.dispatch("lua", function()
		local ok, err = pcall(string.rep, "x", 64 * 1024 * 1024)
		skynet.retpack(once, ok, tostring(err))
	end)
end)

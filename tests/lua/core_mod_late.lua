-- Required from a running coroutine: its chunk and initialiser may block; concurrent
-- requires wait for the first load.
local skynet = require "skynet"

local M = { loads = 0, ready = false }
M.loads = M.loads + 1
skynet.sleep(2)

skynet.init(function()
	skynet.sleep(1)
	M.ready = true
end)

_G.core_mod_late_loads = (_G.core_mod_late_loads or 0) + 1
return M

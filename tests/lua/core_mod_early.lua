-- Required from core_require's main chunk: its skynet.init runs just before start.
local skynet = require "skynet"

local M = { inited = false, order = {} }

skynet.init(function()
	M.inited = true
	M.order[#M.order + 1] = "init"
end)

return M

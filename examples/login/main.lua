-- The login example's main service. Optional args (from `start` in the config):
--   main [login_port [gate_port]]    defaults: 8001 and 8888
local skynet = require "skynet"

local login_port, gate_port = ...
login_port = math.tointeger(tonumber(login_port)) or 8001
gate_port = math.tointeger(tonumber(gate_port)) or 8888

skynet.start(function()
	local logind = skynet.newservice("logind", login_port)
	local gate = skynet.newservice("gated", logind)
	skynet.call(gate, "lua", "open", {
		port = gate_port,
		maxclient = 64,
		servername = "sample",
	})
	skynet.error("login example ready")
	skynet.exit()
end)

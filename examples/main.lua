-- The example node's main service. Optional args (from `start` in the config):
--   main [debug_console_port [watchdog_port]]    defaults: 8000 and 8888
local skynet = require "skynet"

local debug_port, gate_port = ...
debug_port = math.tointeger(tonumber(debug_port)) or 8000
gate_port = math.tointeger(tonumber(gate_port)) or 8888
local max_client = 64

skynet.start(function()
	skynet.error("Server start")
	-- The sproto schemas every agent loads (see proto.lua).
	skynet.uniqueservice("protoloader")
	-- A daemon has no terminal to read commands from.
	if not skynet.getenv "daemon" then
		skynet.newservice("console")
	end
	skynet.newservice("debug_console", "127.0.0.1", debug_port)
	skynet.newservice("simpledb")
	local watchdog = skynet.newservice("watchdog")
	local addr, port = skynet.call(watchdog, "lua", "start", {
		port = gate_port,
		maxclient = max_client,
		nodelay = true,
	})
	skynet.error("Watchdog listen on " .. addr .. ":" .. port)
	skynet.exit()
end)

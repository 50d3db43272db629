-- snax.gateserver (netpack framing) against an outside client: every package
-- comes back reversed; the client's packages arrive several per read, split
-- across reads, empty and near the size limit.
-- Prints "NETPACK GATE PORT <port>" once listening.
local skynet = require "skynet"

local NAME = "netpack_gate"
local T = require "testcase" (NAME)
local mode = ...

if mode == "gate" then
	local gateserver = require "snax.gateserver"
	local netpack = require "skynet.netpack"
	local socketdriver = require "skynet.socketdriver"

	local main
	local received = 0
	local handler = {}

	function handler.open(source, conf)
		main = source
		return conf.port
	end

	function handler.connect(fd)
		gateserver.openclient(fd)
	end

	function handler.message(fd, msg, sz)
		local s = netpack.tostring(msg, sz)
		received = received + 1
		socketdriver.send(fd, netpack.pack(s:reverse()))
	end

	function handler.disconnect()
		skynet.send(main, "lua", "disconnect", received)
	end

	gateserver.start(handler)
	return
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, received)
		if cmd == "disconnect" then
			T.same(received, 6, "packages the gate got")
			T.finish()
		end
	end)
	local gate = skynet.newservice(SERVICE_NAME, "gate")
	local port = skynet.call(gate, "lua", "open", { address = "127.0.0.1", port = 0, maxclient = 8 })
	skynet.error("NETPACK GATE PORT " .. port)
end)

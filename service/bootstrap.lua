-- The first Lua service (config `bootstrap`): starts the system services, then the
-- user's `start` service, and exits.

local skynet = require "skynet"
require "skynet.manager"

local function launch_or_abort(name)
	local ok, addr = pcall(skynet.newservice, name)
	if not ok then
		skynet.abort()
		error(string.format("can't launch %s: %s", name, tostring(addr)))
	end
	return addr
end

skynet.start(function()
	local standalone = skynet.getenv "standalone"

	local launcher = assert(skynet.launch("snlua", "launcher"))
	skynet.name(".launcher", launcher)

	local harbor_id = tonumber(skynet.getenv "harbor" or 0)
	if harbor_id == 0 then
		-- a single node is its own master
		assert(standalone == nil)
		standalone = true
		skynet.setenv("standalone", "true")
		skynet.name(".cslave", launch_or_abort "cdummy")
	else
		if standalone then
			launch_or_abort "cmaster"
		end
		skynet.name(".cslave", launch_or_abort "cslave")
	end

	if standalone then
		skynet.name("DATACENTER", skynet.newservice "datacenterd")
	end
	skynet.newservice "service_mgr"

	if skynet.getenv "enablessl" == "true" then
		require("skynet.service").new("ltls_holder", function()
			local tls = require "ltls.init.c"
			tls.constructor()
		end)
	end

	pcall(skynet.newservice, skynet.getenv "start" or "main")
	skynet.exit()
end)

-- The shell service_provider starts for each skynet.service.new: "init" runs the
-- dumped main function in it, along with the start function that function registers.

local skynet = require "skynet"

local name = ...
local cmd = {}

function cmd.init(code, ...)
	local start
	-- the dumped function calls skynet.start, but the service is already started
	skynet.start = function(f)
		start = f
	end
	skynet.dispatch("lua", function()
		error "No dispatch function"
	end)
	local main = assert(load(code, name))
	assert(pcall(main, ...))
	if start then
		start()
	end
	skynet.ret()
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, what, ...)
		cmd[what](...)
	end)
end)

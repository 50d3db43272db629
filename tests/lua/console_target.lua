-- A service the debug console test inspects: echoes lua calls, has info and a counter.
local skynet = require "skynet"

local calls = 0

skynet.start(function()
	skynet.info_func(function()
		return "console_target info " .. calls
	end)
	skynet.dispatch("lua", function(_, _, ...)
		calls = calls + 1
		skynet.ret(skynet.pack(...))
	end)
end)

-- A key/value store registered as SIMPLEDB: lua messages "get", key and "set", key,
-- value (answering the previous value); "ping", text is a send that only logs.
local skynet = require "skynet"
require "skynet.manager" -- skynet.register

local store = {}
local handlers = {}

function handlers.GET(key)
	return store[key]
end

function handlers.SET(key, value)
	local previous = store[key]
	store[key] = value
	return previous
end

local function ping(session, source, text)
	assert(session == 0, "ping is a send, not a call")
	text = tostring(text)
	if #text > 20 then
		text = string.format("%s...(%d)", text:sub(1, 20), #text)
	end
	skynet.error(string.format("%s ping %s", skynet.address(source), text))
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		cmd = string.upper(cmd)
		if cmd == "PING" then
			ping(session, source, ...)
			return
		end
		local f = handlers[cmd]
		if f == nil then
			error(string.format("Unknown command %s", tostring(cmd)))
		end
		skynet.ret(skynet.pack(f(...)))
	end)
	skynet.register "SIMPLEDB"
end)

-- SIGNAL 0 breaks a service out of an endless loop; SIGNAL 1 reports its memory.
local skynet = require "skynet"
require "skynet.manager"
local core = require "skynet.core"

local NAME = "snlua_signal"

local mode = ...

if mode == "looper" then
	skynet.start(function()
		skynet.dispatch("lua", function(_, source, cmd)
			if cmd == "spin" then
				-- tell the test we are about to spin; the send does not yield
				skynet.send(source, "lua", "spinning")
				local n = 0
				while true do
					n = n + 1
				end
			elseif cmd == "ping" then
				skynet.ret(skynet.pack("pong"))
			end
		end)
	end)
	return
end

local function fail(what)
	skynet.error(string.format("TEST %s FAIL %s", NAME, what))
end

skynet.start(function()
	local looper = skynet.newservice(NAME, "looper")
	local spinning = false
	local waiter
	skynet.dispatch("lua", function(_, source, cmd)
		if cmd == "spinning" and source == looper then
			spinning = true
			skynet.wakeup(waiter)
		end
	end)
	local result = {}
	local done
	skynet.fork(function()
		result = { pcall(skynet.call, looper, "lua", "spin") }
		done = true
		if waiter then
			skynet.wakeup(waiter)
		end
	end)
	waiter = coroutine.running()
	while not spinning do
		skynet.wait(waiter)
	end
	core.command("SIGNAL", skynet.address(looper) .. " 0")
	while not done do
		skynet.wait(waiter)
	end
	if result[1] ~= false then
		fail("the spin call returned normally")
	end
	-- the looper survives the interruption and serves again
	local ok, pong = pcall(skynet.call, looper, "lua", "ping")
	if not ok or pong ~= "pong" then
		fail("the looper does not answer after signal 0: " .. tostring(pong))
	end
	core.command("SIGNAL", skynet.address(looper) .. " 1")
	skynet.error(string.format("TEST %s PASS", NAME))
	skynet.abort()
end)

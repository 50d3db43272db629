-- SIGNAL 0 breaks a service out of an endless loop; SIGNAL 1 reports its memory.
local skynet = require "skynet"
local core = require "skynet.core"

local NAME = "snlua_signal"
local T = require "testcase" (NAME)

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
	T.check(result[1] == false, "the spin call returned normally")
	-- the looper survives the interruption and serves again
	local ok, pong = pcall(skynet.call, looper, "lua", "ping")
	T.check(ok and pong == "pong", "the looper does not answer after signal 0: " .. tostring(pong))
	core.command("SIGNAL", skynet.address(looper) .. " 1")
	T.finish()
end)

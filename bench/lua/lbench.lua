-- Lua-level benchmarks, run as `start = "lbench <mode> <args...>"` on any skynet tree.
-- Results go to stdout as `BENCH <name> value=<v> unit=<u>` (print, not skynet.error,
-- so nothing is lost when the node aborts right after).
local skynet = require "skynet"
require "skynet.manager"

local mode = ...
local args = { select(2, ...) }

local function report(name, value, unit)
	print(string.format("BENCH %s value=%.1f unit=%s", name, value, unit))
	io.stdout:flush()
end

local function seconds_since(t0)
	return (skynet.hpc() - t0) / 1e9
end

local function rss_kb()
	local f = io.open("/proc/self/status")
	if not f then
		return 0
	end
	local text = f:read "a"
	f:close()
	return tonumber(text:match "VmRSS:%s*(%d+)") or 0
end

-- Helper services launched by the benchmarks below.
local roles = {}

function roles.sink()
	local n = 0
	skynet.dispatch("lua", function(session, _, cmd)
		if session == 0 then
			n = n + 1
		elseif cmd == "count" then
			skynet.ret(skynet.pack(n))
		else
			skynet.ret(skynet.pack(cmd))
		end
	end)
end

function roles.caller(hub, k)
	hub, k = tonumber(hub), tonumber(k)
	skynet.dispatch("lua", function()
		for i = 1, k do
			skynet.call(hub, "lua", i)
		end
		skynet.ret(skynet.pack(k))
	end)
end

function roles.idle()
	skynet.dispatch("lua", function()
		skynet.ret()
	end)
end

function roles.sockecho(port)
	local socket = require "skynet.socket"
	local listener = assert(socket.listen("127.0.0.1", tonumber(port)))
	socket.start(listener, function(id)
		socket.start(id)
		skynet.fork(function()
			while true do
				local data = socket.read(id)
				if not data then
					socket.close(id)
					return
				end
				socket.write(id, data)
			end
		end)
	end)
	print("BENCH ready")
	io.stdout:flush()
end

function roles.gateecho(port)
	local driver = require "skynet.socketdriver"
	local gate = skynet.newservice("gate")
	skynet.dispatch("lua", function(session, _, cmd, sub, fd, msg)
		if cmd == "socket" then
			if sub == "open" then
				skynet.call(gate, "lua", "accept", fd)
			elseif sub == "data" then
				driver.send(fd, string.pack(">s2", msg))
			end
		elseif session ~= 0 then
			skynet.ret()
		end
	end)
	skynet.fork(function()
		skynet.call(gate, "lua", "open", {
			address = "127.0.0.1", port = tonumber(port), watchdog = skynet.self(), maxclient = 4096,
		})
		print("BENCH ready")
		io.stdout:flush()
	end)
end

-- The benchmarks: each reports and ends the node.
local benches = {}

function benches.send(n)
	n = tonumber(n)
	local sink = skynet.newservice("lbench", "sink")
	local t0 = skynet.hpc()
	for i = 1, n do
		skynet.send(sink, "lua", i)
	end
	local got = skynet.call(sink, "lua", "count")
	assert(got == n)
	report("lua_send", n / seconds_since(t0), "msg/s")
end

function benches.call(n)
	n = tonumber(n)
	local sink = skynet.newservice("lbench", "sink")
	local t0 = skynet.hpc()
	for i = 1, n do
		skynet.call(sink, "lua", i)
	end
	report("lua_call", n / seconds_since(t0), "call/s")
end

function benches.hub(s, k)
	s, k = tonumber(s), tonumber(k)
	local hub = skynet.newservice("lbench", "sink")
	local callers = {}
	for i = 1, s do
		callers[i] = skynet.newservice("lbench", "caller", hub, k)
	end
	local t0 = skynet.hpc()
	local left = s
	local co = coroutine.running()
	for i = 1, s do
		skynet.fork(function()
			skynet.call(callers[i], "lua")
			left = left - 1
			if left == 0 then
				skynet.wakeup(co)
			end
		end)
	end
	skynet.wait(co)
	report("lua_hub", s * k / seconds_since(t0), "call/s")
end

function benches.spawn(n)
	n = tonumber(n)
	collectgarbage()
	local before = rss_kb()
	local t0 = skynet.hpc()
	for i = 1, n do
		skynet.newservice("lbench", "idle")
	end
	local elapsed = seconds_since(t0)
	local after = rss_kb()
	report("lua_spawn", n / elapsed, "service/s")
	report("lua_service_rss", (after - before) / n, "KiB/service")
end

function benches.sleepers(n)
	n = tonumber(n)
	collectgarbage()
	local mem0 = collectgarbage "count"
	local t0 = skynet.hpc()
	local done = 0
	for i = 1, n do
		skynet.fork(function()
			skynet.wait(i)
			done = done + 1
		end)
	end
	skynet.yield()	-- let every fork reach its wait
	local parked = seconds_since(t0)
	local mem = (collectgarbage "count" - mem0) * 1024 / n
	local t1 = skynet.hpc()
	for i = 1, n do
		skynet.wakeup(i)
	end
	skynet.yield()
	while done < n do
		skynet.yield()
	end
	report("lua_park", n / parked, "coroutine/s")
	report("lua_wake", n / seconds_since(t1), "coroutine/s")
	report("lua_coroutine_mem", mem, "bytes/coroutine")
end

skynet.start(function()
	if roles[mode] then
		return roles[mode](table.unpack(args))
	end
	local bench = assert(benches[mode], "unknown benchmark " .. tostring(mode))
	bench(table.unpack(args))
	skynet.abort()
end)

-- skynet.socketchannel request rate, run as `start = "channel_bench <requests> <coroutines>"`
-- on any skynet tree. A second service of this file echoes length-prefixed frames; the
-- first one sends <requests> through one channel from <coroutines> coroutines, in order
-- mode and then in session mode. Prints `BENCH channel_order value=<req/s> unit=req/s`
-- and `BENCH channel_session ...` to stdout.
local skynet = require "skynet"
require "skynet.manager"
local socket = require "skynet.socket"

local role, workers_arg = ...

local function echo_server()
	local listener, _, port = socket.listen("127.0.0.1", 0)
	socket.start(listener, function(id)
		socket.start(id)
		skynet.fork(function()
			while true do
				local head = socket.read(id, 2)
				local body = head and socket.read(id, string.unpack(">I2", head))
				if not body then
					socket.close(id)
					return
				end
				socket.write(id, head .. body)
			end
		end)
	end)
	skynet.dispatch("lua", function()
		skynet.ret(skynet.pack(port))
	end)
end

local function read_frame(sock)
	local head = sock:read(2)
	return sock:read(string.unpack(">I2", head))
end

local function run(sc, port, mode, total, workers)
	local desc = { host = "127.0.0.1", port = port, nodelay = true }
	if mode == "session" then
		desc.response = function(sock)
			local body = read_frame(sock)
			return string.unpack(">I4", body), true, body
		end
	end
	local ch = sc.channel(desc)
	ch:connect(true)
	local order_reader = function(sock)
		return true, read_frame(sock)
	end
	local per, left = total // workers, workers
	local me = coroutine.running()
	local t0 = skynet.hpc()
	for w = 1, workers do
		skynet.fork(function()
			for i = 1, per do
				local session = w * per + i
				local frame = string.pack(">s2", string.pack(">I4", session) .. "payload")
				local reply = ch:request(frame, mode == "session" and session or order_reader)
				assert(string.unpack(">I4", reply) == session)
			end
			left = left - 1
			if left == 0 then
				skynet.wakeup(me)
			end
		end)
	end
	skynet.wait(me)
	local seconds = (skynet.hpc() - t0) / 1e9
	ch:close()
	print(string.format("BENCH channel_%s value=%.1f unit=req/s", mode, per * workers / seconds))
	io.stdout:flush()
end

skynet.start(function()
	if role == "server" then
		echo_server()
		return
	end
	local total = math.tointeger(tonumber(role)) or 200000
	local workers = math.tointeger(tonumber(workers_arg)) or 100
	local sc = require "skynet.socketchannel"
	local server = skynet.newservice(SERVICE_NAME, "server")
	local port = skynet.call(server, "lua")
	run(sc, port, "order", total, workers)
	run(sc, port, "session", total, workers)
	skynet.abort()
end)

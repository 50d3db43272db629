-- An httpd keep-alive server for HTTP benchmarks with an outside load generator:
--   start = "http_bench <port> [agents]"     (agents default to 8)
--   wrk -t2 -c100 -d10s http://127.0.0.1:<port>/
-- A listener spreads connections over the agents; each agent serves every request of a
-- connection until the client closes it, answering "hello" (200, Content-Length).
-- Prints "BENCH http ready <port>" once listening. Runs on any skynet tree's lualib.
local skynet = require "skynet"
local socket = require "skynet.socket"
local httpd = require "http.httpd"
local sockethelper = require "http.sockethelper"

local mode = ...

local function serve(id)
	socket.start(id)
	local read, write = sockethelper.readfunc(id), sockethelper.writefunc(id)
	while true do
		local code, _, _, header = httpd.read_request(read, 8192)
		if not code then
			break
		end
		if not httpd.write_response(write, code, code == 200 and "hello" or nil) or code ~= 200 then
			break
		end
		local conn = header.connection
		if conn and conn:lower() == "close" then
			break
		end
	end
	socket.close(id)
end

if mode == "agent" then
	skynet.start(function()
		skynet.dispatch("lua", function(_, _, id)
			skynet.fork(serve, id)
		end)
	end)
else
	local port = math.tointeger(tonumber(mode)) or 8001
	local count = math.tointeger(tonumber((select(2, ...)))) or 8
	skynet.start(function()
		local agents = {}
		for i = 1, count do
			agents[i] = skynet.newservice(SERVICE_NAME, "agent")
		end
		local turn = 0
		local lid = socket.listen("127.0.0.1", port)
		socket.start(lid, function(id)
			turn = turn % count + 1
			skynet.send(agents[turn], "lua", id)
		end)
		print("BENCH http ready " .. port)
		io.stdout:flush()
	end)
end

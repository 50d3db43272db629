-- A websocket echo server, served by a pool of agents, and a client that talks to it
-- once a second. Start it as the `start` service of a node:
--   start = "simplewebsocket [port [protocol]]"    defaults: 9948 and ws
-- For wss, put enablessl, certfile and keyfile in the config.
local skynet = require "skynet"
local socket = require "skynet.socket"
local service = require "skynet.service"
local websocket = require "http.websocket"

local AGENTS = 20
local mode, protocol_arg = ...

if mode == "agent" then
	local handle = {}

	function handle.connect(id)
		print("ws connect from: " .. tostring(id))
	end

	function handle.handshake(id, header, url)
		print("ws handshake from: " .. tostring(id), "url", url, "addr:", websocket.addrinfo(id))
		print("----header-----")
		for k, v in pairs(header) do
			print(k, v)
		end
		print("--------------")
	end

	function handle.message(id, msg, msg_type)
		assert(msg_type == "binary" or msg_type == "text")
		websocket.write(id, msg, msg_type)
	end

	function handle.ping(id)
		print("ws ping from: " .. tostring(id))
	end

	function handle.pong(id)
		print("ws pong from: " .. tostring(id))
	end

	function handle.close(id, code, reason)
		print("ws close from: " .. tostring(id), code, reason)
	end

	function handle.error(id)
		print("ws error from: " .. tostring(id))
	end

	skynet.start(function()
		skynet.dispatch("lua", function(_, _, id, protocol, addr)
			local ok, err = websocket.accept(id, handle, protocol, addr)
			if not ok then
				print(err)
			end
		end)
	end)
else
	-- Runs as a service of its own (skynet.service ships it as code: no upvalues).
	local function echo_client(protocol, port)
		local skynet = require "skynet"
		local websocket = require "http.websocket"
		local id = websocket.connect(string.format("%s://127.0.0.1:%d/test_websocket", protocol, port))
		while true do
			local msg = "hello world!"
			websocket.write(id, msg)
			print(">: " .. msg)
			local resp, close_reason = websocket.read(id)
			if not resp then
				print("<: [Close] " .. tostring(close_reason))
				print("echo server close.")
				break
			end
			print("<: " .. resp)
			websocket.ping(id)
			skynet.sleep(100)
		end
	end

	skynet.start(function()
		local PORT = math.tointeger(tonumber(mode)) or 9948
		local protocol = protocol_arg or "ws"
		local agents = {}
		for i = 1, AGENTS do
			agents[i] = skynet.newservice(SERVICE_NAME, "agent")
		end
		local next_agent = 0
		local listener = socket.listen("0.0.0.0", PORT)
		skynet.error(string.format("Listen websocket port %d protocol:%s", PORT, protocol))
		socket.start(listener, function(id, addr)
			print(string.format("accept client socket_id: %s addr:%s", id, addr))
			next_agent = next_agent % AGENTS + 1
			skynet.send(agents[next_agent], "lua", id, protocol, addr)
		end)
		service.new("websocket_echo_client", echo_client, protocol, PORT)
	end)
end

-- One agent per client of the example watchdog. The gate forwards the client's packets
-- here as PTYPE_CLIENT messages (session = fd). Each packet, inside the gate's 2-byte
-- big-endian length framing, is a sproto RPC message of examples/proto.lua:
--   requests from the client (c2s)   handshake | get {what} | set {what value} | quit
--   pushes to the client (s2c)       heartbeat, every 5 seconds
-- Requests that carry a session get a response; quit is answered, then the
-- connection closes.
local skynet = require "skynet"
local socket = require "skynet.socket"
local sprotoloader = require "sprotoloader"

local watchdog
local client_fd
local host -- decodes the client's requests and encodes their responses
local push -- encodes requests to the client
local quitting = false

local function send_package(msg)
	socket.write(client_fd, string.pack(">s2", msg))
end

-- Handlers take the request's fields and return the response's fields.
local REQUEST = {}

function REQUEST.handshake()
	return { msg = "Welcome to skynet, I will send heartbeat every 5 sec." }
end

function REQUEST.get(args)
	local key = assert(args.what, "get needs what")
	skynet.error("get", key)
	return { result = skynet.call("SIMPLEDB", "lua", "get", key) }
end

function REQUEST.set(args)
	local key = assert(args.what, "set needs what")
	skynet.error("set", key, args.value)
	skynet.call("SIMPLEDB", "lua", "set", key, args.value)
end

function REQUEST.quit()
	quitting = true
end

local function handle(name, args, reply)
	local ok, result = pcall(REQUEST[name], args or {})
	if not ok then
		skynet.error(string.format("request %s from fd %d: %s", name, client_fd, result))
		return
	end
	if reply then
		send_package(reply(result))
	end
	if quitting then
		-- The reply is queued on the socket before the gate closes it, so it still goes out.
		skynet.call(watchdog, "lua", "close", client_fd)
	end
end

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	-- A packet that is not a c2s message must not raise in the framework.
	unpack = function(msg, sz)
		return pcall(host.dispatch, host, msg, sz)
	end,
	dispatch = function(fd, _, ok, kind, ...)
		assert(fd == client_fd) -- the gate puts the fd in the session
		skynet.ignoreret() -- so there is nothing to answer
		if not ok then
			skynet.error(string.format("bad packet from fd %d: %s", fd, kind))
		elseif kind == "REQUEST" then
			handle(...)
		else
			skynet.error("the example sends no request that expects a response")
		end
	end,
}

local CMD = {}

function CMD.start(conf)
	watchdog = conf.watchdog
	client_fd = conf.client
	host = sprotoloader.load(1):host "package"
	push = host:attach(sprotoloader.load(2))
	skynet.call(conf.gate, "lua", "forward", client_fd)
	-- After the forward, so that the first heartbeat follows the gate starting the socket
	-- (writes to a socket not started yet are dropped).
	skynet.fork(function()
		while true do
			send_package(push "heartbeat")
			skynet.sleep(500)
		end
	end)
end

function CMD.disconnect()
	skynet.exit()
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = assert(CMD[cmd], cmd)
		skynet.ret(skynet.pack(f(...)))
	end)
end)

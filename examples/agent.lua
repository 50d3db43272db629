-- One agent per client of the example watchdog. The gate forwards the client's packets
-- here as PTYPE_CLIENT messages (session = fd). The protocol is plain text inside the
-- gate's 2-byte length framing:
--   request   "<session> <name> [args]"   handshake | get <key> | set <key> <value> |
--                                         echo <text> | quit
--   response  "RESPONSE <session>[ <text>]"   (quit gets none: the connection closes)
--   push      "REQUEST heartbeat"             every 5 seconds
local skynet = require "skynet"
local socket = require "skynet.socket"

local watchdog
local client_fd

local function send_package(text)
	socket.write(client_fd, string.pack(">s2", text))
end

local REQUEST = {}

function REQUEST.handshake()
	return "Welcome to skynet, I will send heartbeat every 5 sec."
end

function REQUEST.get(args)
	local key = args:match("^(%S+)")
	if key == nil then
		return "ERROR get needs a key"
	end
	skynet.error("get", key)
	return skynet.call("SIMPLEDB", "lua", "get", key)
end

function REQUEST.set(args)
	local key, value = args:match("^(%S+)%s+(.*)$")
	if key == nil then
		return "ERROR set needs a key and a value"
	end
	skynet.error("set", key, value)
	skynet.call("SIMPLEDB", "lua", "set", key, value)
end

function REQUEST.echo(args)
	return args
end

function REQUEST.quit()
	skynet.call(watchdog, "lua", "close", client_fd)
	return false
end

local function handle(text)
	local session, name, args = text:match("^(%d+)%s+(%S+)%s*(.*)$")
	if session == nil then
		skynet.error("bad request", text)
		return
	end
	local f = REQUEST[name]
	local ok, result
	if f then
		ok, result = pcall(f, args)
	else
		ok, result = true, "ERROR unknown request " .. name
	end
	if not ok then
		skynet.error(result)
		result = "ERROR " .. tostring(result)
	end
	if result == false then
		return
	end
	if result == nil then
		send_package("RESPONSE " .. session)
	else
		send_package("RESPONSE " .. session .. " " .. tostring(result))
	end
end

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
	dispatch = function(fd, _, text)
		assert(fd == client_fd) -- the gate puts the fd in the session
		skynet.ignoreret() -- so there is nothing to answer
		handle(text)
	end,
}

local CMD = {}

function CMD.start(conf)
	watchdog = conf.watchdog
	client_fd = conf.client
	skynet.fork(function()
		while true do
			send_package("REQUEST heartbeat")
			skynet.sleep(500)
		end
	end)
	skynet.call(conf.gate, "lua", "forward", client_fd)
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

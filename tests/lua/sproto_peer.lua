-- The server side of the sproto RPC test: loads both schemas from sprotoloader's slots
-- (1: client to server, 2: server to client) and answers requests, either handed over
-- as strings by sproto_rpc ("rpc") or arriving from a client socket the gate forwards
-- here ("start"), decoded straight from the gate's message buffer.
local skynet = require "skynet"
local socket = require "skynet.socket"
local sprotoloader = require "sprotoloader"

local T = require "testcase" "sproto_rpc"

local host = sprotoloader.load(1):host "package"
local push = host:attach(sprotoloader.load(2))
local store = {}
local owner, client_fd

local REQUEST = {}

function REQUEST.handshake()
	return { msg = "welcome" }
end

function REQUEST.get(args)
	return { result = store[args.what] }
end

function REQUEST.set(args)
	store[args.what] = args.value
end

function REQUEST.echo(args)
	return args
end

function REQUEST.ping(args)
	T.same(args, nil, "ping has no request")
end

function REQUEST.quit()
	if owner then
		skynet.send(owner, "lua", "quit")
	end
end

-- The packets that answer one request: its response (when it has a session), then the
-- pushes a handshake triggers.
local function handle(...)
	local kind, name, args, respond, ud = host:dispatch(...)
	T.same(kind, "REQUEST", "the peer gets requests")
	local out = {}
	local result = assert(REQUEST[name], name)(args)
	if respond then
		out[#out + 1] = respond(result, ud)
	end
	if name == "handshake" then
		out[#out + 1] = push("heartbeat")
		out[#out + 1] = push("notice", { text = "hello " .. tostring(ud) })
	end
	return out
end

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = function(msg, sz)
		return handle(msg, sz)
	end,
	dispatch = function(fd, _, out)
		skynet.ignoreret()
		T.same(fd, client_fd, "packet from the forwarded client")
		for _, packet in ipairs(out) do
			socket.write(fd, string.pack(">s2", packet))
		end
	end,
}

local command = {}

function command.rpc(packet)
	return handle(packet)
end

function command.start(gate, fd, watchdog)
	owner, client_fd = watchdog, fd
	skynet.call(gate, "lua", "forward", fd)
end

skynet.start(function()
	skynet.dispatch("lua", function(session, _, cmd, ...)
		local f = assert(command[cmd], cmd)
		if session == 0 then
			f(...)
		else
			skynet.ret(skynet.pack(f(...)))
		end
	end)
end)

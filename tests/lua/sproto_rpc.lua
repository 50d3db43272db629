-- sproto RPC as skynet's examples use it: schemas registered in sprotoloader's slots,
-- loaded by another service (sproto_peer) that answers with host:dispatch; requests made
-- with host:attach. First between two services, then through a gate with the
-- stand-alone client tests/lua/sproto_cli.lua (run by tests/lua_sproto.rs once this
-- prints "SPROTO listen <port>"); the test ends when that client has quit and closed.
local skynet = require "skynet"
local sproto = require "sproto"
local sprotoloader = require "sprotoloader"
local sprotoparser = require "sprotoparser"
local schema = require "sproto_schema"

local NAME = "sproto_rpc"
local T = require "testcase" (NAME)

-- Slot 1 from a schema file (register), slot 2 from a binary (save).
local function fill_slots()
	local path = os.tmpname()
	T.write_file(path, schema.c2s)
	local ok, err = pcall(sprotoloader.register, path, 1)
	os.remove(path)
	assert(ok, err)
	sprotoloader.save(sprotoparser.parse(schema.s2c), 2)
	T.raises("Can't open sproto file", "register of a missing file", sprotoloader.register, path, 3)
	T.raises("nil sproto at index 3", "load of an empty slot", sprotoloader.load, 3)
	T.raises("Invalid global slot index 16", "slot out of range", sprotoloader.load, 16)
	T.raises("Invalid global slot index -1", "negative slot", sprotoloader.save, sprotoparser.parse(schema.s2c), -1)
end

local function between_services()
	local peer = skynet.newservice("sproto_peer")
	local client = sprotoloader.load(2):host "package"
	local request = client:attach(sprotoloader.load(1))
	local function call(...)
		return skynet.call(peer, "lua", "rpc", request(...))
	end

	local out = call("handshake", nil, 1, "me")
	T.same(#out, 3, "a response and two pushes")
	local kind, session, args, ud = client:dispatch(out[1])
	T.check(kind == "RESPONSE" and session == 1 and args.msg == "welcome" and ud == "me", "handshake response",
		kind, session, ud)
	local kind2, name, args2, respond = client:dispatch(out[2])
	T.check(kind2 == "REQUEST" and name == "heartbeat" and args2 == nil and respond == nil, "heartbeat push", kind2, name)
	local _, name3, args3 = client:dispatch(out[3])
	T.check(name3 == "notice" and args3.text == "hello me", "notice push with the handshake's ud", name3)

	T.same(#call("set", { what = "k", value = "v" }), 0, "no session, no response")
	local _, s, got = client:dispatch(call("get", { what = "k" }, 2)[1])
	T.check(s == 2 and got.result == "v", "get after set", s)

	local sample = schema.sample()
	local _, s4, echoed = client:dispatch(call("echo", sample, 4)[1])
	T.check(s4 == 4 and schema.same(echoed, sample), "echo of every field type")

	local reply = call("ping", nil, 5)[1]
	local kind5, s5, none = client:dispatch(reply)
	T.check(kind5 == "RESPONSE" and s5 == 5 and none == nil, "response nil")
	T.raises("Unknown session", "a response nobody waits for", client.dispatch, client, reply)
	T.same(#call("quit"), 0, "quit without a session")

	-- a bad packet fails that call only
	T.raises(nil, "garbage packet", skynet.call, peer, "lua", "rpc", "\xff")
	T.same(#call("handshake", nil, 6), 3, "the peer still answers")
	client:dispatch(call("get", { what = "k" }, 7)[1])

	-- what dispatch rejects
	local server = sprotoloader.load(1):host "package"
	T.raises("Invalid unpack stream", "garbage packet", server.dispatch, server, "\xff")
	T.raises("63 not found", "request tag the schema lacks", server.dispatch, server, sproto.pack("\2\0\128\0\4\0"))
	T.raises("session not found", "a response without a session", server.dispatch, server, sproto.pack("\0\0"))
	T.raises("type package not found", "host of a missing package type", sprotoloader.load(1).host, sprotoloader.load(1), "nope")
end

local quit_seen = false
local gate
local agents = {}

local SOCKET = {}

function SOCKET.open(fd)
	local agent = skynet.newservice("sproto_peer")
	agents[fd] = agent
	skynet.call(agent, "lua", "start", gate, fd, skynet.self())
end

function SOCKET.close(fd)
	T.check(quit_seen, "the client sent quit before closing")
	if agents[fd] then
		skynet.kill(agents[fd])
	end
	T.finish()
end

function SOCKET.error(fd, msg)
	T.check(false, "socket error", fd, msg)
	SOCKET.close(fd)
end

function SOCKET.warning() end

function SOCKET.data(fd, msg)
	T.check(false, "the gate sent data for", fd, #msg)
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, event, ...)
		if cmd == "socket" then
			SOCKET[event](...)
		elseif cmd == "quit" then
			quit_seen = true
		else
			T.check(false, "unexpected command", cmd)
		end
	end)
	local ok, err = xpcall(function()
		fill_slots()
		between_services()
	end, debug.traceback)
	if not T.check(ok, err) then
		T.finish()
		return
	end
	gate = skynet.newservice("gate")
	local _, port = skynet.call(gate, "lua", "open", { address = "127.0.0.1", port = 0, nodelay = true })
	skynet.error("SPROTO listen " .. port)
end)

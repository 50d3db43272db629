-- snax.loginserver: the login front end of a loginserver/msgserver pair.
--
-- The script that calls this module runs twice over: once as the master, which listens
-- and decides, and `conf.instance` more times as slaves, which do the slow part (key
-- exchange and auth_handler) for one connection each at a time.
--
-- Wire protocol, one line per step, "\n" terminated, binary values in base64:
--   1. server: an 8-byte random challenge
--   2. client: its DH public key, dhexchange(clientkey) (8 bytes)
--   3. server: its DH public key, dhexchange(serverkey)
--      both sides now hold secret = dhsecret(peer public key, own private key)
--   4. client: hmac64(challenge, secret)
--   5. client: DES(secret, token), token chosen by the application
--   6. server: auth_handler(token) -> server, uid (in a slave)
--              login_handler(server, uid, secret) -> subid (in the master)
--   7. server: "200 base64(subid)", or
--              "401 Unauthorized"   the exchange or auth_handler failed
--              "403 Forbidden"      login_handler raised an error
--              "406 Not Acceptable" uid is already logging in (multilogin off)
--
-- conf: host ("0.0.0.0"), port, instance (8 slaves), name ("login": registered as
-- ".login"), multilogin, auth_handler, login_handler, command_handler (answers the
-- "lua" messages other services send to the master).

local skynet = require "skynet"
require "skynet.manager"
local socket = require "skynet.socket"
local crypt = require "skynet.crypt"

-- Raised (as a unique value) when the peer went away, so it is not reported as bad input.
local closed = {}

local function need(what, value, fd)
	if not value then
		skynet.error(string.format("%s failed: socket (fd = %d) closed", what, fd))
		error(closed)
	end
	return value
end

local function send_line(what, fd, line)
	need(what, socket.write(fd, line .. "\n"), fd)
end

---------------------------------------------------------------- slave side

-- The key exchange and token check on a started socket. Returns what a pcall of
-- auth_handler returns, plus the secret.
local function handshake(fd, auth_handler)
	-- A client that sends more than this without finishing a line gets disconnected.
	socket.limit(fd, 8192)
	local challenge = crypt.randomkey()
	send_line("auth", fd, crypt.base64encode(challenge))

	local client_public = crypt.base64decode(need("auth", socket.readline(fd), fd))
	if #client_public ~= 8 then
		error "Invalid client key"
	end
	local server_private = crypt.randomkey()
	send_line("auth", fd, crypt.base64encode(crypt.dhexchange(server_private)))
	local secret = crypt.dhsecret(client_public, server_private)

	local proof = crypt.base64decode(need("auth", socket.readline(fd), fd))
	if proof ~= crypt.hmac64(challenge, secret) then
		error "challenge failed"
	end

	local etoken = crypt.base64decode(need("auth", socket.readline(fd), fd))
	local token = crypt.desdecode(secret, etoken)
	local ok, server, uid = pcall(auth_handler, token)
	return ok, server, uid, secret
end

-- What the slave answers the master: ok, server, uid, secret on the way through;
-- nil, "socket error" when the peer left; false, err for anything else.
local function answer(ok, ...)
	if ok then
		return skynet.pack(...)
	end
	local err = ...
	if err == closed then
		return skynet.pack(nil, "socket error")
	end
	return skynet.pack(false, err)
end

local function serve_slave(auth_handler)
	local function authenticate(fd, addr)
		skynet.error(string.format("connect from %s (fd = %d)", addr, fd))
		local msg, sz
		if socket.start(fd) then
			msg, sz = answer(pcall(handshake, fd, auth_handler))
		else
			msg, sz = skynet.pack(nil, "socket error")
		end
		-- Hand the socket back untouched: the master writes the verdict.
		socket.abandon(fd)
		return msg, sz
	end

	skynet.dispatch("lua", function(_, _, fd, addr)
		local ok, msg, sz = pcall(authenticate, fd, addr)
		if ok then
			skynet.ret(msg, sz)
		else
			skynet.ret(skynet.pack(false, msg))
		end
	end)
end

---------------------------------------------------------------- master side

-- uids whose login_handler is running, when multilogin is off
local logging_in = {}

local function admit(conf, slave, fd, addr)
	local ok, server, uid, secret = skynet.call(slave, "lua", fd, addr)
	if not ok then
		-- nil means the client is gone: nobody to answer
		if ok == false then
			send_line("response 401", fd, "401 Unauthorized")
		end
		error(server, 0)
	end

	if not conf.multilogin then
		if logging_in[uid] then
			send_line("response 406", fd, "406 Not Acceptable")
			error(string.format("User %s is already login", uid))
		end
		logging_in[uid] = true
	end
	local done, subid = pcall(conf.login_handler, server, uid, secret)
	logging_in[uid] = nil

	if not done then
		send_line("response 403", fd, "403 Forbidden")
		error(subid, 0)
	end
	send_line("response 200", fd, "200 " .. crypt.base64encode(subid or ""))
end

local function serve_master(conf)
	local count = conf.instance or 8
	assert(count > 0, "loginserver needs at least one instance")
	local host = conf.host or "0.0.0.0"
	local port = assert(tonumber(conf.port), "loginserver needs a port")
	local command_handler = conf.command_handler

	skynet.dispatch("lua", function(_, _, cmd, ...)
		skynet.ret(skynet.pack(command_handler(cmd, ...)))
	end)

	local slaves = {}
	for i = 1, count do
		slaves[i] = skynet.newservice(SERVICE_NAME)
	end

	skynet.error(string.format("login server listen at : %s %d", host, port))
	local listener = socket.listen(host, port)
	local turn = 0
	socket.start(listener, function(fd, addr)
		turn = turn % #slaves + 1
		local ok, err = pcall(admit, conf, slaves[turn], fd, addr)
		if not ok and err ~= closed then
			skynet.error(string.format("invalid client (fd = %d) error = %s", fd, err))
		end
		-- The master never started this socket, so it closes the fd directly (pending
		-- output is still flushed first).
		socket.close_fd(fd)
	end)
end

local function loginserver(conf)
	local name = "." .. (conf.name or "login")
	skynet.start(function()
		-- The master registers the name before it launches the slaves, so a service
		-- finding the name taken is a slave.
		if skynet.localname(name) then
			serve_slave(assert(conf.auth_handler, "loginserver needs auth_handler"))
		else
			assert(conf.login_handler, "loginserver needs login_handler")
			assert(conf.command_handler, "loginserver needs command_handler")
			skynet.register(name)
			serve_master(conf)
		end
	end)
end

return loginserver

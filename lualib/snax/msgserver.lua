-- snax.msgserver: a request/response gate on top of snax.gateserver, the game-side half
-- of a loginserver/msgserver pair. A user is not a connection: a login registers a
-- username and its secret, connections come and go under it, and it lasts until an
-- explicit logout.
--
-- Every packet has a 2-byte big-endian length header (netpack). Numbers are big-endian.
--
-- Handshake, the first packet of a connection:
--   client: base64(uid)@base64(server)#base64(subid):index:base64(hmac)
--           hmac = hmac_hash(secret, "<username>:<index>"), index grows on every connect
--   server: "200 OK", or (and the connection is closed)
--           "404 User Not Found", "403 Index Expired", "401 Unauthorized",
--           "400 Bad Request"
-- Then any number of:
--   request:  content .. uint32 session
--   response: content .. uint8 ok .. uint32 session   (no content when ok is 0)
-- Responses are kept by session. Sending a session again on a later connection (after a
-- reconnect) replays its response instead of running the request again; sending it again
-- on the same connection is a new request.
--
-- conf for msgserver.start: login_handler(uid, secret) -> subid, logout_handler(uid,
-- subid), kick_handler(uid, subid), request_handler(username, msg) -> string,
-- register_handler(servername), disconnect_handler(username) (optional), and
-- expired_number (responses cached per user, 128).
-- "lua" commands it answers: open, close (gateserver), login, logout, kick.

local skynet = require "skynet"
local gateserver = require "snax.gateserver"
local netpack = require "skynet.netpack"
local crypt = require "skynet.crypt"
local driver = require "skynet.socketdriver"

local b64encode = crypt.base64encode
local b64decode = crypt.base64decode

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
}

local msgserver = {}

-- username -> user: { username, secret, version (last accepted index), fd, ip,
-- serial (counter stamped on cached responses), replies (session -> cached reply) }
local users = {}
-- fd -> address, for connections that have not sent their handshake yet
local pending = {}
-- fd -> user, for connections past the handshake
local bound = {}

function msgserver.userid(username)
	local uid, servername, subid = username:match "([^@]*)@([^#]*)#(.*)"
	return b64decode(uid), b64decode(subid), b64decode(servername)
end

function msgserver.username(uid, subid, servername)
	return string.format("%s@%s#%s", b64encode(uid), b64encode(servername), b64encode(tostring(subid)))
end

function msgserver.login(username, secret)
	assert(users[username] == nil, "user is already login")
	users[username] = {
		username = username,
		secret = secret,
		version = 0,
		serial = 0,
		replies = {},
	}
end

function msgserver.logout(username)
	local u = users[username]
	if u == nil then
		return
	end
	users[username] = nil
	local fd = u.fd
	if fd and bound[fd] then
		bound[fd] = nil
		gateserver.closeclient(fd)
	end
end

function msgserver.ip(username)
	local u = users[username]
	if u and u.fd then
		return u.ip
	end
end

-- Checks a handshake; binds fd to the user and returns nil, or returns the refusal.
-- It never yields, so nothing can change the user under it.
local function check_handshake(fd, addr, text)
	local username, index, hmac = text:match "([^:]*):([^:]*):([^:]*)"
	local u = users[username]
	if u == nil then
		return "404 User Not Found"
	end
	local n = assert(tonumber(index), "bad index")
	hmac = b64decode(hmac)
	if n <= u.version then
		return "403 Index Expired"
	end
	-- the index is signed as sent, not as parsed
	if crypt.hmac_hash(u.secret, username .. ":" .. index) ~= hmac then
		return "401 Unauthorized"
	end
	u.version = n
	u.fd = fd
	u.ip = addr
	bound[fd] = u
end

local function welcome(fd, addr, msg, sz)
	local ok, refusal = pcall(check_handshake, fd, addr, netpack.tostring(msg, sz))
	if not ok then
		skynet.error(refusal)
		refusal = "400 Bad Request"
	end
	driver.send(fd, netpack.pack(refusal or "200 OK"))
	if refusal then
		gateserver.closeclient(fd)
	end
end

function msgserver.start(conf)
	local keep = conf.expired_number or 128
	local request_handler = assert(conf.request_handler, "msgserver needs request_handler")
	local commands = {
		login = assert(conf.login_handler, "msgserver needs login_handler"),
		logout = assert(conf.logout_handler, "msgserver needs logout_handler"),
		kick = assert(conf.kick_handler, "msgserver needs kick_handler"),
	}

	-- Once 2 * keep responses went out, the finished ones older than the last `keep`
	-- are dropped and the others renumbered from 0.
	local function expire(u)
		if u.serial < keep * 2 then
			return
		end
		local newest = 0
		for session, r in pairs(u.replies) do
			if r.fd == nil then
				if r.serial < keep then
					u.replies[session] = nil
				else
					r.serial = r.serial - keep
					if r.serial > newest then
						newest = r.serial
					end
				end
			end
		end
		u.serial = newest + 1
	end

	-- A reply record: fd (where to send it, nil once sent), data (the framed response,
	-- nil while the handler runs), version (connection it belongs to), serial.
	local function serve(fd, text)
		local u = assert(bound[fd], "invalid fd")
		local session = string.unpack(">I4", text, -4)
		local content = text:sub(1, -5)
		local r = u.replies[session]
		if r and r.version == u.version then
			-- The same connection uses the session again: a new request, unless the
			-- old one is still running.
			u.replies[session] = nil
			if r.data == nil then
				local err = string.format("Conflict session %s", crypt.hexencode(session))
				skynet.error(err)
				error(err)
			end
			r = nil
		end
		if r then
			-- A session from an earlier connection: answer again on this one.
			r.fd = fd
			r.version = u.version
			r.serial = u.serial
			if r.data == nil then
				-- still running; it will be sent here when done
				return
			end
		else
			r = { fd = fd }
			u.replies[session] = r
			local origin = u.version
			-- May yield: the connection can change or close meanwhile.
			local ok, result = pcall(request_handler, u.username, content)
			if ok then
				result = (result or "") .. string.pack(">BI4", 1, session)
			else
				skynet.error(result)
				result = string.pack(">BI4", 0, session)
			end
			r.data = string.pack(">s2", result)
			-- Unless a later connection claimed it meanwhile, the reply belongs to the
			-- connection that asked, so that one reconnecting replays it whenever it
			-- finished.
			r.version = r.version or origin
			r.serial = u.serial
		end
		u.serial = u.serial + 1
		-- (the fd may be closed, or even reused by another user, by now)
		if bound[r.fd] == u then
			driver.send(r.fd, r.data)
		end
		r.fd = nil
		expire(u)
	end

	local handler = {}

	function handler.command(cmd, _, ...)
		local f = assert(commands[cmd], "unknown command")
		return f(...)
	end

	function handler.open(_, gateconf)
		local servername = assert(gateconf.servername, "msgserver needs conf.servername")
		if conf.register_handler then
			return conf.register_handler(servername)
		end
	end

	function handler.connect(fd, addr)
		pending[fd] = addr
		gateserver.openclient(fd)
	end

	function handler.disconnect(fd)
		pending[fd] = nil
		local u = bound[fd]
		if u == nil then
			return
		end
		if conf.disconnect_handler then
			conf.disconnect_handler(u.username)
		end
		-- the handler may have logged the user out (and closed fd) already
		if bound[fd] then
			bound[fd] = nil
			if u.fd == fd then
				u.fd = nil
			end
			gateserver.closeclient(fd)
		end
	end

	handler.error = handler.disconnect

	function handler.message(fd, msg, sz)
		local addr = pending[fd]
		if addr then
			pending[fd] = nil
			welcome(fd, addr, msg, sz)
			return
		end
		local text = netpack.tostring(msg, sz)
		local ok, err = pcall(serve, fd, text)
		if not ok then
			skynet.error(string.format("Invalid package %s : %s", err, text))
			if bound[fd] then
				gateserver.closeclient(fd)
			end
		end
	end

	return gateserver.start(handler)
end

return msgserver

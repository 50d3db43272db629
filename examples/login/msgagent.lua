-- One user's agent: the gate forwards the user's requests as "client" messages and
-- sends back whatever the agent returns. This one echoes.
local skynet = require "skynet"

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
}

local gate
local userid, subid

local CMD = {}

function CMD.login(source, uid, sid, secret)
	-- the secret could key an encrypted stream; user data would be loaded here
	skynet.error(string.format("%s is login", uid))
	gate = source
	userid = uid
	subid = sid
end

-- May run twice (a kick while the agent is logging out already).
function CMD.logout()
	skynet.error(string.format("%s is logout", userid))
	if gate then
		skynet.call(gate, "lua", "logout", userid, subid)
	end
	skynet.exit()
end

function CMD.afk()
	-- the connection is gone, but the user may come back with the next index
	skynet.error("AFK")
end

skynet.start(function()
	skynet.dispatch("lua", function(_, source, command, ...)
		local f = assert(CMD[command])
		skynet.ret(skynet.pack(f(source, ...)))
	end)

	skynet.dispatch("client", function(_, _, msg)
		-- take a while, so a client that disconnects at once misses the answer
		skynet.sleep(10)
		skynet.ret(msg)
	end)
end)

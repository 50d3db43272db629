-- Deprecated (use skynet.queue): serves the "queue" protocol one message at a time
-- with the function given to mqueue.register.

local skynet = require "skynet"
local c = require "skynet.core"

local mqueue = {}
local registered = false
local inbox = {}	-- { session =, addr =, args... } in arrival order
local idle_worker	-- the serving coroutine while it waits for mail

skynet.register_protocol {
	name = "queue",
	id = skynet.PTYPE_QUEUE,
	pack = skynet.pack,
	unpack = skynet.unpack,
	dispatch = function(session, source, ...)
		-- the serving coroutine answers later, by session
		skynet.ignoreret()
		inbox[#inbox + 1] = { session = session, addr = source, ... }
		if idle_worker then
			skynet.wakeup(idle_worker)
			idle_worker = nil
		end
	end,
}

local function serve(f)
	while true do
		if #inbox == 0 then
			idle_worker = coroutine.running()
			skynet.wait()
		else
			local m = table.remove(inbox, 1)
			if m.session == 0 then
				local ok, result = pcall(f, table.unpack(m))
				if not ok or result then
					-- keep serving in a new coroutine, and report the misuse from this one
					skynet.fork(serve, f)
					if ok then
						error(string.format("[:%x] send a message to [:%x] return something", m.addr, skynet.self()))
					end
					error(string.format("[:%x] send a message to [:%x] throw an error : %s", m.addr, skynet.self(), tostring(result)))
				end
			else
				c.send(m.addr, skynet.PTYPE_RESPONSE, m.session, skynet.pack(pcall(f, table.unpack(m))))
			end
		end
	end
end

function mqueue.register(f)
	assert(not registered)
	registered = true
	skynet.fork(serve, f)
end

local function unwrap(ok, ...)
	if not ok then
		error(...)
	end
	return ...
end

function mqueue.call(addr, ...)
	return unwrap(skynet.call(addr, "queue", ...))
end

function mqueue.send(addr, ...)
	return skynet.send(addr, "queue", ...)
end

function mqueue.size()
	return #inbox
end

return mqueue

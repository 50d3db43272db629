-- `.cslave` of a single node (harbor 0): there is no other node, so global names live
-- in this service alone. It starts the C harbor service with id 0 so that the core's
-- global name lookups still work.

local skynet = require "skynet"
require "skynet.manager"

local function identity(...)
	return ...
end

skynet.register_protocol {
	name = "harbor",
	id = skynet.PTYPE_HARBOR,
	pack = identity,
	unpack = skynet.tostring,
}

skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	pack = identity,
	unpack = skynet.tostring,
}

local names = {}	-- global name -> handle
local waiting = {}	-- global name -> response closures of QUERYNAMEs before it existed
local harbor_service

local cmd = {}

function cmd.REGISTER(name, handle)
	assert(names[name] == nil)
	names[name] = handle
	local queue = waiting[name]
	if queue then
		waiting[name] = nil
		for _, respond in ipairs(queue) do
			respond(true, handle)
		end
	end
	-- tell the C harbor, so the core can send to the name
	skynet.redirect(harbor_service, handle, "harbor", 0, "N " .. name)
end

function cmd.QUERYNAME(name)
	if name:sub(1, 1) == "." then
		skynet.ret(skynet.pack(skynet.localname(name)))
		return
	end
	local handle = names[name]
	if handle then
		skynet.ret(skynet.pack(handle))
		return
	end
	-- answered when the name gets registered
	local queue = waiting[name]
	if queue == nil then
		queue = {}
		waiting[name] = queue
	end
	queue[#queue + 1] = skynet.response()
end

function cmd.LINK()
	skynet.ret()
end

function cmd.CONNECT()
	skynet.error("Can't connect to other harbor in single node mode")
end

skynet.start(function()
	local harbor_id = tonumber(skynet.getenv "harbor")
	assert(harbor_id == 0)
	skynet.dispatch("lua", function(_, _, name, ...)
		local f = assert(cmd[name])
		f(...)
	end)
	-- the C harbor's notices need no handling here
	skynet.dispatch("text", function() end)
	harbor_service = assert(skynet.launch("harbor", harbor_id, skynet.self()))
end)

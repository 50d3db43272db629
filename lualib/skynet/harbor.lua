-- Global names and links between harbors, served by `.cslave` (cslave or cdummy).
local skynet = require "skynet"

local harbor = {}

-- Binds the global `name` to `handle` (default: this service) on every node.
function harbor.globalname(name, handle)
	skynet.send(".cslave", "lua", "REGISTER", name, handle or skynet.self())
end

-- The handle bound to `name`, waiting until some node registers it.
-- A name starting with "." is looked up locally.
function harbor.queryname(name)
	return skynet.call(".cslave", "lua", "QUERYNAME", name)
end

-- Blocks until the link to harbor `id` goes down.
function harbor.link(id)
	skynet.call(".cslave", "lua", "LINK", id)
end

-- Blocks until harbor `id` is linked.
function harbor.connect(id)
	skynet.call(".cslave", "lua", "CONNECT", id)
end

-- Blocks until this node loses its master.
function harbor.linkmaster()
	skynet.call(".cslave", "lua", "LINKMASTER")
end

return harbor

-- Client of the DATACENTER service: a node-wide (harbor-wide) tree of values.

local skynet = require "skynet"

local datacenter = {}

-- datacenter.get(k1, k2, ...): the value at that path, or nil
function datacenter.get(...)
	return skynet.call("DATACENTER", "lua", "QUERY", ...)
end

-- datacenter.set(k1, ..., value): returns the previous value
function datacenter.set(...)
	return skynet.call("DATACENTER", "lua", "UPDATE", ...)
end

-- datacenter.wait(k1, k2, ...): the value, blocking until somebody sets it
function datacenter.wait(...)
	return skynet.call("DATACENTER", "lua", "WAIT", ...)
end

return datacenter

-- Loads the example's schemas (examples/proto.lua) into sprotoloader's process-wide
-- slots: 1 = c2s (requests from clients), 2 = s2c (pushes to clients). main.lua starts
-- it as a uniqueservice before any agent, which then only needs sprotoloader.load.
local skynet = require "skynet"
local sprotoloader = require "sprotoloader"

-- proto.lua sits next to this service, outside lua_path.
package.path = SERVICE_PATH .. "?.lua;" .. package.path
local proto = require "proto"

skynet.start(function()
	sprotoloader.save(proto.c2s, 1)
	sprotoloader.save(proto.s2c, 2)
	-- Stays alive: the slots belong to the process, and this keeps sproto.core loaded.
end)

-- Publish/subscribe channels served by the unique service `multicastd`.
--
-- A published message is packed once; every local subscriber receives a pointer to the
-- same reference-counted package (skynet.multicast.core) as a PTYPE_MULTICAST message
-- whose session field carries the channel id.
local skynet = require "skynet"
local mc = require "skynet.multicast.core"

local multicastd
local multicast = {}
local subscribed = {}	-- channel id -> channel object receiving its messages

local channel = {}
channel.__index = channel

channel.__gc = function(self)
	self:unsubscribe()
end

channel.__tostring = function(self)
	return string.format("[Multicast:%x]", self.channel)
end

-- conf (all optional): channel (join an existing channel id, else a new one is made),
-- pack/unpack (default skynet.pack/unpack), dispatch(self, source, ...) for subscribers.
function multicast.new(conf)
	assert(multicastd, "Init first")
	conf = conf or {}
	local self = {
		channel = conf.channel or skynet.call(multicastd, "lua", "NEW"),
		_pack = conf.pack or skynet.pack,
		_unpack = conf.unpack or skynet.unpack,
		_dispatch = conf.dispatch,
		_subscribed = false,
	}
	return setmetatable(self, channel)
end

-- Deletes the channel for everyone; this object can not be used afterwards.
function channel:delete()
	local id = assert(self.channel)
	skynet.send(multicastd, "lua", "DEL", id)
	if subscribed[id] == self then
		subscribed[id] = nil
	end
	self.channel = nil
	self._subscribed = false
end

function channel:publish(...)
	local id = assert(self.channel)
	skynet.call(multicastd, "lua", "PUB", id, mc.pack(self._pack(...)))
end

function channel:subscribe()
	local id = assert(self.channel)
	if self._subscribed then
		return
	end
	skynet.call(multicastd, "lua", "SUB", id)
	self._subscribed = true
	subscribed[id] = self
end

function channel:unsubscribe()
	if not self._subscribed then
		return
	end
	local id = assert(self.channel)
	skynet.send(multicastd, "lua", "USUB", id)
	self._subscribed = false
	if subscribed[id] == self then
		subscribed[id] = nil
	end
end

-- Every package must be closed exactly once, whoever ends up with it.
local function deliver(id, source, package, msg, sz)
	skynet.ignoreret()
	local self = subscribed[id]
	if not (self and self._subscribed) then
		-- Unsubscribed while the message was on its way.
		mc.close(package)
		return
	end
	local ok, err = pcall(function()
		self._dispatch(self, source, self._unpack(msg, sz))
	end)
	mc.close(package)
	if not ok then
		error(err)
	end
end

skynet.init(function()
	multicastd = skynet.uniqueservice "multicastd"
	skynet.register_protocol {
		name = "multicast",
		id = skynet.PTYPE_MULTICAST,
		unpack = mc.unpack,
		dispatch = deliver,
	}
end)

return multicast

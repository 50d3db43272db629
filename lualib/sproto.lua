-- sproto: schema objects and the RPC host on top of sproto.core.
--   sproto.new(bin)  sproto.sharenew(cobj)  sproto.parse(text)
--   sp:encode/decode/pencode/pdecode(typename, ...)  sp:default(name [, "REQUEST"|"RESPONSE"])
--   sp:request_encode/response_encode/request_decode/response_decode(protoname, ...)
--   sp:host([packagename]) -> host:dispatch(msg [, sz]), host:attach(sp) -> sender
-- An RPC message is a packed (0-packing) header of the package type (type, session, ud)
-- followed by the request or response body.
local core = require "sproto.core"

local assert = assert
local setmetatable = setmetatable

local sproto = {}
local host = {}

-- Objects made by new() free their C schema when collected; sharenew() wraps a schema
-- owned elsewhere (a sprotoloader slot).
local owned_mt = {
	__index = sproto,
	__gc = function(self)
		core.deleteproto(self.__cobj)
	end,
}
local shared_mt = { __index = sproto }
local host_mt = { __index = host }

local function wrap(cobj, mt)
	return setmetatable({ __cobj = cobj, __types = {}, __protocols = {} }, mt)
end

function sproto.new(bin)
	return wrap(assert(core.newproto(bin)), owned_mt)
end

function sproto.sharenew(cobj)
	return wrap(cobj, shared_mt)
end

function sproto.parse(text)
	local parser = require "sprotoparser"
	return sproto.new(parser.parse(text))
end

local function querytype(self, typename)
	local st = self.__types[typename]
	if st == nil then
		st = assert(core.querytype(self.__cobj, typename), "type not found")
		self.__types[typename] = st
	end
	return st
end

-- The protocol named (or tagged) `key`: { name, tag, request, response }. A response of
-- "response nil" is a NULL light userdata: true as a value, nil for core.encode/decode.
local function queryproto(self, key)
	local p = self.__protocols[key]
	if p == nil then
		local found, request, response = core.protocol(self.__cobj, key)
		assert(found, key .. " not found")
		local name, tag = key, found
		if type(key) == "number" then
			name, tag = found, key
		end
		p = { name = name, tag = tag, request = request, response = response }
		self.__protocols[name] = p
		self.__protocols[tag] = p
	end
	return p
end
sproto.queryproto = queryproto

function sproto:exist_type(typename)
	return self.__types[typename] ~= nil or core.querytype(self.__cobj, typename) ~= nil
end

function sproto:exist_proto(name)
	return self.__protocols[name] ~= nil or core.protocol(self.__cobj, name) ~= nil
end

function sproto:encode(typename, tbl)
	return core.encode(querytype(self, typename), tbl)
end

function sproto:decode(typename, ...)
	return core.decode(querytype(self, typename), ...)
end

function sproto:pencode(typename, tbl)
	return core.pack(core.encode(querytype(self, typename), tbl))
end

function sproto:pdecode(typename, ...)
	return core.decode(querytype(self, typename), core.unpack(...))
end

function sproto:request_encode(name, tbl)
	local p = queryproto(self, name)
	if p.request then
		return core.encode(p.request, tbl), p.tag
	end
	return "", p.tag
end

function sproto:response_encode(name, tbl)
	local p = queryproto(self, name)
	if p.response then
		return core.encode(p.response, tbl)
	end
	return ""
end

function sproto:request_decode(name, ...)
	local p = queryproto(self, name)
	if p.request then
		return (core.decode(p.request, ...)), p.name
	end
	return nil, p.name
end

function sproto:response_decode(name, ...)
	local p = queryproto(self, name)
	if p.response then
		return core.decode(p.response, ...)
	end
end

sproto.pack = core.pack
sproto.unpack = core.unpack

-- A table of the type's fields at their defaults; with "REQUEST" or "RESPONSE", of that
-- part of the protocol `name` (nil if it has none).
function sproto:default(name, which)
	if which == nil then
		return core.default(querytype(self, name))
	end
	local p = queryproto(self, name)
	local st
	if which == "REQUEST" then
		st = p.request
	elseif which == "RESPONSE" then
		st = p.response
	else
		error "Invalid type"
	end
	if st then
		return core.default(st)
	end
end

---------------------------------------------------------------- RPC

function sproto:host(packagename)
	local package = core.querytype(self.__cobj, packagename or "package")
	return setmetatable({
		__proto = self,
		__package = assert(package, "type package not found"),
		__session = {},	-- session -> response type (true when the reply has no body)
	}, host_mt)
end

-- The function that builds the reply to a request that carried `session`.
local function responder(self, response, session)
	return function(args, ud)
		local head = core.encode(self.__package, { session = session, ud = ud })
		if response then
			return core.pack(head .. core.encode(response, args))
		end
		return core.pack(head)
	end
end

-- "REQUEST", name, args, responder (nil without a session), ud
-- "RESPONSE", session, args, ud
function host:dispatch(...)
	local msg = core.unpack(...)
	local header, size = core.decode(self.__package, msg)
	local body = msg:sub(size + 1)
	if header.type then
		local p = queryproto(self.__proto, header.type)
		local args
		if p.request then
			args = core.decode(p.request, body)
		end
		local reply
		if header.session then
			reply = responder(self, p.response, header.session)
		end
		return "REQUEST", p.name, args, reply, header.ud
	end
	local session = assert(header.session, "session not found")
	local expect = assert(self.__session[session], "Unknown session")
	self.__session[session] = nil
	local args
	if expect ~= true then
		args = core.decode(expect, body)
	end
	return "RESPONSE", session, args, header.ud
end

-- A sender: function(name, args, session, ud) -> the packed request of protocol `name`
-- of `sp`. A session makes dispatch() expect the matching response.
function host:attach(sp)
	return function(name, args, session, ud)
		local p = queryproto(sp, name)
		local head = core.encode(self.__package, { type = p.tag, session = session, ud = ud })
		if session then
			self.__session[session] = p.response or true
		end
		if p.request then
			return core.pack(head .. core.encode(p.request, args))
		end
		return core.pack(head)
	end
end

return sproto

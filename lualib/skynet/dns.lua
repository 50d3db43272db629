-- skynet.dns: a non-blocking DNS client for Lua services, over UDP through skynet.socket.
--
-- dns.resolve(name, ipv6) answers from the hosts file first, then from a cache that keeps
-- each answer for its TTL, then by asking the name server (dns.server, or the first
-- nameserver of resolv.conf). Only the calling coroutine waits; a lost query is sent
-- again with a doubling interval until dns.TIMEOUT runs out.

local skynet = require "skynet"
local socket = require "skynet.socket"

local error = error
local pcall = pcall
local format = string.format
local spack = string.pack
local sunpack = string.unpack
local running = coroutine.running

local dns = {}

dns.DEFAULT_HOSTS = "/etc/hosts"
dns.DEFAULT_RESOLV_CONF = "/etc/resolv.conf"
-- How long (in 1/100 s) one query may go unanswered, retries included.
dns.TIMEOUT = 30 * 100

local TYPE_A = 1
local TYPE_CNAME = 5
local TYPE_AAAA = 28
local CLASS_IN = 1

local HEADER_SIZE = 12
local FLAG_RESPONSE = 0x8000
local FLAG_RECURSION = 0x0100
local FIRST_RETRY = 100
-- How many aliases a name may go through before an address.
local MAX_ALIASES = 8
-- The UDP socket to the server closes after this long unused.
local IDLE_CLOSE = 60 * 100

---------------------------------------------------------------- names

local function literal_family(name)
	if name:match("^[%d%.]+$") then
		return "ipv4"
	end
	if name:find(":", 1, true) then
		return "ipv6"
	end
end

-- A lowercase host name without its final dot, or nil if it can't be a DNS name.
local function checked_name(name)
	name = name:gsub("%.$", "")
	if #name == 0 or #name > 253 or not name:match("^[_%l%d%-%.]+$") then
		return nil
	end
	for label in (name .. "."):gmatch("([^.]*)%.") do
		if #label == 0 or #label > 63 then
			return nil
		end
	end
	return name
end

---------------------------------------------------------------- hosts file and resolv.conf

local hosts -- name -> { ipv4 = {...}, ipv6 = {...} }
local hosts_path

local function read_hosts(path)
	local f = path and io.open(path)
	if not f then
		return {}
	end
	local t = {}
	for line in f:lines() do
		local ip, names = line:gsub("#.*", ""):match("^%s*(%S+)%s+(.-)%s*$")
		local family = ip and literal_family(ip)
		if family then
			for host in names:gmatch("%S+") do
				local key = host:lower()
				local entry = t[key]
				if entry == nil then
					entry = {}
					t[key] = entry
				end
				local list = entry[family]
				if list == nil then
					list = {}
					entry[family] = list
				end
				list[#list + 1] = ip
			end
		end
	end
	f:close()
	return t
end

local function from_hosts(name, family)
	if hosts == nil or hosts_path ~= dns.DEFAULT_HOSTS then
		hosts_path = dns.DEFAULT_HOSTS
		hosts = read_hosts(hosts_path)
	end
	local entry = hosts[name]
	local list = entry and entry[family]
	if list then
		return list[1], list
	end
end

local function nameserver_from(path)
	local f = path and io.open(path)
	if not f then
		return
	end
	local found
	for line in f:lines() do
		found = line:match("^%s*nameserver%s+([^#;%s]+)")
		if found then
			break
		end
	end
	f:close()
	return found
end

---------------------------------------------------------------- cache

-- qtype -> name -> { list = addresses, expire = skynet.now() deadline }
local cache
local cached_count

function dns.flush()
	cache = { [TYPE_A] = {}, [TYPE_AAAA] = {} }
	cached_count = 0
end

dns.flush()

local function remember(qtype, name, list, ttl)
	local by_name = cache[qtype]
	if by_name[name] == nil then
		cached_count = cached_count + 1
		if cached_count > 4096 then
			-- forget what has expired before growing further
			local now = skynet.now()
			for _, names in pairs(cache) do
				for key, e in pairs(names) do
					if e.expire <= now then
						names[key] = nil
						cached_count = cached_count - 1
					end
				end
			end
		end
	end
	by_name[name] = { list = list, expire = skynet.now() + ttl * 100 }
end

-- The cached list for name, or nil; `stale` accepts an expired one.
local function recall(qtype, name, stale)
	local e = cache[qtype][name]
	if e and (stale or e.expire > skynet.now()) then
		return e.list
	end
end

---------------------------------------------------------------- wire format

local function encode_query(tid, name, qtype)
	local parts = { spack(">I2I2I2I2I2I2", tid, FLAG_RECURSION, 1, 0, 0, 0) }
	for label in name:gmatch("[^.]+") do
		parts[#parts + 1] = spack("s1", label)
	end
	parts[#parts + 1] = spack(">BI2I2", 0, qtype, CLASS_IN)
	return table.concat(parts)
end

-- Reads the name at `pos` (1-based), following compression pointers; returns the
-- lowercase name and the position after it.
local function decode_name(packet, pos)
	local labels = {}
	local after
	local jumps = 0
	while true do
		local len = sunpack("B", packet, pos)
		if len >= 0xc0 then
			local target = sunpack(">I2", packet, pos) & 0x3fff
			after = after or pos + 2
			jumps = jumps + 1
			if jumps > 32 then
				error("compression loop")
			end
			pos = target + 1
		elseif len == 0 then
			return table.concat(labels, "."):lower(), after or pos + 1
		elseif len > 63 then
			error("bad label")
		else
			local label
			label, pos = sunpack("s1", packet, pos)
			labels[#labels + 1] = label
		end
	end
end

local function format_address(rtype, rdata)
	if rtype == TYPE_A and #rdata == 4 then
		return format("%d.%d.%d.%d", sunpack("BBBB", rdata))
	elseif rtype == TYPE_AAAA and #rdata == 16 then
		return format("%x:%x:%x:%x:%x:%x:%x:%x", sunpack(">I2I2I2I2I2I2I2I2", rdata))
	end
end

-- Decodes a response: tid, flags, question name and type, and the answer records as
-- { owner, type, ttl, value } where value is an address or a CNAME target.
local function decode_response(packet)
	local tid, flags, qdcount, ancount = sunpack(">I2I2I2I2", packet)
	if flags & FLAG_RESPONSE == 0 or qdcount ~= 1 then
		error("not a response to one question")
	end
	local qname, pos = decode_name(packet, HEADER_SIZE + 1)
	local qtype
	qtype, pos = sunpack(">I2", packet, pos)
	pos = pos + 2
	local records = {}
	for _ = 1, ancount do
		local owner, rtype, ttl, rdata
		owner, pos = decode_name(packet, pos)
		rtype, pos = sunpack(">I2", packet, pos)
		ttl, rdata, pos = sunpack(">I4s2", packet, pos + 2)
		local value
		if rtype == TYPE_CNAME then
			value = decode_name(packet, pos - #rdata)
		else
			value = format_address(rtype, rdata)
		end
		if value then
			records[#records + 1] = { owner, rtype, ttl, value }
		end
	end
	return tid, flags, qname, qtype, records
end

-- From the answer records to (qname, qtype): the addresses found along its alias chain
-- and the smallest TTL on the way, or nil, nil and the last alias when the chain ends
-- without an address.
local function follow(qname, qtype, records)
	local alias, chain = {}, { [qname] = true }
	for _, r in ipairs(records) do
		if r[2] == TYPE_CNAME then
			alias[r[1]] = r
		end
	end
	local name, ttl = qname, nil
	for _ = 1, MAX_ALIASES do
		local r = alias[name]
		if r == nil then
			break
		end
		ttl = ttl and math.min(ttl, r[3]) or r[3]
		name = r[4]
		chain[name] = true
	end
	local list = {}
	for _, r in ipairs(records) do
		if r[2] == qtype and chain[r[1]] then
			list[#list + 1] = r[4]
			ttl = ttl and math.min(ttl, r[3]) or r[3]
		end
	end
	if #list > 0 then
		return list, ttl
	end
	if name ~= qname then
		return nil, nil, name
	end
end

---------------------------------------------------------------- the server and queries

local server = { host = nil, port = 53, fd = nil, used = 0 }
local waiting = {} -- tid -> query
local last_tid = math.random(0, 0xffff)

local function close_server()
	local fd = server.fd
	if fd then
		server.fd = nil
		socket.close(fd)
		skynet.error(format("Udp server close %s:%s (%d)", server.host, server.port, fd))
	end
end

-- Resumes the query's coroutine if it waits: the answer and the retry timer may both try,
-- and a second wakeup would break the coroutine's next wait.
local function wake(q)
	if q.sleeping then
		q.sleeping = false
		skynet.wakeup(q.co)
	end
end

local function on_packet(packet)
	local ok, tid, flags, qname, qtype, records = pcall(decode_response, packet)
	if not ok then
		skynet.error("Recv an invalid package when dns query", tid)
		return
	end
	local q = waiting[tid]
	if q == nil or q.answered then
		-- late: the query timed out, or this answers a retransmission
		return
	end
	if qname ~= q.name or qtype ~= q.qtype then
		skynet.error("Recv an invalid name when dns query", qname)
		return
	end
	q.answered = true
	q.rcode = flags & 0xf
	q.list, q.ttl, q.alias = follow(qname, qtype, records)
	wake(q)
end

local function open_server()
	server.used = skynet.now()
	if server.fd then
		return server.fd
	end
	if not server.host then
		server.host = nameserver_from(dns.DEFAULT_RESOLV_CONF)
		server.port = 53
		if not server.host then
			error("Call dns.server first")
		end
	end
	local fd = socket.udp_dial(server.host, server.port, on_packet)
	server.fd = fd
	skynet.error(format("Udp server open %s:%s (%d)", server.host, server.port, fd))
	local function check_idle()
		if server.fd ~= fd then
			return
		end
		if skynet.now() - server.used >= IDLE_CLOSE then
			close_server()
		else
			skynet.timeout(IDLE_CLOSE, check_idle)
		end
	end
	skynet.timeout(IDLE_CLOSE, check_idle)
	return fd
end

function dns.server(host, port)
	if server.fd and (host ~= server.host or (port or 53) ~= server.port) then
		close_server()
	end
	server.host = host
	server.port = port or 53
end

local function new_tid()
	for _ = 1, 0x10000 do
		last_tid = (last_tid + 1) & 0xffff
		if waiting[last_tid] == nil then
			return last_tid
		end
	end
	error("too many dns queries in flight")
end

-- Asks the server about (name, qtype), sending again while no answer comes. Returns the
-- query record (answered or not).
local function ask(name, qtype)
	local tid = new_tid()
	local packet = encode_query(tid, name, qtype)
	local q = { name = name, qtype = qtype, co = running(), answered = false, attempt = 0, sleeping = false }
	waiting[tid] = q
	local deadline = skynet.now() + dns.TIMEOUT
	local interval = FIRST_RETRY
	local ok, err = pcall(function()
		repeat
			local fd = open_server()
			if not socket.write(fd, packet) then
				close_server()
			end
			local attempt = q.attempt + 1
			q.attempt = attempt
			local left = deadline - skynet.now()
			skynet.timeout(math.max(1, math.min(interval, left)), function()
				if q.attempt == attempt then
					wake(q)
				end
			end)
			q.sleeping = true
			skynet.wait(q.co)
			interval = interval * 2
		until q.answered or skynet.now() >= deadline
	end)
	waiting[tid] = nil
	if not ok then
		error(err, 0)
	end
	if not q.answered then
		skynet.error(format("DNS query %s timeout", name))
	end
	return q
end

local function lookup(name, qtype)
	local list = recall(qtype, name)
	if list then
		return list[1], list
	end
	local asked = name
	for _ = 1, MAX_ALIASES do
		local q = ask(asked, qtype)
		if q.list then
			remember(qtype, asked, q.list, q.ttl)
			if asked ~= name then
				remember(qtype, name, q.list, q.ttl)
			end
			return q.list[1], q.list
		end
		if not q.answered or q.rcode ~= 0 or not q.alias then
			break
		end
		-- the server only told the alias: ask about its target
		asked = q.alias
	end
	list = recall(qtype, name, true)
	if list then
		return list[1], list
	end
	error("timeout or no answer")
end

-- Returns the first address of `name` and the list of them all (IPv6 ones if `ipv6`).
-- An IP address comes back as it is; an invalid name gives nil and an error message;
-- a name nobody knows raises an error.
function dns.resolve(name, ipv6)
	name = name:lower()
	if literal_family(name) then
		return name
	end
	local host = checked_name(name)
	if host == nil then
		return nil, "illegal name"
	end
	local first, list = from_hosts(host, ipv6 and "ipv6" or "ipv4")
	if first then
		return first, list
	end
	return lookup(host, ipv6 and TYPE_AAAA or TYPE_A)
end

return dns

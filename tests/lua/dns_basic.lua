-- skynet.dns against tests/py/dns_responder.py. Args: the responder's UDP port, a hosts
-- file the test wrote (10.7.7.7 myhost.test MyAlias; ::1 myhost.test).
local skynet = require "skynet"
require "skynet.manager"
local dns = require "skynet.dns"

local NAME = "dns_basic"
local port, hosts_file = ...
port = math.tointeger(tonumber(port))

local T = require "testcase" (NAME)
local check, same = T.check, T.same

local function list(t)
	return type(t) == "table" and table.concat(t, ",") or tostring(t)
end

local function cases()
	-- The system hosts file answers localhost without a server.
	same(dns.resolve("localhost"), "127.0.0.1", "localhost from /etc/hosts")

	-- IP literals come back as they are; names that can't be DNS names are refused.
	same(dns.resolve("10.1.1.1"), "10.1.1.1", "ipv4 literal")
	same(dns.resolve("::1", true), "::1", "ipv6 literal")
	local none, why = dns.resolve("bad name!")
	check(none == nil and why == "illegal name", "illegal name", none, why)
	none, why = dns.resolve(string.rep("a", 64) .. ".test")
	check(none == nil and why == "illegal name", "label too long", none, why)

	dns.server("127.0.0.1", port)
	dns.TIMEOUT = 300

	-- A records, then the same from the cache (the responder counts its queries).
	local ip, ips = dns.resolve("host-a.test")
	same(ip, "10.1.2.3", "first A record")
	same(list(ips), "10.1.2.3,10.1.2.4", "all A records")
	same(dns.resolve("host-a.test"), "10.1.2.3", "A from the cache")
	same(dns.resolve("HOST-A.Test."), "10.1.2.3", "names are case-insensitive, final dot ignored")

	-- AAAA, written in full as upstream does.
	ip, ips = dns.resolve("host6.test", true)
	same(ip, "2001:db8:0:0:0:0:0:1", "AAAA record")
	same(#ips, 1, "one AAAA record")
	local ok, err = pcall(dns.resolve, "host6.test")
	check(not ok and tostring(err):find("timeout or no answer", 1, true), "no A record for host6.test", err)

	-- CNAME with the target's records in the same answer, and alone.
	ip, ips = dns.resolve("alias.test")
	same(ip, "10.1.2.3", "CNAME answered with the target's records")
	same(list(ips), "10.1.2.3,10.1.2.4", "all records through the CNAME")
	same(dns.resolve("chain.test"), "10.9.9.9", "CNAME followed with a new query")
	same(dns.resolve("chain.test"), "10.9.9.9", "CNAME result cached")

	-- TTL 0 is never served from the cache.
	same(dns.resolve("zero.test"), "10.0.0.1", "ttl 0")
	same(dns.resolve("zero.test"), "10.0.0.1", "ttl 0 again")

	-- A lost query is sent again; one never answered times out.
	same(dns.resolve("drop1.test"), "10.5.5.5", "answer to the retry")
	ok, err = pcall(dns.resolve, "drop.test")
	check(not ok and tostring(err):find("timeout or no answer", 1, true), "timeout raises", err)

	-- Replies that are truncated or carry another id are ignored.
	same(dns.resolve("junk.test"), "10.6.6.6", "junk before the answer")

	-- NXDOMAIN.
	ok, err = pcall(dns.resolve, "nosuch.test")
	check(not ok and tostring(err):find("timeout or no answer", 1, true), "unknown name raises", err)

	-- Concurrent lookups each get their own answer.
	local results, left = {}, 3
	local me = coroutine.running()
	for i, name in ipairs { "host-a.test", "target.test", "alias.test" } do
		skynet.fork(function()
			results[i] = dns.resolve(name)
			left = left - 1
			if left == 0 then
				skynet.wakeup(me)
			end
		end)
	end
	skynet.wait(me)
	same(list(results), "10.1.2.3,10.9.9.9,10.1.2.3", "concurrent lookups")

	-- Another hosts file: several names per line, case-insensitive, both families.
	dns.DEFAULT_HOSTS = hosts_file
	same(dns.resolve("myalias"), "10.7.7.7", "second name on a hosts line")
	same(dns.resolve("MyHost.test"), "10.7.7.7", "hosts file ipv4")
	same(dns.resolve("myhost.test", true), "::1", "hosts file ipv6")

	-- flush forgets the cache.
	dns.flush()
	same(dns.resolve("zero.test"), "10.0.0.1", "after flush")
end

skynet.start(function()
	local ok, err = pcall(cases)
	check(ok, "cases raised", tostring(err))
	T.finish()
end)

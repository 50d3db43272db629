-- skynet.datacenter over the DATACENTER service.

local skynet = require "skynet"
local datacenter = require "skynet.datacenter"
local t = require "core_check"

t.run("core_datacenter", function()
	t.eq(datacenter.get "missing", nil, "unknown key")
	t.eq(datacenter.set("k", "v1"), nil, "first set returns nothing")
	t.eq(datacenter.get "k", "v1", "get")
	t.eq(datacenter.set("k", "v2"), "v1", "set returns the old value")
	t.eq(datacenter.get "k", "v2", "get the new value")

	-- nested paths
	datacenter.set("a", "b", "c", 42)
	t.eq(datacenter.get("a", "b", "c"), 42, "nested get")
	local branch = datacenter.get("a", "b")
	t.eq(type(branch), "table", "a branch is a table")
	t.eq(branch.c, 42, "branch content")
	t.eq(datacenter.get("a", "x", "y"), nil, "missing nested path")

	-- wait returns at once when the value exists
	t.eq(datacenter.wait("a", "b", "c"), 42, "wait for an existing value")

	-- wait blocks until somebody sets the value, even from another service
	local got = {}
	for i = 1, 2 do
		skynet.fork(function()
			got[i] = datacenter.wait("later", "key")
		end)
	end
	skynet.yield()
	t.eq(got[1], nil, "wait still blocked")
	local writer = skynet.newservice "core_echo"
	skynet.call(writer, "lua", "call", "DATACENTER", "UPDATE", "later", "key", "arrived")
	while not (got[1] and got[2]) do
		skynet.sleep(1)
	end
	t.eq(got[1], "arrived", "first waiter")
	t.eq(got[2], "arrived", "second waiter")

	-- setting nil deletes
	datacenter.set("k", nil)
	t.eq(datacenter.get "k", nil, "deleted")
end)

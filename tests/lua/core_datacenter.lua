-- skynet.datacenter over the DATACENTER service.

local skynet = require "skynet"
local datacenter = require "skynet.datacenter"
local T = require "testcase" "core_datacenter"

T.run(function()
	T.same(datacenter.get "missing", nil, "unknown key")
	T.same(datacenter.set("k", "v1"), nil, "first set returns nothing")
	T.same(datacenter.get "k", "v1", "get")
	T.same(datacenter.set("k", "v2"), "v1", "set returns the old value")
	T.same(datacenter.get "k", "v2", "get the new value")

	-- nested paths
	datacenter.set("a", "b", "c", 42)
	T.same(datacenter.get("a", "b", "c"), 42, "nested get")
	local branch = datacenter.get("a", "b")
	T.same(type(branch), "table", "a branch is a table")
	T.same(branch.c, 42, "branch content")
	T.same(datacenter.get("a", "x", "y"), nil, "missing nested path")

	-- wait returns at once when the value exists
	T.same(datacenter.wait("a", "b", "c"), 42, "wait for an existing value")

	-- wait blocks until somebody sets the value, even from another service
	local got = {}
	for i = 1, 2 do
		skynet.fork(function()
			got[i] = datacenter.wait("later", "key")
		end)
	end
	skynet.yield()
	T.same(got[1], nil, "wait still blocked")
	local writer = skynet.newservice "core_echo"
	skynet.call(writer, "lua", "call", "DATACENTER", "UPDATE", "later", "key", "arrived")
	while not (got[1] and got[2]) do
		skynet.sleep(1)
	end
	T.same(got[1], "arrived", "first waiter")
	T.same(got[2], "arrived", "second waiter")

	-- setting nil deletes
	datacenter.set("k", nil)
	T.same(datacenter.get "k", nil, "deleted")
end)

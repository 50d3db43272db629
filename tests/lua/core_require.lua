-- skynet.require: skynet.init deferral and loading modules from coroutines.

local skynet = require "skynet"
local T = require "testcase" "core_require"

local early = require "core_mod_early"
local early_at_main = early.inited

T.run(function()
	T.same(early_at_main, false, "init deferred while the main chunk runs")
	T.same(early.inited, true, "init ran before the start function")
	T.same(#early.order, 1, "init ran once")
	T.same(require "core_mod_early", early, "cached module")

	-- concurrent late requires: one load, both get the module after its init
	local got = {}
	for i = 1, 2 do
		skynet.fork(function()
			got[i] = require "core_mod_late"
		end)
	end
	while not (got[1] and got[2]) do
		skynet.sleep(1)
	end
	T.same(got[1], got[2], "same module for both")
	T.same(_G.core_mod_late_loads, 1, "loaded once")
	T.same(got[1].ready, true, "late init ran before require returned")

	-- a failing module: the requirer gets the error, waiting ones too
	local errs = {}
	for i = 1, 2 do
		skynet.fork(function()
			errs[i] = select(2, pcall(require, "core_mod_broken"))
		end)
	end
	while not (errs[1] and errs[2]) do
		skynet.sleep(1)
	end
	T.check(tostring(errs[1]):find("core_mod_broken fails", 1, true), "error of the loader: " .. tostring(errs[1]))
	T.check(tostring(errs[2]):find("require core_mod_broken failed", 1, true), "error of the waiter: " .. tostring(errs[2]))

	-- C modules and missing modules go through the plain require
	T.same(type(require "skynet.core"), "table", "C module")
	T.raises("core_mod_missing", "missing module", require, "core_mod_missing")

	-- skynet.init from a coroutine that isn't loading anything is an error
	T.raises(nil, "init outside a require", skynet.init, function() end)
end)

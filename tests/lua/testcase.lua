-- The verdict of a Lua test service: check/same log a "TEST <name> FAIL ..." line for each
-- failed expectation (the harness fails on any); finish() logs "TEST <name> PASS" when none
-- failed and ends the node.
--   local T = require "testcase" (NAME)
local skynet = require "skynet"
require "skynet.manager"

return function(name)
	local T = { failures = 0 }

	function T.check(cond, what, ...)
		if not cond then
			T.failures = T.failures + 1
			skynet.error("TEST " .. name .. " FAIL", what, ...)
		end
		return cond
	end

	function T.same(got, want, what)
		return T.check(got == want, what, "got", tostring(got), "want", tostring(want))
	end

	function T.finish()
		if T.failures == 0 then
			skynet.error("TEST " .. name .. " PASS")
		end
		skynet.abort()
	end

	return T
end

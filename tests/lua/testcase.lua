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

	-- f(...) must raise an error, and its text must hold `needle` (plain text) unless that
	-- is nil. Returns the error.
	function T.raises(needle, what, f, ...)
		local ok, err = pcall(f, ...)
		if ok then
			T.check(false, what, "raised no error")
			return nil
		end
		if needle then
			T.check(tostring(err):find(needle, 1, true), what, "error", tostring(err), "lacks", needle)
		end
		return err
	end

	function T.finish()
		if T.failures == 0 then
			skynet.error("TEST " .. name .. " PASS")
		end
		skynet.abort()
	end

	-- The service's start function: body(), where an error counts as a failure (assert
	-- ends a test at its first broken step), then finish().
	function T.run(body)
		skynet.start(function()
			local ok, err = xpcall(body, debug.traceback)
			T.check(ok, err)
			T.finish()
		end)
	end

	return T
end

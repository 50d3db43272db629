-- The verdict of a Lua test service: check/same log a "TEST <name> FAIL <file:line>: ..."
-- line for each failed expectation (the harness fails on any); finish() logs
-- "TEST <name> PASS" when none failed and ends the node.
--   local T = require "testcase" (NAME)
local skynet = require "skynet"
require "skynet.manager"

local here = debug.getinfo(1, "S").source

-- "file:line:" of the innermost caller outside this file; only looked up on a failure.
local function where()
	local level = 3
	while true do
		local info = debug.getinfo(level, "Sl")
		if not info then
			return "?:"
		elseif info.source ~= here then
			return info.short_src .. ":" .. info.currentline .. ":"
		end
		level = level + 1
	end
end

return function(name)
	local T = { failures = 0 }

	local function report(...)
		T.failures = T.failures + 1
		skynet.error("TEST " .. name .. " FAIL", ...)
	end

	function T.check(cond, what, ...)
		if not cond then
			report(where(), what, ...)
		end
		return cond
	end

	function T.same(got, want, what)
		return T.check(got == want, what, "got", tostring(got), "want", tostring(want))
	end

	-- Two lists made by table.pack, compared by count then element by element (as
	-- T.same); stops at the first difference.
	function T.same_list(got, want, what)
		if not T.check(got.n == want.n, what, "got", tostring(got.n), "values, want", tostring(want.n)) then
			return false
		end
		for i = 1, want.n do
			if not T.same(got[i], want[i], what .. " [" .. i .. "]") then
				return false
			end
		end
		return true
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

	-- A list of events and the function that appends to it, for checking orderings.
	function T.log()
		local list = {}
		return list, function(v)
			list[#list + 1] = v
		end
	end

	-- The list's values as text, separated by spaces.
	function T.joined(list)
		local parts = {}
		for i = 1, #list do
			parts[i] = tostring(list[i])
		end
		return table.concat(parts, " ")
	end

	-- Replaces the file at path with body.
	function T.write_file(path, body)
		local f = assert(io.open(path, "w"))
		f:write(body)
		f:close()
	end

	-- Polls cond() once a tick until it holds (true) or many ticks passed (false): for
	-- states that no event announces. The bound only guards against hangs.
	function T.eventually(cond)
		for _ = 1, 1000 do
			if cond() then
				return true
			end
			skynet.sleep(1)
		end
		return false
	end

	function T.finish()
		if T.failures == 0 then
			skynet.error("TEST " .. name .. " PASS")
		end
		skynet.abort()
	end

	-- The service's start function: body(), where an error counts as a failure (assert
	-- ends a test at its first broken step; the error carries its traceback), then
	-- finish().
	function T.run(body)
		skynet.start(function()
			local ok, err = xpcall(body, debug.traceback)
			if not ok then
				report(err)
			end
			T.finish()
		end)
	end

	return T
end

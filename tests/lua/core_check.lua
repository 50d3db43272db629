-- Assertions for the core_* Lua tests. Every failed check prints a "TEST ... FAIL"
-- line (the harness fails on any); run() prints "TEST <name> PASS" when none failed
-- and ends the node.

local skynet = require "skynet"
require "skynet.manager"

local M = {}
local failures = 0

local function show(v)
	if type(v) == "string" then
		return string.format("%q", v)
	end
	return tostring(v)
end

function M.fail(what)
	failures = failures + 1
	skynet.error("TEST FAIL: " .. tostring(what) .. "\n" .. debug.traceback("", 2))
end

function M.ok(cond, what)
	if not cond then
		M.fail(what)
	end
	return cond
end

function M.eq(got, want, what)
	if got ~= want then
		M.fail(string.format("%s: got %s, want %s", what, show(got), show(want)))
		return false
	end
	return true
end

-- The list of values, compared element by element (n included).
function M.same(got, want, what)
	if got.n ~= want.n then
		M.fail(string.format("%s: %d values, want %d", what, got.n, want.n))
		return false
	end
	for i = 1, want.n do
		if not M.eq(got[i], want[i], what .. " [" .. i .. "]") then
			return false
		end
	end
	return true
end

-- f(...) must raise an error whose text contains `needle` (plain text).
function M.raises(needle, what, f, ...)
	local ok, err = pcall(f, ...)
	if ok then
		M.fail(what .. ": no error raised")
		return nil
	end
	if needle and not tostring(err):find(needle, 1, true) then
		M.fail(string.format("%s: error %s lacks %s", what, show(tostring(err)), show(needle)))
	end
	return err
end

-- A list of events, for checking orderings.
function M.log()
	local list = {}
	return list, function(v)
		list[#list + 1] = v
	end
end

function M.joined(list)
	local parts = {}
	for i = 1, #list do
		parts[i] = tostring(list[i])
	end
	return table.concat(parts, " ")
end

-- Runs body() as the service's start function; reports and aborts the node after it.
function M.run(name, body)
	skynet.start(function()
		local ok, err = xpcall(body, debug.traceback)
		if not ok then
			M.fail("unexpected error: " .. tostring(err))
		end
		if failures == 0 then
			skynet.error("TEST " .. name .. " PASS")
		end
		skynet.abort()
	end)
end

return M

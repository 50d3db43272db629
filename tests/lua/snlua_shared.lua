-- Shared chunks: every state that loads a cached file runs one copy of its code and debug
-- information and builds only its own constants. Nothing of that may show: functions,
-- upvalues, error messages, debug info, dumps and the memory count behave as with a
-- private load, and a chunk outlives codecache.clear() while a service still runs it.
local skynet = require "skynet"
local codecache = require "skynet.codecache"

local NAME = "snlua_shared"
local T = require "testcase" (NAME)

local SOURCE = [[
local up = { n = 0 }
local gone = nil
local M = {}
function M.count(k) local step = k or 1; up.n = up.n + step; return up.n end
function M.call_global() return undefined_global_fn() end
function M.index_local() local t = nil; return t.field end
function M.index_upvalue() return gone.x end
function M.where() return debug.getinfo(1, "Sl") end
function M.locals() local alpha, beta = 1, 2; local n1 = debug.getlocal(1, 1); local n2 = debug.getlocal(1, 2); return n1, n2 end
function M.fail(tag) error("fail " .. tag) end
function M.version() return "one" end
return M
]]

local mode, child_path = ...
if mode == "child" then
	-- Holds a module loaded from child_path and answers from it after the cache is cleared.
	local M = assert(loadfile(child_path))()
	skynet.start(function()
		skynet.dispatch("lua", function(_, _, cmd)
			if cmd == "fail" then
				skynet.ret(skynet.pack(select(2, xpcall(M.fail, debug.traceback, "child"))))
			elseif cmd == "where" then
				local info = M.where()
				skynet.ret(skynet.pack(info.source, info.currentline, M.version()))
			end
		end)
	end)
	return
end

-- A name past 40 bytes makes the chunk's source a long string, which clones share too.
local path = os.tmpname() .. "_shared_chunk_long_source.lua"

local function write(body)
	T.write_file(path, body)
end

local function load_module()
	return assert(loadfile(path))()
end

-- Heap growth (KB, after full collections) for keeping n loads of path.
local function heap_for_loads(n)
	local keep = {}
	collectgarbage()
	local before = collectgarbage "count"
	for i = 1, n do
		keep[i] = assert(loadfile(path))
	end
	collectgarbage()
	local grown = collectgarbage "count" - before
	keep = nil
	return grown
end

skynet.start(function()
	write(SOURCE)
	codecache.clear()
	local a, b = load_module(), load_module()
	a.count()
	a.count(5)
	T.same(b.count(), 1, "each load has its own upvalues")
	T.check(a.count ~= b.count, "each load makes new functions")

	local line = ":5: attempt to call a nil value (global 'undefined_global_fn')"
	T.raises(path .. line, "global name in the message", a.call_global)
	T.raises(path .. ":6: attempt to index a nil value (local 't')", "local name in the message", a.index_local)
	T.raises(path .. ":7: attempt to index a nil value (upvalue 'gone')", "upvalue name", a.index_upvalue)

	local info = a.where()
	T.same(info.source, "@" .. path, "source")
	T.same(info.currentline, 8, "current line")
	T.same(info.linedefined, 8, "line defined")
	T.same(info.what, "Lua", "what")
	T.same(T.joined({ a.locals() }), "alpha beta", "local names")
	T.same(debug.getupvalue(a.count, 1), "up", "upvalue name")

	local lines, add = T.log()
	debug.sethook(function(_, l)
		if debug.getinfo(2, "S").source == "@" .. path then
			add(l)
		end
	end, "l")
	a.count()
	debug.sethook()
	T.same(T.joined(lines), "4", "a line hook sees the shared line info")

	local tb = select(2, xpcall(a.fail, debug.traceback, "tb"))
	T.check(tb:find(path .. ":10: fail tb", 1, true), "error position", tb)
	T.check(tb:find(path .. ":10: in ", 1, true), "traceback line", tb)

	local dumped = load(string.dump(a.fail), "=dumped", "b")
	T.raises(":10: fail dump", "a dump of a shared function loads and runs", dumped, "dump")
	local stripped = load(string.dump(a.count, true), "=stripped", "b")
	T.check(stripped ~= nil, "a stripped dump loads")

	-- The count is exact: dead clones give back only what their state allocated.
	heap_for_loads(1)
	collectgarbage()
	local base = collectgarbage "count"
	for _ = 1, 500 do
		load_module()
	end
	collectgarbage()
	collectgarbage()
	local drift = collectgarbage "count" - base
	T.check(math.abs(drift) < 16, "500 dropped loads leave the count where it was", drift, "KB")

	-- Sharing happens: a kept load costs less than a private one (mode OFF).
	local shared = heap_for_loads(50)
	codecache.mode "OFF"
	local private = heap_for_loads(50)
	codecache.mode "ON"
	T.check(shared < private * 0.9, "shared loads are smaller", shared, private)

	-- A service keeps running its chunk after clear() and a new version of the file.
	local child = skynet.newservice(NAME, "child", path)
	write((SOURCE:gsub('"one"', '"two"')))
	codecache.clear()
	T.same(load_module().version(), "two", "after clear the file is read again")
	collectgarbage()
	local source, cur, version = skynet.call(child, "lua", "where")
	T.same(source, "@" .. path, "the child's source after clear")
	T.same(cur, 8, "the child's line after clear")
	T.same(version, "one", "the child runs the old chunk")
	local ctb = skynet.call(child, "lua", "fail")
	T.check(ctb:find(path .. ":10: fail child", 1, true), "the child's traceback after clear", ctb)
	skynet.kill(child)
	codecache.clear()

	-- Many services, booting at once, race to compile the chunk, share it and exit; a
	-- late one still loads it.
	local children, left = {}, 20
	local all_up = coroutine.running()
	for i = 1, 20 do
		skynet.fork(function()
			children[i] = skynet.newservice(NAME, "child", path)
			left = left - 1
			if left == 0 then
				skynet.wakeup(all_up)
			end
		end)
	end
	skynet.wait(all_up)
	for i = 1, 20 do
		T.same(select(3, skynet.call(children[i], "lua", "where")), "two", "child " .. i)
		skynet.kill(children[i])
	end
	local late = skynet.newservice(NAME, "child", path)
	T.same(select(3, skynet.call(late, "lua", "where")), "two", "a service started after the others exited")

	os.remove(path)
	os.remove((path:gsub("_shared_chunk_long_source%.lua$", "")))
	T.finish()
end)

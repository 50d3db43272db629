-- skynet.codecache: files are compiled once per process; a cached file is not re-read
-- until clear(); mode() switches a state between ON, EXIST and OFF.
local skynet = require "skynet"
local codecache = require "skynet.codecache"

local NAME = "snlua_codecache"
local T = require "testcase" (NAME)

local path = os.tmpname()

local function write(body)
	T.write_file(path, body)
end

local function value()
	local chunk, err = loadfile(path)
	T.check(chunk ~= nil, "loadfile: " .. tostring(err))
	return chunk and chunk()
end

local mode, child_path = ...
if mode == "child" then
	skynet.start(function()
		skynet.dispatch("lua", function()
			skynet.ret(skynet.pack(assert(loadfile(child_path))()))
		end)
	end)
	return
end

skynet.start(function()
	T.check(codecache.mode() == "ON", "default mode is ON")
	T.check(codecache.loadfile == loadfile, "the global loadfile is the cached one")

	write "return 1"
	T.check(value() == 1, "first load")
	write "return 2"
	T.check(value() == 1, "a cached file is not re-read")
	codecache.clear()
	T.check(value() == 2, "clear() makes the next load read the file")

	codecache.mode "OFF"
	T.check(codecache.mode() == "OFF", "mode OFF")
	write "return 3"
	T.check(value() == 3, "OFF bypasses the cache")
	codecache.mode "EXIST"
	T.check(value() == 2, "EXIST uses what is cached")
	codecache.clear()
	T.check(value() == 3, "EXIST after clear reads the file")
	write "return 4"
	T.check(value() == 4, "EXIST does not fill the cache")
	codecache.mode "ON"

	-- A cached chunk keeps its debug info: errors still name the file and line.
	write "local x = ...\nerror('boom ' .. tostring(x))\n"
	codecache.clear()
	assert(loadfile(path))
	local ok, err = pcall(assert(loadfile(path)), "cached")
	T.check(not ok and err:find(":2: boom cached", 1, true) ~= nil, "line numbers survive: " .. tostring(err))

	-- The env argument still replaces the chunk's _ENV.
	write "return y"
	codecache.clear()
	assert(loadfile(path))
	T.check(assert(loadfile(path, "bt", { y = "env" }))() == "env", "env argument")

	local chunk, msg = loadfile(path .. ".missing")
	T.check(chunk == nil and msg:find("cannot open", 1, true) ~= nil, "missing file error: " .. tostring(msg))
	local okmode = pcall(codecache.mode, "SOMETIMES")
	T.check(not okmode, "bad mode is an error")

	-- Another service sees the cache this one filled.
	write "return 'shared'"
	codecache.clear()
	T.check(value() == "shared", "fill")
	write "return 'changed'"
	local other = skynet.newservice(NAME, "child", path)
	T.check(skynet.call(other, "lua") == "shared", "a second service loads the cached chunk")

	os.remove(path)
	T.finish()
end)

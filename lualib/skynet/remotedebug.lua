-- skynet.remotedebug: the debugged side of debug_console's `debug` command, started by
-- the debug command REMOTEDEBUG (fd of the console connection, debugchannel handle).
--
-- While attached, every message the service receives first runs the console lines
-- waiting in the channel, and a timer keeps messages coming while the service is idle.
-- A line is a Lua expression (its values are printed) or a statement, run with the
-- service's globals plus `print` (to the console) and `watch(proto [, cond])`, which
-- stops the next request of that protocol (for which cond(...) is true) at its first line.
-- While a request is stopped: `s` steps into calls, `n` steps over them, `c` lets it run
-- on, and any other line runs inside the stopped function, seeing its locals and
-- upvalues. `cont` leaves debug mode and answers REMOTEDEBUG.
local skynet = require "skynet"
local debugchannel = require "skynet.debugchannel"
local socketdriver = require "skynet.socketdriver"
local injectcode = require "skynet.injectcode"

local sethook = debugchannel.sethook

-- The upvalue of skynet.dispatch_message wrapped while attached.
local DISPATCH_UPVALUE = "raw_dispatch_message"
-- Centiseconds between idle ticks.
local TICK = 10

local M = {}

-- Lines in these sources are never stopped at: the framework's and this module's.
local hidden = {
	[debug.getinfo(skynet.start, "S").source] = true,
	[debug.getinfo(1, "S").source] = true,
}

-- The current attachment (nil when detached): fd, channel, dispatcher, slot, original,
-- reply, suspend, resume, prompt, prompt_due, traced (coroutine -> ctx), watches
-- (protocol class -> its own dispatch function).
local attached

local function upvalue_slot(f, name)
	local i = 1
	while true do
		local n = debug.getupvalue(f, i)
		if n == nil then
			return nil
		end
		if n == name then
			return i
		end
		i = i + 1
	end
end

local function console_print(...)
	if not attached then
		return
	end
	local n = select("#", ...)
	local parts = { ... }
	for i = 1, n do
		parts[i] = tostring(parts[i])
	end
	socketdriver.send(attached.fd, table.concat(parts, "\t", 1, n) .. "\n")
end

local function set_prompt(text)
	attached.prompt = text
	attached.prompt_due = true
end

local function service_prompt()
	set_prompt(string.format(":%08x>", skynet.self()))
end

-- Frames on the stack of the suspended coroutine co.
local function frames_of(co)
	local n = 0
	while debug.getinfo(co, n, "l") do
		n = n + 1
	end
	return n
end

-- The line hook of a watched request: yields it (stops) at the lines ctx.mode asks for.
local function line_hook(ctx)
	return function(_, line)
		-- level 1 is this function, level 2 the function running the line
		local info = debug.getinfo(2, "S")
		if hidden[info.source] then
			return
		end
		if ctx.mode == "next" then
			local depth = 0
			while debug.getinfo(depth + 2, "l") do
				depth = depth + 1
			end
			if depth > ctx.depth then
				return
			end
		end
		ctx.stopped = true
		if attached then
			set_prompt(string.format("%s(%d)>", info.short_src, line or 0))
		end
		return true
	end
end

-- Ends the tracing of co when its request is over (returned, failed or killed).
local function untrace_on_close(co, ctx)
	return setmetatable({}, {
		__close = function()
			sethook(co)
			if attached and attached.traced[co] == ctx then
				attached.traced[co] = nil
				service_prompt()
			end
		end,
	})
end

local function protocols()
	local slot = upvalue_slot(skynet.register_protocol, "proto")
	if slot then
		local _, t = debug.getupvalue(skynet.register_protocol, slot)
		return t
	end
end

-- watch(proto [, cond]): stop the next request of proto (with cond(...) true).
local function watch(pname, cond)
	assert(attached, "Not in debug mode")
	local all = assert(protocols(), "Can't find the protocol table")
	local p = all[pname]
	if p == nil then
		return "No " .. tostring(pname)
	end
	local own = attached.watches[p] or p.dispatch
	if own == nil then
		return "No dispatch"
	end
	attached.watches[p] = own
	p.dispatch = function(...)
		local wanted = attached ~= nil
		if wanted and cond then
			local ok, yes = pcall(cond, ...)
			wanted = ok and yes
		end
		if not wanted then
			return own(...)
		end
		p.dispatch = own
		attached.watches[p] = nil
		local co = coroutine.running()
		local ctx = { mode = "step" }
		attached.traced[co] = ctx
		local guard <close> = untrace_on_close(co, ctx)
		sethook(line_hook(ctx), "l")
		return own(...)
	end
end

local function stopped_request()
	for co, ctx in pairs(attached.traced) do
		if ctx.stopped then
			return co, ctx
		end
	end
end

-- Resumes a stopped request in `mode` ("step", "next" or "run").
local function go_on(co, ctx, mode)
	local a = attached
	ctx.mode = mode
	ctx.stopped = false
	if mode == "next" then
		ctx.depth = frames_of(co)
	elseif mode == "run" then
		sethook(co)
		a.traced[co] = nil
	end
	service_prompt()
	local ok, err = pcall(a.suspend, co, a.resume(co))
	if not ok then
		console_print(err)
	end
end

local top_env = setmetatable({ print = console_print, watch = watch }, { __index = _G, __newindex = _G })

-- Runs a console line: in the stopped request co, or at the service's top level.
local function evaluate(line, co)
	local source = line
	if load("return " .. line, "=(debug)", "t") then
		source = "return " .. line
	end
	local results
	if co then
		results = table.pack(injectcode(source, co, 0, { print = console_print }))
	else
		local f, err = load(source, "=(debug)", "t", top_env)
		if f then
			results = table.pack(pcall(f))
		else
			results = table.pack(false, err)
		end
	end
	if not results[1] then
		console_print(results[2])
	elseif results.n > 1 then
		console_print(table.unpack(results, 2, results.n))
	end
end

local function detach()
	local a = attached
	attached = nil
	debug.setupvalue(a.dispatcher, a.slot, a.original)
	for p, own in pairs(a.watches) do
		p.dispatch = own
	end
	-- traced requests run on untraced; stopped ones are resumed
	for co, ctx in pairs(a.traced) do
		sethook(co)
		if ctx.stopped then
			ctx.stopped = false
			local ok, err = pcall(a.suspend, co, a.resume(co))
			if not ok then
				skynet.error(err)
			end
		end
	end
	skynet.error "Leave debug mode"
	a.reply(true)
end

local function run_line(line)
	if line == "" then
		return
	end
	local co, ctx = stopped_request()
	if not co then
		evaluate(line)
	elseif line == "s" then
		go_on(co, ctx, "step")
	elseif line == "n" then
		go_on(co, ctx, "next")
	elseif line == "c" then
		go_on(co, ctx, "run")
	else
		evaluate(line, co)
	end
end

-- Runs every line waiting in the channel, then shows the prompt if it changed.
local function serve_console()
	local a = attached
	while attached == a do
		local line = a.channel:read()
		if line == nil then
			break
		end
		if line == "cont" then
			detach()
			return
		end
		local ok, err = pcall(run_line, line)
		if not ok then
			console_print(err)
		end
		a.prompt_due = true
	end
	if attached == a and a.prompt_due then
		a.prompt_due = false
		socketdriver.send(a.fd, a.prompt)
	end
end

local function hooked_dispatch(...)
	local a = attached
	local ok, err = pcall(serve_console)
	if not ok then
		skynet.error("remotedebug: " .. tostring(err))
	end
	return a.original(...)
end

local function tick(a)
	if attached == a then
		skynet.timeout(TICK, function()
			tick(a)
		end)
	end
end

function M.start(import, fd, handle)
	assert(attached == nil, "Already in debug mode")
	local dispatcher = import.dispatch
	local slot = assert(upvalue_slot(dispatcher, DISPATCH_UPVALUE), "Can't find " .. DISPATCH_UPVALUE)
	local _, original = debug.getupvalue(dispatcher, slot)
	local channel = debugchannel.connect(handle)
	skynet.error "Enter debug mode"
	attached = {
		fd = fd,
		channel = channel,
		dispatcher = dispatcher,
		slot = slot,
		original = original,
		reply = skynet.response(),
		suspend = import.suspend,
		resume = import.resume,
		traced = {},
		watches = {},
	}
	debug.setupvalue(dispatcher, slot, hooked_dispatch)
	service_prompt()
	tick(attached)
end

return M

-- The skynet service framework: message dispatch, request/response sessions and the
-- coroutine scheduler every Lua service runs on.
--
-- Each incoming request runs in its own coroutine. A coroutine that waits (call, sleep,
-- wait) yields the command "SUSPEND" back to the dispatcher and is remembered under the
-- session it waits for; the matching response resumes it. After every message the
-- dispatcher runs whatever became ready meanwhile: woken sleepers, calls that failed
-- because their callee died, and forked coroutines.

local c = require "skynet.core"
local modrequire = require "skynet.require"

local assert = assert
local error = error
local pairs = pairs
local pcall = pcall
local select = select
local tostring = tostring
local type = type
local tpack = table.pack
local tunpack = table.unpack
local tremove = table.remove
local traceback = debug.traceback
local co_create = coroutine.create
local co_yield = coroutine.yield
local co_running = coroutine.running
local co_close = coroutine.close
-- snlua has replaced coroutine.resume with its profiling version by now
local co_resume = coroutine.resume

local csend = c.send

local skynet = {
	-- message types, as in skynet.h
	PTYPE_TEXT = 0,
	PTYPE_RESPONSE = 1,
	PTYPE_MULTICAST = 2,
	PTYPE_CLIENT = 3,
	PTYPE_SYSTEM = 4,
	PTYPE_HARBOR = 5,
	PTYPE_SOCKET = 6,
	PTYPE_ERROR = 7,
	PTYPE_QUEUE = 8,
	PTYPE_DEBUG = 9,
	PTYPE_LUA = 10,
	PTYPE_SNAX = 11,
	PTYPE_TRACE = 12,
}

local PTYPE_RESPONSE = skynet.PTYPE_RESPONSE
local PTYPE_ERROR = skynet.PTYPE_ERROR
local PTYPE_TRACE = skynet.PTYPE_TRACE

skynet.cache = require "skynet.codecache"

-- Protocol classes by name and by id. The local keeps the name `proto`: debug tools
-- (skynet.inject, skynet.remotedebug) find it as an upvalue of register_protocol.
local proto = {}
skynet._proto = proto

function skynet.register_protocol(class)
	local name, id = class.name, class.id
	assert(proto[name] == nil and proto[id] == nil)
	assert(type(name) == "string" and type(id) == "number" and id >= 0 and id <= 255)
	proto[name] = class
	proto[id] = class
end

-- Used as `proto[typename] or unknown_protocol(typename)`, keeping the lookup inline.
local function unknown_protocol(typename)
	error("Unknown protocol " .. tostring(typename), 3)
end

---------------------------------------------------------------------------------------
-- Scheduler state

-- the coroutine the dispatcher resumed last (a skynet.coroutine runs inside it)
local running
local init_co

-- session -> coroutine waiting for its response, or "BREAK" when the response must be
-- dropped (a woken sleeper, an abandoned select)
local waiting = {}
-- session -> address of the service an outstanding call went to
local calling = {}
-- per request coroutine: the session and address to answer, and its trace tag
local req_session = {}
local req_source = {}
local req_tag = {}
-- response closures not used yet -> address they answer
local responders = {}
-- sleep/wait token -> session
local sleepers = {}
-- sessions of skynet.wait: nothing will ever answer them
local wait_only = {}

local function new_queue()
	return { head = 1, tail = 0 }
end

local function push(q, v)
	local t = q.tail + 1
	q.tail = t
	q[t] = v
end

local function pop(q)
	local h = q.head
	if h > q.tail then
		q.head, q.tail = 1, 0
		return nil
	end
	local v = q[h]
	q[h] = nil
	q.head = h + 1
	return v
end

local wake_list = new_queue()	-- tokens to wake
local failed = new_queue()	-- sessions whose call must fail
local forks = new_queue()	-- coroutines to start

local function resume(co, ...)
	running = co
	return co_resume(co, ...)
end

---------------------------------------------------------------------------------------
-- Sessions. The core numbers them in order and wraps from 0x7fffffff to 1; after a
-- wrap a fresh number could still belong to a long wait. So whenever the next number
-- is still in use, burn numbers until it is free.

local LAST_SESSION = 0x7fffffff
local genid = c.genid
local cintcommand = c.intcommand

local function skip_used(session)
	repeat
		session = genid()
	until waiting[session < LAST_SESSION and session + 1 or 1] == nil
end

local function new_send(addr, id, msg, sz)
	local session = csend(addr, id, nil, msg, sz)
	if session and waiting[session < LAST_SESSION and session + 1 or 1] ~= nil then
		skip_used(session)
	end
	return session
end

local function new_timeout(ti)
	local session = cintcommand("TIMEOUT", ti)
	if session and waiting[session < LAST_SESSION and session + 1 or 1] ~= nil then
		skip_used(session)
	end
	return session
end

local function new_session()
	local session = genid()
	if waiting[session < LAST_SESSION and session + 1 or 1] ~= nil then
		skip_used(session)
	end
	return session
end

---------------------------------------------------------------------------------------
-- Coroutines are recycled: a finished one parks in `idle` until spawn hands it a new
-- function. Weak values let the collector trim the pool after a burst.

local idle = setmetatable({}, { __mode = "v" })

local function report_forgotten(co, job)
	local session = req_session[co]
	if session ~= nil then
		if session ~= 0 then
			local where = debug.getinfo(job, "S")
			skynet.error(string.format("Maybe forgot response session %s from %s : %s:%d",
				session, skynet.address(req_source[co]), where.source, where.linedefined))
		end
		req_session[co] = nil
	end
	if req_source[co] ~= nil then
		req_source[co] = nil
	end
	local tag = req_tag[co]
	if tag ~= nil then
		if tag then
			c.trace(tag, "end")
		end
		req_tag[co] = nil
	end
end

local function run_job(job, ...)
	job(...)
	return job
end

local function worker(job)
	local self = co_running()
	while true do
		-- the spawner gets control back here; the first real resume brings the arguments
		job = run_job(job, co_yield())
		report_forgotten(self, job)
		job = nil
		idle[#idle + 1] = self
		job = co_yield "SUSPEND"
	end
end

local function spawn(f)
	local co = tremove(idle) or co_create(worker)
	local saved = running
	resume(co, f)
	running = saved
	return co
end

-- Handles what a resumed coroutine gave back.
local function finish(co, ok, command)
	if ok then
		if command == "SUSPEND" or command == nil then
			-- waiting for something, or stopped by a debug hook
			return
		elseif command == "QUIT" then
			co_close(co)
			return
		elseif command == "USER" then
			error("Call skynet.coroutine.yield out of skynet.coroutine.resume\n" .. traceback(co))
		end
		error("Unknown command : " .. tostring(command) .. "\n" .. traceback(co))
	end
	-- The coroutine raised: its caller gets an error instead of a response.
	local session = req_session[co]
	if session and session ~= 0 then
		local tag = req_tag[co]
		if tag then
			c.trace(tag, "error")
		end
		csend(req_source[co], PTYPE_ERROR, session, "")
	end
	req_session[co] = nil
	req_source[co] = nil
	req_tag[co] = nil
	local tb = traceback(co, tostring(command))
	co_close(co)
	error(tb)
end

local function nothing_ready()
	return wake_list.head > wake_list.tail and failed.head > failed.tail and forks.head > forks.tail
end

-- Resumes one coroutine that became ready. Returns false when none is left.
local function run_ready()
	local token = wake_list.head <= wake_list.tail and pop(wake_list)
	while token do
		local session = sleepers[token]
		local co = session and waiting[session]
		if type(co) == "thread" then
			local tag = req_tag[co]
			if tag then
				c.trace(tag, "resume")
			end
			-- the timer (if any) still answers this session later: drop that answer
			waiting[session] = "BREAK"
			finish(co, resume(co, false, "BREAK", nil, session))
			return true
		end
		token = pop(wake_list)
	end
	local session = failed.head <= failed.tail and pop(failed)
	if session then
		local co = waiting[session]
		if type(co) == "thread" then
			waiting[session] = nil
			finish(co, resume(co, false, nil, nil, session))
		end
		return true
	end
	local co = forks.head <= forks.tail and pop(forks)
	if co then
		finish(co, resume(co))
		return true
	end
	return false
end

---------------------------------------------------------------------------------------
-- Timers, sleeping and waking

local timer_spawn
local timer_origin

-- With tracing on, each timer coroutine remembers where it was created, for TASK.
function skynet.trace_timeout(on)
	if not on then
		timer_origin = nil
		timer_spawn = spawn
		return
	end
	timer_origin = timer_origin or {}
	timer_spawn = function(func, ti)
		local co
		co = spawn(function()
			if timer_origin then
				timer_origin[co] = nil
			end
			func()
		end)
		timer_origin[co] = traceback(string.format("TIMER %d+%d : ", skynet.now(), ti), 3)
		return co
	end
end

skynet.trace_timeout(false)

function skynet.timeout(ti, func)
	local session = assert(new_timeout(ti))
	local co = timer_spawn(func, ti)
	assert(waiting[session] == nil)
	waiting[session] = co
	return co
end

local function park(session, token)
	local tag = req_tag[running]
	if tag then
		c.trace(tag, "sleep", 3)
	end
	waiting[session] = running
	assert(sleepers[token] == nil, "token duplicative")
	sleepers[token] = session
	return co_yield "SUSPEND"
end

function skynet.sleep(ti, token)
	local session = assert(new_timeout(ti))
	token = token or co_running()
	local ok, why = park(session, token)
	sleepers[token] = nil
	if ok then
		return
	end
	if why == "BREAK" then
		return "BREAK"
	end
	error(why)
end

function skynet.yield()
	return skynet.sleep(0)
end

function skynet.wait(token)
	local session = new_session()
	token = token or co_running()
	wait_only[session] = true
	park(session, token)
	sleepers[token] = nil
	waiting[session] = nil
	wait_only[session] = nil
end

function skynet.wakeup(token)
	if sleepers[token] then
		push(wake_list, token)
		return true
	end
end

---------------------------------------------------------------------------------------
-- Calls

local function trace_call(addr, level)
	local tag = req_tag[running]
	if tag then
		c.trace(tag, "call", level)
		csend(addr, PTYPE_TRACE, 0, tag)
	end
end

local function await_reply(addr, session)
	calling[session] = addr
	waiting[session] = running
	local ok, msg, sz = co_yield "SUSPEND"
	calling[session] = nil
	if not ok then
		error "call failed"
	end
	return msg, sz
end

local function call_failed_to_send(addr, session)
	if session == false then
		error("message to " .. skynet.address(addr) .. " is too large", 3)
	end
	error("call to invalid address " .. skynet.address(addr), 3)
end

function skynet.call(addr, typename, ...)
	if req_tag[running] then
		trace_call(addr, 3)
	end
	local p = proto[typename] or unknown_protocol(typename)
	local session = new_send(addr, p.id, p.pack(...))
	if not session then
		call_failed_to_send(addr, session)
	end
	return p.unpack(await_reply(addr, session))
end

function skynet.rawcall(addr, typename, msg, sz)
	if req_tag[running] then
		trace_call(addr, 3)
	end
	local p = proto[typename] or unknown_protocol(typename)
	local session = assert(new_send(addr, p.id, msg, sz), "call to invalid address")
	return await_reply(addr, session)
end

function skynet.tracecall(tag, addr, typename, msg, sz)
	c.trace(tag, "tracecall begin")
	csend(addr, PTYPE_TRACE, 0, tag)
	local p = proto[typename] or unknown_protocol(typename)
	local session = assert(new_send(addr, p.id, msg, sz), "call to invalid address")
	local rmsg, rsz = await_reply(addr, session)
	c.trace(tag, "tracecall end")
	return rmsg, rsz
end

function skynet.send(addr, typename, ...)
	local p = proto[typename] or unknown_protocol(typename)
	return csend(addr, p.id, 0, p.pack(...))
end

function skynet.rawsend(addr, typename, msg, sz)
	local p = proto[typename] or unknown_protocol(typename)
	return csend(addr, p.id, 0, msg, sz)
end

function skynet.redirect(dest, source, typename, ...)
	local p = proto[typename] or unknown_protocol(typename)
	return c.redirect(dest, source, p.id, ...)
end

skynet.genid = assert(c.genid)
skynet.pack = assert(c.pack)
skynet.packstring = assert(c.packstring)
skynet.unpack = assert(c.unpack)
skynet.tostring = assert(c.tostring)
skynet.trash = assert(c.trash)

---------------------------------------------------------------------------------------
-- Select over several calls: for req, resp in skynet.request(...):select(timeout)

local request_class = {}
request_class.__index = request_class

-- Receives every answer of one select and hands it to the iterating coroutine.
local function collect_answers(self)
	while true do
		local ok, msg, sz, session = co_yield "SUSPEND"
		if session == self._timeout then
			self._timeout = nil
			self.timeout = true
		else
			calling[session] = nil
			local req = self._sessions[session]
			local answer = false
			if ok then
				local unpacked = tpack(pcall(proto[req[2]].unpack, msg, sz))
				if unpacked[1] then
					answer = tpack(tunpack(unpacked, 2, unpacked.n))
				end
			end
			self._resp[session] = answer
		end
		skynet.wakeup(self)
	end
end

local function send_all(self)
	local sessions = {}
	self._sessions = sessions
	local sent = 0
	local unreachable
	for i = 1, #self do
		local req = self[i]
		local addr = req[1]
		local p = proto[req[2]]
		assert(p.unpack)
		trace_call(addr, 4)
		local session = new_send(addr, p.id, p.pack(tunpack(req, 3, req.n)))
		if session then
			sessions[session] = req
			calling[session] = addr
			waiting[session] = self._thread
			sent = sent + 1
		else
			unreachable = unreachable or {}
			unreachable[#unreachable + 1] = req
		end
	end
	self._request = sent
	return unreachable
end

local function next_answer(self)
	local unreachable = self._error
	if unreachable then
		local req = tremove(unreachable)
		if req then
			return req
		end
		self._error = nil
	end
	local session, resp = next(self._resp)
	if session == nil then
		if self._request == 0 or self.timeout then
			return
		end
		skynet.wait(self)
		if self.timeout then
			return
		end
		session, resp = next(self._resp)
	end
	self._request = self._request - 1
	local req = self._sessions[session]
	self._resp[session] = nil
	self._sessions[session] = nil
	return req, resp
end

function request_class:add(obj)
	assert(type(obj) == "table" and not self._thread)
	self[#self + 1] = obj
	return self
end

request_class.__call = request_class.add

function request_class:close()
	if self._request > 0 then
		local resp = self._resp
		for session in pairs(self._sessions) do
			if resp[session] == nil then
				waiting[session] = "BREAK"
				calling[session] = nil
			end
		end
		self._request = 0
	end
	if self._timeout then
		waiting[self._timeout] = "BREAK"
		self._timeout = nil
	end
end

request_class.__close = request_class.close

function request_class:select(timeout)
	assert(self._thread == nil)
	self._thread = co_create(collect_answers)
	self._resp = {}
	self._error = send_all(self)
	if timeout then
		self._timeout = new_timeout(timeout)
		waiting[self._timeout] = self._thread
	end
	local saved = running
	resume(self._thread, self)
	running = saved
	return next_answer, self, nil, self
end

function skynet.request(obj)
	local r = setmetatable({}, request_class)
	if obj then
		return r:add(obj)
	end
	return r
end

---------------------------------------------------------------------------------------
-- Answering requests

function skynet.ret(msg, sz)
	msg = msg or ""
	local co = running
	local tag = req_tag[co]
	if tag then
		c.trace(tag, "response")
	end
	local session = req_session[co]
	if session == nil then
		error "No session"
	end
	req_session[co] = nil
	if session == 0 then
		-- the request was a send: nobody waits for an answer
		if sz ~= nil then
			c.trash(msg, sz)
		end
		return false
	end
	local addr = req_source[co]
	local sent = csend(addr, PTYPE_RESPONSE, session, msg, sz)
	if sent then
		return true
	elseif sent == false then
		-- too large to deliver: the caller must not wait forever
		csend(addr, PTYPE_ERROR, session, "")
	end
	return false
end

function skynet.retpack(...)
	return skynet.ret(skynet.pack(...))
end

function skynet.context()
	return req_session[running], req_source[running]
end

function skynet.ignoreret()
	req_session[running] = nil
end

function skynet.response(pack)
	pack = pack or skynet.pack
	local co = running
	local session = assert(req_session[co], "no session")
	req_session[co] = nil
	local addr = req_source[co]
	if session == 0 then
		return function() end
	end
	local used = false
	local function respond(ok, ...)
		if ok == "TEST" then
			return responders[respond] ~= nil
		end
		if used then
			error "Can't response more than once"
		end
		used = true
		if responders[respond] == nil then
			-- the caller is gone, or this service is exiting
			return false
		end
		responders[respond] = nil
		local sent
		if ok then
			sent = csend(addr, PTYPE_RESPONSE, session, pack(...))
			if sent == false then
				csend(addr, PTYPE_ERROR, session, "")
			end
		else
			sent = csend(addr, PTYPE_ERROR, session, "")
		end
		return sent ~= nil
	end
	responders[respond] = addr
	return respond
end

---------------------------------------------------------------------------------------
-- Dispatch

-- An error message: session 0 says `source` is gone, otherwise one call failed.
local function fail_calls(session, source)
	if session == 0 then
		for respond, addr in pairs(responders) do
			if addr == source then
				responders[respond] = nil
			end
		end
		for s, addr in pairs(calling) do
			if addr == source then
				push(failed, s)
			end
		end
	elseif calling[session] then
		push(failed, session)
	end
end

local function unknown_request(session, address, msg, sz, prototype)
	skynet.error(string.format("Unknown request (%s): %s", prototype, c.tostring(msg, sz)))
	error(string.format("Unknown session : %d from %x", session, address))
end

function skynet.dispatch_unknown_request(f)
	local prev = unknown_request
	unknown_request = f
	return prev
end

local function unknown_response(session, address, msg, sz)
	skynet.error(string.format("Response message : %s", c.tostring(msg, sz)))
	error(string.format("Unknown session : %d from %x", session, address))
end

function skynet.dispatch_unknown_response(f)
	local prev = unknown_response
	unknown_response = f
	return prev
end

function skynet.dispatch(typename, func)
	local p = proto[typename]
	if func == nil then
		return p and p.dispatch
	end
	assert(p, "Unknown protocol")
	local prev = p.dispatch
	p.dispatch = func
	return prev
end

function skynet.fork(func, ...)
	local co
	local n = select("#", ...)
	if n == 0 then
		co = spawn(func)
	else
		local args = { ... }
		co = spawn(function()
			func(tunpack(args, 1, n))
		end)
	end
	push(forks, co)
	return co
end

-- source -> trace tag announced (PTYPE_TRACE) for its next request
local trace_next = {}

local function refuse(session, source, msg, sz, prototype)
	if session ~= 0 then
		csend(source, PTYPE_ERROR, session, "")
	else
		unknown_request(session, source, msg, sz, prototype)
	end
end

local function answer_arrived(session, source, msg, sz)
	local co = waiting[session]
	if co == "BREAK" then
		waiting[session] = nil
	elseif co == nil then
		unknown_response(session, source, msg, sz)
	else
		local tag = req_tag[co]
		if tag then
			c.trace(tag, "resume")
		end
		waiting[session] = nil
		finish(co, resume(co, true, msg, sz, session))
	end
end

local function start_request(p, session, source, ...)
	local co = spawn(p.dispatch)
	req_session[co] = session
	req_source[co] = source
	local flag = p.trace
	if flag == false then
		trace_next[source] = nil
		req_tag[co] = false
	else
		local tag = trace_next[source]
		if tag then
			trace_next[source] = nil
			c.trace(tag, "request")
			req_tag[co] = tag
		elseif flag then
			local saved = running
			running = co
			skynet.trace()
			running = saved
		end
	end
	finish(co, resume(co, session, source, ...))
end

-- Named so: skynet.remotedebug hooks this upvalue of dispatch_message.
local function raw_dispatch_message(prototype, msg, sz, session, source)
	if prototype == PTYPE_RESPONSE then
		return answer_arrived(session, source, msg, sz)
	end
	local p = proto[prototype]
	if p == nil then
		if prototype == PTYPE_TRACE then
			trace_next[source] = c.tostring(msg, sz)
		else
			refuse(session, source, msg, sz, prototype)
		end
		return
	end
	if p.dispatch == nil then
		trace_next[source] = nil
		return refuse(session, source, msg, sz, p.name)
	end
	return start_request(p, session, source, p.unpack(msg, sz))
end

function skynet.dispatch_message(...)
	local ok, err = pcall(raw_dispatch_message, ...)
	if ok and nothing_ready() then
		return
	end
	while true do
		local alive, more = pcall(run_ready)
		if alive then
			if not more then
				break
			end
		elseif ok then
			ok, err = false, tostring(more)
		else
			err = tostring(err) .. "\n" .. tostring(more)
		end
	end
	if not ok then
		error(tostring(err), 0)
	end
end

---------------------------------------------------------------------------------------
-- Threads

function skynet.killthread(thread)
	local session
	if type(thread) == "string" then
		for s, co in pairs(waiting) do
			if tostring(co):find(thread) then
				session = s
				break
			end
		end
	else
		-- a fork that has not started yet is just taken off the queue
		for i = forks.head, forks.tail do
			if forks[i] == thread then
				table.move(forks, i + 1, forks.tail, i)
				forks[forks.tail] = nil
				forks.tail = forks.tail - 1
				return thread
			end
		end
		for s, co in pairs(waiting) do
			if co == thread then
				session = s
				break
			end
		end
	end
	local co = session and waiting[session]
	if type(co) ~= "thread" then
		return
	end
	local addr = req_source[co]
	if addr then
		local rs = req_session[co]
		if rs and rs > 0 then
			csend(addr, PTYPE_ERROR, rs, "")
		end
		req_session[co] = nil
		req_source[co] = nil
		req_tag[co] = nil
	end
	calling[session] = nil
	if wait_only[session] then
		wait_only[session] = nil
		waiting[session] = nil
	else
		-- a reply or a timer will still come: drop it then
		waiting[session] = "BREAK"
	end
	for token, s in pairs(sleepers) do
		if s == session then
			sleepers[token] = nil
			break
		end
	end
	co_close(co)
	return co
end

local function task_traceback(co)
	if co == "BREAK" then
		return co
	end
	local origin = timer_origin and timer_origin[co]
	return origin or traceback(co)
end

function skynet.task(ret)
	if ret == nil then
		local n = 0
		for _, co in pairs(waiting) do
			if co ~= "BREAK" then
				n = n + 1
			end
		end
		return n
	end
	if ret == "init" then
		return init_co and traceback(init_co) or nil
	end
	local kind = type(ret)
	if kind == "table" then
		for session, co in pairs(waiting) do
			ret[string.format("%s session: %d", tostring(co), session)] = task_traceback(co)
		end
	elseif kind == "number" then
		local co = waiting[ret]
		return co and task_traceback(co) or "No session"
	elseif kind == "thread" then
		for session, co in pairs(waiting) do
			if co == ret then
				return session
			end
		end
	end
end

function skynet.uniqtask()
	local groups = {}
	for session, co in pairs(waiting) do
		local stack = task_traceback(co)
		local g = groups[stack]
		if g == nil then
			g = { count = 0, sessions = {} }
			groups[stack] = g
		end
		g.count = g.count + 1
		if g.count < 10 then
			g.sessions[#g.sessions + 1] = session
		end
	end
	local ret = {}
	for stack, g in pairs(groups) do
		local list = table.concat(g.sessions, ",")
		if g.count > 10 then
			list = list .. "..."
		end
		ret[string.format("%d\tsessions:[%s]\n", g.count, list)] = stack
	end
	return ret
end

function skynet.term(service)
	fail_calls(0, service)
end

---------------------------------------------------------------------------------------
-- Identity, environment, time

local self_handle

function skynet.self()
	if self_handle == nil then
		self_handle = c.addresscommand "REG"
	end
	return self_handle
end

function skynet.localname(name)
	return c.addresscommand("QUERY", name)
end

function skynet.address(addr)
	if type(addr) == "number" then
		return string.format(":%08x", addr)
	end
	return tostring(addr)
end

function skynet.harbor(addr)
	return c.harbor(addr)
end

function skynet.getenv(key)
	return (c.command("GETENV", key))
end

function skynet.setenv(key, value)
	assert(c.command("GETENV", key) == nil, "Can't setenv exist key : " .. key)
	c.command("SETENV", key .. " " .. value)
end

skynet.now = c.now
skynet.hpc = c.hpc
skynet.error = c.error
skynet.tracelog = c.trace

local boot_time

function skynet.starttime()
	if boot_time == nil then
		boot_time = c.intcommand "STARTTIME"
	end
	return boot_time
end

function skynet.time()
	return c.now() / 100 + (boot_time or skynet.starttime())
end

function skynet.endless()
	return c.intcommand("STAT", "endless") == 1
end

function skynet.mqlen()
	return c.intcommand("STAT", "mqlen")
end

function skynet.stat(what)
	return c.intcommand("STAT", what)
end

function skynet.memlimit(bytes)
	-- snlua reads this once the main chunk has run
	debug.getregistry().memlimit = bytes
	skynet.memlimit = nil
end

---------------------------------------------------------------------------------------
-- Tracing

local trace_count = 0

function skynet.trace(info)
	local co = running
	if req_tag[co] == false then
		return
	end
	trace_count = trace_count + 1
	local tag = string.format(":%08x-%d", skynet.self(), trace_count)
	req_tag[co] = tag
	c.trace(tag, info and ("trace " .. info) or "trace")
end

function skynet.tracetag()
	return req_tag[running]
end

-- flag true: trace every request of the protocol; false: never; nil: on skynet.trace()
function skynet.traceproto(prototype, flag)
	assert(proto[prototype]).trace = flag
end

---------------------------------------------------------------------------------------
-- Services

function skynet.newservice(name, ...)
	return skynet.call(".launcher", "lua", "LAUNCH", "snlua", name, ...)
end

function skynet.uniqueservice(global, ...)
	if global == true then
		return assert(skynet.call(".service", "lua", "GLAUNCH", ...))
	end
	return assert(skynet.call(".service", "lua", "LAUNCH", global, ...))
end

function skynet.queryservice(global, ...)
	if global == true then
		return assert(skynet.call(".service", "lua", "GQUERY", ...))
	end
	return assert(skynet.call(".service", "lua", "QUERY", global, ...))
end

function skynet.exit()
	-- nothing queued may run once the service is gone
	forks = new_queue()
	wake_list = new_queue()
	failed = new_queue()
	skynet.send(".launcher", "lua", "REMOVE", skynet.self(), false)
	-- fail the requests still being served
	for co, session in pairs(req_session) do
		local addr = req_source[co]
		if session ~= 0 and addr then
			csend(addr, PTYPE_ERROR, session, "")
		end
	end
	for _, co in pairs(waiting) do
		if type(co) == "thread" and co ~= running then
			co_close(co)
		end
	end
	for respond in pairs(responders) do
		respond(false)
	end
	-- tell every service with one of our calls pending that we are gone
	local callees = {}
	for _, addr in pairs(calling) do
		callees[addr] = true
	end
	for addr in pairs(callees) do
		csend(addr, PTYPE_ERROR, 0, "")
	end
	-- whatever still arrives gets an error back
	c.callback(function(_, _, _, session, source)
		if session ~= 0 and source ~= 0 then
			csend(source, PTYPE_ERROR, session, "")
		end
	end)
	c.command "EXIT"
	co_yield "QUIT"
end

skynet.init = modrequire.init
-- kept for old code: plain pcall works across yields
skynet.pcall = pcall

function skynet.init_service(start)
	local ok, err = xpcall(function()
		modrequire.init_all()
		start()
	end, traceback)
	if ok then
		skynet.send(".launcher", "lua", "LAUNCHOK")
	else
		skynet.error("init service failed: " .. tostring(err))
		skynet.send(".launcher", "lua", "ERROR")
		skynet.exit()
	end
end

function skynet.start(start_func)
	c.callback(skynet.dispatch_message)
	init_co = skynet.timeout(0, function()
		skynet.init_service(start_func)
		init_co = nil
	end)
end

---------------------------------------------------------------------------------------
-- Built-in protocols

skynet.register_protocol {
	name = "lua",
	id = skynet.PTYPE_LUA,
	pack = skynet.pack,
	unpack = skynet.unpack,
}

skynet.register_protocol {
	name = "response",
	id = PTYPE_RESPONSE,
}

skynet.register_protocol {
	name = "error",
	id = PTYPE_ERROR,
	unpack = function(...) return ... end,
	dispatch = function(session, source)
		-- an error message never gets an answer
		skynet.ignoreret()
		fail_calls(session, source)
	end,
}

-- the "debug" protocol and skynet.info_func
require("skynet.debug").init(skynet, {
	dispatch = skynet.dispatch_message,
	suspend = finish,
	resume = resume,
})

return skynet

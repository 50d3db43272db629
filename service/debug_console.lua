-- Debug console: a line-oriented TCP service (telnet / nc), also reachable with a
-- one-shot HTTP request (`GET /cmd/arg1/arg2` or `POST` with the command line as body).
--
-- Arguments: `[ip] port` or `ip:port`; the defaults are 127.0.0.1 and 8000.
-- Each command prints its result followed by `<CMD OK>`, or an error and `<CMD Error>`.
local skynet = require "skynet"
local core = require "skynet.core"
local socket = require "skynet.socket"

local function optional(name)
	local ok, m = pcall(require, name)
	if ok then
		return m
	end
end

local codecache = optional "skynet.codecache"
local memory = optional "skynet.memory"
local debugchannel = optional "skynet.debugchannel"

local listen_ip, listen_port
do
	local args = table.pack(...)
	assert(args.n <= 2, "usage: debug_console [ip] port")
	if args.n == 2 then
		listen_ip, listen_port = args[1], tonumber(args[2])
	elseif args.n == 1 then
		local host, p = tostring(args[1]):match "^(.*):(%d+)$"
		listen_ip = host
		listen_port = tonumber(p or args[1])
	end
	listen_ip = listen_ip or "127.0.0.1"
	listen_port = listen_port or 8000
end

-- Default wait for replies from every service (stat, mem, gc), in centiseconds.
local DEFAULT_TIMEOUT = 300

local COMMAND = {}	-- name -> function(arg1, arg2, ...)
local RAW = {}	-- name -> function(words), words[1] the whole line, words.fd the socket

local function by_key(t)
	local keys = {}
	for k in pairs(t) do
		keys[#keys + 1] = k
	end
	table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
	return keys
end

local function one_line(t)
	local parts = {}
	for _, k in ipairs(by_key(t)) do
		parts[#parts + 1] = tostring(k) .. ":" .. tostring(t[k])
	end
	return table.concat(parts, "\t")
end

local function show(print, result)
	if type(result) ~= "table" then
		print(tostring(result))
		return
	end
	for _, k in ipairs(by_key(result)) do
		local v = result[k]
		print(k, type(v) == "table" and one_line(v) or tostring(v))
	end
end

local function words_of(line)
	local words = {}
	for w in line:gmatch "%S+" do
		words[#words + 1] = w
	end
	return words
end

-- Returned by a command that prints its own result later (debug, when its session ends).
local LATER = {}

-- conn: the connection (fd, print, oneshot for HTTP, debugging while `debug` runs).
local function run(line, conn)
	local print = conn.print
	local words = words_of(line)
	local name = words[1]
	local ok, result
	if COMMAND[name] then
		ok, result = pcall(COMMAND[name], table.unpack(words, 2))
	elseif RAW[name] then
		words[1] = line
		words.fd = conn.fd
		ok, result = pcall(RAW[name], words, conn)
	else
		print("Invalid command, type help for command list")
		print("<CMD Error>")
		return
	end
	if ok then
		if result == LATER then
			return
		end
		if result ~= nil then
			show(print, result)
		end
		print("<CMD OK>")
	else
		print(tostring(result))
		print("<CMD Error>")
	end
end

local function url_decode(s)
	return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Reads the header lines of an HTTP request; returns them keyed by lower-case name.
local MAX_HEADER_LINES = 128
local function read_headers(fd)
	local headers = {}
	for _ = 1, MAX_HEADER_LINES do
		local line = socket.readline(fd, "\n")
		if not line then
			return
		end
		line = line:gsub("\r$", "")
		if line == "" then
			return headers
		end
		local k, v = line:match "^([^:]+):%s*(.-)%s*$"
		if k then
			headers[k:lower()] = v
		end
	end
	error "HTTP header too long"
end

-- One HTTP request: the command comes from the path (GET) or the body (POST).
local function http_command(fd, request)
	local method, target = request:match "^(%u+)%s+(%S+)"
	local headers = assert(read_headers(fd), "connection closed in the HTTP header")
	if method == "POST" then
		local len = tonumber(headers["content-length"] or 0)
		assert(len and len >= 0, "bad Content-Length")
		if len == 0 then
			return ""
		end
		return assert(socket.read(fd, len), "connection closed in the HTTP body")
	end
	local path = target:match "^[^?#]*"
	return url_decode(path:sub(2):gsub("/", " "))
end

-- A line typed while `debug` runs goes to the debugged service; after `cont` (or the
-- end of the connection) the console waits for the debug session to end.
local function forward(conn, line)
	local d = conn.debugging
	d.channel:write(line)
	if line == "cont" and not d.over then
		d.waiter = coroutine.running()
		skynet.wait(d.waiter)
	end
end

local function session(fd, print, addr)
	local conn = { fd = fd, print = print }
	print("Welcome to skynet console")
	skynet.error(addr, "connected")
	local ok, err = pcall(function()
		while true do
			local line = socket.readline(fd, "\n")
			if not line then
				break
			end
			line = line:gsub("\r$", "")
			if conn.debugging then
				forward(conn, line)
			elseif line:match "^GET " or line:match "^POST " then
				conn.oneshot = true
				run(http_command(fd, line), conn)
				break
			elseif line ~= "" then
				run(line, conn)
			end
		end
	end)
	if not ok then
		skynet.error(fd, err)
	end
	if conn.debugging then
		forward(conn, "cont")
	end
	skynet.error(addr, "disconnect")
	socket.close(fd)
end

skynet.start(function()
	local listener, ip, port = socket.listen(listen_ip, listen_port)
	skynet.error("Start debug console at " .. (ip or listen_ip) .. ":" .. (port or listen_port))
	socket.start(listener, function(fd, addr)
		local function print(...)
			local parts = table.pack(...)
			for i = 1, parts.n do
				parts[i] = tostring(parts[i])
			end
			socket.write(fd, table.concat(parts, "\t", 1, parts.n) .. "\n")
		end
		socket.start(fd)
		skynet.fork(session, fd, print, addr)
	end)
end)

-- Helpers shared by the commands.

local function unavailable(what)
	error(what .. " is not available in this skynet build", 0)
end

local function need_memory(fn)
	if not (memory and memory[fn]) then
		unavailable("skynet.memory." .. fn)
	end
	return memory[fn]
end

-- ":0100000a", ".name" or a bare hex handle on this harbor.
local function address_of(s)
	assert(s, "Need an address")
	local first = s:sub(1, 1)
	if first == "." then
		return assert(skynet.localname(s), "Not a valid name")
	elseif first == ":" then
		return assert(tonumber(s:sub(2), 16), "Need an address")
	end
	local h = assert(tonumber(s, 16), "Need an address")
	return h | (skynet.harbor(skynet.self()) << 24)
end

local function timeout(ti)
	if ti == nil then
		return DEFAULT_TIMEOUT
	end
	ti = assert(tonumber(ti), "timeout must be a number")
	if ti <= 0 then
		return nil
	end
	return ti
end

local function on_off(s)
	return s == "true" or s == "on"
end

function COMMAND.help()
	return {
		help = "This help message",
		list = "List all the service",
		stat = "Dump all stats",
		info = "info address : get service infomation",
		exit = "exit address : kill a lua service",
		kill = "kill address : kill service",
		mem = "mem : show memory status",
		gc = "gc : force every lua service do garbage collect",
		start = "lanuch a new lua service",
		snax = "lanuch a new snax service",
		clearcache = "clear lua code cache",
		service = "List unique service",
		task = "task address [session] : show service task detail",
		uniqtask = "task address : show service unique task detail",
		inject = "inject address luascript.lua",
		logon = "logon address",
		logoff = "logoff address",
		log = "launch a new lua service with log",
		debug = "debug address : debug a lua service",
		signal = "signal address sig",
		cmem = "Show C memory info",
		jmem = "Show jemalloc mem stats",
		ping = "ping address",
		call = "call address ...",
		trace = "trace address [proto] [on|off]",
		netstat = "netstat : show netstat",
		profactive = "profactive [on|off] : active/deactive jemalloc heap profilling",
		dumpheap = "dumpheap : dump heap profilling",
		killtask = "killtask address threadname : threadname listed by task",
		dbgcmd = "run address debug command",
		getenv = "getenv name : skynet.getenv(name)",
		setenv = "setenv name value: skynet.setenv(name,value)",
		shrtbl = "Show shared short string table info",
	}
end

function COMMAND.clearcache()
	if not (codecache and codecache.clear) then
		unavailable "skynet.codecache"
	end
	codecache.clear()
end

function COMMAND.start(...)
	local ok, addr = pcall(skynet.newservice, ...)
	if not ok then
		return "Failed"
	end
	if not addr then
		return "Exit"
	end
	return { [skynet.address(addr)] = (...) }
end

function COMMAND.log(...)
	local ok, addr = pcall(skynet.call, ".launcher", "lua", "LOGLAUNCH", "snlua", ...)
	if ok and addr then
		return { [skynet.address(addr)] = (...) }
	end
	return "Failed"
end

function COMMAND.snax(...)
	local snax = optional "skynet.snax"
	if not snax then
		unavailable "snax"
	end
	local ok, s = pcall(snax.newservice, ...)
	if not ok then
		return "Failed"
	end
	return { [skynet.address(s.handle)] = (...) }
end

function COMMAND.service()
	return skynet.call("SERVICE", "lua", "LIST")
end

function COMMAND.list()
	return skynet.call(".launcher", "lua", "LIST")
end

function COMMAND.stat(ti)
	return skynet.call(".launcher", "lua", "STAT", timeout(ti))
end

function COMMAND.mem(ti)
	return skynet.call(".launcher", "lua", "MEM", timeout(ti))
end

function COMMAND.gc(ti)
	return skynet.call(".launcher", "lua", "GC", timeout(ti))
end

function COMMAND.kill(address)
	return skynet.call(".launcher", "lua", "KILL", address_of(address))
end

function COMMAND.exit(address)
	skynet.send(address_of(address), "debug", "EXIT")
end

function COMMAND.inject(address, filename, ...)
	address = address_of(address)
	assert(filename, "Need a file name")
	local f = io.open(filename, "rb")
	if not f then
		return "Can't open " .. filename
	end
	local code = f:read "a"
	f:close()
	local ok, output = skynet.call(address, "debug", "RUN", code, filename, ...)
	if ok == false then
		error(output, 0)
	end
	return output
end

function COMMAND.dbgcmd(address, cmd, ...)
	assert(cmd, "Need a debug command")
	return skynet.call(address_of(address), "debug", cmd, ...)
end

-- task address [session]: every waiting coroutine, or the traceback of one session
function COMMAND.task(address, session)
	if session == nil then
		return COMMAND.dbgcmd(address, "TASK")
	end
	return COMMAND.dbgcmd(address, "TASK", assert(math.tointeger(tonumber(session)), "session must be an integer"))
end

function COMMAND.killtask(address, threadname)
	return COMMAND.dbgcmd(address, "KILLTASK", threadname)
end

function COMMAND.uniqtask(address)
	return COMMAND.dbgcmd(address, "UNIQTASK")
end

function COMMAND.info(address, ...)
	return COMMAND.dbgcmd(address, "INFO", ...)
end

function COMMAND.logon(address)
	core.command("LOGON", skynet.address(address_of(address)))
end

function COMMAND.logoff(address)
	core.command("LOGOFF", skynet.address(address_of(address)))
end

function COMMAND.signal(address, sig)
	local target = skynet.address(address_of(address))
	if sig then
		local n = assert(math.tointeger(tonumber(sig)), "signal must be an integer")
		core.command("SIGNAL", target .. " " .. n)
	else
		core.command("SIGNAL", target)
	end
end

function COMMAND.cmem()
	local result = {}
	for handle, size in pairs(need_memory "info"()) do
		result[skynet.address(handle)] = size
	end
	result.total = need_memory "total"()
	result.block = need_memory "block"()
	return result
end

function COMMAND.jmem()
	local result = {}
	local any = false
	for k, v in pairs(need_memory "jestat"()) do
		result[k] = string.format("%11d  %8.2f Mb", v, v / 1048576)
		any = any or v ~= 0
	end
	-- a core without jemalloc answers 0 to every counter
	if not any then
		unavailable "jemalloc (jmem)"
	end
	return result
end

local NO_PROFILER = "jemalloc heap profiling is not enabled in this skynet build"

function COMMAND.dumpheap()
	-- jemalloc ignores prof.dump without a word when profiling is off: say so instead
	if not need_memory "profactive"() then
		error("heap profiling is not active, nothing dumped (try profactive on)", 0)
	end
	need_memory "dumpheap"()
end

function COMMAND.profactive(flag)
	local profactive = need_memory "profactive"
	if flag == "on" or flag == "off" then
		profactive(on_off(flag))
	elseif flag ~= nil then
		profactive(flag)
	end
	local active = profactive()
	local state = "heap profilling is " .. (active and "active" or "deactive")
	if flag ~= nil and flag ~= "off" and not active then
		return state .. "\n" .. NO_PROFILER
	end
	return state
end

function COMMAND.ping(address)
	address = address_of(address)
	local start = skynet.now()
	skynet.call(address, "debug", "PING")
	return tostring(skynet.now() - start)
end

function COMMAND.trace(address, proto, flag)
	address = address_of(address)
	if flag ~= nil then
		flag = on_off(flag)
	elseif proto == "on" or proto == "off" then
		proto = on_off(proto)
	end
	skynet.call(address, "debug", "TRACELOG", proto, flag)
end

local function human_bytes(n)
	if n == nil or n == 0 then
		return nil
	elseif n < 1024 then
		return n
	elseif n < 1024 * 1024 then
		return tostring(n / 1024) .. "K"
	end
	return tostring(n / (1024 * 1024)) .. "M"
end

-- "12.5s" under a minute, "[h:]m:s" above.
local function age(since, now)
	if since == nil then
		return nil
	end
	local t = now - since
	if t < 6000 then
		return tostring(t / 100) .. "s"
	end
	local hours = t // 360000
	local minutes = (t % 360000) // 6000
	local seconds = (t % 6000) / 100
	return string.format("%s%d:%.2gs", hours == 0 and "" or (hours .. ":"), minutes, seconds)
end

function COMMAND.netstat()
	local now = skynet.now()
	local list = socket.netstat()
	for _, s in ipairs(list) do
		s.address = skynet.address(s.address)
		s.read = human_bytes(s.read)
		s.write = human_bytes(s.write)
		s.wbuffer = human_bytes(s.wbuffer)
		s.rtime = age(s.rtime, now)
		s.wtime = age(s.wtime, now)
	end
	return list
end

function COMMAND.getenv(name)
	assert(name, "Need a name")
	return { [name] = tostring(skynet.getenv(name)) }
end

function COMMAND.setenv(name, value)
	assert(name and value, "Need a name and a value")
	return skynet.setenv(name, value)
end

function COMMAND.shrtbl()
	unavailable "the shared short string table (shrtbl)"
end

-- call address args...: the arguments are a Lua expression list, e.g. call :0100000a "echo", 1
function RAW.call(words)
	local address = address_of(words[2])
	local args = assert(words[1]:match "^%s*%S+%s+%S+%s+(.+)$", "need arguments")
	local chunk = assert(load("return " .. args, "debug console", "t", {}), "Invalid arguments")
	local values = table.pack(pcall(chunk))
	if not values[1] then
		error(values[2], 0)
	end
	return table.pack(skynet.call(address, "lua", table.unpack(values, 2, values.n)))
end

-- debug address: lines typed on this connection go to the service's remote debugger
-- (skynet.remotedebug) until `cont`; its output comes straight to the connection.
function RAW.debug(words, conn)
	local address = address_of(words[2])
	if conn.oneshot then
		error("debug needs an interactive connection (telnet or nc), not HTTP", 0)
	end
	if not debugchannel then
		unavailable "skynet.debugchannel"
	end
	-- A dead or non-Lua service fails here, before the session takes over the connection.
	skynet.call(address, "debug", "PING")
	local channel, handle = debugchannel.create()
	local d = { channel = channel }
	conn.debugging = d
	skynet.fork(function()
		local ok = pcall(skynet.call, address, "debug", "REMOTEDEBUG", conn.fd, handle)
		local failure
		if not ok then
			if pcall(skynet.call, address, "debug", "PING") then
				failure = "Debugger attach failed"
			else
				failure = "Debug session ended: " .. skynet.address(address) .. " exited"
			end
		end
		conn.debugging = nil
		d.over = true
		if failure then
			conn.print(failure)
			conn.print("<CMD Error>")
		else
			conn.print("<CMD OK>")
		end
		if d.waiter then
			skynet.wakeup(d.waiter)
		end
	end)
	return LATER
end

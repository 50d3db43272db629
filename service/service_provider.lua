-- Backs skynet.service.new: each named service is launched once (a service_cell that
-- runs the dumped main function); later requests get the same address.

local skynet = require "skynet"

-- name -> { queue = waiting response closures (until launched), booting = true,
--           address = handle, error = text, init = args text, time = launch time }
local services = {}

local function entry(name)
	local s = services[name]
	if s == nil then
		s = { queue = {} }
		services[name] = s
	end
	return s
end

local function answer_queue(s, ok, addr)
	local queue = s.queue
	s.queue = nil
	for _, respond in ipairs(queue) do
		respond(ok, addr)
	end
end

local provider = {}

function provider.query(name)
	local s = entry(name)
	if s.queue then
		-- not launched yet: answer when it is
		s.queue[#s.queue + 1] = skynet.response()
	elseif s.address then
		skynet.ret(skynet.pack(s.address))
	else
		error(s.error)
	end
end

local function boot(s, addr, code, ...)
	skynet.call(addr, "lua", "init", code, ...)
	local n = select("#", ...)
	if n > 0 then
		local args = { ... }
		for i = 1, n do
			args[i] = tostring(args[i])
		end
		s.init = table.concat(args, ",", 1, n)
	end
	s.time = skynet.time()
end

function provider.launch(name, code, ...)
	local s = entry(name)
	if s.address then
		return skynet.ret(skynet.pack(s.address))
	end
	if s.booting then
		s.queue[#s.queue + 1] = skynet.response()
		return
	end
	s.booting = true
	local ok, addr = pcall(skynet.newservice, "service_cell", name)
	local err
	if ok then
		ok, err = xpcall(boot, debug.traceback, s, addr, code, ...)
	else
		err, addr = addr, nil
	end
	s.booting = nil
	if ok then
		s.address = addr
		answer_queue(s, true, addr)
		skynet.ret(skynet.pack(addr))
		return
	end
	if addr then
		skynet.send(addr, "debug", "EXIT")
	end
	s.error = err
	answer_queue(s, false)
	error(err)
end

function provider.test(name)
	local s = entry(name)
	if s.booting then
		skynet.ret(skynet.pack(nil, true))
	elseif s.address then
		skynet.ret(skynet.pack(s.address))
	elseif s.error then
		error(s.error)
	else
		skynet.ret()
	end
end

function provider.close(name)
	local s = services[name]
	if s == nil or s.booting then
		return skynet.ret(skynet.pack(nil))
	end
	services[name] = nil
	skynet.ret(skynet.pack(s.address))
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, what, ...)
		local f = assert(provider[what], what)
		f(...)
	end)
	skynet.info_func(function()
		local info = {}
		for name, s in pairs(services) do
			local status
			if s.booting then
				status = "booting"
			elseif s.queue then
				status = "waiting(" .. #s.queue .. ")"
			end
			info[skynet.address(s.address)] = {
				init = s.init,
				name = name,
				time = s.time and os.date("%Y %b %d %T %z", math.floor(s.time)),
				status = status,
			}
		end
		return info
	end)
end)

-- Read and write closures over a skynet.socket id, as the http modules use them.
-- Every failure raises the one `sockethelper.socket_error` object, so a caller can tell
-- a lost connection from a protocol error with `err == sockethelper.socket_error`.
local skynet = require "skynet"
local socket = require "skynet.socket"

local coroutine = coroutine
local error = error
local pcall = pcall
local tostring = tostring

local sockethelper = {}

-- A single shared object (compared by identity); calling it records what went wrong.
local last_message
local socket_error = setmetatable({}, {
	__call = function(self, info)
		last_message = "[Socket Error] : " .. tostring(info)
		return self
	end,
	__tostring = function()
		return last_message or "[Socket Error]"
	end,
})
sockethelper.socket_error = socket_error

local function lost(what, fd)
	error(socket_error(what .. " failed fd = " .. tostring(fd)))
end

-- read(n) returns exactly n bytes, read() whatever has arrived (at least one byte).
-- `pre` is data already taken off the socket that must come out first.
function sockethelper.readfunc(fd, pre)
	local pending = pre
	if pending == "" then
		pending = nil
	end
	return function(sz)
		if pending then
			local have = #pending
			if sz == nil or sz == have then
				local out = pending
				pending = nil
				return out
			elseif sz < have then
				local out = pending:sub(1, sz)
				pending = pending:sub(sz + 1)
				return out
			end
			local more = socket.read(fd, sz - have)
			if not more then
				lost("read", fd)
			end
			local out = pending .. more
			pending = nil
			return out
		end
		local data = socket.read(fd, sz)
		if not data then
			lost("read", fd)
		end
		return data
	end
end

sockethelper.readall = socket.readall

function sockethelper.writefunc(fd)
	return function(content)
		if not socket.write(fd, content) then
			lost("write", fd)
		end
	end
end

-- Connects, giving up after `timeout` centiseconds when one is given. A connection that
-- completes after the caller gave up is closed as soon as it appears.
function sockethelper.connect(host, port, timeout)
	local fd, err
	local timed_out = false
	if timeout then
		local caller = coroutine.running()
		local settled, abandoned = false, false
		skynet.fork(function()
			local ok, id, msg = pcall(socket.open, host, port)
			if not ok then
				id, msg = nil, id
			end
			if abandoned then
				if id then
					socket.close(id)
				end
				return
			end
			fd, err, settled = id, msg, true
			skynet.wakeup(caller)
		end)
		skynet.sleep(timeout)
		if not settled then
			abandoned, timed_out = true, true
		end
	else
		fd, err = socket.open(host, port)
	end
	if fd then
		return fd
	end
	error(socket_error(string.format("connect failed host = %s port = %s timeout = %s err = %s is_time_out = %s",
		tostring(host), tostring(port), tostring(timeout), tostring(err), tostring(timed_out))))
end

function sockethelper.close(fd)
	socket.close(fd)
end

function sockethelper.shutdown(fd)
	socket.shutdown(fd)
end

return sockethelper

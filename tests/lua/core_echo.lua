-- A helper service for the core tests: answers "lua" commands in various ways.

local skynet = require "skynet"
require "skynet.manager"

local args = table.pack(...)
local stored = {}
local held = {}

local cmd = {}

function cmd.echo(...)
	skynet.retpack(...)
end

function cmd.args()
	skynet.retpack(table.unpack(args, 1, args.n))
end

function cmd.store(k, v)
	stored[k] = v
end

function cmd.fetch(k)
	skynet.retpack(stored[k])
end

function cmd.raise(text)
	error(text)
end

function cmd.exit_now()
	-- exits while the caller still waits for this request
	skynet.exit()
end

function cmd.hold()
	held[#held + 1] = skynet.response()
end

function cmd.release(...)
	local n = #held
	for i = 1, n do
		held[i](true, ...)
		held[i] = nil
	end
	skynet.retpack(n)
end

function cmd.fork_error(text)
	skynet.fork(function()
		error(text)
	end)
	skynet.retpack "forked"
end

function cmd.sleep_echo(ti, ...)
	skynet.sleep(ti)
	skynet.retpack(...)
end

function cmd.call(addr, ...)
	skynet.retpack(skynet.call(addr, "lua", ...))
end

function cmd.no_answer()
	-- returns without answering; the framework warns about it
end

function cmd.unknown_log()
	skynet.retpack(stored.unknown_request, stored.unknown_response)
end

skynet.dispatch_unknown_request(function(session, source, msg, sz, prototype)
	stored.unknown_request = string.format("%s:%s", prototype, skynet.tostring(msg, sz))
end)

skynet.dispatch_unknown_response(function(session, source, msg, sz)
	stored.unknown_response = string.format("%d:%s", session, skynet.tostring(msg, sz))
end)

skynet.start(function()
	skynet.dispatch("lua", function(_, _, name, ...)
		local f = assert(cmd[name], name)
		f(...)
	end)
	skynet.info_func(function(...)
		return { info = "echo", args = table.pack(...) }
	end)
end)

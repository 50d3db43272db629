-- Reads lines from stdin and launches each as a service: `name args...` starts a Lua
-- service, `snax name args...` a snax service. Failures are logged and reading goes on.
local skynet = require "skynet"
local socket = require "skynet.socket"

local function launch(words)
	if words[1] == "snax" then
		local ok, snax = pcall(require, "skynet.snax")
		if not ok then
			skynet.error("console: snax is not available in this skynet build")
			return
		end
		return snax.newservice(table.unpack(words, 2))
	end
	return skynet.newservice(table.unpack(words))
end

local function read_loop()
	local stdin = socket.stdin()
	if not stdin then
		-- /dev/null or a regular file: epoll cannot watch it, so there is nothing to read.
		skynet.error("console: stdin is not a pipe or terminal, console disabled")
		return
	end
	while true do
		local line = socket.readline(stdin, "\n")
		if not line then
			break
		end
		local words = {}
		for w in line:gmatch "%S+" do
			words[#words + 1] = w
		end
		if #words > 0 then
			local ok, err = pcall(launch, words)
			if not ok then
				skynet.error("console: " .. line .. ": " .. tostring(err))
			end
		end
	end
end

skynet.start(function()
	skynet.fork(read_loop)
end)

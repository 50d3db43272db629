-- A skynet.socket line server driven by clients outside the node (tests/lua_socket.rs).
-- It prints "OUTSIDE ready <port>" once listening, then for each connection answers:
--   <text>          -> "echo:<text>"
--   bulk <n>        -> reads n raw bytes, answers "bulk <n> ok" if they match the pattern
--   dial <port>     -> connects to 127.0.0.1:<port>, sends "node\n", reads everything until
--                      that peer closes and answers "dialed <what it read>"
--   bye             -> the test ends
-- A connection whose peer closes mid-line prints "OUTSIDE closed rest=<partial line>".
local skynet = require "skynet"
local socket = require "skynet.socket"

local T = require "testcase" "socket_outside"

local function pattern(n)
	local unit = "0123456789abcdef"
	return string.rep(unit, n // #unit) .. unit:sub(1, n % #unit)
end

local function dial(port)
	local id, err = socket.open("127.0.0.1", port)
	if not id then
		return "failed " .. tostring(err)
	end
	socket.write(id, "node\n")
	local data = socket.readall(id)
	socket.close(id)
	return tostring(data)
end

local function serve(id)
	socket.start(id)
	while true do
		local line, rest = socket.readline(id)
		if not line then
			skynet.error("OUTSIDE closed rest=" .. rest)
			break
		end
		local n = line:match("^bulk (%d+)$")
		local port = line:match("^dial (%d+)$")
		if n then
			n = math.tointeger(tonumber(n))
			local data = socket.read(id, n)
			socket.write(id, string.format("bulk %d %s\n", n, data == pattern(n) and "ok" or "bad"))
		elseif port then
			socket.write(id, "dialed " .. dial(math.tointeger(tonumber(port))) .. "\n")
		elseif line == "bye" then
			socket.write(id, "bye\n")
			socket.close(id)
			T.finish()
			return
		else
			socket.write(id, "echo:" .. line .. "\n")
		end
	end
	socket.close(id)
end

skynet.start(function()
	local lid, _, port = socket.listen("127.0.0.1", 0)
	socket.start(lid, function(id)
		skynet.fork(serve, id)
	end)
	skynet.error("OUTSIDE ready " .. port)
end)

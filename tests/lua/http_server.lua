-- An httpd service driven by curl and raw sockets from tests/lua_http.rs.
-- Prints "HTTP ready <big> <small>" once listening on two ports:
--   big:   read_request(readfunc, 16 MB), the function form
--   small: read_request(interface, 1 MB), the interface form (answers 100-continue)
-- Connections are kept alive until the client closes or sends "Connection: close".
-- Routes:
--   /echo?...        "conn=<n> req=<k> method=<m> path=<p> len=<bytes> match=<yes|no> q.<k>=<v>..."
--                    where match says whether the body is the test pattern
--   /chunked?n=<k>   a chunked answer of k pieces "piece<i>;"
--   /quit            answers "bye", then the test passes and the node ends
-- Refused requests are answered with their status and logged as "HTTP refused <code>";
-- every connection's end is logged as "HTTP conn <n> done".
local skynet = require "skynet"
local socket = require "skynet.socket"
local httpd = require "http.httpd"
local sockethelper = require "http.sockethelper"
local urllib = require "http.url"

local NAME = "http_server"
local T = require "testcase" (NAME)
local connections = 0

local function pattern(n)
	local unit = "0123456789abcdef"
	return string.rep(unit, n // #unit) .. unit:sub(1, n % #unit)
end

local function sorted_query(query)
	local fields = urllib.parse_query(query)
	local keys = {}
	for k in pairs(fields) do
		keys[#keys + 1] = k
	end
	table.sort(keys)
	local out = {}
	for _, k in ipairs(keys) do
		local v = fields[k]
		if type(v) == "table" then
			v = table.concat(v, ",")
		end
		out[#out + 1] = string.format(" q.%s=%s", k, v)
	end
	return table.concat(out)
end

local function answer(conn, n, url, method, header, body)
	local path, query = urllib.parse(url)
	if path == "/echo" then
		local text = string.format("conn=%d req=%d method=%s path=%s len=%d match=%s%s",
			conn.id, n, method, path, #body, body == pattern(#body) and "yes" or "no", sorted_query(query))
		return 200, text, { ["X-Echo"] = "1" }
	elseif path == "/chunked" then
		local pieces = math.tointeger(tonumber(urllib.parse_query(query).n)) or 3
		local i = 0
		return 200, function()
			if i == pieces then
				return nil
			end
			i = i + 1
			return "piece" .. i .. ";"
		end
	elseif path == "/quit" then
		return 200, "bye", nil, true
	end
	return 404, "no such path " .. path
end

local function serve(id, interface_form)
	connections = connections + 1
	local conn = { id = connections }
	socket.start(id)
	local read, write = sockethelper.readfunc(id), sockethelper.writefunc(id)
	local source, limit = read, 16 * 1024 * 1024
	if interface_form then
		source, limit = { read = read, write = write }, 1024 * 1024
	end
	local n = 0
	while true do
		local code, url, method, header, body = httpd.read_request(source, limit)
		if not code then
			T.check(url == sockethelper.socket_error, "read_request failed:", tostring(url))
			break
		end
		if code ~= 200 then
			skynet.error("HTTP refused " .. code)
			httpd.write_response(write, code, "refused " .. code, { connection = "close" })
			-- read what the client still sends until it closes: closing with unread
			-- data would reset the connection and could lose our answer
			local drained = 0
			while drained < 64 * 1024 * 1024 do
				local data = socket.read(id)
				if not data then
					break
				end
				drained = drained + #data
			end
			break
		end
		n = n + 1
		local status, reply, extra, quit = answer(conn, n, url, method, header, body)
		local ok, err = httpd.write_response(write, status, reply, extra)
		if not ok then
			skynet.error("HTTP write failed: " .. tostring(err))
			break
		end
		if quit then
			socket.close(id)
			T.finish()
			return
		end
		if header.connection and header.connection:lower() == "close" then
			break
		end
	end
	socket.close(id)
	skynet.error("HTTP conn " .. conn.id .. " done")
end

local function listen(interface_form)
	local lid, _, port = socket.listen("127.0.0.1", 0)
	socket.start(lid, function(id)
		skynet.fork(serve, id, interface_form)
	end)
	return port
end

skynet.start(function()
	local big = listen(false)
	local small = listen(true)
	skynet.error(string.format("HTTP ready %d %d", big, small))
end)

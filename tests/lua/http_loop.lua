-- httpc against our own httpd in another service, plus raw requests the server must
-- refuse, and http.internal's header parsing on its own. Argument: a free UDP port for a
-- name server answering every A question with 127.0.0.1 (for httpc.dns).
-- The server ("http_loop server") keeps connections alive and listens on three ports:
--   open:    no body limit
--   limited: bodies up to 4096 bytes
--   pre:     reads the first 4 bytes itself and hands them to sockethelper.readfunc
-- Routes: /echo (body back; each "x-in" request field comes back as an "x-out" field),
-- /stream?n=<k> (a chunked answer of k pieces), /empty (no body), /head (no body, an
-- explicit Content-Length as a HEAD answer has).
local skynet = require "skynet"
local socket = require "skynet.socket"
local httpd = require "http.httpd"
local httpc = require "http.httpc"
local internal = require "http.internal"
local sockethelper = require "http.sockethelper"
local urllib = require "http.url"

local NAME = "http_loop"
local mode = ...

local function route(url, header, body)
	local path, query = urllib.parse(url)
	if path == "/echo" then
		return 200, body, { ["x-out"] = header["x-in"], ["x-len"] = tostring(#body), ["x-host"] = header.host }
	elseif path == "/stream" then
		local n = math.tointeger(tonumber(urllib.parse_query(query).n)) or 0
		local i = 0
		return 200, function()
			if i < n then
				i = i + 1
				return string.rep(string.char(96 + i), i)
			end
		end
	elseif path == "/empty" then
		return 200
	elseif path == "/head" then
		return 200, nil, { ["Content-Length"] = "42" }
	end
	return 404, "no " .. path
end

local function serve(id, kind)
	socket.start(id)
	local pre
	if kind == "pre" then
		pre = socket.read(id, 4)
	end
	local read, write = sockethelper.readfunc(id, pre), sockethelper.writefunc(id)
	local limit = kind == "limited" and 4096 or nil
	while true do
		local code, url, _, header, body = httpd.read_request(read, limit)
		if not code then
			break
		end
		if code ~= 200 then
			httpd.write_response(write, code)
			break
		end
		local ok = httpd.write_response(write, route(url, header, body))
		if not ok then
			break
		end
	end
	socket.close(id)
end

local function server()
	local ports = {}
	for _, kind in ipairs { "open", "limited", "pre" } do
		local lid, _, port = socket.listen("127.0.0.1", 0)
		socket.start(lid, function(id)
			skynet.fork(serve, id, kind)
		end)
		ports[kind] = port
	end
	skynet.dispatch("lua", function()
		skynet.ret(skynet.pack(ports))
	end)
end

---------------------------------------------------------------- the client side

local T = require "testcase" (NAME)
local check = T.check

-- Sends raw bytes, returns the status line of the answer.
local function raw(port, bytes)
	local id = assert(socket.open("127.0.0.1", port))
	socket.write(id, bytes)
	local line = socket.readline(id, "\r\n")
	socket.close(id)
	return line
end

local function parsing()
	local lines = {}
	local feed = { "HTTP/1.1 200 OK\r\nA: 1\r", "\n  folded  \r\nB:two \r\nb: 2\r\n", "\r\nrest" }
	local n = 1
	local rest = internal.recvheader(function()
		n = n + 1
		return feed[n]
	end, lines, feed[1])
	check(rest == "rest", "recvheader rest", rest)
	check(#lines == 5 and lines[1] == "HTTP/1.1 200 OK", "recvheader lines", #lines, lines[1])
	local h = internal.parseheader(lines, 2, {})
	check(h and h.a == "1 folded", "folded field", h and h.a)
	check(h and type(h.b) == "table" and h.b[1] == "two" and h.b[2] == "2", "repeated field")
	check(internal.parseheader({ "no colon here" }, 1, {}) == nil, "a line without a colon")
	check(internal.parseheader({ "bad name: x" }, 1, {}) == nil, "a name with a space")
	check(internal.recvheader(function() return string.rep("x", 1000) end, {}, "") == nil, "endless header")
	local whole = "GET / HTTP/1.1\r\nX: " .. string.rep("x", 9000) .. "\r\n\r\n"
	check(internal.recvheader(function() error "no more" end, {}, whole) == nil, "oversized header read at once")

	local body, trailer, after = internal.recvchunkedbody(function() error "no more" end, nil, {},
		"3;ext=1\r\nabc\r\n1\r\nd\r\n0\r\nT: v\r\n\r\nnext")
	check(body == "abcd" and trailer.t == "v" and after == "next", "recvchunkedbody", body, after)
	local none, why = internal.recvchunkedbody(function() error "no more" end, 3, {}, "4\r\nabcd\r\n0\r\n\r\n")
	check(none == nil and why == "limit", "chunked over the limit", why)
	none, why = internal.recvchunkedbody(function() error "no more" end, nil, {}, "zz\r\n")
	check(none == nil and why == "format", "bad chunk size", why)
end

-- A name server that knows one answer: every A question gets 127.0.0.1.
local function nameserver(port)
	local id
	id = socket.udp(function(query, from)
		local tid, _, qdcount = string.unpack(">I2I2I2", query)
		local pos = 13
		while query:byte(pos) ~= 0 do
			pos = pos + query:byte(pos) + 1
		end
		local qtype = string.unpack(">I2", query, pos + 1)
		local question = query:sub(13, pos + 4)
		local answer = ""
		if qtype == 1 then
			answer = string.pack(">I2I2I2I4I2BBBB", 0xc00c, 1, 1, 60, 4, 127, 0, 0, 1)
		end
		local head = string.pack(">I2I2I2I2I2I2", tid, 0x8180, qdcount, answer == "" and 0 or 1, 0, 0)
		socket.sendto(id, from, head .. question .. answer)
	end, "127.0.0.1", port)
end

-- A connect that can only end by httpc.timeout: a listener with a backlog of 0 that never
-- accepts holds one connection, and Linux drops the SYN of the next one.
local function connect_timeout()
	local lid, _, port = socket.listen("127.0.0.1", 0, 0)
	local filler = assert(socket.open("127.0.0.1", port))
	httpc.timeout = 10
	local ok, err = pcall(httpc.get, "127.0.0.1:" .. port, "/")
	httpc.timeout = nil
	check(not ok and err == sockethelper.socket_error, "a connect timeout raises socket_error", tostring(err))
	check(tostring(err):find("is_time_out = true", 1, true), "the message says it timed out", tostring(err))
	-- the abandoned connect fails once the listener is gone
	socket.close(filler)
	socket.close(lid)
end

local function client(dns_port)
	parsing()
	local srv = skynet.newservice(SERVICE_NAME, "server")
	local ports = skynet.call(srv, "lua", "ports")
	local open = "127.0.0.1:" .. ports.open
	local limited = "http://127.0.0.1:" .. ports.limited

	-- chunked upload and multi-valued header fields both ways
	local parts = { "alpha,", "beta,", "gamma" }
	local i = 0
	local rheader = {}
	local code, body = httpc.request("PUT", open, "/echo", rheader, { ["x-in"] = { "a", "b" } }, function()
		i = i + 1
		return parts[i]
	end)
	check(code == 200 and body == "alpha,beta,gamma", "chunked upload", code, body)
	check(type(rheader["x-out"]) == "table" and table.concat(rheader["x-out"], ",") == "a,b", "list fields")
	check(rheader["x-len"] == "16", "length seen by the server", rheader["x-len"])

	-- a chunked answer, whole and streamed
	code, body = httpc.get(open, "/stream?n=4")
	check(code == 200 and body == "abbcccdddd", "chunked answer", code, body)
	local pieces = {}
	for piece in httpc.request_stream("GET", open, "/stream?n=3") do
		pieces[#pieces + 1] = piece
	end
	check(table.concat(pieces, "|") == "a|bb|ccc", "streamed answer", table.concat(pieces, "|"))
	code, body = httpc.get(open, "/stream?n=0")
	check(code == 200 and body == "", "empty chunked answer", code, body)

	-- no body: still framed, so a kept-alive connection does not leave the client waiting
	httpc.timeout = 1000
	code, body = httpc.get(open, "/empty")
	check(code == 200 and body == "", "empty answer", code, body)
	httpc.timeout = nil
	rheader = {}
	code = httpc.head(open, "/head", rheader)
	check(code == 200 and rheader["content-length"] == "42", "explicit length kept", rheader["content-length"])
	code, body = httpc.request("HEAD", open, "/head")
	check(code == 200 and body == "", "HEAD through httpc.request", code, body)

	-- limits
	code, body = httpc.request("POST", limited, "/echo", nil, nil, string.rep("x", 4096))
	check(code == 200 and #body == 4096, "body at the limit", code)
	code = httpc.request("POST", limited, "/echo", nil, nil, string.rep("x", 4097))
	check(code == 413, "body over the limit", code)
	code = httpc.request("POST", limited, "/echo", nil, { ["transfer-encoding"] = "chunked" },
		"1000\r\n" .. string.rep("y", 4096) .. "\r\n1\r\nz\r\n0\r\n\r\n")
	check(code == 413, "chunked body over the limit", code)
	code = httpc.get(open, "/echo", nil, { ["x-big"] = string.rep("h", 9000) })
	check(code == 413, "oversized header", code)

	-- requests the server refuses, and one it reads after taking 4 bytes itself
	check(raw(ports.open, "BAD\r\n\r\n") == "HTTP/1.1 400 Bad Request", "malformed request line")
	check(raw(ports.open, "GET / HTTP/2.0\r\n\r\n") == "HTTP/1.1 505 HTTP Version not supported", "version")
	check(raw(ports.open, "POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") == "HTTP/1.1 501 Not Implemented", "coding")
	check(raw(ports.open, "POST /echo HTTP/1.1\r\nContent-Length: ten\r\n\r\n") == "HTTP/1.1 400 Bad Request", "length")
	check(raw(ports.open, "GET /echo HTTP/1.1\r\nno colon\r\n\r\n") == "HTTP/1.1 400 Bad Request", "header line")
	check(raw(ports.pre, "GET /missing HTTP/1.0\r\n\r\n") == "HTTP/1.1 404 Not Found", "readfunc with data read before")

	-- names through skynet.dns once httpc.dns is called; the Host header keeps the name
	nameserver(dns_port)
	httpc.dns("127.0.0.1", dns_port)
	rheader = {}
	code, body = httpc.request("POST", "web.test:" .. ports.open, "/echo", rheader, nil, "via dns")
	check(code == 200 and body == "via dns", "request by name", code, body)
	check(rheader["x-host"] == "web.test:" .. ports.open, "host header", rheader["x-host"])

	-- still serving
	code, body = httpc.request("POST", open, "/echo", nil, nil, "after")
	check(code == 200 and body == "after", "served after the refusals", code, body)

	connect_timeout()
end

if mode == "server" then
	skynet.start(server)
else
	skynet.start(function()
		local ok, err = xpcall(client, debug.traceback, math.tointeger(tonumber(mode)))
		check(ok, "error", err)
		T.finish()
	end)
end

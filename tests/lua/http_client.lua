-- httpc against tests/py/http_origin.py (Python's http.server), started by
-- tests/lua_http.rs. Args: <port> [http|https]
local skynet = require "skynet"
local socket = require "skynet.socket"
local httpc = require "http.httpc"
local urllib = require "http.url"
local sockethelper = require "http.sockethelper"

local NAME = "http_client"
local port, protocol = ...
protocol = protocol or "http"

local T = require "testcase" (NAME)
local check = T.check

local function pattern(n)
	local unit = "0123456789abcdef"
	return string.rep(unit, n // #unit) .. unit:sub(1, n % #unit)
end

local function collect(stream)
	local pieces = {}
	for piece, s in stream do
		check(s == stream, "the iterator yields the stream")
		pieces[#pieces + 1] = piece
	end
	return pieces
end

local function main()
	local host = "127.0.0.1:" .. port
	local url = protocol .. "://" .. host
	local plain = protocol == "http"

	-- GET, with a request header and the response header collected
	local rheader = {}
	local code, body = httpc.get(url, "/hello", rheader, { ["X-Test"] = "abc" })
	check(code == 200, "get code", code)
	check(body == "hello abc " .. host, "get body", body)
	check(rheader["content-length"] == tostring(#body), "response header", rheader["content-length"])
	if plain then
		-- without a scheme the host is plain HTTP
		code, body = httpc.get(host, "/hello")
		check(code == 200 and body == "hello - " .. host, "get without scheme", code, body)
	end

	-- HEAD: status and header, no body to wait for
	rheader = {}
	code = httpc.head(url, "/hello", rheader)
	check(code == 200, "head code", code)
	check(rheader["content-length"] == tostring(#("hello - " .. host)), "head length", rheader["content-length"])

	-- POST a form: urlencoded as upstream, decodable by http.url
	local form = { name = "a b&c", ["odd key"] = "100%", plain = "x_y" }
	code, body = httpc.post(url, "/form", form)
	check(code == 200, "post code", code)
	local ctype, sent = body:match "^(.-)|(.*)$"
	check(ctype == "application/x-www-form-urlencoded", "post content type", ctype)
	check(sent and not sent:find(" ", 1, true), "post body escaped", sent)
	local fields = urllib.parse_query(sent or "")
	for k, v in pairs(form) do
		check(fields[k] == v, "post field " .. k, fields[k])
	end

	-- a large body each way
	local big = pattern(300000)
	code, body = httpc.request("POST", url, "/echo", nil, nil, big)
	check(code == 200 and body == big, "echo of 300000 bytes", code, body and #body)

	-- a chunked request body from a function
	local pieces = { "one,", "", "two,", "three" }
	local i = 0
	code, body = httpc.request("POST", url, "/echo", nil, nil, function()
		i = i + 1
		return pieces[i]
	end)
	check(code == 200 and body == "one,two,three", "chunked upload", code, body)

	-- a chunked response, with a trailer field merged into the header
	rheader = {}
	code, body = httpc.get(url, "/chunked", rheader)
	check(code == 200 and body == "first,second,third", "chunked response", code, body)
	check(rheader["x-trailer"] == "done", "trailer", rheader["x-trailer"])

	-- a body framed by the close of the connection
	code, body = httpc.get(url, "/close")
	check(code == 200 and body == "until close", "body until close", code, body)

	code, body = httpc.get(url, "/nocontent")
	check(code == 204 and body == "", "204", code, body)
	code, body = httpc.get(url, "/missing")
	check(code == 404 and body == "missing", "404", code, body)

	-- streams: the chunked response piece by piece, then the others
	local stream = httpc.request_stream("GET", url, "/chunked")
	check(stream.status == 200, "stream status", stream.status)
	local got = collect(stream)
	check(table.concat(got, "|") == "first,|second,|third", "stream pieces", table.concat(got, "|"))
	check(stream.header["x-trailer"] == "done", "stream trailer", stream.header["x-trailer"])
	check(stream.connected == nil, "stream ended cleanly", stream.connected)
	got = collect(httpc.request_stream("GET", url, "/hello"))
	check(table.concat(got) == "hello - " .. host, "stream with length", table.concat(got))
	got = collect(httpc.request_stream("GET", url, "/close"))
	check(table.concat(got) == "until close", "stream until close", table.concat(got))
	stream = httpc.request_stream("GET", url, "/nocontent")
	got = collect(stream)
	check(#got == 1 and got[1] == "" and stream.status == 204, "stream without body", #got, stream.status)
	stream = httpc.request_stream("POST", url, "/echo", nil, nil, big)
	got = collect(stream)
	check(table.concat(got) == big, "stream of a large body", #table.concat(got))

	-- errors
	local ok, err = pcall(httpc.get, "ftp://" .. host, "/")
	check(not ok and tostring(err):find("Invalid protocol", 1, true), "bad protocol", err)
	local lid, _, closed_port = socket.listen("127.0.0.1", 0)
	socket.close(lid)
	ok, err = pcall(httpc.get, protocol .. "://127.0.0.1:" .. closed_port, "/hello")
	check(not ok and err == sockethelper.socket_error, "connection refused", err)
	check(tostring(err):find("connect failed", 1, true), "refusal message", tostring(err))

	-- a server that never answers: the timeout ends the request with an error
	httpc.timeout = 50
	ok, err = pcall(httpc.get, url, "/slow")
	check(not ok, "timeout raises", err)
	-- the timer of a finished request does not disturb later ones
	code, body = httpc.get(url, "/hello")
	check(code == 200, "get under a timeout", code, body)
	httpc.timeout = nil
end

skynet.start(function()
	local ok, err = xpcall(main, debug.traceback)
	check(ok, "error", err)
	T.finish()
end)

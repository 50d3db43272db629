-- Our httpc over https:// (http.tlshelper, ltls.c) against tests/py/tls_https_server.py.
-- Argument: the server's port. Needs enablessl.
local skynet = require "skynet"
require "skynet.manager"
local httpc = require "http.httpc"

local NAME = "tls_httpc"
local port = ...

local failures = 0
local function check(cond, what, ...)
	if not cond then
		failures = failures + 1
		skynet.error("TEST " .. NAME .. " FAIL", what, ...)
	end
	return cond
end

local function same(got, want, what)
	return check(got == want, what, "got", tostring(got), "want", tostring(want))
end

local function run()
	local host = "https://127.0.0.1:" .. port
	httpc.timeout = 1000	-- guards against a hang only

	local header = {}
	local code, body = httpc.request("GET", host, "/hello", header)
	same(code, 200, "GET status")
	same(body, "hello over tls", "GET body")
	same(header["content-type"], "text/plain", "response header")

	code, body = httpc.get(host, "/big")
	same(code, 200, "big status")
	local unit = {}
	for i = 0, 255 do
		unit[#unit + 1] = string.char(i)
	end
	unit = table.concat(unit)
	same(#body, 300000, "big length")
	same(body, string.rep(unit, 1171) .. unit:sub(1, 224), "big body")

	code, body = httpc.request("GET", host, "/chunked")
	same(code, 200, "chunked status")
	same(body, "one-two-three", "chunked body")

	local payload = string.rep("post body ", 5000)
	code, body = httpc.request("POST", host, "/echo", nil, nil, payload)
	same(code, 200, "POST status")
	same(body, payload, "POST echo")

	code = httpc.request("GET", host, "/missing")
	same(code, 404, "404 status")
end

skynet.start(function()
	local ok, err = xpcall(run, debug.traceback)
	check(ok, "error", err)
	if failures == 0 then
		skynet.error("TEST " .. NAME .. " PASS")
	end
	skynet.abort()
end)

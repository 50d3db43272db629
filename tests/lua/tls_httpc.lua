-- Our httpc over https:// (http.tlshelper, ltls.c) against tests/py/tls_https_server.py.
-- Argument: the server's port. Needs enablessl.
local skynet = require "skynet"
require "skynet.manager"
local httpc = require "http.httpc"

local NAME = "tls_httpc"
local port = ...

local T = require "testcase" (NAME)
local check, same = T.check, T.same

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
	T.finish()
end)

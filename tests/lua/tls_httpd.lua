-- Our httpd over TLS (http.tlshelper on the server side), fetched by curl -k from the
-- test. Argument: the port. Needs enablessl, certfile and keyfile.
--   GET /quit   answers "bye" and ends the test
--   any other   answers "<method> <url> <body length>" (GET) or echoes the body (POST)
-- Each connection logs "TLSHTTPD served <n>" when it ends, n being its request count.
local skynet = require "skynet"
local socket = require "skynet.socket"
local httpd = require "http.httpd"
local tls = require "http.tlshelper"

local NAME = "tls_httpd"
local T = require "testcase" (NAME)
local port = assert(tonumber((...)), "port argument")

local ctx = tls.newctx()
ctx:set_cert(skynet.getenv "certfile", skynet.getenv "keyfile")

local function serve(id)
	socket.start(id)
	local conn = tls.newtls("server", ctx)
	local read, write = tls.readfunc(id, conn), tls.writefunc(id, conn)
	local ok, err = pcall(tls.init_responsefunc(id, conn))
	if not ok then
		skynet.error("TLSHTTPD handshake failed: " .. tostring(err))
		socket.close(id)
		tls.closefunc(conn)()
		return
	end
	local served = 0
	local quit = false
	while not quit do
		local code, url, method, _, body = httpd.read_request(read, 16 * 1024 * 1024)
		if not code then
			break	-- the client closed (or went away)
		end
		served = served + 1
		if code ~= 200 then
			httpd.write_response(write, code)
			break
		end
		local reply
		if url == "/quit" then
			reply, quit = "bye", true
		elseif method == "POST" then
			reply = body
		else
			reply = string.format("%s %s %d\n", method, url, #body)
		end
		if not httpd.write_response(write, 200, reply) then
			break
		end
	end
	socket.close(id)
	tls.closefunc(conn)()
	skynet.error("TLSHTTPD served " .. served)
	if quit then
		T.finish()
	end
end

skynet.start(function()
	local listener = socket.listen("127.0.0.1", port)
	socket.start(listener, serve)
	skynet.error("TLSHTTPD ready " .. port)
end)

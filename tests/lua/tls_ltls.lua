-- ltls.c on its own: a client and a server connection in one service trading bytes in
-- memory (no socket), and the errors bad use gets. Needs enablessl and the config keys
-- certfile and keyfile.
local skynet = require "skynet"
require "skynet.manager"

local NAME = "tls_ltls"
local T = require "testcase" (NAME)
local check, same = T.check, T.same

local function fails_with(needle, f, ...)
	local ok, err = pcall(f, ...)
	check(not ok and tostring(err):find(needle, 1, true), "expected an error with " .. needle, tostring(err))
end

local function run()
	local ltls = require "ltls.c"
	local certfile, keyfile = skynet.getenv "certfile", skynet.getenv "keyfile"

	local sctx = ltls.newctx()
	sctx:set_cert(certfile, keyfile)
	sctx:set_ciphers("HIGH:!aNULL")
	local cctx = ltls.newctx()

	local server = ltls.newtls("server", sctx)
	local client = ltls.newtls("client", cctx, "localhost")
	check(not client:finished() and not server:finished(), "not finished before the handshake")

	-- the client speaks first; each side answers what the other sent until both are done
	local to_server = client:handshake()
	check(type(to_server) == "string" and #to_server > 0, "client hello")
	local rounds = 0
	while not (client:finished() and server:finished()) do
		rounds = rounds + 1
		assert(rounds < 10, "handshake does not converge")
		local to_client = server:finished() and server:write() or server:handshake(to_server)
		to_server = nil
		if to_client and #to_client > 0 then
			if client:finished() then
				check(client:read(to_client) == "", "no application data during the handshake")
			else
				to_server = client:handshake(to_client)
			end
		end
	end
	-- the client's last flight (its Finished) reaches the server through read
	same(server:read(to_server), "", "server reads the end of the handshake")
	fails_with("handshake is finished", client.handshake, client)

	same(server:read(client:write("ping")), "ping", "client to server")
	same(client:read(server:write("pong")), "pong", "server to client")
	local big = string.rep("abcdefghij", 50000)
	local sealed = client:write(big)
	check(#sealed > #big, "500K sealed in records")
	-- fed in uneven pieces, the plain text comes out whole
	local got = {}
	local at = 1
	while at <= #sealed do
		got[#got + 1] = server:read(sealed:sub(at, at + 7776))
		at = at + 7777
	end
	same(table.concat(got), big, "500K client to server in pieces")
	same(server:write(""), "", "an empty write sends nothing")
	same(client:write(), "", "nothing pending")
	same(client:set_ext_host_name("example.com"), 1, "set_ext_host_name")

	client:close()
	fails_with("context is closed", client.write, client, "x")
	client:close()	-- twice is harmless

	-- bad use
	fails_with("invalid method", ltls.newtls, "bogus", cctx)
	fails_with("SSL_CTX_use_certificate_chain_file", sctx.set_cert, sctx, "/nonexistent.pem", keyfile)
	fails_with("need private key", sctx.set_cert, sctx, certfile)
	fails_with("SSL_CTX_set_cipher_list", sctx.set_ciphers, sctx, "no-such-cipher")
	local victim = ltls.newtls("server", sctx)
	fails_with("SSL_do_handshake error", victim.handshake, victim, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	fails_with("SSL_read error", server.read, server, string.rep("\23\3\3\0\32", 20))
end

skynet.start(function()
	local ok, err = xpcall(run, debug.traceback)
	check(ok, "error", err)
	T.finish()
end)

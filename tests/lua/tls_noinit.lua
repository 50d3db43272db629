-- Without `enablessl` in the config, ltls.c refuses to load with a message naming the
-- fix, and so does wss.
local skynet = require "skynet"
require "skynet.manager"
local socket = require "skynet.socket"
local websocket = require "http.websocket"

local NAME = "tls_noinit"
local T = require "testcase" (NAME)
local check = T.check

local function fails_with(needle, f, ...)
	local ok, err = pcall(f, ...)
	check(not ok and tostring(err):find(needle, 1, true), "expected an error with " .. needle, tostring(err))
end

skynet.start(function()
	fails_with("ltls need init, Put enablessl = true in you config file.", require, "ltls.c")
	fails_with("enablessl", require, "http.tlshelper")
	-- init.c itself loads: it is what enablessl runs
	check(type(require "ltls.init.c".constructor) == "function", "ltls.init.c loads")

	-- a wss connect gets as far as the TCP connection, then reports the missing set-up
	local listener, _, port = socket.listen("127.0.0.1", 0)
	socket.start(listener, function(id)
		socket.close(id)
	end)
	fails_with("enablessl", websocket.connect, "wss://127.0.0.1:" .. port .. "/")
	socket.close(listener)

	T.finish()
end)

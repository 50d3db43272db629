-- HTTP/1.1 client: one connection per request, closed afterwards.
-- Hosts are "name", "name:port", "1.2.3.4:port", "[::1]:port", optionally prefixed with
-- "http://" or "https://". `httpc.timeout` (centiseconds) bounds the connect and the
-- wait for the answer.
local skynet = require "skynet"
local sockethelper = require "http.sockethelper"
local internal = require "http.internal"

local string = string
local table = table
local pairs = pairs
local pcall = pcall
local error = error
local tonumber = tonumber

local httpc = {}

-- Set by httpc.dns: names are then resolved by skynet.dns (asynchronous, in this
-- service) instead of by the socket layer.
local use_dns = false

function httpc.dns(server, port)
	use_dns = true
	require("skynet.dns").server(server, port)
end

local DEFAULT_PORT = { http = 80, https = 443 }

-- protocol, host, port, whether host is an address literal, and the Host header value.
local function parse_target(target)
	local protocol, rest = target:match "^(%a[%w+.-]*)://(.*)$"
	if protocol then
		protocol = protocol:lower()
	else
		protocol, rest = "http", target
	end
	if not DEFAULT_PORT[protocol] then
		error(string.format("Invalid protocol: %s", protocol))
	end
	local host, port = rest:match "^%[([%x:.]+)%]:?(%d*)$"
	local literal = host ~= nil
	if not host then
		host, port = rest:match "^([^:/%[%]]+):?(%d*)$"
		if not host then
			error(string.format("Invalid host: %s", rest))
		end
		literal = host:find "^%d+%.%d+%.%d+%.%d+$" ~= nil
	end
	if port == "" then
		port = DEFAULT_PORT[protocol]
	else
		port = tonumber(port)
	end
	return protocol, host, port, literal, rest
end

local client_ctx
local function new_interface(protocol, fd, servername)
	if protocol == "http" then
		return {
			read = sockethelper.readfunc(fd),
			write = sockethelper.writefunc(fd),
			readall = function()
				return sockethelper.readall(fd)
			end,
		}
	end
	-- loaded only here, so plain HTTP works without the ltls module
	local tls = require "http.tlshelper"
	client_ctx = client_ctx or tls.newctx()
	local session = tls.newtls("client", client_ctx, servername)
	return {
		init = tls.init_requestfunc(fd, session),
		close = tls.closefunc(session),
		read = tls.readfunc(fd, session),
		write = tls.writefunc(fd, session),
		readall = tls.readallfunc(fd, session),
	}
end

local function release(interface, fd)
	interface.finish = true
	sockethelper.close(fd)
	local close = interface.close
	if close then
		interface.close = nil
		close()
	end
end

-- Connects to `target`; returns the socket id, its interface and the Host header value.
local function connect(target, timeout)
	local protocol, host, port, literal, hostheader = parse_target(target)
	local address = host
	if use_dns and not literal then
		local ip, msg = require("skynet.dns").resolve(host)
		if not ip then
			error(string.format("%s dns resolve failed msg:%s", host, msg))
		end
		address = ip
	end
	local fd = sockethelper.connect(address, port, timeout)
	local servername = (not literal) and host or nil
	local ok, interface = pcall(new_interface, protocol, fd, servername)
	if not ok then
		sockethelper.close(fd)
		error(interface)
	end
	if timeout then
		skynet.timeout(timeout, function()
			if not interface.finish then
				-- wakes whoever is reading; the request then fails and closes the socket
				interface.timed_out = true
				sockethelper.shutdown(fd)
			end
		end)
	end
	if interface.init then
		local done, err = pcall(interface.init, servername)
		if not done then
			release(interface, fd)
			error(err)
		end
	end
	return fd, interface, hostheader
end

function httpc.request(method, target, url, recvheader, header, content)
	local fd, interface, host = connect(target, httpc.timeout)
	local ok, code, data, rheader = pcall(internal.request, interface, method, host, url, recvheader, header, content)
	local body
	if ok and method == "HEAD" then
		-- the header describes a body that is never sent
		body = ""
	elseif ok then
		ok, body = pcall(internal.response, interface, code, data, rheader)
	else
		body = code
	end
	release(interface, fd)
	if not ok then
		error(body)
	end
	if interface.timed_out then
		-- a body framed by the close would otherwise look complete
		error(string.format("%s %s timeout", method, url))
	end
	return code, body
end

function httpc.head(target, url, recvheader, header, content)
	local fd, interface, host = connect(target, httpc.timeout)
	local ok, code = pcall(internal.request, interface, "HEAD", host, url, recvheader, header, content)
	release(interface, fd)
	if not ok then
		error(code)
	end
	return code
end

-- Returns a stream of the response body (see http.internal): call it, or iterate with
-- `for piece, stream in httpc.request_stream(...)`; `stream.status`, `stream.header`.
-- The timeout covers the connect and the response header, not the body.
function httpc.request_stream(method, target, url, recvheader, header, content)
	local fd, interface, host = connect(target, httpc.timeout)
	local ok, code, data, rheader = pcall(internal.request, interface, method, host, url, recvheader, header, content)
	interface.finish = true
	local function close()
		release(interface, fd)
	end
	if not ok then
		close()
		error(code)
	end
	local made, stream = pcall(internal.response_stream, interface, code, data, rheader)
	if not made then
		close()
		error(stream)
	end
	stream._onclose = close
	return stream
end

function httpc.get(...)
	return httpc.request("GET", ...)
end

local function escape(s)
	return (string.gsub(s, "[^A-Za-z0-9_]", function(c)
		return string.format("%%%02X", c:byte())
	end))
end

-- POSTs `form` (a table of strings) as application/x-www-form-urlencoded.
function httpc.post(target, url, form, recvheader)
	local fields = {}
	for k, v in pairs(form) do
		fields[#fields + 1] = escape(k) .. "=" .. escape(v)
	end
	local header = { ["content-type"] = "application/x-www-form-urlencoded" }
	return httpc.request("POST", target, url, recvheader, header, table.concat(fields, "&"))
end

return httpc

-- http.tlshelper: TLS for httpc, httpd and websocket on top of ltls.c. Each function
-- builds a closure over a socket id and a TLS connection (from newtls) that does socket
-- I/O through sockethelper and runs the bytes through the connection.

local sockethelper = require "http.sockethelper"
local ltls = require "ltls.c"

local concat = table.concat

local tlshelper = {}

local function send_if_any(write, bytes)
	if bytes and #bytes > 0 then
		write(bytes)
	end
end

-- The client handshake: init(hostname) sets the SNI name (when given), sends the hello,
-- then trades handshake records with the server until the handshake is done.
function tlshelper.init_requestfunc(fd, tls_ctx)
	local read = sockethelper.readfunc(fd)
	local write = sockethelper.writefunc(fd)
	return function(hostname)
		tls_ctx:set_ext_host_name(hostname)
		send_if_any(write, tls_ctx:handshake())
		while not tls_ctx:finished() do
			send_if_any(write, tls_ctx:handshake(read()))
		end
	end
end

-- The server handshake: answers the client's records until the handshake is done, then
-- sends whatever the server still has queued (TLS 1.3 session tickets).
function tlshelper.init_responsefunc(fd, tls_ctx)
	local read = sockethelper.readfunc(fd)
	local write = sockethelper.writefunc(fd)
	return function()
		while not tls_ctx:finished() do
			send_if_any(write, tls_ctx:handshake(read()))
		end
		send_if_any(write, tls_ctx:write())
	end
end

function tlshelper.closefunc(tls_ctx)
	return function()
		tls_ctx:close()
	end
end

-- read(sz) returns exactly sz bytes of plain text; read() returns what is buffered, or
-- waits for the socket until some plain text arrives (never ""). Errors with
-- sockethelper.socket_error when the socket closes.
function tlshelper.readfunc(fd, tls_ctx)
	local read = sockethelper.readfunc(fd)
	local buffered = ""
	-- The handshake may have left plain text inside the connection: the first fill only
	-- drains it, without reading the socket.
	local drained = false
	local function fill()
		if drained then
			return tls_ctx:read(read())
		end
		drained = true
		return tls_ctx:read()
	end
	return function(sz)
		if sz == nil then
			local s = buffered
			buffered = ""
			-- records such as session tickets carry no plain text
			while #s == 0 do
				s = fill()
			end
			return s
		end
		local have = #buffered
		if have < sz then
			local parts = { buffered }
			repeat
				local s = fill()
				parts[#parts + 1] = s
				have = have + #s
			until have >= sz
			buffered = concat(parts)
		end
		local s = buffered:sub(1, sz)
		buffered = buffered:sub(sz + 1)
		return s
	end
end

function tlshelper.writefunc(fd, tls_ctx)
	local write = sockethelper.writefunc(fd)
	return function(s)
		send_if_any(write, tls_ctx:write(s))
	end
end

-- Everything until the peer closes, decrypted.
function tlshelper.readallfunc(fd, tls_ctx)
	return function()
		return tls_ctx:read(sockethelper.readall(fd))
	end
end

function tlshelper.newctx()
	return ltls.newctx()
end

function tlshelper.newtls(method, ssl_ctx, hostname)
	return ltls.newtls(method, ssl_ctx, hostname)
end

return tlshelper

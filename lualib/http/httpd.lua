-- HTTP/1.x server side: read one request, write one response. Connection handling
-- (keep-alive loops, agents) is up to the caller.
local internal = require "http.internal"

local string = string
local table = table
local type = type
local tonumber = tonumber
local pcall = pcall
local pairs = pairs

local httpd = {}

local reason = {
	[100] = "Continue",
	[101] = "Switching Protocols",
	[200] = "OK",
	[201] = "Created",
	[202] = "Accepted",
	[203] = "Non-Authoritative Information",
	[204] = "No Content",
	[205] = "Reset Content",
	[206] = "Partial Content",
	[300] = "Multiple Choices",
	[301] = "Moved Permanently",
	[302] = "Found",
	[303] = "See Other",
	[304] = "Not Modified",
	[305] = "Use Proxy",
	[307] = "Temporary Redirect",
	[308] = "Permanent Redirect",
	[400] = "Bad Request",
	[401] = "Unauthorized",
	[402] = "Payment Required",
	[403] = "Forbidden",
	[404] = "Not Found",
	[405] = "Method Not Allowed",
	[406] = "Not Acceptable",
	[407] = "Proxy Authentication Required",
	[408] = "Request Time-out",
	[409] = "Conflict",
	[410] = "Gone",
	[411] = "Length Required",
	[412] = "Precondition Failed",
	[413] = "Request Entity Too Large",
	[414] = "Request-URI Too Large",
	[415] = "Unsupported Media Type",
	[416] = "Requested range not satisfiable",
	[417] = "Expectation Failed",
	[426] = "Upgrade Required",
	[431] = "Request Header Fields Too Large",
	[500] = "Internal Server Error",
	[501] = "Not Implemented",
	[502] = "Bad Gateway",
	[503] = "Service Unavailable",
	[504] = "Gateway Time-out",
	[505] = "HTTP Version not supported",
}

local CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n"

-- Answers "Expect: 100-continue" when we can write and are about to read a body, so
-- clients such as curl send it at once instead of waiting.
local function maybe_continue(write, header, minor)
	if write and minor == 1 and header.expect and internal.single(header, "expect") == "100-continue" then
		write(CONTINUE)
	end
end

local function read_request(read, bodylimit, write)
	local lines = {}
	local data = internal.recvheader(read, lines, "")
	if not data then
		return 413
	end
	local first = lines[1]
	if not first then
		return 400
	end
	local method, url, major, minor = first:match "^(%a+)[ \t]+(%S+)[ \t]+HTTP/(%d+)%.(%d+)$"
	if not method then
		return 400
	end
	major, minor = tonumber(major), tonumber(minor)
	if major ~= 1 or minor > 1 then
		return 505
	end
	local header = internal.parseheader(lines, 2, {})
	if not header then
		return 400
	end

	local mode = internal.single(header, "transfer-encoding")
	if mode == "chunked" then
		maybe_continue(write, header, minor)
		local body, why = internal.recvchunkedbody(read, bodylimit, header, data)
		if not body then
			return why == "limit" and 413 or 400
		end
		return 200, url, method, header, body
	elseif mode ~= nil and mode ~= "identity" then
		return 501
	end

	local length = header["content-length"]
	if length == nil then
		return 200, url, method, header, ""
	end
	length = internal.content_length(length)
	if not length then
		return 400
	end
	if bodylimit and length > bodylimit then
		return 413
	end
	local body
	if #data >= length then
		body = data:sub(1, length)
	else
		maybe_continue(write, header, minor)
		body = data .. read(length - #data)
	end
	return 200, url, method, header, body
end

-- read_request(readfunc, bodylimit) or read_request(interface, bodylimit), where an
-- interface table has `read` and optionally `write` (used for "100 Continue").
-- Returns code, url, method, header, body; code is an HTTP error status when the request
-- is refused. Returns nil and the error when reading fails (sockethelper.socket_error
-- when the connection is gone).
function httpd.read_request(source, bodylimit)
	local read, write = source, nil
	if type(source) == "table" then
		read, write = source.read, source.write
	end
	local ok, code, url, method, header, body = pcall(read_request, read, bodylimit, write)
	if ok then
		return code, url, method, header, body
	end
	return nil, code
end

local FRAMING = { ["content-length"] = true, ["transfer-encoding"] = true }
-- Small bodies go out with the header in one write.
local JOIN_LIMIT = 16384

local function has_framing(header)
	for k in pairs(header) do
		if FRAMING[k:lower()] then
			return true
		end
	end
	return false
end

local function write_response(write, code, body, header)
	local out = { string.format("HTTP/1.1 %03d %s\r\n", code, reason[code] or "") }
	local kind = type(body)
	if header then
		internal.header_lines(out, header, kind ~= "nil" and FRAMING or nil)
	end
	if kind == "string" then
		out[#out + 1] = string.format("content-length: %d\r\n\r\n", #body)
		if #body <= JOIN_LIMIT then
			out[#out + 1] = body
			write(table.concat(out))
		else
			write(table.concat(out))
			write(body)
		end
	elseif kind == "function" then
		out[#out + 1] = "transfer-encoding: chunked\r\n\r\n"
		write(table.concat(out))
		while true do
			local piece = body()
			if piece == nil then
				break
			end
			if #piece > 0 then
				write(string.format("%x\r\n%s\r\n", #piece, piece))
			end
		end
		write "0\r\n\r\n"
	elseif kind == "nil" then
		-- an empty body still needs framing, or a keep-alive client waits for the close
		if not (code < 200 or code == 204 or code == 304 or (header and has_framing(header))) then
			out[#out + 1] = "content-length: 0\r\n"
		end
		out[#out + 1] = "\r\n"
		write(table.concat(out))
	else
		error("Invalid body type " .. kind)
	end
end

-- write_response(writefunc, statuscode, body, header): body is a string, a function
-- returning the next piece (nil at the end) for a chunked body, or nil. A table with
-- `write` may stand for writefunc. Returns true, or false and the error.
function httpd.write_response(sink, code, body, header)
	local write = sink
	if type(sink) == "table" then
		write = sink.write
	end
	return pcall(write_response, write, code, body, header)
end

return httpd

-- HTTP/1.x message framing shared by httpd, httpc and websocket. Nothing here touches a
-- socket: the functions take `read`/`write` closures (sockethelper's or tlshelper's), so
-- the same code serves plain TCP and TLS. read(n) returns exactly n bytes, read() at
-- least one byte of whatever has arrived; both raise when the connection is gone.
local table = table
local string = string
local type = type
local tonumber = tonumber
local pairs = pairs
local ipairs = ipairs
local error = error
local pcall = pcall
local setmetatable = setmetatable

local M = {}

-- The largest header block accepted (request or status line included).
local HEADER_LIMIT = 8192
-- A chunk-size line (size and extensions) longer than this is an attack, not a chunk.
local SIZE_LINE_LIMIT = 128

local function trim(s)
	local first = s:find("[^ \t]")
	if not first then
		return ""
	end
	local last = #s
	while true do
		local b = s:byte(last)
		if b ~= 32 and b ~= 9 then
			break
		end
		last = last - 1
	end
	return s:sub(first, last)
end

-- Reads until a header block ends, starting with `data` already read. Each line goes to
-- `lines`; returns the bytes after the blank line, or nil when the block is too large.
-- Data that starts with a blank line is an empty block (the trailer of a chunked body).
function M.recvheader(read, lines, data)
	local from = 1
	while true do
		if data:byte(1) == 13 and data:byte(2) == 10 then
			return data:sub(3)
		end
		local stop = data:find("\r\n\r\n", from, true)
		if stop then
			if stop > HEADER_LIMIT then
				return
			end
			for line in data:sub(1, stop + 1):gmatch("(.-)\r\n") do
				lines[#lines + 1] = line
			end
			return data:sub(stop + 4)
		end
		if #data > HEADER_LIMIT then
			return
		end
		-- the terminator may straddle what we have and what comes next
		from = #data > 3 and #data - 2 or 1
		data = data .. read()
	end
end

local function append(header, name, value)
	local old = header[name]
	if old == nil then
		header[name] = value
	elseif type(old) == "table" then
		old[#old + 1] = value
	else
		header[name] = { old, value }
	end
end

-- Turns lines[from..] into `header` (names lowercased, repeated fields collected in a
-- list). Returns `header`, or nil when a line is not a header field.
function M.parseheader(lines, from, header)
	local name
	for i = from, #lines do
		local line = lines[i]
		local first = line:byte(1)
		if first == 9 or first == 32 then
			-- obsolete line folding: the line continues the previous field
			if not name then
				return
			end
			local more = trim(line)
			local old = header[name]
			if type(old) == "table" then
				old[#old] = old[#old] .. " " .. more
			else
				header[name] = old .. " " .. more
			end
		else
			local key, value = line:match "^([^%s:]+):(.*)$"
			if not key then
				return
			end
			name = key:lower()
			append(header, name, trim(value))
		end
	end
	return header
end

-- A read position over buffered data: parsing many small chunks out of a large buffer
-- moves the position instead of copying what is left each time.
local function cursor(read, data)
	return { read = read, data = data, pos = 1 }
end

-- The next line ending in CRLF, or nil if none comes within `limit` bytes.
local function cursor_line(c, limit)
	local from = c.pos
	while true do
		local data = c.data
		local e = data:find("\r\n", from, true)
		if e then
			local line = data:sub(c.pos, e - 1)
			c.pos = e + 2
			return line
		end
		if #data - c.pos + 1 > limit then
			return
		end
		data = data:sub(c.pos)
		-- a CR at the end may be followed by the LF still to come
		from = #data > 1 and #data or 1
		c.data, c.pos = data .. c.read(), 1
	end
end

-- The next n bytes.
local function cursor_take(c, n)
	local data, pos = c.data, c.pos
	local avail = #data - pos + 1
	if avail >= n then
		c.pos = pos + n
		return data:sub(pos, pos + n - 1)
	end
	local out = data:sub(pos) .. c.read(n - avail)
	c.data, c.pos = "", 1
	return out
end

local function cursor_rest(c)
	return c.data:sub(c.pos)
end

-- The size of the next chunk (extensions ignored), or nil if the size line is invalid.
local function chunksize(c)
	local line = cursor_line(c, SIZE_LINE_LIMIT)
	if not line then
		return
	end
	local hex, tail = line:match "^(%x+)(.*)$"
	if not hex or #hex > 12 or not (tail == "" or tail:find "^[ \t]*;" or tail:find "^[ \t]*$") then
		return
	end
	return tonumber(hex, 16)
end

-- The data of the next chunk: "" after the last one (its trailer fields are added to
-- `header`), nil and "limit" or "format" when it cannot be read.
local function nextchunk(c, header, limit)
	local size = chunksize(c)
	if not size then
		return nil, "format"
	end
	if size == 0 then
		local trailer = {}
		local rest = M.recvheader(c.read, trailer, cursor_rest(c))
		if not rest then
			return nil, "limit"
		end
		c.data, c.pos = rest, 1
		if not M.parseheader(trailer, 1, header) then
			return nil, "format"
		end
		return ""
	end
	if limit and size > limit then
		return nil, "limit"
	end
	local piece = cursor_take(c, size)
	if cursor_take(c, 2) ~= "\r\n" then
		return nil, "format"
	end
	return piece
end

-- Reads a chunked body, `data` being what followed the header. Trailer fields are added
-- to `header`. Returns body, header and the bytes after the message; on failure nil and
-- "limit" (more than `bodylimit` bytes) or "format".
function M.recvchunkedbody(read, bodylimit, header, data)
	local c = cursor(read, data)
	local parts = {}
	local total = 0
	while true do
		local piece, why = nextchunk(c, header, bodylimit and bodylimit - total)
		if not piece then
			return nil, why
		end
		if piece == "" then
			break
		end
		total = total + #piece
		parts[#parts + 1] = piece
	end
	return table.concat(parts), header, cursor_rest(c)
end

-- The value of a single-valued header as a lowercase string; false if it was repeated.
local function single(header, name)
	local v = header[name]
	if v == nil then
		return nil
	end
	if type(v) ~= "string" then
		return false
	end
	return v:lower()
end
M.single = single

-- A Content-Length value as a number, or nil when it is not a plain decimal.
local function content_length(v)
	if type(v) ~= "string" or not v:find "^%s*%d+%s*$" or #v > 18 then
		return nil
	end
	return tonumber(v)
end
M.content_length = content_length

local function header_lines(out, header, skip)
	for k, v in pairs(header) do
		if not (skip and skip[k:lower()]) then
			if type(v) == "table" then
				for _, item in ipairs(v) do
					out[#out + 1] = string.format("%s: %s\r\n", k, item)
				end
			else
				out[#out + 1] = string.format("%s: %s\r\n", k, v)
			end
		end
	end
end
M.header_lines = header_lines

local OURS = { ["content-length"] = true, ["transfer-encoding"] = true }
local BODY_METHODS = { POST = true, PUT = true, PATCH = true }
-- Small bodies go out with the header in one write.
local JOIN_LIMIT = 16384

-- Sends a request and reads the response's status line and header (fields go into
-- `recvheader` when given). `content` is a string, or a function returning the next piece
-- (nil at the end) to send a chunked body. Returns status code, the bytes read past the
-- header, and the header table.
function M.request(interface, method, host, url, recvheader, header, content)
	local read, write = interface.read, interface.write
	local out = { string.format("%s %s HTTP/1.1\r\n", method, url) }
	local has_host, user_framing = false, false
	if header then
		for k in pairs(header) do
			local lk = k:lower()
			if lk == "host" then
				has_host = true
			elseif lk == "transfer-encoding" then
				user_framing = true
			end
		end
	end
	if not has_host then
		out[#out + 1] = string.format("host: %s\r\n", host)
	end
	local ctype = type(content)
	if header then
		-- a caller who set Transfer-Encoding frames the content itself
		header_lines(out, header, not user_framing and content ~= nil and OURS or nil)
	end
	if ctype == "function" and not user_framing then
		out[#out + 1] = "transfer-encoding: chunked\r\n\r\n"
		write(table.concat(out))
		while true do
			local piece = content()
			if piece == nil then
				break
			end
			if #piece > 0 then
				write(string.format("%x\r\n%s\r\n", #piece, piece))
			end
		end
		write "0\r\n\r\n"
	elseif ctype == "function" then
		out[#out + 1] = "\r\n"
		write(table.concat(out))
		for piece in content do
			write(piece)
		end
	elseif content ~= nil then
		if not user_framing then
			out[#out + 1] = string.format("content-length: %d\r\n", #content)
		end
		out[#out + 1] = "\r\n"
		if #content <= JOIN_LIMIT then
			out[#out + 1] = content
			write(table.concat(out))
		else
			write(table.concat(out))
			write(content)
		end
	else
		if BODY_METHODS[method] then
			out[#out + 1] = "content-length: 0\r\n"
		end
		out[#out + 1] = "\r\n"
		write(table.concat(out))
	end

	local data = ""
	while true do
		local lines = {}
		data = M.recvheader(read, lines, data)
		if not data then
			error "Recv header failed"
		end
		local code = lines[1] and lines[1]:match "^HTTP/%d+%.%d+%s+(%d%d%d)"
		if not code then
			error "Invalid HTTP response status line"
		end
		code = tonumber(code)
		if code ~= 100 then
			local got = M.parseheader(lines, 2, recvheader or {})
			if not got then
				error "Invalid HTTP response header"
			end
			return code, data, got
		end
		-- an interim "100 Continue": the real answer follows
	end
end

local function transfer_mode(header)
	local mode = single(header, "transfer-encoding")
	if mode == nil or mode == "identity" then
		return "identity"
	elseif mode == "chunked" then
		return "chunked"
	end
	error "Unsupport transfer-encoding"
end

local function nobody(code)
	return code == 204 or code == 304 or code < 200
end

-- Reads the rest of a response body after M.request; returns it.
function M.response(interface, code, data, header)
	if transfer_mode(header) == "chunked" then
		local body = M.recvchunkedbody(interface.read, nil, header, data)
		if not body then
			error "Invalid response body"
		end
		return body
	end
	local length = header["content-length"]
	if length ~= nil then
		length = content_length(length)
		if not length then
			error "Invalid response body"
		end
		if #data >= length then
			return data:sub(1, length)
		end
		return data .. interface.read(length - #data)
	end
	if nobody(code) then
		return ""
	end
	-- no framing: the body ends when the server closes
	return data .. (interface.readall() or "")
end

---------------------------------------------------------------- streamed responses

-- A stream yields the body piece by piece: `stream()` (or `for piece in stream`) returns
-- the next piece and the stream, nil at the end. It yields at least once (maybe ""), so a
-- loop over it always sees the status and header. `connected` becomes nil after a clean
-- end and false when the message broke off.
local stream = {}
stream.__index = stream

function stream:close()
	local onclose = self._onclose
	if onclose then
		self._onclose = nil
		onclose(self)
	end
end

local function finish(self, clean)
	self.connected = (not clean) and false or nil
	self._reading = nil
	self:close()
end

function stream:padding()
	local reading = self._reading
	if not reading then
		return nil, self
	end
	local ok, piece = pcall(reading, self)
	if not ok then
		finish(self, false)
		piece = nil
	end
	if piece == nil and not self._yielded then
		piece = ""
	end
	self._yielded = true
	return piece, self
end

stream.__call = stream.padding
stream.__close = stream.close

local function read_length(remain)
	return function(self)
		local data = self._body
		self._body = nil
		if data == nil or data == "" then
			if remain == 0 then
				finish(self, true)
				return
			end
			data = self._interface.read()
		end
		if #data >= remain then
			data = data:sub(1, remain)
			remain = 0
			finish(self, true)
			return data
		end
		remain = remain - #data
		return data
	end
end

local function read_until_close(self)
	local data = self._body
	self._body = nil
	if data ~= nil and data ~= "" then
		return data
	end
	local ok, more = pcall(self._interface.read)
	if ok and more ~= "" then
		return more
	end
	finish(self, true)
end

local function read_chunked(self)
	local c = self._cursor
	if not c then
		c = cursor(self._interface.read, self._body)
		self._cursor, self._body = c, nil
	end
	local piece = nextchunk(c, self.header)
	if piece == nil then
		finish(self, false)
		return
	end
	if piece == "" then
		finish(self, true)
		return
	end
	return piece
end

local function read_nothing(self)
	finish(self, true)
end

-- Wraps the rest of a response (after M.request) in a stream object.
function M.response_stream(interface, code, data, header)
	local reading
	if transfer_mode(header) == "chunked" then
		reading = read_chunked
	else
		local length = header["content-length"]
		if length ~= nil then
			length = content_length(length)
			if not length then
				error "Invalid response body"
			end
			reading = read_length(length)
		elseif nobody(code) then
			reading = read_nothing
		else
			reading = read_until_close
		end
	end
	return setmetatable({
		status = code,
		header = header,
		connected = true,
		_body = data,
		_interface = interface,
		_reading = reading,
	}, stream)
end

return M

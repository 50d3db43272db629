-- A small web server: a listener hands each connection to one of 20 agents, which
-- answers one request with a description of it (host, path, query, header, body).
--   start = "simpleweb [port [protocol]]"    defaults: 8001 and http
-- For "https" the agents load certfile/keyfile from the config (default
-- ./server-cert.pem and ./server-key.pem), e.g. made with
--   openssl req -x509 -newkey rsa:2048 -days 3650 -nodes -keyout server-key.pem -out server-cert.pem
local skynet = require "skynet"
local socket = require "skynet.socket"
local httpd = require "http.httpd"
local sockethelper = require "http.sockethelper"
local urllib = require "http.url"

local mode = ...
local AGENTS = 20
-- request bodies above this size are refused with 413 (nil would accept any size)
local BODY_LIMIT = 8192

local function agent_main(protocol)
	local server_ctx

	local function open(id)
		if protocol == "http" then
			return {
				read = sockethelper.readfunc(id),
				write = sockethelper.writefunc(id),
			}
		elseif protocol ~= "https" then
			error("Invalid protocol: " .. tostring(protocol))
		end
		local tls = require "http.tlshelper"
		if not server_ctx then
			server_ctx = tls.newctx()
			server_ctx:set_cert(skynet.getenv "certfile" or "./server-cert.pem",
				skynet.getenv "keyfile" or "./server-key.pem")
		end
		local session = tls.newtls("server", server_ctx)
		return {
			init = tls.init_responsefunc(id, session),
			close = tls.closefunc(session),
			read = tls.readfunc(id, session),
			write = tls.writefunc(id, session),
		}
	end

	local function describe(url, header, body)
		local out = {}
		if header.host then
			out[#out + 1] = "host: " .. header.host
		end
		local path, query = urllib.parse(url)
		out[#out + 1] = "path: " .. path
		for k, v in pairs(urllib.parse_query(query)) do
			if type(v) == "table" then
				v = table.concat(v, ", ")
			end
			out[#out + 1] = string.format("query: %s= %s", k, v)
		end
		out[#out + 1] = "-----header----"
		for k, v in pairs(header) do
			if type(v) == "table" then
				v = table.concat(v, ", ")
			end
			out[#out + 1] = string.format("%s = %s", k, v)
		end
		out[#out + 1] = "-----body----\n" .. body
		return table.concat(out, "\n")
	end

	local function serve(id)
		socket.start(id)
		local conn = open(id)
		if conn.init then
			conn.init()
		end
		local code, url, _, header, body = httpd.read_request(conn, BODY_LIMIT)
		local answer
		if not code then
			if url == sockethelper.socket_error then
				skynet.error("socket closed")
			else
				skynet.error(url)
			end
		elseif code ~= 200 then
			answer = { code }
		else
			answer = { code, describe(url, header, body) }
		end
		if answer then
			local ok, err = httpd.write_response(conn.write, answer[1], answer[2])
			if not ok then
				skynet.error(string.format("fd = %d, %s", id, err))
			end
		end
		socket.close(id)
		if conn.close then
			conn.close()
		end
	end

	skynet.start(function()
		skynet.dispatch("lua", function(_, _, id)
			local ok, err = pcall(serve, id)
			if not ok then
				skynet.error(err)
				socket.close(id)
			end
		end)
	end)
end

local function listener_main(port, protocol)
	port = math.tointeger(tonumber(port)) or 8001
	protocol = protocol or "http"
	skynet.start(function()
		local agents = {}
		for i = 1, AGENTS do
			agents[i] = skynet.newservice(SERVICE_NAME, "agent", protocol)
		end
		local next_agent = 1
		local id = socket.listen("0.0.0.0", port)
		skynet.error(string.format("Listen web port %d protocol:%s", port, protocol))
		socket.start(id, function(fd, addr)
			local agent = agents[next_agent]
			skynet.error(string.format("%s connected, pass it to agent :%08x", addr, agent))
			skynet.send(agent, "lua", fd)
			next_agent = next_agent % #agents + 1
		end)
	end)
end

if mode == "agent" then
	agent_main(select(2, ...))
else
	listener_main(...)
end

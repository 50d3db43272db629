-- Runs Lua code sent with the debug command RUN (debug_console `inject`) inside a
-- service. The code sees the service's state through two tables:
--   _U[name]: every table reachable as an upvalue of the given functions
--   _P[protocol][name]: the tables among the upvalues of each protocol's dispatch
-- and its print() output is collected and returned.

-- Adds to `into` every table upvalue of f, following function upvalues once each.
local function gather_tables(into, f, visited)
	local i = 1
	while true do
		local name, v = debug.getupvalue(f, i)
		if name == nil then
			return
		end
		local kind = type(v)
		if kind == "table" then
			into[name] = v
		elseif kind == "function" and not visited[v] then
			visited[v] = true
			gather_tables(into, v, visited)
		end
		i = i + 1
	end
end

return function(skynet, source, filename, args, ...)
	local output = {}
	local function print(...)
		local n = select("#", ...)
		local parts = { ... }
		for i = 1, n do
			parts[i] = tostring(parts[i])
		end
		output[#output + 1] = table.concat(parts, "\t", 1, n)
	end

	local visited = {}
	local U = {}
	for _, f in ipairs { ... } do
		gather_tables(U, f, visited)
	end
	local P = {}
	if U.proto then
		for _, class in pairs(U.proto) do
			local name, dispatch = class.name, class.dispatch
			if name and dispatch and not P[name] then
				local t = {}
				P[name] = t
				gather_tables(t, dispatch, visited)
			end
		end
	end

	local env = setmetatable({ print = print, _U = U, _P = P }, { __index = _ENV })
	local chunkname = filename and ("@" .. filename) or "=(load)"
	local chunk, err = load(source, chunkname, "bt", env)
	if not chunk then
		return false, { err }
	end
	local ok, why = skynet.pcall(chunk, table.unpack(args, 1, args.n))
	if not ok then
		output[#output + 1] = why
		return false, output
	end
	return true, output
end

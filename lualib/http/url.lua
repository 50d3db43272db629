-- Splitting and decoding request targets: "/path?k=v&k2=v2".
local string = string
local tonumber = tonumber
local type = type

local url = {}

local function unhex(hex)
	return string.char(tonumber(hex, 16))
end

-- '+' means a space in forms; %XX escapes are decoded, malformed ones kept as they are.
local function decode(s)
	return (s:gsub("%+", " "):gsub("%%(%x%x)", unhex))
end

-- The decoded path and the raw query string ("" when there is none).
function url.parse(u)
	local mark = u:find("?", 1, true)
	if not mark then
		return decode(u), ""
	end
	return decode(u:sub(1, mark - 1)), u:sub(mark + 1)
end

-- A table of decoded fields; a field given several times maps to the list of its values.
-- A field without '=' has the value "".
function url.parse_query(q)
	local fields = {}
	for pair in q:gmatch "[^&]+" do
		local eq = pair:find("=", 1, true)
		local k, v
		if eq then
			k, v = decode(pair:sub(1, eq - 1)), decode(pair:sub(eq + 1))
		else
			k, v = decode(pair), ""
		end
		local old = fields[k]
		if old == nil then
			fields[k] = v
		elseif type(old) == "table" then
			old[#old + 1] = v
		else
			fields[k] = { old, v }
		end
	end
	return fields
end

return url

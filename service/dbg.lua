-- One-shot: sends its arguments as a command to `.launcher` and prints the answer,
-- e.g. `dbg LIST` or `dbg MEM`.

local skynet = require "skynet"

local args = { ... }

local function sorted_keys(t)
	local keys = {}
	for k in pairs(t) do
		keys[#keys + 1] = k
	end
	table.sort(keys, function(a, b)
		return tostring(a) < tostring(b)
	end)
	return keys
end

local function render(value)
	if type(value) ~= "table" then
		return tostring(value)
	end
	local parts = {}
	for _, k in ipairs(sorted_keys(value)) do
		parts[#parts + 1] = string.format("%s:%s", k, tostring(value[k]))
	end
	return table.concat(parts, "\t")
end

skynet.start(function()
	local result = skynet.call(".launcher", "lua", table.unpack(args))
	if type(result) == "table" then
		for _, k in ipairs(sorted_keys(result)) do
			print(k, render(result[k]))
		end
	elseif result ~= nil then
		print(tostring(result))
	end
	skynet.exit()
end)

-- Boots a Lua service: snlua runs this chunk with the launch line "<name> <arg>...".
-- It finds the service's file on LUA_SERVICE, sets up package paths, runs the
-- optional preload and finally the service's main chunk with the remaining words.

local words = {}
for w in string.gmatch(..., "%S+") do
	words[#words + 1] = w
end

local name = words[1]
SERVICE_NAME = name

local function find_service(templates)
	local reasons = {}
	for template in string.gmatch(templates, "[^;]+") do
		local path = string.gsub(template, "?", name)
		local chunk, why = loadfile(path)
		if chunk then
			return chunk, template
		end
		reasons[#reasons + 1] = why
	end
	error(table.concat(reasons, "\n"))
end

local main, template = find_service(LUA_SERVICE)

package.path = LUA_PATH
package.cpath = LUA_CPATH
LUA_SERVICE, LUA_PATH, LUA_CPATH = nil, nil, nil

-- A template like "dir/?/main.lua" gives each service its own directory, whose
-- modules the service may require directly.
local own_dir = string.match(template, "^(.*/)[^/?]+$")
if own_dir then
	own_dir = string.gsub(own_dir, "?", name)
	package.path = own_dir .. "?.lua;" .. package.path
	SERVICE_PATH = own_dir
else
	SERVICE_PATH = string.match(template, "^(.*/).+$")
end

if LUA_PRELOAD then
	local preload = assert(loadfile(LUA_PRELOAD))
	preload(table.unpack(words))
	LUA_PRELOAD = nil
end

_G.require = (require "skynet.require").require

main(table.unpack(words, 2))

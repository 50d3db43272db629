-- client.crypt from luaclib/client.so in the stand-alone interpreter, as client scripts
-- (examples/login/client.lua) use it: lua tests/lua/client_crypt.lua <skynet root>
local root = assert(arg[1], "usage: client_crypt.lua <skynet root>")
package.cpath = root .. "/luaclib/?.so"
package.path = root .. "/tests/lua/?.lua;" .. package.path

local crypt = require "client.crypt"
local cases = require "crypt_cases"

local ok, failed = pcall(cases.run, crypt)
if not ok then
	failed = { "error: " .. tostring(failed) }
end
for _, what in ipairs(failed) do
	print("TEST client_crypt FAIL: " .. what)
end
if #failed > 0 then
	os.exit(1)
end
print("TEST client_crypt PASS")

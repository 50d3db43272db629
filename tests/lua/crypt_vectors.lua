-- skynet.crypt inside a service: every case of crypt_cases.lua.
local skynet = require "skynet"
require "skynet.manager"	-- skynet.abort
local crypt = require "skynet.crypt"
local cases = require "crypt_cases"

skynet.start(function()
	-- an unexpected error counts as a failure, and the node still ends
	local ok, failed = pcall(cases.run, crypt)
	if not ok then
		failed = { "error: " .. tostring(failed) }
	end
	for _, what in ipairs(failed) do
		skynet.error("TEST crypt_vectors FAIL: " .. what)
	end
	if #failed == 0 then
		skynet.error("TEST crypt_vectors PASS")
	end
	skynet.abort()
end)

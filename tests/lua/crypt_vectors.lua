-- skynet.crypt inside a service: every case of crypt_cases.lua.
local skynet = require "skynet"
local crypt = require "skynet.crypt"
local cases = require "crypt_cases"

local T = require "testcase" "crypt_vectors"

skynet.start(function()
	-- an unexpected error counts as a failure, and the node still ends
	local ok, failed = pcall(cases.run, crypt)
	T.check(ok, "error:", tostring(failed))
	for _, what in ipairs(ok and failed or {}) do
		T.check(false, what)
	end
	T.finish()
end)

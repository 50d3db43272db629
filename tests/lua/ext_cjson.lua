-- Loads Debian's lua-cjson and lua-lpeg (built for stock Lua 5.4, by nobody here) into a
-- service: proof that the executable exports the Lua C API those modules link against.
local skynet = require "skynet"
require "skynet.manager"	-- skynet.abort

local function check(cond, what)
	if not cond then
		skynet.error("TEST ext_cjson FAIL: " .. what)
	end
	return cond
end

skynet.start(function()
	local cjson = require "cjson"
	local doc = cjson.decode('{"name":"skynet","list":[1,2,3],"nested":{"ok":true}}')
	check(doc.name == "skynet", "decoded name")
	check(#doc.list == 3 and doc.list[3] == 3, "decoded array")
	check(doc.nested.ok == true, "decoded nested object")
	local back = cjson.decode(cjson.encode(doc))
	check(back.list[2] == 2 and back.nested.ok == true, "encode/decode round trip")
	local ok, err = pcall(cjson.decode, "{broken")
	check(not ok and type(err) == "string", "malformed JSON raises a Lua error")

	local lpeg = require "lpeg"
	local digits = lpeg.C(lpeg.R("09") ^ 1)
	local list = lpeg.Ct(digits * ("," * digits) ^ 0)
	local t = list:match("10,20,30")
	check(t and #t == 3 and t[2] == "20", "lpeg pattern match")

	skynet.error("TEST ext_cjson PASS")
	skynet.abort()
end)

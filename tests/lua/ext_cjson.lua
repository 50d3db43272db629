-- Loads Debian's lua-cjson and lua-lpeg (built for stock Lua 5.4, by nobody here) into a
-- service: proof that the executable exports the Lua C API those modules link against.
local skynet = require "skynet"
local T = require "testcase" "ext_cjson"

skynet.start(function()
	local cjson = require "cjson"
	local doc = cjson.decode('{"name":"skynet","list":[1,2,3],"nested":{"ok":true}}')
	T.check(doc.name == "skynet", "decoded name")
	T.check(#doc.list == 3 and doc.list[3] == 3, "decoded array")
	T.check(doc.nested.ok == true, "decoded nested object")
	local back = cjson.decode(cjson.encode(doc))
	T.check(back.list[2] == 2 and back.nested.ok == true, "encode/decode round trip")
	local ok, err = pcall(cjson.decode, "{broken")
	T.check(not ok and type(err) == "string", "malformed JSON raises a Lua error")

	local lpeg = require "lpeg"
	local digits = lpeg.C(lpeg.R("09") ^ 1)
	local list = lpeg.Ct(digits * ("," * digits) ^ 0)
	local t = list:match("10,20,30")
	T.check(t and #t == 3 and t[2] == "20", "lpeg pattern match")

	T.finish()
end)

-- http.url: splitting targets and decoding query strings.
local skynet = require "skynet"
local urllib = require "http.url"

local NAME = "http_url"
local T = require "testcase" (NAME)
local check = T.check

local function deep_equal(a, b)
	if type(a) ~= type(b) then
		return false
	end
	if type(a) ~= "table" then
		return a == b
	end
	for k, v in pairs(a) do
		if not deep_equal(v, b[k]) then
			return false
		end
	end
	for k in pairs(b) do
		if a[k] == nil then
			return false
		end
	end
	return true
end

local function main()
	-- the path is decoded, the query comes back raw
	local path, query = urllib.parse("/a%20dir/file+name?k=a%20b&x=1")
	check(path == "/a dir/file name", "decoded path", path)
	check(query == "k=a%20b&x=1", "raw query", query)
	path, query = urllib.parse("/plain")
	check(path == "/plain" and query == "", "no query", path, query)
	path, query = urllib.parse("/p?")
	check(path == "/p" and query == "", "empty query", path, query)
	path, query = urllib.parse("/p?a=1?b=2")
	check(path == "/p" and query == "a=1?b=2", "only the first ? splits", path, query)
	path = urllib.parse("/%41%62%zz%4")
	check(path == "/Ab%zz%4", "bad escapes kept", path)

	local cases = {
		{ "k1=1&k2=2", { k1 = "1", k2 = "2" } },
		{ "k4=a%20space&k5=b+space", { k4 = "a space", k5 = "b space" } },
		{ "k=1&k=2&k=3", { k = { "1", "2", "3" } } },
		{ "%6B%65%79=%E4%BD%A0", { key = "\xe4\xbd\xa0" } },
		{ "a=&b=x%3Dy%26z", { a = "", b = "x=y&z" } },
		{ "flag&c=3", { flag = "", c = "3" } },
		{ "", {} },
		{ "&&a=1&&", { a = "1" } },
		{ "e=%2", { e = "%2" } },
	}
	for _, case in ipairs(cases) do
		local got = urllib.parse_query(case[1])
		check(deep_equal(got, case[2]), "parse_query " .. case[1])
	end
	-- upstream's test: a repeated field is a list of its values
	local _, q = urllib.parse("http://baidu.com/get?k1=1&k2=2&k4=a%20space&k5=b%20space&k5=b%20space&k5=b%20space")
	local fields = urllib.parse_query(q)
	check(#fields.k5 == 3 and fields.k5[1] == "b space", "repeated field")
end

skynet.start(function()
	local ok, err = xpcall(main, debug.traceback)
	check(ok, "error", err)
	T.finish()
end)

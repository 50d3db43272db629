-- cmemory prints the C memory use of every service to stdout (the Rust side checks it).
local skynet = require "skynet"
local T = require "testcase" "core_cmemory"

T.run(function()
	T.same(skynet.newservice "cmemory", nil, "cmemory exits at once")
end)

-- cmemory prints the C memory use of every service to stdout (the Rust side checks it).
local skynet = require "skynet"
local t = require "core_check"

t.run("core_cmemory", function()
	t.eq(skynet.newservice "cmemory", nil, "cmemory exits at once")
end)

-- skynet.forward_type and skynet.filter.

local skynet = require "skynet"
require "skynet.manager"
local T = require "testcase" "core_manager"

skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	pack = function(s) return s end,
	unpack = skynet.tostring,
}

T.run(function()
	local fwd = skynet.newservice "core_forward"
	skynet.send(fwd, "text", "one")
	skynet.send(fwd, "text", "two")
	T.same(skynet.call(fwd, "lua", "got"), "one,two", "forward_type maps text to raw")
	T.check(skynet.call(fwd, "debug", "MEM") > 0, "other protocols still dispatched")

	local filt = skynet.newservice "core_filter"
	skynet.send(filt, "text", "hello")
	local seen, notes = skynet.call(filt, "lua", "count")
	T.same(notes, "hello", "filter rewrote the text message")
	T.check(seen >= 2, "filter saw the messages")
end)

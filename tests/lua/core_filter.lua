-- skynet.filter: every message passes through a function first; this one dispatches
-- text messages as the "note" protocol and counts everything.
local skynet = require "skynet"
require "skynet.manager"

local seen = 0
local notes = {}

skynet.register_protocol {
	name = "note",
	id = 102,
	unpack = skynet.tostring,
	dispatch = function(_, _, text)
		notes[#notes + 1] = text
	end,
}

skynet.filter(function(ptype, ...)
	seen = seen + 1
	if ptype == skynet.PTYPE_TEXT then
		return 102, ...
	end
	return ptype, ...
end, function()
	skynet.dispatch("lua", function()
		skynet.retpack(seen, table.concat(notes, ","))
	end)
end)

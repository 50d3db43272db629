-- The example's wire protocol: sproto schemas, compiled to binary when required.
--   c2s: what a client may ask of its agent (examples/agent.lua answers them)
--   s2c: what the agent pushes to its client (no response expected)
-- protoloader.lua puts them in sprotoloader slots 1 and 2 for the agents; clients
-- (examples/client.lua) require this module directly.
local parser = require "sprotoparser"

-- Both directions frame each message with the same header.
local header = [[
.package {
	type 0 : integer
	session 1 : integer
}
]]

return {
	c2s = parser.parse(header .. [[
handshake 1 {
	response {
		msg 0 : string
	}
}

get 2 {
	request {
		what 0 : string
	}
	response {
		result 0 : string
	}
}

set 3 {
	request {
		what 0 : string
		value 1 : string
	}
}

quit 4 {}
]]),
	s2c = parser.parse(header .. [[
heartbeat 1 {}
]]),
}

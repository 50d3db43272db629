-- The schemas of the sproto RPC tests, shared by the node (tests/lua/sproto_rpc.lua,
-- sproto_peer.lua) and the stand-alone client (tests/lua/sproto_cli.lua), which parse them
-- on their own side as examples/proto.lua does.
local schema = {}

-- client to server
schema.c2s = [[
.package {
	type 0 : integer
	session 1 : integer
	ud 2 : string
}

.All {
	i 0 : integer
	b 1 : boolean
	s 2 : string
	bin 3 : binary
	d 4 : double
	fix 5 : integer(2)
	ai 6 : *integer
	ab 7 : *boolean
	as 8 : *string
	ad 9 : *double
	child 10 : All
	children 11 : *All
	byid 12 : *Item(id)
	dict 13 : *Pair()
	far 500 : string
}

.Item {
	id 0 : integer
	name 1 : string
}

.Pair {
	key 0 : string
	value 1 : integer
}

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

echo 5 {
	request All
	response All
}

ping 6 {
	response nil
}
]]

-- server to client
schema.s2c = [[
.package {
	type 0 : integer
	session 1 : integer
	ud 2 : string
}

heartbeat 1 {}

notice 2 {
	request {
		text 0 : string
	}
}
]]

-- A value of .All that uses every field.
function schema.sample()
	return {
		i = -123456789012,
		b = true,
		s = "text",
		bin = "\0\1\2\255",
		d = 0.1,
		fix = -12.34,
		ai = { 0, 1, -1, 0x7fffffff, -0x80000000 },
		ab = { true, false, true },
		as = { "", "a", "bc" },
		ad = { 1.5, -2.25 },
		child = { i = 1, s = "nested", child = { b = false } },
		children = { { i = 2 }, { s = "x" }, {} },
		byid = { [7] = { id = 7, name = "seven" }, [-8] = { id = -8 } },
		dict = { one = 1, two = 2, big = 1 << 40 },
		far = "tag 500",
	}
end

-- Deep equality of decoded values (numbers compare by value).
function schema.same(a, b)
	if type(a) ~= "table" or type(b) ~= "table" then
		return a == b
	end
	for k, v in pairs(a) do
		if not schema.same(v, b[k]) then
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

return schema

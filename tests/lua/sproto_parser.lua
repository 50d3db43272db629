-- sprotoparser: schema binaries byte for byte (as skynet v1.8.0's parser writes them),
-- name resolution, and the errors of bad schemas.
local sproto = require "sproto"
local parser = require "sprotoparser"
local core = require "sproto.core"

local NAME = "sproto_parser"
local T = require "testcase" (NAME)

local function hex(s)
	return (s:gsub(".", function(c)
		return string.format("%02x", c:byte())
	end))
end

-- examples/proto.lua's client-to-server schema
local C2S = [[
.package {
	type 0 : integer
	session 1 : integer
}

handshake 1 {
	response {
		msg 0  : string
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
]]

local C2S_BIN = "020000000000340100002f0000000200000000000b0000006765742e726571756573741600000012000000"
	.. "040000000600010002000400000077686174320000000200000000000c0000006765742e726573706f6e7365"
	.. "18000000140000000400000006000100020006000000726573756c74350000000200000000001200000068"
	.. "616e647368616b652e726573706f6e7365150000001100000004000000060001000200030000006d736744"
	.. "000000020000000000070000007061636b6167652f0000001200000004000000020001000200040000007479"
	.. "706515000000040000000200010004000700000073657373696f6e460000000200000000000b0000007365"
	.. "742e726571756573742d00000012000000040000000600010002000400000077686174130000000400000006"
	.. "00010004000500000076616c75655500000017000000040000000400010006000900000068616e647368616b"
	.. "651100000004000000060002000400030000006765740f0000000300000008000a0003000000736574"
	.. "0e000000020000000a000400000071756974"

-- the schema of sproto's README, comments included
local ADDRESSBOOK = [[
.Person {	# . means a user defined type
    name 0 : string	# string is a build-in type.
    id 1 : integer
    email 2 : string

    .PhoneNumber {	# user defined type can be nest.
        number 0 : string
        type 1 : integer
    }

    phone 3 : *PhoneNumber	# *PhoneNumber means an array of PhoneNumber.
    height 4 : integer(2)	# (2) means a 1/100 fixed-point number.
    data 5 : binary		# Some binary data
    weight 6 : double   # floating number
}

.AddressBook {
    person 0 : *Person(id)	# (id) is optional, means Person.id is main index.
}

foobar 1 {	# define a new protocol (for RPC used) with tag 1
    request Person	# Associate the type Person with foobar.request
    response {	# define the foobar.response type
        ok 0 : boolean
    }
}
]]

local ADDRESSBOOK_BIN = "02000000000078010000350000000200000000000b00000041646472657373426f6f6b1c00000018000000"
	.. "060000000100040002000400040006000000706572736f6eb400000002000000000006000000506572736f6e"
	.. "a00000001200000004000000060001000200040000006e616d65100000000400000002000100040002000000"
	.. "6964130000000400000006000100060005000000656d61696c150000000500000001000600080004000500"
	.. "000070686f6e651400000004000000020006000a0006000000686569676874120000000400000006000400"
	.. "0c0004000000646174611400000004000000080001000e00060000007765696768744e0000000200000000"
	.. "0012000000506572736f6e2e50686f6e654e756d6265722e00000014000000040000000600010002000600"
	.. "00006e756d62657212000000040000000200010004000400000074797065310000000200000000000f0000"
	.. "00666f6f6261722e726573706f6e7365140000001000000004000000040001000200020000006f6b1800"
	.. "0000140000000400000004000400080006000000666f6f626172"

-- a key/value map, a tag gap, fixed-point arrays, "response nil"
local MISC = [[
.KV { k 0 : string v 1 : integer }
.M { kv 0 : *KV() far 40 : integer d 2 : *integer(3) }
ping 7 { response nil }
only 9 { request KV }
]]

local MISC_BIN = "0200000000009100000036000000020000000000020000004b56260000000f000000040000000600010002"
	.. "00010000006b0f00000004000000020001000400010000007653000000020000000000010000004d440000"
	.. "001600000007000000010002000200040002000400020000006b7611000000050000000200080006000400"
	.. "01000000641100000004000000020001005200030000006661722c0000001400000005000000100001000100"
	.. "04000400000070696e67100000000300000014000200040000006f6e6c79"

local function binaries()
	T.same(hex(parser.parse(C2S)), C2S_BIN, "examples/proto.lua c2s binary")
	T.same(hex(parser.parse(ADDRESSBOOK)), ADDRESSBOOK_BIN, "README schema binary")
	T.same(hex(parser.parse(MISC)), MISC_BIN, "map, gap and response nil binary")
	T.same(hex(parser.parse "\n# nothing\n"), "0000", "empty schema")
	local misc = sproto.parse(MISC)
	T.same(hex(misc:encode("M", { far = 1, d = { 1.5, -0.001 } })), "040003000000490004000900000004dc050000ffffffff",
		"tag gap and integer(3) array")
	T.same(hex(misc:encode("M", { kv = { a = 1 } })), "010000000f0000000b0000000200000004000100000061", "map entry")
	local c2s = sproto.parse(C2S)
	local send = c2s:host("package"):attach(c2s)
	T.same(hex(send("get", { what = "x" }, 5)), "5502060c01440178", "packed request with a session")
	T.same(hex(send("quit")), "05010a", "packed request without content")
	T.same(hex(send("set", { what = "a", value = "b" })), "15010802c40161010862", "packed request without session")
end

local function names()
	local sp = sproto.parse [[
		.A {
			.B {
				.C { x 0 : integer }
				c 0 : C
			}
			b 0 : B
			c 1 : B.C
			d 2 : *A.B.C
		}
		.C { y 0 : string }
		.D { c 0 : C  ac 1 : A.B.C }
		p 10 { request A.B response A.B.C }
		q 9 { request { .In { z 0 : integer } i 0 : In  c 1 : C } response D }
	]]
	for _, t in ipairs { "A", "A.B", "A.B.C", "C", "D", "q.request", "q.request.In" } do
		T.check(sp:exist_type(t), "type", t)
	end
	local d = sp:default "A.B"
	T.same(d.c.__type, "A.B.C", "a nested name resolves to the innermost scope")
	T.same(sp:default("D").c.__type, "C", "a top-level name from outside")
	T.same(sp:default("q", "REQUEST").c.__type, "C", "an inline request sees top-level types")
	T.same(sp:default("q", "REQUEST").i.__type, "q.request.In", "an inline request's own nested type")
	local bin, tag = sp:request_encode("p", { c = { x = 5 } })
	T.same(tag, 10, "protocol tag")
	T.same(sp:request_decode("p", bin).c.x, 5, "request of a nested type")
	-- what the reference parser lets through: a (name) after a field that is not an array
	T.check(pcall(parser.parse, ".A { b 0 : B(x) } .B { x 0 : integer }"), "(name) on a plain field is ignored")
	T.check(pcall(parser.parse, ".A{a 0:integer b 1:*A}.B{}"), "no blanks needed around punctuation")
end

-- { schema, the error text (nil: not checked) }
local ERRORS = {
	{ ".A { a 0 : integer a 1 : string }", "redefine a in type A" },
	{ ".A { a 0 : integer b 0 : string }", "redefine tag 0 in type A" },
	{ ".A {} .A {}", "redefined A" },
	{ "foo 1 {} foo 2 {}", "redefined foo" },
	{ "foo 1 {} bar 1 {}", "redefined protocol tag 1 at" },
	{ "foo 1 { request X }", "Undefined request type X in protocol foo" },
	{ "foo 1 { response X }", "Undefined response type X in protocol foo" },
	{ ".A { .B {} .B {} }", "redefined A.B" },
	{ ".A { b 0 : Nope }", "Undefined type Nope in type A" },
	{ ".A { b 0 : *Nope }", "Undefined type Nope in type A" },
	{ ".A { b 0 : *B() } .B { x 0 : integer }", "Invalid map definition: b, must only have two fields" },
	{ ".A { b 0 : *B() } .B { x 0 : integer y 1 : integer z 2 : integer }", "Invalid map definition: b, must only have two fields" },
	{ ".A { b 0 : *B(y) } .B { x 0 : integer }", "Invalid map index :y" },
	{ ".A { b 0 : *B(c) } .B { x 0 : integer c 1 : C } .C {}", "Invalid map index :c" },
	{ ".A { b 0 : *B() } .B { c 0 : C x 1 : integer } .C {}", "Invalid map index :c" },
	{ ".A { b 0 : *B(2) } .B { x 0 : integer }", "Invalid map index :2" },
	{ "foo 1 { request A request A } .A {}", "redefine request in protocol foo" },
	{ "foo 1 { response { x 0 : integer } response nil }", "redefine response in protocol foo" },
	{ ".A { a 0 : *integer(id) }", "Invalid decimal" },
	-- syntax errors name the line the parser stopped at
	{ ".A { a 0 integer }", "syntax error at [=text] line (1)" },
	{ ".A { a : integer }", "syntax error at [=text] line (1)" },
	{ ".A { a 0 : integer\n b 1 : string\n c x : integer\n }", "syntax error at [=text] line (3)" },
	{ ".A {\n a 0 : integer\n\n", "syntax error at [=text] line (4)" },
	{ ".A {\n a 0 : integer\n}\n\n$", "syntax error at [=text] line (5)" },
	{ "\n\n.A { a 0 : * integer }", "syntax error at [=text] line (3)" },
	{ ".A {\n a 0 : integer (2)\n}", "syntax error at [=text] line (2)" },
	{ "# comment\n.A {\n a 0 : integer\n b 1 : foo bar\n}", "syntax error at [=text] line (5)" },
	{ "foo 1 {\n reply A\n}", "syntax error at [=text] line (2)" },
	{ "foo x {}", "syntax error at [=text] line (1)" },
	{ ". A {}", "syntax error at [=text] line (1)" },
	{ ".A.B {}", "syntax error at [=text] line (1)" },
	{ ".A { a.b 0 : integer }", "syntax error at [=text] line (1)" },
	{ "foo 1 { request }", "syntax error at [=text] line (1)" },
	{ "\n\n\n}", "syntax error at [=text] line (4)" },
	{ ".A {\r\n a 0 : integer\r\n b x\r\n}", "syntax error at [=text] line (3)" },
	{ ".A { a 99999999999 : integer }", "syntax error" },
}

local function errors()
	for _, case in ipairs(ERRORS) do
		T.raises(case[2], "schema " .. case[1]:gsub("\n", "\\n"), parser.parse, case[1])
	end
	T.raises("syntax error at [proto.sproto] line (2)", "the chunk name in syntax errors", parser.parse, ".A {\n}}", "proto.sproto")
	T.raises("Undefined type Nope", "sproto.parse raises the parser's errors", sproto.parse, ".A { b 0 : Nope }")
	-- schema binaries that are not: newproto says why, sproto.new raises it
	local sp, why = core.newproto("\1\0\0\0\5\0\0\0abc")
	T.check(sp == nil and why:find("invalid sproto schema", 1, true), "newproto of a broken binary", why)
	T.raises("invalid sproto schema", "sproto.new of a broken binary", sproto.new, "\1\0")
	T.raises("invalid sproto schema", "sproto.new of a truncated binary", sproto.new, parser.parse(C2S):sub(1, -3))
	T.raises("bad argument #1", "newproto of a number", core.newproto, {})
end

local function dump()
	local lines = {}
	local saved = print
	print = function(...)
		lines[#lines + 1] = table.concat({ ... }, " ")
	end
	local ok, err = pcall(parser.dump, "\0\1\2\3\4\5\6\7\8\9\10\11\12\13\14\15\255")
	print = saved
	T.check(ok, "dump", err)
	T.same(lines[1], "00 01 02 03 04 05 06 07 - 08 09 0A 0B 0C 0D 0E 0F ", "dump's first line")
	T.same(lines[2], "FF ", "dump's second line")
	T.same(#lines, 2, "dump's lines")
end

T.run(function()
	binaries()
	names()
	errors()
	dump()
end)

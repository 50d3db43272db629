-- sprotoparser: compiles sproto schema text into the binary that sproto.core loads.
--   parser.parse(text [, chunkname])  the schema binary (a string)
--   parser.dump(binary)               prints a hex dump of a string
-- A hand-written scanner and recursive-descent parser (no lpeg). The binary is the
-- schema described in sproto's own language (.group of .type and .protocol records),
-- types sorted by name, protocols by tag.
local string = string
local table = table

local parser = {}

local BUILTIN = { integer = 0, boolean = 1, string = 2, binary = 2, double = 3 }

---------------------------------------------------------------- scanner

local WORD = "^[A-Za-z_][A-Za-z0-9_]*"
local DOTWORD = "^%.[A-Za-z_][A-Za-z0-9_]*"
local SINGLE = { ["."] = true, ["{"] = true, ["}"] = true, [":"] = true, ["*"] = true, ["("] = true, [")"] = true }

local function syntax_error(chunk, line)
	error(string.format("syntax error at [%s] line (%d)", chunk, line))
end

-- Tokens: { kind = "name" | "number" | one of SINGLE | "eof", text, line, at, stop }.
-- A name may hold dots ("Person.Phone") when nothing separates its words.
local function scan(text, chunk)
	local tokens = {}
	local at, line = 1, 1
	local size = #text
	while at <= size do
		local c = text:sub(at, at)
		if c == "\n" then
			line = line + 1
			at = at + 1
		elseif c == " " or c == "\t" or c == "\r" then
			at = at + 1
		elseif c == "#" then
			at = text:find("\n", at, true) or size + 1
		else
			local kind
			local _, stop = text:find(WORD, at)
			if stop then
				kind = "name"
				while true do
					local _, more = text:find(DOTWORD, stop + 1)
					if not more then
						break
					end
					stop = more
				end
			else
				_, stop = text:find("^%d+", at)
				if stop then
					kind = "number"
				elseif SINGLE[c] then
					kind, stop = c, at
				else
					syntax_error(chunk, line)
				end
			end
			tokens[#tokens + 1] = { kind = kind, text = text:sub(at, stop), line = line, at = at, stop = stop }
			at = stop + 1
		end
	end
	tokens[#tokens + 1] = { kind = "eof", text = "", line = line, at = size + 1, stop = size }
	return tokens
end

---------------------------------------------------------------- parser

-- The syntax tree:
--   type     { is = "type", name, items = { field | type ... } }
--   field    { is = "field", name, tag, array, typename, paren }   paren: text inside (), or nil
--   protocol { is = "protocol", name, tag, parts = { { which, typename | items } ... } }

local Reader = {}
Reader.__index = Reader

function Reader:peek()
	return self.tokens[self.pos]
end

function Reader:fail()
	syntax_error(self.chunk, self.tokens[self.pos].line)
end

function Reader:take(kind)
	local t = self.tokens[self.pos]
	if t.kind ~= kind then
		self:fail()
	end
	self.pos = self.pos + 1
	return t
end

-- The next token, which must start right where the previous one ended.
function Reader:take_adjacent(kind)
	local prev = self.tokens[self.pos - 1]
	if self.tokens[self.pos].at ~= prev.stop + 1 then
		self:fail()
	end
	return self:take(kind)
end

-- A plain name (no dots).
function Reader:word(adjacent)
	local t = adjacent and self:take_adjacent "name" or self:take "name"
	if t.text:find(".", 1, true) then
		self.pos = self.pos - 1
		self:fail()
	end
	return t.text
end

function Reader:tag()
	local t = self:take "number"
	local n = math.tointeger(tonumber(t.text))
	if not n or n > 0x7fffffff then
		self.pos = self.pos - 1
		self:fail()
	end
	return n
end

local read_items

-- ".Name { items }", the dot already taken.
local function read_type(r)
	local name = r:word(true)
	return { is = "type", name = name, items = read_items(r) }
end

-- "name tag : [*]typename[(paren)]"
local function read_field(r)
	local f = { is = "field" }
	f.name = r:word()
	f.tag = r:tag()
	r:take ":"
	if r:peek().kind == "*" then
		r:take "*"
		f.array = true
		f.typename = r:take_adjacent("name").text
	else
		f.typename = r:take("name").text
	end
	if r:peek().kind == "(" and r:peek().at == r.tokens[r.pos - 1].stop + 1 then
		r:take "("
		local k = r:peek().kind
		if k == "name" then
			f.paren = r:word()
		elseif k == "number" then
			f.paren = r:take("number").text
		else
			f.paren = ""
		end
		r:take ")"
	end
	return f
end

-- "{ (field | .type)* }"
function read_items(r)
	local items = {}
	r:take "{"
	while true do
		local k = r:peek().kind
		if k == "}" then
			break
		elseif k == "." then
			r:take "."
			items[#items + 1] = read_type(r)
		elseif k == "name" then
			items[#items + 1] = read_field(r)
		else
			r:fail()
		end
	end
	r:take "}"
	return items
end

-- "name tag { (request|response (typename | { items }))* }"
local function read_protocol(r)
	local p = { is = "protocol", parts = {} }
	p.name = r:word()
	p.tag = r:tag()
	r:take "{"
	while r:peek().kind ~= "}" do
		local which = r:word()
		if which ~= "request" and which ~= "response" then
			r.pos = r.pos - 1
			r:fail()
		end
		local part = { which = which }
		if r:peek().kind == "{" then
			part.items = read_items(r)
		else
			part.typename = r:take("name").text
		end
		p.parts[#p.parts + 1] = part
	end
	r:take "}"
	return p
end

local function read_schema(text, chunk)
	local r = setmetatable({ tokens = scan(text, chunk), pos = 1, chunk = chunk }, Reader)
	local top = {}
	while r:peek().kind ~= "eof" do
		local k = r:peek().kind
		if k == "." then
			r:take "."
			top[#top + 1] = read_type(r)
		elseif k == "name" then
			top[#top + 1] = read_protocol(r)
		else
			r:fail()
		end
	end
	return top
end

---------------------------------------------------------------- meaning

-- types[fullname] = { fields sorted by tag }, each { name, tag, array, typename, paren }
local function define_type(types, fullname, items)
	local fields, names, tags = {}, {}, {}
	for _, item in ipairs(items) do
		if item.is == "field" then
			if names[item.name] then
				error(string.format("redefine %s in type %s", item.name, fullname))
			end
			names[item.name] = true
			if tags[item.tag] then
				error(string.format("redefine tag %d in type %s", item.tag, fullname))
			end
			tags[item.tag] = true
			fields[#fields + 1] = item
		else
			local nested = fullname .. "." .. item.name
			if types[nested] ~= nil then
				error("redefined " .. nested, 0)
			end
			types[nested] = define_type(types, nested, item.items)
		end
	end
	table.sort(fields, function(a, b) return a.tag < b.tag end)
	return fields
end

-- { tag, request = typename, response = typename, confirm = true (for "response nil") }
local function define_protocol(types, p)
	local result = { tag = p.tag }
	for _, part in ipairs(p.parts) do
		local which = part.which
		if result[which] ~= nil then
			error(string.format("redefine %s in protocol %s", which, p.name))
		end
		local typename = part.typename
		if part.items then
			typename = p.name .. "." .. which
			types[typename] = define_type(types, typename, part.items)
		end
		if typename == "nil" then
			if which == "response" then
				result.confirm = true
			end
		else
			result[which] = typename
		end
	end
	return result
end

-- The full name a field's type refers to, seen from type `scope`: the nearest enclosing
-- scope that defines it, or nil.
local function resolve(types, scope, name)
	if BUILTIN[name] then
		return name
	end
	while scope do
		local full = scope .. "." .. name
		if types[full] then
			return full
		end
		scope = scope:match "^(.+)%.[^.]+$"
	end
	if types[name] then
		return name
	end
end

local function sorted_keys(t)
	local keys = {}
	for k in pairs(t) do
		keys[#keys + 1] = k
	end
	table.sort(keys)
	return keys
end

local function build(top)
	local types, protocols, order = {}, {}, {}
	for _, item in ipairs(top) do
		if item.is == "type" then
			if types[item.name] ~= nil then
				error("redefined " .. item.name, 0)
			end
			types[item.name] = define_type(types, item.name, item.items)
		else
			if protocols[item.name] ~= nil then
				error("redefined " .. item.name, 0)
			end
			protocols[item.name] = define_protocol(types, item)
			order[#order + 1] = item.name
		end
	end
	local bytag = {}
	for _, name in ipairs(order) do
		local p = protocols[name]
		if bytag[p.tag] then
			error(string.format("redefined protocol tag %d at %s", p.tag, name))
		end
		if p.request and not types[p.request] then
			error(string.format("Undefined request type %s in protocol %s", p.request, name))
		end
		if p.response and not types[p.response] then
			error(string.format("Undefined response type %s in protocol %s", p.response, name))
		end
		bytag[p.tag] = name
	end
	for _, typename in ipairs(sorted_keys(types)) do
		for _, f in ipairs(types[typename]) do
			local full = resolve(types, typename, f.typename)
			if full == nil then
				error(string.format("Undefined type %s in type %s", f.typename, typename))
			end
			f.typename = full
		end
	end
	return types, protocols
end

---------------------------------------------------------------- binary

-- One encoded record: `entries` lists { tag, value } by ascending tag, where a value is
-- a boolean, an integer or a string (data-part bytes). Each missing tag gets its own
-- skip entry, as the reference parser writes them.
local function record(entries)
	local head, data = {}, {}
	local nexttag = 0
	for _, e in ipairs(entries) do
		local tag, v = e[1], e[2]
		for _ = nexttag + 1, tag do
			head[#head + 1] = 1
		end
		if type(v) == "boolean" then
			v = v and 1 or 0
		end
		if type(v) == "string" then
			head[#head + 1] = 0
			data[#data + 1] = string.pack("<s4", v)
		elseif v >= 0 and v <= 0x7ffe then
			head[#head + 1] = (v + 1) * 2
		else
			head[#head + 1] = 0
			data[#data + 1] = string.pack("<I4i4", 4, v)
		end
		nexttag = tag + 1
	end
	local out = { string.pack("<I2", #head) }
	for i, n in ipairs(head) do
		out[i + 1] = string.pack("<I2", n)
	end
	return table.concat(out) .. table.concat(data)
end

-- The data-part bytes of an array of records.
local function records(list)
	local out = {}
	for i, r in ipairs(list) do
		out[i] = string.pack("<s4", r)
	end
	return table.concat(out)
end

local function decimal_of(f, typename)
	local digits = math.tointeger(tonumber(f.paren))
	if not digits then
		error(string.format("Invalid decimal (%s) of %s in type %s", f.paren, f.name, typename))
	end
	return digits
end

-- The tag of the field that keys the array f (of struct type sub), and whether it is a map.
local function index_of(f, sub, typename)
	if not f.array then
		error(string.format("Invalid main index (%s) of %s in type %s: not an array", f.paren, f.name, typename))
	end
	local key, map = f.paren, false
	if sub and key == "" then
		map = true
		if #sub ~= 2 then
			error(string.format("Invalid map definition: %s, must only have two fields", f.name))
		end
		key = sub[1].name
	end
	local target
	for _, sf in ipairs(sub or {}) do
		if sf.name == key then
			target = sf
		end
	end
	if not target or not BUILTIN[target.typename] then
		error("Invalid map index :" .. key)
	end
	return target.tag, map
end

local function field_record(f, typename, types, ids)
	local entries = { { 0, f.name } }
	local buildin = BUILTIN[f.typename]
	local paren = f.paren
	if paren and not f.array and not paren:find "^%d" then
		-- the reference parser ignores a (name) after a field that is not an array
		paren = nil
	end
	if buildin then
		entries[#entries + 1] = { 1, buildin }
		if f.typename == "binary" then
			entries[#entries + 1] = { 2, 1 }
		elseif paren and f.typename == "integer" then
			entries[#entries + 1] = { 2, decimal_of(f, typename) }
		end
	else
		entries[#entries + 1] = { 2, ids[f.typename] }
	end
	entries[#entries + 1] = { 3, f.tag }
	if f.array then
		entries[#entries + 1] = { 4, true }
	end
	if paren and f.typename ~= "integer" then
		local key, map = index_of(f, types[f.typename], typename)
		entries[#entries + 1] = { 5, key }
		if map then
			entries[#entries + 1] = { 6, true }
		end
	end
	return record(entries)
end

local function type_record(name, fields, types, ids)
	if #fields == 0 then
		return record { { 0, name } }
	end
	local list = {}
	for i, f in ipairs(fields) do
		list[i] = field_record(f, name, types, ids)
	end
	return record { { 0, name }, { 1, records(list) } }
end

local function protocol_record(name, p, ids)
	local entries = { { 0, name }, { 1, p.tag } }
	if p.request then
		entries[#entries + 1] = { 2, ids[p.request] }
	end
	if p.response then
		entries[#entries + 1] = { 3, ids[p.response] }
	elseif p.confirm then
		entries[#entries + 1] = { 4, true }
	end
	return record(entries)
end

local function encode(types, protocols)
	local names = sorted_keys(types)
	local ids = {}
	for i, name in ipairs(names) do
		ids[name] = i - 1
	end
	local tlist = {}
	for i, name in ipairs(names) do
		tlist[i] = type_record(name, types[name], types, ids)
	end
	local pnames = sorted_keys(protocols)
	table.sort(pnames, function(a, b) return protocols[a].tag < protocols[b].tag end)
	local plist = {}
	for i, name in ipairs(pnames) do
		plist[i] = protocol_record(name, protocols[name], ids)
	end
	local group = {}
	if #tlist > 0 or #plist > 0 then
		group[1] = { 0, records(tlist) }
	end
	if #plist > 0 then
		group[2] = { 1, records(plist) }
	end
	return record(group)
end

---------------------------------------------------------------- API

function parser.parse(text, name)
	local types, protocols = build(read_schema(text, name or "=text"))
	return encode(types, protocols)
end

-- Prints the bytes of `s` in hex, 16 per line ("XX " each, "- " after the eighth), then
-- what is left of the last line (an empty line when nothing is), as the reference does.
function parser.dump(s)
	local line = {}
	for i = 1, #s do
		line[#line + 1] = string.format("%02X ", s:byte(i))
		if i % 16 == 0 then
			print(table.concat(line))
			line = {}
		elseif i % 8 == 0 then
			line[#line + 1] = "- "
		end
	end
	print(table.concat(line))
end

return parser

-- sprotoloader: schemas shared by every service of the process through sproto.core's
-- 16 global slots. Fill the slots while the node starts (register/save, not thread
-- safe), then load from any service; a loaded schema is never freed.
local core = require "sproto.core"
local sproto = require "sproto"

local loader = {}

-- Parses the schema text in `filename` into slot `index`.
function loader.register(filename, index)
	local f = assert(io.open(filename), "Can't open sproto file")
	local text = f:read "a"
	f:close()
	local parser = require "sprotoparser"
	core.saveproto(assert(core.newproto(parser.parse(text))), index)
end

-- Stores a schema binary (from sprotoparser.parse) into slot `index`.
function loader.save(bin, index)
	core.saveproto(assert(core.newproto(bin)), index)
end

-- A sproto object on the schema in slot `index`.
function loader.load(index)
	return sproto.sharenew(core.loadproto(index))
end

return loader

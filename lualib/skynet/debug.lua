-- The "debug" protocol every Lua service answers (debug_console, launcher's
-- LIST/MEM/STAT, skynet.call(addr, "debug", ...)).

local extra_commands = {}

local function init(skynet, export)
	local info = {}
	function skynet.info_func(f)
		info.func = f
	end

	local commands
	local function dispatch(_, _, name, ...)
		commands = commands or require "skynet.debugcmd" (skynet, export, info)
		local f = commands[name] or extra_commands[name]
		assert(f, name)
		f(...)
	end

	skynet.register_protocol {
		name = "debug",
		id = assert(skynet.PTYPE_DEBUG),
		pack = assert(skynet.pack),
		unpack = assert(skynet.unpack),
		dispatch = dispatch,
	}
end

local function reg_debugcmd(name, fn)
	extra_commands[name] = fn
end

return {
	init = init,
	reg_debugcmd = reg_debugcmd,
}

-- injectcode(source, co, level, ext) runs `source` as if written inside the function
-- at stack level `level` of coroutine `co` (level 0: the caller of injectcode): the
-- code reads and writes that function's locals and upvalues. Names in the table `ext`
-- are visible too. Returns true and the code's results, or false and an error.
-- Used by the remote debugger.

local co_running = coroutine.running

local function is_name(s)
	return s:match "^[%a_][%w_]*$" ~= nil
end

-- Compiles source into a function whose upvalues are the frame's variables, plus a
-- function returning the (possibly changed) locals by slot number.
local function compile(source, frame_func, slots, locals, ext)
	local decl = {}
	if ext then
		for name in pairs(ext) do
			decl[#decl + 1] = name
		end
	end
	local upvalue_index = {}
	local i = 1
	while true do
		local name = debug.getupvalue(frame_func, i)
		if name == nil then
			break
		end
		if is_name(name) then
			upvalue_index[name] = i
			decl[#decl + 1] = name
		end
		i = i + 1
	end
	-- locals come last so that, as in the frame, they shadow upvalues
	local writeback = {}
	for _, slot in ipairs(slots) do
		decl[#decl + 1] = slot.name
		writeback[#writeback + 1] = string.format("[%d]=%s,", slot.index, slot.name)
	end
	local text = string.format("%sreturn function(...)\n%s\nend, function() return {%s} end\n",
		#decl > 0 and ("local " .. table.concat(decl, ",") .. "\n") or "",
		source, table.concat(writeback))
	local maker, err = load(text, "=(debug)")
	if not maker then
		return nil, err
	end
	local func, changed = maker()
	i = 1
	while true do
		local name = debug.getupvalue(func, i)
		if name == nil then
			break
		end
		if locals[name] ~= nil then
			debug.setupvalue(func, i, locals[name].value)
		elseif upvalue_index[name] then
			debug.upvaluejoin(func, i, frame_func, upvalue_index[name])
		elseif ext and ext[name] ~= nil then
			debug.setupvalue(func, i, ext[name])
		end
		i = i + 1
	end
	return func, changed
end

return function(source, co, level, ext)
	co = co or co_running()
	level = level or 0
	if co == co_running() then
		-- skip the debug function itself and this one
		level = level + 2
	end
	local info = debug.getinfo(co, level, "f")
	if info == nil or info.func == nil then
		return false, "Invalid level"
	end
	local slots, locals = {}, {}
	local i = 1
	while true do
		local name, value = debug.getlocal(co, level, i)
		if name == nil then
			break
		end
		-- "(temporary)", "(vararg)"... are not variables
		if name:byte() ~= 40 then
			slots[#slots + 1] = { index = i, name = name }
			locals[name] = { value = value }
		end
		i = i + 1
	end
	local varargs = {}
	local n = 0
	while true do
		local name, value = debug.getlocal(co, level, -(n + 1))
		if name == nil then
			break
		end
		n = n + 1
		varargs[n] = value
	end
	local func, changed = compile(source, info.func, slots, locals, ext)
	if not func then
		return false, changed
	end
	local rets = table.pack(pcall(func, table.unpack(varargs, 1, n)))
	if not rets[1] then
		return false, rets[2]
	end
	for index, value in pairs(changed()) do
		debug.setlocal(co, level, index, value)
	end
	return table.unpack(rets, 1, rets.n)
end

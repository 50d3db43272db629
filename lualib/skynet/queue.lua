-- skynet.queue(): a critical section. `local cs = skynet.queue()` then `cs(f, ...)`
-- runs f(...) so that no other coroutine enters cs until f returns, even if f blocks.
-- The holder may enter the same section again (nested calls don't deadlock).

local skynet = require "skynet"

local traceback = debug.traceback

function skynet.queue()
	local owner	-- coroutine inside the section
	local depth = 0	-- how many times the owner entered it
	local waiting = {}	-- coroutines blocked at the entrance, in arrival order

	local function leave(ok, ...)
		depth = depth - 1
		if depth == 0 then
			owner = table.remove(waiting, 1)
			if owner then
				skynet.wakeup(owner)
			end
		end
		if not ok then
			error((...), 0)
		end
		return ...
	end

	return function(f, ...)
		local co = coroutine.running()
		if owner and owner ~= co then
			waiting[#waiting + 1] = co
			skynet.wait()
			-- the leaving owner made us the owner
			assert(depth == 0)
		end
		owner = co
		depth = depth + 1
		return leave(xpcall(f, traceback, ...))
	end
end

return skynet.queue

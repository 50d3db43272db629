-- skynet.queue: a critical section across blocking calls.

local skynet = require "skynet"
local queue = require "skynet.queue"
local T = require "testcase" "core_queue"

T.run(function()
	T.same(queue, skynet.queue, "the module is skynet.queue")
	local cs = skynet.queue()
	local order, add = T.log()
	local done = 0
	for i = 1, 3 do
		skynet.fork(function()
			cs(function()
				add(i .. "a")
				skynet.sleep(2)
				add(i .. "b")
			end)
			done = done + 1
		end)
	end
	-- without the section, the sleeps would interleave
	while done < 3 do
		skynet.sleep(1)
	end
	T.same(T.joined(order), "1a 1b 2a 2b 3a 3b", "one coroutine at a time, in arrival order")

	-- results and arguments pass through; the holder may enter again
	T.same_list(table.pack(cs(function(a, b)
		return cs(function()
			return a + b, nil, "x"
		end)
	end, 1, 2)), table.pack(3, nil, "x"), "nested entry and results")

	-- an error leaves the section free
	local ok, err = pcall(cs, function()
		error "core_queue inside"
	end)
	T.same(ok, false, "error propagates")
	T.check(tostring(err):find("core_queue inside", 1, true), "error text")
	T.same(cs(function() return "free" end), "free", "section usable after an error")

	-- two sections are independent
	local other = skynet.queue()
	order, add = T.log()
	local finished = 0
	skynet.fork(function()
		cs(function()
			add "cs-in"
			skynet.sleep(3)
			add "cs-out"
		end)
		finished = finished + 1
	end)
	skynet.fork(function()
		other(function()
			add "other"
		end)
		finished = finished + 1
	end)
	while finished < 2 do
		skynet.sleep(1)
	end
	T.same(T.joined(order), "cs-in other cs-out", "independent sections")
end)

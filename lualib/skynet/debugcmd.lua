-- The commands of the "debug" protocol, loaded by skynet.debug on the first debug
-- message: most services never get one, and every service would otherwise hold this
-- code (stock Lua cannot share compiled functions between services).

return function(skynet, export, info)
	local cmd = {}

	function cmd.MEM()
		skynet.ret(skynet.pack(collectgarbage "count"))
	end

	local collecting = false
	function cmd.GC()
		-- launcher's GC sends this to everyone at once: collect once, skip repeats
		if collecting then
			return
		end
		collecting = true
		local kb, t0 = collectgarbage "count", skynet.now()
		collectgarbage "collect"
		skynet.yield()
		local after, t1 = collectgarbage "count", skynet.now()
		skynet.error(string.format("GC %.2f Kb -> %.2f Kb, cost %.2f sec", kb, after, (t1 - t0) / 100))
		collecting = false
	end

	function cmd.STAT()
		skynet.ret(skynet.pack {
			task = skynet.task(),
			mqlen = skynet.stat "mqlen",
			cpu = skynet.stat "cpu",
			message = skynet.stat "message",
		})
	end

	function cmd.KILLTASK(name)
		local co = skynet.killthread(name)
		if co then
			skynet.error(string.format("Kill %s", co))
			skynet.ret()
		else
			skynet.error(string.format("Kill %s : Not found", name))
			skynet.ret(skynet.pack "Not found")
		end
	end

	function cmd.TASK(session)
		if session then
			skynet.ret(skynet.pack(skynet.task(session)))
		else
			local all = {}
			skynet.task(all)
			skynet.ret(skynet.pack(all))
		end
	end

	function cmd.UNIQTASK()
		skynet.ret(skynet.pack(skynet.uniqtask()))
	end

	function cmd.INFO(...)
		local f = info.func
		if f then
			skynet.ret(skynet.pack(f(...)))
		else
			skynet.ret(skynet.pack(nil))
		end
	end

	function cmd.EXIT()
		skynet.exit()
	end

	function cmd.RUN(source, filename, ...)
		local inject = require "skynet.inject"
		local ok, output = inject(skynet, source, filename, table.pack(...), export.dispatch, skynet.register_protocol)
		collectgarbage "collect"
		skynet.ret(skynet.pack(ok, table.concat(output, "\n")))
	end

	function cmd.TERM(service)
		skynet.term(service)
	end

	function cmd.REMOTEDEBUG(...)
		require("skynet.remotedebug").start(export, ...)
	end

	function cmd.SUPPORT(pname)
		return skynet.ret(skynet.pack(skynet.dispatch(pname) ~= nil))
	end

	function cmd.PING()
		return skynet.ret()
	end

	function cmd.LINK()
		-- never answered: the caller's call fails when this service exits
		skynet.response()
	end

	function cmd.TRACELOG(pname, flag)
		if type(pname) ~= "string" then
			pname, flag = "lua", pname
		end
		skynet.error(string.format("Turn trace log %s for %s", flag, pname))
		skynet.traceproto(pname, flag)
		skynet.ret()
	end

	return cmd
end

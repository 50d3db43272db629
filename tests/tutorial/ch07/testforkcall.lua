skynet = require "skynet"

local function task(id)
    for i = 1,5 do
        skynet.error("task"..id .." call")
        skynet.error("task"..id .." return:", skynet.call(".echoluamsg", "lua", "task"..id))
    end
end

skynet.start(function()
    skynet.fork(task, 1)    --开两个线程去执行
    skynet.fork(task, 2)
end)

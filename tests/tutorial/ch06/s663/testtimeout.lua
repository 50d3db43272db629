
local skynet = require "skynet"

function task()
    skynet.error("task", coroutine.running())
    skynet.timeout(500, task)
end

skynet.start(function () --skynet.start启动一个timeout来执行function, 创建了一个协程
    skynet.error("start", coroutine.running())
    skynet.timeout(500, task) --由于function函数还没用完协程, 所有这个timeout又创建了一个协程
end)

local skynet = require "skynet"
local cos = {}

function task1()
    skynet.error("task1 begin task")
    skynet.error("task1 wait")
    skynet.wait()          --task1去等待唤醒
    --或者skynet.wait(coroutine.running())
    skynet.error("task1 end task")
end

function task2()
    skynet.error("task2 begin task")
    skynet.error("task2 wakeup task1")
    skynet.wakeup(cos[1])  --task2去唤醒task1, task1并不是马上唤醒, 而是等task2运行完
    skynet.error("task2 end task")
end

skynet.start(function ()
    cos[1] = skynet.fork(task1)  --保存线程句柄
    cos[2] = skynet.fork(task2)
end)

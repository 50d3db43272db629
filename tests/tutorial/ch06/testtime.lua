
local skynet = require "skynet"

function task()
    skynet.error("task")
    skynet.error("start time", skynet.starttime()) --获取skynet节点开始运行的时间
    skynet.sleep(200)
    skynet.error("time", skynet.time())           --获取当前时间
    skynet.error("now", skynet.now())             --获取skynet节点已经运行的时间
end

skynet.start(function ()
    skynet.fork(task)
end)

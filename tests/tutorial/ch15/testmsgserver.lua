local skynet = require "skynet"

skynet.start(function()
    --启动mylogin监听8001
    local loginserver = skynet.newservice("mylogin")
    --启动mymsgserver传递loginserver地址
    local gate = skynet.newservice("mymsgserver", loginserver)
    --网关服务需要发送lua open来打开, open也是保留的命令
    skynet.call(gate, "lua", "open", {
        port = tonumber(skynet.getenv("tutorial_port2")),
        maxclient = 64,
        servername = "sample", --取名叫sample, 跟使用skynet.name(".sample")一样
    })
end)

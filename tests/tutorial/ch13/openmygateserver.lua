local skynet = require "skynet"
local port = tonumber(skynet.getenv("tutorial_port"))

skynet.start(function()
    skynet.error("Server start")
    local gateserver = skynet.newservice("mygateserver") --启动刚才写的网关服务
    skynet.call(gateserver, "lua", "open", {
        port = port, --监听的端口
        maxclient = 64, --客户端最大连接数 体现网关功能的一个重要参数
        nodelay = true, --是否延迟TCP 延迟：发送少量数据时会缓存等待数据多了再发出去
    })
    skynet.error("gate server setup on", port)
    skynet.exit()
end)

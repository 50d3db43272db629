local skynet = require "skynet"
local port = tonumber(skynet.getenv("tutorial_port"))

skynet.start(function()
    skynet.error("Server start")
    local gateserver = skynet.newservice("mygateserver")
    skynet.call(gateserver, "lua", "open", {
        port = port,          --监听的端口
        maxclient = 2,        --客户端最大连接数改为2个
        nodelay = true,       --是否延迟TCP
    })
    skynet.error("gate server setup on", port)
    skynet.exit()
end)

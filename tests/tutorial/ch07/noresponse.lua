local skynet = require "skynet"
require "skynet.manager" -- import skynet.register

skynet.start(function()
    skynet.dispatch("lua", function(session, address, cmd, ...)
        skynet.exit() --在这里退出了服务
    end)
    skynet.register ".noresponse"
end)

local skynet = require "skynet"

skynet.init(function()
    skynet.error("service init")
end)

skynet.start(function()
    skynet.error("service start")
end)

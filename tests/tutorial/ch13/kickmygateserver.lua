local skynet = require "skynet"

local gateserver, fd= ...
fd = tonumber(fd) --必须要转换成整形数，skynet命令行传入的参数都是字符串

skynet.start(function()
    skynet.call(gateserver, "lua", "kick", fd)
    skynet.exit()
end)

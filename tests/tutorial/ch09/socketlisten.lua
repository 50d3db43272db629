local skynet    = require "skynet"
local socket    = require "skynet.socket"

skynet.start(function()
    local addr = "0.0.0.0:" .. skynet.getenv("tutorial_port")
    skynet.error("listen " .. addr)
    local lID = socket.listen(addr)
    assert(lID)
    socket.start(lID , function(cID, addr)
        skynet.error(addr .. " accepted")
        skynet.newservice("socketagent", cID, addr)
    end)
end)

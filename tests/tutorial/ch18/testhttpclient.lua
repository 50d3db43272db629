local skynet = require "skynet"
local httpc = require "http.httpc"
local dns = require "skynet.dns"

local function main()
    httpc.dns() -- set dns server
    httpc.timeout = 100 -- set timeout 1 second
    local host = "127.0.0.1:" .. skynet.getenv("tutorial_port")
    print("GET " .. host)
    local respheader = {}
    local status, body = httpc.request("GET", host, "/?color=blue&text=abc",
respheader)
    print("[header] =====>")
    for k,v in pairs(respheader) do
        print(k,v)
    end
    print("[body] =====>", status)
    print(body)
end

skynet.start(function()
    print(pcall(main))
    skynet.exit()
end)

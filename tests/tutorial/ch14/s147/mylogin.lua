local login = require "snax.loginserver"
local crypt = require "skynet.crypt"
local skynet = require "skynet"

local server = {
    host = "127.0.0.1",
    port = tonumber(skynet.getenv("tutorial_port")),
    multilogin = false, -- disallow multilogin
    name = "login_master",
}

function server.auth_handler(token)
    -- the token is base64(user)@base64(server):base64(password)
    --通过正则表达式, 解析出各个参数
    local user, server, password = token:match("([^@]+)@([^:]+):(.+)")
    user = crypt.base64decode(user)
    server = crypt.base64decode(server)
    password = crypt.base64decode(password)
    skynet.error(string.format("%s@%s:%s", uid, server, password))
    --密码不对直接报错中断当前协程, 千万不要返回nil值, 一定要用assert中断或者error报错终止掉当前协程
    assert(password == "password", "Invalid password")
    return server, user
end

local subid = 0
function server.login_handler(server, uid, secret)
    skynet.error(string.format("%s@%s is login, secret is %s", uid, server,
    crypt.hexencode(secret)))
    subid = subid + 1
    skynet.sleep(500) --添加延时
    return subid
end

local CMD = {}

function CMD.register_gate(server, address)
    skynet.error("cmd register_gate")
end

--实现command_handler, 必须要实现, 用来处理lua消息
function server.command_handler(command, ...)
    local f = assert(CMD[command])
    return f(...)
end

login(server) --服务启动需要参数

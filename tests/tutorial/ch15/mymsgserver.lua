local msgserver = require "snax.msgserver"
local crypt = require "skynet.crypt"
local skynet = require "skynet"

local loginserver = tonumber(...) --从启动参数获取登录服务的地址
local server = {} --一张表，里面需要实现前面提到的所有回调接口
local servername
local subid = 0

--外部发消息来调用，一般是loginserver发消息来，你需要产生唯一的subid，如果loginserver不允许multilogin，那么这个函数也不会重入。
function server.login_handler(uid, secret)
    subid = subid + 1
    --通过uid以及subid获得username
    local username = msgserver.username(uid, subid, servername)
    skynet.error("uid",uid, "login, username", username)
    msgserver.login(username, secret)--正在登录，给登录名注册一个secret
    return subid
end

--外部发消息来调用，登出uid对应的登录名
function server.logout_handler(uid, subid)
    local username = msgserver.username(uid, subid, servername)
    msgserver.logout(username) --登出
end

--一般给loginserver发消息来调用，可以作为登出操作
function server.kick_handler(uid, subid)
    server.logout_handler(uid, subid)
end

--当客户端断开了连接，这个回调函数会被调用
function server.disconnect_handler(username)
    skynet.error(username, "disconnect")
end

--当接收到客户端的网络请求，这个回调函数会被调用，需要给与应答
function server.request_handler(username, msg)
    skynet.error("recv", msg, "from", username)
    return string.upper(msg)
end

--注册一下登录点服务，主要是告诉loginserver这个有这个登录点的存在
function server.register_handler(name)
    servername = name
    skynet.call(loginserver, "lua", "register_gate", servername, skynet.self())
end

msgserver.start(server) --需要配置信息表server

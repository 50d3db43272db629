package.cpath = "luaclib/?.so"

local socket = require "client.socket"
local crypt = require "client.crypt"

local fd = assert(socket.connect("127.0.0.1", tonumber(os.getenv("TUTORIAL_PORT"))))

local function writeline(fd, text)
    socket.send(fd, text .. "\n")
end

local function unpack_line(text)
    local from = text:find("\n", 1, true)
    if from then
        return text:sub(1, from-1), text:sub(from+1)
    end
    return nil, text
end

local last = ""

local function unpack_f(f)
    local function try_recv(fd, last)
        local result
        result, last = f(last)
        if result then
            return result, last
        end
        local r = socket.recv(fd)
        if not r then
            return nil, last
        end
        if r == "" then
            error "Server closed"
        end
        return f(last .. r)
    end

    return function()
        while true do
            local result
            result, last = try_recv(fd, last)
            if result then
                return result
            end
            socket.usleep(100)
        end
    end
end

local readline = unpack_f(unpack_line)

local challenge = crypt.base64decode(readline()) --接收challenge

local clientkey = crypt.randomkey()
--把clientkey换算后比如称它为ckey，发给服务器
writeline(fd, crypt.base64encode(crypt.dhexchange(clientkey)))
--服务器也把serverkey换算后比如称它为skey，发给客户端，客户端用clientkey与skey所出secret
local secret = crypt.dhsecret(crypt.base64decode(readline()), clientkey)
--secret一般是8字节数据流，需要转换成16字节的hex字符串来显示。
print("secret is ", crypt.hexencode(secret))
--加密的时候还是需要直接传递secret字节流
local hmac = crypt.hmac64(challenge, secret)
writeline(fd, crypt.base64encode(hmac))

local token = {
    server = "sample",
    user = "hello",
    pass = "wrongpasswd",
}

local function encode_token(token)
    return string.format("%s@%s:%s",
        crypt.base64encode(token.user),
        crypt.base64encode(token.server),
        crypt.base64encode(token.pass))
end

--使用DES加密token得到etoken，etoken是字节流
local etoken = crypt.desencode(secret, encode_token(token))
etoken = crypt.base64encode(etoken)
--发送etoken，mylogin.lua将会调用auth_handler回调函数，以及login_handler回调函数。
writeline(fd, etoken)

local result = readline() --读取最终的返回结果。
print(result)
local code = tonumber(string.sub(result, 1, 3))
assert(code == 200)
socket.close(fd) --可以关闭链接了

local subid = crypt.base64decode(string.sub(result, 5)) --解析出subid

print("login ok, subid=", subid)

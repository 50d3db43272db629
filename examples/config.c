-- A single node running C services only: a watchdog that puts skynet's gate on
-- 127.0.0.1:8888 and echoes every 2-byte length-prefixed packet.
-- Run it with `./skynet examples/config.c`; `examples/config` is the Lua example.
thread = 4
harbor = 0
cpath = "./cservice/?.so;./examples/cservice/?.so"
bootstrap = "watchdog 127.0.0.1:8888"

-- A module whose chunk fails after blocking (core_require).
local skynet = require "skynet"
skynet.sleep(1)
error "core_mod_broken fails"

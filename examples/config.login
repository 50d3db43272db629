-- Upstream's name for the login example: ./skynet examples/config.login
include "login/config"

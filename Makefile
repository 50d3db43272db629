# Builds the skynet executable (Rust core + embedded Lua), the C services and the Lua C modules.
#   make linux            Lua 5.4, jemalloc with per-service memory accounting
#   make linux LUA=5.5    Lua 5.5 (skynet master's API)
#   make linux MALLOC=libc  the system allocator, no accounting (upstream's NOUSE_JEMALLOC)
#   make linux TLS=0      no luaclib/ltls.so even where OpenSSL's headers are installed
#   make test             build, then run every test
#   make bench            benchmarks (OTHER=/path/to/another/skynet for a side-by-side ratio)

LUA ?= 5.4
MALLOC ?= jemalloc
CC ?= gcc

CARGO_FLAGS := --release
ifeq ($(LUA),5.5)
  CARGO_FEATURES += lua55
else ifneq ($(LUA),5.4)
  $(error LUA must be 5.4 or 5.5)
endif
ifeq ($(MALLOC),libc)
  CARGO_FLAGS += --no-default-features
else ifneq ($(MALLOC),jemalloc)
  $(error MALLOC must be jemalloc or libc)
endif
ifneq ($(strip $(CARGO_FEATURES)),)
  CARGO_FLAGS += --features "$(strip $(CARGO_FEATURES))"
endif

CFLAGS := -O2 -g -Wall -Werror -fPIC -Iinclude -I3rd/lua
SHARED := -shared

CSERVICE := $(patsubst %.c,%.so,$(wildcard cservice/*.c examples/cservice/*.c))
# Every lualib-src/*.c goes into luaclib/skynet.so (one luaopen_skynet_* each), except the
# stand-alone client socket and the optional TLS module. luaclib/client.so holds the
# client modules for scripts run by 3rd/lua/lua; crypt is in both, as upstream.
CLIENT_SRC := $(wildcard lualib-src/lua-clientsocket.c lualib-src/lua-crypt.c lualib-src/lsha1.c)
SKYNET_SRC := $(filter-out lualib-src/lua-clientsocket.c lualib-src/ltls.c,$(wildcard lualib-src/*.c))
# luaclib/ltls.so (upstream's TLS_MODULE) is built on OpenSSL when its headers are there
# (libssl-dev); TLS=0 or TLS=1 forces the choice.
TLS ?= $(if $(wildcard /usr/include/openssl/ssl.h),1,0)
# luaclib/sproto.so holds sproto.core (require "sproto.core" finds luaopen_sproto_core in it).
SPROTO_SRC := $(wildcard lualib-src/sproto/*.c)
LUACLIB := $(if $(SKYNET_SRC),luaclib/skynet.so) $(if $(CLIENT_SRC),luaclib/client.so) \
	$(if $(SPROTO_SRC),luaclib/sproto.so) \
	$(if $(filter 1,$(TLS)),$(if $(wildcard lualib-src/ltls.c),luaclib/ltls.so))
LUA_BIN := $(if $(wildcard tools/lua.c),3rd/lua/lua)

.PHONY: all linux core test bench clean
all: linux
linux: core $(CSERVICE) $(LUACLIB) $(LUA_BIN)

# cargo decides what to rebuild; the copy keeps ./skynet in step with the selected features.
# Copy then rename, so a running ./skynet (Text file busy) does not stop the build.
# Plug-ins built against the other Lua version must not survive a LUA= switch, and cargo
# reuses a cached build script run, so a switch back must force build.rs to reinstall the
# headers of 3rd/lua.
core:
	@case "$$(cat 3rd/lua/VERSION 2>/dev/null)" in lua-$(LUA).*) ;; *) touch build.rs ;; esac
	cargo build $(CARGO_FLAGS)
	cp target/release/skynet skynet.new && mv -f skynet.new skynet
	@if ! cmp -s 3rd/lua/VERSION .lua-version; then \
		rm -f $(CSERVICE) luaclib/*.so 3rd/lua/lua; cp 3rd/lua/VERSION .lua-version; fi

%.so: %.c $(wildcard include/*.h) | core
	$(CC) $(CFLAGS) $(SHARED) -o $@ $<

luaclib/skynet.so: $(SKYNET_SRC) $(wildcard lualib-src/*.h) $(wildcard include/*.h) | core
	@mkdir -p luaclib
	$(CC) $(CFLAGS) -Ilualib-src $(SHARED) -o $@ $(SKYNET_SRC)

luaclib/client.so: $(CLIENT_SRC) $(wildcard lualib-src/*.h) | core
	@mkdir -p luaclib
	$(CC) $(CFLAGS) -Ilualib-src $(SHARED) -o $@ $(CLIENT_SRC)

luaclib/sproto.so: $(SPROTO_SRC) $(wildcard lualib-src/sproto/*.h) | core
	@mkdir -p luaclib
	$(CC) $(CFLAGS) -Ilualib-src/sproto $(SHARED) -o $@ $(SPROTO_SRC) -lm

luaclib/ltls.so: lualib-src/ltls.c | core
	@mkdir -p luaclib
	$(CC) $(CFLAGS) $(SHARED) -o $@ $< -lssl -lcrypto

# The stand-alone interpreter for client scripts, on the library the core embeds.
3rd/lua/lua: tools/lua.c | core
	$(CC) -O2 -g -Wall -Werror -I3rd/lua -o $@ $< 3rd/lua/liblua.a -Wl,-E -lm -ldl

test: linux
	cargo test $(CARGO_FLAGS)

bench: linux
	python3 bench/run.py $(if $(OTHER),--other $(OTHER))

clean:
	cargo clean
	rm -f skynet cservice/*.so examples/cservice/*.so luaclib/*.so
	rm -rf 3rd/lua .lua-version

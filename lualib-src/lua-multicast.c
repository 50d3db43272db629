/*
 * skynet.multicast.core: one published message shared by many local subscribers.
 *
 * pack() wraps a message in a reference-counted package and returns a heap cell
 * holding the package's address; that cell is the message multicastd receives.
 * multicastd binds the package to its subscriber count (freeing the cell) and sends
 * each subscriber the package address; each subscriber closes it once, and the
 * last close frees the message.
 */

#define LUA_LIB

#include "skynet.h"
#include "atomic.h"

#include <lua.h>
#include <lauxlib.h>
#include <stdint.h>
#include <string.h>

struct mc_package {
	ATOM_INT reference;
	uint32_t size;
	void *data;
};

/* the package plus the cell that carries its address; returns (cell, sizeof cell content) */
static int
push_package(lua_State *L, void *data, uint32_t size) {
	struct mc_package *pack = skynet_malloc(sizeof(*pack));
	struct mc_package **cell = skynet_malloc(sizeof(*cell));
	if (pack == NULL || cell == NULL) {
		skynet_free(pack);
		skynet_free(cell);
		return luaL_error(L, "multicast out of memory");
	}
	ATOM_INIT(&pack->reference, 0);
	pack->size = size;
	pack->data = data;
	*cell = pack;
	lua_pushlightuserdata(L, cell);
	lua_pushinteger(L, (lua_Integer)sizeof(*cell));
	return 2;
}

static uint32_t
check_size(lua_State *L, int idx) {
	lua_Integer sz = luaL_checkinteger(L, idx);
	if (sz < 0 || sz > (lua_Integer)UINT32_MAX)
		luaL_error(L, "Size should be 32bit integer");
	return (uint32_t)sz;
}

/* the cell of a package, as received in a message */
static struct mc_package **
check_cell(lua_State *L, int idx) {
	struct mc_package **cell = lua_touserdata(L, idx);
	if (cell == NULL || *cell == NULL)
		luaL_error(L, "Invalid multicast package");
	return cell;
}

static struct mc_package *
check_package(lua_State *L, int idx) {
	struct mc_package *pack = lua_touserdata(L, idx);
	if (pack == NULL)
		luaL_error(L, "Invalid multicast package");
	return pack;
}

/* pack(msg, sz): takes ownership of msg (a malloc'd buffer, e.g. from skynet.pack) */
static int
lpack(lua_State *L) {
	void *data = lua_touserdata(L, 1);
	uint32_t size = check_size(L, 2);
	return push_package(L, data, size);
}

/* packremote(msg, sz): a message arriving from another node stays with the core, so copy it */
static int
lpackremote(lua_State *L) {
	const void *src = lua_touserdata(L, 1);
	uint32_t size = check_size(L, 2);
	if (src == NULL && size > 0)
		return luaL_error(L, "Invalid multicast message");
	void *data = skynet_malloc(size > 0 ? size : 1);
	if (data == NULL)
		return luaL_error(L, "multicast out of memory");
	if (size > 0)
		memcpy(data, src, size);
	return push_package(L, data, size);
}

/* unpack(cell, sz) -> package, msg, sz */
static int
lunpack(lua_State *L) {
	lua_Integer sz = luaL_checkinteger(L, 2);
	if (sz != (lua_Integer)sizeof(struct mc_package *))
		return luaL_error(L, "Invalid multicast package size %d", (int)sz);
	struct mc_package *pack = *check_cell(L, 1);
	lua_pushlightuserdata(L, pack);
	lua_pushlightuserdata(L, pack->data);
	lua_pushinteger(L, (lua_Integer)pack->size);
	return 3;
}

/* bind(cell, n): the package expects n closes; frees the cell and returns the package */
static int
lbind(lua_State *L) {
	struct mc_package **cell = check_cell(L, 1);
	int n = (int)luaL_checkinteger(L, 2);
	struct mc_package *pack = *cell;
	if (ATOM_LOAD(&pack->reference) != 0)
		return luaL_error(L, "Can't bind a multicast package more than once");
	ATOM_STORE(&pack->reference, n);
	skynet_free(cell);
	lua_pushlightuserdata(L, pack);
	return 1;
}

/* close(package): one subscriber is done; the last one frees the message */
static int
lclose(lua_State *L) {
	struct mc_package *pack = check_package(L, 1);
	int left = ATOM_FDEC(&pack->reference) - 1;
	if (left > 0)
		return 0;
	skynet_free(pack->data);
	skynet_free(pack);
	if (left < 0)
		return luaL_error(L, "Invalid multicast package reference %d", left);
	return 0;
}

/* remote(cell) -> msg, sz: unwraps an unbound package to send the bytes to another node */
static int
lremote(lua_State *L) {
	struct mc_package **cell = check_cell(L, 1);
	struct mc_package *pack = *cell;
	lua_pushlightuserdata(L, pack->data);
	lua_pushinteger(L, (lua_Integer)pack->size);
	skynet_free(pack);
	skynet_free(cell);
	return 2;
}

/* channel ids step by 256 (the low byte is the owner's harbor) and stay positive */
static int
lnextid(lua_State *L) {
	uint32_t id = (uint32_t)luaL_checkinteger(L, 1);
	id += 256;
	lua_pushinteger(L, id & 0x7fffffffu);
	return 1;
}

LUAMOD_API int
luaopen_skynet_multicast_core(lua_State *L) {
	luaL_checkversion(L);
	luaL_Reg l[] = {
		{ "pack", lpack },
		{ "packremote", lpackremote },
		{ "unpack", lunpack },
		{ "bind", lbind },
		{ "close", lclose },
		{ "remote", lremote },
		{ "nextid", lnextid },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}

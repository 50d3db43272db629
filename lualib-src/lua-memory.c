/*
 * skynet.memory: the core's allocator statistics (malloc_hook.h). A core built
 * without jemalloc answers 0 / false to the jemalloc controls.
 */

#define LUA_LIB

#include <lua.h>
#include <lauxlib.h>

#include "malloc_hook.h"

/* bytes held by every service together */
static int
ltotal(lua_State *L) {
	lua_pushinteger(L, (lua_Integer)malloc_used_memory());
	return 1;
}

/* blocks held by every service together */
static int
lblock(lua_State *L) {
	lua_pushinteger(L, (lua_Integer)malloc_memory_block());
	return 1;
}

/* the allocator's own report, with its option string */
static int
ldumpinfo(lua_State *L) {
	const char *opts = lua_isstring(L, 1) ? lua_tostring(L, 1) : NULL;
	memory_info_dump(opts);
	return 0;
}

/* a table of jemalloc's headline counters, refreshed first */
static int
ljestat(lua_State *L) {
	static const char *const counters[] = {
		"stats.allocated",
		"stats.resident",
		"stats.retained",
		"stats.mapped",
		"stats.active",
	};
	size_t refresh = 1;
	size_t i;
	mallctl_int64("epoch", &refresh);
	lua_createtable(L, 0, sizeof(counters) / sizeof(counters[0]));
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		lua_pushinteger(L, (lua_Integer)mallctl_int64(counters[i], NULL));
		lua_setfield(L, -2, counters[i]);
	}
	return 1;
}

static int
lmallctl(lua_State *L) {
	const char *name = luaL_checkstring(L, 1);
	lua_pushinteger(L, (lua_Integer)mallctl_int64(name, NULL));
	return 1;
}

/* logs each service's bytes */
static int
ldump(lua_State *L) {
	dump_c_mem();
	return 0;
}

/* bytes held by the calling service */
static int
lcurrent(lua_State *L) {
	lua_pushinteger(L, (lua_Integer)malloc_current_memory());
	return 1;
}

static int
ldumpheap(lua_State *L) {
	mallctl_cmd("prof.dump");
	return 0;
}

/* profactive([on]) -> whether heap profiling is active (before the change, if any) */
static int
lprofactive(lua_State *L) {
	bool on;
	bool *set = NULL;
	if (!lua_isnone(L, 1)) {
		on = lua_toboolean(L, 1);
		set = &on;
	}
	lua_pushboolean(L, mallctl_bool("prof.active", set));
	return 1;
}

LUAMOD_API int
luaopen_skynet_memory(lua_State *L) {
	luaL_checkversion(L);
	luaL_Reg l[] = {
		{ "total", ltotal },
		{ "block", lblock },
		{ "dumpinfo", ldumpinfo },
		{ "jestat", ljestat },
		{ "mallctl", lmallctl },
		{ "dump", ldump },
		{ "info", dump_mem_lua },
		{ "current", lcurrent },
		{ "dumpheap", ldumpheap },
		{ "profactive", lprofactive },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}

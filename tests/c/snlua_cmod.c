/* A Lua C module for the stand-alone interpreter: it resolves the Lua API against the
 * interpreter itself, as luaclib/client.so does. */
#include <lua.h>
#include <lauxlib.h>

static int
ladd(lua_State *L) {
	lua_pushinteger(L, luaL_checkinteger(L, 1) + luaL_checkinteger(L, 2));
	return 1;
}

int
luaopen_snlua_cmod(lua_State *L) {
	static const luaL_Reg funcs[] = {
		{ "add", ladd },
		{ NULL, NULL },
	};
	luaL_checkversion(L);
	luaL_newlib(L, funcs);
	return 1;
}

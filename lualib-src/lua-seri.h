#ifndef LUA_SERIALIZE_H
#define LUA_SERIALIZE_H

#include <lua.h>

/* pack(...) -> lightuserdata (malloc'd buffer, the receiver frees it), size */
int luaseri_pack(lua_State *L);
/* unpack(string) or unpack(pointer, size) -> the values; never frees the buffer */
int luaseri_unpack(lua_State *L);
/* packstring(...) -> the same bytes as pack, as a Lua string */
int luaseri_packstring(lua_State *L);

#endif

#ifndef SKYNET_SHARED_CHUNK_H
#define SKYNET_SHARED_CHUNK_H

/*
 * Lua chunks compiled once and run by every service state (not part of upstream's ABI).
 *
 * The runtime keeps the code, line information and variable descriptions of a shared
 * chunk in one place; each state that loads it builds only the small per-state part
 * (prototype headers and constants). snlua uses this for its code cache.
 */

#include <stddef.h>

struct lua_State;
struct skynet_shared_chunk;

/*
 * Compiles filename as luaL_loadfilex would, for sharing. Returns a lua_load status; on
 * an error the message is pushed on L. On LUA_OK, *chunk is the new chunk (one reference,
 * the caller's) or NULL when the shared space is exhausted: load the file privately then.
 */
int skynet_shared_chunk_compile(struct lua_State *L, const char *filename, const char *mode,
	struct skynet_shared_chunk **chunk);

/* Pushes a new function of chunk on L, as lua_load does; returns a lua_load status. */
int skynet_shared_chunk_load(struct lua_State *L, struct skynet_shared_chunk *chunk);

/* Drops a reference that skynet_shared_chunk_compile returned. */
void skynet_shared_chunk_release(struct skynet_shared_chunk *chunk);

/* lua_close for a state that may have loaded shared chunks: it releases them too. */
void skynet_shared_chunk_close(struct lua_State *L);

/*
 * For the allocator of a state that loads shared chunks, on a free (nsize 0): returns 1 if
 * ptr is shared code, which must be left alone (the state's count is fixed up), else 0.
 */
int skynet_shared_chunk_free(struct lua_State *L, void *ptr, size_t osize);

#endif

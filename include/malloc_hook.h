#ifndef SKYNET_MALLOC_HOOK_H
#define SKYNET_MALLOC_HOOK_H

/* lua-memory.c relies on this header for bool, size_t and lua_State */
#include <stdlib.h>
#include <stdbool.h>
#include <lua.h>

#include "mem_info.h"

/*
 * Memory statistics and jemalloc controls. A core built without jemalloc
 * still exports all of them; they then report 0 / false.
 */
extern size_t malloc_used_memory(void);
extern size_t malloc_memory_block(void);
extern void   memory_info_dump(const char *opts);
extern size_t mallctl_int64(const char* name, size_t* newval);
extern int    mallctl_opt(const char* name, int* newval);
extern bool   mallctl_bool(const char* name, bool* newval);
extern int    mallctl_cmd(const char* name);
extern void   dump_c_mem(void);
extern int    dump_mem_lua(lua_State *L);
extern size_t malloc_current_memory(void);

#endif

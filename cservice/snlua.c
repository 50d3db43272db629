/*
 * snlua: a skynet service hosting one Lua state.
 *
 * The state gets its own allocator so the service's Lua memory can be counted and
 * capped. The real boot runs on the first message (sent to ourselves from init),
 * so that it happens on a worker thread after the handle is fully registered.
 */

#include "skynet.h"
#include "skynet_shared_chunk.h"
#include "atomic.h"

#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIB (1024.0 * 1024.0)
#define FIRST_MEMORY_REPORT ((size_t)32 * 1024 * 1024)

struct snlua {
	lua_State *L;
	struct skynet_context *ctx;
	size_t mem;
	size_t mem_report;	/* log a warning when mem passes this, then double it */
	size_t mem_limit;	/* 0 means no limit */
	/* the coroutine running now (a lua_State *), read by snlua_signal on another thread */
	ATOM_POINTER running;
	/* signal 0 state: 0 nothing pending, 1 a signaller is arming the hook, -1 armed */
	ATOM_INT trap;
};

static struct snlua *
service_of(lua_State *L) {
	void *ud = NULL;
	lua_getallocf(L, &ud);
	return ud;
}

/* ---- allocator ---- */

static void *
service_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
	struct snlua *s = ud;
	if (nsize == 0 && ptr != NULL && skynet_shared_chunk_free(s->L, ptr, osize)) {
		return NULL;	/* a dead clone's shared code: never ours */
	}
	/* without a block, osize is a type tag, not a size */
	size_t old = ptr ? osize : 0;
	size_t total = s->mem - old + nsize;
	if (nsize > old && s->mem_limit != 0 && total > s->mem_limit) {
		return NULL;
	}
	s->mem = total;
	if (total > s->mem_report) {
		s->mem_report *= 2;
		skynet_error(s->ctx, "Memory warning %.2f M", (float)(total / MIB));
	}
	return skynet_lalloc(ptr, osize, nsize);
}

/* ---- signal 0: break into running Lua code ---- */

static void
break_hook(lua_State *L, lua_Debug *ar) {
	struct snlua *s = service_of(L);
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	if (ATOM_LOAD(&s->trap) != 0) {
		ATOM_STORE(&s->trap, 0);
		luaL_error(L, "signal 0");
	}
}

/* Records which coroutine runs now; a pending trap follows it there. */
static void
set_running(struct snlua *s, lua_State *co) {
	ATOM_STORE(&s->running, (uintptr_t)co);
	if (ATOM_LOAD(&s->trap) != 0) {
		lua_sethook(co, break_hook, LUA_MASKCOUNT, 1);
	}
}

/* ---- thread CPU time ---- */

static double
thread_seconds(void) {
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
		return 0;
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- skynet.profile ----
 * Every function of the library has two upvalues: weak tables mapping a coroutine
 * to the time its current slice started, and to the time accumulated so far.
 */

#define STARTS lua_upvalueindex(1)
#define TOTALS lua_upvalueindex(2)

/* Pushes nothing; returns 1 and sets *since if the coroutine at idx is being profiled. */
static int
profiled(lua_State *L, int idx, double *since) {
	int on;
	lua_pushvalue(L, idx);
	on = lua_rawget(L, STARTS) != LUA_TNIL;
	if (on) {
		*since = lua_tonumber(L, -1);
	}
	lua_pop(L, 1);
	return on;
}

static void
set_time(lua_State *L, int tbl, int idx, double t) {
	lua_pushvalue(L, idx);
	lua_pushnumber(L, t);
	lua_rawset(L, tbl);
}

static double
get_total(lua_State *L, int idx) {
	double t;
	lua_pushvalue(L, idx);
	lua_rawget(L, TOTALS);
	t = lua_tonumber(L, -1);
	lua_pop(L, 1);
	return t;
}

/*
 * Resumes co with the top n values of L, tracking the running coroutine for signal 0.
 * Leaves the results (or the error object) on L; returns their count, or -1 on error.
 */
static int
resume_tracked(lua_State *L, lua_State *co, int n) {
	struct snlua *s = service_of(L);
	int status, nres;
	if (!lua_checkstack(co, n)) {
		lua_pushliteral(L, "too many arguments to resume");
		return -1;
	}
	lua_xmove(L, co, n);
	set_running(s, co);
	status = lua_resume(co, L, n, &nres);
	/* a signaller may be arming the hook on co right now; let it finish first */
	while (ATOM_LOAD(&s->trap) == 1)
		;
	set_running(s, L);
	if (status != LUA_OK && status != LUA_YIELD) {
		lua_xmove(co, L, 1);
		return -1;
	}
	if (!lua_checkstack(L, nres + 1)) {
		lua_pop(co, nres);
		lua_pushliteral(L, "too many results to resume");
		return -1;
	}
	lua_xmove(co, L, nres);
	return nres;
}

/* resume_tracked, charging the CPU time of the slice to co if it is being profiled. */
static int
resume_timed(lua_State *L, int co_idx, int n) {
	lua_State *co = lua_tothread(L, co_idx);
	double since;
	int r;
	if (profiled(L, co_idx, &since)) {
		set_time(L, STARTS, co_idx, thread_seconds());
	}
	r = resume_tracked(L, co, n);
	if (profiled(L, co_idx, &since)) {
		set_time(L, TOTALS, co_idx, get_total(L, co_idx) + thread_seconds() - since);
	}
	return r;
}

static int
lresume(lua_State *L) {
	int r;
	luaL_checktype(L, 1, LUA_TTHREAD);
	r = resume_timed(L, 1, lua_gettop(L) - 1);
	if (r < 0) {
		lua_pushboolean(L, 0);
		lua_insert(L, -2);
		return 2;
	}
	lua_pushboolean(L, 1);
	lua_insert(L, -(r + 1));
	return r + 1;
}

/* The function coroutine.wrap returns; upvalue 3 is its coroutine. */
static int
wrapped_call(lua_State *L) {
	int r = resume_timed(L, lua_upvalueindex(3), lua_gettop(L));
	if (r < 0) {
		lua_State *co = lua_tothread(L, lua_upvalueindex(3));
		int status = lua_status(co);
		if (status != LUA_OK && status != LUA_YIELD) {
			/* the coroutine died: run its to-be-closed variables */
			status = lua_closethread(co, L);
			lua_xmove(co, L, 1);
		}
		if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
			luaL_where(L, 1);
			lua_insert(L, -2);
			lua_concat(L, 2);
		}
		return lua_error(L);
	}
	return r;
}

static int
lwrap(lua_State *L) {
	lua_State *co;
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_pushvalue(L, STARTS);
	lua_pushvalue(L, TOTALS);
	co = lua_newthread(L);
	lua_pushvalue(L, 1);
	lua_xmove(L, co, 1);
	lua_pushcclosure(L, wrapped_call, 3);
	return 1;
}

/* Puts the coroutine profile.start/stop act on at index 1: the argument or the caller. */
static void
profile_target(lua_State *L) {
	if (lua_gettop(L) == 0) {
		lua_pushthread(L);
	} else {
		lua_settop(L, 1);
		luaL_checktype(L, 1, LUA_TTHREAD);
	}
}

static int
lstart(lua_State *L) {
	double since;
	profile_target(L);
	if (profiled(L, 1, &since)) {
		return luaL_error(L, "Thread %p start profile more than once", lua_topointer(L, 1));
	}
	set_time(L, TOTALS, 1, 0);
	set_time(L, STARTS, 1, thread_seconds());
	return 0;
}

static int
lstop(lua_State *L) {
	double since, total;
	profile_target(L);
	if (!profiled(L, 1, &since)) {
		return luaL_error(L, "Call profile.start() before profile.stop()");
	}
	total = get_total(L, 1) + thread_seconds() - since;
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	lua_rawset(L, STARTS);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	lua_rawset(L, TOTALS);
	lua_pushnumber(L, total);
	return 1;
}

static int
open_profile(lua_State *L) {
	static const luaL_Reg funcs[] = {
		{ "start", lstart },
		{ "stop", lstop },
		{ "resume", lresume },
		{ "wrap", lwrap },
		{ NULL, NULL },
	};
	luaL_newlibtable(L, funcs);
	lua_newtable(L);	/* starts */
	lua_newtable(L);	/* totals */
	/* coroutines must stay collectable while profiled */
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "kv");
	lua_setfield(L, -2, "__mode");
	lua_pushvalue(L, -1);
	lua_setmetatable(L, -3);
	lua_setmetatable(L, -3);
	luaL_setfuncs(L, funcs, 2);
	return 1;
}

/* ---- skynet.codecache: compiled chunks shared by every snlua in the process ----
 * A file is compiled once into a shared chunk (skynet_shared_chunk.h): states that load
 * it share its code and debug information and build only their own constants. As
 * upstream, a cached file is not re-read until clear(); mode() picks per state whether
 * loads fill the cache (ON), only use it (EXIST) or bypass it (OFF).
 */

enum { CACHE_OFF, CACHE_EXIST, CACHE_ON };
static const char *const cache_modes[] = { "OFF", "EXIST", "ON", NULL };
static const char cache_mode_key = 0;	/* its address keys the mode in the registry */

#define CACHE_SLOTS 1024

struct chunk {
	struct chunk *next;
	ATOM_INT ref;	/* one for the cache, one per load in progress */
	struct skynet_shared_chunk *shared;
	char name[];
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chunk *cache_slots[CACHE_SLOTS];

static unsigned
name_slot(const char *name) {
	unsigned h = 2166136261u;
	for (; *name; name++) {
		h = (h ^ (unsigned char)*name) * 16777619u;
	}
	return h % CACHE_SLOTS;
}

static void
chunk_release(struct chunk *c) {
	if (ATOM_FDEC(&c->ref) == 1) {
		skynet_shared_chunk_release(c->shared);
		free(c);
	}
}

/* The cached chunk for name with a reference taken, or NULL. */
static struct chunk *
chunk_acquire(const char *name) {
	struct chunk *c;
	pthread_mutex_lock(&cache_lock);
	for (c = cache_slots[name_slot(name)]; c; c = c->next) {
		if (strcmp(c->name, name) == 0) {
			ATOM_FINC(&c->ref);
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return c;
}

/*
 * Caches shared under name, unless another service cached the same file first; returns
 * the cached chunk with a reference taken, or NULL (shared released) without memory.
 */
static struct chunk *
chunk_insert(const char *name, struct skynet_shared_chunk *shared) {
	size_t len = strlen(name);
	unsigned slot = name_slot(name);
	struct chunk *c = malloc(sizeof(*c) + len + 1);
	struct chunk *old;
	if (c == NULL) {
		skynet_shared_chunk_release(shared);
		return NULL;
	}
	memcpy(c->name, name, len + 1);
	c->shared = shared;
	ATOM_INIT(&c->ref, 2);
	pthread_mutex_lock(&cache_lock);
	for (old = cache_slots[slot]; old; old = old->next) {
		if (strcmp(old->name, name) == 0) {
			ATOM_FINC(&old->ref);
			break;
		}
	}
	if (old == NULL) {
		c->next = cache_slots[slot];
		cache_slots[slot] = c;
	}
	pthread_mutex_unlock(&cache_lock);
	if (old) {
		skynet_shared_chunk_release(shared);
		free(c);
		return old;
	}
	return c;
}

static int
cache_clear(lua_State *L) {
	struct chunk *dropped = NULL;
	int i;
	(void)L;
	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_SLOTS; i++) {
		while (cache_slots[i]) {
			struct chunk *c = cache_slots[i];
			cache_slots[i] = c->next;
			c->next = dropped;
			dropped = c;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	while (dropped) {
		struct chunk *c = dropped;
		dropped = c->next;
		chunk_release(c);
	}
	return 0;
}

static int
cache_level(lua_State *L) {
	int level = CACHE_ON;
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_mode_key) == LUA_TNUMBER) {
		level = (int)lua_tointeger(L, -1);
	}
	lua_pop(L, 1);
	return level;
}

static int
cache_mode(lua_State *L) {
	if (lua_isnoneornil(L, 1)) {
		lua_pushstring(L, cache_modes[cache_level(L)]);
		return 1;
	}
	lua_pushinteger(L, luaL_checkoption(L, 1, NULL, cache_modes));
	lua_rawsetp(L, LUA_REGISTRYINDEX, &cache_mode_key);
	return 0;
}

/* luaL_loadfilex through the cache; same results and error messages. */
static int
load_cached(lua_State *L, const char *name, const char *mode) {
	int level = cache_level(L);
	struct chunk *c;
	int status;
	if (level == CACHE_OFF) {
		return luaL_loadfilex(L, name, mode);
	}
	c = chunk_acquire(name);
	if (c == NULL && level == CACHE_ON) {
		struct skynet_shared_chunk *shared;
		status = skynet_shared_chunk_compile(L, name, mode, &shared);
		if (status != LUA_OK) {
			return status;
		}
		c = shared ? chunk_insert(name, shared) : NULL;
	}
	if (c == NULL) {
		return luaL_loadfilex(L, name, mode);
	}
	status = skynet_shared_chunk_load(L, c->shared);
	chunk_release(c);
	return status;
}

/* loadfile([filename [, mode [, env]]]) as the base library's, cached by file name. */
static int
cached_loadfile(lua_State *L) {
	const char *name = luaL_optstring(L, 1, NULL);
	const char *mode = luaL_optstring(L, 2, NULL);
	int env = !lua_isnone(L, 3) ? 3 : 0;
	int status = name ? load_cached(L, name, mode) : luaL_loadfilex(L, NULL, mode);
	if (status != LUA_OK) {
		luaL_pushfail(L);
		lua_insert(L, -2);
		return 2;
	}
	if (env) {
		lua_pushvalue(L, env);
		if (lua_setupvalue(L, -2, 1) == NULL) {
			lua_pop(L, 1);
		}
	}
	return 1;
}

/* package.searchers[2] through the cache: finds name on package.path, as stock Lua. */
static int
cached_searcher(lua_State *L) {
	const char *name = luaL_checkstring(L, 1);
	const char *file;
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "searchpath");
	lua_pushvalue(L, 1);
	lua_getfield(L, -3, "path");
	if (lua_type(L, -1) != LUA_TSTRING) {
		return luaL_error(L, "'package.path' must be a string");
	}
	lua_call(L, 2, 2);
	file = lua_tostring(L, -2);
	if (file == NULL) {
		return 1;	/* searchpath's list of tried files */
	}
	if (load_cached(L, file, NULL) != LUA_OK) {
		return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s",
			name, file, lua_tostring(L, -1));
	}
	lua_pushstring(L, file);
	return 2;
}

static int
open_codecache(lua_State *L) {
	static const luaL_Reg funcs[] = {
		{ "clear", cache_clear },
		{ "mode", cache_mode },
		{ "loadfile", cached_loadfile },
		{ NULL, NULL },
	};
	luaL_newlib(L, funcs);
	return 1;
}

/* Every Lua file the service loads (loader, require, loadfile) goes through the cache. */
static void
install_codecache(lua_State *L) {
	luaL_requiref(L, "skynet.codecache", open_codecache, 0);
	lua_getfield(L, -1, "loadfile");
	lua_setglobal(L, "loadfile");
	lua_pop(L, 1);
	lua_getglobal(L, "package");
	if (lua_getfield(L, -1, "searchers") == LUA_TTABLE) {
		lua_pushcfunction(L, cached_searcher);
		lua_rawseti(L, -2, 2);
	}
	lua_pop(L, 2);
}

/* ---- boot ---- */

static int
traceback(lua_State *L) {
	const char *msg = lua_tostring(L, 1);
	if (msg == NULL) {
		lua_pushliteral(L, "(no error message)");
	} else {
		luaL_traceback(L, L, msg, 1);
	}
	return 1;
}

static void
set_global_env(lua_State *L, struct skynet_context *ctx, const char *global, const char *key, const char *def) {
	const char *v = skynet_command(ctx, "GETENV", key);
	lua_pushstring(L, v ? v : def);
	lua_setglobal(L, global);
}

static const char *
env_or(struct skynet_context *ctx, const char *key, const char *def) {
	const char *v = skynet_command(ctx, "GETENV", key);
	return v ? v : def;
}

/* Installs skynet.profile and makes coroutine.resume/wrap the profiling versions. */
static void
install_profile(lua_State *L) {
	int lib;
	luaL_requiref(L, "skynet.profile", open_profile, 0);
	lib = lua_gettop(L);
	lua_getglobal(L, "coroutine");
	lua_getfield(L, lib, "resume");
	lua_setfield(L, -2, "resume");
	lua_getfield(L, lib, "wrap");
	lua_setfield(L, -2, "wrap");
	lua_settop(L, lib - 1);
}

/* Applies a limit that skynet.memlimit left in the registry while the service loaded. */
static void
apply_memlimit(struct snlua *s) {
	lua_State *L = s->L;
	if (lua_getfield(L, LUA_REGISTRYINDEX, "memlimit") == LUA_TNUMBER) {
		int exact;
		lua_Integer n = lua_tointegerx(L, -1, &exact);
		size_t limit = exact ? (size_t)n : (size_t)lua_tonumber(L, -1);
		s->mem_limit = limit;
		skynet_error(s->ctx, "Set memory limit to %.2f M", (float)(limit / MIB));
		lua_pushnil(L);
		lua_setfield(L, LUA_REGISTRYINDEX, "memlimit");
	}
	lua_pop(L, 1);
}

static void
report_failure(struct skynet_context *ctx) {
	skynet_sendname(ctx, 0, ".launcher", PTYPE_TEXT, 0, (void *)"ERROR", 5);
}

/* Returns 0 when the service is up; otherwise the failure has been logged and reported. */
static int
boot(struct snlua *s, const char *args, size_t sz) {
	lua_State *L = s->L;
	struct skynet_context *ctx = s->ctx;
	const char *loader;

	lua_gc(L, LUA_GCSTOP, 0);
	/* the standard libraries must not read LUA_PATH/LUA_CPATH from the OS */
	lua_pushboolean(L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
	luaL_openlibs(L);
	install_profile(L);
	lua_pushlightuserdata(L, ctx);
	lua_setfield(L, LUA_REGISTRYINDEX, "skynet_context");
	install_codecache(L);
	lua_gc(L, LUA_GCGEN, 0, 0);

	set_global_env(L, ctx, "LUA_PATH", "lua_path", "./lualib/?.lua;./lualib/?/init.lua");
	set_global_env(L, ctx, "LUA_CPATH", "lua_cpath", "./luaclib/?.so");
	set_global_env(L, ctx, "LUA_SERVICE", "luaservice", "./service/?.lua");
	set_global_env(L, ctx, "LUA_PRELOAD", "preload", NULL);

	lua_settop(L, 0);
	lua_pushcfunction(L, traceback);
	loader = env_or(ctx, "lualoader", "./lualib/loader.lua");
	if (load_cached(L, loader, NULL) != LUA_OK) {
		skynet_error(ctx, "Can't load %s : %s", loader, lua_tostring(L, -1));
		report_failure(ctx);
		return 1;
	}
	lua_pushlstring(L, args, sz);
	if (lua_pcall(L, 1, 0, 1) != LUA_OK) {
		skynet_error(ctx, "lua loader error : %s", lua_tostring(L, -1));
		report_failure(ctx);
		return 1;
	}
	lua_settop(L, 0);
	apply_memlimit(s);
	lua_gc(L, LUA_GCRESTART, 0);
	return 0;
}

/* The callback for the one boot message; the loaded service installs its own callback. */
static int
boot_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct snlua *s = ud;
	(void)source;
	skynet_callback(ctx, NULL, NULL);
	if ((type & 0xffff) != PTYPE_TEXT || session != 0) {
		skynet_error(ctx, "snlua: the first message is not the boot message (type %d)", type);
		skynet_command(ctx, "EXIT", NULL);
		return 0;
	}
	if (boot(s, msg, sz) != 0) {
		skynet_command(ctx, "EXIT", NULL);
	}
	return 0;
}

/* ---- module entry points ---- */

/*
 * Runs on the signalling thread. ATOM_CAS may fail spuriously, hence the loops; the
 * second one stops if the hook has already fired and cleared the trap.
 */
static void
arm_trap(struct snlua *s) {
	for (;;) {
		if (ATOM_LOAD(&s->trap) != 0) {
			return;	/* already pending */
		}
		if (ATOM_CAS(&s->trap, 0, 1)) {
			break;
		}
	}
	lua_sethook((lua_State *)ATOM_LOAD(&s->running), break_hook, LUA_MASKCOUNT, 1);
	while (ATOM_LOAD(&s->trap) == 1 && !ATOM_CAS(&s->trap, 1, -1))
		;
}

struct snlua *
snlua_create(void) {
	struct snlua *s = skynet_malloc(sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->mem_report = FIRST_MEMORY_REPORT;
	ATOM_INIT(&s->trap, 0);
#if LUA_VERSION_NUM >= 505
	s->L = lua_newstate(service_alloc, s, luaL_makeseed(NULL));
#else
	s->L = lua_newstate(service_alloc, s);
#endif
	if (s->L == NULL) {
		skynet_free(s);
		return NULL;
	}
	ATOM_INIT(&s->running, (uintptr_t)s->L);
	return s;
}

int
snlua_init(struct snlua *s, struct skynet_context *ctx, const char *args) {
	size_t sz = args ? strlen(args) : 0;
	const char *self;
	uint32_t handle;
	char *copy = skynet_malloc(sz + 1);
	if (copy == NULL) {
		return 1;
	}
	memcpy(copy, args ? args : "", sz + 1);
	s->ctx = ctx;
	skynet_callback(ctx, s, boot_cb);
	self = skynet_command(ctx, "REG", NULL);
	handle = self ? (uint32_t)strtoul(self + 1, NULL, 16) : 0;
	/* the queue is not scheduled before init returns, so this is the first message */
	if (handle == 0) {
		skynet_free(copy);
		return 1;
	}
	/* the core owns copy from here, even if the send fails */
	if (skynet_send(ctx, 0, handle, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, copy, sz) < 0) {
		return 1;
	}
	return 0;
}

void
snlua_release(struct snlua *s) {
	skynet_shared_chunk_close(s->L);
	skynet_free(s);
}

void
snlua_signal(struct snlua *s, int sig) {
	skynet_error(s->ctx, "recv a signal %d", sig);
	if (sig == 0) {
		arm_trap(s);
	} else if (sig == 1) {
		skynet_error(s->ctx, "Current Memory %.3fK", (float)(s->mem / 1024.0));
	}
}

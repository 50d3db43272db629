/*
 * Shared chunks: a Lua file compiled once, whose read-only parts every state runs in place.
 *
 * Stock Lua cannot hand one prototype to two states: constants must be strings of the
 * state that runs them, since short strings compare by address. So each load clones the
 * prototype tree (headers, constants, nested lists) into the loading state, and the clones
 * point at the chunk's code, line information and local/upvalue descriptions, which are copied
 * into a process-wide arena and never written again.
 *
 * Invariants:
 * - A chunk's template state never collects: its GC is stopped and emergency collections
 *   are off, so the names and sources the shared descriptions point to stay put.
 * - Those strings are made gray (neither white nor black). Collectors only mark white
 *   objects, so no state ever links, recolours or frees them.
 * - Clones die like any prototype. The allocators of the template and of every state that
 *   loads shared chunks skip arena pointers, and a state's allocator tells its state that
 *   the block was never its own (skynet_shared_chunk_free), so its memory count is exact.
 * - A chunk outlives every state that loaded it: each holds a reference until it closes.
 */

#include "skynet_malloc.h"
#include "skynet_shared_chunk.h"

#include <lua.h>
#include <lauxlib.h>
#include <lfunc.h>
#include <lgc.h>
#include <lmem.h>
#include <lobject.h>
#include <lstate.h>
#include <lstring.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_BYTES ((size_t)256 << 20)	/* address space only; pages are used as written */
#define ARENA_ALIGN 16
#define COLOR_BITS (bitmask(BLACKBIT) | WHITEBITS)

struct skynet_shared_chunk {
	lua_State *template;	/* owns the prototypes; its stack anchors the main closure */
	Proto *main;
	atomic_int refs;
};

static pthread_once_t arena_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(char *) arena_base;
static size_t arena_used;	/* guarded by arena_lock */

/* The registry key of a state's set of the chunks it holds a reference to. */
static const char users_key = 0;

static void
arena_reserve(void) {
	void *p = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED) {
		atomic_store_explicit(&arena_base, p, memory_order_release);
	}
}

static int
arena_owns(const void *ptr) {
	const char *base = atomic_load_explicit(&arena_base, memory_order_acquire);
	const char *p = ptr;
	return base != NULL && p >= base && p < base + ARENA_BYTES;
}

/* A copy of size bytes in the arena, or NULL when it is full (or was never reserved). */
static void *
arena_copy(const void *src, size_t size) {
	char *base;
	void *dst = NULL;
	pthread_once(&arena_once, arena_reserve);
	base = atomic_load_explicit(&arena_base, memory_order_acquire);
	if (base == NULL) {
		return NULL;
	}
	pthread_mutex_lock(&arena_lock);
	if (size <= ARENA_BYTES - arena_used) {
		dst = base + arena_used;
		arena_used += (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	}
	pthread_mutex_unlock(&arena_lock);
	if (dst) {
		memcpy(dst, src, size);
	}
	return dst;
}

/* The template states' allocator: arena blocks are never freed, the rest is Lua's heap. */
static void *
template_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
	(void)ud;
	if (ptr != NULL && arena_owns(ptr)) {
		return NULL;	/* only lua_close frees these, and arena space is not reused */
	}
	return skynet_lalloc(ptr, osize, nsize);
}

/* Freezes a template string that clones point to (see the invariants above). */
static void
make_gray(TString *s) {
	if (s != NULL) {
		s->marked = cast_byte(s->marked & ~COLOR_BITS);
		if (s->tt == LUA_VLNGSTR) {
			(void)luaS_hashlongstr(s);	/* hash now, not lazily from many threads */
		}
	}
}

/* Moves one array of p into the arena; the template's copy goes back to its heap. */
#define SHARE_ARRAY(T, p, field, count) do { \
	if ((p)->count > 0) { \
		void *shared = arena_copy((p)->field, sizeof((p)->field[0]) * (size_t)(p)->count); \
		if (shared == NULL) { \
			return 0; \
		} \
		luaM_freearray(T, (p)->field, (size_t)(p)->count); \
		(p)->field = shared; \
	} \
} while (0)

/* Moves the read-only parts of p and its nested prototypes into the arena; 0 if it is full. */
static int
share_proto(lua_State *T, Proto *p) {
	int i;
	SHARE_ARRAY(T, p, code, sizecode);
	SHARE_ARRAY(T, p, lineinfo, sizelineinfo);
	SHARE_ARRAY(T, p, abslineinfo, sizeabslineinfo);
	SHARE_ARRAY(T, p, locvars, sizelocvars);
	SHARE_ARRAY(T, p, upvalues, sizeupvalues);
	make_gray(p->source);
	for (i = 0; i < p->sizelocvars; i++) {
		make_gray(p->locvars[i].varname);
	}
	for (i = 0; i < p->sizeupvalues; i++) {
		make_gray(p->upvalues[i].name);
	}
	for (i = 0; i < p->sizep; i++) {
		if (!share_proto(T, p->p[i])) {
			return 0;
		}
	}
	return 1;
}

int
skynet_shared_chunk_compile(lua_State *L, const char *filename, const char *mode,
		struct skynet_shared_chunk **chunk) {
	struct skynet_shared_chunk *c;
	lua_State *T;
	int status;
	*chunk = NULL;
#if LUA_VERSION_NUM >= 505
	T = lua_newstate(template_alloc, NULL, luaL_makeseed(NULL));
#else
	T = lua_newstate(template_alloc, NULL);
#endif
	if (T == NULL) {
		lua_pushliteral(L, "not enough memory");
		return LUA_ERRMEM;
	}
	lua_gc(T, LUA_GCSTOP, 0);
	G(T)->gcstopem = 1;	/* not even an allocation failure may collect */
	status = luaL_loadfilex(T, filename, mode);
	if (status != LUA_OK) {
		lua_pushstring(L, lua_tostring(T, -1));
		lua_close(T);
		return status;
	}
	c = skynet_lalloc(NULL, 0, sizeof(*c));	/* the process's, not the compiling service's */
	if (c == NULL || !share_proto(T, clLvalue(s2v(T->top.p - 1))->p)) {
		skynet_lalloc(c, sizeof(*c), 0);
		lua_close(T);
		return LUA_OK;
	}
	c->template = T;
	c->main = clLvalue(s2v(T->top.p - 1))->p;
	atomic_init(&c->refs, 1);
	*chunk = c;
	return LUA_OK;
}

void
skynet_shared_chunk_release(struct skynet_shared_chunk *c) {
	if (atomic_fetch_sub(&c->refs, 1) == 1) {
		lua_close(c->template);
		skynet_lalloc(c, sizeof(*c), 0);
	}
}

/*
 * A prototype of L for the template prototype src: its own header, constants and nested
 * list, the shared arrays of src for the rest. It is stored in *slot (already reachable
 * by L's collector) before anything else is allocated, and is consistent at each
 * allocation, as lundump keeps its prototypes for an emergency collection.
 */
static void
clone_proto(lua_State *L, GCObject *owner, Proto **slot, const Proto *src) {
	Proto *f = luaF_newproto(L);
	int i;
	*slot = f;
	luaC_objbarrier(L, owner, f);
#if LUA_VERSION_NUM >= 505
	f->flag = src->flag;
#else
	f->is_vararg = src->is_vararg;
#endif
	f->numparams = src->numparams;
	f->maxstacksize = src->maxstacksize;
	f->linedefined = src->linedefined;
	f->lastlinedefined = src->lastlinedefined;
	f->code = src->code;
	f->sizecode = src->sizecode;
	f->lineinfo = src->lineinfo;
	f->sizelineinfo = src->sizelineinfo;
	f->abslineinfo = src->abslineinfo;
	f->sizeabslineinfo = src->sizeabslineinfo;
	f->locvars = src->locvars;
	f->sizelocvars = src->sizelocvars;
	f->upvalues = src->upvalues;
	f->sizeupvalues = src->sizeupvalues;
	f->source = src->source;

	f->k = luaM_newvectorchecked(L, src->sizek, TValue);
	for (i = 0; i < src->sizek; i++) {
		setnilvalue(&f->k[i]);
	}
	f->sizek = src->sizek;
	for (i = 0; i < src->sizek; i++) {
		const TValue *k = &src->k[i];
		if (ttisstring(k)) {
			TString *s = tsvalue(k);
			TString *own = luaS_newlstr(L, getstr(s), tsslen(s));
			setsvalue(L, &f->k[i], own);
			luaC_objbarrier(L, f, own);
		} else {
			setobj(L, &f->k[i], k);	/* numbers, booleans, nil: no object */
		}
	}

	f->p = luaM_newvectorchecked(L, src->sizep, Proto *);
	for (i = 0; i < src->sizep; i++) {
		f->p[i] = NULL;
	}
	f->sizep = src->sizep;
	for (i = 0; i < src->sizep; i++) {
		clone_proto(L, obj2gco(f), &f->p[i], src->p[i]);
	}
}

/* lua_CFunction(chunk): pushes a new closure of a fresh clone of chunk, as lua_load does. */
static int
load_protected(lua_State *L) {
	struct skynet_shared_chunk *c = lua_touserdata(L, 1);
	LClosure *cl;
	luaL_checkstack(L, 4, NULL);
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &users_key) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &users_key);
	}
	if (lua_rawgetp(L, -1, c) == LUA_TNIL) {
		lua_pushboolean(L, 1);
		lua_rawsetp(L, -3, c);
		atomic_fetch_add(&c->refs, 1);	/* released by skynet_shared_chunk_close */
	}
	lua_pop(L, 2);
	cl = luaF_newLclosure(L, c->main->sizeupvalues);
	setclLvalue2s(L, L->top.p, cl);
	L->top.p++;	/* room checked above */
	clone_proto(L, obj2gco(cl), &cl->p, c->main);
	luaF_initupvals(L, cl);
	if (cl->nupvalues > 0) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
		lua_setupvalue(L, -2, 1);
	}
	return 1;
}

int
skynet_shared_chunk_load(lua_State *L, struct skynet_shared_chunk *c) {
	/* a C function always has LUA_MINSTACK free slots, which covers these two */
	lua_pushcfunction(L, load_protected);
	lua_pushlightuserdata(L, c);
	return lua_pcall(L, 1, 1, 0);
}

int
skynet_shared_chunk_free(lua_State *L, void *ptr, size_t osize) {
	if (!arena_owns(ptr)) {
		return 0;
	}
	/* luaM_free_ counts osize as freed once we return; the state never counted it */
#if LUA_VERSION_NUM >= 505
	G(L)->GCdebt -= (l_mem)osize;
#else
	G(L)->GCdebt += (l_mem)osize;
#endif
	return 1;
}

void
skynet_shared_chunk_close(lua_State *L) {
	struct skynet_shared_chunk **used = NULL;
	size_t n = 0, i;
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &users_key) == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			n++;
			lua_pop(L, 1);
		}
		used = n ? skynet_malloc(n * sizeof(*used)) : NULL;
		if (used) {
			i = 0;
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				used[i++] = lua_touserdata(L, -2);
				lua_pop(L, 1);
			}
		} else {
			n = 0;	/* no memory to remember them: the chunks stay, nothing breaks */
		}
	}
	lua_close(L);
	for (i = 0; i < n; i++) {
		skynet_shared_chunk_release(used[i]);
	}
	skynet_free(used);
}

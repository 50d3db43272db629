/*
 * skynet.stm: one writer publishes successive snapshots of a buffer; readers in any
 * service pick up the newest one.
 *
 * An object is shared by its writer and its readers (reference count 'refs').
 * Each snapshot is shared by the object (while current) and by every reader that
 * last read it. The lock only guards swapping the current snapshot against a
 * reader taking a reference to it.
 */

#define LUA_LIB

#include "skynet_malloc.h"
#include "atomic.h"
#include "rwlock.h"

#include <lua.h>
#include <lauxlib.h>
#include <stdint.h>
#include <string.h>

struct stm_snapshot {
	ATOM_INT refs;
	uint32_t sz;
	void *msg;	/* malloc'd; freed with the last reference */
};

struct stm_object {
	struct rwlock lock;
	ATOM_INT refs;
	struct stm_snapshot *current;	/* NULL once the writer is gone */
};

static struct stm_snapshot *
snapshot_new(void *msg, uint32_t sz) {
	struct stm_snapshot *s = skynet_malloc(sizeof(*s));
	if (s == NULL)
		return NULL;
	ATOM_INIT(&s->refs, 1);
	s->sz = sz;
	s->msg = msg;
	return s;
}

static void
snapshot_drop(struct stm_snapshot *s) {
	if (s && ATOM_FDEC(&s->refs) == 1) {
		skynet_free(s->msg);
		skynet_free(s);
	}
}

/* the current snapshot with a reference for the caller, or NULL */
static struct stm_snapshot *
object_take(struct stm_object *obj) {
	rwlock_rlock(&obj->lock);
	struct stm_snapshot *s = obj->current;
	if (s)
		ATOM_FINC(&s->refs);
	rwlock_runlock(&obj->lock);
	return s;
}

static void
object_publish(struct stm_object *obj, struct stm_snapshot *s) {
	rwlock_wlock(&obj->lock);
	struct stm_snapshot *old = obj->current;
	obj->current = s;
	rwlock_wunlock(&obj->lock);
	snapshot_drop(old);
}

static void
object_drop(struct stm_object *obj) {
	if (ATOM_FDEC(&obj->refs) == 1)
		skynet_free(obj);
}

/*
 * Lua side. A writer is a full userdata (callable to update); stm.copy(writer)
 * gives a lightuserdata carrying one more reference to the object, which another
 * service turns into a reader with stm.newcopy. Upvalue 1 of each function is the
 * metatable its objects carry.
 */

struct writer_box {
	struct stm_object *obj;
};

struct reader_box {
	struct stm_object *obj;
	struct stm_snapshot *last;	/* what the reader saw last, referenced */
};

/* the payload at idx: lightuserdata + size is taken over, a string is copied */
static void *
check_payload(lua_State *L, int idx, uint32_t *sz) {
	void *msg;
	size_t len;
	if (lua_type(L, idx) == LUA_TLIGHTUSERDATA) {
		lua_Integer n = luaL_checkinteger(L, idx + 1);
		luaL_argcheck(L, n >= 0 && n <= (lua_Integer)UINT32_MAX, idx + 1, "invalid size");
		msg = lua_touserdata(L, idx);
		len = (size_t)n;
	} else {
		const char *s = luaL_checklstring(L, idx, &len);
		luaL_argcheck(L, len <= UINT32_MAX, idx, "string too long");
		msg = skynet_malloc(len > 0 ? len : 1);
		if (msg == NULL)
			luaL_error(L, "stm out of memory");
		memcpy(msg, s, len);
	}
	*sz = (uint32_t)len;
	return msg;
}

/* the userdata at idx if it carries this function's metatable */
static void *
check_box(lua_State *L, int idx, const char *what) {
	void *box = lua_touserdata(L, idx);
	int ok = box != NULL && lua_getmetatable(L, idx);
	if (ok) {
		ok = lua_rawequal(L, -1, lua_upvalueindex(1));
		lua_pop(L, 1);
	}
	if (!ok)
		luaL_typeerror(L, idx, what);
	return box;
}

static struct stm_object *
check_writer(lua_State *L, int idx) {
	struct writer_box *w = check_box(L, idx, "stm writer");
	if (w->obj == NULL)
		luaL_error(L, "stm writer released");
	return w->obj;
}

/* stm.new(msg, sz | string) -> writer */
static int
lnew(lua_State *L) {
	struct writer_box *w = lua_newuserdatauv(L, sizeof(*w), 0);
	w->obj = NULL;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_setmetatable(L, -2);
	uint32_t sz;
	void *msg = check_payload(L, 1, &sz);
	struct stm_object *obj = skynet_malloc(sizeof(*obj));
	struct stm_snapshot *s = obj ? snapshot_new(msg, sz) : NULL;
	if (s == NULL) {
		skynet_free(obj);
		skynet_free(msg);
		return luaL_error(L, "stm out of memory");
	}
	rwlock_init(&obj->lock);
	ATOM_INIT(&obj->refs, 1);
	obj->current = s;
	w->obj = obj;
	return 1;
}

/* writer(msg, sz | string): publish a new snapshot */
static int
lupdate(lua_State *L) {
	struct stm_object *obj = check_writer(L, 1);
	uint32_t sz;
	void *msg = check_payload(L, 2, &sz);
	struct stm_snapshot *s = snapshot_new(msg, sz);
	if (s == NULL) {
		skynet_free(msg);
		return luaL_error(L, "stm out of memory");
	}
	object_publish(obj, s);
	return 0;
}

/* the writer goes away: readers keep what they read, but see nothing new */
static int
lwriter_gc(lua_State *L) {
	struct writer_box *w = lua_touserdata(L, 1);
	if (w && w->obj) {
		object_publish(w->obj, NULL);
		object_drop(w->obj);
		w->obj = NULL;
	}
	return 0;
}

/* stm.copy(writer) -> lightuserdata for stm.newcopy, holding one reference */
static int
lcopy(lua_State *L) {
	struct stm_object *obj = check_writer(L, 1);
	ATOM_FINC(&obj->refs);
	lua_pushlightuserdata(L, obj);
	return 1;
}

/* stm.newcopy(pointer from stm.copy) -> reader; the reader owns that reference */
static int
lnewcopy(lua_State *L) {
	luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
	struct stm_object *obj = lua_touserdata(L, 1);
	luaL_argcheck(L, obj != NULL, 1, "null stm object");
	struct reader_box *r = lua_newuserdatauv(L, sizeof(*r), 0);
	r->obj = obj;
	r->last = NULL;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_setmetatable(L, -2);
	return 1;
}

/*
 * reader(f [, ud]): if a snapshot newer than the last read exists, returns true and
 * f(msg, sz, ud)'s results; otherwise false. The reader keeps the snapshot alive
 * until the next one, so f's results may point into it.
 */
static int
lread(lua_State *L) {
	struct reader_box *r = check_box(L, 1, "stm reader");
	luaL_checktype(L, 2, LUA_TFUNCTION);
	if (r->obj == NULL)
		return luaL_error(L, "stm reader released");
	struct stm_snapshot *s = object_take(r->obj);
	if (s == r->last) {
		snapshot_drop(s);
		lua_pushboolean(L, 0);
		return 1;
	}
	snapshot_drop(r->last);
	r->last = s;
	if (s == NULL) {
		lua_pushboolean(L, 0);
		return 1;
	}
	lua_settop(L, 3);
	lua_pushboolean(L, 1);
	lua_replace(L, 1);
	lua_pushlightuserdata(L, s->msg);
	lua_pushinteger(L, (lua_Integer)s->sz);
	lua_rotate(L, 3, -1);	/* [true, f, msg, sz, ud] */
	lua_call(L, 3, LUA_MULTRET);
	return lua_gettop(L);
}

static int
lreader_gc(lua_State *L) {
	struct reader_box *r = lua_touserdata(L, 1);
	if (r && r->obj) {
		snapshot_drop(r->last);
		r->last = NULL;
		object_drop(r->obj);
		r->obj = NULL;
	}
	return 0;
}

/* a metatable with __gc and __call, then functions that see it as upvalue 1 */
static void
set_class(lua_State *L, lua_CFunction gc, lua_CFunction call, const luaL_Reg *funcs) {
	lua_createtable(L, 0, 2);
	lua_pushcfunction(L, gc);
	lua_setfield(L, -2, "__gc");
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, call, 1);
	lua_setfield(L, -2, "__call");
	luaL_setfuncs(L, funcs, 1);
}

LUAMOD_API int
luaopen_skynet_stm(lua_State *L) {
	luaL_checkversion(L);
	luaL_Reg writer[] = {
		{ "new", lnew },
		{ "copy", lcopy },
		{ NULL, NULL },
	};
	luaL_Reg reader[] = {
		{ "newcopy", lnewcopy },
		{ NULL, NULL },
	};
	lua_createtable(L, 0, 3);
	set_class(L, lwriter_gc, lupdate, writer);
	set_class(L, lreader_gc, lread, reader);
	return 1;
}

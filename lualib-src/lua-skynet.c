/*
 * skynet.core: the Lua face of the core API (send, command, callback ...).
 * Functions that talk to the core carry the service's skynet_context as upvalue 1.
 */

#define LUA_LIB

#include "skynet.h"
#include "lua-seri.h"

#include <lua.h>
#include <lauxlib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COLOR_RED "\x1B[31m"
#define COLOR_OFF "\x1B[0m"

/* the registry slot (keyed by this address) anchoring the newest callback box */
static const char callback_key = 0;

/* the source lines a trace line quotes at most */
#define TRACE_LEVELS 3

static inline struct skynet_context *
self_context(lua_State *L) {
	return lua_touserdata(L, lua_upvalueindex(1));
}

static int64_t
monotonic_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Callback. Each skynet.callback() makes a box holding a dedicated Lua thread whose
 * stack is [traceback, f]; every message is a protected call of f on that thread.
 * The box is kept in the registry. The box it replaces may still be running (a
 * service can change its callback from inside it), so the new box keeps the old one
 * alive (user value 2) until the core first calls the new callback.
 */

struct callback_box {
	lua_State *co;
};

static int
traceback(lua_State *L) {
	const char *msg = lua_tostring(L, 1);
	if (msg)
		luaL_traceback(L, L, msg, 1);
	else
		lua_pushliteral(L, "(no error message)");
	return 1;
}

static void
report_failure(struct skynet_context *ctx, lua_State *co, int status, int session, uint32_t source, size_t sz) {
	const char *self = skynet_command(ctx, "REG", NULL);
	if (self == NULL)
		self = "?";
	switch (status) {
	case LUA_ERRRUN:
		skynet_error(ctx, "lua call [%x to %s : %d msgsz = %zu] error : " COLOR_RED "%s" COLOR_OFF,
			source, self, session, sz, lua_tostring(co, -1));
		break;
	case LUA_ERRMEM:
		skynet_error(ctx, "lua memory error : [%x to %s : %d]", source, self, session);
		break;
	case LUA_ERRERR:
		skynet_error(ctx, "lua error in error : [%x to %s : %d]", source, self, session);
		break;
	default:
		skynet_error(ctx, "lua error %d : [%x to %s : %d]", status, source, self, session);
		break;
	}
}

/* f(type, msg, sz, session, source) on the box's thread; errors are logged, never raised */
static void
dispatch(struct skynet_context *ctx, struct callback_box *box, int type, int session, uint32_t source, const void *msg, size_t sz) {
	lua_State *co = box->co;
	lua_pushvalue(co, 2);
	lua_pushinteger(co, type);
	lua_pushlightuserdata(co, (void *)msg);
	lua_pushinteger(co, (lua_Integer)sz);
	lua_pushinteger(co, session);
	lua_pushinteger(co, source);
	int status = lua_pcall(co, 5, 0, 1);
	if (status != LUA_OK) {
		report_failure(ctx, co, status, session, source, sz);
		lua_settop(co, 2);
	}
}

static int
message_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	dispatch(ctx, ud, type, session, source, msg, sz);
	return 0;
}

/* forward mode: the Lua side passed the message on (or freed it), so the core must not free it */
static int
forward_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	dispatch(ctx, ud, type, session, source, msg, sz);
	return 1;
}

/* the previous callback has returned for good once the core calls the new one: let it go */
static void
release_previous(lua_State *co) {
	if (lua_rawgetp(co, LUA_REGISTRYINDEX, &callback_key) == LUA_TUSERDATA) {
		lua_pushnil(co);
		lua_setiuservalue(co, -2, 2);
	}
	lua_pop(co, 1);
}

static int
first_message_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct callback_box *box = ud;
	release_previous(box->co);
	skynet_callback(ctx, box, message_cb);
	return message_cb(ctx, box, type, session, source, msg, sz);
}

static int
first_forward_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct callback_box *box = ud;
	release_previous(box->co);
	skynet_callback(ctx, box, forward_cb);
	return forward_cb(ctx, box, type, session, source, msg, sz);
}

static int
lcallback(lua_State *L) {
	struct skynet_context *ctx = self_context(L);
	int forward = lua_toboolean(L, 2);
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_settop(L, 1);
	struct callback_box *box = lua_newuserdatauv(L, sizeof(*box), 2);
	box->co = lua_newthread(L);
	lua_setiuservalue(L, 2, 1);	/* the box anchors its thread */
	lua_pushcfunction(box->co, traceback);
	lua_pushvalue(L, 1);
	lua_xmove(L, box->co, 1);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &callback_key);
	lua_setiuservalue(L, 2, 2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &callback_key);
	skynet_callback(ctx, box, forward ? first_forward_cb : first_message_cb);
	return 0;
}

/* Commands */

static const char *
opt_parm(lua_State *L) {
	return lua_isnoneornil(L, 2) ? NULL : luaL_checkstring(L, 2);
}

static int
lcommand(lua_State *L) {
	const char *cmd = luaL_checkstring(L, 1);
	const char *result = skynet_command(self_context(L), cmd, opt_parm(L));
	if (result == NULL)
		return 0;
	lua_pushstring(L, result);
	return 1;
}

static int
hex_digit(int c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* a ":hex" result becomes the integer address; anything else gives nothing */
static int
laddresscommand(lua_State *L) {
	const char *cmd = luaL_checkstring(L, 1);
	const char *result = skynet_command(self_context(L), cmd, opt_parm(L));
	if (result == NULL || result[0] != ':')
		return 0;
	uint32_t addr = 0;
	const char *s;
	for (s = result + 1; *s; s++) {
		int d = hex_digit((unsigned char)*s);
		if (d < 0)
			return 0;
		addr = addr * 16 + (uint32_t)d;
	}
	lua_pushinteger(L, addr);
	return 1;
}

/* the parameter may be a number; the result is parsed as an integer, else as a real */
static int
lintcommand(lua_State *L) {
	const char *cmd = luaL_checkstring(L, 1);
	const char *parm = NULL;
	char digits[32];
	if (lua_isnumber(L, 2)) {
		int32_t n = (int32_t)luaL_checkinteger(L, 2);
		snprintf(digits, sizeof(digits), "%" PRId32, n);
		parm = digits;
	} else {
		parm = opt_parm(L);
	}
	const char *result = skynet_command(self_context(L), cmd, parm);
	if (result == NULL)
		return 0;
	/* an empty result reads as 0, as upstream's does */
	char *end;
	long long i = strtoll(result, &end, 0);
	if (*end == '\0') {
		lua_pushinteger(L, (lua_Integer)i);
		return 1;
	}
	double d = strtod(result, &end);
	if (*end == '\0') {
		lua_pushnumber(L, d);
		return 1;
	}
	return luaL_error(L, "Invalid result %s", result);
}

static int
lgenid(lua_State *L) {
	int session = skynet_send(self_context(L), 0, 0, PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
	lua_pushinteger(L, session);
	return 1;
}

/*
 * Sending. Arguments from 'at': type, session (nil allocates one), then either a
 * string (copied by the core; empty means no payload) or lightuserdata + size
 * (handed over to the core, which frees it).
 */
static int
send_from(lua_State *L, uint32_t source, int at) {
	struct skynet_context *ctx = self_context(L);
	uint32_t dest = (uint32_t)lua_tointeger(L, 1);
	const char *name = NULL;
	if (dest == 0) {
		if (lua_type(L, 1) == LUA_TNUMBER)
			return luaL_error(L, "Invalid service address 0");
		name = lua_tostring(L, 1);
		if (name == NULL)
			return luaL_error(L, "dest address type (%s) must be a string or number.", luaL_typename(L, 1));
	}
	int type = (int)luaL_checkinteger(L, at);
	int session = 0;
	if (lua_isnil(L, at + 1))
		type |= PTYPE_TAG_ALLOCSESSION;
	else
		session = (int)luaL_checkinteger(L, at + 1);

	void *msg;
	size_t sz;
	switch (lua_type(L, at + 2)) {
	case LUA_TSTRING:
		msg = (void *)lua_tolstring(L, at + 2, &sz);
		if (sz == 0)
			msg = NULL;
		break;
	case LUA_TLIGHTUSERDATA:
		msg = lua_touserdata(L, at + 2);
		sz = (size_t)luaL_checkinteger(L, at + 3);
		type |= PTYPE_TAG_DONTCOPY;
		break;
	default:
		return luaL_error(L, "invalid param %s", luaL_typename(L, at + 2));
	}
	if (name)
		session = skynet_sendname(ctx, source, name, type, session, msg, sz);
	else
		session = skynet_send(ctx, source, dest, type, session, msg, sz);
	if (session >= 0) {
		lua_pushinteger(L, session);
		return 1;
	}
	if (session == -2) {
		/* the message is too large */
		lua_pushboolean(L, 0);
		return 1;
	}
	/* no such destination */
	return 0;
}

/* send(dest, type, session, msg [, sz]) */
static int
lsend(lua_State *L) {
	return send_from(L, 0, 2);
}

/* redirect(dest, source, type, session, msg [, sz]) */
static int
lredirect(lua_State *L) {
	uint32_t source = (uint32_t)luaL_checkinteger(L, 2);
	return send_from(L, source, 3);
}

/* Logging */

/* the arguments as tostring() shows them, separated by spaces */
static int
lerror(lua_State *L) {
	int n = lua_gettop(L);
	size_t len;
	const char *s;
	if (n <= 1) {
		lua_settop(L, 1);
		s = luaL_tolstring(L, 1, &len);
	} else {
		luaL_Buffer b;
		int i;
		luaL_buffinit(L, &b);
		for (i = 1; i <= n; i++) {
			if (i > 1)
				luaL_addchar(&b, ' ');
			luaL_tolstring(L, i, NULL);
			luaL_addvalue(&b);
		}
		luaL_pushresult(&b);
		s = lua_tolstring(L, -1, &len);
	}
	skynet_error(self_context(L), "%*s", (int)len, s);
	return 0;
}

/* trace(tag, user [, co] [, level]): with a level, up to TRACE_LEVELS source lines from there */
static int
ltrace(lua_State *L) {
	struct skynet_context *ctx = self_context(L);
	const char *tag = luaL_checkstring(L, 1);
	const char *user = luaL_checkstring(L, 2);
	int64_t now = monotonic_ns();
	if (lua_isnoneornil(L, 3)) {
		skynet_error(ctx, "<TRACE %s> %" PRId64 " %s", tag, now, user);
		return 0;
	}
	lua_State *co = L;
	int level;
	if (lua_isthread(L, 3)) {
		co = lua_tothread(L, 3);
		level = (int)luaL_optinteger(L, 4, 1);
	} else {
		level = (int)luaL_optinteger(L, 3, 1);
	}
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	int found = 0;
	lua_Debug ar;
	while (found < TRACE_LEVELS && lua_getstack(co, level++, &ar)) {
		lua_getinfo(co, "Sl", &ar);
		if (ar.currentline < 0)
			continue;	/* C functions have no line to show */
		lua_pushfstring(L, "%s%s:%d", found ? " " : " : ", ar.source, ar.currentline);
		luaL_addvalue(&b);
		found++;
	}
	luaL_pushresult(&b);
	skynet_error(ctx, "<TRACE %s> %" PRId64 " %s%s", tag, now, user, lua_tostring(L, -1));
	return 0;
}

/* Messages as values */

/* tostring(msg, sz): a Lua string copy of a message */
static int
ltostring(lua_State *L) {
	if (lua_isnoneornil(L, 1))
		return 0;
	const char *msg = lua_touserdata(L, 1);
	lua_Integer sz = luaL_checkinteger(L, 2);
	luaL_argcheck(L, sz >= 0, 2, "negative size");
	if (msg == NULL && sz > 0)
		return luaL_error(L, "skynet.tostring null pointer");
	lua_pushlstring(L, msg ? msg : "", (size_t)sz);
	return 1;
}

/* trash(msg, sz): free a message buffer; strings belong to Lua and are left alone */
static int
ltrash(lua_State *L) {
	switch (lua_type(L, 1)) {
	case LUA_TSTRING:
		break;
	case LUA_TLIGHTUSERDATA:
		luaL_checkinteger(L, 2);
		skynet_free(lua_touserdata(L, 1));
		break;
	default:
		return luaL_error(L, "skynet.trash invalid param %s", luaL_typename(L, 1));
	}
	return 0;
}

/* Addresses and time */

/* harbor(addr) -> harbor id, whether it is on another node */
static int
lharbor(lua_State *L) {
	uint32_t handle = (uint32_t)luaL_checkinteger(L, 1);
	int harbor = 0;
	int remote = skynet_isremote(self_context(L), handle, &harbor);
	lua_pushinteger(L, harbor);
	lua_pushboolean(L, remote);
	return 2;
}

/* centiseconds since the node started */
static int
lnow(lua_State *L) {
	lua_pushinteger(L, (lua_Integer)skynet_now());
	return 1;
}

/* a high-resolution monotonic counter, in nanoseconds */
static int
lhpc(lua_State *L) {
	lua_pushinteger(L, monotonic_ns());
	return 1;
}

LUAMOD_API int
luaopen_skynet_core(lua_State *L) {
	luaL_checkversion(L);
	luaL_Reg with_context[] = {
		{ "send", lsend },
		{ "redirect", lredirect },
		{ "genid", lgenid },
		{ "command", lcommand },
		{ "intcommand", lintcommand },
		{ "addresscommand", laddresscommand },
		{ "error", lerror },
		{ "trace", ltrace },
		{ "harbor", lharbor },
		{ "callback", lcallback },
		{ NULL, NULL },
	};
	luaL_Reg plain[] = {
		{ "pack", luaseri_pack },
		{ "unpack", luaseri_unpack },
		{ "packstring", luaseri_packstring },
		{ "tostring", ltostring },
		{ "trash", ltrash },
		{ "now", lnow },
		{ "hpc", lhpc },
		{ NULL, NULL },
	};
	lua_createtable(L, 0, sizeof(with_context) / sizeof(with_context[0]) + sizeof(plain) / sizeof(plain[0]) - 2);
	lua_getfield(L, LUA_REGISTRYINDEX, "skynet_context");
	if (lua_touserdata(L, -1) == NULL)
		return luaL_error(L, "Init skynet context first");
	luaL_setfuncs(L, with_context, 1);
	luaL_setfuncs(L, plain, 0);
	return 1;
}

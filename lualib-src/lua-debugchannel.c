/*
 * skynet.debugchannel: a one-way string queue between two services, used by the
 * remote debugger (debug_agent writes commands, the debugged service reads them),
 * and a debug.sethook variant whose hook can yield the hooked coroutine.
 */

#define LUA_LIB

#include "spinlock.h"

#include <lua.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHANNEL_META "debugchannel"

struct command {
	struct command *next;
	size_t sz;
	/* sz bytes follow */
};

/* refs: the creator plus at most one connected reader */
struct channel {
	struct spinlock lock;
	int refs;
	struct command *head;
	struct command *tail;
};

struct channel_box {
	struct channel *c;
};

static struct channel *
channel_new(void) {
	struct channel *c = malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	SPIN_INIT(c)
	c->refs = 1;
	c->head = c->tail = NULL;
	return c;
}

/* only one side may connect to a channel */
static int
channel_connect(struct channel *c) {
	int ok;
	SPIN_LOCK(c)
	ok = c->refs == 1;
	if (ok)
		c->refs++;
	SPIN_UNLOCK(c)
	return ok;
}

static void
channel_release(struct channel *c) {
	SPIN_LOCK(c)
	int left = --c->refs;
	SPIN_UNLOCK(c)
	if (left > 0)
		return;
	struct command *p = c->head;
	while (p) {
		struct command *next = p->next;
		free(p);
		p = next;
	}
	SPIN_DESTROY(c)
	free(c);
}

static void
channel_push(struct channel *c, struct command *cmd) {
	SPIN_LOCK(c)
	if (c->tail)
		c->tail->next = cmd;
	else
		c->head = cmd;
	c->tail = cmd;
	SPIN_UNLOCK(c)
}

static struct command *
channel_pop(struct channel *c) {
	SPIN_LOCK(c)
	struct command *cmd = c->head;
	if (cmd) {
		c->head = cmd->next;
		if (c->head == NULL)
			c->tail = NULL;
	}
	SPIN_UNLOCK(c)
	return cmd;
}

static struct channel *
check_channel(lua_State *L) {
	struct channel_box *box = luaL_checkudata(L, 1, CHANNEL_META);
	if (box->c == NULL)
		luaL_error(L, "debug channel released");
	return box->c;
}

/* channel:read([timeout]) -> the oldest string, or nothing after waiting timeout (tenths of a second, as upstream) */
static int
lread(lua_State *L) {
	struct channel *c = check_channel(L);
	lua_Number timeout = luaL_optnumber(L, 2, 0);
	struct command *cmd = channel_pop(c);
	if (cmd == NULL) {
		if (timeout > 0)
			usleep((useconds_t)(timeout * 100000));
		return 0;
	}
	lua_pushlstring(L, (const char *)(cmd + 1), cmd->sz);
	free(cmd);
	return 1;
}

static int
lwrite(lua_State *L) {
	struct channel *c = check_channel(L);
	size_t sz;
	const char *s = luaL_checklstring(L, 2, &sz);
	struct command *cmd = malloc(sizeof(*cmd) + sz);
	if (cmd == NULL)
		return luaL_error(L, "debug channel out of memory");
	cmd->next = NULL;
	cmd->sz = sz;
	memcpy(cmd + 1, s, sz);
	channel_push(c, cmd);
	return 0;
}

/* also __gc; a released box is inert */
static int
lrelease(lua_State *L) {
	struct channel_box *box = luaL_testudata(L, 1, CHANNEL_META);
	if (box && box->c) {
		channel_release(box->c);
		box->c = NULL;
	}
	return 0;
}

/* a box for c, which already counts this reference */
static void
push_box(lua_State *L, struct channel *c) {
	struct channel_box *box = lua_newuserdatauv(L, sizeof(*box), 0);
	box->c = NULL;
	if (luaL_newmetatable(L, CHANNEL_META)) {
		luaL_Reg methods[] = {
			{ "read", lread },
			{ "write", lwrite },
			{ NULL, NULL },
		};
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, lrelease);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	box->c = c;
}

/* create() -> channel, pointer to hand to the reader's connect */
static int
lcreate(lua_State *L) {
	struct channel *c = channel_new();
	if (c == NULL)
		return luaL_error(L, "new channel failed");
	push_box(L, c);
	lua_pushlightuserdata(L, c);
	return 2;
}

/* connect(pointer) -> channel */
static int
lconnect(lua_State *L) {
	struct channel *c = lua_touserdata(L, 1);
	if (c == NULL)
		return luaL_error(L, "Invalid channel pointer");
	if (!channel_connect(c))
		return luaL_error(L, "new channel failed");
	push_box(L, c);
	return 1;
}

/*
 * sethook([co,] [f, mask [, count]]): like debug.sethook, except that when f returns
 * true the hooked coroutine yields. Hook functions live in a registry table keyed
 * (weakly) by thread.
 */

static const char hook_key = 0;

static void
hook_entry(lua_State *L, lua_Debug *ar) {
	static const char *const events[] = { "call", "return", "line", "count", "tail call" };
	lua_rawgetp(L, LUA_REGISTRYINDEX, &hook_key);
	lua_pushthread(L);
	if (lua_rawget(L, -2) != LUA_TFUNCTION) {
		lua_pop(L, 2);
		return;
	}
	lua_pushstring(L, events[ar->event]);
	if (ar->currentline >= 0)
		lua_pushinteger(L, ar->currentline);
	else
		lua_pushnil(L);
	lua_call(L, 2, 1);
	int yield = lua_toboolean(L, -1);
	lua_pop(L, 2);
	if (yield)
		lua_yield(L, 0);
}

static int
hook_mask(const char *s, int count) {
	int mask = 0;
	if (strchr(s, 'c'))
		mask |= LUA_MASKCALL;
	if (strchr(s, 'r'))
		mask |= LUA_MASKRET;
	if (strchr(s, 'l'))
		mask |= LUA_MASKLINE;
	if (count > 0)
		mask |= LUA_MASKCOUNT;
	return mask;
}

static void
push_hook_table(lua_State *L) {
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &hook_key) != LUA_TNIL)
		return;
	lua_pop(L, 1);
	lua_createtable(L, 0, 2);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_pushvalue(L, -1);
	lua_setmetatable(L, -2);	/* its own metatable: weak keys */
	lua_pushvalue(L, -1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &hook_key);
}

static int
lsethook(lua_State *L) {
	int arg = 0;
	lua_State *co = L;
	if (lua_isthread(L, 1)) {
		co = lua_tothread(L, 1);
		arg = 1;
	}
	lua_Hook hook = NULL;
	int mask = 0, count = 0;
	if (lua_isnoneornil(L, arg + 1)) {
		lua_settop(L, arg + 1);	/* clears the hook */
	} else {
		const char *smask = luaL_checkstring(L, arg + 2);
		luaL_checktype(L, arg + 1, LUA_TFUNCTION);
		count = (int)luaL_optinteger(L, arg + 3, 0);
		hook = hook_entry;
		mask = hook_mask(smask, count);
	}
	push_hook_table(L);
	lua_pushthread(co);
	lua_xmove(co, L, 1);
	lua_pushvalue(L, arg + 1);
	lua_rawset(L, -3);
	lua_sethook(co, hook, mask, count);
	return 0;
}

LUAMOD_API int
luaopen_skynet_debugchannel(lua_State *L) {
	luaL_checkversion(L);
	luaL_Reg l[] = {
		{ "create", lcreate },
		{ "connect", lconnect },
		{ "release", lrelease },
		{ "sethook", lsethook },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}

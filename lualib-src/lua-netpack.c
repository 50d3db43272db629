/*
 * skynet.netpack: splits a TCP stream into packages framed by a 2-byte
 * big-endian length, for snax.gateserver.
 *
 * filter() keeps its state in a queue userdata that the caller threads through
 * its calls (it starts as nil and filter returns the one to use next): the
 * unfinished package of each connection, and the finished packages not yet
 * taken with pop().
 */

#define LUA_LIB

#include <lua.h>
#include <lauxlib.h>

#include <stdint.h>
#include <string.h>

#include "skynet_malloc.h"
#include "skynet_socket.h"

#define QUEUE_META "skynet.netpack.queue"
#define BUCKETS 1024
#define MAX_PACKAGE 0xffff

/* the upvalues of filter, in this order */
enum { UP_DATA = 1, UP_MORE, UP_ERROR, UP_OPEN, UP_CLOSE, UP_WARNING, UP_INIT, UP_COUNT = UP_INIT };

struct package {
	int fd;
	int size;
	char *data;
};

/* what has arrived of a connection's current package */
struct partial {
	struct partial *next;
	int fd;
	int header;		/* header bytes seen: 0, 1 or 2 */
	int size;		/* valid once header == 2 */
	int got;
	uint8_t high;	/* the first header byte */
	char *data;
};

struct netqueue {
	struct package *ring;
	int cap;
	int head;
	int count;
	struct partial *bucket[BUCKETS];
};

static inline struct partial **
bucket_of(struct netqueue *q, int fd) {
	return &q->bucket[(unsigned)fd % BUCKETS];
}

/* unlinks and returns the partial package of fd, if any */
static struct partial *
take_partial(struct netqueue *q, int fd) {
	if (q == NULL)
		return NULL;
	struct partial **p = bucket_of(q, fd);
	for (; *p; p = &(*p)->next) {
		struct partial *found = *p;
		if (found->fd == fd) {
			*p = found->next;
			found->next = NULL;
			return found;
		}
	}
	return NULL;
}

static void
free_partial(struct partial *p) {
	skynet_free(p->data);
	skynet_free(p);
}

static void
clear_queue(struct netqueue *q) {
	int i;
	for (i = 0; i < BUCKETS; i++) {
		while (q->bucket[i]) {
			struct partial *p = q->bucket[i];
			q->bucket[i] = p->next;
			free_partial(p);
		}
	}
	for (i = 0; i < q->count; i++)
		skynet_free(q->ring[(q->head + i) % q->cap].data);
	q->head = 0;
	q->count = 0;
}

static int
lqueue_gc(lua_State *L) {
	struct netqueue *q = lua_touserdata(L, 1);
	clear_queue(q);
	skynet_free(q->ring);
	q->ring = NULL;
	q->cap = 0;
	return 0;
}

static struct netqueue *
opt_queue(lua_State *L, int idx) {
	if (lua_isnoneornil(L, idx))
		return NULL;
	struct netqueue *q = luaL_testudata(L, idx, QUEUE_META);
	if (q == NULL)
		luaL_error(L, "Invalid netpack queue");
	return q;
}

/* the queue at index 1, created there if it is nil */
static struct netqueue *
get_queue(lua_State *L) {
	struct netqueue *q = opt_queue(L, 1);
	if (q)
		return q;
	q = lua_newuserdatauv(L, sizeof(*q), 0);
	memset(q, 0, sizeof(*q));
	if (luaL_newmetatable(L, QUEUE_META)) {
		lua_pushcfunction(L, lqueue_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	lua_replace(L, 1);
	return q;
}

static void *
alloc_or_fail(lua_State *L, size_t sz) {
	void *p = skynet_malloc(sz ? sz : 1);
	if (p == NULL)
		luaL_error(L, "Out of memory");
	return p;
}

static void
push_package(lua_State *L, struct netqueue *q, const struct package *pk) {
	if (q->count == q->cap) {
		int ncap = q->cap ? q->cap * 2 : 64;
		struct package *nring = alloc_or_fail(L, sizeof(*nring) * ncap);
		int i;
		for (i = 0; i < q->count; i++)
			nring[i] = q->ring[(q->head + i) % q->cap];
		skynet_free(q->ring);
		q->ring = nring;
		q->cap = ncap;
		q->head = 0;
	}
	q->ring[(q->head + q->count) % q->cap] = *pk;
	q->count++;
}

/*
 * Feeds n bytes into cur, the package fd is reading. Each finished package goes
 * to first (the first one) or to the queue (the rest, after first); *found
 * counts them.
 */
static void
parse(lua_State *L, struct partial *cur, const uint8_t *buf, int n, struct package *first, int *found) {
	int pos = 0;
	while (pos < n) {
		if (cur->header == 0) {
			cur->high = buf[pos++];
			cur->header = 1;
			continue;
		}
		if (cur->header == 1) {
			cur->size = (cur->high << 8) | buf[pos++];
			cur->header = 2;
			cur->got = 0;
			cur->data = alloc_or_fail(L, (size_t)cur->size);
		}
		int part = cur->size - cur->got;
		if (part > n - pos)
			part = n - pos;
		memcpy(cur->data + cur->got, buf + pos, part);
		cur->got += part;
		pos += part;
		if (cur->got < cur->size)
			continue;
		struct package pk = { cur->fd, cur->size, cur->data };
		if (*found == 0) {
			*first = pk;
		} else {
			struct netqueue *q = get_queue(L);
			if (*found == 1)
				push_package(L, q, first);
			push_package(L, q, &pk);
		}
		(*found)++;
		cur->header = 0;
		cur->data = NULL;
	}
}

/* a DATA message: returns filter's results above the queue at index 1 */
static int
filter_data(lua_State *L, int fd, uint8_t *buf, int n) {
	struct partial cur;
	struct partial *saved = take_partial(opt_queue(L, 1), fd);
	if (saved) {
		cur = *saved;
		skynet_free(saved);
	} else {
		memset(&cur, 0, sizeof(cur));
		cur.fd = fd;
	}
	struct package first;
	int found = 0;
	parse(L, &cur, buf, n, &first, &found);
	skynet_free(buf);
	if (cur.header > 0) {
		struct netqueue *q = get_queue(L);
		struct partial *keep = skynet_malloc(sizeof(*keep));
		if (keep == NULL) {
			skynet_free(cur.data);
			return luaL_error(L, "Out of memory");
		}
		*keep = cur;
		struct partial **b = bucket_of(q, fd);
		keep->next = *b;
		*b = keep;
	}
	if (found == 0)
		return 1;
	if (found == 1) {
		struct netqueue *q = opt_queue(L, 1);
		if (q == NULL || q->count == 0) {
			lua_pushvalue(L, lua_upvalueindex(UP_DATA));
			lua_pushinteger(L, fd);
			lua_pushlightuserdata(L, first.data);
			lua_pushinteger(L, first.size);
			return 5;
		}
		/* earlier packages are still queued: keep the order */
		push_package(L, q, &first);
	}
	lua_pushvalue(L, lua_upvalueindex(UP_MORE));
	return 2;
}

static void
forget_fd(lua_State *L, int fd) {
	struct partial *p = take_partial(opt_queue(L, 1), fd);
	if (p)
		free_partial(p);
}

/*
 * filter(queue, msg, sz) -> queue, type, ...
 *   "data", fd, msg, sz | "more" | "open", fd, addr | "close", fd |
 *   "error", fd, text | "warning", fd, kbytes | "init", id, addr, port
 * The queue alone comes back when a package is still incomplete.
 */
static int
lfilter(lua_State *L) {
	struct skynet_socket_message *m = lua_touserdata(L, 2);
	if (m == NULL)
		return luaL_error(L, "Need socket message at param 2");
	lua_Integer sz = luaL_checkinteger(L, 3);
	const char *text = "";
	size_t textlen = 0;
	if (m->buffer == NULL && sz > (lua_Integer)sizeof(*m)) {
		text = (const char *)(m + 1);
		textlen = (size_t)(sz - (lua_Integer)sizeof(*m));
	}
	lua_settop(L, 1);
	opt_queue(L, 1);
	switch (m->type) {
	case SKYNET_SOCKET_TYPE_DATA:
		if (m->buffer == NULL || m->ud <= 0) {
			skynet_free(m->buffer);
			return 1;
		}
		return filter_data(L, m->id, (uint8_t *)m->buffer, m->ud);
	case SKYNET_SOCKET_TYPE_CONNECT:
		lua_pushvalue(L, lua_upvalueindex(UP_INIT));
		lua_pushinteger(L, m->id);
		lua_pushlstring(L, text, textlen);
		lua_pushinteger(L, m->ud);
		return 5;
	case SKYNET_SOCKET_TYPE_CLOSE:
		forget_fd(L, m->id);
		lua_pushvalue(L, lua_upvalueindex(UP_CLOSE));
		lua_pushinteger(L, m->id);
		return 3;
	case SKYNET_SOCKET_TYPE_ACCEPT:
		/* the new connection is ud; id is the listening socket */
		lua_pushvalue(L, lua_upvalueindex(UP_OPEN));
		lua_pushinteger(L, m->ud);
		lua_pushlstring(L, text, textlen);
		return 4;
	case SKYNET_SOCKET_TYPE_ERROR:
		forget_fd(L, m->id);
		lua_pushvalue(L, lua_upvalueindex(UP_ERROR));
		lua_pushinteger(L, m->id);
		lua_pushlstring(L, text, textlen);
		return 4;
	case SKYNET_SOCKET_TYPE_WARNING:
		lua_pushvalue(L, lua_upvalueindex(UP_WARNING));
		lua_pushinteger(L, m->id);
		lua_pushinteger(L, m->ud);
		return 4;
	default:
		return 1;
	}
}

/* pop(queue) -> fd, msg, sz of the oldest finished package, or nothing */
static int
lpop(lua_State *L) {
	struct netqueue *q = luaL_testudata(L, 1, QUEUE_META);
	if (q == NULL || q->count == 0)
		return 0;
	struct package pk = q->ring[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	lua_pushinteger(L, pk.fd);
	lua_pushlightuserdata(L, pk.data);
	lua_pushinteger(L, pk.size);
	return 3;
}

/* clear(queue): drops every partial and queued package */
static int
lclear(lua_State *L) {
	struct netqueue *q = luaL_testudata(L, 1, QUEUE_META);
	if (q)
		clear_queue(q);
	return 0;
}

/* pack(string | msg, sz) -> malloc'ed framed copy, its size */
static int
lpack(lua_State *L) {
	const char *src;
	size_t len;
	if (lua_isuserdata(L, 1)) {
		src = lua_touserdata(L, 1);
		lua_Integer n = luaL_checkinteger(L, 2);
		if (n < 0)
			return luaL_error(L, "Invalid size of data : %d", (int)n);
		len = (size_t)n;
	} else {
		src = luaL_checklstring(L, 1, &len);
	}
	if (len > MAX_PACKAGE)
		return luaL_error(L, "Invalid size (too long) of data : %d", (int)len);
	uint8_t *out = alloc_or_fail(L, len + 2);
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	if (len > 0)
		memcpy(out + 2, src, len);
	lua_pushlightuserdata(L, out);
	lua_pushinteger(L, (lua_Integer)len + 2);
	return 2;
}

/* tostring(msg, sz) -> string; frees msg */
static int
ltostring(lua_State *L) {
	void *p = lua_touserdata(L, 1);
	lua_Integer sz = luaL_checkinteger(L, 2);
	if (p == NULL) {
		lua_pushliteral(L, "");
		return 1;
	}
	lua_pushlstring(L, p, sz > 0 ? (size_t)sz : 0);
	skynet_free(p);
	return 1;
}

LUAMOD_API int
luaopen_skynet_netpack(lua_State *L) {
	luaL_checkversion(L);
	luaL_Reg funcs[] = {
		{ "pop", lpop },
		{ "pack", lpack },
		{ "clear", lclear },
		{ "tostring", ltostring },
		{ NULL, NULL },
	};
	luaL_newlib(L, funcs);
	/* filter's upvalues, in the UP_* order */
	lua_pushliteral(L, "data");
	lua_pushliteral(L, "more");
	lua_pushliteral(L, "error");
	lua_pushliteral(L, "open");
	lua_pushliteral(L, "close");
	lua_pushliteral(L, "warning");
	lua_pushliteral(L, "init");
	lua_pushcclosure(L, lfilter, UP_COUNT);
	lua_setfield(L, -2, "filter");
	return 1;
}

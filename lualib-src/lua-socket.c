/*
 * skynet.socketdriver: the Lua face of the core's socket server, plus the read
 * buffers skynet.socket keeps per connection.
 *
 * A read buffer is a userdata holding a ring of the malloc'ed blocks that DATA
 * messages delivered; bytes are copied out only when Lua asks for them. The
 * "pool" table the Lua side passes along is accepted for compatibility: this
 * buffer owns its blocks and frees them in __gc.
 */

#define LUA_LIB

#include <lua.h>
#include <lauxlib.h>

#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netdb.h>

#include "skynet.h"
#include "skynet_malloc.h"
#include "skynet_socket.h"

#define SOCKBUFFER_META "skynet.socketbuffer"
#define DEFAULT_BACKLOG 32

struct chunk {
	char *data;
	int size;
};

struct sockbuffer {
	struct chunk *ring;
	int cap;		/* slots in ring */
	int head;		/* slot of the oldest block */
	int count;		/* blocks held */
	int offset;		/* bytes of the oldest block already read */
	size_t total;	/* unread bytes */
};

static inline struct chunk *
nth_chunk(struct sockbuffer *sb, int k) {
	return &sb->ring[(sb->head + k) % sb->cap];
}

static struct sockbuffer *
check_sockbuffer(lua_State *L, int idx) {
	struct sockbuffer *sb = luaL_testudata(L, idx, SOCKBUFFER_META);
	if (sb == NULL)
		luaL_error(L, "Need buffer object at param %d", idx);
	return sb;
}

static void
drop_head(struct sockbuffer *sb) {
	struct chunk *c = &sb->ring[sb->head];
	skynet_free(c->data);
	c->data = NULL;
	c->size = 0;
	sb->head = (sb->head + 1) % sb->cap;
	sb->count--;
	sb->offset = 0;
}

/* discards n bytes (n <= total) from the front */
static void
consume(struct sockbuffer *sb, size_t n) {
	while (n > 0) {
		struct chunk *c = &sb->ring[sb->head];
		size_t avail = (size_t)(c->size - sb->offset);
		if (n < avail) {
			sb->offset += (int)n;
			sb->total -= n;
			return;
		}
		n -= avail;
		sb->total -= avail;
		drop_head(sb);
	}
}

static void
release_all(struct sockbuffer *sb) {
	while (sb->count > 0)
		drop_head(sb);
	sb->total = 0;
	sb->offset = 0;
}

static int
lbuffer_gc(lua_State *L) {
	struct sockbuffer *sb = lua_touserdata(L, 1);
	release_all(sb);
	skynet_free(sb->ring);
	sb->ring = NULL;
	sb->cap = 0;
	return 0;
}

static int
lbuffer(lua_State *L) {
	struct sockbuffer *sb = lua_newuserdatauv(L, sizeof(*sb), 0);
	memset(sb, 0, sizeof(*sb));
	if (luaL_newmetatable(L, SOCKBUFFER_META)) {
		lua_pushcfunction(L, lbuffer_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	return 1;
}

static int
grow_ring(struct sockbuffer *sb) {
	int ncap = sb->cap ? sb->cap * 2 : 8;
	struct chunk *nring = skynet_malloc(sizeof(*nring) * ncap);
	if (nring == NULL)
		return 0;
	int k;
	for (k = 0; k < sb->count; k++)
		nring[k] = *nth_chunk(sb, k);
	skynet_free(sb->ring);
	sb->ring = nring;
	sb->cap = ncap;
	sb->head = 0;
	return 1;
}

/* push(buffer, pool, msg, size) -> unread bytes; the buffer takes msg over */
static int
lpush(lua_State *L) {
	struct sockbuffer *sb = luaL_testudata(L, 1, SOCKBUFFER_META);
	if (sb == NULL)
		return luaL_error(L, "need buffer object at param 1");
	char *msg = lua_touserdata(L, 3);
	if (msg == NULL)
		return luaL_error(L, "need message block at param 3");
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_Integer sz = luaL_checkinteger(L, 4);
	if (sz <= 0 || sz > INT32_MAX) {
		skynet_free(msg);
		if (sz != 0)
			return luaL_error(L, "Invalid message size %d", (int)sz);
	} else {
		if (sb->count == sb->cap && !grow_ring(sb)) {
			skynet_free(msg);
			return luaL_error(L, "Out of memory");
		}
		struct chunk *c = nth_chunk(sb, sb->count);
		c->data = msg;
		c->size = (int)sz;
		sb->count++;
		sb->total += (size_t)sz;
	}
	lua_pushinteger(L, (lua_Integer)sb->total);
	return 1;
}

/* pushes the next n - skip bytes as a string and consumes n (skip <= n <= total) */
static void
take(lua_State *L, struct sockbuffer *sb, size_t n, size_t skip) {
	size_t keep = n - skip;
	struct chunk *c = &sb->ring[sb->head];
	if (n <= (size_t)(c->size - sb->offset)) {
		lua_pushlstring(L, c->data + sb->offset, keep);
		consume(sb, n);
		return;
	}
	luaL_Buffer b;
	luaL_buffinitsize(L, &b, keep);
	while (keep > 0) {
		c = &sb->ring[sb->head];
		size_t avail = (size_t)(c->size - sb->offset);
		size_t part = avail < keep ? avail : keep;
		luaL_addlstring(&b, c->data + sb->offset, part);
		consume(sb, part);
		keep -= part;
	}
	consume(sb, skip);
	luaL_pushresult(&b);
}

/* pop(buffer, pool, n) -> string | nil, unread bytes */
static int
lpop(lua_State *L) {
	struct sockbuffer *sb = check_sockbuffer(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_Integer n = luaL_checkinteger(L, 3);
	if (n <= 0 || (size_t)n > sb->total)
		lua_pushnil(L);
	else
		take(L, sb, (size_t)n, 0);
	lua_pushinteger(L, (lua_Integer)sb->total);
	return 2;
}

/* readall(buffer, pool) -> every unread byte */
static int
lreadall(lua_State *L) {
	struct sockbuffer *sb = check_sockbuffer(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	if (sb->total == 0)
		lua_pushliteral(L, "");
	else
		take(L, sb, sb->total, 0);
	return 1;
}

/* clear(buffer, pool): frees what is unread; a nil buffer is accepted */
static int
lclear(lua_State *L) {
	if (lua_isnil(L, 1))
		return 0;
	struct sockbuffer *sb = check_sockbuffer(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	release_all(sb);
	return 0;
}

/* does sep start at byte pos of the k-th block? (the bytes are known to be there) */
static int
match_at(struct sockbuffer *sb, int k, size_t pos, const char *sep, size_t seplen) {
	while (seplen > 0) {
		struct chunk *c = nth_chunk(sb, k);
		size_t avail = (size_t)c->size - pos;
		size_t part = avail < seplen ? avail : seplen;
		if (memcmp(c->data + pos, sep, part) != 0)
			return 0;
		sep += part;
		seplen -= part;
		k++;
		pos = 0;
	}
	return 1;
}

/* index of the first sep in the unread bytes, or -1 */
static lua_Integer
find_sep(struct sockbuffer *sb, const char *sep, size_t seplen) {
	if (sb->total == 0 || seplen > sb->total)
		return -1;
	if (seplen == 0)
		return 0;
	size_t last = sb->total - seplen;	/* last index sep may start at */
	size_t base = 0;	/* index of the current block's first unread byte */
	int k;
	for (k = 0; k < sb->count && base <= last; k++) {
		struct chunk *c = nth_chunk(sb, k);
		size_t from = k == 0 ? (size_t)sb->offset : 0;
		size_t len = (size_t)c->size - from;
		size_t i = 0;
		while (i < len && base + i <= last) {
			const char *hit = memchr(c->data + from + i, sep[0], len - i);
			if (hit == NULL)
				break;
			i = (size_t)(hit - (c->data + from));
			if (base + i > last)
				break;
			if (match_at(sb, k, from + i, sep, seplen))
				return (lua_Integer)(base + i);
			i++;
		}
		base += len;
	}
	return -1;
}

/*
 * readline(buffer, pool, sep) -> the bytes before sep (sep is consumed too), or nothing.
 * Without a pool table it only tells whether a line is ready: true or nothing.
 */
static int
lreadline(lua_State *L) {
	struct sockbuffer *sb = check_sockbuffer(L, 1);
	int check_only = !lua_istable(L, 2);
	size_t seplen;
	const char *sep = luaL_checklstring(L, 3, &seplen);
	lua_Integer at = find_sep(sb, sep, seplen);
	if (at < 0)
		return 0;
	if (check_only)
		lua_pushboolean(L, 1);
	else
		take(L, sb, (size_t)at + seplen, seplen);
	return 1;
}

/* drop(msg, size): frees a block nobody will read */
static int
ldrop(lua_State *L) {
	void *msg = lua_touserdata(L, 1);
	luaL_checkinteger(L, 2);
	skynet_free(msg);
	return 0;
}

/* str2p(s) -> malloc'ed copy, size */
static int
lstr2p(lua_State *L) {
	size_t sz;
	const char *s = luaL_checklstring(L, 1, &sz);
	void *p = skynet_malloc(sz ? sz : 1);
	if (p == NULL)
		return luaL_error(L, "Out of memory");
	memcpy(p, s, sz);
	lua_pushlightuserdata(L, p);
	lua_pushinteger(L, (lua_Integer)sz);
	return 2;
}

/* header(s) -> the 1..4 bytes of s read as a big-endian unsigned integer */
static int
lheader(lua_State *L) {
	size_t len;
	const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
	if (len < 1 || len > 4)
		return luaL_error(L, "Invalid read %s", s);
	lua_Integer v = 0;
	size_t i;
	for (i = 0; i < len; i++)
		v = (v << 8) | s[i];
	lua_pushinteger(L, v);
	return 1;
}

/* unpack(msg, size) -> type, id, ud, buffer lightuserdata | string [, udp address] */
static int
lunpack(lua_State *L) {
	struct skynet_socket_message *m = lua_touserdata(L, 1);
	if (m == NULL)
		return luaL_error(L, "Need socket message at param 1");
	lua_Integer sz = luaL_checkinteger(L, 2);
	lua_pushinteger(L, m->type);
	lua_pushinteger(L, m->id);
	lua_pushinteger(L, m->ud);
	if (m->buffer == NULL) {
		lua_Integer extra = sz - (lua_Integer)sizeof(*m);
		lua_pushlstring(L, (const char *)(m + 1), extra > 0 ? (size_t)extra : 0);
		return 4;
	}
	lua_pushlightuserdata(L, m->buffer);
	if (m->type == SKYNET_SOCKET_TYPE_UDP) {
		int addrsz = 0;
		const char *addr = skynet_socket_udp_address(m, &addrsz);
		if (addr) {
			lua_pushlstring(L, addr, addrsz);
			return 5;
		}
	}
	return 4;
}

static struct skynet_context *
upctx(lua_State *L) {
	return lua_touserdata(L, lua_upvalueindex(1));
}

/*
 * The host and port from (addr, port) at idx, idx+1. Without a port, addr is
 * "host:port" or "[v6host]:port". The host string is left on the stack.
 */
static const char *
host_port(lua_State *L, int idx, int *port) {
	size_t len;
	const char *addr = luaL_checklstring(L, idx, &len);
	if (!lua_isnoneornil(L, idx + 1)) {
		*port = (int)luaL_checkinteger(L, idx + 1);
		lua_pushvalue(L, idx);
		return addr;
	}
	const char *host = addr;
	const char *host_end;
	const char *colon;
	if (addr[0] == '[') {
		host = addr + 1;
		host_end = strchr(host, ']');
		colon = host_end ? strchr(host_end, ':') : NULL;
	} else {
		host_end = colon = strchr(addr, ':');
	}
	if (colon == NULL)
		luaL_error(L, "Invalid address %s.", addr);
	*port = (int)strtol(colon + 1, NULL, 10);
	lua_pushlstring(L, host, (size_t)(host_end - host));
	return lua_tostring(L, -1);
}

static int
lconnect(lua_State *L) {
	int port = 0;
	const char *host = host_port(L, 1, &port);
	if (port == 0)
		return luaL_error(L, "Invalid port");
	lua_pushinteger(L, skynet_socket_connect(upctx(L), host, port));
	return 1;
}

static int
lclose(lua_State *L) {
	skynet_socket_close(upctx(L), (int)luaL_checkinteger(L, 1));
	return 0;
}

static int
lshutdown(lua_State *L) {
	skynet_socket_shutdown(upctx(L), (int)luaL_checkinteger(L, 1));
	return 0;
}

static int
llisten(lua_State *L) {
	const char *host = luaL_checkstring(L, 1);
	int port = (int)luaL_checkinteger(L, 2);
	int backlog = (int)luaL_optinteger(L, 3, DEFAULT_BACKLOG);
	int id = skynet_socket_listen(upctx(L), host, port, backlog);
	if (id < 0)
		return luaL_error(L, "Listen error");
	lua_pushinteger(L, id);
	return 1;
}

/* a table of strings becomes one malloc'ed block (the core frees it) */
static void
concat_strings(lua_State *L, int idx, struct socket_sendbuffer *buf) {
	size_t total = 0;
	lua_Integer i;
	for (i = 1; lua_geti(L, idx, i) != LUA_TNIL; i++) {
		size_t len;
		if (lua_tolstring(L, -1, &len) == NULL)
			luaL_error(L, "Invalid strings table: item %d is a %s", (int)i, luaL_typename(L, -1));
		total += len;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	char *block = skynet_malloc(total ? total : 1);
	if (block == NULL)
		luaL_error(L, "Out of memory");
	size_t at = 0;
	for (i = 1; lua_geti(L, idx, i) != LUA_TNIL; i++) {
		size_t len;
		const char *s = lua_tolstring(L, -1, &len);
		if (s == NULL || len > total - at)
			break;
		memcpy(block + at, s, len);
		at += len;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (at != total) {
		skynet_free(block);
		luaL_error(L, "Invalid strings table");
	}
	buf->type = SOCKET_BUFFER_MEMORY;
	buf->buffer = block;
	buf->sz = total;
}

/* the payload at idx (and its size at idx+1 where that applies) as a send buffer */
static void
to_sendbuffer(lua_State *L, int idx, struct socket_sendbuffer *buf) {
	switch (lua_type(L, idx)) {
	case LUA_TUSERDATA:
		/* borrowed bytes of a full userdata */
		buf->type = SOCKET_BUFFER_RAWPOINTER;
		buf->buffer = lua_touserdata(L, idx);
		buf->sz = lua_isinteger(L, idx + 1) ? (size_t)lua_tointeger(L, idx + 1) : lua_rawlen(L, idx);
		break;
	case LUA_TLIGHTUSERDATA: {
		/* a malloc'ed block handed over; without a size it is a user object */
		lua_Integer sz = lua_isinteger(L, idx + 1) ? lua_tointeger(L, idx + 1) : -1;
		buf->type = sz < 0 ? SOCKET_BUFFER_OBJECT : SOCKET_BUFFER_MEMORY;
		buf->buffer = lua_touserdata(L, idx);
		buf->sz = (size_t)sz;
		break;
	}
	case LUA_TTABLE:
		concat_strings(L, idx, buf);
		break;
	default:
		buf->type = SOCKET_BUFFER_RAWPOINTER;
		buf->buffer = luaL_checklstring(L, idx, &buf->sz);
		break;
	}
}

static int
lsend(lua_State *L) {
	struct socket_sendbuffer buf;
	buf.id = (int)luaL_checkinteger(L, 1);
	to_sendbuffer(L, 2, &buf);
	lua_pushboolean(L, skynet_socket_sendbuffer(upctx(L), &buf) == 0);
	return 1;
}

static int
lsend_low(lua_State *L) {
	struct socket_sendbuffer buf;
	buf.id = (int)luaL_checkinteger(L, 1);
	to_sendbuffer(L, 2, &buf);
	lua_pushboolean(L, skynet_socket_sendbuffer_lowpriority(upctx(L), &buf) == 0);
	return 1;
}

static int
lbind(lua_State *L) {
	lua_pushinteger(L, skynet_socket_bind(upctx(L), (int)luaL_checkinteger(L, 1)));
	return 1;
}

static int
lstart(lua_State *L) {
	skynet_socket_start(upctx(L), (int)luaL_checkinteger(L, 1));
	return 0;
}

static int
lpause(lua_State *L) {
	skynet_socket_pause(upctx(L), (int)luaL_checkinteger(L, 1));
	return 0;
}

static int
lnodelay(lua_State *L) {
	skynet_socket_nodelay(upctx(L), (int)luaL_checkinteger(L, 1));
	return 0;
}

/* udp([addr[, port]]) -> id; without an address the socket is not bound */
static int
ludp(lua_State *L) {
	const char *host = NULL;
	int port = 0;
	if (!lua_isnoneornil(L, 1))
		host = host_port(L, 1, &port);
	int id = skynet_socket_udp(upctx(L), host, port);
	if (id < 0)
		return luaL_error(L, "udp init failed");
	lua_pushinteger(L, id);
	return 1;
}

static int
ludp_connect(lua_State *L) {
	int id = (int)luaL_checkinteger(L, 1);
	int port = 0;
	const char *host = host_port(L, 2, &port);
	if (skynet_socket_udp_connect(upctx(L), id, host, port))
		return luaL_error(L, "udp connect failed");
	return 0;
}

static int
ludp_dial(lua_State *L) {
	int port = 0;
	const char *host = host_port(L, 1, &port);
	int id = skynet_socket_udp_dial(upctx(L), host, port);
	if (id < 0)
		return luaL_error(L, "udp dial host failed");
	lua_pushinteger(L, id);
	return 1;
}

static int
ludp_listen(lua_State *L) {
	int port = 0;
	const char *host = host_port(L, 1, &port);
	int id = skynet_socket_udp_listen(upctx(L), host, port);
	if (id < 0)
		return luaL_error(L, "udp listen host failed");
	lua_pushinteger(L, id);
	return 1;
}

/* udp_send(id, address, payload...) -> boolean */
static int
ludp_send(lua_State *L) {
	struct socket_sendbuffer buf;
	buf.id = (int)luaL_checkinteger(L, 1);
	const char *address = luaL_checkstring(L, 2);
	to_sendbuffer(L, 3, &buf);
	lua_pushboolean(L, skynet_socket_udp_sendbuffer(upctx(L), address, &buf) == 0);
	return 1;
}

/* udp_address(binary address) -> ip, port */
static int
ludp_address(lua_State *L) {
	size_t len;
	const unsigned char *a = (const unsigned char *)luaL_checklstring(L, 1, &len);
	int family;
	if (len == 1 + 2 + 4)
		family = AF_INET;
	else if (len == 1 + 2 + 16)
		family = AF_INET6;
	else
		return luaL_error(L, "Invalid udp address");
	char text[INET6_ADDRSTRLEN];
	if (inet_ntop(family, a + 3, text, sizeof(text)) == NULL)
		return luaL_error(L, "Invalid udp address");
	lua_pushstring(L, text);
	lua_pushinteger(L, (a[1] << 8) | a[2]);
	return 2;
}

static void
set_int(lua_State *L, const char *key, lua_Integer v) {
	lua_pushinteger(L, v);
	lua_setfield(L, -2, key);
}

static void
push_socket_info(lua_State *L, const struct socket_info *si) {
	static const char *kinds[] = { "UNKNOWN", "LISTEN", "TCP", "UDP", "BIND", "CLOSING" };
	int kind = si->type >= 0 && si->type <= SOCKET_INFO_CLOSING ? si->type : SOCKET_INFO_UNKNOWN;
	lua_createtable(L, 0, 12);
	set_int(L, "id", si->id);
	set_int(L, "address", (lua_Integer)si->opaque);
	lua_pushstring(L, kinds[kind]);
	lua_setfield(L, -2, "type");
	if (kind == SOCKET_INFO_UNKNOWN)
		return;
	if (kind == SOCKET_INFO_LISTEN) {
		set_int(L, "accept", (lua_Integer)si->read);
		set_int(L, "rtime", (lua_Integer)si->rtime);
		if (si->name[0]) {
			lua_pushstring(L, si->name);
			lua_setfield(L, -2, "sock");
		}
		return;
	}
	set_int(L, "read", (lua_Integer)si->read);
	set_int(L, "write", (lua_Integer)si->write);
	set_int(L, "wbuffer", (lua_Integer)si->wbuffer);
	set_int(L, "rtime", (lua_Integer)si->rtime);
	set_int(L, "wtime", (lua_Integer)si->wtime);
	lua_pushboolean(L, si->reading);
	lua_setfield(L, -2, "reading");
	lua_pushboolean(L, si->writing);
	lua_setfield(L, -2, "writing");
	if (si->name[0]) {
		lua_pushstring(L, si->name);
		lua_setfield(L, -2, "peer");
	}
}

/* info() -> an array with one table per live socket */
static int
linfo(lua_State *L) {
	struct socket_info *list = skynet_socket_info();
	struct socket_info *si;
	lua_Integer n = 0;
	lua_newtable(L);
	for (si = list; si; si = si->next) {
		push_socket_info(L, si);
		lua_rawseti(L, -2, ++n);
	}
	socket_info_release(list);
	return 1;
}

/* resolve(host) -> array of address strings */
static int
lresolve(lua_State *L) {
	const char *host = luaL_checkstring(L, 1);
	struct addrinfo hints;
	struct addrinfo *list = NULL;
	memset(&hints, 0, sizeof(hints));
	int err = getaddrinfo(host, NULL, &hints, &list);
	if (err != 0)
		return luaL_error(L, "%s", gai_strerror(err));
	struct addrinfo *ai;
	lua_Integer n = 0;
	char text[INET6_ADDRSTRLEN];
	lua_newtable(L);
	for (ai = list; ai; ai = ai->ai_next) {
		const void *bytes;
		if (ai->ai_family == AF_INET)
			bytes = &((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			bytes = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(ai->ai_family, bytes, text, sizeof(text))) {
			lua_pushstring(L, text);
			lua_rawseti(L, -2, ++n);
		}
	}
	freeaddrinfo(list);
	return 1;
}

LUAMOD_API int
luaopen_skynet_socketdriver(lua_State *L) {
	luaL_checkversion(L);
	luaL_Reg funcs[] = {
		{ "buffer", lbuffer },
		{ "push", lpush },
		{ "pop", lpop },
		{ "drop", ldrop },
		{ "readall", lreadall },
		{ "clear", lclear },
		{ "readline", lreadline },
		{ "str2p", lstr2p },
		{ "header", lheader },
		{ "info", linfo },
		{ "unpack", lunpack },
		{ "connect", lconnect },
		{ "close", lclose },
		{ "shutdown", lshutdown },
		{ "listen", llisten },
		{ "send", lsend },
		{ "lsend", lsend_low },
		{ "bind", lbind },
		{ "start", lstart },
		{ "pause", lpause },
		{ "nodelay", lnodelay },
		{ "udp", ludp },
		{ "udp_connect", ludp_connect },
		{ "udp_dial", ludp_dial },
		{ "udp_listen", ludp_listen },
		{ "udp_send", ludp_send },
		{ "udp_address", ludp_address },
		{ "resolve", lresolve },
		{ NULL, NULL },
	};
	lua_getfield(L, LUA_REGISTRYINDEX, "skynet_context");
	struct skynet_context *ctx = lua_touserdata(L, -1);
	if (ctx == NULL)
		return luaL_error(L, "Init skynet context first");
	luaL_newlibtable(L, funcs);
	lua_insert(L, -2);
	luaL_setfuncs(L, funcs, 1);
	return 1;
}

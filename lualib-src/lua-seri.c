/*
 * skynet.pack / skynet.unpack: the "lua" protocol's binary format.
 *
 * Every item starts with a header byte: the type in the low 3 bits, a 5-bit
 * cookie above it. Numbers and lengths follow in native byte order.
 */

#define LUA_LIB

#include "skynet_malloc.h"
#include "lua-seri.h"

#include <lua.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#define T_NIL 0
#define T_BOOLEAN 1
#define T_NUMBER 2
#define T_USERDATA 3
#define T_SHORTSTR 4
#define T_LONGSTR 5
#define T_TABLE 6

/* the cookie of a T_NUMBER says how many bytes follow */
#define N_ZERO 0
#define N_BYTE 1
#define N_WORD 2
#define N_DWORD 4
#define N_QWORD 6
#define N_REAL 8

#define HEADER(t, cookie) ((uint8_t)((t) | ((cookie) << 3)))

/* short strings are shorter than this; table array sizes from here-1 up go in an extra item */
#define COOKIE_LIMIT 32
#define BIG_ARRAY (COOKIE_LIMIT - 1)

/* the deepest value pack accepts sits inside this many tables */
#define PACK_DEPTH 32
/* a valid stream nests at most PACK_DEPTH+1 tables; the slack tolerates other encoders */
#define UNPACK_DEPTH 128

/* most messages fit here, so packing them touches the heap only for the result */
#define INLINE_SIZE 256

struct packer {
	uint8_t *data;	/* 'local' until the output outgrows it, then a malloc'd block */
	size_t len;
	size_t cap;
	uint8_t local[INLINE_SIZE];
};

static void
packer_init(struct packer *p) {
	p->data = p->local;
	p->len = 0;
	p->cap = INLINE_SIZE;
}

static void
packer_release(struct packer *p) {
	if (p->data != p->local)
		skynet_free(p->data);
	p->data = p->local;
	p->len = 0;
	p->cap = INLINE_SIZE;
}

static uint8_t *
packer_grow(lua_State *L, struct packer *p, size_t n) {
	size_t need = p->len + n;
	size_t cap = p->cap;
	uint8_t *block;
	if (need < p->len) {
		packer_release(p);
		luaL_error(L, "serialize buffer overflow");
	}
	while (cap < need) {
		cap = (cap > SIZE_MAX / 2) ? need : cap * 2;
	}
	if (p->data == p->local) {
		block = skynet_malloc(cap);
		if (block)
			memcpy(block, p->local, p->len);
	} else {
		block = skynet_realloc(p->data, cap);
	}
	if (block == NULL) {
		packer_release(p);
		luaL_error(L, "serialize out of memory");
	}
	p->data = block;
	p->cap = cap;
	return block + p->len;
}

/* room for n more bytes; the caller advances len once it wrote them */
static inline uint8_t *
packer_reserve(lua_State *L, struct packer *p, size_t n) {
	if (p->cap - p->len >= n)
		return p->data + p->len;
	return packer_grow(L, p, n);
}

static inline void
put_byte(lua_State *L, struct packer *p, uint8_t b) {
	*packer_reserve(L, p, 1) = b;
	p->len++;
}

/* a header byte followed by n raw bytes */
static inline void
put_item(lua_State *L, struct packer *p, uint8_t header, const void *v, size_t n) {
	uint8_t *w = packer_reserve(L, p, n + 1);
	w[0] = header;
	memcpy(w + 1, v, n);
	p->len += n + 1;
}

static void
put_integer(lua_State *L, struct packer *p, lua_Integer v) {
	if (v == 0) {
		put_byte(L, p, HEADER(T_NUMBER, N_ZERO));
	} else if (v != (lua_Integer)(int32_t)v) {
		int64_t q = (int64_t)v;
		put_item(L, p, HEADER(T_NUMBER, N_QWORD), &q, sizeof(q));
	} else if (v < 0) {
		int32_t d = (int32_t)v;
		put_item(L, p, HEADER(T_NUMBER, N_DWORD), &d, sizeof(d));
	} else if (v < 0x100) {
		uint8_t b = (uint8_t)v;
		put_item(L, p, HEADER(T_NUMBER, N_BYTE), &b, sizeof(b));
	} else if (v < 0x10000) {
		uint16_t w = (uint16_t)v;
		put_item(L, p, HEADER(T_NUMBER, N_WORD), &w, sizeof(w));
	} else {
		uint32_t d = (uint32_t)v;
		put_item(L, p, HEADER(T_NUMBER, N_DWORD), &d, sizeof(d));
	}
}

static void
put_string(lua_State *L, struct packer *p, const char *s, size_t len) {
	if (len < COOKIE_LIMIT) {
		put_item(L, p, HEADER(T_SHORTSTR, len), s, len);
		return;
	}
	uint8_t *w;
	size_t head;
	if (len < 0x10000) {
		uint16_t n = (uint16_t)len;
		head = 1 + sizeof(n);
		w = packer_reserve(L, p, head + len);
		w[0] = HEADER(T_LONGSTR, sizeof(n));
		memcpy(w + 1, &n, sizeof(n));
	} else if (len <= UINT32_MAX) {
		uint32_t n = (uint32_t)len;
		head = 1 + sizeof(n);
		w = packer_reserve(L, p, head + len);
		w[0] = HEADER(T_LONGSTR, sizeof(n));
		memcpy(w + 1, &n, sizeof(n));
	} else {
		packer_release(p);
		luaL_error(L, "serialize string too long");
		return;
	}
	memcpy(w + head, s, len);
	p->len += head + len;
}

static void pack_value(lua_State *L, struct packer *p, int idx, int depth);

/* the error object is on the stack top */
static void
pack_rethrow(lua_State *L, struct packer *p) {
	packer_release(p);
	lua_error(L);
}

/* a table with __pairs (on the stack top): array size 0, then what the iteration yields */
static void
pack_metapairs(lua_State *L, struct packer *p, int idx, int depth) {
	int base = lua_gettop(L);	/* the metamethod; iterator, state and control replace it */
	put_byte(L, p, HEADER(T_TABLE, 0));
	lua_pushvalue(L, idx);
	if (lua_pcall(L, 1, 3, 0) != LUA_OK)
		pack_rethrow(L, p);
	for (;;) {
		lua_pushvalue(L, base);
		lua_pushvalue(L, base + 1);
		lua_pushvalue(L, base + 2);
		if (lua_pcall(L, 2, 2, 0) != LUA_OK)
			pack_rethrow(L, p);
		if (lua_isnil(L, -2))
			break;
		pack_value(L, p, base + 3, depth);
		pack_value(L, p, base + 4, depth);
		lua_pop(L, 1);
		lua_replace(L, base + 2);	/* the key is the next control value */
	}
	lua_settop(L, base - 1);
	put_byte(L, p, HEADER(T_NIL, 0));
}

static void
pack_table(lua_State *L, struct packer *p, int idx, int depth) {
	if (!lua_checkstack(L, LUA_MINSTACK)) {
		packer_release(p);
		luaL_error(L, "out of memory");
	}
	if (luaL_getmetafield(L, idx, "__pairs") != LUA_TNIL) {
		pack_metapairs(L, p, idx, depth);
		return;
	}
	lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
	if (n >= BIG_ARRAY) {
		put_byte(L, p, HEADER(T_TABLE, BIG_ARRAY));
		put_integer(L, p, n);
	} else {
		put_byte(L, p, HEADER(T_TABLE, n));
	}
	lua_Integer i;
	int top = lua_gettop(L);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, i);
		pack_value(L, p, top + 1, depth);
		lua_pop(L, 1);
	}
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		if (lua_isinteger(L, -2)) {
			lua_Integer k = lua_tointeger(L, -2);
			if (k >= 1 && k <= n) {
				lua_pop(L, 1);	/* already sent in the array part */
				continue;
			}
		}
		pack_value(L, p, top + 1, depth);
		pack_value(L, p, top + 2, depth);
		lua_pop(L, 1);
	}
	put_byte(L, p, HEADER(T_NIL, 0));
}

/* idx is absolute */
static void
pack_value(lua_State *L, struct packer *p, int idx, int depth) {
	if (depth > PACK_DEPTH) {
		packer_release(p);
		luaL_error(L, "serialize can't pack too depth table");
	}
	int t = lua_type(L, idx);
	switch (t) {
	case LUA_TNIL:
		put_byte(L, p, HEADER(T_NIL, 0));
		break;
	case LUA_TBOOLEAN:
		put_byte(L, p, HEADER(T_BOOLEAN, lua_toboolean(L, idx) ? 1 : 0));
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			put_integer(L, p, lua_tointeger(L, idx));
		} else {
			double d = (double)lua_tonumber(L, idx);
			put_item(L, p, HEADER(T_NUMBER, N_REAL), &d, sizeof(d));
		}
		break;
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		put_string(L, p, s, len);
		break;
	}
	case LUA_TLIGHTUSERDATA: {
		void *ptr = lua_touserdata(L, idx);
		put_item(L, p, HEADER(T_USERDATA, 0), &ptr, sizeof(ptr));
		break;
	}
	case LUA_TTABLE:
		pack_table(L, p, idx, depth + 1);
		break;
	default:
		packer_release(p);
		luaL_error(L, "Unsupport type %s to serialize", lua_typename(L, t));
	}
}

/* every argument in turn, without a count: unpack stops where the bytes end */
static void
pack_arguments(lua_State *L, struct packer *p) {
	int n = lua_gettop(L);
	int i;
	for (i = 1; i <= n; i++) {
		pack_value(L, p, i, 0);
	}
}

int
luaseri_pack(lua_State *L) {
	struct packer p;
	packer_init(&p);
	pack_arguments(L, &p);
	void *out;
	if (p.data == p.local) {
		out = skynet_malloc(p.len > 0 ? p.len : 1);
		if (out == NULL)
			return luaL_error(L, "serialize out of memory");
		memcpy(out, p.local, p.len);
	} else {
		out = p.data;
		if (p.cap - p.len > p.len / 4) {
			/* give most of the slack back before the buffer sits in a queue */
			void *fit = skynet_realloc(p.data, p.len);
			if (fit)
				out = fit;
		}
	}
	lua_pushlightuserdata(L, out);
	lua_pushinteger(L, (lua_Integer)p.len);
	return 2;
}

int
luaseri_packstring(lua_State *L) {
	struct packer p;
	packer_init(&p);
	pack_arguments(L, &p);
	lua_pushlstring(L, (const char *)p.data, p.len);
	packer_release(&p);
	return 1;
}

struct reader {
	const uint8_t *p;
	size_t left;
};

static int
bad_stream(lua_State *L, const struct reader *r, int line) {
	return luaL_error(L, "Invalid serialize stream %d (line:%d)", (int)r->left, line);
}

#define BAD_STREAM(L, r) bad_stream(L, r, __LINE__)

static const uint8_t *
take(struct reader *r, size_t n) {
	if (r->left < n)
		return NULL;
	const uint8_t *s = r->p;
	r->p += n;
	r->left -= n;
	return s;
}

/* copy n bytes of the stream into v, or fail */
static void
take_into(lua_State *L, struct reader *r, void *v, size_t n, int line) {
	const uint8_t *s = take(r, n);
	if (s == NULL)
		bad_stream(L, r, line);
	memcpy(v, s, n);
}

static lua_Integer
read_integer(lua_State *L, struct reader *r, int cookie) {
	switch (cookie) {
	case N_ZERO:
		return 0;
	case N_BYTE: {
		uint8_t v;
		take_into(L, r, &v, sizeof(v), __LINE__);
		return v;
	}
	case N_WORD: {
		uint16_t v;
		take_into(L, r, &v, sizeof(v), __LINE__);
		return v;
	}
	case N_DWORD: {
		int32_t v;
		take_into(L, r, &v, sizeof(v), __LINE__);
		return v;
	}
	case N_QWORD: {
		int64_t v;
		take_into(L, r, &v, sizeof(v), __LINE__);
		return (lua_Integer)v;
	}
	default:
		BAD_STREAM(L, r);
		return 0;
	}
}

static void
push_bytes(lua_State *L, struct reader *r, size_t len) {
	const uint8_t *s = take(r, len);
	if (s == NULL)
		BAD_STREAM(L, r);
	lua_pushlstring(L, (const char *)s, len);
}

static void unpack_value(lua_State *L, struct reader *r, uint8_t header, int depth);

static void
unpack_item(lua_State *L, struct reader *r, int depth) {
	const uint8_t *h = take(r, 1);
	if (h == NULL)
		BAD_STREAM(L, r);
	unpack_value(L, r, *h, depth);
}

static void
unpack_table(lua_State *L, struct reader *r, int cookie, int depth) {
	if (depth > UNPACK_DEPTH)
		BAD_STREAM(L, r);
	lua_Integer n = cookie;
	if (cookie == BIG_ARRAY) {
		const uint8_t *h = take(r, 1);
		if (h == NULL || (*h & 7) != T_NUMBER || (*h >> 3) == N_REAL)
			BAD_STREAM(L, r);
		n = read_integer(L, r, *h >> 3);
	}
	/* each element takes at least a byte: a bigger size is a lie, refuse it before allocating */
	if (n < 0 || n > INT_MAX || (size_t)n > r->left)
		BAD_STREAM(L, r);
	luaL_checkstack(L, LUA_MINSTACK, NULL);
	lua_createtable(L, (int)n, 0);
	lua_Integer i;
	for (i = 1; i <= n; i++) {
		unpack_item(L, r, depth);
		lua_rawseti(L, -2, i);
	}
	for (;;) {
		unpack_item(L, r, depth);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			return;
		}
		unpack_item(L, r, depth);
		lua_rawset(L, -3);
	}
}

static void
unpack_value(lua_State *L, struct reader *r, uint8_t header, int depth) {
	int cookie = header >> 3;
	switch (header & 7) {
	case T_NIL:
		lua_pushnil(L);
		break;
	case T_BOOLEAN:
		lua_pushboolean(L, cookie);
		break;
	case T_NUMBER:
		if (cookie == N_REAL) {
			double d;
			take_into(L, r, &d, sizeof(d), __LINE__);
			lua_pushnumber(L, (lua_Number)d);
		} else {
			lua_pushinteger(L, read_integer(L, r, cookie));
		}
		break;
	case T_USERDATA: {
		void *ptr;
		take_into(L, r, &ptr, sizeof(ptr), __LINE__);
		lua_pushlightuserdata(L, ptr);
		break;
	}
	case T_SHORTSTR:
		push_bytes(L, r, cookie);
		break;
	case T_LONGSTR:
		if (cookie == 2) {
			uint16_t len;
			take_into(L, r, &len, sizeof(len), __LINE__);
			push_bytes(L, r, len);
		} else if (cookie == 4) {
			uint32_t len;
			take_into(L, r, &len, sizeof(len), __LINE__);
			push_bytes(L, r, len);
		} else {
			BAD_STREAM(L, r);
		}
		break;
	case T_TABLE:
		unpack_table(L, r, cookie, depth + 1);
		break;
	default:
		BAD_STREAM(L, r);
	}
}

int
luaseri_unpack(lua_State *L) {
	if (lua_isnoneornil(L, 1))
		return 0;
	const void *buffer;
	size_t len;
	if (lua_type(L, 1) == LUA_TSTRING) {
		buffer = lua_tolstring(L, 1, &len);
	} else {
		buffer = lua_touserdata(L, 1);
		lua_Integer sz = luaL_checkinteger(L, 2);
		luaL_argcheck(L, sz >= 0, 2, "negative size");
		len = (size_t)sz;
	}
	if (len == 0)
		return 0;
	if (buffer == NULL)
		return luaL_error(L, "deserialize null pointer");
	lua_settop(L, 1);
	struct reader r = { buffer, len };
	while (r.left > 0) {
		luaL_checkstack(L, LUA_MINSTACK, "too many values to unpack");
		uint8_t header = *take(&r, 1);
		unpack_value(L, &r, header, 0);
	}
	return lua_gettop(L) - 1;
}

/*
 * sproto.core: the Lua binding of sproto (lualib/sproto.lua is its user).
 *
 * Schemas and types travel as light userdata: a schema from newproto lives until
 * deleteproto (or forever once saved in a slot); its types live as long as it does.
 * encode, decode and default work directly between Lua values and the wire format.
 */

#define LUA_LIB

#include <lua.h>
#include <lauxlib.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sproto.h"

/* saveproto/loadproto slots, shared by every Lua state of the process */
#define SLOTS 16
/* struct nesting that encode and decode accept */
#define MAX_DEPTH 64
/* largest message encode produces */
#define MAX_MESSAGE 0x1000000
/* output buffers up to this size are kept for the next call */
#define KEEP_BUFFER 0x10000
#define FIRST_BUFFER 256

static struct sproto *slot[SLOTS];

/* ---- output buffer ---- */

/*
 * A full userdata at stack index 'at', replaced by a bigger one as it fills. encode,
 * pack and unpack borrow their cached buffer (upvalue 1) for the duration of a call:
 * a nested call (from a metamethod) or a call after an error finds no cache and
 * allocates its own.
 */
struct outbuf {
	lua_State *L;
	uint8_t *p;
	size_t len;
	size_t cap;
	int at;
};

static void
out_open(lua_State *L, struct outbuf *b) {
	b->L = L;
	b->len = 0;
	if (lua_type(L, lua_upvalueindex(1)) == LUA_TUSERDATA) {
		lua_pushvalue(L, lua_upvalueindex(1));
		lua_pushnil(L);
		lua_replace(L, lua_upvalueindex(1));
		b->cap = lua_rawlen(L, -1);
	} else {
		lua_newuserdatauv(L, FIRST_BUFFER, 0);
		b->cap = FIRST_BUFFER;
	}
	b->p = lua_touserdata(L, -1);
	b->at = lua_gettop(L);
}

/* Room for n more bytes; returns where they go. */
static uint8_t *
out_reserve(struct outbuf *b, size_t n) {
	if (b->cap - b->len < n) {
		size_t cap = b->cap;
		uint8_t *p;
		while (cap - b->len < n) {
			if (cap > (size_t)-1 / 2)
				luaL_error(b->L, "not enough memory");
			cap *= 2;
		}
		p = lua_newuserdatauv(b->L, cap, 0);
		memcpy(p, b->p, b->len);
		lua_replace(b->L, b->at);
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->len;
}

/* Pushes the content as a string and gives the buffer back to the cache. */
static void
out_close(struct outbuf *b) {
	lua_State *L = b->L;
	lua_pushlstring(L, (const char *)b->p, b->len);
	if (b->cap <= KEEP_BUFFER) {
		lua_pushvalue(L, b->at);
		lua_replace(L, lua_upvalueindex(1));
	}
}

/* ---- arguments ---- */

/* Schemas and types are light userdata; anything else (a full userdata too) is refused. */
static struct sproto *
checkproto(lua_State *L, int idx, const char *what) {
	struct sproto *sp = lua_islightuserdata(L, idx) ? lua_touserdata(L, idx) : NULL;
	if (sp == NULL)
		luaL_argerror(L, idx, what);
	return sp;
}

/* A type, or NULL for nil and the NULL marker of "response nil". */
static const struct sproto_type *
opttype(lua_State *L, int idx) {
	if (lua_isnoneornil(L, idx))
		return NULL;
	if (!lua_islightuserdata(L, idx))
		luaL_argerror(L, idx, "Need a sproto_type object");
	return lua_touserdata(L, idx);
}

/* A string, or a userdata and a size. */
static const uint8_t *
checkbuffer(lua_State *L, int idx, size_t *sz) {
	int t = lua_type(L, idx);
	if (t == LUA_TSTRING)
		return (const uint8_t *)lua_tolstring(L, idx, sz);
	if (t == LUA_TUSERDATA || t == LUA_TLIGHTUSERDATA) {
		const void *p = lua_touserdata(L, idx);
		lua_Integer n = luaL_checkinteger(L, idx + 1);
		luaL_argcheck(L, n >= 0, idx + 1, "negative size");
		luaL_argcheck(L, p != NULL || n == 0, idx, "NULL pointer");
		luaL_argcheck(L, t == LUA_TLIGHTUSERDATA || (size_t)n <= lua_rawlen(L, idx),
			idx + 1, "size beyond the userdata");
		*sz = (size_t)n;
		return p ? p : (const uint8_t *)"";
	}
	luaL_argerror(L, idx, "Need a string or userdata");
	return NULL;
}

/* ---- encode ---- */

struct encoder {
	lua_State *L;
	struct outbuf out;
	int depth;
};

static int encode_field(struct encoder *e, const struct sproto_field *f, int idx, int index);
static void encode_struct(struct encoder *e, const struct sproto_type *st, int tbl);

static uint8_t *
enc_reserve(struct encoder *e, size_t n) {
	if (n > MAX_MESSAGE || e->out.len > MAX_MESSAGE - n)
		luaL_error(e->L, "object is too large (>%d)", MAX_MESSAGE);
	return out_reserve(&e->out, n);
}

static void
put_bytes(struct encoder *e, const void *p, size_t n) {
	memcpy(enc_reserve(e, n), p, n);
	e->out.len += n;
}

static void
put_u32(struct encoder *e, uint32_t v) {
	sproto_put32(enc_reserve(e, 4), v);
	e->out.len += 4;
}

static void
put_u64(struct encoder *e, uint64_t v) {
	sproto_put64(enc_reserve(e, 8), v);
	e->out.len += 8;
}

/* A data-part chunk: begin reserves its size, end fills it in. */
static size_t
chunk_begin(struct encoder *e) {
	put_u32(e, 0);
	return e->out.len;
}

static void
chunk_end(struct encoder *e, size_t start) {
	sproto_put32(e->out.p + start - 4, (uint32_t)(e->out.len - start));
}

static int
bad_value(lua_State *L, const struct sproto_field *f, int idx, int index, const char *what) {
	return luaL_error(L, ".%s[%d] is not %s (Is a %s)", f->name, index, what, luaL_typename(L, idx));
}

static int
fits32(int64_t v) {
	return v >= INT32_MIN && v <= INT32_MAX;
}

static int64_t
to_integer(lua_State *L, const struct sproto_field *f, int idx, int index) {
	int ok;
	if (f->scale != 0) {
		lua_Number n = lua_tonumberx(L, idx, &ok);
		if (!ok)
			bad_value(L, f, idx, index, "a number");
		n = round(n * f->scale);
		/* the bounds are powers of two, exact as doubles */
		if (!(n >= -9223372036854775808.0 && n < 9223372036854775808.0))
			luaL_error(L, ".%s[%d] is out of the integer range", f->name, index);
		return (int64_t)n;
	} else {
		lua_Integer v = lua_tointegerx(L, idx, &ok);
		if (!ok)
			bad_value(L, f, idx, index, "an integer");
		return (int64_t)v;
	}
}

static double
to_double(lua_State *L, const struct sproto_field *f, int idx, int index) {
	int ok;
	lua_Number n = lua_tonumberx(L, idx, &ok);
	if (!ok)
		bad_value(L, f, idx, index, "a number");
	return (double)n;
}

static int
to_boolean(lua_State *L, const struct sproto_field *f, int idx, int index) {
	if (!lua_isboolean(L, idx))
		bad_value(L, f, idx, index, "a boolean");
	return lua_toboolean(L, idx);
}

static void
put_double(struct encoder *e, double d) {
	uint64_t bits;
	memcpy(&bits, &d, sizeof(bits));
	put_u64(e, bits);
}

static void
put_string(struct encoder *e, const struct sproto_field *f, int idx, int index) {
	size_t n;
	const char *s;
	if (lua_type(e->L, idx) != LUA_TSTRING)
		bad_value(e->L, f, idx, index, "a string");
	s = lua_tolstring(e->L, idx, &n);
	if (n > MAX_MESSAGE)
		luaL_error(e->L, "object is too large (>%d)", MAX_MESSAGE);
	put_u32(e, (uint32_t)n);
	put_bytes(e, s, n);
}

static void
put_struct(struct encoder *e, const struct sproto_field *f, int idx, int index) {
	size_t start;
	int t = lua_type(e->L, idx);
	if (t != LUA_TTABLE && t != LUA_TUSERDATA)
		bad_value(e->L, f, idx, index, "a table");
	start = chunk_begin(e);
	encode_struct(e, f->sub, idx);
	chunk_end(e, start);
}

/* Integers go in the field part when small and not negative, else 4 or 8 bytes. */
static int
encode_integer(struct encoder *e, const struct sproto_field *f, int idx) {
	int64_t v = to_integer(e->L, f, idx, 0);
	if (v >= 0 && v <= SPROTO_INLINE_MAX)
		return (int)(v + 1) * 2;
	if (fits32(v)) {
		put_u32(e, 4);
		put_u32(e, (uint32_t)v);
	} else {
		put_u32(e, 8);
		put_u64(e, (uint64_t)v);
	}
	return 0;
}

/*
 * Iteration over a keyed array: __pairs if it has one, else lua_next. The control
 * variable lives at stack index 'key'; next() pushes a key and a value.
 */
struct pairs {
	int fn;		/* 0: lua_next over 'tbl' */
	int tbl;
	int key;
};

static void
pairs_open(lua_State *L, const struct sproto_field *f, struct pairs *it, int tbl) {
	if (luaL_getmetafield(L, tbl, "__pairs") != LUA_TNIL) {
		lua_pushvalue(L, tbl);
		lua_call(L, 1, 3);
		it->fn = lua_gettop(L) - 2;
		it->tbl = it->fn + 1;
		it->key = it->fn + 2;
	} else {
		if (!lua_istable(L, tbl))
			luaL_error(L, ".*%s(%d) should be a table or an userdata with metamethods (Is a %s)",
				f->name, 1, luaL_typename(L, tbl));
		lua_pushnil(L);
		it->fn = 0;
		it->tbl = tbl;
		it->key = lua_gettop(L);
	}
}

static int
pairs_next(lua_State *L, struct pairs *it) {
	if (it->fn) {
		lua_pushvalue(L, it->fn);
		lua_pushvalue(L, it->tbl);
		lua_pushvalue(L, it->key);
		lua_call(L, 2, 2);
		if (lua_isnil(L, -2)) {
			lua_pop(L, 2);
			return 0;
		}
	} else {
		lua_pushvalue(L, it->key);
		if (!lua_next(L, it->tbl))
			return 0;
	}
	lua_pushvalue(L, -2);
	lua_replace(L, it->key);
	return 1;
}

/* *T(key): the values of any keys; *T(): each key/value pair as a two-field struct. */
static void
encode_keyed(struct encoder *e, const struct sproto_field *f, int arr) {
	lua_State *L = e->L;
	struct pairs it;
	int entry = 0;
	int index = 0;
	if (f->value) {
		lua_createtable(L, 0, 2);
		entry = lua_gettop(L);
	}
	pairs_open(L, f, &it, arr);
	while (pairs_next(L, &it)) {
		size_t start;
		index++;
		if (entry) {
			lua_setfield(L, entry, f->value->name);
			lua_setfield(L, entry, f->key->name);
			start = chunk_begin(e);
			encode_struct(e, f->sub, entry);
		} else {
			int t = lua_type(L, -1);
			if (t != LUA_TTABLE && t != LUA_TUSERDATA)
				bad_value(L, f, -1, index, "a table");
			start = chunk_begin(e);
			encode_struct(e, f->sub, lua_gettop(L));
			lua_pop(L, 2);
		}
		chunk_end(e, start);
	}
}

/* Integer arrays: a width byte (4 or 8), then every element in that width. */
static void
encode_integers(struct encoder *e, const struct sproto_field *f, int arr) {
	lua_State *L = e->L;
	size_t start = e->out.len;
	int wide = 0;
	lua_Integer i, n = 0;
	put_bytes(e, "", 1);
	for (i = 1; lua_geti(L, arr, i) != LUA_TNIL; i++) {
		int64_t v = to_integer(L, f, -1, (int)i);
		lua_pop(L, 1);
		wide |= !fits32(v);
		put_u64(e, (uint64_t)v);
		n++;
	}
	lua_pop(L, 1);
	if (n == 0) {
		e->out.len = start;
	} else if (wide) {
		e->out.p[start] = 8;
	} else {
		uint8_t *p = e->out.p + start;
		for (i = 0; i < n; i++)
			memmove(p + 1 + i * 4, p + 1 + i * 8, 4);
		p[0] = 4;
		e->out.len = start + 1 + (size_t)n * 4;
	}
}

static int
has_metatable(lua_State *L, int idx) {
	if (!lua_getmetatable(L, idx))
		return 0;
	lua_pop(L, 1);
	return 1;
}

static void
encode_array(struct encoder *e, const struct sproto_field *f, int arr) {
	lua_State *L = e->L;
	size_t start;
	lua_Integer i;
	if (!lua_istable(L, arr) && !(lua_type(L, arr) == LUA_TUSERDATA && has_metatable(L, arr)))
		luaL_error(L, ".*%s(%d) should be a table or an userdata with metamethods (Is a %s)",
			f->name, 1, luaL_typename(L, arr));
	start = chunk_begin(e);
	if (f->key) {
		encode_keyed(e, f, arr);
	} else if (f->kind == SPROTO_TINTEGER) {
		encode_integers(e, f, arr);
	} else {
		int wrote_width = 0;
		for (i = 1; lua_geti(L, arr, i) != LUA_TNIL; i++) {
			int top = lua_gettop(L);
			switch (f->kind) {
			case SPROTO_TBOOLEAN: {
				uint8_t b = (uint8_t)to_boolean(L, f, top, (int)i);
				put_bytes(e, &b, 1);
				break;
			}
			case SPROTO_TDOUBLE: {
				double d = to_double(L, f, top, (int)i);
				if (!wrote_width) {
					put_bytes(e, "\x08", 1);
					wrote_width = 1;
				}
				put_double(e, d);
				break;
			}
			case SPROTO_TSTRING:
				put_string(e, f, top, (int)i);
				break;
			default:
				put_struct(e, f, top, (int)i);
				break;
			}
			lua_settop(L, top - 1);
		}
		lua_pop(L, 1);
	}
	chunk_end(e, start);
}

/* Encodes the value at idx (not nil); returns its field-part entry, 0 if in the data part. */
static int
encode_field(struct encoder *e, const struct sproto_field *f, int idx, int index) {
	if (f->array) {
		encode_array(e, f, idx);
		return 0;
	}
	switch (f->kind) {
	case SPROTO_TINTEGER:
		return encode_integer(e, f, idx);
	case SPROTO_TBOOLEAN:
		return to_boolean(e->L, f, idx, index) ? 4 : 2;
	case SPROTO_TDOUBLE: {
		double d = to_double(e->L, f, idx, index);
		put_u32(e, 8);
		put_double(e, d);
		return 0;
	}
	case SPROTO_TSTRING:
		put_string(e, f, idx, index);
		return 0;
	default:
		put_struct(e, f, idx, index);
		return 0;
	}
}

/*
 * A struct is a field count, the field part (one 16-bit entry per field or tag skip)
 * and the data part. The field part is written into room reserved for the most
 * entries the type can need; the data part then moves down to close the gap.
 */
static void
encode_struct(struct encoder *e, const struct sproto_type *st, int tbl) {
	lua_State *L = e->L;
	size_t base = e->out.len;
	size_t room = 2 + 2 * (size_t)st->maxentry;
	size_t data, used;
	int nentry = 0;
	int nexttag = 0;
	int i;
	if (++e->depth > MAX_DEPTH)
		luaL_error(L, "The table is too deep");
	luaL_checkstack(L, 16, NULL);
	enc_reserve(e, room);
	e->out.len += room;
	data = e->out.len;
	for (i = 0; i < st->nfield; i++) {
		const struct sproto_field *f = &st->field[i];
		int entry;
		uint8_t *ep;
		if (lua_getfield(L, tbl, f->name) == LUA_TNIL) {
			lua_pop(L, 1);
			continue;
		}
		entry = encode_field(e, f, lua_gettop(L), 0);
		lua_pop(L, 1);
		ep = e->out.p + base + 2;
		while (f->tag > nexttag) {
			int gap = f->tag - nexttag;
			if (gap > SPROTO_SKIP_MAX)
				gap = SPROTO_SKIP_MAX;
			sproto_put16(ep + 2 * nentry++, (unsigned)(gap * 2 - 1));
			nexttag += gap;
		}
		sproto_put16(ep + 2 * nentry++, (unsigned)entry);
		nexttag = f->tag + 1;
	}
	sproto_put16(e->out.p + base, (unsigned)nentry);
	used = 2 + 2 * (size_t)nentry;
	memmove(e->out.p + base + used, e->out.p + data, e->out.len - data);
	e->out.len -= room - used;
	e->depth--;
}

/*
 * encode(type, table): a string; nil encodes like an empty table. A NULL type (the
 * response of "response nil") takes nil only.
 */
static int
lencode(lua_State *L) {
	const struct sproto_type *st = opttype(L, 1);
	struct encoder e;
	int t;
	if (st == NULL) {
		luaL_checktype(L, 2, LUA_TNIL);
		lua_pushliteral(L, "");
		return 1;
	}
	t = lua_type(L, 2);
	luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TUSERDATA || t == LUA_TNONE || t == LUA_TNIL,
		2, "table");
	lua_settop(L, 2);
	if (t == LUA_TNONE || t == LUA_TNIL) {
		/* no arguments: an empty message */
		lua_newtable(L);
		lua_replace(L, 2);
	}
	e.L = L;
	e.depth = 0;
	out_open(L, &e.out);
	encode_struct(&e, st, 2);
	out_close(&e.out);
	return 1;
}

/* ---- decode ---- */

struct decoder {
	lua_State *L;
	int depth;
};

static size_t decode_struct(struct decoder *d, const struct sproto_type *st,
	const uint8_t *p, size_t sz, int tbl);

static int
corrupt(lua_State *L, const struct sproto_field *f, const char *why) {
	return luaL_error(L, "decode error: %s (field %s)", why, f->name);
}

static int64_t
chunk_integer(lua_State *L, const struct sproto_field *f, const uint8_t *p, size_t sz) {
	if (sz == 4)
		return (int32_t)sproto_get32(p);
	if (sz == 8)
		return (int64_t)sproto_get64(p);
	corrupt(L, f, "an integer is neither 4 nor 8 bytes");
	return 0;
}

static void
push_integer(lua_State *L, const struct sproto_field *f, int64_t v) {
	if (f->scale != 0)
		lua_pushnumber(L, (lua_Number)v / f->scale);
	else
		lua_pushinteger(L, (lua_Integer)v);
}

static void
push_double(lua_State *L, const uint8_t *p) {
	uint64_t bits = sproto_get64(p);
	double v;
	memcpy(&v, &bits, sizeof(v));
	lua_pushnumber(L, (lua_Number)v);
}

/* A struct that fills the chunk p[0..sz), as a new table. */
static void
push_struct(struct decoder *d, const struct sproto_type *st, const uint8_t *p, size_t sz) {
	lua_newtable(d->L);
	if (decode_struct(d, st, p, sz, lua_gettop(d->L)) != sz)
		luaL_error(d->L, "decode error: junk after a struct %s", st->name);
}

/* Calls each() on every (4-byte size, bytes) element of an array chunk. */
static void
chunk_elements(lua_State *L, const struct sproto_field *f, const uint8_t *p, size_t sz,
		void (*each)(struct decoder *, const struct sproto_field *, const uint8_t *, size_t, int, lua_Integer),
		struct decoder *d, int arr) {
	lua_Integer n = 0;
	while (sz > 0) {
		uint32_t len;
		if (sz < 4)
			corrupt(L, f, "truncated array element");
		len = sproto_get32(p);
		if (sz - 4 < len)
			corrupt(L, f, "truncated array element");
		each(d, f, p + 4, len, arr, ++n);
		p += 4 + len;
		sz -= 4 + len;
	}
}

static void
string_element(struct decoder *d, const struct sproto_field *f, const uint8_t *p, size_t sz,
		int arr, lua_Integer n) {
	(void)f;
	lua_pushlstring(d->L, (const char *)p, sz);
	lua_rawseti(d->L, arr, n);
}

static void
struct_element(struct decoder *d, const struct sproto_field *f, const uint8_t *p, size_t sz,
		int arr, lua_Integer n) {
	lua_State *L = d->L;
	push_struct(d, f->sub, p, sz);
	if (f->value) {
		if (lua_getfield(L, -1, f->key->name) == LUA_TNIL)
			luaL_error(L, "Can't find key field in [%s]", f->name);
		if (lua_getfield(L, -2, f->value->name) == LUA_TNIL)
			luaL_error(L, "Can't find value field in [%s]", f->name);
		lua_rawset(L, arr);
		lua_pop(L, 1);
	} else if (f->key) {
		if (lua_getfield(L, -1, f->key->name) == LUA_TNIL)
			luaL_error(L, "Can't find main index (tag=%d) in [%s]", f->key->tag, f->name);
		lua_insert(L, -2);
		lua_rawset(L, arr);
	} else {
		lua_rawseti(L, arr, n);
	}
}

/* Pushes the array in p[0..sz) as a table. */
static void
push_array(struct decoder *d, const struct sproto_field *f, const uint8_t *p, size_t sz) {
	lua_State *L = d->L;
	size_t i, n;
	int arr;
	lua_newtable(L);
	arr = lua_gettop(L);
	if (sz == 0)
		return;
	switch (f->kind) {
	case SPROTO_TINTEGER: {
		size_t width = p[0];
		if ((width != 4 && width != 8) || (sz - 1) % width != 0)
			corrupt(L, f, "bad integer array");
		n = (sz - 1) / width;
		for (i = 0; i < n; i++) {
			push_integer(L, f, chunk_integer(L, f, p + 1 + i * width, width));
			lua_rawseti(L, arr, (lua_Integer)i + 1);
		}
		break;
	}
	case SPROTO_TDOUBLE:
		if (p[0] != 8 || (sz - 1) % 8 != 0)
			corrupt(L, f, "bad double array");
		n = (sz - 1) / 8;
		for (i = 0; i < n; i++) {
			push_double(L, p + 1 + i * 8);
			lua_rawseti(L, arr, (lua_Integer)i + 1);
		}
		break;
	case SPROTO_TBOOLEAN:
		for (i = 0; i < sz; i++) {
			lua_pushboolean(L, p[i] != 0);
			lua_rawseti(L, arr, (lua_Integer)i + 1);
		}
		break;
	case SPROTO_TSTRING:
		chunk_elements(L, f, p, sz, string_element, d, arr);
		break;
	default:
		chunk_elements(L, f, p, sz, struct_element, d, arr);
		break;
	}
}

static void
push_field(struct decoder *d, const struct sproto_field *f, const struct sproto_item *it) {
	lua_State *L = d->L;
	if (f->array) {
		if (it->inplace)
			corrupt(L, f, "an array in the field part");
		push_array(d, f, it->data, it->size);
		return;
	}
	switch (f->kind) {
	case SPROTO_TINTEGER:
		push_integer(L, f, it->inplace ? it->value : chunk_integer(L, f, it->data, it->size));
		break;
	case SPROTO_TBOOLEAN:
		if (!it->inplace)
			corrupt(L, f, "a boolean in the data part");
		lua_pushboolean(L, it->value != 0);
		break;
	case SPROTO_TDOUBLE:
		if (it->inplace || it->size != 8)
			corrupt(L, f, "a double is not 8 bytes");
		push_double(L, it->data);
		break;
	case SPROTO_TSTRING:
		if (it->inplace)
			corrupt(L, f, "a string in the field part");
		lua_pushlstring(L, (const char *)it->data, it->size);
		break;
	default:
		if (it->inplace)
			corrupt(L, f, "a struct in the field part");
		push_struct(d, f->sub, it->data, it->size);
		break;
	}
}

/* Decodes into the table at tbl; returns the bytes the struct takes. Unknown tags are skipped. */
static size_t
decode_struct(struct decoder *d, const struct sproto_type *st, const uint8_t *p, size_t sz, int tbl) {
	lua_State *L = d->L;
	struct sproto_reader r;
	struct sproto_item it;
	int i = 0;
	int rc;
	if (++d->depth > MAX_DEPTH)
		luaL_error(L, "The table is too deep");
	luaL_checkstack(L, 16, NULL);
	if (sproto_reader_init(&r, p, sz))
		luaL_error(L, "decode error: truncated header of %s", st->name);
	while ((rc = sproto_reader_next(&r, &it)) > 0) {
		const struct sproto_field *f;
		while (i < st->nfield && st->field[i].tag < it.tag)
			i++;
		if (i == st->nfield || st->field[i].tag != it.tag)
			continue;
		f = &st->field[i];
		push_field(d, f, &it);
		lua_setfield(L, tbl, f->name);
	}
	if (rc < 0)
		luaL_error(L, "decode error: truncated data part of %s", st->name);
	d->depth--;
	return sproto_reader_used(&r);
}

/* decode(type, string | userdata, size [, table]): the table and the bytes decoded. */
static int
ldecode(lua_State *L) {
	const struct sproto_type *st = opttype(L, 1);
	struct decoder d;
	const uint8_t *p;
	size_t sz, used;
	int tbl;
	if (st == NULL)
		return 0;
	p = checkbuffer(L, 2, &sz);
	tbl = lua_gettop(L);
	if (tbl < 3 || !lua_istable(L, tbl)) {
		lua_newtable(L);
		tbl = lua_gettop(L);
	}
	d.L = L;
	d.depth = 0;
	used = decode_struct(&d, st, p, sz, tbl);
	lua_settop(L, tbl);
	lua_pushinteger(L, (lua_Integer)used);
	return 2;
}

/* ---- pack ---- */

static int
lpack(lua_State *L) {
	struct outbuf b;
	size_t sz;
	const uint8_t *src = checkbuffer(L, 1, &sz);
	out_open(L, &b);
	out_reserve(&b, sproto_pack_bound(sz));
	b.len = sproto_pack(src, sz, b.p);
	out_close(&b);
	return 1;
}

static int
lunpack(lua_State *L) {
	struct outbuf b;
	size_t sz;
	const uint8_t *src = checkbuffer(L, 1, &sz);
	ptrdiff_t n = sproto_unpack_size(src, sz);
	if (n < 0)
		return luaL_error(L, "Invalid unpack stream");
	out_open(L, &b);
	out_reserve(&b, (size_t)n);
	sproto_unpack(src, sz, b.p);
	b.len = (size_t)n;
	out_close(&b);
	return 1;
}

/* ---- schemas ---- */

/* newproto(binary): a schema, or nil and the reason. */
static int
lnewproto(lua_State *L) {
	size_t sz;
	const char *bin = luaL_checklstring(L, 1, &sz);
	const char *err = NULL;
	struct sproto *sp = sproto_create(bin, sz, &err);
	if (sp == NULL) {
		lua_pushnil(L);
		lua_pushfstring(L, "invalid sproto schema: %s", err ? err : "unknown");
		return 2;
	}
	lua_pushlightuserdata(L, sp);
	return 1;
}

static int
ldeleteproto(lua_State *L) {
	sproto_release(checkproto(L, 1, "Need a sproto object"));
	return 0;
}

static int
lquerytype(lua_State *L) {
	struct sproto *sp = checkproto(L, 1, "Need a sproto object");
	const struct sproto_type *st = sproto_type(sp, luaL_checkstring(L, 2));
	if (st == NULL)
		return 0;
	lua_pushlightuserdata(L, (void *)st);
	return 1;
}

/*
 * protocol(sp, name | tag): the tag (or the name), the request type and the response
 * type, nil where absent. The response of "response nil" is a NULL light userdata.
 */
static int
lprotocol(lua_State *L) {
	struct sproto *sp = checkproto(L, 1, "Need a sproto_type object");
	const struct sproto_protocol *p;
	if (lua_type(L, 2) == LUA_TNUMBER) {
		int isint;
		lua_Integer tag = lua_tointegerx(L, 2, &isint);
		p = isint && tag >= 0 && tag <= 0x7fffffff ? sproto_protocol_bytag(sp, (int)tag) : NULL;
		if (p == NULL)
			return 0;
		lua_pushstring(L, p->name);
	} else {
		const char *name = lua_tostring(L, 2);
		if (name == NULL)
			return luaL_argerror(L, 2, "Should be number or string");
		p = sproto_protocol_byname(sp, name);
		if (p == NULL)
			return 0;
		lua_pushinteger(L, p->tag);
	}
	if (p->request)
		lua_pushlightuserdata(L, (void *)p->request);
	else
		lua_pushnil(L);
	if (p->response)
		lua_pushlightuserdata(L, (void *)p->response);
	else if (p->confirm)
		lua_pushlightuserdata(L, NULL);
	else
		lua_pushnil(L);
	return 3;
}

static const char *
kind_name(const struct sproto_field *f) {
	switch (f->kind) {
	case SPROTO_TINTEGER: return "integer";
	case SPROTO_TBOOLEAN: return "boolean";
	case SPROTO_TDOUBLE: return "double";
	case SPROTO_TSTRING: return f->binary ? "binary" : "string";
	default: return f->sub->name;
	}
}

/* dumpproto(sp): prints the schema to stdout, for debugging. */
static int
ldumpproto(lua_State *L) {
	struct sproto *sp = checkproto(L, 1, "Need a sproto_type object");
	const struct sproto_type *t;
	const struct sproto_protocol *p;
	int nt = sproto_types(sp, &t);
	int np = sproto_protocols(sp, &p);
	int i, j;
	printf("=== %d types ===\n", nt);
	for (i = 0; i < nt; i++) {
		printf("%s\n", t[i].name);
		for (j = 0; j < t[i].nfield; j++) {
			const struct sproto_field *f = &t[i].field[j];
			printf("\t%s (%d) %s%s", f->name, f->tag, f->array ? "*" : "", kind_name(f));
			if (f->scale != 0)
				printf("(%d)", f->decimal);
			if (f->key)
				printf("(%s)", f->value ? "" : f->key->name);
			printf("\n");
		}
	}
	printf("=== %d protocols ===\n", np);
	for (i = 0; i < np; i++) {
		printf("\t%s (%d) request:%s response:%s\n", p[i].name, p[i].tag,
			p[i].request ? p[i].request->name : "(none)",
			p[i].response ? p[i].response->name : (p[i].confirm ? "nil" : "(none)"));
	}
	fflush(stdout);
	return 0;
}

/* The slots are written while services start and read later, possibly on other threads. */
static int
checkslot(lua_State *L, int arg) {
	lua_Integer i = luaL_optinteger(L, arg, 0);
	if (i < 0 || i >= SLOTS)
		luaL_error(L, "Invalid global slot index %d", (int)i);
	return (int)i;
}

static int
lsaveproto(lua_State *L) {
	struct sproto *sp = checkproto(L, 1, "Need a sproto object");
	int i = checkslot(L, 2);
	__atomic_store_n(&slot[i], sp, __ATOMIC_RELEASE);
	return 0;
}

static int
lloadproto(lua_State *L) {
	int i = checkslot(L, 1);
	struct sproto *sp = __atomic_load_n(&slot[i], __ATOMIC_ACQUIRE);
	if (sp == NULL)
		return luaL_error(L, "nil sproto at index %d", i);
	lua_pushlightuserdata(L, sp);
	return 1;
}

/* ---- default ---- */

/* The default of a field; an array element's struct default is just its type name. */
static void
push_default(lua_State *L, const struct sproto_field *f, int element) {
	switch (f->kind) {
	case SPROTO_TINTEGER:
		if (f->scale != 0)
			lua_pushnumber(L, 0.0);
		else
			lua_pushinteger(L, 0);
		break;
	case SPROTO_TDOUBLE:
		lua_pushnumber(L, 0.0);
		break;
	case SPROTO_TBOOLEAN:
		lua_pushboolean(L, 0);
		break;
	case SPROTO_TSTRING:
		lua_pushliteral(L, "");
		break;
	default:
		if (element) {
			lua_pushstring(L, f->sub->name);
		} else {
			lua_createtable(L, 0, 1);
			lua_pushstring(L, f->sub->name);
			lua_setfield(L, -2, "__type");
		}
		break;
	}
}

/* default(type): every field at its zero value; arrays as { __array = element default }. */
static int
ldefault(lua_State *L) {
	const struct sproto_type *st = opttype(L, 1);
	int i;
	if (st == NULL)
		return luaL_argerror(L, 1, "Need a sproto_type object");
	lua_createtable(L, 0, st->nfield);
	for (i = 0; i < st->nfield; i++) {
		const struct sproto_field *f = &st->field[i];
		if (f->array) {
			lua_createtable(L, 0, 1);
			push_default(L, f, 1);
			lua_setfield(L, -2, "__array");
		} else {
			push_default(L, f, 0);
		}
		lua_setfield(L, -2, f->name);
	}
	return 1;
}

LUAMOD_API int
luaopen_sproto_core(lua_State *L) {
	static const luaL_Reg plain[] = {
		{ "newproto", lnewproto },
		{ "deleteproto", ldeleteproto },
		{ "dumpproto", ldumpproto },
		{ "querytype", lquerytype },
		{ "decode", ldecode },
		{ "protocol", lprotocol },
		{ "loadproto", lloadproto },
		{ "saveproto", lsaveproto },
		{ "default", ldefault },
		{ NULL, NULL },
	};
	/* each keeps its output buffer in its upvalue, nil until the first call */
	static const luaL_Reg buffered[] = {
		{ "encode", lencode },
		{ "pack", lpack },
		{ "unpack", lunpack },
		{ NULL, NULL },
	};
	luaL_checkversion(L);
	luaL_newlib(L, plain);
	lua_pushnil(L);
	luaL_setfuncs(L, buffered, 1);
	return 1;
}

/*
 * SHA-1 (FIPS 180-4) and HMAC-SHA1 (RFC 2104) for skynet.crypt / client.crypt.
 */

#define LUA_LIB

#include <lua.h>
#include <lauxlib.h>

#include <stdint.h>
#include <string.h>

#include "lcrypt_sha1.h"

#define SHA1_BLOCK 64
#define SHA1_SIZE 20

struct sha1 {
	uint32_t h[5];
	uint64_t total;		/* bytes fed so far */
	uint8_t pending[SHA1_BLOCK];
};

static inline uint32_t
rol32(uint32_t v, int n) {
	return (v << n) | (v >> (32 - n));
}

static void
sha1_init(struct sha1 *s) {
	s->h[0] = 0x67452301;
	s->h[1] = 0xEFCDAB89;
	s->h[2] = 0x98BADCFE;
	s->h[3] = 0x10325476;
	s->h[4] = 0xC3D2E1F0;
	s->total = 0;
}

/* The message schedule, kept as a ring of 16 words. */
#define W(t) (w[(t) & 15] = rol32(w[((t) + 13) & 15] ^ w[((t) + 8) & 15] \
	^ w[((t) + 2) & 15] ^ w[(t) & 15], 1))

#define STEP(f, k, wt) do { \
		uint32_t next = rol32(a, 5) + (f) + e + (k) + (wt); \
		e = d; d = c; c = rol32(b, 30); b = a; a = next; \
	} while (0)

/* One 80-step compression over a 64-byte block. */
static void
sha1_block(uint32_t h[5], const uint8_t *p) {
	uint32_t w[16];
	int t;
	for (t = 0; t < 16; t++) {
		w[t] = (uint32_t)p[4*t] << 24 | (uint32_t)p[4*t+1] << 16
			| (uint32_t)p[4*t+2] << 8 | p[4*t+3];
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (t = 0; t < 16; t++)
		STEP((b & c) | (~b & d), 0x5A827999, w[t]);
	for (; t < 20; t++)
		STEP((b & c) | (~b & d), 0x5A827999, W(t));
	for (; t < 40; t++)
		STEP(b ^ c ^ d, 0x6ED9EBA1, W(t));
	for (; t < 60; t++)
		STEP((b & c) | (b & d) | (c & d), 0x8F1BBCDC, W(t));
	for (; t < 80; t++)
		STEP(b ^ c ^ d, 0xCA62C1D6, W(t));
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void
sha1_update(struct sha1 *s, const uint8_t *data, size_t len) {
	size_t used = (size_t)(s->total % SHA1_BLOCK);
	s->total += len;
	if (used > 0) {
		size_t room = SHA1_BLOCK - used;
		if (len < room) {
			memcpy(s->pending + used, data, len);
			return;
		}
		memcpy(s->pending + used, data, room);
		sha1_block(s->h, s->pending);
		data += room;
		len -= room;
	}
	while (len >= SHA1_BLOCK) {
		sha1_block(s->h, data);
		data += SHA1_BLOCK;
		len -= SHA1_BLOCK;
	}
	memcpy(s->pending, data, len);
}

/* Appends 0x80, zeros and the 64-bit big-endian bit length, then writes the digest. */
static void
sha1_final(struct sha1 *s, uint8_t out[SHA1_SIZE]) {
	uint64_t bits = s->total * 8;
	uint8_t tail[SHA1_BLOCK + 8];
	size_t used = (size_t)(s->total % SHA1_BLOCK);
	size_t padlen = (used < 56 ? 56 : 120) - used;
	int i;
	memset(tail, 0, sizeof(tail));
	tail[0] = 0x80;
	for (i = 0; i < 8; i++)
		tail[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(s, tail, padlen + 8);
	for (i = 0; i < SHA1_SIZE; i++)
		out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

static void
sha1_digest(const uint8_t *data, size_t len, uint8_t out[SHA1_SIZE]) {
	struct sha1 s;
	sha1_init(&s);
	sha1_update(&s, data, len);
	sha1_final(&s, out);
}

int
lcrypt_sha1(lua_State *L) {
	size_t len = 0;
	const uint8_t *text = (const uint8_t *)luaL_checklstring(L, 1, &len);
	uint8_t digest[SHA1_SIZE];
	sha1_digest(text, len, digest);
	lua_pushlstring(L, (const char *)digest, SHA1_SIZE);
	return 1;
}

/* HMAC: H((K ^ opad) .. H((K ^ ipad) .. text)); keys longer than a block are hashed first. */
int
lcrypt_hmac_sha1(lua_State *L) {
	size_t keylen = 0, len = 0;
	const uint8_t *key = (const uint8_t *)luaL_checklstring(L, 1, &keylen);
	const uint8_t *text = (const uint8_t *)luaL_checklstring(L, 2, &len);
	uint8_t block[SHA1_BLOCK];
	uint8_t pad[SHA1_BLOCK];
	uint8_t inner[SHA1_SIZE];
	uint8_t digest[SHA1_SIZE];
	struct sha1 s;
	int i;

	memset(block, 0, sizeof(block));
	if (keylen > SHA1_BLOCK)
		sha1_digest(key, keylen, block);
	else
		memcpy(block, key, keylen);

	for (i = 0; i < SHA1_BLOCK; i++)
		pad[i] = block[i] ^ 0x36;
	sha1_init(&s);
	sha1_update(&s, pad, SHA1_BLOCK);
	sha1_update(&s, text, len);
	sha1_final(&s, inner);

	for (i = 0; i < SHA1_BLOCK; i++)
		pad[i] = block[i] ^ 0x5c;
	sha1_init(&s);
	sha1_update(&s, pad, SHA1_BLOCK);
	sha1_update(&s, inner, SHA1_SIZE);
	sha1_final(&s, digest);

	lua_pushlstring(L, (const char *)digest, SHA1_SIZE);
	return 1;
}

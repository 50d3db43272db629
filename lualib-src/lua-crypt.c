/*
 * skynet.crypt / client.crypt: the small cryptographic toolbox of skynet's login
 * protocol (DES, DH key exchange over a 64-bit prime, MD5-based 64-bit MACs) plus
 * hex, base64, SHA-1 and HMAC-SHA1 helpers.  Outputs match skynet v1.8.0 byte for byte.
 */

#define LUA_LIB

#include <lua.h>
#include <lauxlib.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "lcrypt_sha1.h"

/* Values of crypt.padding, the optional third argument of desencode/desdecode. */
enum { PAD_ISO7816_4 = 0, PAD_PKCS7 = 1, PAD_MODES };

/* 64-bit keys and MAC values travel as 8-byte strings, least significant byte first. */
static uint64_t
load_le64(const uint8_t *p) {
	uint64_t v = 0;
	int i;
	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
push_le64(lua_State *L, uint64_t v) {
	char out[8];
	int i;
	for (i = 0; i < 8; i++)
		out[i] = (char)(v >> (8 * i));
	lua_pushlstring(L, out, 8);
}

/* Argument idx as an 8-byte string; msg is upstream's error text for any other length. */
static const uint8_t *
check_qword(lua_State *L, int idx, const char *msg) {
	size_t len = 0;
	const char *s = luaL_checklstring(L, idx, &len);
	if (len != 8)
		luaL_error(L, "%s", msg);
	return (const uint8_t *)s;
}

/* ---- DES (FIPS 46-3).  Bit 1 of each table is the most significant bit. ---- */

static const uint8_t DES_IP[64] = {
	58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
	62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
	57, 49, 41, 33, 25, 17,  9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
	61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
};

static const uint8_t DES_FP[64] = {
	40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31,
	38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
	36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
	34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41,  9, 49, 17, 57, 25,
};

static const uint8_t DES_P[32] = {
	16,  7, 20, 21, 29, 12, 28, 17,  1, 15, 23, 26,  5, 18, 31, 10,
	 2,  8, 24, 14, 32, 27,  3,  9, 19, 13, 30,  6, 22, 11,  4, 25,
};

static const uint8_t DES_PC1[56] = {
	57, 49, 41, 33, 25, 17,  9,  1, 58, 50, 42, 34, 26, 18,
	10,  2, 59, 51, 43, 35, 27, 19, 11,  3, 60, 52, 44, 36,
	63, 55, 47, 39, 31, 23, 15,  7, 62, 54, 46, 38, 30, 22,
	14,  6, 61, 53, 45, 37, 29, 21, 13,  5, 28, 20, 12,  4,
};

static const uint8_t DES_PC2[48] = {
	14, 17, 11, 24,  1,  5,  3, 28, 15,  6, 21, 10,
	23, 19, 12,  4, 26,  8, 16,  7, 27, 20, 13,  2,
	41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
	44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
};

static const uint8_t DES_SHIFTS[16] = { 1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1 };

/* S-boxes, four rows of sixteen each. */
static const uint8_t DES_S[8][64] = {
	{ 14,  4, 13,  1,  2, 15, 11,  8,  3, 10,  6, 12,  5,  9,  0,  7,
	   0, 15,  7,  4, 14,  2, 13,  1, 10,  6, 12, 11,  9,  5,  3,  8,
	   4,  1, 14,  8, 13,  6,  2, 11, 15, 12,  9,  7,  3, 10,  5,  0,
	  15, 12,  8,  2,  4,  9,  1,  7,  5, 11,  3, 14, 10,  0,  6, 13 },
	{ 15,  1,  8, 14,  6, 11,  3,  4,  9,  7,  2, 13, 12,  0,  5, 10,
	   3, 13,  4,  7, 15,  2,  8, 14, 12,  0,  1, 10,  6,  9, 11,  5,
	   0, 14,  7, 11, 10,  4, 13,  1,  5,  8, 12,  6,  9,  3,  2, 15,
	  13,  8, 10,  1,  3, 15,  4,  2, 11,  6,  7, 12,  0,  5, 14,  9 },
	{ 10,  0,  9, 14,  6,  3, 15,  5,  1, 13, 12,  7, 11,  4,  2,  8,
	  13,  7,  0,  9,  3,  4,  6, 10,  2,  8,  5, 14, 12, 11, 15,  1,
	  13,  6,  4,  9,  8, 15,  3,  0, 11,  1,  2, 12,  5, 10, 14,  7,
	   1, 10, 13,  0,  6,  9,  8,  7,  4, 15, 14,  3, 11,  5,  2, 12 },
	{  7, 13, 14,  3,  0,  6,  9, 10,  1,  2,  8,  5, 11, 12,  4, 15,
	  13,  8, 11,  5,  6, 15,  0,  3,  4,  7,  2, 12,  1, 10, 14,  9,
	  10,  6,  9,  0, 12, 11,  7, 13, 15,  1,  3, 14,  5,  2,  8,  4,
	   3, 15,  0,  6, 10,  1, 13,  8,  9,  4,  5, 11, 12,  7,  2, 14 },
	{  2, 12,  4,  1,  7, 10, 11,  6,  8,  5,  3, 15, 13,  0, 14,  9,
	  14, 11,  2, 12,  4,  7, 13,  1,  5,  0, 15, 10,  3,  9,  8,  6,
	   4,  2,  1, 11, 10, 13,  7,  8, 15,  9, 12,  5,  6,  3,  0, 14,
	  11,  8, 12,  7,  1, 14,  2, 13,  6, 15,  0,  9, 10,  4,  5,  3 },
	{ 12,  1, 10, 15,  9,  2,  6,  8,  0, 13,  3,  4, 14,  7,  5, 11,
	  10, 15,  4,  2,  7, 12,  9,  5,  6,  1, 13, 14,  0, 11,  3,  8,
	   9, 14, 15,  5,  2,  8, 12,  3,  7,  0,  4, 10,  1, 13, 11,  6,
	   4,  3,  2, 12,  9,  5, 15, 10, 11, 14,  1,  7,  6,  0,  8, 13 },
	{  4, 11,  2, 14, 15,  0,  8, 13,  3, 12,  9,  7,  5, 10,  6,  1,
	  13,  0, 11,  7,  4,  9,  1, 10, 14,  3,  5, 12,  2, 15,  8,  6,
	   1,  4, 11, 13, 12,  3,  7, 14, 10, 15,  6,  8,  0,  5,  9,  2,
	   6, 11, 13,  8,  1,  4, 10,  7,  9,  5,  0, 15, 14,  2,  3, 12 },
	{ 13,  2,  8,  4,  6, 15, 11,  1, 10,  9,  3, 14,  5,  0, 12,  7,
	   1, 15, 13,  8, 10,  3,  7,  4, 12,  5,  6, 11,  0, 14,  9,  2,
	   7, 11,  4,  1,  9, 12, 14,  2,  0,  6, 10, 13, 15,  3,  5,  8,
	   2,  1, 14,  7,  4, 10,  8, 13, 15, 12,  9,  0,  3,  5,  6, 11 },
};

/* Picks bits table[0..n) (1-based, from the top of a width-bit value) into an n-bit value. */
static uint64_t
permute(uint64_t in, int width, const uint8_t *table, int n) {
	uint64_t out = 0;
	int i;
	for (i = 0; i < n; i++)
		out = out << 1 | ((in >> (width - table[i])) & 1);
	return out;
}

/*
 * Lookup tables built once from the ones above: the S-boxes merged with P, and IP and
 * FP applied a byte at a time.  Permutations only move bits, so the permutation of a
 * word is the OR of the permutations of its bytes.
 */
static uint32_t des_sp[8][64];
static uint64_t des_ip[8][256];
static uint64_t des_fp[8][256];
static pthread_once_t des_once = PTHREAD_ONCE_INIT;

static void
des_build_tables(void) {
	int i, v;
	for (i = 0; i < 8; i++) {
		for (v = 0; v < 64; v++) {
			int row = (v >> 4 & 2) | (v & 1), col = v >> 1 & 0xf;
			uint64_t out = (uint64_t)DES_S[i][row * 16 + col] << (28 - 4 * i);
			des_sp[i][v] = (uint32_t)permute(out, 32, DES_P, 32);
		}
		for (v = 0; v < 256; v++) {
			uint64_t in = (uint64_t)v << (56 - 8 * i);
			des_ip[i][v] = permute(in, 64, DES_IP, 64);
			des_fp[i][v] = permute(in, 64, DES_FP, 64);
		}
	}
}

static uint64_t
des_permute64(const uint64_t table[8][256], uint64_t v) {
	uint64_t out = 0;
	int i;
	for (i = 0; i < 8; i++)
		out |= table[i][(v >> (56 - 8 * i)) & 0xff];
	return out;
}

struct des_keys {
	uint8_t k[16][8];	/* round keys in encryption order, as eight 6-bit pieces */
};

static void
des_schedule(struct des_keys *ks, const uint8_t key[8]) {
	uint64_t k = 0;
	int i;
	for (i = 0; i < 8; i++)
		k = k << 8 | key[i];
	uint64_t cd = permute(k, 64, DES_PC1, 56);
	uint32_t c = (uint32_t)(cd >> 28), d = (uint32_t)(cd & 0x0fffffff);
	for (i = 0; i < 16; i++) {
		int s = DES_SHIFTS[i];
		c = ((c << s) | (c >> (28 - s))) & 0x0fffffff;
		d = ((d << s) | (d >> (28 - s))) & 0x0fffffff;
		uint64_t round = permute((uint64_t)c << 28 | d, 56, DES_PC2, 48);
		int j;
		for (j = 0; j < 8; j++)
			ks->k[i][j] = (uint8_t)(round >> (42 - 6 * j) & 0x3f);
	}
}

/* The round function: expand r to 48 bits, mix in the key, then the S-P tables. */
static uint32_t
des_f(uint32_t r, const uint8_t k[8]) {
	/* 34 bits: r's last bit, r, r's first bit; the E expansion is its 6-bit windows
	 * at steps of 4. */
	uint64_t ring = (uint64_t)(r & 1) << 33 | (uint64_t)r << 1 | r >> 31;
	uint32_t out = 0;
	int i;
	for (i = 0; i < 8; i++)
		out |= des_sp[i][((ring >> (28 - 4 * i)) & 0x3f) ^ k[i]];
	return out;
}

static void
des_block(const struct des_keys *ks, int decrypt, const uint8_t in[8], uint8_t out[8]) {
	uint64_t v = 0;
	int i;
	for (i = 0; i < 8; i++)
		v = v << 8 | in[i];
	v = des_permute64(des_ip, v);
	uint32_t l = (uint32_t)(v >> 32), r = (uint32_t)v;
	for (i = 0; i < 16; i++) {
		uint32_t next = l ^ des_f(r, ks->k[decrypt ? 15 - i : i]);
		l = r;
		r = next;
	}
	v = des_permute64(des_fp, (uint64_t)r << 32 | l);
	for (i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void
check_des_key(lua_State *L, struct des_keys *ks) {
	size_t len = 0;
	const char *key = luaL_checklstring(L, 1, &len);
	if (len != 8)
		luaL_error(L, "Invalid key size %d, need 8 bytes", (int)len);
	pthread_once(&des_once, des_build_tables);
	des_schedule(ks, (const uint8_t *)key);
}

static int
check_padding(lua_State *L, int mode) {
	if (mode < 0 || mode >= PAD_MODES)
		luaL_error(L, "Invalid padding mode %d", mode);
	return mode;
}

/* Fills block[used..8) with padding; used is 0..7, so at least one byte is always added. */
static void
pad_block(uint8_t block[8], int used, int mode) {
	if (mode == PAD_PKCS7) {
		memset(block + used, 8 - used, 8 - used);
	} else {
		block[used] = 0x80;
		memset(block + used + 1, 0, 7 - used);
	}
}

/* Length of the padding ending the last block, or 0 when it is malformed. */
static int
padding_length(const uint8_t block[8], int mode) {
	int n, i;
	if (mode == PAD_PKCS7) {
		n = block[7];
		if (n < 1 || n > 8)
			return 0;
		for (i = 8 - n; i < 7; i++) {
			if (block[i] != n)
				return 0;
		}
		return n;
	}
	/* ISO 7816-4: 0x80 then zeros, within the last block */
	for (i = 7; i >= 0 && block[i] == 0; i--)
		;
	if (i < 0 || block[i] != 0x80)
		return 0;
	return 8 - i;
}

/* desencode(key, text [, padding]) -> ciphertext, always padded to the next multiple of 8 */
static int
ldesencode(lua_State *L) {
	struct des_keys ks;
	check_des_key(L, &ks);
	size_t len = 0;
	const uint8_t *text = (const uint8_t *)luaL_checklstring(L, 2, &len);
	int mode = check_padding(L, (int)luaL_optinteger(L, 3, PAD_ISO7816_4));
	size_t whole = len & ~(size_t)7;
	luaL_Buffer b;
	uint8_t *out = (uint8_t *)luaL_buffinitsize(L, &b, whole + 8);
	size_t i;
	for (i = 0; i < whole; i += 8)
		des_block(&ks, 0, text + i, out + i);
	uint8_t last[8];
	memcpy(last, text + whole, len - whole);
	pad_block(last, (int)(len - whole), mode);
	des_block(&ks, 0, last, out + whole);
	luaL_pushresultsize(&b, whole + 8);
	return 1;
}

/* desdecode(key, ciphertext [, padding]) -> text without its padding */
static int
ldesdecode(lua_State *L) {
	struct des_keys ks;
	check_des_key(L, &ks);
	size_t len = 0;
	const uint8_t *text = (const uint8_t *)luaL_checklstring(L, 2, &len);
	if (len == 0 || (len & 7) != 0)
		return luaL_error(L, "Invalid des crypt text length %d", (int)len);
	int mode = (int)luaL_optinteger(L, 3, PAD_ISO7816_4);
	luaL_Buffer b;
	uint8_t *out = (uint8_t *)luaL_buffinitsize(L, &b, len);
	size_t i;
	for (i = 0; i < len; i += 8)
		des_block(&ks, 1, text + i, out + i);
	int pad = padding_length(out + len - 8, check_padding(L, mode));
	if (pad == 0)
		return luaL_error(L, "Invalid des crypt text");
	luaL_pushresultsize(&b, len - pad);
	return 1;
}

/* ---- keys ---- */

/* hashkey(text) -> 8 bytes: the djb2 hash (h*33+c) then the JS hash, each little-endian. */
static uint64_t
text_hash(const uint8_t *s, size_t len) {
	uint32_t djb = 5381, js = 1315423911;
	size_t i;
	for (i = 0; i < len; i++) {
		djb = djb * 33 + s[i];
		js ^= (js << 5) + s[i] + (js >> 2);
	}
	return (uint64_t)js << 32 | djb;
}

static int
lhashkey(lua_State *L) {
	size_t len = 0;
	const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &len);
	push_le64(L, text_hash(s, len));
	return 1;
}

/* randomkey() -> 8 bytes from the kernel's generator; never all zero, so it is a valid DH key. */
static int
lrandomkey(lua_State *L) {
	uint8_t key[8];
	size_t got = 0;
	while (got < sizeof(key)) {
		ssize_t n = getrandom(key + got, sizeof(key) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return luaL_error(L, "randomkey: getrandom failed (%s)", strerror(errno));
		}
		got += (size_t)n;
	}
	uint8_t x = 0;
	int i;
	for (i = 0; i < 8; i++)
		x ^= key[i];
	if (x == 0)
		key[0] ^= 1;
	lua_pushlstring(L, (const char *)key, 8);
	return 1;
}

/* ---- MD5-based 64-bit MACs ---- */

static const uint32_t MD5_K[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static const uint8_t MD5_SHIFT[4][4] = {
	{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
};

static const uint32_t MD5_IV[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };

/* The 64 MD5 steps over one block of words, starting from the IV; the IV is NOT
 * added back at the end (hmac64 uses the raw state). */
static void
md5_steps(const uint32_t w[16], uint32_t st[4]) {
	uint32_t a = MD5_IV[0], b = MD5_IV[1], c = MD5_IV[2], d = MD5_IV[3];
	int i;
	for (i = 0; i < 64; i++) {
		uint32_t f;
		int g;
		switch (i / 16) {
		case 0: f = (b & c) | (~b & d); g = i; break;
		case 1: f = (b & d) | (c & ~d); g = (5 * i + 1) & 15; break;
		case 2: f = b ^ c ^ d; g = (3 * i + 5) & 15; break;
		default: f = c ^ (b | ~d); g = (7 * i) & 15; break;
		}
		uint32_t sum = a + f + MD5_K[i] + w[g];
		int s = MD5_SHIFT[i / 16][i & 3];
		a = d;
		d = c;
		c = b;
		b += (sum << s) | (sum >> (32 - s));
	}
	st[0] = a;
	st[1] = b;
	st[2] = c;
	st[3] = d;
}

/* hmac64 core: the block is (x.hi, x.lo, y.hi, y.lo) four times, result (c^d, a^b). */
static uint64_t
mac64(uint64_t x, uint64_t y) {
	uint32_t w[16], st[4];
	int i;
	for (i = 0; i < 16; i += 4) {
		w[i] = (uint32_t)(x >> 32);
		w[i + 1] = (uint32_t)x;
		w[i + 2] = (uint32_t)(y >> 32);
		w[i + 3] = (uint32_t)y;
	}
	md5_steps(w, st);
	return (uint64_t)(st[0] ^ st[1]) << 32 | (st[2] ^ st[3]);
}

/* hmac64(x, y): both 8 bytes */
static int
lhmac64(lua_State *L) {
	uint64_t x = load_le64(check_qword(L, 1, "Invalid uint64 x"));
	uint64_t y = load_le64(check_qword(L, 2, "Invalid uint64 y"));
	push_le64(L, mac64(x, y));
	return 1;
}

/* hmac64_md5(x, y): m = md5((x..y):rep(3)); the result is m[1..8] xor m[9..16]. */
static int
lhmac64_md5(lua_State *L) {
	const uint8_t *x = check_qword(L, 1, "Invalid uint64 x");
	const uint8_t *y = check_qword(L, 2, "Invalid uint64 y");
	uint8_t msg[64];
	uint32_t w[16], st[4];
	int i;
	for (i = 0; i < 48; i += 16) {
		memcpy(msg + i, x, 8);
		memcpy(msg + i + 8, y, 8);
	}
	/* MD5 padding of a 48-byte message fits in this one block: 0x80, zeros, 384 bits */
	memset(msg + 48, 0, 16);
	msg[48] = 0x80;
	msg[56] = 384 & 0xff;
	msg[57] = 384 >> 8;
	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)msg[4*i] | (uint32_t)msg[4*i+1] << 8
			| (uint32_t)msg[4*i+2] << 16 | (uint32_t)msg[4*i+3] << 24;
	md5_steps(w, st);
	for (i = 0; i < 4; i++)
		st[i] += MD5_IV[i];
	push_le64(L, (uint64_t)(st[1] ^ st[3]) << 32 | (st[0] ^ st[2]));
	return 1;
}

/* hmac_hash(key, text): hmac64 of hashkey(text) with the 8-byte key */
static int
lhmac_hash(lua_State *L) {
	uint64_t key = load_le64(check_qword(L, 1, "Invalid uint64 key"));
	size_t len = 0;
	const uint8_t *text = (const uint8_t *)luaL_checklstring(L, 2, &len);
	push_le64(L, mac64(text_hash(text, len), key));
	return 1;
}

/* ---- Diffie-Hellman over the largest 64-bit prime, generator 5 ---- */

#define DH_P 0xffffffffffffffc5ull
#define DH_G 5

static uint64_t
mulmod(uint64_t a, uint64_t b) {
	return (uint64_t)((unsigned __int128)a * b % DH_P);
}

/* base^e mod p for e >= 1.  As upstream: a base above p is reduced once, and e == 1
 * gives that base back as it is (so p itself comes back as p, not 0). */
static uint64_t
powmod(uint64_t base, uint64_t e) {
	if (base > DH_P)
		base -= DH_P;
	if (e == 1)
		return base;
	uint64_t r = 1, sq = base;
	while (e) {
		if (e & 1)
			r = mulmod(r, sq);
		sq = mulmod(sq, sq);
		e >>= 1;
	}
	return r;
}

/* dhexchange(private) -> G^private mod P */
static int
ldhexchange(lua_State *L) {
	uint64_t x = load_le64(check_qword(L, 1, "Invalid dh uint64 key"));
	if (x == 0)
		return luaL_error(L, "Can't be 0");
	push_le64(L, powmod(DH_G, x));
	return 1;
}

/* dhsecret(their_public, my_private) -> their_public^my_private mod P */
static int
ldhsecret(lua_State *L) {
	uint64_t x = load_le64(check_qword(L, 1, "Invalid uint64 x"));
	uint64_t y = load_le64(check_qword(L, 2, "Invalid uint64 y"));
	if (x == 0 || y == 0)
		return luaL_error(L, "Can't be 0");
	push_le64(L, powmod(x, y));
	return 1;
}

/* ---- hex ---- */

static int
ltohex(lua_State *L) {
	static const char digits[] = "0123456789abcdef";
	size_t len = 0;
	const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &len);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, len * 2);
	size_t i;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[s[i] >> 4];
		out[2 * i + 1] = digits[s[i] & 0xf];
	}
	luaL_pushresultsize(&b, len * 2);
	return 1;
}

/* Value of a lowercase hex digit, -1 for anything else (upstream takes lowercase only). */
static int
hexdigit(char c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
lfromhex(lua_State *L) {
	size_t len = 0;
	const char *s = luaL_checklstring(L, 1, &len);
	if (len & 1)
		return luaL_error(L, "Invalid hex text size %d", (int)len);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, len / 2);
	size_t i;
	for (i = 0; i < len; i += 2) {
		int hi = hexdigit(s[i]), lo = hexdigit(s[i + 1]);
		if (hi < 0 || lo < 0)
			return luaL_error(L, "Invalid hex text");
		out[i / 2] = (char)(hi << 4 | lo);
	}
	luaL_pushresultsize(&b, len / 2);
	return 1;
}

/* ---- base64 (RFC 4648 alphabet, '=' padding) ---- */

static const char B64_ALPHABET[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
lb64encode(lua_State *L) {
	size_t len = 0;
	const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &len);
	size_t outlen = (len + 2) / 3 * 4;
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, outlen);
	size_t i, o = 0;
	for (i = 0; i < len; i += 3) {
		size_t left = len - i;
		uint32_t v = (uint32_t)s[i] << 16;
		if (left > 1)
			v |= (uint32_t)s[i + 1] << 8;
		if (left > 2)
			v |= s[i + 2];
		out[o++] = B64_ALPHABET[v >> 18];
		out[o++] = B64_ALPHABET[v >> 12 & 0x3f];
		out[o++] = left > 1 ? B64_ALPHABET[v >> 6 & 0x3f] : '=';
		out[o++] = left > 2 ? B64_ALPHABET[v & 0x3f] : '=';
	}
	luaL_pushresultsize(&b, outlen);
	return 1;
}

#define B64_PAD (-2)
#define B64_SKIP (-1)

/* Sextet value of c, B64_PAD for '=', B64_SKIP for characters decoding ignores. */
static int
b64value(uint8_t c) {
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	if (c == '=')
		return B64_PAD;
	return B64_SKIP;
}

/*
 * As upstream: characters outside the alphabet are skipped, missing trailing '=' are
 * implied, and each group of four may end in '=' (so concatenated encodings decode).
 * A group made only of implied padding (e.g. a trailing newline after the last full
 * group) is an error, as are non-zero bits hidden under the padding.
 */
static int
lb64decode(lua_State *L) {
	size_t len = 0;
	const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &len);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, (len + 3) / 4 * 3);
	size_t i = 0, o = 0;
	while (i < len) {
		int q[4];
		int n = 0, pads = 0;
		while (n < 4) {
			int v = i < len ? b64value(s[i]) : B64_PAD;
			i++;
			if (v == B64_SKIP)
				continue;
			if (v == B64_PAD)
				pads++;
			q[n++] = v;
		}
		uint32_t bits;
		switch (pads) {
		case 0:
			bits = (uint32_t)q[0] << 18 | q[1] << 12 | q[2] << 6 | q[3];
			out[o++] = (char)(bits >> 16);
			out[o++] = (char)(bits >> 8);
			out[o++] = (char)bits;
			break;
		case 1:
			if (q[3] != B64_PAD || (q[2] & 3) != 0)
				return luaL_error(L, "Invalid base64 text");
			bits = (uint32_t)q[0] << 10 | q[1] << 4 | q[2] >> 2;
			out[o++] = (char)(bits >> 8);
			out[o++] = (char)bits;
			break;
		case 2:
			if (q[3] != B64_PAD || q[2] != B64_PAD || (q[1] & 0xf) != 0)
				return luaL_error(L, "Invalid base64 text");
			out[o++] = (char)(q[0] << 2 | q[1] >> 4);
			break;
		default:
			return luaL_error(L, "Invalid base64 text");
		}
	}
	luaL_pushresultsize(&b, o);
	return 1;
}

/* xor_str(a, b): a xor b, with b repeated over a's length */
static int
lxor_str(lua_State *L) {
	size_t len = 0, keylen = 0;
	const char *s = luaL_checklstring(L, 1, &len);
	const char *key = luaL_checklstring(L, 2, &keylen);
	if (keylen == 0)
		return luaL_error(L, "Can't xor empty string");
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, len);
	size_t i;
	for (i = 0; i < len; i++)
		out[i] = s[i] ^ key[i % keylen];
	luaL_pushresultsize(&b, len);
	return 1;
}

LUAMOD_API int
luaopen_skynet_crypt(lua_State *L) {
	luaL_checkversion(L);
	static const luaL_Reg funcs[] = {
		{ "hashkey", lhashkey },
		{ "randomkey", lrandomkey },
		{ "desencode", ldesencode },
		{ "desdecode", ldesdecode },
		{ "hexencode", ltohex },
		{ "hexdecode", lfromhex },
		{ "hmac64", lhmac64 },
		{ "hmac64_md5", lhmac64_md5 },
		{ "dhexchange", ldhexchange },
		{ "dhsecret", ldhsecret },
		{ "base64encode", lb64encode },
		{ "base64decode", lb64decode },
		{ "sha1", lcrypt_sha1 },
		{ "hmac_sha1", lcrypt_hmac_sha1 },
		{ "hmac_hash", lhmac_hash },
		{ "xor_str", lxor_str },
		{ NULL, NULL },
	};
	luaL_newlib(L, funcs);
	lua_createtable(L, 0, PAD_MODES);
	lua_pushinteger(L, PAD_ISO7816_4);
	lua_setfield(L, -2, "iso7816_4");
	lua_pushinteger(L, PAD_PKCS7);
	lua_setfield(L, -2, "pkcs7");
	lua_setfield(L, -2, "padding");
	return 1;
}

LUAMOD_API int
luaopen_client_crypt(lua_State *L) {
	return luaopen_skynet_crypt(L);
}

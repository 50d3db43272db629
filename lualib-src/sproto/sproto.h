/*
 * sproto: the schemas and the wire format of skynet's RPC serialisation.
 *
 * A schema binary (what sprotoparser.parse returns) is itself a sproto message of a
 * fixed ".group" type; sproto_create turns it into the read-only tables below. The
 * message reader and the 0-packing functions work on raw buffers; the Lua binding
 * (lsproto.c) does the encoding and decoding against Lua values.
 */
#ifndef SKYNET_SPROTO_H
#define SKYNET_SPROTO_H

#include <stddef.h>
#include <stdint.h>

/* Field kinds: the numbers are the "buildin" codes of the schema binary. */
#define SPROTO_TINTEGER 0
#define SPROTO_TBOOLEAN 1
#define SPROTO_TSTRING 2
#define SPROTO_TDOUBLE 3
#define SPROTO_TSTRUCT 4

/* Inline values of the field part hold 0 .. SPROTO_INLINE_MAX. */
#define SPROTO_INLINE_MAX 0x7ffe
/* One skip entry of the field part advances the tag by at most this much. */
#define SPROTO_SKIP_MAX 0x8000

struct sproto;
struct sproto_type;

struct sproto_field {
	const char *name;
	int tag;
	int kind;			/* SPROTO_T* */
	int array;
	int binary;			/* a string field declared as binary */
	int decimal;		/* digits after the point of integer(n) */
	double scale;		/* 10^decimal for integer(n), even integer(0); 0 for plain integers */
	const struct sproto_type *sub;		/* the element type of a struct field */
	const struct sproto_field *key;		/* field of sub that keys *sub(key) and *sub() */
	const struct sproto_field *value;	/* the other field of a *sub() map */
};

struct sproto_type {
	const char *name;
	int nfield;
	int maxentry;		/* most field-part entries one encoding can need */
	const struct sproto_field *field;	/* ascending tags */
};

struct sproto_protocol {
	const char *name;
	int tag;
	const struct sproto_type *request;
	const struct sproto_type *response;
	int confirm;		/* "response nil": the peer answers with an empty message */
};

/* NULL on a malformed binary, with *err (if err is not NULL) saying why. */
struct sproto *sproto_create(const void *bin, size_t sz, const char **err);
void sproto_release(struct sproto *);

const struct sproto_type *sproto_type(const struct sproto *, const char *name);
const struct sproto_protocol *sproto_protocol_byname(const struct sproto *, const char *name);
const struct sproto_protocol *sproto_protocol_bytag(const struct sproto *, int tag);
/* All types (in schema order) and protocols (by tag), for dumps. */
int sproto_types(const struct sproto *, const struct sproto_type **first);
int sproto_protocols(const struct sproto *, const struct sproto_protocol **first);

/* Walks the fields of one encoded struct. */
struct sproto_reader {
	const uint8_t *start;
	const uint8_t *entry;	/* next field-part entry */
	const uint8_t *data;	/* next data-part chunk */
	const uint8_t *end;
	int left;				/* field-part entries not read yet */
	int tag;				/* tag of the next entry (fits: 65535 skips of 32768 < 2^31) */
};

struct sproto_item {
	int tag;
	int inplace;			/* the value sits in the field part */
	int value;				/* if inplace */
	const uint8_t *data;	/* otherwise: the chunk of the data part */
	uint32_t size;
};

/* 0, or -1 if the buffer can't hold the header and field part. */
int sproto_reader_init(struct sproto_reader *, const void *msg, size_t sz);
/* 1 with the next item, 0 at the end, -1 on a chunk that overruns the buffer. */
int sproto_reader_next(struct sproto_reader *, struct sproto_item *);
/* Bytes of the message read so far (all of it once next returned 0). */
size_t sproto_reader_used(const struct sproto_reader *);

/* 0-packing. dst of sproto_pack holds at least sproto_pack_bound(sz) bytes. */
size_t sproto_pack_bound(size_t sz);
size_t sproto_pack(const void *src, size_t sz, void *dst);
/* The unpacked size of a packed stream, -1 if the stream is truncated. */
ptrdiff_t sproto_unpack_size(const void *src, size_t sz);
/* Unpacks a stream sproto_unpack_size accepted into dst (of that size). */
void sproto_unpack(const void *src, size_t sz, void *dst);

static inline uint32_t
sproto_get32(const uint8_t *p) {
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
sproto_get64(const uint8_t *p) {
	return (uint64_t)sproto_get32(p) | (uint64_t)sproto_get32(p + 4) << 32;
}

static inline void
sproto_put16(uint8_t *p, unsigned v) {
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
sproto_put32(uint8_t *p, uint32_t v) {
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void
sproto_put64(uint8_t *p, uint64_t v) {
	sproto_put32(p, (uint32_t)v);
	sproto_put32(p + 4, (uint32_t)(v >> 32));
}

#endif

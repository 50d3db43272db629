/*
 * Schema loading, the message reader and 0-packing (see sproto.h).
 *
 * The schema binary encodes these records (tags in parentheses):
 *   group    types (0): *type, protocols (1): *protocol
 *   type     name (0), fields (1): *field
 *   field    name (0), buildin (1), type (2), tag (3), array (4), key (5), map (6)
 *   protocol name (0), tag (1), request (2), response (3), confirm (4)
 * "type" is the index of a struct field's type in the group's type list, the digits
 * of a fixed-point integer, or 1 for a binary string.
 */

#include "sproto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- message reader ---- */

int
sproto_reader_init(struct sproto_reader *r, const void *msg, size_t sz) {
	const uint8_t *p = msg;
	int n;
	if (sz < 2)
		return -1;
	n = p[0] | p[1] << 8;
	if (sz - 2 < (size_t)n * 2)
		return -1;
	r->start = p;
	r->entry = p + 2;
	r->data = p + 2 + n * 2;
	r->end = p + sz;
	r->left = n;
	r->tag = 0;
	return 0;
}

int
sproto_reader_next(struct sproto_reader *r, struct sproto_item *it) {
	while (r->left > 0) {
		int n = r->entry[0] | r->entry[1] << 8;
		r->entry += 2;
		r->left--;
		if (n & 1) {
			/* an odd entry skips tags */
			r->tag += (n + 1) / 2;
			continue;
		}
		it->tag = r->tag++;
		if (n != 0) {
			it->inplace = 1;
			it->value = n / 2 - 1;
			it->data = NULL;
			it->size = 0;
			return 1;
		}
		if (r->end - r->data < 4)
			return -1;
		it->size = sproto_get32(r->data);
		if ((size_t)(r->end - r->data) - 4 < it->size)
			return -1;
		it->inplace = 0;
		it->value = 0;
		it->data = r->data + 4;
		r->data += 4 + it->size;
		return 1;
	}
	return 0;
}

size_t
sproto_reader_used(const struct sproto_reader *r) {
	return (size_t)(r->data - r->start);
}

/* ---- schema ---- */

struct sproto {
	int ntype;
	struct sproto_type *type;
	const struct sproto_type **typename;		/* sorted by name */
	int nproto;
	struct sproto_protocol *proto;				/* sorted by tag */
	const struct sproto_protocol **protoname;	/* sorted by name */
};

/* What a field record says that only linking can resolve. */
struct pending {
	int keytag;		/* -1: no main index */
	int map;
};

/*
 * The loader reads the binary twice: the first pass counts records and name bytes
 * (and checks the encoding), the second fills the tables allocated in between.
 */
struct loader {
	int fill;
	const char *err;
	int ntype;
	int nfield;
	int nproto;
	size_t names;
	/* second pass */
	struct sproto *sp;
	struct sproto_field *field;
	struct pending *pending;
	char *namebuf;
	int typecount;	/* ntype of the first pass: bound of type indexes */
};

static int
fail(struct loader *ld, const char *why) {
	if (ld->err == NULL)
		ld->err = why;
	return -1;
}

static int
item_int(const struct sproto_item *it, int *out) {
	int64_t v;
	if (it->inplace) {
		*out = it->value;
		return 0;
	}
	if (it->size == 4)
		v = (int32_t)sproto_get32(it->data);
	else if (it->size == 8)
		v = (int64_t)sproto_get64(it->data);
	else
		return -1;
	if (v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int
item_bool(const struct sproto_item *it, int *out) {
	if (!it->inplace)
		return -1;
	*out = it->value != 0;
	return 0;
}

/* A name: a chunk without NUL bytes. Copied out in the second pass. */
static const char *
item_name(struct loader *ld, const struct sproto_item *it) {
	char *s;
	if (it->inplace || memchr(it->data, 0, it->size) != NULL) {
		fail(ld, "bad name");
		return NULL;
	}
	ld->names += it->size + 1;
	if (!ld->fill)
		return "";
	s = ld->namebuf;
	memcpy(s, it->data, it->size);
	s[it->size] = '\0';
	ld->namebuf += it->size + 1;
	return s;
}

typedef int (*record_reader)(struct loader *, const uint8_t *, size_t);

/* Runs f on each element of an array of structs: (4-byte size, bytes) repeated. */
static int
each_record(struct loader *ld, const struct sproto_item *it, record_reader f) {
	const uint8_t *p = it->data;
	size_t left = it->size;
	if (it->inplace)
		return fail(ld, "an array of records is in the field part");
	while (left > 0) {
		uint32_t sz;
		if (left < 4)
			return fail(ld, "truncated record array");
		sz = sproto_get32(p);
		if (left - 4 < sz)
			return fail(ld, "truncated record");
		if (f(ld, p + 4, sz))
			return -1;
		p += 4 + sz;
		left -= 4 + sz;
	}
	return 0;
}

static int
decimal_scale(int digits, double *scale) {
	double s = 1;
	if (digits < 0 || digits > 18)
		return -1;
	while (digits-- > 0)
		s *= 10;
	*scale = s;
	return 0;
}

static int
read_field(struct loader *ld, const uint8_t *p, size_t sz) {
	struct sproto_reader r;
	struct sproto_item it;
	const char *name = NULL;
	int buildin = -1, type = -1, tag = -1, array = 0, key = -1, map = 0;
	int rc, bad = 0;
	if (sproto_reader_init(&r, p, sz))
		return fail(ld, "truncated field record");
	while ((rc = sproto_reader_next(&r, &it)) > 0) {
		switch (it.tag) {
		case 0:
			if ((name = item_name(ld, &it)) == NULL)
				return -1;
			break;
		case 1: bad |= item_int(&it, &buildin); break;
		case 2: bad |= item_int(&it, &type); break;
		case 3: bad |= item_int(&it, &tag); break;
		case 4: bad |= item_bool(&it, &array); break;
		case 5: bad |= item_int(&it, &key); break;
		case 6: bad |= item_bool(&it, &map); break;
		default: break;	/* newer schema attributes */
		}
	}
	if (rc < 0 || bad)
		return fail(ld, "malformed field record");
	if (name == NULL || tag < 0)
		return fail(ld, "a field lacks its name or tag");
	if (buildin == -1 ? type < 0 : (buildin < SPROTO_TINTEGER || buildin > SPROTO_TDOUBLE))
		return fail(ld, "a field has no valid type");
	if (key >= 0 && (!array || buildin != -1))
		return fail(ld, "a main index on a field that is not an array of structs");
	if (ld->fill) {
		struct sproto_field *f = &ld->field[ld->nfield];
		struct pending *pd = &ld->pending[ld->nfield];
		memset(f, 0, sizeof(*f));
		f->name = name;
		f->tag = tag;
		f->array = array;
		if (buildin == -1) {
			if (type >= ld->typecount)
				return fail(ld, "a field refers to a type that does not exist");
			f->kind = SPROTO_TSTRUCT;
			f->sub = &ld->sp->type[type];
		} else {
			f->kind = buildin;
			if (buildin == SPROTO_TINTEGER && type >= 0) {
				if (decimal_scale(type, &f->scale))
					return fail(ld, "bad fixed-point precision");
				f->decimal = type;
			} else if (buildin == SPROTO_TSTRING) {
				f->binary = type == 1;
			}
		}
		pd->keytag = key;
		pd->map = map;
	}
	ld->nfield++;
	return 0;
}

static int
read_type(struct loader *ld, const uint8_t *p, size_t sz) {
	struct sproto_reader r;
	struct sproto_item it;
	const char *name = NULL;
	int first = ld->nfield;
	int rc;
	if (sproto_reader_init(&r, p, sz))
		return fail(ld, "truncated type record");
	while ((rc = sproto_reader_next(&r, &it)) > 0) {
		if (it.tag == 0) {
			if ((name = item_name(ld, &it)) == NULL)
				return -1;
		} else if (it.tag == 1) {
			if (each_record(ld, &it, read_field))
				return -1;
		}
	}
	if (rc < 0)
		return fail(ld, "malformed type record");
	if (name == NULL)
		return fail(ld, "a type has no name");
	if (ld->fill) {
		struct sproto_type *t = &ld->sp->type[ld->ntype];
		t->name = name;
		t->nfield = ld->nfield - first;
		t->field = ld->field + first;
	}
	ld->ntype++;
	return 0;
}

static int
read_protocol(struct loader *ld, const uint8_t *p, size_t sz) {
	struct sproto_reader r;
	struct sproto_item it;
	const char *name = NULL;
	int tag = -1, request = -1, response = -1, confirm = 0;
	int rc, bad = 0;
	if (sproto_reader_init(&r, p, sz))
		return fail(ld, "truncated protocol record");
	while ((rc = sproto_reader_next(&r, &it)) > 0) {
		switch (it.tag) {
		case 0:
			if ((name = item_name(ld, &it)) == NULL)
				return -1;
			break;
		case 1: bad |= item_int(&it, &tag); break;
		case 2: bad |= item_int(&it, &request); break;
		case 3: bad |= item_int(&it, &response); break;
		case 4: bad |= item_bool(&it, &confirm); break;
		default: break;
		}
	}
	if (rc < 0 || bad)
		return fail(ld, "malformed protocol record");
	if (name == NULL || tag < 0)
		return fail(ld, "a protocol lacks its name or tag");
	if (ld->fill) {
		struct sproto_protocol *pr = &ld->sp->proto[ld->nproto];
		if (request >= ld->typecount || response >= ld->typecount)
			return fail(ld, "a protocol refers to a type that does not exist");
		pr->name = name;
		pr->tag = tag;
		pr->request = request >= 0 ? &ld->sp->type[request] : NULL;
		pr->response = response >= 0 ? &ld->sp->type[response] : NULL;
		pr->confirm = confirm;
	}
	ld->nproto++;
	return 0;
}

static int
read_group(struct loader *ld, const void *bin, size_t sz) {
	struct sproto_reader r;
	struct sproto_item it;
	int rc;
	if (sproto_reader_init(&r, bin, sz))
		return fail(ld, "truncated schema");
	while ((rc = sproto_reader_next(&r, &it)) > 0) {
		if (it.tag == 0) {
			if (each_record(ld, &it, read_type))
				return -1;
		} else if (it.tag == 1) {
			if (each_record(ld, &it, read_protocol))
				return -1;
		}
	}
	if (rc < 0)
		return fail(ld, "malformed schema");
	return 0;
}

/* ---- linking ---- */

struct tagpos {
	int tag;
	int pos;
};

static int
cmp_tagpos(const void *a, const void *b) {
	const struct tagpos *x = a, *y = b;
	return (x->tag > y->tag) - (x->tag < y->tag);
}

static int
cmp_proto(const void *a, const void *b) {
	const struct sproto_protocol *x = a, *y = b;
	return (x->tag > y->tag) - (x->tag < y->tag);
}

static int
cmp_typename(const void *a, const void *b) {
	const struct sproto_type *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

static int
cmp_protoname(const void *a, const void *b) {
	const struct sproto_protocol *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

/*
 * Puts each type's fields in tag order (their pending records follow them), using
 * order/fscratch/pscratch of nfield entries as room.
 */
static int
sort_fields(struct loader *ld, struct sproto_field *all, struct tagpos *order,
		struct sproto_field *fscratch, struct pending *pscratch) {
	struct sproto *sp = ld->sp;
	int i, j;
	for (i = 0; i < sp->ntype; i++) {
		struct sproto_type *t = &sp->type[i];
		int first = (int)(t->field - all);
		int n = t->nfield;
		int maxtag = 0;
		for (j = 0; j < n; j++) {
			order[j].tag = all[first + j].tag;
			order[j].pos = first + j;
		}
		qsort(order, n, sizeof(order[0]), cmp_tagpos);
		for (j = 0; j < n; j++) {
			if (j > 0 && order[j].tag == order[j - 1].tag)
				return fail(ld, "two fields of a type share a tag");
			fscratch[j] = all[order[j].pos];
			pscratch[j] = ld->pending[order[j].pos];
			maxtag = order[j].tag;
		}
		memcpy(all + first, fscratch, n * sizeof(all[0]));
		memcpy(ld->pending + first, pscratch, n * sizeof(pscratch[0]));
		/* a value and a skip entry per field, plus the skips a tag gap needs beyond */
		t->maxentry = 2 * n + maxtag / SPROTO_SKIP_MAX + 1;
		if (t->maxentry > 0xffff)
			return fail(ld, "a type has too many fields");
	}
	return 0;
}

static const struct sproto_field *
field_bytag(const struct sproto_type *t, int tag) {
	int lo = 0, hi = t->nfield - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (t->field[mid].tag == tag)
			return &t->field[mid];
		if (t->field[mid].tag < tag)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

static int
link_keys(struct loader *ld, struct sproto_field *all) {
	int i;
	for (i = 0; i < ld->nfield; i++) {
		struct sproto_field *f = &all[i];
		const struct pending *pd = &ld->pending[i];
		const struct sproto_field *key;
		if (pd->keytag < 0)
			continue;
		key = field_bytag(f->sub, pd->keytag);
		if (key == NULL || key->kind == SPROTO_TSTRUCT || key->array)
			return fail(ld, "a main index is not a plain field of its struct");
		f->key = key;
		if (pd->map) {
			if (f->sub->nfield != 2)
				return fail(ld, "a map's struct does not have exactly two fields");
			f->value = key == &f->sub->field[0] ? &f->sub->field[1] : &f->sub->field[0];
		}
	}
	return 0;
}

static int
build_indexes(struct loader *ld) {
	struct sproto *sp = ld->sp;
	int i;
	for (i = 0; i < sp->ntype; i++)
		sp->typename[i] = &sp->type[i];
	qsort(sp->typename, sp->ntype, sizeof(sp->typename[0]), cmp_typename);
	for (i = 1; i < sp->ntype; i++) {
		if (strcmp(sp->typename[i]->name, sp->typename[i - 1]->name) == 0)
			return fail(ld, "two types share a name");
	}
	qsort(sp->proto, sp->nproto, sizeof(sp->proto[0]), cmp_proto);
	for (i = 0; i < sp->nproto; i++) {
		if (i > 0 && sp->proto[i].tag == sp->proto[i - 1].tag)
			return fail(ld, "two protocols share a tag");
		sp->protoname[i] = &sp->proto[i];
	}
	qsort(sp->protoname, sp->nproto, sizeof(sp->protoname[0]), cmp_protoname);
	for (i = 1; i < sp->nproto; i++) {
		if (strcmp(sp->protoname[i]->name, sp->protoname[i - 1]->name) == 0)
			return fail(ld, "two protocols share a name");
	}
	return 0;
}

static int
link_schema(struct loader *ld, struct sproto_field *all) {
	size_t n = ld->nfield > 0 ? (size_t)ld->nfield : 1;
	struct tagpos *order = malloc(n * sizeof(*order));
	struct sproto_field *fscratch = malloc(n * sizeof(*fscratch));
	struct pending *pscratch = malloc(n * sizeof(*pscratch));
	int r;
	if (order == NULL || fscratch == NULL || pscratch == NULL)
		r = fail(ld, "out of memory");
	else
		r = sort_fields(ld, all, order, fscratch, pscratch);
	free(order);
	free(fscratch);
	free(pscratch);
	if (r == 0)
		r = link_keys(ld, all);
	if (r == 0)
		r = build_indexes(ld);
	return r;
}

/* Tables and names share one block: structs first, then pointers, then characters. */
static struct sproto *
allocate(struct loader *ld) {
	size_t size = sizeof(struct sproto)
		+ ld->ntype * sizeof(struct sproto_type)
		+ ld->nfield * sizeof(struct sproto_field)
		+ ld->nproto * sizeof(struct sproto_protocol)
		+ ld->ntype * sizeof(struct sproto_type *)
		+ ld->nproto * sizeof(struct sproto_protocol *)
		+ ld->names;
	char *p = malloc(size);
	struct sproto *sp = (struct sproto *)p;
	if (p == NULL)
		return NULL;
	p += sizeof(struct sproto);
	sp->ntype = ld->ntype;
	sp->type = (struct sproto_type *)p;
	p += ld->ntype * sizeof(struct sproto_type);
	ld->field = (struct sproto_field *)p;
	p += ld->nfield * sizeof(struct sproto_field);
	sp->nproto = ld->nproto;
	sp->proto = (struct sproto_protocol *)p;
	p += ld->nproto * sizeof(struct sproto_protocol);
	sp->typename = (const struct sproto_type **)p;
	p += ld->ntype * sizeof(struct sproto_type *);
	sp->protoname = (const struct sproto_protocol **)p;
	p += ld->nproto * sizeof(struct sproto_protocol *);
	ld->namebuf = p;
	return sp;
}

struct sproto *
sproto_create(const void *bin, size_t sz, const char **err) {
	struct loader ld;
	struct sproto *sp;
	struct sproto_field *all;
	memset(&ld, 0, sizeof(ld));
	if (read_group(&ld, bin, sz) == 0) {
		sp = allocate(&ld);
		ld.pending = malloc((ld.nfield > 0 ? ld.nfield : 1) * sizeof(struct pending));
		if (sp == NULL || ld.pending == NULL) {
			free(sp);
			free(ld.pending);
			if (err)
				*err = "out of memory";
			return NULL;
		}
		all = ld.field;
		ld.sp = sp;
		ld.fill = 1;
		ld.typecount = ld.ntype;
		ld.ntype = ld.nfield = ld.nproto = 0;
		ld.names = 0;
		if (read_group(&ld, bin, sz) == 0 && link_schema(&ld, all) == 0) {
			free(ld.pending);
			return sp;
		}
		free(ld.pending);
		free(sp);
	}
	if (err)
		*err = ld.err;
	return NULL;
}

void
sproto_release(struct sproto *sp) {
	free(sp);
}

/* The lookups search the arrays sproto_create sorted, with the comparators that sorted them. */

const struct sproto_type *
sproto_type(const struct sproto *sp, const char *name) {
	struct sproto_type key = { .name = name };
	const struct sproto_type *k = &key;
	const struct sproto_type *const *found =
		bsearch(&k, sp->typename, sp->ntype, sizeof(sp->typename[0]), cmp_typename);
	return found ? *found : NULL;
}

const struct sproto_protocol *
sproto_protocol_byname(const struct sproto *sp, const char *name) {
	struct sproto_protocol key = { .name = name };
	const struct sproto_protocol *k = &key;
	const struct sproto_protocol *const *found =
		bsearch(&k, sp->protoname, sp->nproto, sizeof(sp->protoname[0]), cmp_protoname);
	return found ? *found : NULL;
}

const struct sproto_protocol *
sproto_protocol_bytag(const struct sproto *sp, int tag) {
	struct sproto_protocol key = { .tag = tag };
	return bsearch(&key, sp->proto, sp->nproto, sizeof(sp->proto[0]), cmp_proto);
}

int
sproto_types(const struct sproto *sp, const struct sproto_type **first) {
	*first = sp->type;
	return sp->ntype;
}

int
sproto_protocols(const struct sproto *sp, const struct sproto_protocol **first) {
	*first = sp->proto;
	return sp->nproto;
}

/* ---- 0-packing ---- */

/*
 * Each 8-byte word (the input is zero-padded to whole words) becomes a bitmap of its
 * non-zero bytes followed by those bytes. A word without zeros opens a raw run instead:
 * 0xff, the number of words in the run minus one, then the words as they are. The run
 * goes on over the next words that have at most two zero bytes, up to 256 words.
 */

#define RUN_MAX 256

size_t
sproto_pack_bound(size_t sz) {
	size_t words = (sz + 7) / 8;
	/* a run's two header bytes are won back by the short word that ends it */
	return words * 8 + (words / RUN_MAX) * 2 + 2;
}

size_t
sproto_pack(const void *src, size_t sz, void *dst) {
	const uint8_t *in = src;
	uint8_t *out = dst;
	uint8_t *runcount = NULL;
	int runwords = 0;
	size_t off;
	for (off = 0; off < sz; off += 8) {
		uint8_t pad[8];
		const uint8_t *w = in + off;
		unsigned bits = 0;
		int i, nonzero = 0;
		if (sz - off < 8) {
			memset(pad, 0, sizeof(pad));
			memcpy(pad, w, sz - off);
			w = pad;
		}
		for (i = 0; i < 8; i++) {
			if (w[i]) {
				bits |= 1u << i;
				nonzero++;
			}
		}
		if (runwords > 0 && nonzero >= 6) {
			memcpy(out, w, 8);
			out += 8;
			if (++runwords == RUN_MAX) {
				*runcount = RUN_MAX - 1;
				runwords = 0;
			}
			continue;
		}
		if (runwords > 0) {
			*runcount = (uint8_t)(runwords - 1);
			runwords = 0;
		}
		if (nonzero == 8) {
			*out++ = 0xff;
			runcount = out++;
			memcpy(out, w, 8);
			out += 8;
			runwords = 1;
			continue;
		}
		*out++ = (uint8_t)bits;
		for (i = 0; i < 8; i++) {
			if (w[i])
				*out++ = w[i];
		}
	}
	if (runwords > 0)
		*runcount = (uint8_t)(runwords - 1);
	return (size_t)(out - (uint8_t *)dst);
}

static int
popcount8(unsigned v) {
	int n = 0;
	for (; v; v &= v - 1)
		n++;
	return n;
}

ptrdiff_t
sproto_unpack_size(const void *src, size_t sz) {
	const uint8_t *p = src;
	const uint8_t *end = p + sz;
	size_t total = 0;
	while (p < end) {
		unsigned bits = *p++;
		size_t need;
		if (bits == 0xff) {
			if (p == end)
				return -1;
			need = ((size_t)*p++ + 1) * 8;
			total += need;
		} else {
			need = (size_t)popcount8(bits);
			total += 8;
		}
		if ((size_t)(end - p) < need)
			return -1;
		p += need;
	}
	return (ptrdiff_t)total;
}

void
sproto_unpack(const void *src, size_t sz, void *dst) {
	const uint8_t *p = src;
	const uint8_t *end = p + sz;
	uint8_t *out = dst;
	while (p < end) {
		unsigned bits = *p++;
		int i;
		if (bits == 0xff) {
			size_t n = ((size_t)*p++ + 1) * 8;
			memcpy(out, p, n);
			p += n;
			out += n;
			continue;
		}
		for (i = 0; i < 8; i++)
			*out++ = (bits >> i) & 1 ? *p++ : 0;
	}
}

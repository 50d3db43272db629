/*
 * gate: a TCP front door written in C. It listens on one address, cuts the
 * inbound byte stream into length-prefixed packets (2-byte or 4-byte
 * big-endian header) and hands each packet to a broker, to the agent bound to
 * the connection, or to the watchdog as text. PTYPE_CLIENT messages sent to
 * the gate go back out on the socket whose id trails the payload.
 *
 * Launch parameter: "<S|L> <watchdog|!> <[host:]port> <client_tag> <max>"
 */

#include "skynet.h"
#include "skynet_socket.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKLOG 128
#define MAX_PACKET 0x1000000	/* 16 MiB: a header at or above this drops the connection */
#define REPORT_SIZE 1024

/* bytes of a connection that do not yet form a whole packet */
struct frame {
	char *buf;
	size_t len;
	size_t cap;
};

struct connection {
	int id;			/* socket id, -1 for a free slot */
	int next;		/* next slot in the same hash chain, or in the free list */
	uint32_t agent;
	uint32_t client;
	int broken;		/* an oversized header was seen; ignore input until CLOSE */
	struct frame in;
};

struct gate {
	struct skynet_context *ctx;
	int listen_id;
	uint32_t watchdog;
	uint32_t broker;
	int client_tag;
	int header_size;
	int max;
	int count;
	int mask;		/* number of buckets - 1 */
	int *bucket;		/* first slot of each hash chain, -1 when empty */
	int freelist;
	struct connection *conn;
};

/* ---- socket id -> connection slot ---- */

static int
conn_map_init(struct gate *g, int max) {
	int nb = 16;
	int i;
	while (nb < max)
		nb *= 2;
	g->bucket = skynet_malloc(nb * sizeof(int));
	g->conn = skynet_malloc(max * sizeof(struct connection));
	if (g->bucket == NULL || g->conn == NULL)
		return 1;
	for (i = 0; i < nb; i++)
		g->bucket[i] = -1;
	memset(g->conn, 0, max * sizeof(struct connection));
	for (i = 0; i < max; i++) {
		g->conn[i].id = -1;
		g->conn[i].next = i + 1 < max ? i + 1 : -1;
	}
	g->mask = nb - 1;
	g->max = max;
	g->count = 0;
	g->freelist = 0;
	return 0;
}

static struct connection *
conn_find(struct gate *g, int id) {
	int i;
	if (g->bucket == NULL)
		return NULL;
	for (i = g->bucket[id & g->mask]; i >= 0; i = g->conn[i].next) {
		if (g->conn[i].id == id)
			return &g->conn[i];
	}
	return NULL;
}

/* the caller checks for room first */
static struct connection *
conn_add(struct gate *g, int id) {
	int i = g->freelist;
	int *head = &g->bucket[id & g->mask];
	struct connection *c = &g->conn[i];
	g->freelist = c->next;
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->next = *head;
	*head = i;
	g->count++;
	return c;
}

/* unlinks the slot of id and returns it, still holding its data, or NULL */
static struct connection *
conn_remove(struct gate *g, int id) {
	int *link = &g->bucket[id & g->mask];
	while (*link >= 0) {
		struct connection *c = &g->conn[*link];
		if (c->id == id) {
			int slot = *link;
			*link = c->next;
			c->next = g->freelist;
			g->freelist = slot;
			g->count--;
			return c;
		}
		link = &c->next;
	}
	return NULL;
}

/* ---- partial packet buffer ---- */

static void
frame_clear(struct frame *f) {
	skynet_free(f->buf);
	f->buf = NULL;
	f->len = 0;
	f->cap = 0;
}

static void
frame_append(struct frame *f, const char *data, size_t sz) {
	if (f->len + sz > f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		while (cap < f->len + sz)
			cap *= 2;
		f->buf = skynet_realloc(f->buf, cap);
		f->cap = cap;
	}
	memcpy(f->buf + f->len, data, sz);
	f->len += sz;
}

/* keep only the bytes after the first used ones; an empty frame gives its memory back */
static void
frame_consume(struct frame *f, size_t used) {
	if (used == f->len) {
		frame_clear(f);
		return;
	}
	memmove(f->buf, f->buf + used, f->len - used);
	f->len -= used;
}

/* ---- reports and packet routing ---- */

static void
report(struct gate *g, const char *fmt, ...) {
	char tmp[REPORT_SIZE];
	va_list ap;
	int n;
	if (g->watchdog == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int)sizeof(tmp))
		n = sizeof(tmp) - 1;
	skynet_send(g->ctx, 0, g->watchdog, PTYPE_TEXT, 0, tmp, n);
}

/* a malloc'ed copy of prefix + data, NUL terminated like the core's own copies */
static char *
packet_copy(const char *prefix, size_t plen, const char *data, size_t sz) {
	char *p = skynet_malloc(plen + sz + 1);
	memcpy(p, prefix, plen);
	memcpy(p + plen, data, sz);
	p[plen + sz] = '\0';
	return p;
}

/* session carries the socket id; DONTCOPY hands the copy to the receiver */
static void
forward(struct gate *g, struct connection *c, const char *data, size_t sz) {
	struct skynet_context *ctx = g->ctx;
	int type = g->client_tag | PTYPE_TAG_DONTCOPY;
	if (g->broker) {
		skynet_send(ctx, 0, g->broker, type, c->id, packet_copy("", 0, data, sz), sz);
	} else if (c->agent) {
		skynet_send(ctx, c->client, c->agent, type, c->id, packet_copy("", 0, data, sz), sz);
	} else if (g->watchdog) {
		char head[32];
		int n = snprintf(head, sizeof(head), "%d data ", c->id);
		char *msg = packet_copy(head, n, data, sz);
		skynet_send(ctx, 0, g->watchdog, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, c->id, msg, n + sz);
	}
}

static size_t
packet_length(const unsigned char *p, int header_size) {
	if (header_size == 2)
		return (size_t)p[0] << 8 | p[1];
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

/*
 * Forwards every whole packet in data[0..sz) and returns how many bytes that
 * used, or -1 on an oversized header. Zero-length packets are skipped.
 */
static long
split_packets(struct gate *g, struct connection *c, const char *data, size_t sz) {
	size_t hs = g->header_size;
	size_t off = 0;
	while (sz - off >= hs) {
		size_t len = packet_length((const unsigned char *)data + off, g->header_size);
		if (len >= MAX_PACKET)
			return -1;
		if (sz - off - hs < len)
			break;
		off += hs;
		if (len > 0)
			forward(g, c, data + off, len);
		off += len;
	}
	return (long)off;
}

static void
drop_oversized(struct gate *g, struct connection *c) {
	frame_clear(&c->in);
	c->broken = 1;
	skynet_socket_close(g->ctx, c->id);
	skynet_error(g->ctx, "Recv socket message > 16M");
}

/* data is the socket layer's buffer: ours to free, or to keep as the frame */
static void
on_data(struct gate *g, struct connection *c, char *data, int sz) {
	long used;
	if (c->broken || sz <= 0) {
		skynet_free(data);
		return;
	}
	if (c->in.len > 0) {
		frame_append(&c->in, data, sz);
		skynet_free(data);
		used = split_packets(g, c, c->in.buf, c->in.len);
		if (used >= 0)
			frame_consume(&c->in, used);
	} else {
		/* common case: parse straight from the socket buffer, keep only a tail */
		used = split_packets(g, c, data, sz);
		if (used == 0) {
			c->in.buf = data;
			c->in.cap = c->in.len = sz;
			return;
		}
		if (used > 0 && used < sz)
			frame_append(&c->in, data + used, sz - used);
		skynet_free(data);
	}
	if (used < 0)
		drop_oversized(g, c);
}

/* ---- socket events ---- */

static void
socket_data(struct gate *g, const struct skynet_socket_message *m) {
	struct connection *c = conn_find(g, m->id);
	if (c) {
		on_data(g, c, m->buffer, m->ud);
		return;
	}
	skynet_error(g->ctx, "Drop unknown connection %d message", m->id);
	skynet_socket_close(g->ctx, m->id);
	skynet_free(m->buffer);
}

/* CONNECT on an accepted connection confirms `start`; anything else is a stray */
static void
socket_connect(struct gate *g, const struct skynet_socket_message *m) {
	if (m->id == g->listen_id || conn_find(g, m->id))
		return;
	skynet_error(g->ctx, "Close unknown connection %d", m->id);
	skynet_socket_close(g->ctx, m->id);
}

static void
socket_close(struct gate *g, const struct skynet_socket_message *m) {
	struct connection *c = conn_remove(g, m->id);
	if (c == NULL)
		return;
	frame_clear(&c->in);
	c->id = -1;
	report(g, "%d close", m->id);
	/* after an ERROR the socket may still hold its fd */
	skynet_socket_close(g->ctx, m->id);
}

/* addr is the peer "ip:port" that follows the message, without a NUL */
static void
socket_accept(struct gate *g, const struct skynet_socket_message *m, const char *addr, int alen) {
	int id = m->ud;
	if (g->count >= g->max) {
		skynet_socket_close(g->ctx, id);
		return;
	}
	conn_add(g, id);
	/* the connection stays paused until the watchdog sends "start <id>" */
	report(g, "%d open %d %.*s:0", id, id, alen, addr);
	skynet_error(g->ctx, "socket open: %x", id);
}

static void
dispatch_socket(struct gate *g, const struct skynet_socket_message *m, size_t sz) {
	const char *extra = (const char *)(m + 1);
	int elen = sz > sizeof(*m) ? (int)(sz - sizeof(*m)) : 0;
	switch (m->type) {
	case SKYNET_SOCKET_TYPE_DATA:
		socket_data(g, m);
		break;
	case SKYNET_SOCKET_TYPE_CONNECT:
		socket_connect(g, m);
		break;
	case SKYNET_SOCKET_TYPE_CLOSE:
	case SKYNET_SOCKET_TYPE_ERROR:
		socket_close(g, m);
		break;
	case SKYNET_SOCKET_TYPE_ACCEPT:
		socket_accept(g, m, extra, elen);
		break;
	case SKYNET_SOCKET_TYPE_WARNING:
		skynet_error(g->ctx, "fd (%d) send buffer (%d)K", m->id, m->ud);
		break;
	case SKYNET_SOCKET_TYPE_UDP:
		skynet_free(m->buffer);	/* not ours to handle, but ours to free */
		break;
	}
}

/* ---- text commands from the watchdog ---- */

static char *
next_word(char **s) {
	char *w = *s;
	while (*w == ' ')
		w++;
	if (*w == '\0')
		return NULL;
	*s = w;
	while (**s && **s != ' ')
		(*s)++;
	if (**s)
		*(*s)++ = '\0';
	return w;
}

static void
cmd_kick(struct gate *g, char *arg) {
	int id = strtol(arg, NULL, 10);
	if (conn_find(g, id))
		skynet_socket_close(g->ctx, id);
}

/* "forward <id> :<agent> :<client>"; the first char of each handle is skipped */
static void
cmd_forward(struct gate *g, char *arg) {
	char *ids = next_word(&arg);
	char *agent = next_word(&arg);
	char *client = next_word(&arg);
	struct connection *c;
	if (client == NULL)
		return;
	c = conn_find(g, strtol(ids, NULL, 10));
	if (c == NULL)
		return;
	c->agent = strtoul(agent + 1, NULL, 16);
	c->client = strtoul(client + 1, NULL, 16);
}

static void
cmd_broker(struct gate *g, char *arg) {
	g->broker = skynet_queryname(g->ctx, arg);
}

static void
cmd_start(struct gate *g, char *arg) {
	int id = strtol(arg, NULL, 10);
	if (conn_find(g, id))
		skynet_socket_start(g->ctx, id);
}

static void
cmd_close(struct gate *g, char *arg) {
	(void)arg;
	if (g->listen_id >= 0) {
		skynet_socket_close(g->ctx, g->listen_id);
		g->listen_id = -1;
	}
}

/* the command word may be any prefix of the name, so "k 3" kicks 3 */
static int
command_is(const char *word, size_t wlen, const char *name) {
	return wlen <= strlen(name) && memcmp(word, name, wlen) == 0;
}

static void
control(struct gate *g, const char *msg, size_t sz) {
	static const struct {
		const char *name;
		void (*f)(struct gate *, char *);
	} cmds[] = {
		{ "kick", cmd_kick },
		{ "forward", cmd_forward },
		{ "broker", cmd_broker },
		{ "start", cmd_start },
		{ "close", cmd_close },
	};
	char *text;
	size_t w, i;
	if (sz == 0)
		return;
	text = packet_copy("", 0, msg, sz);
	for (w = 0; w < sz && text[w] != ' '; w++) {}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (command_is(text, w, cmds[i].name)) {
			char *arg = text + w;
			while (*arg == ' ')
				arg++;
			cmds[i].f(g, arg);
			skynet_free(text);
			return;
		}
	}
	skynet_error(g->ctx, "[gate] Unknown command : %s", text);
	skynet_free(text);
}

/* ---- outbound: payload followed by the little-endian socket id ---- */

static int
client_send(struct gate *g, uint32_t source, const void *msg, size_t sz) {
	const unsigned char *tail;
	int id;
	if (sz <= 4) {
		skynet_error(g->ctx, "Invalid client message from %x", source);
		return 0;
	}
	tail = (const unsigned char *)msg + sz - 4;
	id = (int)((uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24);
	if (conn_find(g, id) == NULL) {
		skynet_error(g->ctx, "Invalid client id %d from %x", id, source);
		return 0;
	}
	/* msg is a malloc'ed message block: the socket layer frees it when written */
	skynet_socket_send(g->ctx, id, (void *)msg, (int)(sz - 4));
	return 1;
}

static int
gate_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct gate *g = ud;
	(void)ctx;
	(void)session;
	switch (type) {
	case PTYPE_TEXT:
		control(g, msg, sz);
		break;
	case PTYPE_CLIENT:
		return client_send(g, source, msg, sz);
	case PTYPE_SOCKET:
		dispatch_socket(g, msg, sz);
		break;
	}
	return 0;
}

/* ---- life cycle ---- */

struct gate *
gate_create(void) {
	struct gate *g = skynet_malloc(sizeof(*g));
	memset(g, 0, sizeof(*g));
	g->listen_id = -1;
	g->freelist = -1;
	return g;
}

void
gate_release(struct gate *g) {
	int i;
	for (i = 0; g->conn && i < g->max; i++) {
		struct connection *c = &g->conn[i];
		if (c->id >= 0)
			skynet_socket_close(g->ctx, c->id);
		frame_clear(&c->in);
	}
	if (g->listen_id >= 0)
		skynet_socket_close(g->ctx, g->listen_id);
	skynet_free(g->bucket);
	skynet_free(g->conn);
	skynet_free(g);
}

/* "host:port" (split at the last ':') or just "port" */
static int
start_listen(struct gate *g, char *addr) {
	char *colon = strrchr(addr, ':');
	const char *host = "";
	int port;
	if (colon) {
		*colon = '\0';
		host = addr;
		port = strtol(colon + 1, NULL, 10);
	} else {
		port = strtol(addr, NULL, 10);
	}
	if (port <= 0) {
		if (colon)
			*colon = ':';
		skynet_error(g->ctx, "Invalid gate address %s", addr);
		return 1;
	}
	g->listen_id = skynet_socket_listen(g->ctx, host, port, BACKLOG);
	if (g->listen_id < 0)
		return 1;
	skynet_socket_start(g->ctx, g->listen_id);
	return 0;
}

static int
setup(struct gate *g, struct skynet_context *ctx, const char *parm, char *watchdog, char *addr) {
	char header = 0;
	int tag = 0, max = 0;
	int n = sscanf(parm, "%c %s %s %d %d", &header, watchdog, addr, &tag, &max);
	if (n < 4) {
		skynet_error(ctx, "Invalid gate parm %s", parm);
		return 1;
	}
	if (max <= 0) {
		skynet_error(ctx, "Need max connection");
		return 1;
	}
	if (header != 'S' && header != 'L') {
		skynet_error(ctx, "Invalid data header style");
		return 1;
	}
	if (watchdog[0] != '!') {
		g->watchdog = skynet_queryname(ctx, watchdog);
		if (g->watchdog == 0) {
			skynet_error(ctx, "Invalid watchdog %s", watchdog);
			return 1;
		}
	}
	g->ctx = ctx;
	g->client_tag = tag ? tag : PTYPE_CLIENT;
	g->header_size = header == 'S' ? 2 : 4;
	if (conn_map_init(g, max))
		return 1;
	skynet_callback(ctx, g, gate_cb);
	return start_listen(g, addr);
}

int
gate_init(struct gate *g, struct skynet_context *ctx, const char *parm) {
	size_t sz;
	char *words;
	int r;
	if (parm == NULL)
		return 1;
	/* each %s field is at most as long as the whole parameter */
	sz = strlen(parm) + 1;
	words = skynet_malloc(sz * 2);
	r = setup(g, ctx, parm, words, words + sz);
	skynet_free(words);
	return r;
}

/*
 * harbor: carries messages between skynet nodes.
 *
 * The core hands every send to a remote handle or to a global name to this
 * service (PTYPE_SYSTEM, a struct remote_message). The slave service (cslave,
 * or cdummy on a single node) hands over the TCP connections to the other
 * nodes and the global names, as text commands (PTYPE_HARBOR):
 *   N <name>      the global name now means the sender of this command
 *   S <fd> <id>   fd is connected to node id; wait for its handshake byte
 *   A <fd> <id>   fd was accepted from node id, which already sent its byte
 * and hears back from us (PTYPE_TEXT):
 *   D <id>        the connection to node id is gone
 *   Q <name>      a message waits for an unknown global name
 *
 * On the wire each side first sends its node id as one byte; then every
 * message is: 4-byte big-endian length L, L-12 payload bytes, and a 12-byte
 * trailer of big-endian source, (type << 24 | destination handle), session.
 *
 * A message that cannot reach its node comes back to its sender as PTYPE_ERROR,
 * and so do the calls still waiting for a reply when a node's link is lost.
 */

#include "skynet.h"
#include "skynet_harbor.h"
#include "skynet_handle.h"
#include "skynet_socket.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NAME_BUCKETS 1024
#define CALL_BUCKETS 4096
#define TRAILER 12
#define MAX_FRAME 0xffffff	/* the first length byte must be 0 */

/* a message held until its node or name is known */
struct pending {
	uint32_t source;
	uint32_t target;	/* type << 24 | local part of the destination */
	int session;
	void *data;
	size_t sz;
};

struct pendq {
	struct pending *items;
	int cap;
	int head;
	int count;
};

struct global_name {
	struct global_name *next;
	char name[GLOBALNAME_LENGTH];
	uint32_t handle;	/* 0 while unknown */
	struct pendq waiting;
};

/* a request sent to another node whose response has not come back yet */
struct open_call {
	struct open_call *next;
	uint32_t caller;	/* local source */
	uint32_t callee;	/* remote destination */
	int session;
};

enum link_state {
	LINK_IDLE,		/* no connection yet: messages wait */
	LINK_HANDSHAKE,	/* connected, waiting for the peer's id byte */
	LINK_UP,
	LINK_DOWN,		/* gone for good: messages bounce */
};

struct link {
	int fd;		/* skynet socket id, 0 when none */
	enum link_state state;
	struct pendq queue;
	uint8_t lenbytes[4];
	int lenread;
	char *body;		/* the frame being received, NULL between frames */
	uint32_t bodylen;
	uint32_t bodyread;
};

struct harbor {
	struct skynet_context *ctx;
	int self;
	uint32_t slave;
	struct global_name *names[NAME_BUCKETS];
	struct open_call *calls[CALL_BUCKETS];
	struct link links[REMOTE_MAX];
};

static inline int
node_of(uint32_t handle) {
	return (int)(handle >> HANDLE_REMOTE_SHIFT);
}

/* pending queues */

static int
pendq_push(struct pendq *q, const struct pending *m) {
	if (q->count == q->cap) {
		int ncap = q->cap ? q->cap * 2 : 16;
		struct pending *items = skynet_malloc(sizeof(*items) * ncap);
		if (items == NULL)
			return 0;
		int i;
		for (i = 0; i < q->count; i++)
			items[i] = q->items[(q->head + i) % q->cap];
		skynet_free(q->items);
		q->items = items;
		q->cap = ncap;
		q->head = 0;
	}
	q->items[(q->head + q->count) % q->cap] = *m;
	q->count++;
	return 1;
}

static int
pendq_pop(struct pendq *q, struct pending *out) {
	if (q->count == 0)
		return 0;
	*out = q->items[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	return 1;
}

/* takes the whole content of q, leaving it empty */
static struct pendq
pendq_take(struct pendq *q) {
	struct pendq all = *q;
	memset(q, 0, sizeof(*q));
	return all;
}

static void
pendq_free(struct pendq *q) {
	struct pending m;
	while (pendq_pop(q, &m))
		skynet_free(m.data);
	skynet_free(q->items);
	memset(q, 0, sizeof(*q));
}

/* global names */

static uint32_t
name_hash(const char name[GLOBALNAME_LENGTH]) {
	uint32_t w[4];
	memcpy(w, name, sizeof(w));
	return w[0] ^ w[1] ^ w[2] ^ w[3];
}

static struct global_name *
find_name(struct harbor *h, const char name[GLOBALNAME_LENGTH], int create) {
	struct global_name **b = &h->names[name_hash(name) % NAME_BUCKETS];
	struct global_name *n;
	for (n = *b; n; n = n->next) {
		if (memcmp(n->name, name, GLOBALNAME_LENGTH) == 0)
			return n;
	}
	if (!create)
		return NULL;
	n = skynet_malloc(sizeof(*n));
	if (n == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	memcpy(n->name, name, GLOBALNAME_LENGTH);
	n->next = *b;
	*b = n;
	return n;
}

/* sending */

static void
put_be32(uint8_t *p, uint32_t v) {
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p) {
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* tells source that its message to dest will never arrive */
static void
bounce(struct harbor *h, uint32_t source, uint32_t dest, int session) {
	skynet_send(h->ctx, dest, source, PTYPE_ERROR, session, NULL, 0);
}

/*
 * Open calls: a request that went out over a link is remembered until its
 * response (or error) comes back, so that losing the link can fail it at once
 * instead of leaving the caller waiting forever.
 */

static inline struct open_call **
call_slot(struct harbor *h, uint32_t caller, int session) {
	return &h->calls[(caller * 2654435761u ^ (uint32_t)session) % CALL_BUCKETS];
}

static void
remember_call(struct harbor *h, uint32_t caller, uint32_t callee, int session) {
	struct open_call *c = skynet_malloc(sizeof(*c));
	if (c == NULL)
		return;	/* only the early failure on a lost link is missed */
	struct open_call **slot = call_slot(h, caller, session);
	c->caller = caller;
	c->callee = callee;
	c->session = session;
	c->next = *slot;
	*slot = c;
}

static void
forget_call(struct harbor *h, uint32_t caller, int session) {
	struct open_call **p = call_slot(h, caller, session);
	for (; *p; p = &(*p)->next) {
		struct open_call *c = *p;
		if (c->caller == caller && c->session == session) {
			*p = c->next;
			skynet_free(c);
			return;
		}
	}
}

/* every open call to node fails */
static void
fail_calls(struct harbor *h, int node) {
	int i;
	for (i = 0; i < CALL_BUCKETS; i++) {
		struct open_call **p = &h->calls[i];
		while (*p) {
			struct open_call *c = *p;
			if (node_of(c->callee) == node) {
				*p = c->next;
				bounce(h, c->caller, c->callee, c->session);
				skynet_free(c);
			} else {
				p = &c->next;
			}
		}
	}
}

static inline int
is_reply(int type) {
	return type == PTYPE_RESPONSE || type == PTYPE_ERROR;
}

/* writes one frame for m to the link's socket; frees m->data */
static void
write_frame(struct harbor *h, struct link *l, const struct pending *m) {
	uint32_t dest = (uint32_t)(l - h->links) << HANDLE_REMOTE_SHIFT | (m->target & HANDLE_MASK);
	if (m->sz > MAX_FRAME - TRAILER) {
		skynet_error(h->ctx, "remote message from :%08x to :%08x is too large.", m->source, dest);
		skynet_free(m->data);
		bounce(h, m->source, dest, m->session);
		return;
	}
	size_t total = 4 + m->sz + TRAILER;
	uint8_t *frame = skynet_malloc(total);
	if (frame == NULL) {
		skynet_error(h->ctx, "Out of memory sending to harbor %d", (int)(l - h->links));
		skynet_free(m->data);
		bounce(h, m->source, dest, m->session);
		return;
	}
	put_be32(frame, (uint32_t)(m->sz + TRAILER));
	if (m->sz)
		memcpy(frame + 4, m->data, m->sz);
	uint8_t *trailer = frame + 4 + m->sz;
	put_be32(trailer, m->source);
	put_be32(trailer + 4, m->target);
	put_be32(trailer + 8, (uint32_t)m->session);
	skynet_free(m->data);
	struct socket_sendbuffer buf = { l->fd, SOCKET_BUFFER_MEMORY, frame, total };
	/* a failure shows up as a CLOSE or ERROR message for this socket */
	skynet_socket_sendbuffer(h->ctx, &buf);
	/* only local callers: a reply to a relayed request goes straight to its node */
	if (m->session != 0 && node_of(m->source) == h->self && !is_reply((int)(m->target >> HANDLE_REMOTE_SHIFT)))
		remember_call(h, m->source, dest, m->session);
}

static void
flush_link(struct harbor *h, struct link *l) {
	struct pendq q = pendq_take(&l->queue);
	struct pending m;
	while (pendq_pop(&q, &m))
		write_frame(h, l, &m);
	pendq_free(&q);
}

/* sends (or holds) a message to a handle; takes msg over */
static void
send_to_handle(struct harbor *h, uint32_t source, uint32_t dest, int type, int session, void *msg, size_t sz) {
	int node = node_of(dest);
	if (node == h->self) {
		/* a global name that lives on this node */
		skynet_send(h->ctx, source, dest, type | PTYPE_TAG_DONTCOPY, session, msg, sz);
		return;
	}
	struct link *l = &h->links[node];
	struct pending m = { source, (uint32_t)type << HANDLE_REMOTE_SHIFT | (dest & HANDLE_MASK), session, msg, sz };
	switch (l->state) {
	case LINK_UP:
		write_frame(h, l, &m);
		return;
	case LINK_DOWN:
		skynet_error(h->ctx, "Drop message to harbor %d from %x to %x (session = %d, msgsz = %d)",
			node, source, dest, session, (int)sz);
		skynet_free(msg);
		bounce(h, source, dest, session);
		return;
	default:
		if (!pendq_push(&l->queue, &m)) {
			skynet_error(h->ctx, "Out of memory queueing for harbor %d", node);
			skynet_free(msg);
			bounce(h, source, dest, session);
		}
		return;
	}
}

static void
ask_slave(struct harbor *h, char cmd, const char *arg, size_t len) {
	char text[2 + GLOBALNAME_LENGTH + 16];
	if (len > sizeof(text) - 2)
		len = sizeof(text) - 2;
	text[0] = cmd;
	text[1] = ' ';
	memcpy(text + 2, arg, len);
	skynet_send(h->ctx, 0, h->slave, PTYPE_TEXT, 0, text, len + 2);
}

/* sends (or holds) a message to a global name; takes msg over */
static void
send_to_name(struct harbor *h, uint32_t source, const char name[GLOBALNAME_LENGTH], int type, int session, void *msg, size_t sz) {
	struct global_name *n = find_name(h, name, 1);
	if (n && n->handle) {
		send_to_handle(h, source, n->handle, type, session, msg, sz);
		return;
	}
	struct pending m = { source, (uint32_t)type << HANDLE_REMOTE_SHIFT, session, msg, sz };
	if (n == NULL || !pendq_push(&n->waiting, &m)) {
		skynet_error(h->ctx, "Out of memory queueing for a global name");
		skynet_free(msg);
		bounce(h, source, 0, session);
		return;
	}
	/* one query per wait: the slave answers with N once the name is known */
	if (n->waiting.count == 1)
		ask_slave(h, 'Q', name, strnlen(name, GLOBALNAME_LENGTH));
}

static void
set_name(struct harbor *h, const char name[GLOBALNAME_LENGTH], uint32_t handle) {
	struct global_name *n = find_name(h, name, 1);
	if (n == NULL) {
		skynet_error(h->ctx, "Out of memory registering a global name");
		return;
	}
	n->handle = handle;
	struct pendq q = pendq_take(&n->waiting);
	struct pending m;
	while (pendq_pop(&q, &m))
		send_to_handle(h, m.source, handle, (int)(m.target >> HANDLE_REMOTE_SHIFT), m.session, m.data, m.sz);
	pendq_free(&q);
}

/* links */

static void
reset_reader(struct link *l) {
	skynet_free(l->body);
	l->body = NULL;
	l->bodylen = 0;
	l->bodyread = 0;
	l->lenread = 0;
}

/* the link is gone: fail the calls in flight and what waits, forget its socket */
static void
link_down(struct harbor *h, struct link *l) {
	int node = (int)(l - h->links);
	l->state = LINK_DOWN;
	l->fd = 0;
	reset_reader(l);
	fail_calls(h, node);
	struct pendq q = pendq_take(&l->queue);
	struct pending m;
	while (pendq_pop(&q, &m)) {
		skynet_free(m.data);
		bounce(h, m.source, (uint32_t)node << HANDLE_REMOTE_SHIFT | (m.target & HANDLE_MASK), m.session);
	}
	pendq_free(&q);
}

static void
close_link(struct harbor *h, struct link *l) {
	if (l->fd)
		skynet_socket_close(h->ctx, l->fd);
	link_down(h, l);
}

static struct link *
link_of_fd(struct harbor *h, int fd) {
	int i;
	for (i = 1; i < REMOTE_MAX; i++) {
		if (h->links[i].fd == fd && h->links[i].state != LINK_DOWN)
			return &h->links[i];
	}
	return NULL;
}

/* a whole frame arrived: deliver it here; takes body over */
static void
deliver(struct harbor *h, char *body, uint32_t len) {
	const uint8_t *trailer = (const uint8_t *)body + len - TRAILER;
	uint32_t source = get_be32(trailer);
	uint32_t target = get_be32(trailer + 4);
	int session = (int)get_be32(trailer + 8);
	int type = (int)(target >> HANDLE_REMOTE_SHIFT);
	uint32_t dest = (target & HANDLE_MASK) | (uint32_t)h->self << HANDLE_REMOTE_SHIFT;
	if (session != 0 && is_reply(type))
		forget_call(h, dest, session);
	if (skynet_send(h->ctx, source, dest, type | PTYPE_TAG_DONTCOPY, session, body, len - TRAILER) < 0) {
		if (type != PTYPE_ERROR)
			bounce(h, source, dest, session);
		skynet_error(h->ctx, "Unknown destination :%x from :%x type(%d)", dest, source, type);
	}
}

/* bytes from a node's socket */
static void
receive(struct harbor *h, struct link *l, const uint8_t *p, size_t n) {
	int node = (int)(l - h->links);
	if (n > 0 && l->state == LINK_HANDSHAKE) {
		if (p[0] != node) {
			skynet_error(h->ctx, "Invalid handshake from fd %d: harbor %d expected, got %d", l->fd, node, p[0]);
			close_link(h, l);
			return;
		}
		p++;
		n--;
		l->state = LINK_UP;
		flush_link(h, l);
	}
	while (n > 0 && l->state == LINK_UP) {
		if (l->body == NULL) {
			while (n > 0 && l->lenread < 4) {
				l->lenbytes[l->lenread++] = *p++;
				n--;
			}
			if (l->lenread < 4)
				return;
			uint32_t len = get_be32(l->lenbytes);
			if (len > MAX_FRAME) {
				skynet_error(h->ctx, "Message is too long from harbor %d", node);
				close_link(h, l);
				return;
			}
			if (len < TRAILER) {
				skynet_error(h->ctx, "Invalid message (%u bytes) from harbor %d", len, node);
				close_link(h, l);
				return;
			}
			l->body = skynet_malloc(len);
			if (l->body == NULL) {
				skynet_error(h->ctx, "Out of memory reading from harbor %d", node);
				close_link(h, l);
				return;
			}
			l->bodylen = len;
			l->bodyread = 0;
		}
		size_t part = l->bodylen - l->bodyread;
		if (part > n)
			part = n;
		memcpy(l->body + l->bodyread, p, part);
		l->bodyread += (uint32_t)part;
		p += part;
		n -= part;
		if (l->bodyread == l->bodylen) {
			char *body = l->body;
			uint32_t len = l->bodylen;
			l->body = NULL;
			l->lenread = 0;
			deliver(h, body, len);
		}
	}
}

static void
on_socket(struct harbor *h, const struct skynet_socket_message *m) {
	struct link *l = link_of_fd(h, m->id);
	switch (m->type) {
	case SKYNET_SOCKET_TYPE_DATA:
		if (l)
			receive(h, l, (const uint8_t *)m->buffer, m->ud > 0 ? (size_t)m->ud : 0);
		else
			skynet_error(h->ctx, "Invalid socket fd (%d) data", m->id);
		skynet_free(m->buffer);
		break;
	case SKYNET_SOCKET_TYPE_CLOSE:
	case SKYNET_SOCKET_TYPE_ERROR:
		if (l) {
			char id[16];
			int node = (int)(l - h->links);
			/* the core already closed the socket; its id may be reused */
			link_down(h, l);
			ask_slave(h, 'D', id, (size_t)snprintf(id, sizeof(id), "%d", node));
		} else {
			skynet_error(h->ctx, "Unknown fd (%d) closed", m->id);
		}
		break;
	case SKYNET_SOCKET_TYPE_WARNING:
		if (l)
			skynet_error(h->ctx, "Harbor %d has %d K of messages not sent yet", (int)(l - h->links), m->ud);
		break;
	case SKYNET_SOCKET_TYPE_CONNECT:
		/* the socket was handed to us (start) */
		break;
	default:
		skynet_error(h->ctx, "recv invalid socket message type %d", m->type);
		break;
	}
}

/* S/A <fd> <id>: take over the connection to node id */
static void
adopt(struct harbor *h, char cmd, const char *arg, size_t len) {
	char text[64];
	if (len >= sizeof(text))
		len = sizeof(text) - 1;
	memcpy(text, arg, len);
	text[len] = '\0';
	int fd = 0, node = 0;
	if (sscanf(text, "%d %d", &fd, &node) != 2 || fd <= 0 || node <= 0 || node >= REMOTE_MAX || node == h->self) {
		skynet_error(h->ctx, "Invalid command %c %s", cmd, text);
		return;
	}
	struct link *l = &h->links[node];
	if (l->fd != 0) {
		skynet_error(h->ctx, "Harbor %d already exists", node);
		return;
	}
	reset_reader(l);
	l->fd = fd;
	skynet_socket_start(h->ctx, fd);
	uint8_t me = (uint8_t)h->self;
	struct socket_sendbuffer hello = { fd, SOCKET_BUFFER_RAWPOINTER, &me, 1 };
	skynet_socket_sendbuffer(h->ctx, &hello);
	if (cmd == 'S') {
		l->state = LINK_HANDSHAKE;
	} else {
		l->state = LINK_UP;
		flush_link(h, l);
	}
}

static void
on_command(struct harbor *h, const char *msg, size_t sz, uint32_t source) {
	if (sz < 2 || msg[1] != ' ') {
		skynet_error(h->ctx, "Unknown command %.*s", (int)sz, msg);
		return;
	}
	const char *arg = msg + 2;
	size_t len = sz - 2;
	switch (msg[0]) {
	case 'N': {
		if (len == 0 || len >= GLOBALNAME_LENGTH) {
			skynet_error(h->ctx, "Invalid global name %.*s", (int)len, arg);
			return;
		}
		char name[GLOBALNAME_LENGTH];
		memset(name, 0, sizeof(name));
		memcpy(name, arg, len);
		set_name(h, name, source);
		break;
	}
	case 'S':
	case 'A':
		adopt(h, msg[0], arg, len);
		break;
	default:
		skynet_error(h->ctx, "Unknown command %.*s", (int)sz, msg);
		break;
	}
}

static int
harbor_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct harbor *h = ud;
	switch (type) {
	case PTYPE_SYSTEM: {
		/* a send the core routed out of this node; the payload is ours now */
		const struct remote_message *r = msg;
		void *payload = (void *)r->message;
		if (sz != sizeof(*r)) {
			skynet_error(ctx, "Invalid remote message from %x (size %d)", source, (int)sz);
			break;
		}
		if (r->destination.handle == 0)
			send_to_name(h, source, r->destination.name, r->type, session, payload, r->sz);
		else
			send_to_handle(h, source, r->destination.handle, r->type, session, payload, r->sz);
		break;
	}
	case PTYPE_HARBOR:
		on_command(h, msg, sz, source);
		break;
	case PTYPE_SOCKET:
		on_socket(h, msg);
		break;
	default:
		skynet_error(ctx, "recv invalid message from %x,  type = %d", source, type);
		if (session != 0 && type != PTYPE_ERROR)
			skynet_send(ctx, 0, source, PTYPE_ERROR, session, NULL, 0);
		break;
	}
	return 0;
}

struct harbor *
harbor_create(void) {
	struct harbor *h = skynet_malloc(sizeof(*h));
	if (h)
		memset(h, 0, sizeof(*h));
	return h;
}

void
harbor_release(struct harbor *h) {
	int i;
	/* no messages from here: the node is shutting down */
	for (i = 1; i < REMOTE_MAX; i++) {
		struct link *l = &h->links[i];
		if (l->fd)
			skynet_socket_close(h->ctx, l->fd);
		reset_reader(l);
		pendq_free(&l->queue);
	}
	for (i = 0; i < CALL_BUCKETS; i++) {
		while (h->calls[i]) {
			struct open_call *c = h->calls[i];
			h->calls[i] = c->next;
			skynet_free(c);
		}
	}
	for (i = 0; i < NAME_BUCKETS; i++) {
		while (h->names[i]) {
			struct global_name *n = h->names[i];
			h->names[i] = n->next;
			pendq_free(&n->waiting);
			skynet_free(n);
		}
	}
	skynet_free(h);
}

/* "<harbor id> <slave handle>" */
int
harbor_init(struct harbor *h, struct skynet_context *ctx, const char *args) {
	int self = 0;
	uint32_t slave = 0;
	h->ctx = ctx;
	if (args == NULL || sscanf(args, "%d %u", &self, &slave) != 2 || slave == 0 || self < 0 || self >= REMOTE_MAX) {
		skynet_error(ctx, "Invalid harbor parameter %s", args ? args : "");
		return 1;
	}
	h->self = self;
	h->slave = slave;
	if (self == 0) {
		/* a single node: no other node will ever be reachable */
		int i;
		for (i = 1; i < REMOTE_MAX; i++)
			h->links[i].state = LINK_DOWN;
	}
	skynet_callback(ctx, h, harbor_cb);
	skynet_harbor_start(ctx);
	return 0;
}

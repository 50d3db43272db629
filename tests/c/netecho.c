/*
 * netecho: the socket-ABI test service behind tests/net.rs. Its parameter is
 * "<host> <port>": it connects there (the test's control listener), says
 * "hello :<handle>" and then obeys one command per line:
 *
 *   listen <host> <port> <echo|spray>  -> "listening <id>" | "listen-failed"
 *   connect <host> <port>              -> "connecting <id>" | "connect-failed",
 *                                         then "connected <id>" or "error <id> <text>"
 *   send <id> <text>                   sends text on an outgoing connection
 *   info                               -> "sock <id> <type> <wbuffer> <name>"... "end",
 *                                         once the socket thread has handled every
 *                                         request made before (a "start" of the
 *                                         control socket serves as the barrier)
 *   closed <n>                         -> "closed <n>" once n connections have closed
 *   pid                                -> "pid <process id>"
 *   log <text>                         -> "logged", once skynet_error(text) returned
 *
 * Events come as lines too: "data <id> <text>" (outgoing connections),
 * "warning <id> <kb>", "gone <id>". An echo connection sends back every byte it
 * reads; a spray connection is written to in 64 KiB chunks until the first
 * WARNING, then left alone. When the control connection closes, the node ABORTs.
 */

#include "skynet.h"
#include "skynet_socket.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN 1024
#define SPRAY_CHUNK (64 * 1024)
#define BACKLOG 1024

enum role { R_ECHO_LISTEN, R_SPRAY_LISTEN, R_ECHO, R_SPRAY, R_OUT };

struct peer {
	int id;
	enum role role;
	int warned;
};

struct netecho {
	struct skynet_context *ctx;
	uint32_t self;
	int ctrl;
	char line[LINE_MAX_LEN];
	size_t len;
	struct peer *peer;
	int npeer;
	int cap;
	int closed;		/* accepted connections that are gone */
	int wait_closed;	/* a pending "closed <n>" request, 0 if none */
	int greeted;		/* the control socket's first CONNECT was seen */
	int info_wanted;	/* "info" waits for the barrier's CONNECT */
};

/* ---- peers: a small table, searched linearly (tests keep few alive) ---- */

static struct peer *
peer_find(struct netecho *e, int id) {
	int i;
	for (i = 0; i < e->npeer; i++)
		if (e->peer[i].id == id)
			return &e->peer[i];
	return NULL;
}

static struct peer *
peer_add(struct netecho *e, int id, enum role role) {
	struct peer *p;
	if (e->npeer == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->peer = skynet_realloc(e->peer, e->cap * sizeof(*p));
	}
	p = &e->peer[e->npeer++];
	p->id = id;
	p->role = role;
	p->warned = 0;
	return p;
}

static void
peer_del(struct netecho *e, struct peer *p) {
	*p = e->peer[--e->npeer];
}

/* ---- control output ---- */

static void
say(struct netecho *e, const char *fmt, ...) {
	char tmp[LINE_MAX_LEN];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(tmp) - 2)
		n = sizeof(tmp) - 2;
	tmp[n++] = '\n';
	char *buf = skynet_malloc(n);
	memcpy(buf, tmp, n);
	skynet_socket_send(e->ctx, e->ctrl, buf, n);
}

static void
check_closed(struct netecho *e) {
	if (e->wait_closed > 0 && e->closed >= e->wait_closed) {
		say(e, "closed %d", e->closed);
		e->wait_closed = 0;
	}
}

static void
cmd_info(struct netecho *e) {
	struct socket_info *list = skynet_socket_info();
	struct socket_info *si;
	for (si = list; si; si = si->next)
		say(e, "sock %d %d %lld %s", si->id, si->type, (long long)si->wbuffer, si->name);
	socket_info_release(list);
	say(e, "end");
}

static void
cmd_listen(struct netecho *e, const char *host, int port, const char *mode) {
	int spray = strcmp(mode, "spray") == 0;
	int id = skynet_socket_listen(e->ctx, host, port, BACKLOG);
	if (id < 0) {
		say(e, "listen-failed");
		return;
	}
	peer_add(e, id, spray ? R_SPRAY_LISTEN : R_ECHO_LISTEN);
	skynet_socket_start(e->ctx, id);
	say(e, "listening %d", id);
}

static void
cmd_connect(struct netecho *e, const char *host, int port) {
	int id = skynet_socket_connect(e->ctx, host, port);
	if (id < 0) {
		say(e, "connect-failed");
		return;
	}
	peer_add(e, id, R_OUT);
	say(e, "connecting %d", id);
}

static void
cmd_send(struct netecho *e, int id, const char *text) {
	size_t n = strlen(text);
	char *buf = skynet_malloc(n);
	memcpy(buf, text, n);
	if (skynet_socket_send(e->ctx, id, buf, (int)n) != 0)
		say(e, "send-failed %d", id);
}

static void
command(struct netecho *e, char *line) {
	char word[16], host[256], mode[16];
	int port, id, off = 0, n = 0;
	if (sscanf(line, "%15s%n", word, &n) != 1)
		return;
	if (strcmp(word, "info") == 0) {
		e->info_wanted++;
		skynet_socket_start(e->ctx, e->ctrl);
	} else if (strcmp(word, "listen") == 0 && sscanf(line + n, "%255s %d %15s", host, &port, mode) == 3) {
		cmd_listen(e, host, port, mode);
	} else if (strcmp(word, "connect") == 0 && sscanf(line + n, "%255s %d", host, &port) == 2) {
		cmd_connect(e, host, port);
	} else if (strcmp(word, "send") == 0 && sscanf(line + n, "%d %n", &id, &off) == 1) {
		cmd_send(e, id, line + n + off);
	} else if (strcmp(word, "pid") == 0) {
		say(e, "pid %d", (int)getpid());
	} else if (strcmp(word, "log") == 0) {
		skynet_error(e->ctx, "%s", line + n + strspn(line + n, " "));
		say(e, "logged");
	} else if (strcmp(word, "closed") == 0 && sscanf(line + n, "%d", &e->wait_closed) == 1) {
		check_closed(e);
	} else {
		say(e, "unknown %s", line);
	}
}

/* control bytes: split into lines, run each */
static void
ctrl_data(struct netecho *e, const char *data, int sz) {
	int i;
	for (i = 0; i < sz; i++) {
		if (data[i] == '\n') {
			e->line[e->len] = '\0';
			command(e, e->line);
			e->len = 0;
		} else if (e->len < sizeof(e->line) - 1) {
			e->line[e->len++] = data[i];
		}
	}
}

/* ---- spraying: one chunk per message, so WARNING gets a chance to arrive ---- */

static void
spray(struct netecho *e, int id) {
	struct peer *p = peer_find(e, id);
	if (p == NULL || p->role != R_SPRAY || p->warned)
		return;
	char *chunk = skynet_malloc(SPRAY_CHUNK);
	memset(chunk, 'z', SPRAY_CHUNK);
	if (skynet_socket_send(e->ctx, id, chunk, SPRAY_CHUNK) != 0)
		return;
	skynet_send(e->ctx, 0, e->self, PTYPE_TEXT, id, "spray", 5);
}

/* ---- socket events ---- */

static void
on_data(struct netecho *e, const struct skynet_socket_message *m) {
	struct peer *p = peer_find(e, m->id);
	if (m->id == e->ctrl) {
		ctrl_data(e, m->buffer, m->ud);
	} else if (p && p->role == R_ECHO) {
		/* the buffer goes back out as is: the socket layer frees it */
		skynet_socket_send(e->ctx, m->id, m->buffer, m->ud);
		return;
	} else if (p && p->role == R_OUT) {
		say(e, "data %d %.*s", m->id, m->ud, m->buffer);
	}
	skynet_free(m->buffer);
}

static void
on_accept(struct netecho *e, const struct skynet_socket_message *m) {
	struct peer *l = peer_find(e, m->id);
	if (l == NULL) {
		skynet_socket_close(e->ctx, m->ud);
		return;
	}
	peer_add(e, m->ud, l->role == R_SPRAY_LISTEN ? R_SPRAY : R_ECHO);
	skynet_socket_start(e->ctx, m->ud);
}

static void
on_connect(struct netecho *e, const struct skynet_socket_message *m) {
	struct peer *p = peer_find(e, m->id);
	if (m->id == e->ctrl && !e->greeted) {
		e->greeted = 1;
		say(e, "hello :%08x", e->self);
	} else if (m->id == e->ctrl) {
		/* "transfer": the barrier of an "info" */
		for (; e->info_wanted > 0; e->info_wanted--)
			cmd_info(e);
	} else if (p && p->role == R_OUT) {
		say(e, "connected %d", m->id);
	} else if (p && p->role == R_SPRAY) {
		spray(e, m->id);
	}
}

/* CLOSE and ERROR: the socket is gone (an accepted one counts for "closed") */
static void
on_gone(struct netecho *e, const struct skynet_socket_message *m, const char *why, int wlen) {
	struct peer *p = peer_find(e, m->id);
	if (m->id == e->ctrl) {
		skynet_command(e->ctx, "ABORT", NULL);
		return;
	}
	if (p == NULL)
		return;
	if (m->type == SKYNET_SOCKET_TYPE_ERROR && p->role == R_OUT)
		say(e, "error %d %.*s", m->id, wlen, why);
	/* after a peer's EOF the socket is only half closed: finish it */
	if (m->type == SKYNET_SOCKET_TYPE_CLOSE)
		skynet_socket_close(e->ctx, m->id);
	if (p->role == R_ECHO || p->role == R_SPRAY) {
		e->closed++;
		if (p->role == R_SPRAY)
			say(e, "gone %d", m->id);
	}
	peer_del(e, p);
	check_closed(e);
}

static void
on_warning(struct netecho *e, const struct skynet_socket_message *m) {
	struct peer *p = peer_find(e, m->id);
	if (p == NULL || m->ud == 0)
		return;
	if (!p->warned)
		say(e, "warning %d %d", m->id, m->ud);
	p->warned = 1;
}

static void
on_socket(struct netecho *e, const struct skynet_socket_message *m, size_t sz) {
	const char *extra = (const char *)(m + 1);
	int elen = sz > sizeof(*m) ? (int)(sz - sizeof(*m)) : 0;
	switch (m->type) {
	case SKYNET_SOCKET_TYPE_DATA:
		on_data(e, m);
		break;
	case SKYNET_SOCKET_TYPE_ACCEPT:
		on_accept(e, m);
		break;
	case SKYNET_SOCKET_TYPE_CONNECT:
		on_connect(e, m);
		break;
	case SKYNET_SOCKET_TYPE_CLOSE:
	case SKYNET_SOCKET_TYPE_ERROR:
		on_gone(e, m, extra, elen);
		break;
	case SKYNET_SOCKET_TYPE_WARNING:
		on_warning(e, m);
		break;
	case SKYNET_SOCKET_TYPE_UDP:
		skynet_free(m->buffer);
		break;
	}
}

static int
netecho_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct netecho *e = ud;
	(void)ctx;
	if (type == PTYPE_SOCKET)
		on_socket(e, msg, sz);
	else if (type == PTYPE_TEXT && source == e->self)
		spray(e, session);
	return 0;
}

struct netecho *
netecho_create(void) {
	struct netecho *e = skynet_malloc(sizeof(*e));
	memset(e, 0, sizeof(*e));
	return e;
}

void
netecho_release(struct netecho *e) {
	skynet_free(e->peer);
	skynet_free(e);
}

int
netecho_init(struct netecho *e, struct skynet_context *ctx, const char *parm) {
	char host[256];
	int port;
	if (parm == NULL || sscanf(parm, "%255s %d", host, &port) != 2) {
		skynet_error(ctx, "netecho: needs \"<host> <port>\" of the control listener");
		return 1;
	}
	e->ctx = ctx;
	e->self = (uint32_t)strtoul(skynet_command(ctx, "REG", NULL) + 1, NULL, 16);
	skynet_callback(ctx, e, netecho_cb);
	e->ctrl = skynet_socket_connect(ctx, host, port);
	return e->ctrl < 0;
}

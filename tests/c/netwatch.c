/*
 * netwatch: a watchdog for cservice/gate, behind tests/net.rs. Its parameter
 * is "<ctlhost> <ctlport> <S|L> <gate address> <max>": it registers .netwatch,
 * launches a gate reporting to it, connects to the test's control listener and
 * says "hello :<self> :<gate>".
 *
 * Every connection the gate opens is started at once. Each packet comes back to
 * its client with the gate's framing and a one-byte mark saying how it reached
 * the watchdog: 'T' as the gate's text report, 'A' as an agent (after
 * "forward"), 'B' as the broker. The control connection gets one line per
 * event ("open <id> <addr>", "close <id>", "data|agent|broker <id> <len>").
 * Its lines "gate <command>" go to the gate as text; "push <id> <text>" sends
 * a 'P' packet to a client through the gate, after every command sent before
 * (the test's barrier); "info" lists the node's sockets as "sock <id> <type>
 * <wbuffer> <name>" lines and "end", once the socket thread has handled every request made
 * before it. When the control connection closes, the node ABORTs.
 */

#include "skynet.h"
#include "skynet_socket.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024

struct netwatch {
	struct skynet_context *ctx;
	uint32_t self;
	uint32_t gate;
	int header;		/* 2 or 4 */
	int ctrl;
	int greeted;
	int info_wanted;
	char line[LINE_MAX_LEN];
	size_t len;
};

static uint32_t
parse_handle(const char *s) {
	return (s && s[0] == ':') ? (uint32_t)strtoul(s + 1, NULL, 16) : 0;
}

static void
say(struct netwatch *w, const char *fmt, ...) {
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
	skynet_socket_send(w->ctx, w->ctrl, buf, n);
}

/* [length][mark][payload][socket id, 4 bytes little-endian] for the gate to send as is */
static void
reply(struct netwatch *w, int id, char mark, const void *data, size_t sz) {
	size_t body = sz + 1, i;
	size_t total = w->header + body + 4;
	unsigned char *p = skynet_malloc(total);
	for (i = 0; i < (size_t)w->header; i++)
		p[i] = (unsigned char)(body >> (8 * (w->header - 1 - i)));
	p[w->header] = (unsigned char)mark;
	memcpy(p + w->header + 1, data, sz);
	for (i = 0; i < 4; i++)
		p[w->header + body + i] = (unsigned char)((uint32_t)id >> (8 * i));
	skynet_send(w->ctx, 0, w->gate, PTYPE_CLIENT | PTYPE_TAG_DONTCOPY, 0, p, total);
}

static void
gate_text(struct netwatch *w, const char *text) {
	skynet_send(w->ctx, 0, w->gate, PTYPE_TEXT, 0, (void *)text, strlen(text));
}

/* "<id> open <id> <addr>", "<id> close", "<id> data <payload>" (payload: any bytes) */
static void
on_report(struct netwatch *w, const char *msg, size_t sz) {
	char head[64], addr[128], cmd[32];
	size_t hlen = sz < sizeof(head) - 1 ? sz : sizeof(head) - 1;
	int id, n = 0;
	memcpy(head, msg, hlen);
	head[hlen] = '\0';
	if (sscanf(head, "%d %n", &id, &n) != 1)
		return;
	if (strncmp(head + n, "open ", 5) == 0 && sscanf(head + n + 5, "%*d %127s", addr) == 1) {
		say(w, "open %d %s", id, addr);
		snprintf(cmd, sizeof(cmd), "start %d", id);
		gate_text(w, cmd);
	} else if (strcmp(head + n, "close") == 0) {
		say(w, "close %d", id);
	} else if (strncmp(head + n, "data ", 5) == 0) {
		size_t off = n + 5;
		say(w, "data %d %zu", id, sz - off);
		reply(w, id, 'T', msg + off, sz - off);
	}
}

static void
info(struct netwatch *w) {
	struct socket_info *list = skynet_socket_info();
	struct socket_info *si;
	for (si = list; si; si = si->next)
		say(w, "sock %d %d %lld %s", si->id, si->type, (long long)si->wbuffer, si->name);
	socket_info_release(list);
	say(w, "end");
}

static void
ctrl_line(struct netwatch *w, char *line) {
	int id, n = 0;
	if (strcmp(line, "info") == 0) {
		/* a "start" of the control socket comes back as CONNECT once the socket
		 * thread got this far in its requests */
		w->info_wanted++;
		skynet_socket_start(w->ctx, w->ctrl);
	} else if (strncmp(line, "gate ", 5) == 0)
		gate_text(w, line + 5);
	else if (sscanf(line, "push %d %n", &id, &n) == 1 && n > 0)
		reply(w, id, 'P', line + n, strlen(line + n));
	else
		say(w, "unknown %s", line);
}

static void
ctrl_data(struct netwatch *w, const char *data, int sz) {
	int i;
	for (i = 0; i < sz; i++) {
		if (data[i] == '\n') {
			w->line[w->len] = '\0';
			ctrl_line(w, w->line);
			w->len = 0;
		} else if (w->len < sizeof(w->line) - 1) {
			w->line[w->len++] = data[i];
		}
	}
}

static void
on_socket(struct netwatch *w, const struct skynet_socket_message *m) {
	if (m->id != w->ctrl) {
		if (m->type == SKYNET_SOCKET_TYPE_DATA)
			skynet_free(m->buffer);
		return;
	}
	switch (m->type) {
	case SKYNET_SOCKET_TYPE_CONNECT:
		if (!w->greeted)
			say(w, "hello :%08x :%08x", w->self, w->gate);
		w->greeted = 1;
		for (; w->info_wanted > 0; w->info_wanted--)
			info(w);
		break;
	case SKYNET_SOCKET_TYPE_DATA:
		ctrl_data(w, m->buffer, m->ud);
		skynet_free(m->buffer);
		break;
	case SKYNET_SOCKET_TYPE_CLOSE:
	case SKYNET_SOCKET_TYPE_ERROR:
		skynet_command(w->ctx, "ABORT", NULL);
		break;
	}
}

static int
netwatch_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct netwatch *w = ud;
	(void)ctx;
	switch (type) {
	case PTYPE_SOCKET:
		on_socket(w, msg);
		break;
	case PTYPE_TEXT:
		if (source == w->gate)
			on_report(w, msg, sz);
		break;
	case PTYPE_CLIENT:
		/* session is the socket id; a broker's packets come from the gate itself */
		if (source == w->gate) {
			say(w, "broker %d %zu", session, sz);
			reply(w, session, 'B', msg, sz);
		} else {
			say(w, "agent %d %zu :%08x", session, sz, source);
			reply(w, session, 'A', msg, sz);
		}
		break;
	}
	return 0;
}

struct netwatch *
netwatch_create(void) {
	struct netwatch *w = skynet_malloc(sizeof(*w));
	memset(w, 0, sizeof(*w));
	return w;
}

void
netwatch_release(struct netwatch *w) {
	skynet_free(w);
}

int
netwatch_init(struct netwatch *w, struct skynet_context *ctx, const char *parm) {
	char host[256], addr[256], args[600];
	int port, max;
	char header;
	if (parm == NULL || sscanf(parm, "%255s %d %c %255s %d", host, &port, &header, addr, &max) != 5) {
		skynet_error(ctx, "netwatch: needs \"<ctlhost> <ctlport> <S|L> <gate address> <max>\"");
		return 1;
	}
	w->ctx = ctx;
	w->header = header == 'L' ? 4 : 2;
	w->self = parse_handle(skynet_command(ctx, "REG", NULL));
	skynet_command(ctx, "REG", ".netwatch");
	skynet_callback(ctx, w, netwatch_cb);
	snprintf(args, sizeof(args), "gate %c :%08x %s 0 %d", header, w->self, addr, max);
	w->gate = parse_handle(skynet_command(ctx, "LAUNCH", args));
	if (w->gate == 0) {
		skynet_error(ctx, "netwatch: can't launch %s", args);
		return 1;
	}
	w->ctrl = skynet_socket_connect(ctx, host, port);
	return w->ctrl < 0;
}

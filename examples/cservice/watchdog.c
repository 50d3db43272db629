/*
 * An echo server in C on skynet's gate: the watchdog launches a gate on the address given
 * as its parameter, takes every connection as its own agent and sends each 2-byte framed
 * packet back with the same framing.
 *
 *   bootstrap = "watchdog 127.0.0.1:8888"
 */
#include "skynet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct watchdog {
	struct skynet_context *ctx;
	uint32_t gate;
	char self[16];
};

struct watchdog *
watchdog_create(void) {
	struct watchdog *w = skynet_malloc(sizeof(*w));
	memset(w, 0, sizeof(*w));
	return w;
}

void
watchdog_release(struct watchdog *w) {
	skynet_free(w);
}

static void
gate_command(struct watchdog *w, const char *text) {
	skynet_send(w->ctx, 0, w->gate, PTYPE_TEXT, 0, (void *)text, strlen(text));
}

/* "<id> open <id> <addr>": adopt the connection and start reading it. */
static void
on_gate_report(struct watchdog *w, const char *msg, size_t sz) {
	char text[256];
	if (sz >= sizeof(text))
		return;
	memcpy(text, msg, sz);
	text[sz] = '\0';
	int id;
	char what[16];
	if (sscanf(text, "%d %15s", &id, what) != 2)
		return;
	if (strcmp(what, "open") == 0) {
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "forward %d %s %s", id, w->self, w->self);
		gate_command(w, cmd);
		snprintf(cmd, sizeof(cmd), "start %d", id);
		gate_command(w, cmd);
	}
}

/* A packet from connection `id`: answer with [len BE16][payload][id LE32], which gate sends as is. */
static void
echo(struct watchdog *w, int id, const void *msg, size_t sz) {
	if (sz > 0xffff)
		return;
	uint8_t *reply = skynet_malloc(sz + 6);
	reply[0] = (uint8_t)(sz >> 8);
	reply[1] = (uint8_t)sz;
	memcpy(reply + 2, msg, sz);
	uint32_t uid = (uint32_t)id;
	for (int i = 0; i < 4; i++)
		reply[2 + sz + i] = (uint8_t)(uid >> (8 * i));
	skynet_send(w->ctx, 0, w->gate, PTYPE_CLIENT | PTYPE_TAG_DONTCOPY, 0, reply, sz + 6);
}

static int
watchdog_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct watchdog *w = ud;
	if (type == PTYPE_TEXT && source == w->gate) {
		on_gate_report(w, msg, sz);
	} else if (type == PTYPE_CLIENT) {
		echo(w, session, msg, sz);
	}
	return 0;
}

int
watchdog_init(struct watchdog *w, struct skynet_context *ctx, const char *parm) {
	if (parm == NULL || parm[0] == '\0') {
		skynet_error(ctx, "watchdog: needs an address, e.g. 127.0.0.1:8888");
		return 1;
	}
	w->ctx = ctx;
	const char *self = skynet_command(ctx, "REG", NULL);
	snprintf(w->self, sizeof(w->self), "%s", self);
	char args[256];
	snprintf(args, sizeof(args), "gate S %s %s 0 65536", w->self, parm);
	const char *gate = skynet_command(ctx, "LAUNCH", args);
	if (gate == NULL) {
		skynet_error(ctx, "watchdog: can't launch gate on %s", parm);
		return 1;
	}
	w->gate = (uint32_t)strtoul(gate + 1, NULL, 16);
	skynet_callback(ctx, w, watchdog_cb);
	skynet_error(ctx, "watchdog: echo server on %s", parm);
	return 0;
}

/*
 * Message-passing benchmarks as one C service, loaded unchanged by our runtime and by
 * upstream skynet (same .so), so both sides run the same code:
 *
 *   bench pingpong <pairs> <rounds>   pairs of services bouncing a message back and forth
 *   bench fanin <senders> <count>     many services flooding one sink
 *
 * The master prints "BENCH <name> msgs=<n> seconds=<s> rate=<msgs/s>" and aborts the node.
 */
#include "skynet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum role { MASTER, PING, PONG, SINK, FLOOD };

struct bench {
	struct skynet_context *ctx;
	enum role role;
	char name[16];
	uint32_t peer;	/* PING: its pong; SINK/PING: the master */
	uint32_t master;
	long remaining;	/* PING: rounds left; SINK: messages left; MASTER: workers left */
	long total;	/* MASTER: messages the run moves */
	double start;
};

static double
now_seconds(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct bench *
bench_create(void) {
	struct bench *b = skynet_malloc(sizeof(*b));
	memset(b, 0, sizeof(*b));
	return b;
}

void
bench_release(struct bench *b) {
	skynet_free(b);
}

static uint32_t
launch(struct bench *b, const char *args) {
	const char *addr = skynet_command(b->ctx, "LAUNCH", args);
	return addr ? (uint32_t)strtoul(addr + 1, NULL, 16) : 0;
}

static void
send_text(struct bench *b, uint32_t to, const char *text) {
	skynet_send(b->ctx, 0, to, PTYPE_TEXT, 0, (void *)text, strlen(text));
}

static void
finish(struct bench *b) {
	double seconds = now_seconds() - b->start;
	/* stdout, not skynet_error: upstream drops the logger's pending lines at ABORT. */
	printf("BENCH %s msgs=%ld seconds=%.3f rate=%.0f\n", b->name, b->total, seconds, b->total / seconds);
	fflush(stdout);
	skynet_command(b->ctx, "ABORT", NULL);
}

static int
bench_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct bench *b = ud;
	static const char payload[8] = "payload";
	switch (b->role) {
	case MASTER:
		if (--b->remaining == 0)
			finish(b);
		break;
	case PONG:
		skynet_send(ctx, 0, source, PTYPE_RESPONSE, session, (void *)payload, sizeof(payload));
		break;
	case PING:
		if (--b->remaining == 0)
			send_text(b, b->master, "done");
		else
			skynet_send(ctx, 0, b->peer, PTYPE_TEXT, session + 1, (void *)payload, sizeof(payload));
		break;
	case SINK:
		if (--b->remaining == 0)
			send_text(b, b->master, "done");
		break;
	case FLOOD:
		break;
	}
	return 0;
}

static int
start_master(struct bench *b, const char *kind, long workers, long count) {
	char args[128];
	char self[16];
	snprintf(self, sizeof(self), "%s", skynet_command(b->ctx, "REG", NULL));
	snprintf(b->name, sizeof(b->name), "%s", kind);
	b->start = now_seconds();
	if (strcmp(kind, "pingpong") == 0) {
		b->remaining = workers;
		b->total = workers * count * 2;
		for (long i = 0; i < workers; i++) {
			snprintf(args, sizeof(args), "bench ping %ld %s", count, self);
			if (launch(b, args) == 0)
				return 1;
		}
	} else if (strcmp(kind, "fanin") == 0) {
		b->remaining = 1;
		b->total = workers * count;
		snprintf(args, sizeof(args), "bench sink %ld %s", workers * count, self);
		uint32_t sink = launch(b, args);
		if (sink == 0)
			return 1;
		for (long i = 0; i < workers; i++) {
			snprintf(args, sizeof(args), "bench flood %ld :%x", count, sink);
			if (launch(b, args) == 0)
				return 1;
		}
	} else {
		skynet_error(b->ctx, "bench: unknown benchmark %s", kind);
		return 1;
	}
	return 0;
}

/* A flood sender sends everything from its init: the queue runs once init returns. */
static void
flood(struct bench *b, long count, uint32_t sink) {
	static const char payload[8] = "payload";
	for (long i = 0; i < count; i++)
		skynet_send(b->ctx, 0, sink, PTYPE_TEXT, 0, (void *)payload, sizeof(payload));
}

int
bench_init(struct bench *b, struct skynet_context *ctx, const char *parm) {
	char role[16] = "", peer[32] = "";
	long n = 0, m = 0;
	b->ctx = ctx;
	skynet_callback(ctx, b, bench_cb);
	if (parm == NULL || sscanf(parm, "%15s", role) != 1)
		return 1;
	if (strcmp(role, "pingpong") == 0 || strcmp(role, "fanin") == 0) {
		b->role = MASTER;
		if (sscanf(parm, "%*s %ld %ld", &n, &m) != 2 || n <= 0 || m <= 0)
			return 1;
		return start_master(b, role, n, m);
	}
	if (strcmp(role, "pong") == 0) {
		b->role = PONG;
		return 0;
	}
	if (sscanf(parm, "%*s %ld %31s", &n, peer) != 2 || n <= 0)
		return 1;
	uint32_t addr = (uint32_t)strtoul(peer + 1, NULL, 16);
	if (strcmp(role, "ping") == 0) {
		b->role = PING;
		b->master = addr;
		b->remaining = n;
		b->peer = launch(b, "bench pong");
		if (b->peer == 0)
			return 1;
		skynet_send(ctx, 0, b->peer, PTYPE_TEXT, 1, (void *)"payload", 8);
		return 0;
	}
	if (strcmp(role, "sink") == 0) {
		b->role = SINK;
		b->master = addr;
		b->remaining = n;
		return 0;
	}
	if (strcmp(role, "flood") == 0) {
		b->role = FLOOD;
		flood(b, n, addr);
		return 0;
	}
	return 1;
}

/*
 * testsvc: the C service behind tests/core.rs. Its init parameter is
 * "<role> <args>". A scenario role runs as the bootstrap service, checks one
 * contract of the core and reports "TEST <role> PASS" or
 * "TEST <role> FAIL: <why>" through skynet_error, then ABORTs the node.
 * Helper roles (echo, flood, ...) are launched by the scenarios; they report
 * failures the same way under their own name.
 *
 * Built against include/ only, like any third-party plug-in.
 */

#include "skynet.h"
#include "skynet_malloc.h"
#include "malloc_hook.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILD 16
#define MAX_SESSION 64
#define WATCHDOG_CS "4000"	/* a hang guard for the log, far beyond any scenario */

struct testsvc;

struct role {
	const char *name;
	/* 0 = success; a role may report a failure itself and still return 0 */
	int (*init)(struct testsvc *t, const char *args);
	void (*cb)(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz);
	int scenario;	/* runs as bootstrap: gets a watchdog and a "start" message */
};

struct testsvc {
	struct skynet_context *ctx;
	const struct role *role;
	uint32_t self;
	uint32_t peer;		/* the parent, or the one child a scenario talks to */
	int done;		/* reported: ignore everything else */
	int watchdog;
	int step;
	int count;
	int expect;
	int sent;
	int session[MAX_SESSION];
	int nsession;
	uint32_t child[MAX_CHILD];
	int nchild;
	int seq[MAX_CHILD];
	uint64_t last_now;
	size_t mem;		/* handover: memory charged before the last block was sent */
	void *ballast;		/* handover: keeps that figure above one block */
	char text[512];
	atomic_int inside;
	atomic_int nsig;
	int sig[8];
	uint32_t sig_thread[8];
};

/* ---------------------------------------------------------------- helpers */

static void
fail(struct testsvc *t, const char *fmt, ...) {
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (t->done)
		return;
	t->done = 1;
	skynet_error(t->ctx, "TEST %s FAIL: %s", t->role->name, why);
	skynet_command(t->ctx, "ABORT", NULL);
}

static void
pass(struct testsvc *t) {
	if (t->done)
		return;
	t->done = 1;
	skynet_error(t->ctx, "TEST %s PASS", t->role->name);
	skynet_command(t->ctx, "ABORT", NULL);
}

#define CHECK(t, cond, ...) do { if (!(cond)) { fail((t), __VA_ARGS__); return; } } while (0)
#define CHECK0(t, cond, ...) do { if (!(cond)) { fail((t), __VA_ARGS__); return 0; } } while (0)

static uint32_t
parse_handle(const char *s) {
	if (s == NULL || s[0] != ':')
		return 0;
	return (uint32_t)strtoul(s + 1, NULL, 16);
}

/* LAUNCH "<fmt...>"; returns the child's handle or 0 */
static uint32_t
launch(struct testsvc *t, const char *fmt, ...) {
	char cmd[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	const char *r = skynet_command(t->ctx, "LAUNCH", cmd);
	return parse_handle(r);
}

static int
send_text(struct testsvc *t, uint32_t to, const char *text) {
	return skynet_send(t->ctx, 0, to, PTYPE_TEXT, 0, (void *)text, strlen(text));
}

/* is the message exactly the text `s`? */
static int
is_text(const void *msg, size_t sz, const char *s) {
	size_t n = strlen(s);
	return msg != NULL && sz == n && memcmp(msg, s, n) == 0;
}

static int
all_digits(const char *s) {
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* "%lf"-like: digits, a dot, digits */
static int
is_lf(const char *s) {
	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s++ != '.')
		return 0;
	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == '\0';
}

static int
is_start(struct testsvc *t, int type, uint32_t source, const void *msg, size_t sz) {
	return type == PTYPE_TEXT && source == t->self && is_text(msg, sz, "start");
}

/* ---------------------------------------------------------------- echo */
/* replies to every request with PTYPE_RESPONSE, same session, same payload */

static int
echo_init(struct testsvc *t, const char *args) {
	(void)t; (void)args;
	return 0;
}

static void
echo_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	if (type == PTYPE_RESPONSE || type == PTYPE_ERROR || type == PTYPE_CLIENT)
		return;
	/* a copied payload carries a NUL after its sz bytes (reference §4.3) */
	CHECK(t, msg == NULL || ((const char *)msg)[sz] == '\0', "copied payload from :%x has no trailing NUL", source);
	int r = skynet_send(t->ctx, 0, source, PTYPE_RESPONSE, session, (void *)msg, sz);
	CHECK(t, r == session, "reply to :%x returned %d, expected the session %d", source, r, session);
}

/* ---------------------------------------------------------------- idle */
/* does nothing; "exit" makes it EXIT; "exit-bye" makes it EXIT and then tell the sender */

static int
idle_init(struct testsvc *t, const char *args) {
	(void)t; (void)args;
	return 0;
}

static void
idle_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (type != PTYPE_TEXT)
		return;
	if (is_text(msg, sz, "exit")) {
		skynet_command(t->ctx, "EXIT", NULL);
	} else if (is_text(msg, sz, "exit-bye")) {
		skynet_command(t->ctx, "EXIT", NULL);
		/* the context stays valid until this callback returns */
		send_text(t, source, "bye");
	}
}

/* ---------------------------------------------------------------- pingpong */

#define PINGPONG_ROUNDS 100000
#define PINGPONG_WINDOW 8

static int
scenario_init(struct testsvc *t, const char *args) {
	(void)t; (void)args;
	return 0;
}

static void
ping(struct testsvc *t) {
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "ping %d", t->sent);
	int s = skynet_send(t->ctx, 0, t->peer, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, buf, n);
	CHECK(t, s > 0, "send %d returned %d", t->sent, s);
	if (t->sent > 0)
		CHECK(t, s == t->session[(t->sent - 1) % PINGPONG_WINDOW] + 1,
			"session %d after %d: sessions are not allocated in sequence", s,
			t->session[(t->sent - 1) % PINGPONG_WINDOW]);
	t->session[t->sent % PINGPONG_WINDOW] = s;
	t->sent++;
}

static void
pingpong_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	if (is_start(t, type, source, msg, sz)) {
		t->peer = launch(t, "testsvc echo");
		CHECK(t, t->peer != 0, "LAUNCH testsvc echo failed");
		while (t->sent < PINGPONG_WINDOW && !t->done)
			ping(t);
		return;
	}
	char want[32];
	int n = snprintf(want, sizeof(want), "ping %d", t->count);
	CHECK(t, type == PTYPE_RESPONSE, "reply %d has type %d", t->count, type);
	CHECK(t, source == t->peer, "reply %d from :%x, not the echo :%x", t->count, source, t->peer);
	CHECK(t, session == t->session[t->count % PINGPONG_WINDOW], "reply %d has session %d, expected %d (out of order?)",
		t->count, session, t->session[t->count % PINGPONG_WINDOW]);
	CHECK(t, sz == (size_t)n && memcmp(msg, want, n) == 0, "reply %d carries \"%.*s\", expected \"%s\"",
		t->count, (int)sz, (const char *)msg, want);
	t->count++;
	if (t->count == PINGPONG_ROUNDS) {
		pass(t);
	} else if (t->sent < PINGPONG_ROUNDS) {
		ping(t);
	}
}

/* ---------------------------------------------------------------- reentry */

#define FLOODERS 8
#define FLOOD_COUNT 20000
#define FLOOD_BATCH 500

static void
reentry_body(struct testsvc *t, int type, uint32_t source, const void *msg, size_t sz) {
	if (is_start(t, type, source, msg, sz)) {
		int i;
		for (i = 0; i < FLOODERS; i++) {
			t->child[i] = launch(t, "testsvc flood :%x %d", t->self, FLOOD_COUNT);
			CHECK(t, t->child[i] != 0, "LAUNCH flood %d failed", i);
			t->nchild++;
		}
		for (i = 0; i < FLOODERS; i++)
			CHECK(t, send_text(t, t->child[i], "go") == 0, "can't start flooder %d", i);
		return;
	}
	int i;
	for (i = 0; i < t->nchild; i++)
		if (t->child[i] == source)
			break;
	CHECK(t, i < t->nchild, "message type %d from unknown :%x", type, source);
	CHECK(t, type == PTYPE_TEXT && sz == sizeof(uint32_t), "flooder :%x sent type %d size %zu", source, type, sz);
	uint32_t seq;
	memcpy(&seq, msg, sizeof(seq));
	CHECK(t, seq == (uint32_t)t->seq[i], "flooder :%x: got seq %u, expected %d (lost, duplicated or reordered)",
		source, seq, t->seq[i]);
	t->seq[i]++;
	t->count++;
	if (t->count == FLOODERS * FLOOD_COUNT) {
		for (i = 0; i < FLOODERS; i++)
			CHECK(t, t->seq[i] == FLOOD_COUNT, "flooder %d delivered %d", i, t->seq[i]);
		pass(t);
	}
}

static void
reentry_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (atomic_exchange(&t->inside, 1) != 0) {
		fail(t, "callback entered while it was running on another thread");
		return;
	}
	reentry_body(t, type, source, msg, sz);
	atomic_store(&t->inside, 0);
}

/* flood ":sink count": on "go", sends count sequence numbers to the sink, in batches */

static int
flood_init(struct testsvc *t, const char *args) {
	char target[32];
	CHECK0(t, args && sscanf(args, "%31s %d", target, &t->expect) == 2, "bad args \"%s\"", args ? args : "");
	t->peer = parse_handle(target);
	return 0;
}

static void
flood_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (type != PTYPE_TEXT || !(is_text(msg, sz, "go") || (source == t->self && is_text(msg, sz, "more"))))
		return;
	int i;
	for (i = 0; i < FLOOD_BATCH && t->sent < t->expect; i++, t->sent++) {
		uint32_t seq = (uint32_t)t->sent;
		int r;
		if (seq & 1) {
			/* hand over a malloc'd buffer */
			uint32_t *p = skynet_malloc(sizeof(seq));
			*p = seq;
			r = skynet_send(t->ctx, 0, t->peer, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, p, sizeof(seq));
		} else {
			r = skynet_send(t->ctx, 0, t->peer, PTYPE_TEXT, 0, &seq, sizeof(seq));
		}
		CHECK(t, r == 0, "send %u to the sink returned %d", seq, r);
	}
	if (t->sent < t->expect)
		send_text(t, t->self, "more");	/* yield the worker, continue later */
}

/* ---------------------------------------------------------------- deadcall */

#define DEAD_QUEUED 5
#define DEAD_SENT 5
#define DEAD_SESSION0 1001

/* exitfirst ":parent n": during init, queues "die" to itself and then n messages that
 * claim to come from the parent (sessions 1001...). Init-time messages are not
 * dispatched before init returns, so they all sit behind "die". */
static int
exitfirst_init(struct testsvc *t, const char *args) {
	char parent[32];
	int i, n;
	CHECK0(t, args && sscanf(args, "%31s %d", parent, &n) == 2, "bad args \"%s\"", args ? args : "");
	t->peer = parse_handle(parent);
	CHECK0(t, send_text(t, t->self, "die") == 0, "can't queue die");
	for (i = 0; i < n; i++)
		CHECK0(t, skynet_send(t->ctx, t->peer, t->self, PTYPE_TEXT, DEAD_SESSION0 + i, "queued", 6) == DEAD_SESSION0 + i,
			"can't queue message %d", i);
	return 0;
}

static void
exitfirst_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	CHECK(t, t->count == 0, "callback ran again after EXIT (type %d session %d from :%x)", type, session, source);
	t->count++;
	CHECK(t, type == PTYPE_TEXT && is_text(msg, sz, "die"), "first message is type %d session %d, not die", type, session);
	skynet_command(t->ctx, "EXIT", NULL);
}

static void
deadcall_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	if (is_start(t, type, source, msg, sz)) {
		int i;
		t->peer = launch(t, "testsvc exitfirst :%x %d", t->self, DEAD_QUEUED);
		CHECK(t, t->peer != 0, "LAUNCH exitfirst failed");
		for (i = 0; i < DEAD_QUEUED; i++)
			t->session[t->nsession++] = DEAD_SESSION0 + i;
		/* these race with the death: each either fails (-1) or comes back as an error */
		for (i = 0; i < DEAD_SENT; i++) {
			int s = skynet_send(t->ctx, 0, t->peer, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "late", 4);
			CHECK(t, s == -1 || s > 0, "send to a dying service returned %d", s);
			if (s > 0)
				t->session[t->nsession++] = s;
		}
		return;
	}
	CHECK(t, type == PTYPE_ERROR, "unexpected type %d session %d from :%x", type, session, source);
	CHECK(t, source == t->peer, "error from :%x, not from the dead :%x", source, t->peer);
	CHECK(t, msg == NULL && sz == 0, "error carries a payload of %zu bytes", sz);
	CHECK(t, t->count < t->nsession, "extra error, session %d", session);
	CHECK(t, session == t->session[t->count], "error %d has session %d, expected %d", t->count, session,
		t->session[t->count]);
	t->count++;
	if (t->count < t->nsession)
		return;
	int r = send_text(t, t->peer, "after");
	CHECK(t, r == -1, "send to the dead handle returned %d, expected -1", r);
	r = skynet_send(t->ctx, 0, t->peer, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
	CHECK(t, r == -1, "send with a new session to the dead handle returned %d, expected -1", r);
	void *p = skynet_malloc(64);
	memset(p, 'x', 64);
	r = skynet_send(t->ctx, 0, t->peer, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, p, 64);	/* the core frees p */
	CHECK(t, r == -1, "DONTCOPY send to the dead handle returned %d, expected -1", r);
	char name[32];
	snprintf(name, sizeof(name), ":%x", t->peer);
	p = skynet_malloc(16);
	memset(p, 'y', 16);
	r = skynet_sendname(t->ctx, 0, name, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, p, 16);
	CHECK(t, r == -1, "sendname %s to the dead handle returned %d, expected -1", name, r);
	pass(t);
}

/* ---------------------------------------------------------------- names */

/* namedkid ":parent": registers .gamma; "exit-bye" is handled as idle */
static int
namedkid_init(struct testsvc *t, const char *args) {
	t->peer = parse_handle(args);
	const char *r = skynet_command(t->ctx, "REG", ".gamma");
	CHECK0(t, r != NULL && strcmp(r, "gamma") == 0, "REG .gamma returned %s", r ? r : "NULL");
	return 0;
}

static void
names_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	char hex[32], kidhex[32], cmd[64];
	const char *r;
	(void)session;
	snprintf(hex, sizeof(hex), ":%x", t->self);
	if (is_start(t, type, source, msg, sz)) {
		r = skynet_command(t->ctx, "REG", ".alpha");
		CHECK(t, r != NULL && strcmp(r, "alpha") == 0, "REG .alpha returned %s", r ? r : "NULL");
		r = skynet_command(t->ctx, "QUERY", ".alpha");
		CHECK(t, r != NULL && strcmp(r, hex) == 0, "QUERY .alpha returned %s, expected %s", r ? r : "NULL", hex);
		CHECK(t, skynet_queryname(t->ctx, ".alpha") == t->self, "skynet_queryname(.alpha) is not self");
		CHECK(t, skynet_queryname(t->ctx, hex) == t->self, "skynet_queryname(%s) is not self", hex);
		r = skynet_command(t->ctx, "REG", ".alpha");
		CHECK(t, r == NULL, "registering the taken .alpha again returned %s", r);

		t->peer = launch(t, "testsvc namedkid :%x", t->self);
		CHECK(t, t->peer != 0, "LAUNCH namedkid failed");
		snprintf(kidhex, sizeof(kidhex), ":%x", t->peer);
		r = skynet_command(t->ctx, "QUERY", ".gamma");
		CHECK(t, r != NULL && strcmp(r, kidhex) == 0, "QUERY .gamma returned %s, expected %s", r ? r : "NULL", kidhex);
		snprintf(cmd, sizeof(cmd), ".beta %s", kidhex);
		r = skynet_command(t->ctx, "NAME", cmd);
		CHECK(t, r != NULL && strcmp(r, "beta") == 0, "NAME %s returned %s", cmd, r ? r : "NULL");
		r = skynet_command(t->ctx, "QUERY", ".beta");
		CHECK(t, r != NULL && strcmp(r, kidhex) == 0, "QUERY .beta returned %s, expected %s", r ? r : "NULL", kidhex);
		CHECK(t, skynet_queryname(t->ctx, ".beta") == t->peer, "skynet_queryname(.beta) is not the kid");
		snprintf(cmd, sizeof(cmd), ".alpha %s", kidhex);
		r = skynet_command(t->ctx, "NAME", cmd);
		CHECK(t, r == NULL, "NAME %s (a taken name) returned %s", cmd, r);
		r = skynet_command(t->ctx, "QUERY", ".alpha");
		CHECK(t, r != NULL && strcmp(r, hex) == 0, ".alpha moved to %s after a failed NAME", r ? r : "NULL");
		r = skynet_command(t->ctx, "QUERY", ".nosuchname");
		CHECK(t, r == NULL, "QUERY of an unknown name returned %s", r);
		CHECK(t, skynet_queryname(t->ctx, ".nosuchname") == 0, "skynet_queryname of an unknown name is not 0");
		CHECK(t, skynet_queryname(t->ctx, "globalname") == 0, "skynet_queryname of a global name is not 0");
		int s = skynet_sendname(t->ctx, 0, ".alpha", PTYPE_TEXT, 0, "to-alpha", 8);
		CHECK(t, s == 0, "sendname .alpha returned %d", s);
		t->step = 1;
		return;
	}
	if (t->step == 1) {
		CHECK(t, type == PTYPE_TEXT && source == t->self && is_text(msg, sz, "to-alpha"),
			"expected to-alpha from self, got type %d from :%x", type, source);
		int s = skynet_sendname(t->ctx, 0, ".gamma", PTYPE_TEXT, 0, "exit-bye", 8);
		CHECK(t, s == 0, "sendname .gamma returned %d", s);
		t->step = 2;
		return;
	}
	CHECK(t, type == PTYPE_TEXT && source == t->peer && is_text(msg, sz, "bye"),
		"expected bye from the kid, got type %d from :%x", type, source);
	/* the kid has exited: its names are gone with it */
	r = skynet_command(t->ctx, "QUERY", ".gamma");
	CHECK(t, r == NULL, "QUERY .gamma after the kid exited returned %s", r);
	r = skynet_command(t->ctx, "QUERY", ".beta");
	CHECK(t, r == NULL, "QUERY .beta after the kid exited returned %s", r);
	CHECK(t, skynet_queryname(t->ctx, ".gamma") == 0, "skynet_queryname(.gamma) after exit is not 0");
	int s = skynet_sendname(t->ctx, 0, ".gamma", PTYPE_TEXT, 0, "x", 1);
	CHECK(t, s == -1, "sendname to the dead .gamma returned %d", s);
	void *p = skynet_malloc(8);
	memset(p, 0, 8);
	s = skynet_sendname(t->ctx, 0, ".beta", PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, p, 8);	/* freed by the core */
	CHECK(t, s == -1, "DONTCOPY sendname to the dead .beta returned %d", s);
	r = skynet_command(t->ctx, "QUERY", ".alpha");
	CHECK(t, r != NULL && strcmp(r, hex) == 0, ".alpha lost after another service exited: %s", r ? r : "NULL");
	/* a freed name can be taken again */
	r = skynet_command(t->ctx, "REG", ".gamma");
	CHECK(t, r != NULL && strcmp(r, "gamma") == 0, "REG .gamma after the kid exited returned %s", r ? r : "NULL");
	pass(t);
}

/* ---------------------------------------------------------------- timeout */

static const int timeout_delay[] = { 10, 5, 5, 0, 20 };
static const int timeout_order[] = { 3, 1, 2, 0, 4 };
#define TIMEOUTS 5

static void
timeout_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	if (is_start(t, type, source, msg, sz)) {
		int i;
		for (i = 0; i < TIMEOUTS; i++) {
			char ti[16];
			snprintf(ti, sizeof(ti), "%d", timeout_delay[i]);
			const char *r = skynet_command(t->ctx, "TIMEOUT", ti);
			CHECK(t, all_digits(r), "TIMEOUT %s returned %s", ti, r ? r : "NULL");
			t->session[i] = atoi(r);
			CHECK(t, t->session[i] > 0, "TIMEOUT %s returned session %s", ti, r);
			if (i > 0)
				CHECK(t, t->session[i] != t->session[i - 1], "two timeouts share session %d", t->session[i]);
		}
		return;
	}
	CHECK(t, t->count < TIMEOUTS, "an extra message: type %d session %d from :%x", type, session, source);
	int want = timeout_order[t->count];
	CHECK(t, type == PTYPE_RESPONSE, "timeout %d arrived as type %d", t->count, type);
	CHECK(t, source == 0, "timeout came from :%x, not 0", source);
	CHECK(t, msg == NULL && sz == 0, "timeout carries %zu bytes", sz);
	CHECK(t, session == t->session[want],
		"arrival %d: session %d, expected %d (the TIMEOUT %d); order must be 0, 5, 5, 10, 20",
		t->count, session, t->session[want], timeout_delay[want]);
	t->count++;
	if (t->count == TIMEOUTS)
		pass(t);
}

/* ---------------------------------------------------------------- monitor */

static void
monitor_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	char hex[32], cmd[32];
	const char *r;
	snprintf(hex, sizeof(hex), ":%x", t->self);
	if (is_start(t, type, source, msg, sz)) {
		r = skynet_command(t->ctx, "MONITOR", NULL);
		CHECK(t, r == NULL, "MONITOR before any was set returned %s", r);
		r = skynet_command(t->ctx, "MONITOR", hex);
		CHECK(t, r == NULL, "setting MONITOR returned %s", r);
		r = skynet_command(t->ctx, "MONITOR", NULL);
		CHECK(t, r != NULL && strcmp(r, hex) == 0, "MONITOR NULL returned %s, expected %s", r ? r : "NULL", hex);
		r = skynet_command(t->ctx, "MONITOR", "");
		CHECK(t, r != NULL && strcmp(r, hex) == 0, "MONITOR \"\" returned %s, expected %s", r ? r : "NULL", hex);
		t->child[0] = launch(t, "testsvc idle");
		t->child[1] = launch(t, "testsvc idle");
		CHECK(t, t->child[0] && t->child[1], "LAUNCH idle failed");
		skynet_error(t->ctx, "monitor killed=:%08x exited=:%08x", t->child[0], t->child[1]);
		snprintf(cmd, sizeof(cmd), ":%x", t->child[0]);
		r = skynet_command(t->ctx, "KILL", cmd);
		CHECK(t, r == NULL, "KILL returned %s", r);
		CHECK(t, send_text(t, t->child[0], "x") == -1, "the killed child still accepts messages");
		CHECK(t, send_text(t, t->child[1], "exit") == 0, "can't tell the other child to exit");
		return;
	}
	CHECK(t, t->count < 2, "an extra message: type %d session %d from :%x", type, session, source);
	CHECK(t, type == PTYPE_CLIENT, "exit notice %d has type %d (from :%x)", t->count, type, source);
	CHECK(t, source == t->child[t->count], "exit notice %d from :%x, expected :%x", t->count, source,
		t->child[t->count]);
	CHECK(t, session == 0 && msg == NULL && sz == 0, "exit notice has session %d and %zu bytes", session, sz);
	t->count++;
	if (t->count == 2)
		pass(t);
}

/* ---------------------------------------------------------------- formats */

/* whoinit ":parent": tells the parent which handle was current during its init */
static int
whoinit_init(struct testsvc *t, const char *args) {
	char text[64];
	t->peer = parse_handle(args);
	snprintf(text, sizeof(text), "init-current %x", skynet_current_handle());
	CHECK0(t, send_text(t, t->peer, text) == 0, "can't tell the parent");
	return 0;
}

static int
is_upper_launch(const char *r) {
	int i;
	if (r == NULL || strlen(r) != 9 || r[0] != ':')
		return 0;
	for (i = 1; i < 9; i++)
		if (!((r[i] >= '0' && r[i] <= '9') || (r[i] >= 'A' && r[i] <= 'F')))
			return 0;
	return 1;
}

static void
formats_start(struct testsvc *t) {
	char hex[32], buf[64];
	const char *r;
	int h, i;

	snprintf(hex, sizeof(hex), ":%x", t->self);
	CHECK(t, skynet_current_handle() == t->self, "skynet_current_handle() is %x in the callback, self is %x",
		skynet_current_handle(), t->self);
	r = skynet_command(t->ctx, "REG", NULL);
	CHECK(t, r != NULL && strcmp(r, hex) == 0, "REG NULL returned %s, expected %s", r ? r : "NULL", hex);
	r = skynet_command(t->ctx, "REG", "");
	CHECK(t, r != NULL && strcmp(r, hex) == 0, "REG \"\" returned %s, expected %s", r ? r : "NULL", hex);

	/* LAUNCH answers ":%08X": launch until a handle has a letter in it */
	int letter = 0;
	for (i = 0; i < 12 && !letter; i++) {
		r = skynet_command(t->ctx, "LAUNCH", "testsvc idle");
		CHECK(t, is_upper_launch(r), "LAUNCH returned %s, expected :%%08X", r ? r : "NULL");
		uint32_t child = parse_handle(r);
		snprintf(buf, sizeof(buf), ":%08X", child);
		CHECK(t, strcmp(buf, r) == 0, "LAUNCH result %s does not parse back", r);
		CHECK(t, child >> 24 == 1, "child %s is not on harbor 1", r);
		if (strpbrk(r + 1, "ABCDEF")) {
			letter = 1;
			t->peer = child;
		}
	}
	CHECK(t, letter, "no LAUNCH result with a hex letter after 12 launches");
	snprintf(buf, sizeof(buf), ".kid :%x", t->peer);
	CHECK(t, skynet_command(t->ctx, "NAME", buf) != NULL, "NAME %s failed", buf);
	r = skynet_command(t->ctx, "QUERY", ".kid");
	snprintf(buf, sizeof(buf), ":%x", t->peer);
	CHECK(t, r != NULL && strcmp(r, buf) == 0, "QUERY returned %s, expected %s (lowercase, unpadded)", r ? r : "NULL", buf);
	h = launch(t, "testsvc whoinit :%x", t->self);
	CHECK(t, h != 0, "LAUNCH whoinit failed");

	r = skynet_command(t->ctx, "STARTTIME", NULL);
	CHECK(t, all_digits(r), "STARTTIME returned %s", r ? r : "NULL");
	long start = atol(r), now = (long)time(NULL);
	CHECK(t, start <= now && now - start < 600, "STARTTIME %ld is not close to time() %ld", start, now);

	r = skynet_command(t->ctx, "GETENV", "testkey");
	CHECK(t, r != NULL && strcmp(r, "hello world") == 0, "GETENV testkey returned %s", r ? r : "NULL");
	r = skynet_command(t->ctx, "GETENV", "thread");
	CHECK(t, r != NULL && strcmp(r, "4") == 0, "GETENV thread returned %s", r ? r : "NULL");
	r = skynet_command(t->ctx, "GETENV", "profile");
	CHECK(t, r != NULL && strcmp(r, "true") == 0, "GETENV profile (a default, written back) returned %s", r ? r : "NULL");
	r = skynet_command(t->ctx, "GETENV", "no_such_key");
	CHECK(t, r == NULL, "GETENV of an unknown key returned %s", r);
	r = skynet_command(t->ctx, "SETENV", "tk_setenv v w");
	CHECK(t, r == NULL, "SETENV returned %s", r);
	r = skynet_command(t->ctx, "GETENV", "tk_setenv");
	CHECK(t, r != NULL && strcmp(r, "v w") == 0, "GETENV after SETENV \"tk_setenv v w\" returned %s", r ? r : "NULL");
	skynet_command(t->ctx, "SETENV", "tk_nospace");
	r = skynet_command(t->ctx, "GETENV", "tk_nospace");
	CHECK(t, r == NULL, "SETENV without a space set something: %s", r);

	r = skynet_command(t->ctx, "STAT", "mqlen");
	CHECK(t, all_digits(r), "STAT mqlen returned %s", r ? r : "NULL");
	r = skynet_command(t->ctx, "STAT", "message");
	CHECK(t, all_digits(r) && atoi(r) >= 1, "STAT message returned %s", r ? r : "NULL");
	r = skynet_command(t->ctx, "STAT", "cpu");
	CHECK(t, is_lf(r), "STAT cpu returned %s", r ? r : "NULL");
	r = skynet_command(t->ctx, "STAT", "time");
	CHECK(t, r != NULL && (strcmp(r, "0") == 0 || is_lf(r)), "STAT time returned %s", r ? r : "NULL");
	r = skynet_command(t->ctx, "STAT", "endless");
	CHECK(t, r != NULL && strcmp(r, "0") == 0, "STAT endless returned %s", r ? r : "NULL");
	r = skynet_command(t->ctx, "STAT", "bogus");
	CHECK(t, r != NULL && r[0] == '\0', "STAT bogus returned %s", r ? r : "NULL");
	r = skynet_command(t->ctx, "NOSUCHCOMMAND", "x");
	CHECK(t, r == NULL, "an unknown command returned %s", r);

	int s = skynet_send(t->ctx, 0, 0, PTYPE_TEXT, 0, "x", 1);
	CHECK(t, s == -1, "send to 0 with a payload returned %d", s);
	int s1 = skynet_send(t->ctx, 0, 0, PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
	int s2 = skynet_send(t->ctx, 0, 0, PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
	CHECK(t, s1 > 0 && s2 == s1 + 1, "genid returned %d then %d", s1, s2);
	size_t huge = (size_t)1 << 56;
	s = skynet_send(t->ctx, 0, t->self, PTYPE_TEXT, 0, NULL, huge);
	CHECK(t, s == -2, "send of 2^56 bytes returned %d", s);
	void *p = skynet_malloc(8);
	s = skynet_send(t->ctx, 0, t->self, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, p, huge);	/* freed by the core */
	CHECK(t, s == -2, "DONTCOPY send of 2^56 bytes returned %d", s);
	s = skynet_sendname(t->ctx, 0, hex, PTYPE_TEXT, 0, NULL, huge);
	CHECK(t, s == -2, "sendname %s of 2^56 bytes returned %d", hex, s);

	int harbor = -1;
	CHECK(t, skynet_isremote(t->ctx, 0x02000001, &harbor) != 0 && harbor == 2,
		"skynet_isremote(0x02000001) on harbor 1: not remote or harbor %d", harbor);
	harbor = -1;
	CHECK(t, skynet_isremote(t->ctx, t->self, &harbor) == 0 && harbor == 1,
		"skynet_isremote(self) says remote or harbor %d", harbor);
	CHECK(t, skynet_isremote(t->ctx, 0x00000005, NULL) == 0, "a harbor-0 handle is remote");

	uint64_t last = skynet_now();
	for (i = 0; i < 100000; i++) {
		uint64_t now = skynet_now();
		CHECK(t, now >= last, "skynet_now went back from %llu to %llu", (unsigned long long)last,
			(unsigned long long)now);
		last = now;
	}
	t->last_now = last;

	/* checked by the Rust side in the log */
	char big[601];
	memset(big, 'x', 600);
	big[600] = '\0';
	skynet_error(t->ctx, "LONGLINE %s END", big);
	skynet_error(t->ctx, "%*s", 12, "FASTab\0cd!!!");
	skynet_error(NULL, "NULLCTX %d", 42);	/* source 0 */

	/* wait for whoinit's message and three timer ticks */
	for (i = 0; i < 3; i++)
		CHECK(t, all_digits(skynet_command(t->ctx, "TIMEOUT", "1")), "TIMEOUT 1 failed");
	t->expect = 4;
}

static void
formats_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (is_start(t, type, source, msg, sz)) {
		formats_start(t);
		return;
	}
	CHECK(t, skynet_current_handle() == t->self, "skynet_current_handle() is %x in the callback",
		skynet_current_handle());
	if (type == PTYPE_RESPONSE) {
		uint64_t now = skynet_now();
		CHECK(t, now >= t->last_now, "skynet_now went back from %llu to %llu",
			(unsigned long long)t->last_now, (unsigned long long)now);
		t->last_now = now;
	} else {
		char want[64];
		snprintf(want, sizeof(want), "init-current %x", t->self);
		CHECK(t, type == PTYPE_TEXT && is_text(msg, sz, want),
			"expected \"%s\" (init runs with the launcher's handle current), got type %d \"%.*s\"",
			want, type, (int)sz, msg ? (const char *)msg : "");
	}
	t->count++;
	if (t->count == t->expect)
		pass(t);
}

/* ---------------------------------------------------------------- badmodule */

static void
badmodule_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	if (is_start(t, type, source, msg, sz)) {
		const char *r = skynet_command(t->ctx, "LAUNCH", "no_such_module");
		CHECK(t, r == NULL, "LAUNCH no_such_module returned %s", r);
		r = skynet_command(t->ctx, "LAUNCH", "no_such_module with args");
		CHECK(t, r == NULL, "LAUNCH no_such_module with args returned %s", r);
		r = skynet_command(t->ctx, "LAUNCH", "noinit");
		CHECK(t, r == NULL, "LAUNCH of a module without noinit_init returned %s", r);
		/* the node still works */
		t->peer = launch(t, "testsvc echo");
		CHECK(t, t->peer != 0, "LAUNCH testsvc echo failed after the bad launches");
		t->expect = skynet_send(t->ctx, 0, t->peer, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "still alive", 11);
		CHECK(t, t->expect > 0, "send to echo returned %d", t->expect);
		return;
	}
	CHECK(t, type == PTYPE_RESPONSE && source == t->peer && session == t->expect && is_text(msg, sz, "still alive"),
		"bad echo reply: type %d session %d from :%x", type, session, source);
	pass(t);
}

/* ---------------------------------------------------------------- failinit */

#define FAILINIT_SESSION 77

/* badinit ":parent": tells the parent its handle, queues a message to itself that
 * claims to come from the parent, then fails */
static int
badinit_init(struct testsvc *t, const char *args) {
	char text[64];
	t->peer = parse_handle(args);
	snprintf(text, sizeof(text), "badinit %x", t->self);
	send_text(t, t->peer, text);
	skynet_send(t->ctx, t->peer, t->self, PTYPE_TEXT, FAILINIT_SESSION, "never", 5);
	return 1;
}

static void
badinit_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)msg; (void)sz;
	fail(t, "the failed service got a message: type %d session %d from :%x", type, session, source);
}

static void
failinit_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	if (is_start(t, type, source, msg, sz)) {
		const char *r = skynet_command(t->ctx, "LAUNCH", "testsvc badinit");
		CHECK(t, r == NULL, "LAUNCH of a module whose init fails returned %s", r);
		char args[64];
		snprintf(args, sizeof(args), "testsvc badinit :%x", t->self);
		r = skynet_command(t->ctx, "LAUNCH", args);
		CHECK(t, r == NULL, "LAUNCH of a module whose init fails returned %s", r);
		return;
	}
	if (t->step == 0) {
		unsigned h = 0;
		CHECK(t, type == PTYPE_TEXT && sz < 64 && msg != NULL, "first message: type %d from :%x", type, source);
		char text[64];
		memcpy(text, msg, sz);
		text[sz] = '\0';
		CHECK(t, sscanf(text, "badinit %x", &h) == 1 && h == source,
			"init-time message \"%s\" from :%x", text, source);
		t->peer = h;
		t->step = 1;
		return;
	}
	CHECK(t, type == PTYPE_ERROR && source == t->peer && session == FAILINIT_SESSION,
		"expected PTYPE_ERROR session %d from the failed :%x, got type %d session %d from :%x",
		FAILINIT_SESSION, t->peer, type, session, source);
	int r = send_text(t, t->peer, "x");
	CHECK(t, r == -1, "send to the failed service's handle returned %d", r);
	pass(t);
}

/* ---------------------------------------------------------------- signal */

/* sigtarget ":parent": _signal records (signal, current handle); "check" reports them */
static void
sigtarget_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (type != PTYPE_TEXT || !is_text(msg, sz, "check"))
		return;
	char text[256];
	int i, n = atomic_load(&t->nsig), off = 0;
	text[0] = '\0';
	for (i = 0; i < n && i < 8; i++)
		off += snprintf(text + off, sizeof(text) - off, "%s%d@%x", i ? "," : "", t->sig[i], t->sig_thread[i]);
	send_text(t, source, text);
}

static int
sigtarget_init(struct testsvc *t, const char *args) {
	t->peer = parse_handle(args);
	return 0;
}

static void
signal_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	char cmd[64];
	(void)session;
	if (is_start(t, type, source, msg, sz)) {
		t->peer = launch(t, "testsvc sigtarget :%x", t->self);
		CHECK(t, t->peer != 0, "LAUNCH sigtarget failed");
		snprintf(cmd, sizeof(cmd), ":%x 3", t->peer);
		CHECK(t, skynet_command(t->ctx, "SIGNAL", cmd) == NULL, "SIGNAL returned non-NULL");
		snprintf(cmd, sizeof(cmd), ":%x", t->peer);
		skynet_command(t->ctx, "SIGNAL", cmd);
		snprintf(cmd, sizeof(cmd), ":%x 0x10", t->peer);
		skynet_command(t->ctx, "SIGNAL", cmd);
		CHECK(t, send_text(t, t->peer, "check") == 0, "can't send check");
		return;
	}
	char want[128];
	snprintf(want, sizeof(want), "3@%x,0@%x,16@%x", t->self, t->self, t->self);
	CHECK(t, type == PTYPE_TEXT && source == t->peer && is_text(msg, sz, want),
		"target saw signals \"%.*s\", expected \"%s\" (signal@current handle: _signal runs on the caller's thread)",
		(int)sz, msg ? (const char *)msg : "", want);
	pass(t);
}

/* ---------------------------------------------------------------- endless */

/* spin <stopfile>: on "spin", busy-loops until the file exists, then reports
 * STAT endless twice to the sender */
static int
spin_init(struct testsvc *t, const char *args) {
	CHECK0(t, args != NULL && strlen(args) < sizeof(t->text), "spin needs a stop file");
	strcpy(t->text, args);
	return 0;
}

static void
spin_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (type != PTYPE_TEXT || !is_text(msg, sz, "spin"))
		return;
	volatile unsigned long work = 0;
	while (access(t->text, F_OK) != 0) {
		int i;
		for (i = 0; i < 100000; i++)
			work += i;
	}
	char e1[8], e2[8], text[32];
	const char *r = skynet_command(t->ctx, "STAT", "endless");
	snprintf(e1, sizeof(e1), "%s", r ? r : "NULL");
	r = skynet_command(t->ctx, "STAT", "endless");
	snprintf(e2, sizeof(e2), "%s", r ? r : "NULL");
	snprintf(text, sizeof(text), "spun %s %s", e1, e2);
	send_text(t, source, text);
}

static int
endless_init(struct testsvc *t, const char *args) {
	CHECK0(t, args != NULL && strlen(args) < sizeof(t->text), "endless needs a stop file");
	strcpy(t->text, args);
	return 0;
}

static void
endless_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (is_start(t, type, source, msg, sz)) {
		t->peer = launch(t, "testsvc spin %s", t->text);
		CHECK(t, t->peer != 0, "LAUNCH spin failed");
		skynet_error(t->ctx, "endless parent=:%08x child=:%08x", t->self, t->peer);
		CHECK(t, send_text(t, t->peer, "spin") == 0, "can't start the spinner");
		return;
	}
	CHECK(t, type == PTYPE_TEXT && source == t->peer && is_text(msg, sz, "spun 1 0"),
		"the spinner reported \"%.*s\", expected \"spun 1 0\" (STAT endless: 1, then 0)",
		(int)sz, msg ? (const char *)msg : "");
	pass(t);
}

/* ---------------------------------------------------------------- logon */

static void
logon_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	char cmd[32];
	if (is_start(t, type, source, msg, sz)) {
		t->peer = launch(t, "testsvc echo");
		CHECK(t, t->peer != 0, "LAUNCH echo failed");
		snprintf(cmd, sizeof(cmd), ":%x", t->peer);
		CHECK(t, skynet_command(t->ctx, "LOGON", cmd) == NULL, "LOGON returned non-NULL");
		CHECK(t, send_text(t, t->peer, "abc") == 0, "send abc failed");
		int s = skynet_send(t->ctx, 0, t->peer, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "\x01\xff", 2);
		CHECK(t, s > 0, "send 01ff failed");
		CHECK(t, skynet_send(t->ctx, 0, t->peer, PTYPE_RESERVED_LUA, 0, NULL, 0) == 0, "send NULL failed");
		skynet_error(t->ctx, "logon child=%08x parent=%08x session=%d", t->peer, t->self, s);
		return;
	}
	CHECK(t, type == PTYPE_RESPONSE && source == t->peer, "unexpected type %d from :%x", type, source);
	t->count++;
	if (t->count == 3) {
		snprintf(cmd, sizeof(cmd), ":%x", t->peer);
		CHECK(t, skynet_command(t->ctx, "LOGOFF", cmd) == NULL, "LOGOFF returned non-NULL");
		/* not logged any more */
		CHECK(t, send_text(t, t->peer, "after logoff") == 0, "send after LOGOFF failed");
		return;
	}
	if (t->count == 4)
		pass(t);
}

/* ---------------------------------------------------------------- abort, lastexit */

/* sleeper: sets a long timeout in init */
static int
sleeper_init(struct testsvc *t, const char *args) {
	(void)args;
	CHECK0(t, all_digits(skynet_command(t->ctx, "TIMEOUT", "100000")), "TIMEOUT failed");
	return 0;
}

#define ABORT_LINES 200

static void
abort_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (!is_start(t, type, source, msg, sz))
		return;
	uint32_t a = launch(t, "testsvc idle");
	uint32_t b = launch(t, "testsvc sleeper");
	uint32_t c = launch(t, "testsvc echo");
	CHECK(t, a && b && c, "LAUNCH failed");
	int i;
	/* leave one of them with work queued */
	for (i = 0; i < 100; i++)
		skynet_send(t->ctx, 0, a, PTYPE_TEXT, 0, "busy", 4);
	/* lines still queued in the logger at ABORT must be written (checked by core.rs) */
	for (i = 0; i < ABORT_LINES; i++)
		skynet_error(t->ctx, "abort line %d", i);
	pass(t);	/* ABORTs with all of them alive */
}

static void
lastexit_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (!is_start(t, type, source, msg, sz))
		return;
	uint32_t a = launch(t, "testsvc idle");
	CHECK(t, a != 0, "LAUNCH failed");
	CHECK(t, send_text(t, a, "exit") == 0, "can't tell the child to exit");
	t->done = 1;
	/* the logger counts as a live service: without it the last EXIT ends the process */
	skynet_command(t->ctx, "KILL", ".logger");
	skynet_command(t->ctx, "EXIT", NULL);
}

/* ---------------------------------------------------------------- overload */

#define OVERLOAD_FIRST 1500
#define OVERLOAD_MORE 3000

/* queues OVERLOAD_FIRST messages to itself before its queue is scheduled: the first
 * pop leaves 1500 behind (> 1024: warning, threshold 2048). The first of them queues
 * 3000 more: the next pop leaves 4499 (> 2048: warning, and the threshold doubles
 * past it, to 8192). core.rs checks that exactly these two warnings are logged. */
static int
overload_init(struct testsvc *t, const char *args) {
	int i;
	(void)args;
	for (i = 0; i < OVERLOAD_FIRST; i++)
		CHECK0(t, send_text(t, t->self, "fill") == 0, "can't queue fill %d", i);
	return 0;
}

static void
overload_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (is_start(t, type, source, msg, sz)) {
		t->step = 1;
	} else {
		CHECK(t, type == PTYPE_TEXT && source == t->self && is_text(msg, sz, "fill"),
			"unexpected type %d from :%x", type, source);
		if (t->count++ == 0) {
			int i;
			CHECK(t, t->step == 0, "start came before the messages queued in init");
			for (i = 0; i < OVERLOAD_MORE; i++)
				CHECK(t, send_text(t, t->self, "fill") == 0, "can't queue more fill %d", i);
		}
	}
	if (t->step == 1 && t->count == OVERLOAD_FIRST + OVERLOAD_MORE)
		pass(t);
}

/* ---------------------------------------------------------------- modcap */

/* "modcap <n>": launches m00.testsvc, m01.testsvc, ... (copies of this module that
 * core.rs made) until one fails or n succeeded, and reports how many loaded. */
static int
modcap_init(struct testsvc *t, const char *args) {
	CHECK0(t, args && sscanf(args, "%d", &t->expect) == 1, "modcap needs a count");
	return 0;
}

static void
modcap_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	if (is_start(t, type, source, msg, sz)) {
		int loaded;
		for (loaded = 0; loaded < t->expect; loaded++)
			if (launch(t, "m%02d.testsvc idle", loaded) == 0)
				break;
		skynet_error(t->ctx, "modcap loaded=%d", loaded);
		CHECK(t, loaded < t->expect, "all %d modules loaded: no cap", loaded);
		/* the node goes on: a module already loaded launches again, and so does testsvc */
		CHECK(t, launch(t, "m00.testsvc idle") != 0, "relaunching a loaded module failed after the cap");
		CHECK(t, launch(t, "m%02d.testsvc idle", loaded) == 0, "the module over the cap loaded later");
		t->peer = launch(t, "testsvc echo");
		CHECK(t, t->peer != 0, "LAUNCH testsvc echo failed after the cap");
		t->session[0] = skynet_send(t->ctx, 0, t->peer, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "alive", 5);
		CHECK(t, t->session[0] > 0, "send to echo failed");
		return;
	}
	CHECK(t, type == PTYPE_RESPONSE && source == t->peer && session == t->session[0] && is_text(msg, sz, "alive"),
		"bad echo reply: type %d session %d from :%x", type, session, source);
	pass(t);
}

/* ---------------------------------------------------------------- nullcreate */

/* tests/c/nullcreate.c's _create returns NULL: LAUNCH fails (upstream: no instance, no
 * context) and the node goes on */
static void
nullcreate_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	if (is_start(t, type, source, msg, sz)) {
		const char *r = skynet_command(t->ctx, "LAUNCH", "nullcreate");
		CHECK(t, r == NULL, "LAUNCH of a module whose _create returns NULL returned %s", r);
		r = skynet_command(t->ctx, "LAUNCH", "nullcreate again");
		CHECK(t, r == NULL, "second LAUNCH nullcreate returned %s", r);
		t->peer = launch(t, "testsvc echo");
		CHECK(t, t->peer != 0, "LAUNCH testsvc echo failed");
		t->session[0] = skynet_send(t->ctx, 0, t->peer, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "alive", 5);
		CHECK(t, t->session[0] > 0, "send to echo failed");
		return;
	}
	CHECK(t, type == PTYPE_RESPONSE && source == t->peer && session == t->session[0],
		"bad echo reply: type %d session %d from :%x", type, session, source);
	pass(t);
}

/* ---------------------------------------------------------------- wrap */

/* allocates sessions (destination 0, no payload: nothing is sent) until the counter
 * passes 0x7fffffff: each is the previous + 1, and the one after 0x7fffffff is 1 */
static void
wrap_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	int prev, s;
	uint64_t n;
	(void)session;
	if (!is_start(t, type, source, msg, sz))
		return;
	prev = skynet_send(t->ctx, 0, 0, PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
	CHECK(t, prev > 0, "first session %d", prev);
	for (n = 0; prev != 0x7fffffff; n++) {
		s = skynet_send(t->ctx, 0, 0, PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
		if (s != prev + 1) {
			fail(t, "session %d after %d (%llu allocated)", s, prev, (unsigned long long)n);
			return;
		}
		prev = s;
	}
	s = skynet_send(t->ctx, 0, 0, PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
	CHECK(t, s == 1, "the session after 0x7fffffff is %d, not 1", s);
	s = skynet_send(t->ctx, 0, 0, PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
	CHECK(t, s == 2, "the session after the wrap's 1 is %d, not 2", s);
	const char *r = skynet_command(t->ctx, "TIMEOUT", "0");
	CHECK(t, r != NULL && strcmp(r, "3") == 0, "TIMEOUT after the wrap allocated session %s, not 3", r ? r : "NULL");
	pass(t);
}

/* ---------------------------------------------------------------- handover */

/* A callback that frees the message it handles, or hands it on with DONTCOPY, and
 * returns 0: the core must not free that block a second time. The block is charged to
 * the scenario (it allocated it), so a second free shows as the scenario's memory
 * dropping by HANDOVER_SIZE; with the core's accounting off (no jemalloc) only the
 * contents are checked. */

#define HANDOVER_SIZE 65536

static int
taker_init(struct testsvc *t, const char *args) {
	(void)t; (void)args;
	return 0;
}

/* 'F': free the block and say "freed"; 'B': send the block itself back */
static void
taker_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (type != PTYPE_CLIENT || msg == NULL || sz != HANDOVER_SIZE)
		return;
	if (((const char *)msg)[0] == 'F') {
		skynet_free((void *)msg);
		send_text(t, source, "freed");
	} else {
		skynet_send(t->ctx, 0, source, PTYPE_CLIENT | PTYPE_TAG_DONTCOPY, 0, (void *)msg, sz);
	}
}

static int
handover_send(struct testsvc *t, char fill) {
	char *block = skynet_malloc(HANDOVER_SIZE);
	memset(block, fill, HANDOVER_SIZE);
	return skynet_send(t->ctx, 0, t->peer, PTYPE_CLIENT | PTYPE_TAG_DONTCOPY, 0, block, HANDOVER_SIZE);
}

/* the scenario's memory is still at least `base` + `extra` (half a block of slack) */
static int
handover_charged(size_t base, size_t extra) {
	if (base == 0)
		return 1;
	return malloc_current_memory() + HANDOVER_SIZE / 2 > base + extra;
}

static void
handover_cb(struct testsvc *t, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)session;
	if (is_start(t, type, source, msg, sz)) {
		t->peer = launch(t, "testsvc taker");
		CHECK(t, t->peer != 0, "LAUNCH testsvc taker failed");
		/* the figure is clamped at 0: a second free must not hide below it */
		t->ballast = skynet_malloc(2 * HANDOVER_SIZE);
		t->mem = malloc_current_memory();
		CHECK(t, handover_send(t, 'F') == 0, "send of the block to free failed");
		t->step = 1;
	} else if (t->step == 1 && type == PTYPE_TEXT && is_text(msg, sz, "freed")) {
		CHECK(t, handover_charged(t->mem, 0),
			"the block the taker freed was freed again: memory %zu, was %zu", malloc_current_memory(), t->mem);
		t->mem = malloc_current_memory();
		CHECK(t, handover_send(t, 'B') == 0, "send of the block to bounce failed");
		t->step = 2;
	} else if (t->step == 2 && type == PTYPE_CLIENT && source == t->peer) {
		CHECK(t, sz == HANDOVER_SIZE, "the bounced block has %zu bytes", sz);
		const char *p = msg;
		for (size_t i = 0; i < sz; i++)
			CHECK(t, p[i] == 'B', "the bounced block is garbled at byte %zu", i);
		CHECK(t, handover_charged(t->mem, HANDOVER_SIZE),
			"the block the taker sent on was freed behind it: memory %zu, was %zu", malloc_current_memory(), t->mem);
		skynet_free(t->ballast);
		pass(t);
	}
}

/* ---------------------------------------------------------------- module entry points */

static const struct role roles[] = {
	{ "echo", echo_init, echo_cb, 0 },
	{ "idle", idle_init, idle_cb, 0 },
	{ "flood", flood_init, flood_cb, 0 },
	{ "exitfirst", exitfirst_init, exitfirst_cb, 0 },
	{ "namedkid", namedkid_init, idle_cb, 0 },
	{ "whoinit", whoinit_init, idle_cb, 0 },
	{ "badinit", badinit_init, badinit_cb, 0 },
	{ "sigtarget", sigtarget_init, sigtarget_cb, 0 },
	{ "spin", spin_init, spin_cb, 0 },
	{ "sleeper", sleeper_init, idle_cb, 0 },
	{ "taker", taker_init, taker_cb, 0 },
	{ "pingpong", scenario_init, pingpong_cb, 1 },
	{ "reentry", scenario_init, reentry_cb, 1 },
	{ "deadcall", scenario_init, deadcall_cb, 1 },
	{ "names", scenario_init, names_cb, 1 },
	{ "timeout", scenario_init, timeout_cb, 1 },
	{ "monitor", scenario_init, monitor_cb, 1 },
	{ "formats", scenario_init, formats_cb, 1 },
	{ "badmodule", scenario_init, badmodule_cb, 1 },
	{ "failinit", scenario_init, failinit_cb, 1 },
	{ "signal", scenario_init, signal_cb, 1 },
	{ "endless", endless_init, endless_cb, 1 },
	{ "logon", scenario_init, logon_cb, 1 },
	{ "abort", scenario_init, abort_cb, 1 },
	{ "lastexit", scenario_init, lastexit_cb, 1 },
	{ "overload", overload_init, overload_cb, 1 },
	{ "modcap", modcap_init, modcap_cb, 1 },
	{ "nullcreate", scenario_init, nullcreate_cb, 1 },
	{ "wrap", scenario_init, wrap_cb, 1 },
	{ "handover", scenario_init, handover_cb, 1 },
	{ NULL, NULL, NULL, 0 },
};

static int
dispatch(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct testsvc *t = ud;
	(void)ctx;
	if (t->done)
		return 0;
	if (t->watchdog && type == PTYPE_RESPONSE && source == 0 && session == t->watchdog) {
		fail(t, "watchdog: still waiting (step %d, count %d of %d, sent %d)", t->step, t->count, t->expect, t->sent);
		return 0;
	}
	t->role->cb(t, type, session, source, msg, sz);
	return 0;
}

struct testsvc *
testsvc_create(void) {
	struct testsvc *t = skynet_malloc(sizeof(*t));
	memset(t, 0, sizeof(*t));
	atomic_init(&t->inside, 0);
	atomic_init(&t->nsig, 0);
	return t;
}

void
testsvc_release(struct testsvc *t) {
	fprintf(stderr, "testsvc: release %s :%08x\n", t->role ? t->role->name : "?", t->self);
	skynet_free(t);
}

/* called on the SIGNAL caller's thread, maybe while the service runs */
void
testsvc_signal(struct testsvc *t, int sig) {
	int i = atomic_fetch_add(&t->nsig, 1);
	if (i < 8) {
		t->sig[i] = sig;
		t->sig_thread[i] = skynet_current_handle();
	}
}

int
testsvc_init(struct testsvc *t, struct skynet_context *ctx, const char *parm) {
	static const struct role unknown = { "testsvc", NULL, NULL, 0 };
	char name[32];
	const char *args = NULL;
	int i;

	t->ctx = ctx;
	t->role = &unknown;
	t->self = parse_handle(skynet_command(ctx, "REG", NULL));
	if (parm == NULL || sscanf(parm, "%31s", name) != 1) {
		fail(t, "no role given");
		return 1;
	}
	args = parm + strspn(parm, " \t");
	args += strlen(name);
	args += strspn(args, " \t");
	if (*args == '\0')
		args = NULL;
	for (i = 0; roles[i].name; i++)
		if (strcmp(roles[i].name, name) == 0)
			break;
	if (roles[i].name == NULL) {
		fail(t, "unknown role %s", name);
		return 1;
	}
	t->role = &roles[i];
	skynet_callback(ctx, t, dispatch);
	if (t->role->init(t, args) != 0)
		return 1;
	if (t->role->scenario) {
		const char *r = skynet_command(ctx, "TIMEOUT", WATCHDOG_CS);
		t->watchdog = r ? atoi(r) : 0;
		send_text(t, t->self, "start");
	}
	return 0;
}

/*
 * logger: the service every skynet_error ends up in. Text messages go to
 * stdout, or to a file (with a timestamp) when the `logger` config key names
 * one. A PTYPE_SYSTEM message (the core sends it on SIGHUP) reopens the file
 * so that an external rotation takes effect.
 */

#include "skynet.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct logger {
	FILE *f;
	char *filename;		/* NULL when writing to stdout */
	uint32_t starttime;	/* wall clock seconds when the core started */
};

struct logger *
logger_create(void) {
	struct logger *inst = skynet_malloc(sizeof(*inst));
	inst->f = NULL;
	inst->filename = NULL;
	inst->starttime = 0;
	return inst;
}

void
logger_release(struct logger *inst) {
	if (inst->filename && inst->f)
		fclose(inst->f);
	skynet_free(inst->filename);
	skynet_free(inst);
}

/* skynet_now() is in centiseconds since start; the core never changes STARTTIME */
static void
write_timestamp(struct logger *inst) {
	uint64_t now = skynet_now();
	time_t ti = (time_t)(inst->starttime + now / 100);
	struct tm tm;
	char buf[64];
	localtime_r(&ti, &tm);
	strftime(buf, sizeof(buf), "%d/%m/%y %H:%M:%S", &tm);
	fprintf(inst->f, "%s.%02d ", buf, (int)(now % 100));
}

static void
write_text(struct logger *inst, uint32_t source, const void *msg, size_t sz) {
	if (inst->f == NULL)
		return;	/* a failed reopen: drop until the next one works */
	if (inst->filename)
		write_timestamp(inst);
	fprintf(inst->f, "[:%08x] ", source);
	fwrite(msg, 1, sz, inst->f);
	fputc('\n', inst->f);
	fflush(inst->f);
}

static void
reopen(struct logger *inst) {
	if (inst->filename == NULL)
		return;
	if (inst->f)
		inst->f = freopen(inst->filename, "a", inst->f);
	else
		inst->f = fopen(inst->filename, "a");
}

static int
logger_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	struct logger *inst = ud;
	(void)ctx;
	(void)session;
	if (type == PTYPE_TEXT)
		write_text(inst, source, msg, sz);
	else if (type == PTYPE_SYSTEM)
		reopen(inst);
	return 0;
}

int
logger_init(struct logger *inst, struct skynet_context *ctx, const char *parm) {
	const char *start = skynet_command(ctx, "STARTTIME", NULL);
	inst->starttime = start ? (uint32_t)strtoul(start, NULL, 10) : 0;
	if (parm == NULL) {
		inst->f = stdout;
	} else {
		size_t n = strlen(parm) + 1;
		inst->f = fopen(parm, "a");
		if (inst->f == NULL)
			return 1;
		/* kept for the SIGHUP reopen */
		inst->filename = skynet_malloc(n);
		memcpy(inst->filename, parm, n);
	}
	skynet_callback(ctx, inst, logger_cb);
	return 0;
}

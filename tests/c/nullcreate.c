/*
 * nullcreate: a C service module whose _create returns NULL, for tests/core.rs.
 * The core must give up on the launch without calling _init or _release.
 */

#include "skynet.h"

#include <stdio.h>

void *
nullcreate_create(void) {
	return NULL;
}

int
nullcreate_init(void *inst, struct skynet_context *ctx, const char *parm) {
	(void)inst;
	(void)parm;
	skynet_error(ctx, "nullcreate: init called on instance %p", inst);
	return 0;
}

void
nullcreate_release(void *inst) {
	fprintf(stderr, "nullcreate: release called on instance %p\n", inst);
}

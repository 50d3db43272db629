/* A C service module without noinit_init: the core must refuse to launch it. */
#include "skynet.h"

void *
noinit_create(void) {
	return skynet_malloc(1);
}

void
noinit_release(void *inst) {
	skynet_free(inst);
}

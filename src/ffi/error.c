/* The variadic half of skynet_error: C formats the message, Rust routes it to the logger. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skynet.h"

/* Implemented in src/ffi/core.rs: delivers `len` bytes of `msg` (not NUL-terminated). */
void skynet_error_forward(struct skynet_context *context, const char *msg, size_t len);

#define SHORT_MESSAGE 256

void
skynet_error(struct skynet_context *context, const char *msg, ...) {
	va_list ap;
	if (msg == NULL) {
		skynet_error_forward(context, "(null)", 6);
		return;
	}
	va_start(ap, msg);
	if (strcmp(msg, "%*s") == 0) {
		/* Fast path used by lua-skynet: exact length, embedded NULs kept. */
		int len = va_arg(ap, int);
		const char *s = va_arg(ap, const char *);
		va_end(ap);
		skynet_error_forward(context, s, len > 0 ? (size_t)len : 0);
		return;
	}
	char tmp[SHORT_MESSAGE];
	int len = vsnprintf(tmp, sizeof(tmp), msg, ap);
	va_end(ap);
	if (len < 0) {
		return;
	}
	if (len < SHORT_MESSAGE) {
		skynet_error_forward(context, tmp, (size_t)len);
		return;
	}
	char *big = malloc((size_t)len + 1);
	if (big == NULL) {
		skynet_error_forward(context, tmp, SHORT_MESSAGE - 1);
		return;
	}
	va_start(ap, msg);
	vsnprintf(big, (size_t)len + 1, msg, ap);
	va_end(ap);
	skynet_error_forward(context, big, (size_t)len);
	free(big);
}

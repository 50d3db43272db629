#ifndef socket_buffer_h
#define socket_buffer_h

#include <stdlib.h>

/* how the core treats socket_sendbuffer.buffer */
#define SOCKET_BUFFER_MEMORY 0		/* malloc'ed; the core takes it and frees it */
#define SOCKET_BUFFER_OBJECT 1		/* user object (no interface is registered) */
#define SOCKET_BUFFER_RAWPOINTER 2	/* borrowed; the core copies what it can't write at once */

struct socket_sendbuffer {
	int id;
	int type;
	const void *buffer;
	size_t sz;
};

#endif

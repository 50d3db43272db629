/*
 * Compile-only ABI check: includes every public header, pins the struct
 * layouts the core shares with C plug-ins, and references every function the
 * executable must export. Built as a shared object and never run; its
 * undefined symbols (nm -u) are the export list, kept in abi_symbols.txt.
 */

#include "skynet.h"
#include "skynet_malloc.h"
#include "skynet_socket.h"
#include "socket_info.h"
#include "socket_buffer.h"
#include "skynet_harbor.h"
#include "skynet_handle.h"
#include "skynet_env.h"
#include "malloc_hook.h"
#include "mem_info.h"
#include "atomic.h"
#include "spinlock.h"
#include "rwlock.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CHECK_SIZE(t, n) _Static_assert(sizeof(t) == (n), "sizeof " #t)
#define CHECK_ALIGN(t, n) _Static_assert(_Alignof(t) == (n), "alignof " #t)
#define CHECK_OFF(t, f, n) _Static_assert(offsetof(t, f) == (n), "offsetof " #t "." #f)

/* socket message: the core mallocs it, the plug-in reads it */
CHECK_SIZE(struct skynet_socket_message, 24);
CHECK_ALIGN(struct skynet_socket_message, 8);
CHECK_OFF(struct skynet_socket_message, type, 0);
CHECK_OFF(struct skynet_socket_message, id, 4);
CHECK_OFF(struct skynet_socket_message, ud, 8);
CHECK_OFF(struct skynet_socket_message, buffer, 16);

CHECK_SIZE(struct socket_sendbuffer, 24);
CHECK_OFF(struct socket_sendbuffer, id, 0);
CHECK_OFF(struct socket_sendbuffer, type, 4);
CHECK_OFF(struct socket_sendbuffer, buffer, 8);
CHECK_OFF(struct socket_sendbuffer, sz, 16);

CHECK_SIZE(struct socket_info, 200);
CHECK_ALIGN(struct socket_info, 8);
CHECK_OFF(struct socket_info, id, 0);
CHECK_OFF(struct socket_info, type, 4);
CHECK_OFF(struct socket_info, opaque, 8);
CHECK_OFF(struct socket_info, read, 16);
CHECK_OFF(struct socket_info, write, 24);
CHECK_OFF(struct socket_info, rtime, 32);
CHECK_OFF(struct socket_info, wtime, 40);
CHECK_OFF(struct socket_info, wbuffer, 48);
CHECK_OFF(struct socket_info, reading, 56);
CHECK_OFF(struct socket_info, writing, 57);
CHECK_OFF(struct socket_info, name, 58);
CHECK_OFF(struct socket_info, next, 192);

CHECK_SIZE(struct remote_name, 20);
CHECK_ALIGN(struct remote_name, 4);
CHECK_OFF(struct remote_name, name, 0);
CHECK_OFF(struct remote_name, handle, 16);

CHECK_SIZE(struct remote_message, 48);
CHECK_ALIGN(struct remote_message, 8);
CHECK_OFF(struct remote_message, destination, 0);
CHECK_OFF(struct remote_message, message, 24);
CHECK_OFF(struct remote_message, sz, 32);
CHECK_OFF(struct remote_message, type, 40);

CHECK_SIZE(MemInfo, 32);
CHECK_SIZE(AtomicMemInfo, 128);
CHECK_ALIGN(AtomicMemInfo, 64);
CHECK_OFF(AtomicMemInfo, alloc, 0);
CHECK_OFF(AtomicMemInfo, free, 64);

/* values that Lua code and plug-ins hard-code */
_Static_assert(PTYPE_TEXT == 0 && PTYPE_RESPONSE == 1 && PTYPE_MULTICAST == 2, "ptype");
_Static_assert(PTYPE_CLIENT == 3 && PTYPE_SYSTEM == 4 && PTYPE_HARBOR == 5, "ptype");
_Static_assert(PTYPE_SOCKET == 6 && PTYPE_ERROR == 7, "ptype");
_Static_assert(PTYPE_RESERVED_QUEUE == 8 && PTYPE_RESERVED_DEBUG == 9, "ptype");
_Static_assert(PTYPE_RESERVED_LUA == 10 && PTYPE_RESERVED_SNAX == 11, "ptype");
_Static_assert(PTYPE_TAG_DONTCOPY == 0x10000 && PTYPE_TAG_ALLOCSESSION == 0x20000, "ptype tag");
_Static_assert(SKYNET_SOCKET_TYPE_DATA == 1 && SKYNET_SOCKET_TYPE_CONNECT == 2, "socket type");
_Static_assert(SKYNET_SOCKET_TYPE_CLOSE == 3 && SKYNET_SOCKET_TYPE_ACCEPT == 4, "socket type");
_Static_assert(SKYNET_SOCKET_TYPE_ERROR == 5 && SKYNET_SOCKET_TYPE_UDP == 6, "socket type");
_Static_assert(SKYNET_SOCKET_TYPE_WARNING == 7, "socket type");
_Static_assert(SOCKET_BUFFER_MEMORY == 0 && SOCKET_BUFFER_OBJECT == 1 && SOCKET_BUFFER_RAWPOINTER == 2, "buffer");
_Static_assert(SOCKET_INFO_UNKNOWN == 0 && SOCKET_INFO_LISTEN == 1 && SOCKET_INFO_TCP == 2, "info");
_Static_assert(SOCKET_INFO_UDP == 3 && SOCKET_INFO_BIND == 4 && SOCKET_INFO_CLOSING == 5, "info");
_Static_assert(GLOBALNAME_LENGTH == 16 && REMOTE_MAX == 256, "harbor");
_Static_assert(HANDLE_MASK == 0xffffff && HANDLE_REMOTE_SHIFT == 24, "handle");
_Static_assert(CACHE_LINE_SIZE == 64, "cache line");

/* the callback type must stay assignable from a plug-in's own function */
static int
cb_sample(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg, size_t sz) {
	(void)ctx; (void)ud; (void)type; (void)session; (void)source; (void)msg; (void)sz;
	return 0;
}

typedef void (*abi_fn)(void);
#define SYM(f) { #f, (abi_fn)(f) }

/* one entry per export; the names mirror abi_symbols.txt line for line */
const struct { const char *name; abi_fn fn; } abi_exports[] = {
	SYM(skynet_callback),
	SYM(skynet_command),
	SYM(skynet_error),
	SYM(skynet_send),
	SYM(skynet_sendname),
	SYM(skynet_queryname),
	SYM(skynet_isremote),
	SYM(skynet_now),
	SYM(skynet_lalloc),
	SYM(skynet_harbor_start),
	SYM(skynet_socket_sendbuffer),
	SYM(skynet_socket_sendbuffer_lowpriority),
	SYM(skynet_socket_listen),
	SYM(skynet_socket_connect),
	SYM(skynet_socket_bind),
	SYM(skynet_socket_close),
	SYM(skynet_socket_shutdown),
	SYM(skynet_socket_start),
	SYM(skynet_socket_pause),
	SYM(skynet_socket_nodelay),
	SYM(skynet_socket_udp),
	SYM(skynet_socket_udp_connect),
	SYM(skynet_socket_udp_dial),
	SYM(skynet_socket_udp_listen),
	SYM(skynet_socket_udp_sendbuffer),
	SYM(skynet_socket_udp_address),
	SYM(skynet_socket_info),
	SYM(socket_info_release),
	SYM(malloc_used_memory),
	SYM(malloc_memory_block),
	SYM(memory_info_dump),
	SYM(mallctl_int64),
	SYM(mallctl_bool),
	SYM(mallctl_cmd),
	SYM(dump_c_mem),
	SYM(dump_mem_lua),
	SYM(malloc_current_memory),
	/* declared in public headers but used by no upstream plug-in */
	SYM(skynet_current_handle),
	SYM(skynet_debug_memory),
	SYM(mallctl_opt),
	SYM(socket_info_create),
	SYM(skynet_strdup),
};

_Static_assert(sizeof(abi_exports) / sizeof(abi_exports[0]) == 42, "37 used + 5 declared");

static int
touch_core(struct skynet_context *ctx) {
	int harbor = 0;
	int r = 0;
	char *text = skynet_strdup("x");
	skynet_callback(ctx, NULL, cb_sample);
	skynet_error(ctx, "%*s", 1, text);
	skynet_error(ctx, "%s %d", text, 1);
	r += skynet_command(ctx, "REG", NULL) != NULL;
	r += (int)skynet_queryname(ctx, ".x");
	r += skynet_send(ctx, 0, 1, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, text, 1);
	r += skynet_sendname(ctx, 0, ".x", PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
	r += skynet_isremote(ctx, 0x01000001, &harbor) + harbor;
	r += (int)skynet_current_handle();
	r += (int)skynet_now();
	skynet_debug_memory("abi");
	skynet_harbor_start(ctx);
	skynet_free(skynet_lalloc(NULL, 0, 16));
	return r;
}

static int
touch_socket(struct skynet_context *ctx) {
	struct socket_sendbuffer sb = { 1, SOCKET_BUFFER_RAWPOINTER, "x", 1 };
	struct skynet_socket_message msg = { SKYNET_SOCKET_TYPE_UDP, 1, 0, NULL };
	struct socket_info *si;
	int addrsz = 0;
	int r = 0;
	r += skynet_socket_sendbuffer(ctx, &sb);
	r += skynet_socket_sendbuffer_lowpriority(ctx, &sb);
	r += skynet_socket_listen(ctx, "0.0.0.0", 8888, 128);
	r += skynet_socket_connect(ctx, "127.0.0.1", 8888);
	r += skynet_socket_bind(ctx, 0);
	skynet_socket_close(ctx, 1);
	skynet_socket_shutdown(ctx, 1);
	skynet_socket_start(ctx, 1);
	skynet_socket_pause(ctx, 1);
	skynet_socket_nodelay(ctx, 1);
	r += skynet_socket_udp(ctx, NULL, 0);
	r += skynet_socket_udp_connect(ctx, 1, "127.0.0.1", 9);
	r += skynet_socket_udp_dial(ctx, "127.0.0.1", 9);
	r += skynet_socket_udp_listen(ctx, "0.0.0.0", 9);
	r += skynet_socket_udp_sendbuffer(ctx, "\x01\0\x09\x7f\0\0\x01", &sb);
	r += skynet_socket_udp_address(&msg, &addrsz) != NULL;
	/* the legacy inline wrappers */
	r += skynet_socket_send(ctx, 1, skynet_malloc(1), 1);
	r += skynet_socket_send_lowpriority(ctx, 1, skynet_malloc(1), 1);
	r += skynet_socket_udp_send(ctx, 1, "\x01\0\x09\x7f\0\0\x01", "x", 1);
	si = skynet_socket_info();
	si = socket_info_create(si);
	r += si->type + (int)si->opaque;
	socket_info_release(si);
	return r + addrsz;
}

static int
touch_memory(lua_State *L) {
	bool active = true;
	size_t v = 0;
	int n = 0;
	size_t r = malloc_used_memory() + malloc_memory_block() + malloc_current_memory();
	memory_info_dump(NULL);
	r += mallctl_int64("stats.allocated", &v);
	r += (size_t)mallctl_opt("opt.x", &n);
	r += mallctl_bool("prof.active", &active);
	r += (size_t)mallctl_cmd("prof.dump");
	dump_c_mem();
	r += (size_t)dump_mem_lua(L);
	return (int)r;
}

/* header-only pieces: they must compile, and they must work when run */
struct locked {
	struct spinlock lock;
	struct rwlock rw;
	ATOM_INT i;
	ATOM_SIZET z;
	ATOM_ULONG u;
	ATOM_POINTER p;
	int value;
};

int
abi_header_only(void) {
	struct locked l;
	int r;
	SPIN_INIT(&l)
	ATOM_INIT(&l.i, 0);
	ATOM_INIT(&l.z, 0);
	ATOM_INIT(&l.u, 0);
	ATOM_INIT(&l.p, 0);
	rwlock_init(&l.rw);
	SPIN_LOCK(&l)
	r = spinlock_trylock(&l.lock);	/* 0: already held */
	SPIN_UNLOCK(&l)
	r += spinlock_trylock(&l.lock) * 2;	/* 1: free again */
	SPIN_UNLOCK(&l)
	SPIN_DESTROY(&l)
	rwlock_rlock(&l.rw);
	rwlock_runlock(&l.rw);
	rwlock_wlock(&l.rw);
	l.value = 7;
	rwlock_wunlock(&l.rw);
	r += ATOM_FINC(&l.i) * 4;	/* old value 0 */
	r += ATOM_CAS(&l.i, 1, 5) * 8;
	r += (int)ATOM_FADD(&l.z, 3) + ATOM_CAS_SIZET(&l.z, 3, 4) * 16;
	r += (int)ATOM_FSUB(&l.u, 0) + ATOM_CAS_ULONG(&l.u, 0, 1) * 32;
	r += ATOM_CAS_POINTER(&l.p, 0, (uintptr_t)&l) * 64;
	ATOM_FDEC(&l.i);
	ATOM_FAND(&l.i, 1);
	ATOM_STORE(&l.i, ATOM_LOAD(&l.i) + l.value);
	return r;	/* 2+8+16+32+64 = 122 */
}

/* a plug-in building a socket_sendbuffer by hand must agree with the inline helper */
int
abi_sendbuffer_init(void) {
	struct socket_sendbuffer a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	sendbuffer_init_(&a, 3, "ab", 2);
	sendbuffer_init_(&b, 3, "ab", -1);
	return a.type == SOCKET_BUFFER_MEMORY && a.sz == 2 && a.id == 3
		&& b.type == SOCKET_BUFFER_OBJECT && b.sz == (size_t)-1;
}

/* never called: only makes each prototype type-check against a real call */
int
abi_touch_all(struct skynet_context *ctx, lua_State *L) {
	return touch_core(ctx) + touch_socket(ctx) + touch_memory(L);
}

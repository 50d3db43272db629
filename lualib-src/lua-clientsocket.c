/*
 * client.socket: a minimal blocking/non-blocking TCP helper for the
 * command-line demo clients (examples/client.lua), run by a plain Lua
 * interpreter outside skynet. Not meant for production clients.
 */

#define LUA_LIB

#include <lua.h>
#include <lauxlib.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define RECV_CHUNK 0x1000

/* connect(host, port) -> fd (non-blocking once connected) */
static int
lconnect(lua_State *L) {
	const char *host = luaL_checkstring(L, 1);
	int port = (int)luaL_checkinteger(L, 2);
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	struct addrinfo hints;
	struct addrinfo *list = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int fd = -1;
	if (getaddrinfo(host, service, &hints, &list) == 0) {
		struct addrinfo *ai;
		for (ai = list; ai && fd < 0; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
			if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
				close(fd);
				fd = -1;
			}
		}
		freeaddrinfo(list);
	}
	if (fd < 0)
		return luaL_error(L, "Connect %s %d failed", host, port);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
	lua_pushinteger(L, fd);
	return 1;
}

static int
lclose(lua_State *L) {
	close((int)luaL_checkinteger(L, 1));
	return 0;
}

/* send(fd, string): returns once every byte is written */
static int
lsend(lua_State *L) {
	int fd = (int)luaL_checkinteger(L, 1);
	size_t len;
	const char *p = luaL_checklstring(L, 2, &len);
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pfd = { fd, POLLOUT, 0 };
			poll(&pfd, 1, -1);
		} else if (errno != EINTR) {
			return luaL_error(L, "socket error: %s", strerror(errno));
		}
	}
	return 0;
}

/* recv(fd) -> data | "" when the peer closed | nothing when no data is ready */
static int
lrecv(lua_State *L) {
	int fd = (int)luaL_checkinteger(L, 1);
	char buf[RECV_CHUNK];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		return luaL_error(L, "socket error: %s", strerror(errno));
	}
	lua_pushlstring(L, buf, (size_t)n);
	return 1;
}

/* shutdown(fd, "r" | "w" | "rw") */
static int
lshutdown(lua_State *L) {
	int fd = (int)luaL_checkinteger(L, 1);
	const char *mode = luaL_checkstring(L, 2);
	int rd = 0, wr = 0;
	const char *c;
	for (c = mode; *c; c++) {
		if (*c == 'r')
			rd = 1;
		else if (*c == 'w')
			wr = 1;
		else
			return luaL_error(L, "Invalid mode %c", *c);
	}
	if (!rd && !wr)
		return luaL_error(L, "mode should be r or/and w");
	shutdown(fd, rd && wr ? SHUT_RDWR : (rd ? SHUT_RD : SHUT_WR));
	return 0;
}

static int
lusleep(lua_State *L) {
	lua_Number us = luaL_checknumber(L, 1);
	if (us > 0)
		usleep((useconds_t)us);
	return 0;
}

/*
 * Lines of stdin, read by a background thread so that the client's loop never
 * blocks on the terminal. One reader per process, alive for the whole process
 * (it outlives any Lua state, so its data is never freed).
 */
struct line {
	struct line *next;
	size_t len;
	char text[];
};

static struct {
	pthread_mutex_t lock;
	struct line *first;
	struct line *last;
	int ended;	/* 0 while reading, 1 at end of input, 2 on a read error */
} stdin_lines = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0 };

static void *
read_stdin(void *arg) {
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	(void)arg;
	while ((n = getline(&buf, &cap, stdin)) >= 0) {
		if (n > 0 && buf[n - 1] == '\n')
			n--;
		struct line *ln = malloc(sizeof(*ln) + (size_t)n);
		if (ln == NULL)
			break;
		ln->next = NULL;
		ln->len = (size_t)n;
		memcpy(ln->text, buf, (size_t)n);
		pthread_mutex_lock(&stdin_lines.lock);
		if (stdin_lines.last)
			stdin_lines.last->next = ln;
		else
			stdin_lines.first = ln;
		stdin_lines.last = ln;
		pthread_mutex_unlock(&stdin_lines.lock);
	}
	pthread_mutex_lock(&stdin_lines.lock);
	stdin_lines.ended = ferror(stdin) ? 2 : 1;
	pthread_mutex_unlock(&stdin_lines.lock);
	free(buf);
	return NULL;
}

static pthread_once_t reader_once = PTHREAD_ONCE_INIT;

static void
start_reader(void) {
	pthread_t tid;
	if (pthread_create(&tid, NULL, read_stdin, NULL) == 0)
		pthread_detach(tid);
}

/*
 * readstdin() -> the next line (without its newline), or nothing if none is
 * ready. Once stdin has ended and every line was taken, the client exits, as
 * upstream's client does at the end of its input.
 */
static int
lreadstdin(lua_State *L) {
	pthread_mutex_lock(&stdin_lines.lock);
	struct line *ln = stdin_lines.first;
	if (ln) {
		stdin_lines.first = ln->next;
		if (stdin_lines.first == NULL)
			stdin_lines.last = NULL;
	}
	int ended = stdin_lines.ended;
	pthread_mutex_unlock(&stdin_lines.lock);
	if (ln == NULL) {
		if (ended)
			exit(ended == 1 ? 0 : 1);
		return 0;
	}
	lua_pushlstring(L, ln->text, ln->len);
	free(ln);
	return 1;
}

LUAMOD_API int
luaopen_client_socket(lua_State *L) {
	luaL_checkversion(L);
	luaL_Reg funcs[] = {
		{ "connect", lconnect },
		{ "recv", lrecv },
		{ "send", lsend },
		{ "shutdown", lshutdown },
		{ "close", lclose },
		{ "usleep", lusleep },
		{ "readstdin", lreadstdin },
		{ NULL, NULL },
	};
	luaL_newlib(L, funcs);
	pthread_once(&reader_once, start_reader);
	return 1;
}

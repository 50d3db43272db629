/*
 * Load generator for the gate echo benchmark: opens <conns> connections to host:port, each
 * sending one 2-byte length-prefixed request and waiting for its echo, for <seconds>.
 * Prints "ECHO conns=<n> requests=<n> rps=<r> p50_us=<x> p99_us=<y>".
 *
 *   echo_client 127.0.0.1 8888 100 5
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 64
#define MAX_SAMPLES (1 << 22)

struct conn {
	int fd;
	double sent;
	size_t got;
	unsigned char buf[PAYLOAD + 2];
};

static double
now_us(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int
send_request(struct conn *c) {
	unsigned char req[PAYLOAD + 2];
	req[0] = 0;
	req[1] = PAYLOAD;
	memset(req + 2, 'x', PAYLOAD);
	c->got = 0;
	c->sent = now_us();
	return write(c->fd, req, sizeof(req)) == (ssize_t)sizeof(req) ? 0 : -1;
}

int
main(int argc, char *argv[]) {
	if (argc != 5) {
		fprintf(stderr, "usage: %s host port conns seconds\n", argv[0]);
		return 1;
	}
	int nconn = atoi(argv[3]);
	double seconds = atof(argv[4]);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	inet_pton(AF_INET, argv[1], &addr.sin_addr);
	int ep = epoll_create1(0);
	struct conn *conns = calloc(nconn, sizeof(*conns));
	double *samples = malloc(sizeof(double) * MAX_SAMPLES);
	long nsamples = 0, requests = 0;
	for (int i = 0; i < nconn; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
			perror("connect");
			return 1;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conns[i].fd = fd;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	double start = now_us(), end = start + seconds * 1e6;
	for (int i = 0; i < nconn; i++)
		send_request(&conns[i]);
	struct epoll_event events[256];
	while (now_us() < end) {
		int n = epoll_wait(ep, events, 256, 100);
		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;
			ssize_t r = read(c->fd, c->buf + c->got, sizeof(c->buf) - c->got);
			if (r <= 0) {
				fprintf(stderr, "connection closed by server\n");
				return 1;
			}
			c->got += r;
			if (c->got == sizeof(c->buf)) {
				if (nsamples < MAX_SAMPLES)
					samples[nsamples++] = now_us() - c->sent;
				requests++;
				send_request(c);
			}
		}
	}
	double elapsed = (now_us() - start) / 1e6;
	qsort(samples, nsamples, sizeof(double), cmp_double);
	double p50 = nsamples ? samples[nsamples / 2] : 0;
	double p99 = nsamples ? samples[(long)(nsamples * 0.99)] : 0;
	printf("ECHO conns=%d requests=%ld rps=%.0f p50_us=%.0f p99_us=%.0f\n", nconn, requests, requests / elapsed, p50, p99);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Creates the SO_REUSEPORT listening sockets that wsbench-echo's workers hand
 * to libwebsockets as raw file descriptors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "macro.h"

/* Large enough for connection bursts (the 100-client scenario connects at
 * once); the kernel clamps it to net.core.somaxconn. */
#define LISTEN_BACKLOG 4096

static int address_parse(const char *host, uint16_t port, struct sockaddr_storage *ss,
                         socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

static int bound_port(int fd, uint16_t *ret_port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6)
		*ret_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		*ret_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

int listener_open(const char *host, uint16_t port, uint16_t *ret_port)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, r;

	r = address_parse(host, port, &ss, &len);
	if (r < 0)
		return r;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	if (listen(fd, LISTEN_BACKLOG) < 0)
		return -errno;
	r = bound_port(fd, ret_port);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

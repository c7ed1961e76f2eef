/* linkwatch: see linkwatch.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "linkwatch.h"

#define LINKWATCH_BUF	(32 * 1024)

int
linkwatch_open(char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
	    .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "link events: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
linkwatch_read(int fd)
{
	char buf[LINKWATCH_BUF];
	int changed = 0;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			changed = 1;	/* lost some: look again anyway */
			continue;
		}
		if (n <= 0)
			return changed;
		/* Every message of this group is about a link. */
		changed = 1;
	}
}

void
linkwatch_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

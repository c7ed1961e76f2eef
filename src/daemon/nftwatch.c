/* nftwatch: nf_tables events about table inet gatekeeper (I/O).
 *
 * Deleting a table emits DEL events for its rules, sets and chain, then
 * DELTABLE.  Our own atomic replace (reload) does that too, followed by the
 * new table, so a DELTABLE only asks "is it there?"; DEL events for our
 * table without a DELTABLE mean somebody removed parts of it. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nftwatch.h"
#include "rules.h"

#define NFTWATCH_BUF	(64 * 1024)
#define NFTWATCH_RCVBUF	(4 * 1024 * 1024)

/* Every DEL message of these types names its table in attribute 1
 * (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE,
 * NFTA_SET_ELEM_LIST_TABLE). */
#define ATTR_TABLE 1

struct seen {
	int table_deleted;
	int part_deleted;
};

int
nftwatch_open(char *err, size_t errlen)
{
	int fd, group = NFNLGRP_NFTABLES, size = NFTWATCH_RCVBUF;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_NETFILTER);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
	    sizeof(group)) < 0) {
		snprintf(err, errlen, "nft events: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Big enough for a flush of a large ruleset; overruns are handled. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fd;
}

static int
is_delete(uint16_t type)
{
	switch (type) {
	case NFT_MSG_DELTABLE:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_DELRULE:
	case NFT_MSG_DELSET:
	case NFT_MSG_DELSETELEM:
		return 1;
	}
	return 0;
}

static int
table_attr_cb(const struct nlattr *attr, void *data)
{
	const char **name = data;

	if (mnl_attr_get_type(attr) == ATTR_TABLE &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		*name = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

static int
event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *seen = data;
	const struct nfgenmsg *nfg;
	uint16_t type;
	const char *table = NULL;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return MNL_CB_OK;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (!is_delete(type) ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg)))
		return MNL_CB_OK;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != NFPROTO_INET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*nfg), table_attr_cb, &table);
	if (table == NULL || strcmp(table, NFT_TABLE) != 0)
		return MNL_CB_OK;
	if (type == NFT_MSG_DELTABLE)
		seen->table_deleted = 1;
	else
		seen->part_deleted = 1;
	return MNL_CB_OK;
}

enum nftwatch_verdict
nftwatch_read(int fd)
{
	static char buf[NFTWATCH_BUF];
	struct seen seen = { 0, 0 };
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			seen.table_deleted = 1;	/* lost events: look */
			continue;
		}
		if (n <= 0)
			break;
		mnl_cb_run(buf, (size_t)n, 0, 0, event_cb, &seen);
	}
	if (seen.table_deleted)
		return NFTWATCH_CHECK;
	return seen.part_deleted ? NFTWATCH_DAMAGED : NFTWATCH_QUIET;
}

void
nftwatch_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

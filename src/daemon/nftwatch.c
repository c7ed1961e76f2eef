/* nftwatch: nf_tables events about table inet gatekeeper (I/O).
 *
 * Every transaction's events end with a NEWGEN message that names the
 * process that committed it.  Events of our own transactions (an update
 * in place deletes and adds rules and elements) are dropped at their
 * NEWGEN; any other change to our table is reported: a deleted table as
 * CHECK, anything else (rules, chain, sets, elements added or removed) as
 * DAMAGED.  Events of one transaction may span reads: what is pending
 * waits for its NEWGEN. */
#include <arpa/inet.h>
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

#define ATTR_GEN_PROC_PID 2	/* NFTA_GEN_PROC_PID of NEWGEN */

struct seen {
	int table_deleted;	/* committed by somebody else */
	int part_changed;
	int pend_table, pend_part;	/* waiting for their NEWGEN */
};

static struct seen pending_across_reads;

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
is_change(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		return 1;
	}
	return 0;
}

static int
gen_pid_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == ATTR_GEN_PROC_PID &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		*(uint32_t *)data = ntohl(mnl_attr_get_u32(attr));
	return MNL_CB_OK;
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

	uint32_t pid = 0;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg)))
		return MNL_CB_OK;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (type == NFT_MSG_NEWGEN) {
		mnl_attr_parse(nlh, sizeof(*nfg), gen_pid_cb, &pid);
		if (pid != (uint32_t)getpid()) {
			seen->table_deleted |= seen->pend_table;
			seen->part_changed |= seen->pend_part;
		}
		seen->pend_table = seen->pend_part = 0;
		return MNL_CB_OK;
	}
	if (!is_change(type))
		return MNL_CB_OK;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != NFPROTO_INET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*nfg), table_attr_cb, &table);
	if (table == NULL || strcmp(table, NFT_TABLE) != 0)
		return MNL_CB_OK;
	if (type == NFT_MSG_DELTABLE || type == NFT_MSG_NEWTABLE)
		seen->pend_table = 1;
	else
		seen->pend_part = 1;
	return MNL_CB_OK;
}

enum nftwatch_verdict
nftwatch_read(int fd)
{
	static char buf[NFTWATCH_BUF];
	struct seen seen = pending_across_reads;
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
	pending_across_reads.pend_table = seen.pend_table;
	pending_across_reads.pend_part = seen.pend_part;
	if (seen.table_deleted)
		return NFTWATCH_CHECK;
	return seen.part_changed ? NFTWATCH_DAMAGED : NFTWATCH_QUIET;
}

void
nftwatch_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

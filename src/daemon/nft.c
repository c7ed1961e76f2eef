/* nft: gatekeeper's own table over libnftnl and libmnl (I/O).
 *
 * Every change is one nfnetlink transaction: BATCH_BEGIN, the messages,
 * BATCH_END.  Each message asks for an ack, so a failure names the message
 * that caused it.  The kernel handles the whole batch inside sendmsg(), so
 * every ack is already queued when it returns; we read until the socket is
 * empty.  A batch without BATCH_END is validated and aborted: nft_probe()
 * uses that to try a queue statement without committing anything. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netlink.h>

#include "nft.h"
#include "rules.h"

#define NFT_PROBE_TABLE	"gatekeeper_probe"
#define NFT_RECV_BUF	8192		/* one ack or one table per read */
#define NFT_PAGE	(64 * 1024)	/* batch page */
#define NFT_MSG_MAX	(16 * 1024)	/* largest single message */
#define NFT_ELEMS_MSG	256		/* set elements per message */
#define NFT_ACK_COST	1024		/* receive buffer per expected ack */
#define NFT_WHAT_MAX	48

/* Messages in the largest transaction: table (delete + add), chain, the
 * sets with their flush and element chunks, the chain's flush, and every
 * rule (interface, loopback, established, Allow, sets, observation). */
#define NFT_ELEM_MSGS	((RULES_MAX_PORTS + NFT_ELEMS_MSG - 1) / NFT_ELEMS_MSG)
#define NFT_MAX_MSGS	(4 + RULES_NSETS * (2 + NFT_ELEM_MSGS) + \
			 3 + CFG_MAX_ALLOW + RULES_NSETS + RULES_NOBSERVE)

/* One transaction being built, and what each message was for. */
struct tx {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	struct nftnl_batch *batch;
	uint32_t begin_seq;
	int error;			/* errno that stopped building */
	unsigned nmsgs;
	struct {
		uint32_t seq;
		char what[NFT_WHAT_MAX];
	} msg[NFT_MAX_MSGS];
};

/* What the kernel holds under our table name. */
struct owner {
	int found;
	int ours;			/* carries NFT_OWNER_TAG */
	uint64_t handle;
};



/* --- the transaction ---------------------------------------------------- */

static void
tx_close(struct tx *tx)
{
	if (tx == NULL)
		return;
	if (tx->batch != NULL)
		nftnl_batch_free(tx->batch);
	if (tx->nl != NULL)
		mnl_socket_close(tx->nl);
	free(tx);
}

static struct tx *
tx_open(char *err, size_t errlen)
{
	struct tx *tx = calloc(1, sizeof(*tx));
	int one = 1;

	if (tx == NULL) {
		snprintf(err, errlen, "nft: %s", strerror(errno));
		return NULL;
	}
	tx->seq = 1;
	tx->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (tx->nl == NULL ||
	    mnl_socket_bind(tx->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "nft: netlink socket: %s", strerror(errno));
		tx_close(tx);
		return NULL;
	}
	tx->portid = mnl_socket_get_portid(tx->nl);
	/* Acks without a copy of the request: small, so many fit. */
	mnl_socket_setsockopt(tx->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	tx->batch = nftnl_batch_alloc(NFT_PAGE, NFT_MSG_MAX);
	if (tx->batch == NULL) {
		snprintf(err, errlen, "nft: %s", strerror(errno));
		tx_close(tx);
		return NULL;
	}
	tx->begin_seq = tx->seq++;
	nftnl_batch_begin(nftnl_batch_buffer(tx->batch), tx->begin_seq);
	nftnl_batch_update(tx->batch);
	return tx;
}

/* Start message type; the caller adds the payload and calls tx_next().
 * NULL once building has failed (the error sticks in tx->error). */
static struct nlmsghdr *
tx_msg(struct tx *tx, uint16_t type, uint16_t flags, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static struct nlmsghdr *
tx_msg(struct tx *tx, uint16_t type, uint16_t flags, const char *fmt, ...)
{
	va_list ap;

	if (tx->error != 0)
		return NULL;
	if (tx->nmsgs == NFT_MAX_MSGS) {
		tx->error = E2BIG;
		return NULL;
	}
	tx->msg[tx->nmsgs].seq = tx->seq;
	va_start(ap, fmt);
	vsnprintf(tx->msg[tx->nmsgs].what, NFT_WHAT_MAX, fmt, ap);
	va_end(ap);
	tx->nmsgs++;
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(tx->batch), type,
	    NFPROTO_INET, flags | NLM_F_ACK, tx->seq++);
}

static void
tx_next(struct tx *tx)
{
	if (nftnl_batch_update(tx->batch) < 0)
		tx->error = ENOMEM;
}

static const char *
tx_what(const struct tx *tx, uint32_t seq)
{
	for (unsigned i = 0; i < tx->nmsgs; i++)
		if (tx->msg[i].seq == seq)
			return tx->msg[i].what;
	return seq == tx->begin_seq ? "commit" : "transaction";
}

/* Grow a socket buffer to want bytes (the FORCE option needs
 * CAP_NET_ADMIN, which installing rules needs anyway). */
static void
raise_buf(int fd, int opt, int force_opt, size_t want)
{
	int cur = 0, val;
	socklen_t len = sizeof(cur);

	if (getsockopt(fd, SOL_SOCKET, opt, &cur, &len) == 0 &&
	    (size_t)cur >= want)
		return;
	val = want > (size_t)(1 << 30) ? 1 << 30 : (int)want;
	setsockopt(fd, SOL_SOCKET, force_opt, &val, sizeof(val));
}

/* 0, or the errno with err set. */
static int
tx_send(struct tx *tx, char *err, size_t errlen)
{
	int fd = mnl_socket_get_fd(tx->nl);
	int n = nftnl_batch_iovec_len(tx->batch);
	struct iovec *iov = calloc((size_t)n, sizeof(*iov));
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct msghdr mh = { .msg_name = &kernel,
	    .msg_namelen = sizeof(kernel) };
	size_t total = 0;
	int saved;

	if (iov == NULL) {
		snprintf(err, errlen, "nft: %s", strerror(ENOMEM));
		return ENOMEM;
	}
	nftnl_batch_iovec(tx->batch, iov, (uint32_t)n);
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	/* The batch must fit one datagram, and every ack the receive queue. */
	raise_buf(fd, SO_SNDBUF, SO_SNDBUFFORCE, total + 1024);
	raise_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE,
	    (size_t)(tx->nmsgs + 1) * NFT_ACK_COST);
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)n;
	saved = sendmsg(fd, &mh, 0) < 0 ? errno : 0;
	free(iov);
	if (saved != 0)
		snprintf(err, errlen, "nft: sending the batch: %s",
		    strerror(saved));
	return saved;
}

/* Read every ack.  0 when each message was acked without error, else
 * the errno of the first failure, described in err. */
static int
tx_read_acks(struct tx *tx, char *err, size_t errlen)
{
	char buf[NFT_RECV_BUF];
	unsigned acked = 0;
	int first = 0;
	uint32_t first_seq = 0;
	ssize_t n;

	while ((n = recv(mnl_socket_get_fd(tx->nl), buf, sizeof(buf),
	    MSG_DONTWAIT)) != 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			int saved = errno;

			snprintf(err, errlen, "nft: reading acks: %s",
			    strerror(saved));
			return saved;
		}
		for (; mnl_nlmsg_ok(nlh, len);
		    nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
				continue;
			acked++;
			if (e->error != 0 && first == 0) {
				first = -e->error;
				first_seq = e->msg.nlmsg_seq;
			}
		}
	}
	if (first != 0) {
		snprintf(err, errlen, "nft: %s: %s", tx_what(tx, first_seq),
		    strerror(first));
		return first;
	}
	if (acked != tx->nmsgs) {
		snprintf(err, errlen, "nft: the kernel acked %u of %u messages",
		    acked, tx->nmsgs);
		return EPROTO;
	}
	return 0;
}

/* Send the batch; commit it only if asked.  0, or an errno with err set. */
static int
tx_run(struct tx *tx, int commit, char *err, size_t errlen)
{
	int ret;

	if (tx->error == 0 && commit) {
		nftnl_batch_end(nftnl_batch_buffer(tx->batch), tx->seq++);
		tx_next(tx);
	}
	if (tx->error != 0) {
		snprintf(err, errlen, "nft: building the batch: %s",
		    strerror(tx->error));
		return tx->error;
	}
	ret = tx_send(tx, err, errlen);
	return ret != 0 ? ret : tx_read_acks(tx, err, errlen);
}

/* --- expressions: one builder per kind, NULL when out of memory --------- */

static struct nftnl_expr *
e_meta(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return e;
}

static struct nftnl_expr *
e_ct(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	return e;
}

static struct nftnl_expr *
e_payload(uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return e;
}

/* reg1 = reg1 & mask (xor 0): keeps the bits a match looks at. */
static struct nftnl_expr *
e_bitwise(const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	return e;
}

static struct nftnl_expr *
e_cmp(uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return e;
}

/* Set by name, and by id too: the set is created in the same batch. */
static struct nftnl_expr *
e_lookup(const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e == NULL)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set) < 0) {
		nftnl_expr_free(e);
		return NULL;
	}
	return e;
}

static struct nftnl_expr *
e_verdict(int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
		    (uint32_t)verdict);
	}
	return e;
}

/* nft's own queue statement (nft_queue): one queue, no fanout.  Without
 * bypass (every gating rule), packets are dropped while nobody listens;
 * only Scan_Guard's observation rules bypass. */
static struct nftnl_expr *
e_queue_native(uint16_t num, int bypass)
{
	struct nftnl_expr *e = nftnl_expr_alloc("queue");

	if (e != NULL) {
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, num);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
		    bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
	}
	return e;
}

/* The same through nft_compat: xtables' NFQUEUE target, revision 3.
 * nft_compat wants the info padded to XT_ALIGN; libnftnl takes
 * ownership of the heap copy and frees it with the expression. */
static struct nftnl_expr *
e_queue_compat(uint16_t num, int bypass)
{
	struct xt_NFQ_info_v3 *info;
	struct nftnl_expr *e;

	info = calloc(1, XT_ALIGN(sizeof(*info)));
	if (info == NULL)
		return NULL;
	info->queuenum = num;
	info->queues_total = 1;
	info->flags = bypass ? NFQ_FLAG_BYPASS : 0;
	e = nftnl_expr_alloc("target");
	if (e == NULL || nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME,
	    "NFQUEUE") < 0) {
		free(info);
		if (e != NULL)
			nftnl_expr_free(e);
		return NULL;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
	nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, XT_ALIGN(sizeof(*info)));
	return e;
}

static struct nftnl_expr *
e_queue(enum nft_backend be, uint16_t num, int bypass)
{
	return be == NFT_BACKEND_NATIVE ? e_queue_native(num, bypass) :
	    e_queue_compat(num, bypass);
}

/* Append e to r; nonzero when e could not be built. */
static int
put(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e == NULL)
		return -1;
	nftnl_rule_add_expr(r, e);
	return 0;
}

/* --- matches: the expression sequences nft itself emits ----------------- */

/* iifname (==|!=) NAME, as nft encodes it: a name is compared with its
 * zero padding, a prefix "ens*" only over its first bytes. */
static int
match_iifname(struct nftnl_rule *r, uint32_t op, const char *ifname)
{
	char name[CFG_IFNAME_MAX] = { 0 };
	size_t n = strnlen(ifname, sizeof(name) - 1);
	uint32_t len = sizeof(name);

	memcpy(name, ifname, n);
	if (n > 0 && name[n - 1] == '*') {
		name[n - 1] = '\0';
		len = (uint32_t)(n - 1);
	}
	return put(r, e_meta(NFT_META_IIFNAME)) ||
	    put(r, e_cmp(op, name, len));
}

/* ct state is a bitmask in host order: match any of bits. */
static int
match_ct_state(struct nftnl_rule *r, uint32_t bits)
{
	uint32_t zero = 0;

	return put(r, e_ct(NFT_CT_STATE)) ||
	    put(r, e_bitwise(&bits, sizeof(bits))) ||
	    put(r, e_cmp(NFT_CMP_NEQ, &zero, sizeof(zero)));
}

/* Source prefix, encoded as nft does so that nft lists it as a prefix: a
 * whole-byte prefix loads only its bytes; any other loads the address
 * and masks it.  In an inet table the family is checked first. */
static int
match_saddr(struct nftnl_rule *r, const struct cidr *c)
{
	int v4 = c->net.family == AF_INET;
	uint8_t nfproto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint32_t offset = v4 ? 12 : 8;		/* saddr in the IP header */
	uint32_t len = c->prefix % 8 ? (v4 ? 4 : 16) : c->prefix / 8u;
	uint8_t mask[16] = { 0 }, net[16];

	if (put(r, e_meta(NFT_META_NFPROTO)) ||
	    put(r, e_cmp(NFT_CMP_EQ, &nfproto, sizeof(nfproto))))
		return -1;
	if (len == 0)				/* /0: the family is enough */
		return 0;
	memset(mask, 0xff, c->prefix / 8u);
	if (c->prefix % 8)
		mask[c->prefix / 8] = (uint8_t)(0xff << (8 - c->prefix % 8));
	for (uint32_t i = 0; i < len; i++)
		net[i] = c->net.b[i] & mask[i];
	if (put(r, e_payload(NFT_PAYLOAD_NETWORK_HEADER, offset, len)))
		return -1;
	if (c->prefix % 8 && put(r, e_bitwise(mask, len)))
		return -1;
	return put(r, e_cmp(NFT_CMP_EQ, net, len));
}

static int
match_l4proto(struct nftnl_rule *r, uint8_t proto)
{
	return put(r, e_meta(NFT_META_L4PROTO)) ||
	    put(r, e_cmp(NFT_CMP_EQ, &proto, sizeof(proto)));
}

/* meta l4proto P, P dport @set (bytes 2-3 in TCP and UDP alike) */
static int
match_dport_set(struct nftnl_rule *r, enum rules_set s)
{
	return match_l4proto(r, rules_set_proto(s)) ||
	    put(r, e_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)) ||
	    put(r, e_lookup(rules_set_name(s), (uint32_t)s + 1));
}

/* --- objects ------------------------------------------------------------ */

/* The table, with the comment that marks it ours, encoded as nft does. */
static void
tx_add_table(struct tx *tx, const char *name)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_udata_buf *ud;
	struct nlmsghdr *nlh;

	ud = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 2);
	if (t == NULL || ud == NULL ||
	    nftnl_table_set_str(t, NFTNL_TABLE_NAME, name) < 0 ||
	    !nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT,
	    NFT_OWNER_TAG) ||
	    nftnl_table_set_data(t, NFTNL_TABLE_USERDATA,
	    nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud)) < 0) {
		tx->error = ENOMEM;
	} else {
		/* EXCL: a table someone made since we looked is not ours. */
		nlh = tx_msg(tx, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL,
		    "add table inet %s", name);
		if (nlh != NULL) {
			nftnl_table_nlmsg_build_payload(nlh, t);
			tx_next(tx);
		}
	}
	if (ud != NULL)
		nftnl_udata_buf_free(ud);
	if (t != NULL)
		nftnl_table_free(t);
}

/* In place: the table's flags back to none.  `flags dormant` unhooks every
 * base chain of the table (nothing gated, the rules all still there);
 * this puts the hooks back in the same transaction as the rules. */
static void
tx_wake_table(struct tx *tx, const char *name)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (t == NULL || nftnl_table_set_str(t, NFTNL_TABLE_NAME, name) < 0) {
		tx->error = ENOMEM;
	} else {
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
		nlh = tx_msg(tx, NFT_MSG_NEWTABLE, 0, "table inet %s flags "
		    "(none)", name);
		if (nlh != NULL) {
			nftnl_table_nlmsg_build_payload(nlh, t);
			tx_next(tx);
		}
	}
	if (t != NULL)
		nftnl_table_free(t);
}

/* By handle: only the very table we inspected, not one made since. */
static void
tx_del_table(struct tx *tx, uint64_t handle)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (t == NULL) {
		tx->error = ENOMEM;
		return;
	}
	nftnl_table_set_u64(t, NFTNL_TABLE_HANDLE, handle);
	nlh = tx_msg(tx, NFT_MSG_DELTABLE, 0, "delete table inet %s",
	    NFT_TABLE);
	if (nlh != NULL) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		tx_next(tx);
	}
	nftnl_table_free(t);
}

/* Our chain; base: hooked into input.  A base chain is never made and
 * dropped again: unregistering a hook drops every packet waiting in every
 * queue of the network namespace. */
static void
tx_chain(struct tx *tx, const char *table, int base)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (c == NULL || nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, NFT_CHAIN) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter") < 0) {
		tx->error = ENOMEM;
	} else {
		if (base) {
			nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM,
			    NF_INET_LOCAL_IN);
			nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO,
			    RULES_PRIORITY);
			nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		} else
			nftnl_chain_unset(c, NFTNL_CHAIN_TYPE);
		nlh = tx_msg(tx, NFT_MSG_NEWCHAIN, NLM_F_CREATE,
		    "add chain %s", NFT_CHAIN);
		if (nlh != NULL) {
			nftnl_chain_nlmsg_build_payload(nlh, c);
			tx_next(tx);
		}
	}
	if (c != NULL)
		nftnl_chain_free(c);
}

static struct nftnl_set *
set_new(enum rules_set s)
{
	struct nftnl_set *set = nftnl_set_alloc();

	if (set == NULL)
		return NULL;
	if (nftnl_set_set_str(set, NFTNL_SET_TABLE, NFT_TABLE) < 0 ||
	    nftnl_set_set_str(set, NFTNL_SET_NAME, rules_set_name(s)) < 0) {
		nftnl_set_free(set);
		return NULL;
	}
	nftnl_set_set_u32(set, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(set, NFTNL_SET_ID, (uint32_t)s + 1);
	return set;
}

/* ports[0..n) as elements of s, in one message. */
static void
tx_elems(struct tx *tx, enum rules_set s, const uint16_t *ports, unsigned n)
{
	struct nftnl_set *set = set_new(s);
	struct nlmsghdr *nlh;

	for (unsigned i = 0; set != NULL && i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint16_t key = htons(ports[i]);

		if (e == NULL) {
			nftnl_set_free(set);
			set = NULL;
			break;
		}
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, sizeof(key));
		nftnl_set_elem_add(set, e);
	}
	if (set == NULL) {
		tx->error = ENOMEM;
		return;
	}
	nlh = tx_msg(tx, NFT_MSG_NEWSETELEM, NLM_F_CREATE,
	    "add elements to set %s", rules_set_name(s));
	if (nlh != NULL) {
		nftnl_set_elems_nlmsg_build_payload(nlh, set);
		tx_next(tx);
	}
	nftnl_set_free(set);
}

static struct nftnl_rule *
rule_new(const char *table)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r == NULL)
		return NULL;
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFT_CHAIN) < 0) {
		nftnl_rule_free(r);
		return NULL;
	}
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

/* Every element of set s goes (DELSETELEM naming no element). */
static void
tx_flush_set(struct tx *tx, enum rules_set s)
{
	struct nftnl_set *set = set_new(s);
	struct nlmsghdr *nlh;

	if (set == NULL) {
		tx->error = ENOMEM;
		return;
	}
	nlh = tx_msg(tx, NFT_MSG_DELSETELEM, 0, "flush set %s",
	    rules_set_name(s));
	if (nlh != NULL) {
		nftnl_set_elems_nlmsg_build_payload(nlh, set);
		tx_next(tx);
	}
	nftnl_set_free(set);
}

/* Every rule of our chain goes (DELRULE naming no rule). */
static void
tx_flush_chain(struct tx *tx)
{
	struct nftnl_rule *r = rule_new(NFT_TABLE);
	struct nlmsghdr *nlh;

	if (r == NULL) {
		tx->error = ENOMEM;
		return;
	}
	nlh = tx_msg(tx, NFT_MSG_DELRULE, 0, "flush chain %s", NFT_CHAIN);
	if (nlh != NULL) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		tx_next(tx);
	}
	nftnl_rule_free(r);
}

/* Named set of inet_service (2 bytes, network order), created if missing
 * (no EXCL: an existing one is kept, with the queued packets' rules). */
static void
tx_set(struct tx *tx, enum rules_set s)
{
	struct nftnl_set *set = set_new(s);
	struct nlmsghdr *nlh;

	if (set == NULL) {
		tx->error = ENOMEM;
		return;
	}
	nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, 13);	/* nft's inet_service */
	nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, sizeof(uint16_t));
	nlh = tx_msg(tx, NFT_MSG_NEWSET, NLM_F_CREATE, "add set %s",
	    rules_set_name(s));
	if (nlh != NULL) {
		nftnl_set_nlmsg_build_payload(nlh, set);
		tx_next(tx);
	}
	nftnl_set_free(set);
}

static void
tx_set_elems(struct tx *tx, enum rules_set s, const uint16_t *ports,
    unsigned n)
{
	for (unsigned i = 0; i < n; i += NFT_ELEMS_MSG)
		tx_elems(tx, s, ports + i,
		    n - i < NFT_ELEMS_MSG ? n - i : NFT_ELEMS_MSG);
}


/* Append rule r (built completely when built is 0) and free it. */
static void
tx_rule(struct tx *tx, struct nftnl_rule *r, int built, const char *what)
{
	struct nlmsghdr *nlh;

	if (r == NULL || built != 0) {
		tx->error = ENOMEM;
	} else {
		nlh = tx_msg(tx, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
		    "add rule (%s)", what);
		if (nlh != NULL) {
			nftnl_rule_nlmsg_build_payload(nlh, r);
			tx_next(tx);
		}
	}
	if (r != NULL)
		nftnl_rule_free(r);
}

/* --- the ruleset -------------------------------------------------------- */

static void
rule_iifname(struct tx *tx, const char *ifname)
{
	struct nftnl_rule *r = rule_new(NFT_TABLE);

	tx_rule(tx, r, r == NULL || match_iifname(r, NFT_CMP_NEQ, ifname) ||
	    put(r, e_verdict(NFT_RETURN)), "iifname");
}

static void
rule_loopback(struct tx *tx)
{
	struct nftnl_rule *r = rule_new(NFT_TABLE);

	tx_rule(tx, r, r == NULL ||
	    match_iifname(r, NFT_CMP_EQ, RULES_IF_LOOPBACK) ||
	    put(r, e_verdict(NF_ACCEPT)), "loopback");
}

static void
rule_established(struct tx *tx)
{
	struct nftnl_rule *r = rule_new(NFT_TABLE);
	uint32_t bits = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
	    NF_CT_STATE_BIT(IP_CT_RELATED);

	tx_rule(tx, r, r == NULL || match_ct_state(r, bits) ||
	    put(r, e_verdict(NF_ACCEPT)), "ct state established,related");
}

static void
rule_allow(struct tx *tx, const struct cidr *c, unsigned i)
{
	struct nftnl_rule *r = rule_new(NFT_TABLE);
	char what[NFT_WHAT_MAX];

	snprintf(what, sizeof(what), "allow #%u", i + 1);
	tx_rule(tx, r, r == NULL || match_saddr(r, c) ||
	    put(r, e_verdict(NF_ACCEPT)), what);
}

/* What reaches set s: public ports are accepted; knock packets go to
 * Queue and protected ports to Protected_Queue, whatever their flags and
 * conntrack state (everything established was accepted already). */
static void
rule_set(struct tx *tx, const struct config *cfg, enum rules_set s,
    enum nft_backend be)
{
	struct nftnl_rule *r = rule_new(NFT_TABLE);
	char what[NFT_WHAT_MAX];
	int fail = r == NULL || match_dport_set(r, s);

	if (!fail && rules_set_kind(s) == RULES_PUBLIC)
		fail = put(r, e_verdict(NF_ACCEPT));
	else if (!fail)
		fail = put(r, e_queue(be, (uint16_t)rules_set_queue(cfg, s),
		    rules_set_bypass(cfg, s)));
	snprintf(what, sizeof(what), "%s", rules_set_name(s));
	tx_rule(tx, r, fail, what);
}

/* Scan_Guard: every other TCP or UDP packet to the knock queue with
 * bypass (see rules.h). */
static void
rule_observe(struct tx *tx, const struct config *cfg, int udp,
    enum nft_backend be)
{
	struct nftnl_rule *r = rule_new(NFT_TABLE);
	int fail = r == NULL ||
	    match_l4proto(r, udp ? IPPROTO_UDP : IPPROTO_TCP) ||
	    put(r, e_queue(be, (uint16_t)cfg->opt.queue, 1));

	tx_rule(tx, r, fail, udp ? "observe udp" : "observe tcp");
}

/* The whole ruleset.  fresh: the table is created by this transaction;
 * otherwise it is updated in place: the base chain and the sets stay (a
 * base chain that goes drops every packet waiting in every queue), their
 * rules and elements are replaced, all in one atomic commit. */
static void
tx_ruleset(struct tx *tx, const struct config *cfg, enum nft_backend be,
    int fresh)
{
	uint16_t ports[RULES_NSETS][RULES_MAX_PORTS];
	unsigned n[RULES_NSETS];

	if (fresh)
		tx_add_table(tx, NFT_TABLE);
	else
		tx_wake_table(tx, NFT_TABLE);
	tx_chain(tx, NFT_TABLE, 1);
	for (int s = 0; s < RULES_NSETS; s++)
		tx_set(tx, (enum rules_set)s);
	if (!fresh) {
		tx_flush_chain(tx);
		for (int s = 0; s < RULES_NSETS; s++)
			tx_flush_set(tx, (enum rules_set)s);
	}
	for (int s = 0; s < RULES_NSETS; s++) {
		n[s] = rules_set_ports(cfg, (enum rules_set)s, ports[s]);
		tx_set_elems(tx, (enum rules_set)s, ports[s], n[s]);
	}
	if (cfg->opt.interface[0] != '\0')
		rule_iifname(tx, cfg->opt.interface);
	if (!cfg->opt.gate_loopback && cfg->opt.interface[0] == '\0')
		rule_loopback(tx);
	rule_established(tx);
	for (unsigned i = 0; i < cfg->opt.allow_len; i++)
		rule_allow(tx, &cfg->opt.allow[i], i);
	for (int s = 0; s < RULES_NSETS; s++)
		if (n[s] > 0)
			rule_set(tx, cfg, (enum rules_set)s, be);
	if (cfg->opt.scan_guard) {
		rule_observe(tx, cfg, 0, be);
		rule_observe(tx, cfg, 1, be);
	}
}

/* --- who owns table inet gatekeeper? ------------------------------------ */

static int
comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char *s = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_TABLE_COMMENT &&
	    len == sizeof(NFT_OWNER_TAG) && s[len - 1] == '\0' &&
	    strcmp(s, NFT_OWNER_TAG) == 0)
		*(int *)data = 1;
	return 0;
}

static int
table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct owner *o = data;
	struct nftnl_table *t = nftnl_table_alloc();
	const void *ud;
	uint32_t len = 0;

	if (t == NULL)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		return MNL_CB_ERROR;
	}
	o->found = 1;
	o->handle = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE);
	ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	if (ud != NULL)
		nftnl_udata_parse(ud, len, comment_cb, &o->ours);
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int
get_table(struct tx *tx, struct owner *o, char *err, size_t errlen)
{
	char buf[NFT_RECV_BUF];
	uint32_t seq = tx->seq++;
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	ssize_t n;
	int ret;

	memset(o, 0, sizeof(*o));
	if (t == NULL ||
	    nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE) < 0) {
		if (t != NULL)
			nftnl_table_free(t);
		snprintf(err, errlen, "nft: %s", strerror(ENOMEM));
		return -1;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (mnl_socket_sendto(tx->nl, nlh, nlh->nlmsg_len) < 0) {
		snprintf(err, errlen, "nft: get table: %s", strerror(errno));
		return -1;
	}
	do {
		n = mnl_socket_recvfrom(tx->nl, buf, sizeof(buf));
		ret = n < 0 ? -1 : mnl_cb_run(buf, (size_t)n, seq, tx->portid,
		    table_cb, o);
	} while (ret > MNL_CB_STOP);
	if (ret < 0 && errno == ENOENT) {
		o->found = 0;
		return 0;
	}
	if (ret < 0) {
		snprintf(err, errlen, "nft: get table inet %s: %s", NFT_TABLE,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* --- the interface ------------------------------------------------------ */

/* Try one queue statement in a throwaway table; the batch has no
 * BATCH_END, so the kernel aborts it.  A regular chain, not a base chain:
 * the kernel checks the expression all the same, and hooking a chain
 * only to unhook it again would drop the packets waiting in every queue
 * of the namespace (other programs' too).  0, or the errno. */
static int
probe_one(enum nft_backend be, char *err, size_t errlen)
{
	struct tx *tx = tx_open(err, errlen);
	struct nftnl_rule *r;
	int ret;

	if (tx == NULL)
		return EIO;		/* not a kernel verdict on the queue */
	tx_add_table(tx, NFT_PROBE_TABLE);
	tx_chain(tx, NFT_PROBE_TABLE, 0);
	r = rule_new(NFT_PROBE_TABLE);
	tx_rule(tx, r, r == NULL || put(r, e_queue(be, 0, 0)),
	    nft_backend_name(be));
	ret = tx_run(tx, 0, err, errlen);
	tx_close(tx);
	return ret;
}

int
nft_probe(enum nft_backend *out, char *err, size_t errlen)
{
	char native[256];
	int ret;

	ret = probe_one(NFT_BACKEND_NATIVE, native, sizeof(native));
	if (ret == 0) {
		*out = NFT_BACKEND_NATIVE;
		return 0;
	}
	if (ret != ENOENT && ret != EOPNOTSUPP) {
		snprintf(err, errlen, "%s", native);
		return -1;
	}
	ret = probe_one(NFT_BACKEND_COMPAT, err, errlen);
	if (ret != 0) {
		char compat[256];

		snprintf(compat, sizeof(compat), "%s", err);
		snprintf(err, errlen, "nft: the kernel can queue packets "
		    "neither with nft_queue (%s) nor with nft_compat and "
		    "xt_NFQUEUE (%s)", native, compat);
		return -1;
	}
	*out = NFT_BACKEND_COMPAT;
	return 0;
}

/* One attempt at installing: in place over our own table, or fresh. */
static int
install_once(const struct config *cfg, enum nft_backend be, int replace,
    char *err, size_t errlen)
{
	struct tx *tx;
	struct owner own;
	int ret = -1;

	if ((tx = tx_open(err, errlen)) == NULL)
		return -1;
	if (get_table(tx, &own, err, errlen) < 0)
		goto out;
	if (own.found && !own.ours) {
		snprintf(err, errlen, "nft: table inet %s exists and was not "
		    "created by gatekeeperd; remove it (nft delete table inet "
		    "%s) or give it the comment \"%s\" to hand it over",
		    NFT_TABLE, NFT_TABLE, NFT_OWNER_TAG);
		goto out;
	}
	if (own.found && replace)
		tx_del_table(tx, own.handle);
	tx_ruleset(tx, cfg, be, !own.found || replace);
	ret = tx_run(tx, 1, err, errlen) == 0 ? 0 : -1;
out:
	tx_close(tx);
	return ret;
}

int
nft_install(const struct config *cfg, enum nft_backend be, char *err,
    size_t errlen)
{
	char first[512];

	if (install_once(cfg, be, 0, err, errlen) == 0)
		return 0;
	/* Refused in place (a table of an older layout, say): replace it
	 * whole, unless it is not ours at all. */
	if (strstr(err, "was not created by gatekeeperd") != NULL)
		return -1;
	snprintf(first, sizeof(first), "%s", err);
	if (install_once(cfg, be, 1, err, errlen) != 0)
		return -1;
	snprintf(err, errlen, "%s", first);
	return 1;
}

int
nft_present(char *err, size_t errlen)
{
	struct tx *tx;
	struct owner own;
	int ret = -1;

	if ((tx = tx_open(err, errlen)) == NULL)
		return -1;
	if (get_table(tx, &own, err, errlen) == 0) {
		ret = own.found;
		if (own.found && !own.ours) {
			snprintf(err, errlen, "nft: table inet %s was replaced "
			    "by one gatekeeperd did not create", NFT_TABLE);
			ret = -1;
		}
	}
	tx_close(tx);
	return ret;
}

int
nft_remove(char *err, size_t errlen)
{
	struct tx *tx;
	struct owner own;
	int ret = -1;

	if ((tx = tx_open(err, errlen)) == NULL)
		return -1;
	if (get_table(tx, &own, err, errlen) < 0)
		goto out;
	if (!own.found) {
		ret = 0;
		goto out;
	}
	if (!own.ours) {
		snprintf(err, errlen, "nft: table inet %s was not created by "
		    "gatekeeperd; left in place", NFT_TABLE);
		goto out;
	}
	tx_del_table(tx, own.handle);
	ret = tx_run(tx, 1, err, errlen);
	ret = ret == 0 || ret == ENOENT ? 0 : -1;	/* gone already: fine */
out:
	tx_close(tx);
	return ret;
}

const char *
nft_backend_name(enum nft_backend be)
{
	switch (be) {
	case NFT_BACKEND_NATIVE:
		return "native-queue";
	case NFT_BACKEND_COMPAT:
		return "compat-NFQUEUE";
	}
	return "unknown";
}

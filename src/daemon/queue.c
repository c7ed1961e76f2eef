/* queue: one NFQUEUE instance over libmnl and libnetfilter_queue's nlmsg
 * helpers (I/O).
 *
 * Every packet id we are given gets a verdict, in the order received
 * unless the caller holds one back for a while (QUEUE_HOLD),
 * anything we cannot parse is dropped, and a packet that arrives while we
 * are still waiting for the bind ack is dropped too (its sender
 * retransmits).  A gating queue (protected ports) never fails open: when
 * full, the kernel drops.  The knock queue may fail open, so that a flood
 * cannot hold up the host's other services: the kernel then accepts what
 * does not fit, unseen.  It numbers the packets it hands over one by one
 * (the id), and its receive buffer fills long before its length limit, so
 * every packet let through unseen leaves a gap in the ids; the caller is
 * told of each gap before the packet after it. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "queue.h"

/* Bytes of each packet copied to us.  Covers a whole 1500-byte frame
 * (IPv6 + extension headers + TCP/UDP + a knock or SPA payload, fwknop's
 * limit is 1500); longer packets (jumbo frames, GSO aggregates) arrive
 * truncated, so the parser must take headers from what was copied. */
#define QUEUE_COPY_RANGE	2048
/* Packets the kernel holds for us before it drops (queue_dropped), or
 * for a fail-open queue accepts unseen without a gap in the ids; so for
 * those, far more than the receive buffer can hold (a packet message
 * takes at least ~700 bytes of it). */
#define QUEUE_MAXLEN		4096
#define QUEUE_MAXLEN_OPEN	(1u << 20)
/* Requested socket receive buffer; the kernel doubles it.  Holds
 * QUEUE_MAXLEN small packets with room to spare. */
#define QUEUE_RCVBUF		(8 * 1024 * 1024)
/* One datagram is one netlink skb: a packet message is at most the copy
 * range plus a few hundred bytes of attributes.  The config acks are read
 * into a buffer of QUEUE_RECV_BUF; packets in bursts of up to
 * QUEUE_RECV_BURST datagrams per recvmmsg, each into a slot of
 * QUEUE_SLOT bytes (a datagram cut short is dropped by its id). */
#define QUEUE_RECV_BUF		(64 * 1024)
#define QUEUE_SLOT		(8 * 1024)
/* Verdicts sent per sendto; one message is 32 bytes. */
#define QUEUE_VERDICT_BATCH	QUEUE_RECV_BURST
#define QUEUE_VERDICT_MSG	64	/* room reserved per verdict message */
/* Room for one config message (about 80 bytes). */
#define QUEUE_CONFIG_MSG	256
/* How long to wait for a config ack (it is sent synchronously). */
#define QUEUE_ACK_TIMEOUT_MS	1000

struct queue {
	struct mnl_socket	*nl;
	unsigned		 num;
	uint32_t		 seq;
	char			*rbuf;		/* QUEUE_RECV_BUF */
	char			*slots;		/* QUEUE_RECV_BURST * QUEUE_SLOT */
	struct mmsghdr		 mm[QUEUE_RECV_BURST];
	struct iovec		 iov[QUEUE_RECV_BURST];
	char			*vbuf;		/* pending verdict messages */
	size_t			 vlen;
	/* Odd events, kept for debugging; nothing reads them yet. */
	uint64_t		 enobufs;	/* recv overruns */
	uint64_t		 kerrors;	/* error replies, bad messages */
	uint64_t		 noid;		/* packets without an id */
	uint64_t		 truncated;	/* datagrams cut short */
	uint64_t		 lost;		/* ids skipped: packets unseen */
	uint32_t		 last_id;
	int			 have_id;
	int			 fail_open;
	int			 closing;	/* unbinding: kernel drops the rest */
};

/* Context of one mnl_cb_run over received packet messages. */
struct rx {
	struct queue	*q;
	const struct queue_cbs *cb;
	void		*arg;
	int		 handled;
	int		 send_errno;	/* a verdict could not be sent */
};



/* Verdict batching.  Verdicts are appended in arrival order and sent in
 * one datagram; the kernel processes its messages in order. */

static int
verdict_flush(struct queue *q)
{
	ssize_t n;

	if (q->vlen == 0)
		return 0;
	n = mnl_socket_sendto(q->nl, q->vbuf, q->vlen);
	q->vlen = 0;
	return n < 0 ? -1 : 0;
}

static int
verdict_add(struct queue *q, uint32_t id, int verdict)
{
	struct nlmsghdr *nlh;

	if (q->vlen + QUEUE_VERDICT_MSG > QUEUE_VERDICT_BATCH * QUEUE_VERDICT_MSG &&
	    verdict_flush(q) < 0)
		return -1;
	nlh = nfq_nlmsg_put(q->vbuf + q->vlen, NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	q->vlen += nlh->nlmsg_len;
	return 0;
}

int
queue_verdict(struct queue *q, uint32_t id, int accept)
{
	if (verdict_add(q, id, accept ? NF_ACCEPT : NF_DROP) < 0)
		return -1;
	return verdict_flush(q);
}

static int
is_packet_msg(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET);
}

/* Parse a packet message: 0 with the id (and payload if present, and
 * its length on the wire), -1 when it has no usable id. */
static int
packet_parse(const struct nlmsghdr *nlh, uint32_t *id,
    const uint8_t **pkt, size_t *len, size_t *wire)
{
	struct nlattr *attr[NFQA_MAX + 1];
	const struct nfqnl_msg_packet_hdr *ph;
	int ok;

	memset(attr, 0, sizeof(attr));
	ok = nfq_nlmsg_parse(nlh, attr) == MNL_CB_OK;
	/* Even a message that failed to parse is verdicted if it has an id. */
	if (attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return -1;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	*id = ntohl(ph->packet_id);
	*pkt = NULL;
	*len = *wire = 0;
	if (ok && attr[NFQA_PAYLOAD] != NULL) {
		*pkt = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		*len = *wire = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	/* Present when the copy range cut the packet: its real length. */
	if (ok && attr[NFQA_CAP_LEN] != NULL &&
	    mnl_attr_get_payload_len(attr[NFQA_CAP_LEN]) >= 4)
		*wire = ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]));
	return 0;
}

/* Ids run 1, 2, 3...: a jump means packets we never saw. */
static void
note_id(struct rx *rx, uint32_t id)
{
	struct queue *q = rx->q;

	if (q->have_id && id != q->last_id + 1) {
		uint32_t skipped = id - q->last_id - 1;

		q->lost += skipped;
		if (rx->cb->gap != NULL)
			rx->cb->gap(rx->arg, skipped);
	}
	q->last_id = id;
	q->have_id = 1;
	rx->handled++;
}

/* mnl_cb_run callback: decide one packet and queue its verdict. */
static int
rx_packet(const struct nlmsghdr *nlh, void *data)
{
	struct rx *rx = data;
	struct queue *q = rx->q;
	const uint8_t *pkt;
	size_t len, wire;
	uint32_t id;
	int verdict = NF_DROP;

	if (!is_packet_msg(nlh))
		return MNL_CB_OK;
	if (packet_parse(nlh, &id, &pkt, &len, &wire) < 0) {
		q->noid++;
		return MNL_CB_OK;
	}
	note_id(rx, id);
	switch (pkt != NULL ? rx->cb->packet(rx->arg, id, pkt, len, wire) :
	    QUEUE_DROP) {
	case QUEUE_ACCEPT:
		verdict = NF_ACCEPT;
		break;
	case QUEUE_HOLD:
		return MNL_CB_OK;	/* queue_verdict() later */
	default:
		break;
	}
	if (verdict_add(rx->q, id, verdict) < 0) {
		rx->send_errno = errno;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* Drop a packet that arrived before we were ready to decide. */
static void
drop_early(struct queue *q, const struct nlmsghdr *nlh)
{
	const uint8_t *pkt;
	size_t len, wire;
	uint32_t id;

	if (packet_parse(nlh, &id, &pkt, &len, &wire) == 0) {
		q->last_id = id;
		q->have_id = 1;
		(void)verdict_add(q, id, NF_DROP);
	}
}

/* Receive into rbuf, waiting up to the ack timeout.  Bytes, or -1. */
static ssize_t
recv_wait(struct queue *q)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(q->nl), .events = POLLIN };
	ssize_t n;

	for (;;) {
		n = mnl_socket_recvfrom(q->nl, q->rbuf, QUEUE_RECV_BUF);
		if (n >= 0 || (errno != EAGAIN && errno != EINTR &&
		    errno != ENOBUFS))
			return n;
		if (errno != EAGAIN)
			continue;
		n = poll(&pfd, 1, QUEUE_ACK_TIMEOUT_MS);
		if (n == 0)
			errno = ETIMEDOUT;
		if (n <= 0 && errno != EINTR)
			return -1;
	}
}

/* The error code of the ack for seq in one datagram: 0 ok, an errno,
 * or -1 when it is not there.  Packets that slipped in before the ack
 * are dropped (at unbind the kernel has already dropped them). */
static int
scan_ack(struct queue *q, int len, uint32_t seq)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)q->rbuf;
	const struct nlmsgerr *e;
	int found = -1;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (is_packet_msg(nlh) && !q->closing)
			drop_early(q, nlh);
		if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
			found = EBADMSG;
		} else {
			e = mnl_nlmsg_get_payload(nlh);
			found = -e->error;
		}
	}
	return found;
}

/* Wait for the ack of message seq.  0, or -1 with errno set. */
static int
wait_ack(struct queue *q, uint32_t seq)
{
	int kerr = -1, e;
	ssize_t n;

	while (kerr == -1) {
		if ((n = recv_wait(q)) < 0) {
			kerr = errno;
			break;
		}
		kerr = scan_ack(q, (int)n, seq);
	}
	e = verdict_flush(q) < 0 ? errno : 0;
	if (kerr == 0)
		kerr = e;
	errno = kerr;
	return kerr == 0 ? 0 : -1;
}

static int
send_config(struct queue *q, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++q->seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	return wait_ack(q, nlh->nlmsg_seq);
}

/* Bind and configure in one message, so the kernel applies all of it or
 * (flags it does not support) none of it.  All flags travel in ONE
 * FLAGS/MASK pair: the last pair would win.  FAIL_OPEN is in the mask and
 * set only for a fail-open queue.  GSO: hand us aggregates unsegmented
 * (we never rewrite). */
static int
bind_queue(struct queue *q)
{
	_Alignas(struct nlmsghdr) char buf[QUEUE_CONFIG_MSG];
	struct nlmsghdr *nlh;
	uint32_t mask = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
	uint32_t flags = NFQA_CFG_F_GSO |
	    (q->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	/* Copy mode NONE would make the kernel drop everything: always set. */
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, QUEUE_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, q->fail_open ? QUEUE_MAXLEN_OPEN :
	    QUEUE_MAXLEN);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	return send_config(q, nlh);
}

static int
unbind_queue(struct queue *q)
{
	_Alignas(struct nlmsghdr) char buf[QUEUE_CONFIG_MSG];
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
	return send_config(q, nlh);
}

/* Only the kernel may speak to us: connected to its port id 0, the
 * socket refuses every other sender's datagram (ECONNREFUSED to them),
 * so a local process cannot slip in a forged packet or ack, and a
 * receive need not ask who sent each datagram. */
static int
connect_kernel(struct queue *q)
{
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };

	return connect(mnl_socket_get_fd(q->nl), (struct sockaddr *)&k,
	    sizeof(k));
}

/* Socket options.  NO_ENOBUFS: an overrun drops packets in the kernel
 * (counted as user_dropped, fail closed) instead of failing our recv.
 * CAP_ACK keeps error replies short.  The big buffer absorbs bursts. */
static int
socket_setup(struct queue *q)
{
	int fd = mnl_socket_get_fd(q->nl);
	int one = 1, size = QUEUE_RCVBUF;

	if (mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one,
	    sizeof(one)) < 0)
		return -1;
	(void)mnl_socket_setsockopt(q->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		return -1;
	return 0;
}

static void
queue_free(struct queue *q)
{
	if (q == NULL)
		return;
	if (q->nl != NULL)
		mnl_socket_close(q->nl);
	free(q->rbuf);
	free(q->slots);
	free(q->vbuf);
	free(q);
}

static struct queue *
queue_alloc(unsigned num)
{
	struct queue *q;
	unsigned i;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->num = num;
	q->rbuf = malloc(QUEUE_RECV_BUF);
	q->slots = malloc((size_t)QUEUE_RECV_BURST * QUEUE_SLOT);
	q->vbuf = malloc(QUEUE_VERDICT_BATCH * QUEUE_VERDICT_MSG);
	if (q->rbuf == NULL || q->slots == NULL || q->vbuf == NULL) {
		queue_free(q);
		return NULL;
	}
	for (i = 0; i < QUEUE_RECV_BURST; i++)
		q->iov[i] = (struct iovec){ q->slots + i * QUEUE_SLOT,
		    QUEUE_SLOT };
	return q;
}

int
queue_open(struct queue **out, unsigned num, int fail_open, char *err,
    size_t errlen)
{
	struct queue *q;

	*out = NULL;
	if (num > UINT16_MAX) {
		snprintf(err, errlen, "queue %u: queue numbers are 0-65535", num);
		return -1;
	}
	if ((q = queue_alloc(num)) == NULL) {
		snprintf(err, errlen, "queue %u: %s", num, strerror(errno));
		return -1;
	}
	q->fail_open = fail_open;
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (q->nl == NULL ||
	    mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    connect_kernel(q) < 0 || socket_setup(q) < 0) {
		snprintf(err, errlen, "queue %u: netlink socket: %s", num,
		    strerror(errno));
		queue_free(q);
		return -1;
	}
	if (bind_queue(q) < 0) {
		if (errno == EPERM)
			snprintf(err, errlen, "queue %u is bound by another "
			    "process (or missing CAP_NET_ADMIN)", num);
		else
			snprintf(err, errlen, "queue %u: bind: %s", num,
			    strerror(errno));
		queue_free(q);
		return -1;
	}
	*out = q;
	return 0;
}

int
queue_fd(const struct queue *q)
{
	return mnl_socket_get_fd(q->nl);
}

/* A datagram cut short at the slot's end: its first attribute is the
 * packet header (the kernel puts it first), enough to drop it by id. */
static void
drop_truncated(struct rx *rx, const char *buf, size_t n)
{
	struct queue *q = rx->q;
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	const struct nlattr *a;
	const struct nfqnl_msg_packet_hdr *ph;
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

	q->truncated++;
	if (n < off + sizeof(*a) + sizeof(*ph) || !is_packet_msg(nlh))
		return;
	a = (const struct nlattr *)(buf + off);
	if ((a->nla_type & NLA_TYPE_MASK) != NFQA_PACKET_HDR ||
	    a->nla_len < sizeof(*a) + sizeof(*ph))
		return;
	ph = (const struct nfqnl_msg_packet_hdr *)(a + 1);
	note_id(rx, ntohl(ph->packet_id));
	if (verdict_add(q, ntohl(ph->packet_id), NF_DROP) < 0)
		rx->send_errno = errno;
}

/* Up to want datagrams, without waiting.  Their number, 0 when nothing
 * is waiting, -1 on a real error. */
static int
recv_burst(struct queue *q, unsigned want)
{
	unsigned i;
	int n;

	for (i = 0; i < want; i++) {
		q->mm[i].msg_hdr = (struct msghdr){ .msg_iov = &q->iov[i],
		    .msg_iovlen = 1 };
	}
	for (;;) {
		n = recvmmsg(mnl_socket_get_fd(q->nl), q->mm, want,
		    MSG_DONTWAIT, NULL);
		if (n >= 0)
			return n;
		if (errno == EAGAIN)
			return 0;
		if (errno == ENOBUFS)	/* kernel dropped some; go on */
			q->enobufs++;
		else if (errno != EINTR)
			return -1;
	}
}

/* The payload of a datagram that is one packet message, for the hint;
 * anything else is left to the full parse. */
static void
hint_one(const struct rx *rx, const char *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)(const void *)buf;
	const struct nlattr *a;

	if (len < sizeof(*nlh) || nlh->nlmsg_len > len || !is_packet_msg(nlh) ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
		return;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFQA_PAYLOAD) {
			rx->cb->hint(rx->arg, mnl_attr_get_payload(a),
			    mnl_attr_get_payload_len(a));
			return;
		}
}

/* The datagrams of one burst: decide each packet, then one sendto for
 * all their verdicts, before the next receive (a packet's verdict never
 * waits for a syscall that may find nothing).  The hint first sees them
 * all, so their lookups' cache misses overlap. */
static void
rx_burst(struct queue *q, struct rx *rx, int n)
{
	int i;

	for (i = 0; rx->cb->hint != NULL && n > 1 && i < n; i++)
		if (!(q->mm[i].msg_hdr.msg_flags & MSG_TRUNC))
			hint_one(rx, q->slots + (size_t)i * QUEUE_SLOT,
			    q->mm[i].msg_len);

	for (i = 0; i < n && rx->send_errno == 0; i++) {
		const char *buf = q->slots + (size_t)i * QUEUE_SLOT;
		size_t len = q->mm[i].msg_len;

		if (q->mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
			drop_truncated(rx, buf, len);
			continue;
		}
		/* -1 is also an error reply (e.g. a verdict for an id the
		 * kernel no longer holds): count it and go on. */
		if (mnl_cb_run(buf, len, 0, 0, rx_packet, rx) < 0 &&
		    rx->send_errno == 0)
			q->kerrors++;
	}
	if (rx->send_errno == 0 && verdict_flush(q) < 0)
		rx->send_errno = errno;
	if (rx->cb->sent != NULL)
		rx->cb->sent(rx->arg);
}

int
queue_process(struct queue *q, int budget, const struct queue_cbs *cbs,
    void *arg, char *err, size_t errlen)
{
	struct rx rx = { .q = q, .cb = cbs, .arg = arg };
	unsigned want;
	int n = 0;

	while (rx.handled < budget && rx.send_errno == 0) {
		want = (unsigned)(budget - rx.handled);
		if (want > QUEUE_RECV_BURST)
			want = QUEUE_RECV_BURST;
		if ((n = recv_burst(q, want)) <= 0)
			break;
		rx_burst(q, &rx, n);
		if ((unsigned)n < want)		/* the socket is empty */
			break;
	}
	if (n < 0) {
		snprintf(err, errlen, "queue %u: recv: %s", q->num,
		    strerror(errno));
		(void)verdict_flush(q);
		return -1;
	}
	if (rx.send_errno != 0) {
		snprintf(err, errlen, "queue %u: verdict: %s", q->num,
		    strerror(rx.send_errno));
		return -1;
	}
	return rx.handled;
}

void
queue_close(struct queue *q)
{
	if (q == NULL)
		return;
	/* Closing the socket would unbind too; be explicit anyway.  The
	 * kernel drops whatever was still queued. */
	q->closing = 1;
	(void)unbind_queue(q);
	queue_free(q);
}

uint64_t
queue_lost(const struct queue *q)
{
	return q->lost;
}

int
queue_kstats(unsigned num, struct queue_kstats *ks)
{
	unsigned long long total, qdrop, udrop;
	unsigned qnum;
	char line[256];
	FILE *f;

	memset(ks, 0, sizeof(*ks));
	if ((f = fopen("/proc/net/netfilter/nfnetlink_queue", "re")) == NULL)
		return -1;
	/* queue peer_portid total copy_mode copy_range qdropped udropped
	 * id_sequence 1 */
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%u %*u %llu %*u %*u %llu %llu", &qnum, &total,
		    &qdrop, &udrop) != 4 || qnum != num)
			continue;
		ks->queue_total = total;
		ks->queue_dropped = qdrop;
		ks->user_dropped = udrop;
		ks->found = 1;
		break;
	}
	fclose(f);
	return 0;
}

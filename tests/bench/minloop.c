/*
 * minloop: the floor for `make bench` -- an NFQUEUE loop with no logic,
 * built from the libraries gatekeeperd uses (libmnl, libnetfilter_queue).
 * It binds the queues it is given (the daemon's own table stays in place
 * after the daemon stops, so the same rules feed it) and accepts every
 * packet.
 *
 *   minloop [-b] QUEUE...
 *
 * Per packet (default): one recv, one verdict sendto per packet.
 * Burst (-b): recvmmsg of up to 64 datagrams, then one sendto carrying a
 * verdict message for each.  Runs until SIGTERM/SIGINT; prints the
 * packets it answered.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define MAXQ	4
#define BURST	64
#define RBUF	4096		/* one packet message: headers + 2048 */
#define COPY	2048		/* the daemon's copy range */

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

struct q {
	struct mnl_socket *nl;
	unsigned num;
	unsigned long long n;
};

static int
bind_queue(struct q *q)
{
	static char buf[8192];
	struct nlmsghdr *nlh;
	int one = 1, size = 8 << 20;

	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (q->nl == NULL || mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &size, sizeof(size));
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, COPY);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 4096);
	return mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

/* The packet id of one message, or 0. */
static uint32_t
packet_id(const struct nlmsghdr *nlh)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	const struct nfqnl_msg_packet_hdr *ph;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET) ||
	    nfq_nlmsg_parse(nlh, attr) != MNL_CB_OK ||
	    attr[NFQA_PACKET_HDR] == NULL)
		return 0;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	return ntohl(ph->packet_id);
}

static size_t
put_verdict(char *buf, unsigned num, uint32_t id)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, num);

	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	return nlh->nlmsg_len;
}

/* Until the socket is empty: one recv, one verdict. */
static void
per_packet(struct q *q)
{
	static char rbuf[RBUF], vbuf[256];
	int fd = mnl_socket_get_fd(q->nl);
	uint32_t id;

	for (int i = 0; i < 1024; i++) {
		if (recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT) <= 0)
			return;
		if ((id = packet_id((struct nlmsghdr *)rbuf)) == 0)
			continue;
		mnl_socket_sendto(q->nl, vbuf, put_verdict(vbuf, q->num, id));
		q->n++;
	}
}

/* Until the socket is empty: up to 64 datagrams, one send. */
static void
burst(struct q *q)
{
	static char rbuf[BURST][RBUF], vbuf[BURST * 64];
	static struct mmsghdr mm[BURST];
	static struct iovec iov[BURST];
	size_t vlen = 0;
	uint32_t id;
	int n;

	for (int i = 0; i < BURST; i++) {
		iov[i] = (struct iovec){ rbuf[i], RBUF };
		mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i],
		    .msg_iovlen = 1 };
	}
	for (int round = 0; round < 16; round++) {
		n = recvmmsg(mnl_socket_get_fd(q->nl), mm, BURST, MSG_DONTWAIT,
		    NULL);
		vlen = 0;
		for (int i = 0; i < n; i++)
			if ((id = packet_id((struct nlmsghdr *)rbuf[i])) != 0) {
				vlen += put_verdict(vbuf + vlen, q->num, id);
				q->n++;
			}
		if (vlen > 0)
			mnl_socket_sendto(q->nl, vbuf, vlen);
		if (n < BURST)
			return;
	}
}

int
main(int argc, char **argv)
{
	struct q q[MAXQ];
	struct pollfd pfd[MAXQ];
	int nq = 0, b = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-b") == 0) {
			b = 1;
			continue;
		}
		if (nq == MAXQ)
			return 2;
		q[nq].num = (unsigned)atoi(argv[i]);
		q[nq].n = 0;
		if (bind_queue(&q[nq]) != 0) {
			fprintf(stderr, "minloop: queue %u: %s\n", q[nq].num,
			    strerror(errno));
			return 1;
		}
		pfd[nq] = (struct pollfd){ mnl_socket_get_fd(q[nq].nl), POLLIN,
		    0 };
		nq++;
	}
	if (nq == 0) {
		fprintf(stderr, "usage: minloop [-b] QUEUE...\n");
		return 2;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	while (!stop) {
		if (poll(pfd, (nfds_t)nq, 200) <= 0)
			continue;
		for (int i = 0; i < nq; i++)
			if (pfd[i].revents & POLLIN)
				(b ? burst : per_packet)(&q[i]);
	}
	for (int i = 0; i < nq; i++)
		printf("minloop: queue %u answered %llu packets\n", q[i].num,
		    q[i].n);
	return 0;
}

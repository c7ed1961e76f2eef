/* queue: one NFQUEUE instance over libmnl and libnetfilter_queue's nlmsg
 * helpers (I/O).  Every packet gets a verdict, in order.  A gating queue
 * fails closed (the kernel drops what does not fit); a fail-open queue
 * reports the packets it let through unseen (queue.c). */
#ifndef GK_QUEUE_H
#define GK_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct queue;

/* pkt holds the first len bytes of a packet of wire bytes, whose id is id.
 * Return QUEUE_ACCEPT or QUEUE_DROP, or QUEUE_HOLD to give the verdict
 * later with queue_verdict() (the kernel keeps the packet meanwhile). */
enum { QUEUE_DROP, QUEUE_ACCEPT, QUEUE_HOLD };
typedef int (*queue_cb)(void *arg, uint32_t id, const uint8_t *pkt,
    size_t len, size_t wire);
/* n packets went by unseen, just before the next one. */
typedef void (*queue_gap_cb)(void *arg, uint32_t n);
/* The verdicts of the packets given to queue_cb so far are sent (the
 * place for work that need not delay them, such as log lines). */
typedef void (*queue_sent_cb)(void *arg);
/* A hint before a burst is decided: a packet of it (its payload; the
 * same packet reaches queue_cb after). */
typedef void (*queue_hint_cb)(void *arg, const uint8_t *pkt, size_t len);
struct queue_cbs {
	queue_cb	packet;
	queue_gap_cb	gap;		/* may be NULL */
	queue_sent_cb	sent;		/* may be NULL */
	queue_hint_cb	hint;		/* may be NULL */
};
/* Packets are read in bursts of at most this many. */
#define QUEUE_RECV_BURST	32

struct queue_kstats {
	uint64_t queue_total;	/* packets waiting in the kernel */
	uint64_t queue_dropped;	/* dropped: queue full */
	uint64_t user_dropped;	/* dropped: netlink socket full */
	int found;		/* 0: the kernel listed no such queue */
};

/* Bind queue number num, failing open when full if fail_open; 0 on
 * success with *out set, -1 with err set (EPERM: the queue belongs to
 * another process). */
int queue_open(struct queue **out, unsigned num, int fail_open, char *err,
    size_t errlen);
int queue_fd(const struct queue *q);
/* Read and answer the packets waiting, without blocking, up to a budget
 * (so a flood cannot starve the event loop: poll reports the fd readable
 * again).  Returns the number handled (below the budget: none are left
 * waiting), or -1 on a socket error. */
#define QUEUE_BUDGET	1024
/* The knock queue's budget in a round when new connections are waiting
 * too: a knock flood delays a granted user by this many packets, not by
 * a whole budget. */
#define QUEUE_KNOCK_SHARE	128
int queue_process(struct queue *q, int budget, const struct queue_cbs *cbs,
    void *arg, char *err, size_t errlen);
/* The verdict for a packet held by the callback: 0, or -1 with errno. */
int queue_verdict(struct queue *q, uint32_t id, int accept);
/* Packets this queue let through unseen so far. */
uint64_t queue_lost(const struct queue *q);
void queue_close(struct queue *q);
/* Counters from /proc/net/netfilter/nfnetlink_queue.  0 or -1. */
int queue_kstats(unsigned num, struct queue_kstats *ks);

#endif

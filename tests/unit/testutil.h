/* Helpers shared by the unit tests: configs from text, packets from fields. */
#ifndef GK_TESTUTIL_H
#define GK_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "pkt.h"

/* Parse text as "test.conf"; fails the running test on any error.
 * Returns a static config (one at a time). */
struct config *tu_config(const char *text);
/* An address from its literal; fails the running test if it is none. */
struct addr tu_addr(const char *text);
/* A parsed TCP or UDP packet from src to dst:dport (no raw bytes). */
struct pkt tu_pkt(const char *src, const char *dst, uint8_t proto,
    uint16_t dport, uint8_t tcpflags);
/* Raw IPv4 or IPv6 (by src's family) TCP/UDP packet; returns its length. */
size_t tu_raw(uint8_t *buf, size_t len, const char *src, const char *dst,
    uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcpflags);

#endif

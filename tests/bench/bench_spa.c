/*
 * bench-spa: what one core does with SPA packets, through the daemon's own
 * codec (src/core/spa.c).  Prints numbers, asserts only that the packets
 * it times do what they should (a valid one opens, a junk one does not).
 *
 *   verify     a valid packet: HMAC, decrypt, digest, decode (the cost of
 *              a packet that grants)
 *   junk       a wrong HMAC: what a flood of well-formed junk costs once
 *              it passes the budgets (the HMAC is all it gets)
 *   precheck   length and alphabet only (what junk costs past the budgets'
 *              refusal)
 *   seal       what the client does to make one
 * for SHA-256 and SHA-512 HMACs.  Usage: bench-spa [SECONDS per row].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spa.h"

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static volatile int sink;

/* Run op on the packet for secs seconds; operations per second. */
static double
rate(int op, const uint8_t *w, size_t n, const struct spa_keys *k,
    double secs)
{
	struct spa_msg m;
	struct spa_request rq = { .user = "root", .timestamp = 1796165394,
	    .message = "10.77.1.2,tcp/22" };
	uint8_t rnd[SPA_RANDOM_LEN] = { 1 };
	char out[SPA_MAX_LEN + 1];
	double t0 = now(), t;
	long iters = 0;

	do {
		for (int i = 0; i < 256; i++) {
			switch (op) {
			case 0:
			case 1:
				sink += (int)spa_open(w, n, k, &m);
				break;
			case 2:
				sink += (int)spa_precheck(w, n);
				break;
			default:
				rnd[0] = (uint8_t)i;
				sink += (int)spa_seal(&rq, k, rnd, out,
				    sizeof(out));
			}
		}
		iters += 256;
		t = now();
	} while (t - t0 < secs);
	return (double)iters / (t - t0);
}

int
main(int argc, char **argv)
{
	static const char *const names[] = { "verify", "junk", "precheck",
	    "seal" };
	static const enum spa_hash hmacs[] = { SPA_SHA256, SPA_SHA512 };
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	struct spa_request rq = { .user = "root", .timestamp = 1796165394,
	    .message = "10.77.1.2,tcp/22" };
	uint8_t rnd[SPA_RANDOM_LEN] = { 9 };
	char good[SPA_MAX_LEN + 1], bad[SPA_MAX_LEN + 1];
	struct spa_keys k = { .key_len = 32, .hmac_len = 64 };
	struct spa_msg m;
	size_t n;

	memset(k.key, 0x5a, sizeof(k.key));
	memset(k.hmac, 0xa5, sizeof(k.hmac));
	printf("SPA codec, one core, %.1f s per row (operations/s, µs each)\n",
	    secs);
	for (size_t h = 0; h < sizeof(hmacs) / sizeof(hmacs[0]); h++) {
		k.hmac_type = hmacs[h];
		n = spa_seal(&rq, &k, rnd, good, sizeof(good));
		memcpy(bad, good, n + 1);
		bad[n - 1] = bad[n - 1] == 'A' ? 'B' : 'A';
		if (n == 0 || spa_open((uint8_t *)good, n, &k, &m) != SPA_OK ||
		    spa_open((uint8_t *)bad, n, &k, &m) != SPA_E_HMAC) {
			fprintf(stderr, "bench-spa: the packets do not work\n");
			return 1;
		}
		for (int op = 0; op < 4; op++) {
			double r = rate(op, (uint8_t *)(op == 1 ? bad : good),
			    n, &k, secs);

			printf("  %-8s HMAC %-6s %4zu bytes: %9.0f/s  %6.2f µs\n",
			    names[op], spa_hash_name(hmacs[h]), n, r, 1e6 / r);
		}
	}
	return 0;
}

/*
 * Fuzz target for the client's profile parsers: a knock.conf (even first
 * byte) or a ~/.fwknoprc read for stanza "gk" (odd first byte); the rest
 * is the file.  Invariants: every error is "FILE:N: ..." with N a line of
 * the input (0 never); with no error every profile has a Host and knocks
 * something, its ports are 1..65535, and an SPA profile has keys the codec
 * takes: a packet sealed from it opens with the same keys, asking for the
 * same ports.
 */
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include "fuzz.h"
#include "fwknoprc.h"
#include "profile.h"

static void
check_profile(const struct profile *p)
{
	static const uint8_t rnd[SPA_RANDOM_LEN] = { 3 };
	char msg[512], w[SPA_MAX_LEN + 1];
	struct spa_msg m;
	size_t n;

	FUZZ_CHECK(p->host[0] != '\0');
	FUZZ_CHECK(p->seq_len > 0 || p->spa);
	FUZZ_CHECK(p->seq_len <= CFG_MAX_SEQ && p->nopen <= SPA_MAX_PORTS);
	for (unsigned i = 0; i < p->seq_len; i++)
		FUZZ_CHECK(p->seq[i].port >= 1);
	if (!p->spa)
		return;
	FUZZ_CHECK(p->keys.key_len >= 1 && p->keys.key_len <= SPA_KEY_MAX);
	FUZZ_CHECK(p->keys.hmac_len >= 1);
	FUZZ_CHECK(p->nopen >= 1);
	if (profile_access_message(p, "192.0.2.1", msg, sizeof(msg)) != 0 ||
	    strlen(msg) > 192)
		return;
	{
		struct spa_request rq = { .user = "u", .timestamp = 1,
		    .message = msg, .timeout = p->timeout,
		    .digest = p->digest };

		n = spa_seal(&rq, &p->keys, rnd, w, sizeof(w));
	}
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(spa_open((const uint8_t *)w, n, &p->keys, &m) == SPA_OK);
	FUZZ_CHECK(m.nports == p->nopen);
	for (unsigned i = 0; i < m.nports; i++)
		FUZZ_CHECK(m.port[i].port == p->open[i].port &&
		    m.port[i].proto == p->open[i].proto);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct profile_file pf;
	static struct profile one;
	static struct cfg_errors err;
	const char *file = "fuzz.conf";
	unsigned lines = 1;
	int found = 0;

	if (size < 1)
		return 0;
	for (size_t i = 1; i < size; i++)
		lines += data[i] == '\n';
	memset(&err, 0, sizeof(err));
	if (data[0] % 2 == 0) {
		profile_parse((const char *)data + 1, size - 1, file, &pf, &err);
	} else {
		file = "fuzz.rc";
		fwknoprc_parse((const char *)data + 1, size - 1, file, "gk",
		    &one, &found, &err);
	}
	for (unsigned i = 0; i < err.n && i < CFG_MAX_ERRORS; i++) {
		size_t fl = strlen(file);
		unsigned line = 0;

		FUZZ_CHECK(strncmp(err.msg[i], file, fl) == 0);
		FUZZ_CHECK(sscanf(err.msg[i] + fl, ":%u: ", &line) == 1);
		FUZZ_CHECK(line >= 1 && line <= lines);
	}
	if (err.n != 0)
		return 0;
	if (data[0] % 2 == 0) {
		FUZZ_CHECK(pf.n <= PROF_MAX);
		for (unsigned i = 0; i < pf.n; i++)
			check_profile(&pf.p[i]);
	} else if (found) {
		check_profile(&one);
	}
	return 0;
}

/*
 * Fuzz target for the SPA decoder: every byte of an SPA packet is
 * untrusted.  The input is a wire payload, opened with the keys of the
 * fixtures (tests/fixtures/spa, which seed the corpus, so the fuzzer
 * starts from authentic packets).  Invariants:
 *  - spa_precheck() and spa_open() agree on the cheap checks;
 *  - a packet that opens says something sane: a printable user, a type
 *    0..6, at most SPA_MAX_PORTS tcp/udp ports 1..65535, a timeout within
 *    fwknop's limit, an address of a known family;
 *  - an opened packet sealed again with the same fields opens again to
 *    the same fields (the encoder and the decoder agree);
 *  - with a wrong HMAC key nothing opens.
 * An input starting with a NUL byte (never in base64) is a plaintext
 * instead: the next byte picks the inner digest, the rest is the text
 * before it, sealed with the keys and then opened.  Random wire bytes
 * never pass the HMAC; this mode lets the fuzzer reach the field decoder.
 * A sealed text must pass the HMAC and the cipher, whatever it says.
 */
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "spa.h"

static struct spa_keys keys, wrong;

static void
init(void)
{
	static const char k[] = "NHmbVfjBaM8t+v0kuM8YEWwTlx0xXo1cO40DbMcSXUc=";
	static const char h[] = "UVuXlip0xwQGNopFafVxOBHQFtAhF5JYRkn+wvzm9FtH"
	    "lOfR4uqkFrn7q0MmWO2r70JpHzDTDR/Zz5YD1qO+AQ==";

	if (keys.key_len != 0)
		return;
	keys.key_len = (size_t)spa_b64_decode(k, strlen(k), keys.key,
	    sizeof(keys.key));
	keys.hmac_len = (size_t)spa_b64_decode(h, strlen(h), keys.hmac,
	    sizeof(keys.hmac));
	keys.hmac_type = SPA_SHA256;
	wrong = keys;
	wrong.hmac[0] ^= 1;
}

/* What an opened packet says must be sane, and survive sealing again. */
static void
check_opened(const struct spa_msg *mp)
{
	struct spa_msg m = *mp, m2;
	char msg[512], w[SPA_MAX_LEN + 1];
	uint8_t rnd[SPA_RANDOM_LEN] = { 7 };
	size_t o, n;

	FUZZ_CHECK(m.user[0] != '\0' && strlen(m.user) <= SPA_USER_MAX);
	for (const char *u = m.user; *u; u++)
		FUZZ_CHECK(*u >= 0x20 && *u <= 0x7e);
	FUZZ_CHECK(m.type <= SPA_TIMEOUT_LOCAL_NAT_ACCESS);
	FUZZ_CHECK(m.timeout <= SPA_MAX_CLIENT_TIMEOUT);
	if (m.type != SPA_ACCESS && m.type != SPA_TIMEOUT_ACCESS)
		return;
	FUZZ_CHECK(m.nports >= 1 && m.nports <= SPA_MAX_PORTS);
	FUZZ_CHECK(m.allow.family == AF_INET || m.allow.family == AF_INET6);
	addr_format(&m.allow, msg, sizeof(msg));
	o = strlen(msg);
	for (unsigned i = 0; i < m.nports; i++) {
		FUZZ_CHECK(m.port[i].port >= 1);
		FUZZ_CHECK(m.port[i].proto == IPPROTO_TCP ||
		    m.port[i].proto == IPPROTO_UDP);
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, ",%s/%u",
		    m.port[i].proto == IPPROTO_TCP ? "tcp" : "udp",
		    m.port[i].port);
	}
	/* Sealed again, it opens to the same (when it fits fwknop's 192
	 * bytes of message). */
	if (o <= 192 && m.timestamp >= 0) {
		struct spa_request rq = { .user = m.user,
		    .timestamp = m.timestamp, .message = msg,
		    .timeout = m.type == SPA_TIMEOUT_ACCESS ? m.timeout : 0,
		    .digest = m.digest };

		n = spa_seal(&rq, &keys, rnd, w, sizeof(w));
		if (n > 0 && (rq.timeout > 0 || m.type == SPA_ACCESS)) {
			FUZZ_CHECK(spa_open((uint8_t *)w, n, &keys, &m2) ==
			    SPA_OK);
			FUZZ_CHECK(strcmp(m2.user, m.user) == 0);
			FUZZ_CHECK(m2.timestamp == m.timestamp);
			FUZZ_CHECK(m2.nports == m.nports);
			FUZZ_CHECK(addr_equal(&m2.allow, &m.allow));
		}
	}
}

/* The plaintext mode (after the NUL): a digest byte, then the text. */
static void
fuzz_text(const uint8_t *data, size_t size)
{
	static const uint8_t salt[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	char w[SPA_MAX_LEN + 1];
	struct spa_msg m;
	enum spa_result r;
	enum spa_hash dig;
	size_t n;

	if (size < 1)
		return;
	dig = (enum spa_hash)(1 + data[0] % (SPA_NHASH - 1));
	n = spa_seal_text((const char *)data + 1, size - 1, dig, &keys, salt,
	    w, sizeof(w));
	if (n == 0)
		return;
	FUZZ_CHECK(n == strlen(w));
	r = spa_open((const uint8_t *)w, n, &keys, &m);
	FUZZ_CHECK(r < SPA_NRESULTS);
	if (n >= SPA_MIN_LEN)
		FUZZ_CHECK(r != SPA_E_HMAC && r != SPA_E_BASE64 &&
		    r != SPA_E_LENGTH && r != SPA_E_PREFIX);
	if (r == SPA_OK)
		check_opened(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spa_msg m, m2;
	enum spa_result pre, r;

	init();
	if (size > 0 && data[0] == 0) {
		fuzz_text(data + 1, size - 1);
		return 0;
	}
	pre = spa_precheck(data, size);
	r = spa_open(data, size, &keys, &m);
	FUZZ_CHECK(r < SPA_NRESULTS);
	FUZZ_CHECK(pre == SPA_OK || r == pre);
	FUZZ_CHECK(spa_open(data, size, &wrong, &m2) != SPA_OK);
	if (r == SPA_OK)
		check_opened(&m);
	return 0;
}

/* Unit tests: the SPA codec against packets Debian's fwknop client
 * (2.6.10) really sent, kept with their keys in tests/fixtures/spa/
 * (NAME.payload: the UDP payload; NAME.txt: the command line, the keys and
 * the client's own dump of the fields).  Known answers first, then every
 * way to spoil a packet, then our own sealing read back. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "spa.h"
#include "suites.h"

#ifndef FIXTURE_DIR
#define FIXTURE_DIR "tests/fixtures"
#endif

struct fixture {
	char wire[SPA_MAX_LEN + 2];
	size_t len;
	struct spa_keys keys;
	char user[80], message[256], digest_b64[64];
	long long timestamp;
	int type, digest, timeout;
};

/* The value after "key" at the start of a line of text, or NULL. */
static const char *
field(const char *text, const char *key, char *out, size_t outlen)
{
	const char *p = text;
	size_t k = strlen(key);

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		const char *s = p, *e;

		while (*s == ' ')
			s++;
		if (strncmp(s, key, k) != 0)
			continue;
		s += k;
		while (*s == ' ')
			s++;
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		if ((size_t)(e - s) >= outlen)
			return NULL;
		memcpy(out, s, (size_t)(e - s));
		out[e - s] = '\0';
		return out;
	}
	return NULL;
}

static size_t
slurp(const char *name, const char *ext, char *buf, size_t len)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/spa/%s.%s", FIXTURE_DIR, name, ext);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

/* The last character of a wire text with its undecoded bits cleared. */
static char
canonical_last(const char *w, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/";
	static const unsigned spare[4] = { 0, 0, 0x0f, 0x03 };
	const char *c = strchr(abc, w[len - 1]);

	return abc[(unsigned)(c - abc) & ~spare[(10 + len) % 4]];
}

static void
load(const char *name, struct fixture *fx)
{
	static char text[16384];
	char v[512];
	long n;

	memset(fx, 0, sizeof(*fx));
	fx->len = slurp(name, "payload", fx->wire, sizeof(fx->wire));
	slurp(name, "txt", text, sizeof(text));
	ck_assert_ptr_nonnull(field(text, "rijndael_key_base64:", v, sizeof(v)));
	n = spa_b64_decode(v, strlen(v), fx->keys.key, sizeof(fx->keys.key));
	ck_assert_int_gt(n, 0);
	fx->keys.key_len = (size_t)n;
	ck_assert_ptr_nonnull(field(text, "hmac_digest_type:", v, sizeof(v)));
	fx->keys.hmac_type = spa_hash_from_name(v, strlen(v));
	ck_assert_ptr_nonnull(field(text, "hmac_key_base64:", v, sizeof(v)));
	if (strcmp(v, "-") != 0) {
		n = spa_b64_decode(v, strlen(v), fx->keys.hmac,
		    sizeof(fx->keys.hmac));
		ck_assert_int_gt(n, 0);
		fx->keys.hmac_len = (size_t)n;
	}
	ck_assert_ptr_nonnull(field(text, "Username:", fx->user,
	    sizeof(fx->user)));
	ck_assert_ptr_nonnull(field(text, "Message String:", fx->message,
	    sizeof(fx->message)));
	ck_assert_ptr_nonnull(field(text, "replay_digest_sha256_b64:",
	    fx->digest_b64, sizeof(fx->digest_b64)));
	fx->timestamp = atoll(field(text, "Timestamp:", v, sizeof(v)));
	fx->type = atoi(field(text, "Message Type:", v, sizeof(v)));
	fx->digest = atoi(field(text, "Digest Type:", v, sizeof(v)));
	fx->timeout = atoi(field(text, "Client Timeout:", v, sizeof(v)));
}

/* The access message as text again, from what spa_open decoded. */
static void
message_text(const struct spa_msg *m, char *buf, size_t len)
{
	size_t o;

	addr_format(&m->allow, buf, len);
	o = strlen(buf);
	for (unsigned i = 0; i < m->nports; i++)
		o += (size_t)snprintf(buf + o, len - o, ",%s/%u",
		    m->port[i].proto == IPPROTO_TCP ? "tcp" : "udp",
		    m->port[i].port);
}

/* Access fixtures: every one decodes to what the client said it sent. */
static const char *const access_fixtures[] = {
	"access_allow_ip", "access_multi_port", "access_source_ip",
	"client_timeout_600", "digest_m_flag_sha1", "digest_md5",
	"digest_sha1", "digest_sha256", "digest_sha384", "digest_sha3_256",
	"digest_sha3_512", "digest_sha512", "future_plus_5m", "hmac_md5",
	"hmac_sha1", "hmac_sha384", "hmac_sha3_256", "hmac_sha3_512",
	"hmac_sha512", "no_hmac", "passphrase_key_cbc", "server_port_40001",
	"spoof_user_alice", "stale_minus_10m",
};

START_TEST(test_known_answers)
{
	struct fixture fx;
	struct spa_msg m;
	char text[256], b64[64];
	uint8_t d[SPA_DIGEST_LEN];
	const char *name = access_fixtures[_i];

	load(name, &fx);
	ck_assert_int_eq(spa_precheck((uint8_t *)fx.wire, fx.len), SPA_OK);
	ck_assert_msg(spa_open((uint8_t *)fx.wire, fx.len, &fx.keys, &m) ==
	    SPA_OK, "%s: %s", name,
	    spa_result_name(spa_open((uint8_t *)fx.wire, fx.len, &fx.keys, &m)));
	ck_assert_str_eq(m.user, fx.user);
	ck_assert_int_eq(m.timestamp, fx.timestamp);
	ck_assert_str_eq(m.version, "3.0.0");
	ck_assert_int_eq(m.type, fx.type);
	ck_assert_int_eq(m.digest, fx.digest);
	ck_assert_int_eq(m.timeout, fx.timeout);
	message_text(&m, text, sizeof(text));
	ck_assert_str_eq(text, fx.message);
	ck_assert_int_eq(m.allow_any, strncmp(fx.message, "0.0.0.0,", 8) == 0);
	/* The fixture's digest is SHA-256 of the wire as sent; ours is the
	 * same whenever the last character has no undecoded bits set. */
	spa_replay_digest((uint8_t *)fx.wire, fx.len, d);
	spa_b64_encode(d, sizeof(d), b64, sizeof(b64));
	if (canonical_last(fx.wire, fx.len) == fx.wire[fx.len - 1])
		ck_assert_str_eq(b64, fx.digest_b64);
	else
		ck_assert_str_ne(b64, fx.digest_b64);
}
END_TEST

/* Without an HMAC, every spelling of the last character that decodes
 * alike opens alike: all must be one packet to the replay cache. */
START_TEST(test_replay_spellings)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/";
	struct fixture fx;
	struct spa_msg m;
	uint8_t d0[SPA_DIGEST_LEN], d[SPA_DIGEST_LEN];
	char canon = 0;
	unsigned same = 0, opened = 0;

	load("no_hmac", &fx);
	canon = canonical_last(fx.wire, fx.len);
	fx.wire[fx.len - 1] = canon;
	spa_replay_digest((uint8_t *)fx.wire, fx.len, d0);
	for (int i = 0; i < 64; i++) {
		fx.wire[fx.len - 1] = abc[i];
		if (spa_open((uint8_t *)fx.wire, fx.len, &fx.keys, &m) != SPA_OK)
			continue;
		opened++;
		spa_replay_digest((uint8_t *)fx.wire, fx.len, d);
		same += memcmp(d, d0, sizeof(d)) == 0;
	}
	ck_assert_uint_gt(opened, 1);		/* there are spellings */
	ck_assert_uint_eq(same, opened);	/* all one packet */
}
END_TEST

/* Commands and NAT requests decode, with their type, for the caller to
 * refuse by name. */
START_TEST(test_other_types)
{
	static const struct { const char *name; enum spa_type type; } t[] = {
		{ "command_id", SPA_COMMAND },
		{ "nat_access", SPA_NAT_ACCESS },
		{ "nat_access_timeout", SPA_TIMEOUT_NAT_ACCESS },
		{ "nat_local", SPA_LOCAL_NAT_ACCESS },
		{ "nat_local_timeout", SPA_TIMEOUT_LOCAL_NAT_ACCESS },
	};
	struct fixture fx;
	struct spa_msg m;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		load(t[i].name, &fx);
		ck_assert_int_eq(spa_open((uint8_t *)fx.wire, fx.len, &fx.keys,
		    &m), SPA_OK);
		ck_assert_int_eq(m.type, t[i].type);
		ck_assert_uint_eq(m.nports, 0);
	}
}
END_TEST

/* Legacy mode pads a short key with '0's: the key as given never opens
 * it, so no legacy packet is ever accepted. */
START_TEST(test_legacy_refused)
{
	struct fixture fx;
	struct spa_msg m;

	load("legacy_mode_shortpw", &fx);
	ck_assert_uint_eq(fx.keys.hmac_len, 0);
	ck_assert_int_ne(spa_open((uint8_t *)fx.wire, fx.len, &fx.keys, &m),
	    SPA_OK);
	memcpy(fx.keys.key, "shortpw000000000", 16);
	fx.keys.key_len = 16;
	ck_assert_int_eq(spa_open((uint8_t *)fx.wire, fx.len, &fx.keys, &m),
	    SPA_OK);	/* so the fixture is what it says */
}
END_TEST

START_TEST(test_wrong_keys)
{
	struct fixture fx, other;
	struct spa_msg m;
	struct spa_keys k;

	load("access_allow_ip", &fx);
	load("hmac_sha512", &other);
	/* Another HMAC key, another HMAC type, no HMAC key at all. */
	k = fx.keys;
	memcpy(k.hmac, other.keys.hmac, other.keys.hmac_len);
	k.hmac_len = other.keys.hmac_len;
	ck_assert_int_eq(spa_open((uint8_t *)fx.wire, fx.len, &k, &m),
	    SPA_E_HMAC);
	k = fx.keys;
	k.hmac_type = SPA_SHA512;
	ck_assert_int_eq(spa_open((uint8_t *)fx.wire, fx.len, &k, &m),
	    SPA_E_HMAC);
	k = fx.keys;
	k.hmac_len = 0;
	ck_assert_int_ne(spa_open((uint8_t *)fx.wire, fx.len, &k, &m), SPA_OK);
	/* The right HMAC key and a wrong encryption key. */
	k = fx.keys;
	k.key[0] ^= 1;
	ck_assert_int_eq(spa_open((uint8_t *)fx.wire, fx.len, &k, &m),
	    SPA_E_DECRYPT);
	/* A packet without HMAC at a door that wants one. */
	load("no_hmac", &other);
	ck_assert_int_eq(spa_open((uint8_t *)other.wire, other.len, &fx.keys,
	    &m), SPA_E_HMAC);
}
END_TEST

/* Two flipped bits of every byte, and every truncation, are refused. */
START_TEST(test_spoiled)
{
	struct fixture fx;
	struct spa_msg m;
	char w[SPA_MAX_LEN + 2];

	load(_i ? "no_hmac" : "access_multi_port", &fx);
	for (size_t i = 0; i < fx.len; i++)
		for (int b = (int)(i % 4); b < 8; b += 4) {
			memcpy(w, fx.wire, fx.len);
			w[i] ^= (char)(1 << b);
			ck_assert_msg(spa_open((uint8_t *)w, fx.len, &fx.keys,
			    &m) != SPA_OK, "byte %zu bit %d", i, b);
		}
	for (size_t n = 0; n < fx.len; n++)
		ck_assert_int_ne(spa_open((uint8_t *)fx.wire, n, &fx.keys, &m),
		    SPA_OK);
}
END_TEST

/* fwknopd's pre-checks: length, alphabet, the prefix put back. */
START_TEST(test_precheck)
{
	struct fixture fx;
	struct spa_msg m;
	char w[SPA_MAX_LEN + 32];

	load("access_allow_ip", &fx);
	ck_assert_int_eq(spa_precheck((uint8_t *)fx.wire, 139), SPA_E_LENGTH);
	ck_assert_int_eq(spa_precheck((uint8_t *)fx.wire, 140), SPA_OK);
	memcpy(w, fx.wire, fx.len);
	w[fx.len] = '\n';
	ck_assert_int_eq(spa_precheck((uint8_t *)w, fx.len + 1), SPA_E_BASE64);
	w[fx.len] = '=';
	ck_assert_int_eq(spa_open((uint8_t *)w, fx.len + 1, &fx.keys, &m),
	    SPA_E_BASE64);
	memcpy(w, SPA_PREFIX, SPA_PREFIX_LEN);
	memcpy(w + SPA_PREFIX_LEN, fx.wire, fx.len);
	ck_assert_int_eq(spa_open((uint8_t *)w, fx.len + SPA_PREFIX_LEN,
	    &fx.keys, &m), SPA_E_PREFIX);
	memset(w, 'A', sizeof(w));
	w[0] = 'h';
	w[1] = 'Q';
	ck_assert_int_eq(spa_precheck((uint8_t *)w, 401), SPA_E_PREFIX);
	ck_assert_int_eq(spa_precheck((uint8_t *)w, 400), SPA_OK);
	ck_assert_int_eq(spa_precheck((uint8_t *)w, SPA_MAX_LEN + 1),
	    SPA_E_LENGTH);
}
END_TEST

/* What we seal, we open, with every HMAC and digest type; the digest of
 * the wire differs every time (fresh salt and random digits). */
START_TEST(test_seal_open)
{
	struct fixture fx;
	struct spa_request r = { .user = "alice", .timestamp = 1796165394,
	    .message = "10.0.0.7,tcp/22,udp/53" };
	struct spa_keys k;
	struct spa_msg m;
	uint8_t rnd[SPA_RANDOM_LEN];
	char w[SPA_MAX_LEN + 1], text[128];
	size_t n;

	load("access_allow_ip", &fx);
	k = fx.keys;
	k.hmac_type = (enum spa_hash)(SPA_MD5 + _i % 7);
	r.digest = (enum spa_hash)(SPA_MD5 + (_i / 7) % 7);
	r.timeout = _i % 2 ? 600 : 0;
	for (size_t j = 0; j < sizeof(rnd); j++)
		rnd[j] = (uint8_t)(j * 37 + (unsigned)_i);
	n = spa_seal(&r, &k, rnd, w, sizeof(w));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(strlen(w), n);
	ck_assert_int_eq(spa_open((uint8_t *)w, n, &k, &m), SPA_OK);
	ck_assert_str_eq(m.user, "alice");
	ck_assert_int_eq(m.timestamp, r.timestamp);
	ck_assert_int_eq(m.digest, r.digest);
	ck_assert_int_eq(m.type, r.timeout ? SPA_TIMEOUT_ACCESS : SPA_ACCESS);
	ck_assert_uint_eq(m.timeout, r.timeout);
	message_text(&m, text, sizeof(text));
	ck_assert_str_eq(text, r.message);
	/* Another key cannot open it. */
	k.hmac[3] ^= 0x40;
	ck_assert_int_eq(spa_open((uint8_t *)w, n, &k, &m), SPA_E_HMAC);
}
END_TEST

/* IPv6 inside the message (our client's; fwknop's cannot), and messages
 * fwknop's validator refuses. */
START_TEST(test_messages)
{
	static const struct { const char *msg; int ok; } t[] = {
		{ "2001:db8::7,tcp/22", 1 },
		{ "0.0.0.0,udp/51820,tcp/443", 1 },
		{ "10.0.0.7,TCP/22", 0 },
		{ "10.0.0.7,icmp/0", 0 },
		{ "10.0.0.7,tcp/0", 0 },
		{ "10.0.0.7,tcp/65536", 0 },
		{ "10.0.0.7,tcp/22,", 0 },
		{ "10.0.0.7,tcp/", 0 },
		{ "010.0.0.7,tcp/22", 0 },	/* octal to fwknop: refused */
		{ "host.example,tcp/22", 0 },
		{ "10.0.0.7", 0 },
	};
	struct fixture fx;
	struct spa_request r = { .user = "u", .timestamp = 1 };
	struct spa_msg m;
	uint8_t rnd[SPA_RANDOM_LEN] = { 1, 2, 3 };
	char w[SPA_MAX_LEN + 1];
	size_t n;

	load("access_allow_ip", &fx);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r.message = t[i].msg;
		n = spa_seal(&r, &fx.keys, rnd, w, sizeof(w));
		ck_assert_uint_gt(n, 0);
		ck_assert_msg((spa_open((uint8_t *)w, n, &fx.keys, &m) ==
		    SPA_OK) == t[i].ok, "%s", t[i].msg);
	}
	r.message = "2001:db8::7,tcp/22";
	n = spa_seal(&r, &fx.keys, rnd, w, sizeof(w));
	ck_assert_int_eq(spa_open((uint8_t *)w, n, &fx.keys, &m), SPA_OK);
	ck_assert_int_eq(m.allow.family, AF_INET6);
	ck_assert_int_eq(m.allow_any, 0);
	/* Names fwknop refuses are not sealed. */
	r.user = "bad:user";
	ck_assert_uint_eq(spa_seal(&r, &fx.keys, rnd, w, sizeof(w)), 0);
}
END_TEST

START_TEST(test_b64)
{
	uint8_t out[8];
	char s[16];

	ck_assert_int_eq(spa_b64_decode("Zg", 2, out, sizeof(out)), 1);
	ck_assert_int_eq(out[0], 'f');
	ck_assert_int_eq(spa_b64_decode("Zg==", 4, out, sizeof(out)), 1);
	ck_assert_int_eq(spa_b64_decode("Zm9v", 4, out, sizeof(out)), 3);
	ck_assert_int_eq(spa_b64_decode("Zg=x", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(spa_b64_decode("Z", 1, out, sizeof(out)), -1);
	ck_assert_int_eq(spa_b64_decode("Zm9v!", 5, out, sizeof(out)), -1);
	ck_assert_int_eq(spa_b64_decode("Zm9vYmFy", 8, out, 5), -1);
	ck_assert_uint_eq(spa_b64_encode((const uint8_t *)"fo", 2, s,
	    sizeof(s)), 3);
	ck_assert_str_eq(s, "Zm8");
	ck_assert_int_eq(spa_hash_from_name("SHA3_512", 8), SPA_SHA3_512);
	ck_assert_int_eq(spa_hash_from_name("sha3", 4), SPA_HASH_NONE);
	ck_assert_uint_eq(spa_hash_b64_len(SPA_SHA384), 64);
}
END_TEST

Suite *
spa_suite(void)
{
	Suite *s = suite_create("spa");
	TCase *tc = tcase_create("spa");

	tcase_add_loop_test(tc, test_known_answers, 0,
	    (int)(sizeof(access_fixtures) / sizeof(access_fixtures[0])));
	tcase_add_test(tc, test_other_types);
	tcase_add_test(tc, test_replay_spellings);
	tcase_add_test(tc, test_legacy_refused);
	tcase_add_test(tc, test_wrong_keys);
	tcase_add_loop_test(tc, test_spoiled, 0, 2);
	tcase_add_test(tc, test_precheck);
	tcase_add_loop_test(tc, test_seal_open, 0, 49);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_b64);
	suite_add_tcase(s, tc);
	return s;
}

/* Unit tests: the client's knock.conf profiles and ~/.fwknoprc stanzas. */
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "fwknoprc.h"
#include "profile.h"
#include "suites.h"
#include "testutil.h"

#define K64 "NHmbVfjBaM8t+v0kuM8YEWwTlx0xXo1cO40DbMcSXUc="
#define H64 "UVuXlip0xwQGNopFafVxOBHQFtAhF5JYRkn+wvzm9FtHlOfR4uqkFrn7q0MmWO2r" \
	    "70JpHzDTDR/Zz5YD1qO+AQ=="

static struct profile_file pf;
static struct cfg_errors err;
static struct profile rp;

static unsigned
parse(const char *text)
{
	memset(&err, 0, sizeof(err));
	return profile_parse(text, strlen(text), "knock.conf", &pf, &err);
}

static unsigned
parse_rc(const char *text, const char *name, int *found)
{
	memset(&err, 0, sizeof(err));
	return fwknoprc_parse(text, strlen(text), ".fwknoprc", name, &rp,
	    found, &err);
}

/* The first error starts with want. */
#define ERR(want) do {							\
	ck_assert_uint_ge(err.n, 1);					\
	ck_assert_msg(strncmp(err.msg[0], want, strlen(want)) == 0,	\
	    "got '%s', want '%s...'", err.msg[0], want);		\
} while (0)

START_TEST(issue_example)
{
	const struct profile *p;

	ck_assert_uint_eq(parse(
	    "# profiles\n"
	    "[home-ssh]\n"
	    "    Host     = server.example.org     # name or address\n"
	    "    Sequence = 7000,8000:udp,9000     # knockd syntax\n"
	    "    Delay    = 100                    # ms between hits\n"
	    "[vpn]\n"
	    "    Host                = 2001:db8::7\n"
	    "    SPA_Key_Base64      = " K64 "\n"
	    "    SPA_HMAC_Key_Base64 = " H64 "\n"
	    "    SPA_HMAC_Digest     = sha512\n"
	    "    Open_Ports          = 51820:udp   # what to ask for\n"
	    "    Open_Timeout        = 120\n"
	    "    Allow_IP            = source\n"), 0);
	ck_assert_uint_eq(pf.n, 2);
	ck_assert_int_eq(pf.secrets, 1);
	p = profile_find(&pf, "home-ssh");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->host, "server.example.org");
	ck_assert_uint_eq(p->seq_len, 3);
	ck_assert_uint_eq(p->seq[1].port, 8000);
	ck_assert_uint_eq(p->seq[1].proto, IPPROTO_UDP);
	ck_assert_uint_eq(p->seq[2].proto, IPPROTO_TCP);
	ck_assert_uint_eq(p->delay_ms, 100);
	ck_assert_int_eq(p->spa, 0);
	p = profile_find(&pf, "vpn");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->spa, 1);
	ck_assert_uint_eq(p->keys.key_len, 32);
	ck_assert_uint_eq(p->keys.hmac_len, 64);
	ck_assert_int_eq(p->keys.hmac_type, SPA_SHA512);
	ck_assert_uint_eq(p->nopen, 1);
	ck_assert_uint_eq(p->open[0].port, 51820);
	ck_assert_uint_eq(p->open[0].proto, IPPROTO_UDP);
	ck_assert_uint_eq(p->timeout, 120);
	ck_assert_int_eq(p->allow_source, 1);
	ck_assert_uint_eq(p->spa_port, 62201);
	ck_assert_ptr_null(profile_find(&pf, "VPN"));
}
END_TEST

START_TEST(keys_any_case_and_options)
{
	const struct profile *p;
	char msg[128];

	ck_assert_uint_eq(parse(
	    "[a]\nHOST=10.0.0.1\nsequence = 1,2:udp\nsource_port = 4000\n"
	    "family = 6\n"
	    "[b]\nhost = h\nspa_key = a passphrase\nspa_hmac_key = other\n"
	    "open_ports = 22, 53:udp\nallow_ip = 192.0.2.9\nspa_port = 4001\n"
	    "spa_user = alice\ntime_offset = -5m\nspa_digest = sha3_256\n"
	    "wait_port = 22\nwait_timeout = 30\n"
	    "command = ssh -p 22 $GK_ADDR # not a comment#here\n"), 0);
	p = profile_find(&pf, "a");
	ck_assert_uint_eq(p->source_port, 4000);
	ck_assert_int_eq(p->family, 6);
	p = profile_find(&pf, "b");
	ck_assert_uint_eq(p->keys.key_len, strlen("a passphrase"));
	ck_assert_int_eq(memcmp(p->keys.key, "a passphrase", 12), 0);
	ck_assert_int_eq(p->allow_source, 0);
	ck_assert_uint_eq(p->spa_port, 4001);
	ck_assert_str_eq(p->user, "alice");
	ck_assert_int_eq(p->time_offset, -300);
	ck_assert_int_eq(p->digest, SPA_SHA3_256);
	ck_assert_uint_eq(p->wait_port, 22);
	ck_assert_uint_eq(p->wait_timeout, 30);
	ck_assert_str_eq(p->command, "ssh -p 22 $GK_ADDR");
	ck_assert_int_eq(profile_access_message(p, "192.0.2.9", msg,
	    sizeof(msg)), 0);
	ck_assert_str_eq(msg, "192.0.2.9,tcp/22,udp/53");
	ck_assert_int_eq(profile_access_message(p, "192.0.2.9", msg, 12), -1);
}
END_TEST

START_TEST(errors_name_file_and_line)
{
	parse("[x]\nHost = a\nSequnce = 1\n");
	ERR("knock.conf:3: unknown key 'Sequnce' (allowed: Host,");
	parse("Host = a\n");
	ERR("knock.conf:1: 'Host' before any [profile]");
	parse("[x]\nHost = a\nSequence = 1,2\nSequence = 3\n");
	ERR("knock.conf:4: Sequence given twice in [x]");
	parse("[x]\nHost = a\nSequence = 1,2\n[x]\nHost = b\nSequence = 3\n");
	ERR("knock.conf:4: profile [x] defined twice");
	parse("[x]\nSequence = 1,2\n");
	ERR("knock.conf:1: profile [x] has no Host");
	parse("[x]\nHost = a\n");
	ERR("knock.conf:1: profile [x] knocks nothing");
	parse("[x]\nHost = a\nSequence = 1,70000\n");
	ERR("knock.conf:3: bad port '70000' in Sequence");
	parse("[x]\nHost = a\nSPA_Key_Base64 = " K64 "\nOpen_Ports = 22\n");
	ERR("knock.conf:1: profile [x] has no SPA_HMAC_Key");
	parse("[x]\nHost = a\nSPA_Key_Base64 = " K64 "\nSPA_HMAC_Key_Base64 = "
	    H64 "\n");
	ERR("knock.conf:1: profile [x] asks for no port");
	parse("[x]\nHost = a\nSequence = 1,2\nOpen_Ports = 22\n");
	ERR("knock.conf:1: profile [x] sets SPA options but has no SPA keys");
	parse("[x]\nHost = a\nSPA_Key = same\nSPA_HMAC_Key = same\n"
	    "Open_Ports = 22\n");
	ERR("knock.conf:1: profile [x]: the key and the HMAC key are the same");
	parse("[x]\nHost = a\nSPA_Key_Base64 = !!!\n");
	ERR("knock.conf:3: bad SPA_Key_Base64 (allowed: 1-32 bytes, in base64)");
	parse("[x]\nHost = a\nSequence = 1,2\nAllow_IP = me\n");
	ERR("knock.conf:4: bad Allow_IP 'me'");
	parse("[x]\nHost = a\nSequence = 1,2\nDelay = 60001\n");
	ERR("knock.conf:4: bad Delay '60001'");
	parse("[x y]\nHost = a\nSequence = 1,2\n");
	ERR("knock.conf:1: bad profile name 'x y'");
	parse("[x]\nHost = a\nSPA_Key = k\nSPA_HMAC_Key = h\nOpen_Ports = "
	    "60001,60002,60003,60004,60005,60006,60007,60008,60009,60010,"
	    "60011,60012,60013,60014,60015,60016,60017,60018,60019,60020\n");
	ERR("knock.conf:1: profile [x]: asks for too many ports");
	parse("[x]\nHost = a\nSequence = 1,2\nSPA_User = a;b\n");
	ERR("knock.conf:4: bad SPA_User 'a;b'");
	parse("[x]\nHost = a\nSequence = 1,2\nSPA_User = "
	    "0123456789012345678901234567890123456789012345678901234567890123\n");
	ERR("knock.conf:4: bad SPA_User");
	parse("[x]\nHost = a\nSequence = 1,2\njunk\n");
	ERR("knock.conf:4: 'junk' is not 'Key = value'");
	parse("[x]\nHost\n");
	ck_assert_uint_ge(err.n, 1);
}
END_TEST

START_TEST(secrets_flag)
{
	ck_assert_uint_eq(parse("[x]\nHost = a\nSequence = 1,2\n"), 0);
	ck_assert_int_eq(pf.secrets, 0);
	/* A key in a profile that is wrong still makes the file secret. */
	parse("[x]\nSPA_HMAC_Key = k\n");
	ck_assert_int_eq(pf.secrets, 1);
}
END_TEST

static const char rc[] =
    "# fwknop client\n"
    "[default]\n"
    "HMAC_DIGEST_TYPE    sha512\n"
    "SPA_SERVER_PORT     40001\n"
    "\n"
    "[Home]\n"
    "SPA_SERVER:         server.example.org\n"
    "ACCESS              tcp/22,udp/51820;anything after\n"
    "ALLOW_IP            source\n"
    "KEY_BASE64          " K64 "\n"
    "HMAC_KEY_BASE64     " H64 "#comment\n"
    "HMAC_DIGEST_TYPE    sha256\n"
    "USE_HMAC            Y\n"
    "FW_TIMEOUT          45\n"
    "SPOOF_USER          bob\n"
    "VERBOSE             Y\n"
    "USE_GPG             N\n"
    "[gpg]\n"
    "USE_GPG             Y\n"
    "GPG_RECIPIENT       1234\n";

START_TEST(fwknoprc_stanza)
{
	int found;

	ck_assert_uint_eq(parse_rc(rc, "home", &found), 0);
	ck_assert_int_eq(found, 1);
	ck_assert_int_eq(rp.spa, 1);
	ck_assert_str_eq(rp.host, "server.example.org");
	ck_assert_uint_eq(rp.spa_port, 40001);	/* from [default] */
	ck_assert_int_eq(rp.keys.hmac_type, SPA_SHA256);	/* overridden */
	ck_assert_uint_eq(rp.nopen, 2);
	ck_assert_uint_eq(rp.open[1].port, 51820);
	ck_assert_uint_eq(rp.open[1].proto, IPPROTO_UDP);
	ck_assert_uint_eq(rp.keys.key_len, 32);
	ck_assert_uint_eq(rp.keys.hmac_len, 64);
	ck_assert_uint_eq(rp.timeout, 45);
	ck_assert_str_eq(rp.user, "bob");
	ck_assert_int_eq(rp.allow_source, 1);
	ck_assert_uint_eq(rp.line, 6);
	ck_assert_uint_eq(parse_rc(rc, "nosuch", &found), 0);
	ck_assert_int_eq(found, 0);
}
END_TEST

START_TEST(fwknoprc_refusals)
{
	int found;

	parse_rc(rc, "gpg", &found);
	ck_assert_int_eq(found, 1);
	ERR(".fwknoprc:19: USE_GPG is refused: GPG");
	parse_rc("[x]\nSPA_SERVER a\nALLOW_IP resolve\n", "x", &found);
	ERR(".fwknoprc:3: ALLOW_IP resolve is refused");
	parse_rc("[x]\nNAT_ACCESS 192.168.1.2,22\n", "x", &found);
	ERR(".fwknoprc:2: NAT_ACCESS is refused: NAT");
	parse_rc("[x]\nSPOOF_SOURCE_IP 1.2.3.4\n", "x", &found);
	ERR(".fwknoprc:2: SPOOF_SOURCE_IP is refused");
	parse_rc("[x]\nKEY_FILE /k\n", "x", &found);
	ERR(".fwknoprc:2: KEY_FILE is refused");
	parse_rc("[x]\nSPA_SERVER_PROTO tcp\n", "x", &found);
	ERR(".fwknoprc:2: bad SPA_SERVER_PROTO 'tcp'");
	parse_rc("[x]\nENCRYPTION_MODE legacy\n", "x", &found);
	ERR(".fwknoprc:2: bad ENCRYPTION_MODE 'legacy'");
	parse_rc("[x]\nACCESS 22\n", "x", &found);
	ERR(".fwknoprc:2: bad ACCESS '22'");
	parse_rc("[x]\nSPA_SREVER a\n", "x", &found);
	ERR(".fwknoprc:2: unknown variable 'SPA_SREVER'");
	parse_rc("[x]\nSPA_SERVER a\nACCESS tcp/22\nKEY_BASE64 " K64 "\n"
	    "USE_HMAC N\n", "x", &found);
	ERR(".fwknoprc:1: stanza [x] has no HMAC_KEY_BASE64 or HMAC_KEY");
	/* A bad line in another stanza is not ours to judge. */
	ck_assert_uint_eq(parse_rc("[x]\nSPA_SERVER a\nACCESS tcp/22\n"
	    "KEY a\nHMAC_KEY b\n[y]\nUSE_GPG Y\n", "x", &found), 0);
	/* ... but one in [default] is, unless the stanza says otherwise. */
	parse_rc("[default]\nUSE_GPG yes\n[x]\nSPA_SERVER a\n", "x", &found);
	ERR(".fwknoprc:2: USE_GPG is refused");
	ck_assert_uint_eq(parse_rc("[default]\nUSE_GPG yes\n[x]\nSPA_SERVER a\n"
	    "ACCESS tcp/22\nKEY a\nHMAC_KEY b\nUSE_GPG N\n", "x", &found), 0);
	ck_assert_uint_eq(parse_rc("[default]\nALLOW_IP resolve\nSPOOF_USER a*b\n"
	    "NAT_ACCESS 1.2.3.4,22\n[x]\nSPA_SERVER a\nACCESS tcp/22\nKEY a\n"
	    "HMAC_KEY b\nALLOW_IP source\nSPOOF_USER bob\n", "x", &found), 1);
	ERR(".fwknoprc:4: NAT_ACCESS is refused");
	parse_rc("[default]\nSPA_SERVER a\nbad line here\n[x]\n", "x", &found);
	ERR(".fwknoprc:3: unknown variable 'bad'");
	parse_rc("[x]\nSPA_SERVER a\nACCESS tcp/22\nKEY a\nHMAC_KEY a\n", "x",
	    &found);
	ERR(".fwknoprc:1: stanza [x]: the key and the HMAC key are the same");
	parse_rc("[x]\nSPOOF_USER a*b\n", "x", &found);
	ERR(".fwknoprc:2: bad SPOOF_USER 'a*b'");
}
END_TEST

Suite *
profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("profile");

	tcase_add_test(tc, issue_example);
	tcase_add_test(tc, keys_any_case_and_options);
	tcase_add_test(tc, errors_name_file_and_line);
	tcase_add_test(tc, secrets_flag);
	tcase_add_test(tc, fwknoprc_stanza);
	tcase_add_test(tc, fwknoprc_refusals);
	suite_add_tcase(s, tc);
	return s;
}

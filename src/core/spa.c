/* spa: fwknop's SPA packets (pure; see spa.h for the format).  Every
 * cipher, hash, HMAC and base64 step is libcrypto's; this file only cuts
 * and joins the fields.  Secrets and their tags are compared with
 * CRYPTO_memcmp, as base64 text of equal, public lengths. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "spa.h"

/* The decrypted plaintext is at most this long (fwknopd: 1024). */
#define SPA_PLAIN_MAX	1024
/* Base64 field limits of fwknop's decoder. */
#define SPA_FIELD_MAX	256
#define SPA_RAND_LEN	16
#define SPA_VERSION	"3.0.0"

static const char *const result_names[SPA_NRESULTS] = {
	[SPA_OK] = "ok",
	[SPA_E_LENGTH] = "length",
	[SPA_E_BASE64] = "base64",
	[SPA_E_PREFIX] = "prefix",
	[SPA_E_HMAC] = "hmac",
	[SPA_E_DECRYPT] = "decrypt",
	[SPA_E_FORMAT] = "format",
	[SPA_E_DIGEST] = "digest",
	[SPA_E_MESSAGE] = "message",
};

const char *
spa_result_name(enum spa_result r)
{
	return (unsigned)r < SPA_NRESULTS ? result_names[r] : "unknown";
}

static const struct {
	const char *name;	/* fwknop's */
	const char *ossl;	/* libcrypto's */
	size_t len;		/* raw bytes */
} hashes[SPA_NHASH] = {
	[SPA_MD5] = { "md5", "MD5", 16 },
	[SPA_SHA1] = { "sha1", "SHA1", 20 },
	[SPA_SHA256] = { "sha256", "SHA256", 32 },
	[SPA_SHA384] = { "sha384", "SHA384", 48 },
	[SPA_SHA512] = { "sha512", "SHA512", 64 },
	[SPA_SHA3_256] = { "sha3_256", "SHA3-256", 32 },
	[SPA_SHA3_512] = { "sha3_512", "SHA3-512", 64 },
};

const char *
spa_hash_name(enum spa_hash h)
{
	return h > SPA_HASH_NONE && h < SPA_NHASH ? hashes[h].name : NULL;
}

enum spa_hash
spa_hash_from_name(const char *name, size_t len)
{
	for (int h = SPA_MD5; h < SPA_NHASH; h++)
		if (strlen(hashes[h].name) == len &&
		    strncasecmp(hashes[h].name, name, len) == 0)
			return (enum spa_hash)h;
	return SPA_HASH_NONE;
}

/* libcrypto's digest for h, fetched once (EVP_get_digestbyname is a table
 * lookup; the packet path should not fetch per packet). */
static const EVP_MD *
hash_md(enum spa_hash h)
{
	static const EVP_MD *md[SPA_NHASH];

	if (h <= SPA_HASH_NONE || h >= SPA_NHASH)
		return NULL;
	if (md[h] == NULL)
		md[h] = EVP_get_digestbyname(hashes[h].ossl);
	return md[h];
}

/* Unpadded base64 length of n bytes. */
static size_t
b64_len(size_t n)
{
	return (n * 4 + 2) / 3;
}

size_t
spa_hash_b64_len(enum spa_hash h)
{
	return h > SPA_HASH_NONE && h < SPA_NHASH ? b64_len(hashes[h].len) : 0;
}

static int
is_b64(int c)
{
	return isalnum(c) || c == '+' || c == '/';
}

size_t
spa_b64_encode(const uint8_t *in, size_t n, char *out, size_t outlen)
{
	size_t full = (n + 2) / 3 * 4;

	if (outlen < full + 1 || n > 0x7fffffff)
		return 0;
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (full > 0 && out[full - 1] == '=')
		full--;
	out[full] = '\0';
	return full;
}

long
spa_b64_decode(const char *in, size_t n, uint8_t *out, size_t outlen)
{
	char buf[2 * SPA_MAX_LEN + 4];
	uint8_t raw[(sizeof(buf) / 4) * 3];
	size_t len = 0, pad;
	int got;

	/* '=' ends the text; after it only padding may follow. */
	while (len < n && in[len] != '=') {
		if (!is_b64((unsigned char)in[len]))
			return -1;
		len++;
	}
	for (size_t i = len; i < n; i++)
		if (in[i] != '=' || i - len >= 2)
			return -1;
	if (len % 4 == 1 || len + 3 > sizeof(buf))
		return -1;
	if (len == 0)
		return 0;
	memcpy(buf, in, len);
	pad = (4 - len % 4) % 4;
	memset(buf + len, '=', pad);
	got = EVP_DecodeBlock(raw, (const unsigned char *)buf, (int)(len + pad));
	if (got < 0 || (size_t)got < pad)
		return -1;
	got -= (int)pad;
	if ((size_t)got > outlen) {
		OPENSSL_cleanse(raw, sizeof(raw));
		return -1;
	}
	memcpy(out, raw, (size_t)got);
	OPENSSL_cleanse(raw, sizeof(raw));
	return got;
}

enum spa_result
spa_precheck(const uint8_t *wire, size_t len)
{
	if (len < SPA_MIN_LEN || len > SPA_MAX_LEN)
		return SPA_E_LENGTH;
	for (size_t i = 0; i < len; i++)
		if (!is_b64(wire[i]))
			return SPA_E_BASE64;
	/* With the prefix put back a packet would be new to the replay
	 * cache, and decrypt to the same message: fwknopd refuses both. */
	if (memcmp(wire, SPA_PREFIX, SPA_PREFIX_LEN) == 0 ||
	    (len > 400 && wire[0] == 'h' && wire[1] == 'Q'))
		return SPA_E_PREFIX;
	return SPA_OK;
}

void
spa_replay_digest(const uint8_t *wire, size_t len,
    uint8_t out[SPA_DIGEST_LEN])
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	/* The bits of the last character that decode to nothing, by the
	 * length of the text with its 10-character prefix (mod 4). */
	static const unsigned spare[4] = { 0, 0, 0x0f, 0x03 };
	uint8_t text[SPA_MAX_LEN];
	unsigned int n = SPA_DIGEST_LEN;
	const char *c;

	/* The base64 decoder ignores those bits, so a packet has up to 16
	 * spellings that decrypt alike; without an HMAC (which covers the
	 * text) nothing else tells them apart.  Name the packet by the
	 * spelling with them cleared.  (Callers passed spa_precheck: at
	 * most SPA_MAX_LEN base64 characters.) */
	if (len > sizeof(text))
		len = sizeof(text);
	memcpy(text, wire, len);
	if (len > 0 && text[len - 1] != '\0' &&
	    (c = memchr(abc, text[len - 1], 64)) != NULL)
		text[len - 1] = (uint8_t)abc[(unsigned)(c - abc) &
		    ~spare[(SPA_PREFIX_LEN + len) % 4]];
	if (!EVP_Digest(text, len, out, &n, EVP_sha256(), NULL))
		memset(out, 0, SPA_DIGEST_LEN);
}

/* Base64 (unpadded) of a hash or HMAC of data into out; its length or 0. */
static size_t
hash_b64(enum spa_hash h, const uint8_t *key, size_t keylen,
    const void *data, size_t n, char *out, size_t outlen)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const EVP_MD *evp = hash_md(h);
	size_t r;

	if (evp == NULL)
		return 0;
	if (key != NULL) {
		if (HMAC(evp, key, (int)keylen, data, n, md, &mdlen) == NULL)
			return 0;
	} else if (!EVP_Digest(data, n, md, &mdlen, evp, NULL))
		return 0;
	r = spa_b64_encode(md, mdlen, out, outlen);
	OPENSSL_cleanse(md, sizeof(md));
	return r;
}

/* AES-256-CBC of in under key, with fwknop's (OpenSSL's) salted key
 * derivation; enc 1 encrypts.  Bytes written, or -1. */
static long
aes_cbc(int enc, const struct spa_keys *k, const uint8_t salt[8],
    const uint8_t *in, size_t n, uint8_t *out, size_t outlen)
{
	uint8_t key[32], iv[16];
	EVP_CIPHER_CTX *ctx;
	int a = 0, b = 0, ok;

	if (k->key_len < 1 || k->key_len > SPA_KEY_MAX ||
	    outlen < n + 16 || n > SPA_PLAIN_MAX * 2)
		return -1;
	if (EVP_BytesToKey(EVP_aes_256_cbc(), EVP_md5(), salt, k->key,
	    (int)k->key_len, 1, key, iv) != 32)
		return -1;
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx != NULL &&
	    EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv, enc) &&
	    EVP_CipherUpdate(ctx, out, &a, in, (int)n) &&
	    EVP_CipherFinal_ex(ctx, out + a, &b);
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(iv, sizeof(iv));
	return ok ? (long)a + b : -1;
}

/* --- decoding the plaintext ---------------------------------------------- */

static int
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* fwknop's rule for user names: printable, none of "/\[]:;|=,+*?<>. */
int
spa_user_ok(const char *u)
{
	if (*u == '\0')
		return 0;
	for (; *u != '\0'; u++)
		if (*u < 0x20 || *u > 0x7e || strchr("\"/\\[]:;|=,+*?<>", *u))
			return 0;
	return 1;
}

/* A base64 field of 1..max characters decoded as a string into out. */
static int
field_b64(const char *s, size_t n, size_t max, char *out, size_t outlen)
{
	long got;

	if (n < 1 || n > max)
		return -1;
	got = spa_b64_decode(s, n, (uint8_t *)out, outlen - 1);
	if (got < 0 || memchr(out, '\0', (size_t)got) != NULL)
		return -1;
	out[got] = '\0';
	return 0;
}

/* "IP,tcp/22[,udp/53...]": the address (0.0.0.0: any) and the ports. */
static int
parse_access(const char *m, struct spa_msg *out)
{
	const char *comma = strchr(m, ','), *p;
	char ip[ADDR_STRLEN];

	if (comma == NULL || (size_t)(comma - m) >= sizeof(ip))
		return -1;
	memcpy(ip, m, (size_t)(comma - m));
	ip[comma - m] = '\0';
	if (addr_parse(ip, &out->allow) < 0)
		return -1;
	out->allow_any = strcmp(ip, "0.0.0.0") == 0;
	out->nports = 0;
	for (p = comma + 1;;) {
		const char *end = strchr(p, ','), *num;
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		unsigned long port;

		if (n > 4 && strncmp(p, "tcp/", 4) == 0)
			out->port[out->nports].proto = IPPROTO_TCP;
		else if (n > 4 && strncmp(p, "udp/", 4) == 0)
			out->port[out->nports].proto = IPPROTO_UDP;
		else
			return -1;
		num = p + 4;
		if (!all_digits(num, n - 4) || n - 4 > 5 ||
		    (port = strtoul(num, NULL, 10)) < 1 || port > 65535 ||
		    out->nports == SPA_MAX_PORTS)
			return -1;
		out->port[out->nports++].port = (uint16_t)port;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

/* Split the plaintext's fields (the digest already cut off) and decode
 * them as fwknop's fko_decode_spa_data does, a little stricter: numbers
 * are digits only, and the access message must parse. */
static enum spa_result
decode_fields(char *text, struct spa_msg *out)
{
	char *f[10], msg[SPA_FIELD_MAX];
	size_t nf = 0, extra;
	char *p = text;
	unsigned long v;

	for (;;) {
		if (nf == sizeof(f) / sizeof(f[0]))
			return SPA_E_FORMAT;
		f[nf++] = p;
		if ((p = strchr(p, ':')) == NULL)
			break;
		*p++ = '\0';
	}
	/* rand : user : time : version : type : message [...] */
	if (nf < 6 || strlen(f[0]) != SPA_RAND_LEN)
		return SPA_E_FORMAT;
	if (field_b64(f[1], strlen(f[1]), SPA_USER_B64_MAX, out->user,
	    sizeof(out->user)) < 0 || !spa_user_ok(out->user))
		return SPA_E_FORMAT;
	if (!all_digits(f[2], strlen(f[2])) || strlen(f[2]) > 12)
		return SPA_E_FORMAT;
	out->timestamp = strtoll(f[2], NULL, 10);
	if (strlen(f[3]) < 1 || strlen(f[3]) >= sizeof(out->version))
		return SPA_E_FORMAT;
	strcpy(out->version, f[3]);
	if (!all_digits(f[4], strlen(f[4])) || strlen(f[4]) > 2 ||
	    (v = strtoul(f[4], NULL, 10)) > SPA_TIMEOUT_LOCAL_NAT_ACCESS)
		return SPA_E_FORMAT;
	out->type = (enum spa_type)v;
	if (field_b64(f[5], strlen(f[5]), SPA_FIELD_MAX, msg, sizeof(msg)) < 0)
		return SPA_E_FORMAT;
	/* Fields after the message: [nat] [server_auth] [timeout]. */
	extra = nf - 6;
	switch (out->type) {
	case SPA_COMMAND:
	case SPA_ACCESS:
		if (extra > 1)
			return SPA_E_FORMAT;
		break;
	case SPA_TIMEOUT_ACCESS:
		if (extra < 1 || extra > 2)
			return SPA_E_FORMAT;
		if (!all_digits(f[nf - 1], strlen(f[nf - 1])) ||
		    strlen(f[nf - 1]) > 6 ||
		    (v = strtoul(f[nf - 1], NULL, 10)) > SPA_MAX_CLIENT_TIMEOUT)
			return SPA_E_FORMAT;
		out->timeout = (unsigned)v;
		break;
	default:	/* NAT: decoded no further, refused by the caller */
		return SPA_OK;
	}
	/* server_auth, which fwknopd parses and never uses, must at least
	 * be base64. */
	if ((out->type == SPA_TIMEOUT_ACCESS ? extra == 2 : extra == 1)) {
		uint8_t skip[SPA_FIELD_MAX];

		if (strlen(f[6]) < 1 || strlen(f[6]) > SPA_FIELD_MAX ||
		    spa_b64_decode(f[6], strlen(f[6]), skip, sizeof(skip)) < 0)
			return SPA_E_FORMAT;
	}
	if (out->type == SPA_COMMAND)
		return SPA_OK;
	return parse_access(msg, out) < 0 ? SPA_E_MESSAGE : SPA_OK;
}

/* The plaintext: 16 digits and ':', printable, a digest its length names
 * and that matches (SHA-256 and SHA3-256 share a length, as SHA-512 and
 * SHA3-512 do), then the fields. */
static enum spa_result
decode_plain(char *plain, size_t n, struct spa_msg *out)
{
	static const enum spa_hash by_len[][2] = {
		{ SPA_MD5, SPA_HASH_NONE }, { SPA_SHA1, SPA_HASH_NONE },
		{ SPA_SHA256, SPA_SHA3_256 }, { SPA_SHA384, SPA_HASH_NONE },
		{ SPA_SHA512, SPA_SHA3_512 },
	};
	char want[128], *colon;
	size_t dlen;

	if (n < 36 || n >= SPA_PLAIN_MAX || !all_digits(plain, SPA_RAND_LEN) ||
	    plain[SPA_RAND_LEN] != ':')
		return SPA_E_DECRYPT;
	for (size_t i = 0; i < n; i++)
		if (!isprint((unsigned char)plain[i]))
			return SPA_E_FORMAT;
	plain[n] = '\0';
	if ((colon = strrchr(plain, ':')) == NULL)
		return SPA_E_FORMAT;
	dlen = n - (size_t)(colon + 1 - plain);
	for (size_t i = 0; i < sizeof(by_len) / sizeof(by_len[0]); i++) {
		if (spa_hash_b64_len(by_len[i][0]) != dlen)
			continue;
		for (int j = 0; j < 2 && by_len[i][j] != SPA_HASH_NONE; j++) {
			enum spa_hash h = by_len[i][j];

			if (hash_b64(h, NULL, 0, plain, (size_t)(colon - plain),
			    want, sizeof(want)) != dlen ||
			    CRYPTO_memcmp(want, colon + 1, dlen) != 0)
				continue;
			out->digest = h;
			*colon = '\0';
			return decode_fields(plain, out);
		}
		return SPA_E_DIGEST;
	}
	return SPA_E_FORMAT;
}

enum spa_result
spa_open(const uint8_t *wire, size_t len, const struct spa_keys *k,
    struct spa_msg *out)
{
	char ct[SPA_PREFIX_LEN + SPA_MAX_LEN + 1], tag[128];
	uint8_t blob[SPA_MAX_LEN], plain[SPA_MAX_LEN + 16];
	size_t ctlen = len, taglen = 0;
	enum spa_result r;
	long n, pn;

	memset(out, 0, sizeof(*out));
	if ((r = spa_precheck(wire, len)) != SPA_OK)
		return r;
	if (k->hmac_len > 0) {
		taglen = spa_hash_b64_len(k->hmac_type);
		if (taglen == 0 || len < taglen + 36)
			return SPA_E_HMAC;
		ctlen = len - taglen;
	}
	memcpy(ct, SPA_PREFIX, SPA_PREFIX_LEN);
	memcpy(ct + SPA_PREFIX_LEN, wire, ctlen);
	/* Encrypt-then-MAC: the tag first, over the prefixed base64. */
	if (k->hmac_len > 0 &&
	    (hash_b64(k->hmac_type, k->hmac, k->hmac_len, ct,
	    SPA_PREFIX_LEN + ctlen, tag, sizeof(tag)) != taglen ||
	    CRYPTO_memcmp(tag, wire + ctlen, taglen) != 0))
		return SPA_E_HMAC;
	n = spa_b64_decode(ct, SPA_PREFIX_LEN + ctlen, blob, sizeof(blob));
	/* "Salted__", the salt, and whole blocks of ciphertext. */
	if (n < 32 || (n - 16) % 16 != 0)
		return SPA_E_DECRYPT;
	pn = aes_cbc(0, k, blob + 8, blob + 16, (size_t)n - 16, plain,
	    sizeof(plain) - 1);
	if (pn < 0) {
		r = SPA_E_DECRYPT;
	} else {
		r = decode_plain((char *)plain, (size_t)pn, out);
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return r;
}

/* --- sealing (the client's side) ----------------------------------------- */

size_t
spa_seal(const struct spa_request *r, const struct spa_keys *k,
    const uint8_t random[SPA_RANDOM_LEN], char *out, size_t outlen)
{
	char plain[SPA_PLAIN_MAX], user[SPA_FIELD_MAX], msg[SPA_FIELD_MAX];
	size_t n, ret;
	int w;

	if (r->user == NULL || r->message == NULL ||
	    strlen(r->user) > SPA_USER_MAX || !spa_user_ok(r->user) ||
	    strlen(r->message) > SPA_MESSAGE_MAX || r->timeout > SPA_MAX_CLIENT_TIMEOUT ||
	    r->timestamp < 0)
		return 0;
	spa_b64_encode((const uint8_t *)r->user, strlen(r->user), user,
	    sizeof(user));
	spa_b64_encode((const uint8_t *)r->message, strlen(r->message), msg,
	    sizeof(msg));
	for (int i = 0; i < SPA_RAND_LEN; i++)
		plain[i] = (char)('0' + random[8 + i] % 10);
	w = snprintf(plain + SPA_RAND_LEN, sizeof(plain) - SPA_RAND_LEN,
	    ":%s:%lld:%s:%d:%s", user, (long long)r->timestamp, SPA_VERSION,
	    r->timeout > 0 ? SPA_TIMEOUT_ACCESS : SPA_ACCESS, msg);
	if (w < 0 || (size_t)w >= sizeof(plain) - SPA_RAND_LEN)
		return 0;
	n = SPA_RAND_LEN + (size_t)w;
	if (r->timeout > 0) {
		w = snprintf(plain + n, sizeof(plain) - n, ":%u", r->timeout);
		if (w < 0 || (size_t)w >= sizeof(plain) - n)
			return 0;
		n += (size_t)w;
	}
	ret = spa_seal_text(plain, n, r->digest, k, random, out, outlen);
	OPENSSL_cleanse(plain, sizeof(plain));
	return ret;
}

size_t
spa_seal_text(const char *text, size_t n, enum spa_hash digest,
    const struct spa_keys *k, const uint8_t salt[8], char *out,
    size_t outlen)
{
	char plain[SPA_PLAIN_MAX];
	char full[SPA_PREFIX_LEN + SPA_MAX_LEN + 8];
	uint8_t blob[16 + SPA_PLAIN_MAX + 16];
	enum spa_hash dig = digest != SPA_HASH_NONE ? digest : SPA_SHA256;
	size_t taglen = 0, flen;
	long cn;

	if (n + 2 + 86 >= sizeof(plain) ||
	    (k->hmac_len > 0 && spa_hash_b64_len(k->hmac_type) == 0))
		return 0;
	memcpy(plain, text, n);
	plain[n] = ':';
	n += 1 + hash_b64(dig, NULL, 0, plain, n, plain + n + 1,
	    sizeof(plain) - n - 1);
	memcpy(blob, "Salted__", 8);
	memcpy(blob + 8, salt, 8);
	cn = aes_cbc(1, k, salt, (const uint8_t *)plain, n, blob + 16,
	    sizeof(blob) - 16);
	OPENSSL_cleanse(plain, sizeof(plain));
	if (cn < 0 || b64_len(16 + (size_t)cn) + 4 >= sizeof(full))
		return 0;
	flen = spa_b64_encode(blob, 16 + (size_t)cn, full, sizeof(full));
	if (k->hmac_len > 0) {
		taglen = spa_hash_b64_len(k->hmac_type);
		if (flen + taglen + 1 > sizeof(full) ||
		    hash_b64(k->hmac_type, k->hmac, k->hmac_len, full, flen,
		    full + flen, sizeof(full) - flen) != taglen)
			return 0;
	}
	n = flen + taglen - SPA_PREFIX_LEN;
	if (n + 1 > outlen || n > SPA_MAX_LEN)
		return 0;
	memcpy(out, full + SPA_PREFIX_LEN, n);
	out[n] = '\0';
	return n;
}

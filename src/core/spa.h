/* spa: fwknop's Single Packet Authorization packets, Rijndael mode with
 * an HMAC, as fwknop 2.6.10 writes and reads them (pure: bytes, keys and
 * random bytes in, bytes or a message out; the crypto is libcrypto's).
 *
 * On the wire a packet is base64 without '=' padding:
 *
 *   B64("Salted__" salt ciphertext) without its first 10 characters
 *   ("U2FsdGVkX1", the same in every packet), then B64(HMAC) with no
 *   separator.  The HMAC (SHA-256 by default) is over the base64 text of
 *   the ciphertext *with* those 10 characters.
 *
 * The ciphertext is AES-256-CBC (PKCS#7) of the plaintext, key and IV from
 * EVP_BytesToKey(MD5, one iteration, the 8-byte salt, the key as given).
 * The plaintext is
 *
 *   rand16:B64(user):time:version:type:B64(access)[:B64(server_auth)]
 *   [:client_timeout]:B64(digest)
 *
 * where access is "IP,tcp/22[,udp/53...]" (0.0.0.0: the packet's source),
 * and the digest (told by its length) is over everything before it.
 * Message types 1 (access) and 3 (access with the client's timeout) are
 * the ones a door can honour; command (0) and NAT (2, 4, 5, 6) messages
 * decode, and are refused by the caller with their own reason. */
#ifndef GK_SPA_H
#define GK_SPA_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define SPA_MIN_LEN	140	/* fwknopd ignores anything shorter */
#define SPA_MAX_LEN	1500
#define SPA_KEY_MAX	32	/* AES-256: the key is used as given */
#define SPA_HMAC_KEY_MAX 128
#define SPA_MAX_PORTS	32
#define SPA_USER_MAX	48	/* a user name's characters: fwknop takes at
				 * most 64 of base64 */
#define SPA_USER_B64_MAX 64
#define SPA_DIGEST_LEN	32	/* the replay digest: SHA-256 of the wire */
#define SPA_PREFIX	"U2FsdGVkX1"	/* B64("Salted__"), cut on the wire */
#define SPA_PREFIX_LEN	10
#define SPA_MAX_CLIENT_TIMEOUT	65536	/* fwknopd's limit */

/* fwknop's numbers, for the inner digest and the HMAC alike. */
enum spa_hash {
	SPA_HASH_NONE,
	SPA_MD5,
	SPA_SHA1,
	SPA_SHA256,
	SPA_SHA384,
	SPA_SHA512,
	SPA_SHA3_256,
	SPA_SHA3_512,
	SPA_NHASH
};

/* fwknop's message types. */
enum spa_type {
	SPA_COMMAND = 0,
	SPA_ACCESS = 1,
	SPA_NAT_ACCESS = 2,
	SPA_TIMEOUT_ACCESS = 3,
	SPA_TIMEOUT_NAT_ACCESS = 4,
	SPA_LOCAL_NAT_ACCESS = 5,
	SPA_TIMEOUT_LOCAL_NAT_ACCESS = 6,
};

struct spa_keys {
	uint8_t key[SPA_KEY_MAX];
	size_t key_len;			/* 1..32 */
	uint8_t hmac[SPA_HMAC_KEY_MAX];
	size_t hmac_len;		/* 0: no HMAC */
	enum spa_hash hmac_type;	/* with hmac_len > 0 */
};

enum spa_result {
	SPA_OK,
	SPA_E_LENGTH,		/* not 140..1500 bytes */
	SPA_E_BASE64,		/* a byte outside the base64 alphabet */
	SPA_E_PREFIX,		/* carries the prefix or looks like GPG */
	SPA_E_HMAC,		/* the HMAC does not match */
	SPA_E_DECRYPT,		/* not a ciphertext of this key */
	SPA_E_FORMAT,		/* decrypted, but no SPA plaintext */
	SPA_E_DIGEST,		/* the inner digest does not match */
	SPA_E_MESSAGE,		/* a bad access message */
	SPA_NRESULTS
};

struct spa_port {
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;
};

/* What a packet says, once opened. */
struct spa_msg {
	char user[SPA_USER_MAX + 1];
	int64_t timestamp;	/* the client's clock, seconds */
	char version[9];
	enum spa_type type;
	enum spa_hash digest;
	/* Access and timeout types: */
	int allow_any;		/* 0.0.0.0: the packet's source */
	struct addr allow;	/* else the address to open for */
	unsigned nports;
	struct spa_port port[SPA_MAX_PORTS];
	unsigned timeout;	/* the client's, seconds; 0: none */
};

const char *spa_result_name(enum spa_result r);
/* "sha256" ... for a hash, NULL for none; and back (case-insensitive),
 * SPA_HASH_NONE when unknown. */
const char *spa_hash_name(enum spa_hash h);
enum spa_hash spa_hash_from_name(const char *name, size_t len);
/* Length of a hash's unpadded base64 (an HMAC tag on the wire); 0 for
 * none. */
size_t spa_hash_b64_len(enum spa_hash h);

/* What can be said of a packet without a key: its length, its alphabet,
 * and fwknopd's prefix rules (a packet that carries "U2FsdGVkX1" would be
 * a replay with a new digest; 400 bytes or more starting "hQ" is GPG). */
enum spa_result spa_precheck(const uint8_t *wire, size_t len);
/* Verify the HMAC (constant time), decrypt, check the inner digest
 * (constant time) and decode: SPA_OK with *out filled. */
enum spa_result spa_open(const uint8_t *wire, size_t len,
    const struct spa_keys *k, struct spa_msg *out);
/* SHA-256 of the wire bytes, the last character's undecoded bits
 * cleared: the packet's name in the replay cache. */
void spa_replay_digest(const uint8_t *wire, size_t len,
    uint8_t out[SPA_DIGEST_LEN]);

/* Is u a user name a packet may carry (printable, none of fwknop's
 * forbidden characters; its length is the caller's: SPA_USER_MAX)? */
int spa_user_ok(const char *u);
/* The longest access message fwknop takes. */
#define SPA_MESSAGE_MAX		192

/* A packet to send (the client's side, and the tests').  message is the
 * access string ("IP,tcp/22,..."); timeout 0 makes type 1, else type 3. */
struct spa_request {
	const char *user;
	int64_t timestamp;
	const char *message;
	unsigned timeout;
	enum spa_hash digest;	/* SPA_HASH_NONE: SHA-256 */
};
/* Random bytes the packet needs: the salt, and 16 bytes for its 16
 * random digits (each byte gives one digit). */
#define SPA_RANDOM_LEN	24
/* The wire text into out (NUL-terminated); its length, or 0 when it does
 * not fit or a key is bad. */
size_t spa_seal(const struct spa_request *r, const struct spa_keys *k,
    const uint8_t random[SPA_RANDOM_LEN], char *out, size_t outlen);
/* The layer below: any plaintext text (without its digest, which is
 * appended, SHA-256 for SPA_HASH_NONE) encrypted under salt and tagged.
 * For the fuzzer, which must reach the field decoder past the HMAC. */
size_t spa_seal_text(const char *text, size_t n, enum spa_hash digest,
    const struct spa_keys *k, const uint8_t salt[8], char *out,
    size_t outlen);

/* Base64 of fwknop (standard alphabet, '=' stripped) for keys and tests:
 * encode returns the length written (NUL-terminated), decode the bytes
 * decoded or -1 (padding is allowed; nothing after it). */
size_t spa_b64_encode(const uint8_t *in, size_t n, char *out, size_t outlen);
long spa_b64_decode(const char *in, size_t n, uint8_t *out, size_t outlen);

#endif

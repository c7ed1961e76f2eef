/* logfmt: build key=value log lines and format gatekeeper's events (pure).
 * Values are quoted when they hold spaces, quotes, '=' or control bytes;
 * a line never exceeds its buffer (it is cut and marked). */
#ifndef GK_LOGFMT_H
#define GK_LOGFMT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "grant.h"
#include "knock.h"
#include "verdict.h"

#define LOGFMT_LINE_MAX 1024

struct lf {
	char *buf;
	size_t size, len;
	int cut;		/* full: the line ends in " ..." */
};

void lf_init(struct lf *l, char *buf, size_t size);
void lf_str(struct lf *l, const char *key, const char *val);
void lf_u64(struct lf *l, const char *key, uint64_t val);
void lf_i64(struct lf *l, const char *key, int64_t val);
void lf_addr(struct lf *l, const char *key, const struct addr *a);
/* key=22/tcp */
void lf_port(struct lf *l, const char *key, uint16_t port, uint8_t proto);

/* event=verdict [prefix=] verdict=accept|drop [would=drop monitor=yes]
 * src= dport= [door=] reason= [locked=yes] [ignored=scanner|reset]
 * [waited=yes] [error=]
 * prefix (Log_Prefix) only on refused lines (verdict_refused()). */
void logfmt_verdict(struct lf *l, const struct config *cfg,
    const struct verdict *v);
/* event=knock|knock-reset|knock-timeout|knock-complete src= door= stage=N/M
 * event=lockout src= door= failures=N expires_in=SECONDS */
void logfmt_knock(struct lf *l, const struct config *cfg,
    const struct addr *src, const struct knock_event *ev);
/* event=knock-cancelled src= door= reason=reset: a packet that resets
 * came within the settle window of the completing knock. */
void logfmt_cancel(struct lf *l, const struct config *cfg,
    const struct addr *src, unsigned door);
/* event=close src= door= by= revoked=yes|no */
void logfmt_close(struct lf *l, const struct config *cfg,
    const struct addr *src, const struct verdict_close *c);
/* event=grant src= door= ports= expires_in=SECONDS */
/* An SPA packet: event=spa (granted) or event=spa-refused reason=... */
struct spag_out;
void logfmt_spa(struct lf *l, const struct config *cfg,
    const struct addr *src, const struct spag_out *o, int64_t now_ms);
void logfmt_grant(struct lf *l, const struct config *cfg,
    const struct addr *src, unsigned door, int64_t expires_in_ms);
/* event=expire src= door= */
void logfmt_expire(struct lf *l, const struct config *cfg,
    const struct grant *g);

#endif

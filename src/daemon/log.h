/* log: where log lines go — stderr in the foreground, syslog with
 * UseSyslog, a file with LogFile (I/O).  Lines are logfmt (logfmt.h). */
#ifndef GK_LOG_H
#define GK_LOG_H

#include <stddef.h>
#include <syslog.h>

#include "config.h"

/* 0, or -1 with err set (LogFile cannot be opened). */
int log_open(const struct cfg_options *opt, int foreground,
    char *err, size_t errlen);
/* Reopen LogFile (after rotation). */
void log_reopen(void);
void log_close(void);
/* Hold lines back while a batch of verdicts is computed, and write them
 * once the verdicts are sent: a slow log never delays a verdict. */
void log_hold(void);
void log_release(void);
/* One finished logfmt line at a syslog priority. */
void log_line(int prio, const char *line);
/* event=NAME msg="..." for the daemon's own messages. */
void log_msg(int prio, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif

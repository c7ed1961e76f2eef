/* One Check suite per pure module; main.c runs them all. */
#ifndef GK_SUITES_H
#define GK_SUITES_H

#include <check.h>

Suite *addr_suite(void);
Suite *config_suite(void);
Suite *pkt_suite(void);
Suite *knock_suite(void);
Suite *grant_suite(void);
Suite *verdict_suite(void);
Suite *logfmt_suite(void);
Suite *otseq_suite(void);
Suite *state_suite(void);
Suite *ctlproto_suite(void);
Suite *cmdline_suite(void);
Suite *ratelimit_suite(void);
Suite *log_suite(void);
Suite *scanwatch_suite(void);
Suite *spa_suite(void);
Suite *profile_suite(void);
Suite *replay_suite(void);

#endif

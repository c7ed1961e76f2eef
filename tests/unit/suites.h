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

#endif

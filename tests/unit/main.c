/* Unit test runner: every pure module's suite, in one process (plus the
 * small I/O modules otseq, statefile and log, on files in /tmp). */
#include <stdlib.h>

#include "suites.h"

int
main(void)
{
	SRunner *sr = srunner_create(addr_suite());
	int failed;

	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, pkt_suite());
	srunner_add_suite(sr, knock_suite());
	srunner_add_suite(sr, grant_suite());
	srunner_add_suite(sr, verdict_suite());
	srunner_add_suite(sr, logfmt_suite());
	srunner_add_suite(sr, otseq_suite());
	srunner_add_suite(sr, state_suite());
	srunner_add_suite(sr, ctlproto_suite());
	srunner_add_suite(sr, cmdline_suite());
	srunner_add_suite(sr, ratelimit_suite());
	srunner_add_suite(sr, log_suite());
	srunner_add_suite(sr, scanwatch_suite());
	srunner_add_suite(sr, spa_suite());
	srunner_add_suite(sr, profile_suite());
	srunner_add_suite(sr, replay_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

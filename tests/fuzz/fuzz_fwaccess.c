/*
 * Fuzz target for the access.conf reader (fwaccess_parse): an access file
 * is trusted less than it looks (it may come from another package or
 * tool).  Invariants: never more than CFG_MAX_DOORS doors; every error is
 * "fuzz.access:N: ..." with N a line of the input; when there is no
 * error, every door it added is an SPA door that config_spa_check()
 * accepts, with 1..CFG_MAX_OPEN ports and a name a door may have.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "fwaccess.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static struct cfg_errors err;
	unsigned lines = 1;
	char why[CFG_ERR_MAX];

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	memset(&cfg, 0, sizeof(cfg));
	memset(&err, 0, sizeof(err));
	cfg.opt.fwknop_ports[0].port = 22;
	cfg.opt.fwknop_ports[0].proto = 6;
	cfg.opt.fwknop_nports = size % 2;	/* with and without */
	fwaccess_parse((const char *)data, size, "fuzz.access", 0, &cfg, &err,
	    NULL, NULL);
	FUZZ_CHECK(cfg.ndoors <= CFG_MAX_DOORS);
	for (unsigned i = 0; i < err.n && i < CFG_MAX_ERRORS; i++) {
		unsigned line = 0;

		FUZZ_CHECK(sscanf(err.msg[i], "fuzz.access:%u: ", &line) == 1);
		FUZZ_CHECK(line >= 1 && line <= lines);
	}
	if (err.n != 0)
		return 0;
	FUZZ_CHECK(cfg.ndoors >= 1);
	for (unsigned i = 0; i < cfg.ndoors; i++) {
		const struct cfg_door *d = &cfg.door[i];

		FUZZ_CHECK(d->spa);
		FUZZ_CHECK(config_spa_check(d, why, sizeof(why)) == 0);
		FUZZ_CHECK(d->open_len <= CFG_MAX_OPEN);
		FUZZ_CHECK(d->name[0] != '\0' && strlen(d->name) < CFG_NAME_MAX);
		FUZZ_CHECK(d->sp.keys.hmac_len > 0);
	}
	return 0;
}

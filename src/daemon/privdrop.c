/* privdrop: become an unprivileged user keeping only CAP_NET_ADMIN (I/O),
 * with libcap-ng, after everything that needs root is open. */
#include <cap-ng.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "privdrop.h"

static int
lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);

	if (res == NULL) {
		snprintf(err, errlen, "User %s: %s", user,
		    rc ? strerror(rc) : "no such user");
		return -1;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int
privdrop(const char *user, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;

	if (user[0] != '\0') {
		if (lookup(user, &uid, &gid, err, errlen) != 0)
			return -1;
		if (uid == 0) {
			snprintf(err, errlen, "User %s is root: nothing to "
			    "drop", user);
			return -1;
		}
		capng_clear(CAPNG_SELECT_BOTH);
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
		    CAP_NET_ADMIN) != 0 ||
		    capng_change_id((int)uid, (int)gid,
		    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) != 0) {
			snprintf(err, errlen, "User %s: cannot switch to uid "
			    "%u keeping CAP_NET_ADMIN (started as root?)",
			    user, (unsigned)uid);
			return -1;
		}
		/* Trust, but verify: root must be gone for good. */
		if (getuid() != uid || geteuid() != uid || setuid(0) == 0 ||
		    capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN)) {
			snprintf(err, errlen, "User %s: privileges still held "
			    "after the switch", user);
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

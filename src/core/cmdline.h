/* cmdline: build the shell line and argv of a door's Start/Stop_Command
 * (pure).  %IP% is the only substitution, and only ever with the text of a
 * validated address literal: nothing else from a packet reaches a shell. */
#ifndef GK_CMDLINE_H
#define GK_CMDLINE_H

#include <stddef.h>

#define CMDLINE_TOKEN	"%IP%"
#define CMDLINE_MAX	4096	/* a command after substitution, with NUL */
#define CMDLINE_SHELL	"/bin/sh"
#define CMDLINE_PATH	"PATH=/usr/sbin:/usr/bin:/sbin:/bin"

/* Is ip usable for %IP%: 1..45 characters, all from [0-9a-fA-F.:]?  That is
 * the charset of addr_format()'s output; anything else (its "?" for a bad
 * family included) is refused. */
int cmdline_ip_ok(const char *ip);

/* Copy tmpl into out (size outlen), replacing every %IP% with ip.
 * Returns the length of out, or -1 (out is then "") when ip fails
 * cmdline_ip_ok or the result does not fit. */
int cmdline_subst(const char *tmpl, const char *ip, char *out, size_t outlen);

/* What execve() needs to run one line as `sh -c LINE` with a clean
 * environment.  Points into itself and at line: keep line alive. */
struct cmdline_exec {
	const char *path;	/* CMDLINE_SHELL */
	char *argv[4];		/* "sh", "-c", line, NULL */
	char *envp[2];		/* CMDLINE_PATH, NULL */
	char arg0[3], dash_c[3], env_path[sizeof(CMDLINE_PATH)];
};

void cmdline_exec_init(struct cmdline_exec *x, char *line);

#endif

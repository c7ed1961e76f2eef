/* cmdline: %IP% substitution and argv for door commands (pure). */
#include <limits.h>
#include <string.h>

#include "addr.h"
#include "cmdline.h"

int
cmdline_ip_ok(const char *ip)
{
	size_t n = strlen(ip);

	if (n == 0 || n >= ADDR_STRLEN)
		return 0;
	/* The whole charset of inet_ntop(): no shell metacharacter, no
	 * blank, nothing a sender could choose beyond the address bits. */
	return strspn(ip, "0123456789abcdefABCDEF.:") == n;
}

int
cmdline_subst(const char *tmpl, const char *ip, char *out, size_t outlen)
{
	const size_t toklen = sizeof(CMDLINE_TOKEN) - 1;
	size_t iplen = strlen(ip), len = 0, n;
	const char *p = tmpl, *hit;

	if (outlen == 0 || outlen > INT_MAX)
		return -1;
	out[0] = '\0';
	if (!cmdline_ip_ok(ip))
		return -1;
	for (;;) {
		hit = strstr(p, CMDLINE_TOKEN);
		n = hit ? (size_t)(hit - p) : strlen(p);
		if (n >= outlen - len)
			goto toolong;
		memcpy(out + len, p, n);
		len += n;
		if (hit == NULL)
			break;
		if (iplen >= outlen - len)
			goto toolong;
		memcpy(out + len, ip, iplen);
		len += iplen;
		p = hit + toklen;
	}
	out[len] = '\0';
	return (int)len;
toolong:
	out[0] = '\0';
	return -1;
}

void
cmdline_exec_init(struct cmdline_exec *x, char *line)
{
	memcpy(x->arg0, "sh", sizeof(x->arg0));
	memcpy(x->dash_c, "-c", sizeof(x->dash_c));
	memcpy(x->env_path, CMDLINE_PATH, sizeof(x->env_path));
	x->path = CMDLINE_SHELL;
	x->argv[0] = x->arg0;
	x->argv[1] = x->dash_c;
	x->argv[2] = line;
	x->argv[3] = NULL;
	x->envp[0] = x->env_path;
	x->envp[1] = NULL;
}

#!/usr/bin/env bash
# End-to-end: the ruleset the daemon installs, its ownership rules, the
# shipped snippet, Allow and Interface.
. "$(dirname "$0")/lib.sh"
setup_net

S4=10.77.1.1 C4=10.77.1.2

# The snippet admins include is what --print-rules says for the example.
check "rules/gatekeeper.nft matches --print-rules of the example config" \
	diff <(grep -v '^#' "$GK_TOP/rules/gatekeeper.nft" | sed '/./,$!d') \
	     <("$GKD" --print-rules -c "$GK_TOP/tests/fixtures/example.conf")

# This kernel has no native queue expression: nft -f of the snippet fails
# here, which is why the daemon installs its own table.
if srv nft -f "$GK_TOP/rules/gatekeeper.nft" 2>/dev/null; then
	echo "# this kernel has the native queue expression"
	srv nft delete table inet gatekeeper
fi

listen "$SRV" 22
BASE='[options]
Queue = 5
Allow = 10.77.2.0/24

[ssh]
Sequence = 7000,8000,9000
Open_Ports = 22
Open_Timeout = 5'

start_daemon "$BASE" || exit 1
check "the backend is logged" log_has 'event=start msg=".*backend (compat-NFQUEUE|native-queue)'
RULES=$(srv nft list table inet gatekeeper 2>/dev/null)
check "table is tagged as ours" grep -q 'managed by gatekeeperd' <<<"$RULES"
check "chain hooks input at filter - 10" \
	grep -q 'type filter hook input priority filter - 10; policy accept;' <<<"$RULES"
check "established traffic stays in the kernel" \
	grep -q 'ct state established,related accept' <<<"$RULES"
check "Allow prefix accepted in the kernel" grep -q 'ip saddr 10.77.2.0/24 accept' <<<"$RULES"
check "no bypass on knock and protected ports" \
	eval "! grep -E '@(knock|open)_.*bypass' <<<\"\$RULES\""
check "Scan_Guard observes other ports, with bypass" \
	grep -q 'iifname != "lo" tcp flags syn / fin,syn,rst,ack queue num 5 bypass' <<<"$RULES"
check "Allow: cli2 connects without knocking" can_connect "$CLI2" 10.77.2.1 22
check "cli1 is still gated" is_dropped "$CLI1" $S4 22

# A second daemon on the same queue fails with a clear reason, and must not
# tear down the first one's table.
srv "$GKD" -f -c "$CONF" 2>"$WORK/second.log" &
check "a second daemon on the same queue fails" eval "! wait $!"
check "its error names the queue" grep -Eq 'queue [56] is bound by another process' "$WORK/second.log"
check "the first daemon still gates" is_dropped "$CLI1" $S4 22
check "the first daemon's table is intact" \
	eval "srv nft list table inet gatekeeper >/dev/null 2>&1"
stop_daemon TERM

# A table called gatekeeper that is not ours is refused and left alone.
srv nft add table inet gatekeeper
srv nft add chain inet gatekeeper mine
if start_daemon "$BASE" 2>/dev/null; then
	ok 1 "a foreign gatekeeper table is refused"
	stop_daemon TERM
else
	wait "$DPID" 2>/dev/null; DPID=
	ok 0 "a foreign gatekeeper table is refused"
fi
check "the refusal says why" log_has 'not created by gatekeeperd'
check "the foreign table is left alone" \
	eval "srv nft list chain inet gatekeeper mine >/dev/null 2>&1"
srv nft delete table inet gatekeeper

# Interface: only packets arriving on that interface are gated.
start_daemon "[options]
Queue = 5
Interface = ${ID}s1

[ssh]
Sequence = 7000,8000,9000
Open_Ports = 22" || exit 1
check "Interface: gated on ${ID}s1" is_dropped "$CLI1" $S4 22
check "Interface: other interfaces untouched" can_connect "$CLI2" 10.77.2.1 22
check "Interface: knock on ${ID}s1 works" eval \
	"cli1 knock $S4 7000 8000 9000 && can_connect $CLI1 $S4 22"
stop_daemon TERM

# SIGHUP with a broken file keeps the running configuration and grants.
start_daemon "$BASE" || exit 1
cli1 knock $S4 7000 8000 9000
echo 'this is not a config line' >>"$CONF"
kill -HUP "$DPID"
sleep 0.5
check "a broken reload is logged with file:line" log_has "config-error msg=\"$CONF:[0-9]+:"
check "the grant survives a broken reload" can_connect "$CLI1" $S4 22
stop_daemon TERM

# Ruleset = external: the daemon uses the table the admin loaded (here the
# one a killed daemon left behind, as nft -f of the snippet cannot load on
# this kernel) and leaves it alone at stop.
rm -f "$WORK/state"	# no grant carried over from the tests above
start_daemon "$BASE" || exit 1
stop_daemon KILL
start_daemon "[options]
Ruleset = external
${BASE#\[options\]}" || exit 1
check "external: the start line says so" log_has 'event=start msg=".*external ruleset'
check "external: protected port gated" is_dropped "$CLI1" $S4 22
check "external: a knock opens it" eval \
	"cli1 knock $S4 7000 8000 9000 && can_connect $CLI1 $S4 22"
stop_daemon TERM
check "external: the admin's table stays after stop" \
	eval "srv nft list table inet gatekeeper >/dev/null 2>&1"

finish

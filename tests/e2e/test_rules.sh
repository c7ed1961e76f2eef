#!/usr/bin/env bash
# End-to-end: the ruleset the daemon installs, its ownership rules, the
# shipped snippet, Allow and Interface.
. "$(dirname "$0")/lib.sh"
setup_net
need hping3

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
check "Allow: cli2 connects without knocking" can_connect "$CLI2" 10.77.2.1 22
check "cli1 is still gated" is_dropped "$CLI1" $S4 22
# What the rules do, seen from the packets and the queues rather than
# from nft's text (which prints the compat queue target only with the
# iptables package installed): Scan_Guard shows the daemon a SYN, a FIN
# and a datagram to unlisted ports, on the knock queue.
listen "$SRV" 8080
CTL=$(dirname "$GKD")/gatekeeperctl
obs() { srv "$CTL" -S "$WORK/control" stats | awk '$1 == "verdict.observed" { print $2 }'; }
o0=$(obs) q0=$(queued 5)
cli1 nc -z -w 1 $S4 8080 >/dev/null 2>&1
cli1 hping3 -q -c 1 -F -p 8081 $S4 >/dev/null 2>&1
echo x | cli1 nc -u -w 1 $S4 8082
check "Scan_Guard observes a SYN, a FIN and a datagram to other ports" \
	[ "$(($(obs) - o0))" -ge 3 ]
check "... on the knock queue, 5" [ "$(($(queued 5) - q0))" -ge 3 ]
q0=$(queued 5) p0=$(queued 6)
check "loopback is not gated: the server connects to itself" \
	srv nc -z -w 2 127.0.0.1 22
check "... nor seen by the daemon" [ "$(queued 5)$(queued 6)" = "$q0$p0" ]

# A second daemon on the same queue fails with a clear reason, and must not
# tear down the first one's table.
srv "$GKD" -f -c "$CONF" 2>"$WORK/second.log" &
check "a second daemon on the same queue fails" eval "! wait $!"
check "its error names the queue" grep -Eq 'queue [56] is bound by another process' "$WORK/second.log"
check "the first daemon still gates" is_dropped "$CLI1" $S4 22
check "the first daemon's table is intact" \
	eval "srv nft list table inet gatekeeper >/dev/null 2>&1"
# Stopped: protected ports have no bypass (dropped while nobody listens),
# knock and observed ports do (accepted: the host answers them).
stop_daemon KILL
check "stopped: the protected port is dropped" is_dropped "$CLI1" $S4 22
check "stopped: a knock port is refused, as a closed port (bypass)" eval \
	"cli1 nc -v -z -w 2 $S4 7000 2>&1 | grep -q 'refused'"
check "stopped: an unlisted service still answers (bypass)" can_connect "$CLI1" $S4 8080
srv "$GKD" --remove-table >/dev/null

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
IFCONF="[options]
Queue = 5
Interface = ${ID}s1

[ssh]
Sequence = 7000,8000,9000
Open_Ports = 22"
start_daemon "$IFCONF" || exit 1
check "Interface: gated on ${ID}s1" is_dropped "$CLI1" $S4 22
check "Interface: other interfaces untouched" can_connect "$CLI2" 10.77.2.1 22
check "Interface: knock on ${ID}s1 works" eval \
	"cli1 knock $S4 7000 8000 9000 && can_connect $CLI1 $S4 22"
# Renamed at run time, the interface matches Interface no more: the gate
# closes over every interface rather than open on the renamed one.
srv "$CTL" -S "$WORK/control" revoke $C4 >/dev/null
rename_s1() {
	srv ip link set "$1" down && srv ip link set "$1" name "$2" &&
		srv ip link set "$2" up
	cli1 ip link set "${ID}c1" up
	sleep 0.5
}
rename_s1 "${ID}s1" "${ID}r1"
check "Interface renamed: logged" wait_log "event=interface-gone msg=\"Interface = ${ID}s1 matches no interface" 1 3
check "Interface renamed: the renamed interface is still gated" is_dropped "$CLI1" $S4 22
check "Interface renamed: every other interface is gated now" is_dropped "$CLI2" 10.77.2.1 22
check "Interface renamed: status says so" eval \
	"srv '$CTL' -S '$WORK/control' status | grep -E -q 'table +LOST +in place, gating every interface'"
check "Interface renamed: a knock still opens" eval \
	"cli1 knock $S4 7000 8000 9000 && can_connect $CLI1 $S4 22"
rename_s1 "${ID}r1" "${ID}s1"
check "Interface back: logged" wait_log "event=interface-back" 1 3
check "Interface back: other interfaces untouched again" can_connect "$CLI2" 10.77.2.1 22
srv "$CTL" -S "$WORK/control" revoke $C4 >/dev/null
check "Interface back: it is gated" is_dropped "$CLI1" $S4 22
# A typo never ungates: a reload naming an interface this host lacks is
# refused with file:line and changes nothing; so are -n and a start.
srv "$CTL" -S "$WORK/control" revoke $C4 >/dev/null
write_conf "${IFCONF/Interface = ${ID}s1/Interface = eth0}"
kill -HUP "$DPID"
check "reload with Interface = eth0 (absent): refused with file:line" \
	wait_log "config-error msg=\"$CONF:[0-9]+: Interface = eth0: no such interface" 1 3
check "... and ${ID}s1 is still gated" is_dropped "$CLI1" $S4 22
stop_daemon TERM
check "-n with an absent interface fails and names file:line" eval \
	"! srv $GKD -n -c $CONF 2>$WORK/n.err && grep -q '^$CONF:[0-9]*: Interface = eth0: no such interface on this host, so nothing would be gated' $WORK/n.err"
if start_daemon "${IFCONF/Interface = ${ID}s1/Interface = eth0}" >/dev/null; then
	ok 1 "a start with an absent interface is refused"; stop_daemon TERM
else
	wait "$DPID" 2>/dev/null; DPID=
	ok 0 "a start with an absent interface is refused"
fi
check "... naming file:line" log_has "$CONF:[0-9]+: Interface = eth0: no such interface"
check "... and the gate it left stays closed" is_dropped "$CLI1" $S4 22
# A prefix, as nft's iifname "${ID}s*": both server interfaces are gated.
start_daemon "${IFCONF/Interface = ${ID}s1/Interface = ${ID}s*}" || exit 1
check "Interface = ${ID}s*: gated on ${ID}s1" is_dropped "$CLI1" $S4 22
check "Interface = ${ID}s*: gated on ${ID}s2" is_dropped "$CLI2" 10.77.2.1 22
check "Interface = ${ID}s*: a knock opens" eval \
	"cli2 knock 10.77.2.1 7000 8000 9000 && can_connect $CLI2 10.77.2.1 22"
stop_daemon TERM
check "a prefix no interface matches is refused" eval \
	"write_conf \"\${IFCONF/Interface = \${ID}s1/Interface = zz*}\" &&
	 ! srv $GKD -n -c $CONF 2>$WORK/n.err && grep -q 'Interface = zz\*: no interface matches it' $WORK/n.err"
srv "$GKD" --remove-table >/dev/null

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

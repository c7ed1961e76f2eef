#!/usr/bin/env bash
# End-to-end: operating a running gatekeeperd (issue 4).  gatekeeperctl's
# commands, reload (broken file, removed door, SIGHUP), grants that survive
# a restart, a corrupt state file, One_Time_Sequences to the last line, a
# closing door, Start/Stop_Command, Monitor mode and the refused-packet log
# settings, with Debian's `knock` and `nc` as peers, in namespaces only.
#
# GKD picks the daemon (e.g. build/san/gatekeeperd); GKCTL the client,
# by default the gatekeeperctl next to GKD.
. "$(dirname "$0")/lib.sh"
GKCTL=${GKCTL:-$(dirname "$GKD")/gatekeeperctl}
setup_net
[ -x "$GKCTL" ] || { echo "Bail out! no gatekeeperctl at $GKCTL (run: make)"; exit 1; }
T0=$(date +%s)

S4=10.77.1.1 S6=fd77:1::1 C4=10.77.1.2 C6=fd77:1::2
S24=10.77.2.1 S26=fd77:2::1 C24=10.77.2.2 C26=fd77:2::2
ALL_LOG=$WORK/all.log		# every daemon run's log, for the SAN check
: >"$ALL_LOG"

# --- helpers -------------------------------------------------------------


# wait_file_has FILE REGEX [SECONDS]
wait_file_has() {
	local i
	for i in $(seq $((${3:-5} * 10))); do
		grep -E -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# $1 never had a line matching: $2"
	return 1
}

# dropped NS HOST PORT: a silent drop within 1 s (no RST, no ICMP error).
# lib.sh's is_dropped waits 2 s; a queued SYN is decided in microseconds.
dropped() {
	local err
	err=$(ip netns exec "$1" nc -v -z -w 1 "$2" "$3" 2>&1)
	[ $? -ne 0 ] && case $err in *"timed out"*) return 0 ;; esac
	echo "# expected a silent drop of $2:$3, got: $err"
	return 1
}

# ctl ARGS...: gatekeeperctl in the server namespace; RC, $WORK/ctl.out,
# $WORK/ctl.err hold the result.
ctl() {
	srv "$GKCTL" -S "$WORK/control" "$@" >"$WORK/ctl.out" 2>"$WORK/ctl.err"
	RC=$?
	cat "$WORK/ctl.err" >>"$WORK/ctl-all.err"
}
out_has() { grep -E -q -- "$1" "$WORK/ctl.out" || { echo "# stdout:"; sed 's/^/#   /' "$WORK/ctl.out"; return 1; }; }
rc_is() { [ "$RC" = "$1" ] || { echo "# exit status $RC, wanted $1"; sed 's/^/#   err: /' "$WORK/ctl.err"; return 1; }; }
# err_line REGEX: stderr is exactly one line, and it matches.
err_line() {
	[ "$(wc -l <"$WORK/ctl.err")" = 1 ] && grep -E -q -- "$1" "$WORK/ctl.err" ||
		{ echo "# stderr:"; sed 's/^/#   /' "$WORK/ctl.err"; return 1; }
}
# ctl_ok NAME REGEX ARGS...: exit 0 and stdout matching REGEX.
ctl_ok() {
	local name=$1 re=$2; shift 2
	ctl "$@"
	rc_is 0 && out_has "$re"; ok $? "$name"
}

# valid_json FILE: python3's parser when there is one, else jq, else a
# rough shape check (one {...} document).
if command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null; then
	valid_json() { python3 -m json.tool "$1" >/dev/null; }
elif command -v jq >/dev/null 2>&1; then
	valid_json() { jq -e . "$1" >/dev/null; }
else
	echo "# neither python3 nor jq: JSON checked for shape only"
	valid_json() {
		[ "$(wc -l <"$1")" = 1 ] && grep -q '^{.*}$' "$1" &&
		[ "$(tr -cd '{' <"$1" | wc -c)" = "$(tr -cd '}' <"$1" | wc -c)" ] &&
		[ "$(tr -cd '[' <"$1" | wc -c)" = "$(tr -cd ']' <"$1" | wc -c)" ]
	}
fi
# json_ok NAME ARGS...: gatekeeperctl --json ARGS exits 0 with valid JSON.
json_ok() {
	local name=$1; shift
	ctl --json "$@"
	rc_is 0 && valid_json "$WORK/ctl.out" ||
		{ echo "# output:"; sed 's/^/#   /' "$WORK/ctl.out"; false; }
	ok $? "$name"
}

# counter NAME: one counter of `gatekeeperctl stats`.
counter() { srv "$GKCTL" -S "$WORK/control" stats | awk -v k="$1" '$1 == k { print $2 }'; }

# A daemon run's log is kept, and checked for sanitizer reports.
stop_d() {
	stop_daemon "${1:-TERM}"
	cat "$LOG" >>"$ALL_LOG"
}

no_san_report() {
	! grep -E -q 'Sanitizer|runtime error|LeakSanitizer' "$ALL_LOG" "$WORK/ctl-all.err" 2>/dev/null ||
		{ grep -E -h -A5 'Sanitizer|runtime error' "$ALL_LOG" "$WORK/ctl-all.err" | sed 's/^/#   /'; false; }
}

# =========================================================================
# 1. gatekeeperctl against a running daemon; reload; restart; state file;
#    one-time sequences; a closing door; Monitor per door and global.
# =========================================================================
OT=$WORK/otseq
printf '%s\n' '# one-time sequences of door ot' '7501,7503,7505' \
	'7511:udp,7513,7515' '7521,7523,7525' >"$OT"

# web and ops both open 2202: a removed web keeps 2202 protected.
BASE="[options]
Queue = 3
Lockout_After = 0

[ssh]
Sequence = 7000,8000,9000
Seq_Timeout = 5
Open_Ports = 2201
Open_Timeout = 30

[closeSSH]
Sequence = 9101,9103
Seq_Timeout = 5
Close = ssh

[ops]
Sequence = 7110,7210
Open_Ports = 2202, 2205

[mon]
Sequence = 7301,7303
Open_Ports = 2204
Monitor = yes

[ot]
One_Time_Sequences = $OT
Seq_Timeout = 5
Open_Ports = 2203
Open_Timeout = 30"
WEB="
[web]
Sequence = 7100,7200
Seq_Timeout = 5
Open_Ports = 2202
Open_Timeout = 30"
CONFIG1="$BASE
$WEB"

for p in 2201 2202 2203 2204; do listen "$SRV" $p; done
start_daemon "$CONFIG1" || exit 1

echo "# --- gatekeeperctl status"
ctl status
version=$("$GKD" -V | awk '{ print $2 }')
backend=$(sed -n 's/.*event=start .*backend \([a-zA-Z-]*\).*/\1/p' "$LOG" | head -n1)
check "status: exit 0" rc_is 0
check "status: version ($version)" out_has "^gatekeeperd $version\$"
check "status: backend ($backend, as logged at start)" out_has "^backend +$backend\$"
check "status: queues 3 (knock) and 4 (protected)" out_has "^queues +3 \(knock\), 4 \(protected\)"
check "status: doors with sequence, opens, timeout" \
	out_has "^ssh +7000/tcp,8000/tcp,9000/tcp +5s +2201/tcp +30s"
check "status: the one-time door shows its active line" \
	out_has "^ot +7501/tcp,7503/tcp,7505/tcp +5s +2203/tcp"
json_ok "status --json is valid JSON" status
check "status --json: version, backend, queue 3, door ssh" eval \
	"out_has '\"version\":\"$version\"' && out_has '\"backend\":\"$backend\"' &&
	 out_has '\"num\":3,\"role\":\"knock\"' && out_has '\"name\":\"ssh\"'"

echo "# --- knocks, grants"
pk0=$(counter packets)
cli1 knock $S4 7000 8000
ctl_ok "knocks: a half-done sequence (2/3) is listed" \
	"^$C4 +ssh +2/3 +[1-5]s\$" knocks
json_ok "knocks --json is valid JSON" knocks
check "knocks --json: src, door, stage 2 of 3" \
	out_has "\"src\":\"$C4\",\"door\":\"ssh\",\"stage\":2,\"of\":3"
cli1 knock $S4 9000
sleep 0.1		# a completion grants 50 ms after its last knock
ctl_ok "grants: source, door, ports, seconds left" \
	"^$C4 +ssh +2201/tcp +(2[0-9]|30)s\$" grants
json_ok "grants --json is valid JSON" grants
check "grants --json: the knocked grant" out_has \
	"\"src\":\"$C4\",\"door\":\"ssh\",\"ports\":\\[\"2201/tcp\"\\],\"expires_in\":(2[0-9]|30)"
check "knocks: nothing in progress after completion" eval \
	"ctl knocks && out_has '^no knocks in progress'"
check "the knocked source connects" can_connect "$CLI1" $S4 2201

echo "# --- grant / revoke by hand"
check "cli2 without a grant is dropped" dropped "$CLI2" $S24 2201
ctl_ok "grant ADDR DOOR --for 40" "^granted $C24 door ssh \(2201/tcp\) for 40 s" \
	grant $C24 ssh --for 40
check "grant logged by=ctl" log_has \
	"event=grant src=$C24 door=ssh ports=2201/tcp expires_in=40 by=ctl"
check "grant audited: uid, pid, command" log_has \
	"event=ctl uid=0 pid=[0-9]+ cmd=grant src=$C24 door=ssh seconds=40 result=ok"
check "granted source connects without knocking" can_connect "$CLI2" $S24 2201
check "grants lists the hand-made grant" eval \
	"ctl grants && out_has '^$C24 +ssh +2201/tcp +(3[0-9]|40)s\$'"
json_ok "grant --json is valid JSON" grant $C26 ssh --for 1m
check "grant --json: IPv6 source, 60 s" out_has \
	"\"src\":\"$C26\",\"door\":\"ssh\",\"ports\":\\[\"2201/tcp\"\\],\"expires_in\":60"
check "granted IPv6 source connects" can_connect "$CLI2" $S26 2201
ctl_ok "revoke ADDR DOOR" "^revoked 1 grant of $C24 door ssh\$" revoke $C24 ssh
check "revoke logged" log_has "event=revoke src=$C24 door=ssh removed=1 by=ctl"
check "after revoke a new connection is dropped" dropped "$CLI2" $S24 2201
json_ok "revoke ADDR --json (every door) is valid JSON" revoke $C26
check "revoke --json: door null, 1 removed" out_has \
	"\"src\":\"$C26\",\"door\":null,\"revoked\":1"
check "after revoke the IPv6 source is dropped" dropped "$CLI2" $S26 2201
ctl_ok "revoke of nothing says 0" "^revoked 0 grants of $C24\$" revoke $C24

echo "# --- stats"
ctl stats
check "stats: exit 0" rc_is 0
pk1=$(awk '$1 == "packets" { print $2 }' "$WORK/ctl.out")
check "stats: packets seen moved ($pk0 -> $pk1)" [ "${pk1:-0}" -ge $((pk0 + 6)) ]
check "stats: verdicts by reason counted" eval \
	"out_has '^verdict\.grant +[1-9]' && out_has '^verdict\.no-grant +[1-9]' &&
	 out_has '^verdict\.knock +[1-9]'"
check "stats: knocks, grants, table and kernel counters" eval \
	"out_has '^knocks +([3-9]|[1-9][0-9]+)$' && out_has '^grants +[1-9]' &&
	 out_has '^grant_table\.revoked +2\$' && out_has '^log_suppressed +0\$' &&
	 out_has '^kernel\.3\.queue_dropped +[0-9]+\$'"
json_ok "stats --json is valid JSON" stats
check "stats --json: counters" eval \
	"out_has '\"packets\":[1-9]' && out_has '\"no-grant\":[1-9]'"

echo "# --- errors"
ctl grant 10.77.1.300 ssh
check "bad address: exit 2, the reason first" eval \
	"rc_is 2 && head -n1 '$WORK/ctl.err' | grep -q \"^gatekeeperctl: bad address '10.77.1.300'\""
ctl grant $C24 nosuch
check "unknown door: exit 1, one line" eval \
	"rc_is 1 && err_line \"^gatekeeperctl: no door named 'nosuch'\$\""
ctl revoke $C24 nosuch
check "revoke of an unknown door: exit 1, one line" eval \
	"rc_is 1 && err_line \"no door named 'nosuch'\""
ctl grant $C24 closeSSH
check "grant of a door without Open_Ports: exit 1, one line" eval \
	"rc_is 1 && err_line 'has no Open_Ports'"
ctl grant $C24 ssh --for 2x
check "bad duration: exit 2" eval "rc_is 2 && grep -q 'bad duration' '$WORK/ctl.err'"
srv "$GKCTL" -S "$WORK/nothing-here" status >"$WORK/ctl.out" 2>"$WORK/ctl.err"; RC=$?
check "no daemon at that socket: exit 2, one line" eval \
	"rc_is 2 && err_line 'No such file or directory \(is gatekeeperd running\?\)'"
# The daemon's own parser, past the client's: an error reply, and
# verdicts and the socket carry on.
printf 'grant 999.1.1.1 ssh\n' | srv timeout 5 nc -U "$WORK/control" >"$WORK/raw" 2>&1
check "raw request with a bad address: error reply" \
	grep -q "^error bad address '999.1.1.1'" "$WORK/raw"
printf '\001\377garbage\n' | srv timeout 5 nc -U "$WORK/control" >"$WORK/raw" 2>&1
check "raw binary garbage: error reply" grep -q '^error non-printable byte' "$WORK/raw"
head -c 600 /dev/zero | tr '\0' a | srv timeout 5 nc -U "$WORK/control" >"$WORK/raw" 2>&1
check "raw request over 512 bytes: error reply" grep -q '^error request too long' "$WORK/raw"
check "after bad requests the daemon still answers" eval "ctl status && rc_is 0"
# Eight clients that connect and say nothing hold every slot (for the
# 2 s read timeout): a ninth is told busy, and verdicts go on promptly.
pids=
for i in 1 2 3 4 5 6 7 8; do
	sleep 3 | srv nc -U "$WORK/control" >/dev/null 2>&1 & pids="$pids $!"
done
sleep 0.3
ctl status
check "ninth control client: busy, exit 1, one line" eval "rc_is 1 && err_line 'busy'"
t0=$(date +%s%N)
cli2 knock $S24 7000 8000 9000 && can_connect "$CLI2" $S24 2201
r=$?
t1=$(date +%s%N)
check "idle control clients delay no verdict (knock+connect $(( (t1 - t0) / 1000000 )) ms)" \
	[ $r = 0 -a $(( (t1 - t0) / 1000000 )) -lt 1000 ]
for i in $(seq 40); do ctl status; [ $RC = 0 ] && break; sleep 0.1; done
check "idle control clients are dropped after the read timeout" rc_is 0
wait $pids
ctl revoke $C24

echo "# --- access"
if command -v setpriv >/dev/null; then
	asnobody() { srv setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
	asnobody() { srv runuser -u nobody -- "$@"; }
fi
asnobody "$GKCTL" -S "$WORK/control" status >"$WORK/ctl.out" 2>"$WORK/ctl.err"; RC=$?
check "unprivileged user: denied by the socket file (exit 2, one line)" eval \
	"rc_is 2 && err_line 'Permission denied'"
# Past the file mode (as if an admin loosened it): the daemon's own
# SO_PEERCRED check refuses.
chmod 711 "$WORK"; chmod 666 "$WORK/control"
asnobody "$GKCTL" -S "$WORK/control" grant 10.77.9.9 ssh >"$WORK/ctl.out" 2>"$WORK/ctl.err"; RC=$?
chmod 700 "$WORK"; chmod 600 "$WORK/control"
check "unprivileged user: denied by the daemon (exit 1, one line)" eval \
	"rc_is 1 && err_line 'permission denied for uid 65534'"
check "denial logged" log_has "event=ctl uid=65534 pid=[0-9]+ result=denied"
check "the denied grant was not made" eval "ctl grants && ! out_has '^10\.77\.9\.9 ' >/dev/null"

echo "# --- Monitor per door"
check "per-door Monitor: unknocked connection to its port accepted" \
	can_connect "$CLI2" $S24 2204
check "per-door Monitor: logged as would=drop" log_has \
	"event=verdict verdict=accept would=drop monitor=yes src=$C24 dport=2204/tcp reason=no-grant"
check "per-door Monitor: another door's port still dropped" dropped "$CLI2" $S24 2205
check "status --json marks the monitored door" eval \
	"ctl --json status && out_has '\"name\":\"mon\",[^}]*\"monitor\":true' &&
	 out_has '\"monitor\":false,\"max_sources\"'"

echo "# --- closing door"
check "ssh grant works before closing" can_connect "$CLI1" $S4 2201
cli1 knock $S4 9101 9103
check "closing sequence logged" eval \
	"wait_log 'event=close src=$C4 door=ssh by=closeSSH revoked=yes' 1 2"
check "after the closing knock a new connection is dropped" dropped "$CLI1" $S4 2201
check "the grant is gone from the list" eval "ctl grants && ! out_has '^$C4 +ssh' >/dev/null"
check "stats count the close" [ "$(counter closes)" = 1 ]

echo "# --- reload: valid, broken (ctl and SIGHUP), global Monitor, removed door"
ctl_ok "reload: ok" "^reloaded: 6 doors, queue 3\$" reload
json_ok "reload --json is valid JSON" reload
check "reload --json: reloaded true" out_has '"reloaded":true,"doors":6'
cli1 knock $S4 7000 8000 9000
cli1 knock $S4 7100 7200
check "ssh and web granted again" eval \
	"can_connect $CLI1 $S4 2201 && can_connect $CLI1 $S4 2202"
BROKEN=$(printf '%s\n' "$CONFIG1" | sed 's/^Open_Timeout = 30$/Open_Timeout = forever/')
write_conf "$BROKEN"
badline=$(grep -n '^Open_Timeout = forever' "$CONF" | head -n1 | cut -d: -f1)
reloads=$(log_count 'event=reload-failed')
ctl reload
check "broken file: reload exits 1" rc_is 1
check "broken file: gatekeeperctl prints file:line ($badline)" \
	grep -q "^$CONF:$badline: .*forever" "$WORK/ctl.err"
check "broken file: error logged with file:line" \
	log_has "event=config-error msg=\"$CONF:$badline: "
check "broken file: reload-failed logged" \
	[ "$(log_count 'event=reload-failed')" = $((reloads + 1)) ]
ctl --json reload
check "broken file, --json: exit 1, errors as valid JSON" eval \
	"rc_is 1 && valid_json '$WORK/ctl.out' && out_has '\"errors\":\\[\"$CONF:$badline: '"
check "broken file: the grant still works" can_connect "$CLI1" $S4 2201
kill -HUP "$DPID"
check "SIGHUP with the broken file: refused, logged" \
	wait_log 'event=reload-failed' $((reloads + 3)) 3
check "after SIGHUP with a broken file the grant still works" can_connect "$CLI1" $S4 2201
check "after SIGHUP with a broken file others are still dropped" dropped "$CLI2" $S24 2201
check "ssh grant still listed" eval "ctl grants && out_has '^$C4 +ssh '"
# An empty file (a truncated write, a wrong template) gates nothing: refused.
write_conf ''
ctl reload
check "empty file: reload refused, says why" eval \
	"rc_is 1 && grep -q 'no door in the file: it would gate nothing' '$WORK/ctl.err'"
check "empty file: others are still dropped" dropped "$CLI2" $S24 2201
printf '# all\n# commented out\n' >"$CONF"
check "all-comment file: -n refuses it" eval "! '$GKD' -n -c '$CONF' >/dev/null 2>&1"

# Queues 13 and 14 from here on: the reload opens them, moves the rules.
MONCONF=$(printf '%s\n' "$CONFIG1" | sed 's/^Lockout_After = 0$/&\nMonitor = yes/; s/^Queue = 3$/Queue = 13/')
write_conf "$MONCONF"
ctl_ok "reload with global Monitor = yes and Queue = 13" '^reloaded: 6 doors, queue 13$' reload
check "status: mode monitor, queues 13 and 14" eval \
	"ctl status && out_has '^mode +monitor' && out_has '^queues +13 \(knock\), 14 \(protected\)'"
check "global Monitor: unknocked connection accepted" can_connect "$CLI2" $S24 2201
check "global Monitor: logged as would=drop" log_has \
	"event=verdict verdict=accept would=drop monitor=yes src=$C24 dport=2201/tcp reason=no-grant"
check "global Monitor: stats count monitored" [ "$(counter monitored)" -ge 2 ]

# Door web goes (SIGHUP); ssh's grant stays; web's grant ends and 2202,
# still protected by ops, drops its holder.
write_conf "$BASE"
kill -HUP "$DPID"
check "SIGHUP reload removing door web: reloaded" \
	wait_log 'event=reloaded msg="5 doors' 1 3
check "back to Queue 3: queues 3 and 4 bound, 13 and 14 let go" eval \
	"[ \"\$(bound_queues)\" = '3 4' ]"
check "removed door's grant ends, logged" log_has \
	"event=expire src=$C4 door=web reason=door-removed"
cli1 knock $S4 7100 7200
check "removed door's grant, and its sequence, no longer open 2202" \
	dropped "$CLI1" $S4 2202
check "the other door's grant is kept" can_connect "$CLI1" $S4 2201
check "grants lists ssh, not web" eval \
	"ctl grants && out_has '^$C4 +ssh ' && ! out_has ' web ' >/dev/null"
check "Monitor off again: unknocked connection dropped" dropped "$CLI2" $S24 2201

echo "# --- One_Time_Sequences to the last line"
cli1 knock $S4 7501 7503 7505
check "line 1 opens (IPv4)" can_connect "$CLI1" $S4 2203
check "used line 1 is marked with '#'" eval "sed -n 2p '$OT' | grep -q '^#'"
check "lines 2 and 3 untouched" eval "sed -n 3p '$OT' | grep -q '^7511' && sed -n 4p '$OT' | grep -q '^7521'"
check "the ruleset now queues line 2's ports" eval \
	"srv nft list table inet gatekeeper 2>/dev/null | grep -q 7515"
cli1 knock -6 $S6 7501 7503 7505
check "IPv6 does not open with the used line 1" dropped "$CLI1" $S6 2203
cli1 knock -6 $S6 7511:udp 7513 7515
check "IPv6 opens with line 2" can_connect "$CLI1" $S6 2203
check "used line 2 is marked with '#'" eval "sed -n 3p '$OT' | grep -q '^#'"
ctl revoke $C4 ot >/dev/null
cli1 knock $S4 7511:udp 7513 7515
check "IPv4 does not open with the used line 2" dropped "$CLI1" $S4 2203
cli1 knock $S4 7521 7523 7525
check "IPv4 opens with the last line" can_connect "$CLI1" $S4 2203
check "all three lines marked" [ "$(grep -c '^#' "$OT")" = 4 ]
check "spent file logged" wait_log "event=one-time-spent msg=\"door ot: $OT: no unused sequence left\"" 1 2
ctl revoke $C4 ot >/dev/null; ctl revoke $C6 ot >/dev/null
cli1 knock $S4 7521 7523 7525
cli1 knock -6 $S6 7521 7523 7525
check "after the last line the door is inactive (IPv4)" dropped "$CLI1" $S4 2203
check "after the last line the door is inactive (IPv6)" dropped "$CLI1" $S6 2203
check "the daemon keeps running; door ot has no sequence" eval \
	"kill -0 $DPID && ctl --json status && out_has '\"name\":\"ot\",\"sequence\":\\[\\]'"
check "other doors still work" eval \
	"cli1 knock $S4 7000 8000 9000 && can_connect $CLI1 $S4 2201"

echo "# --- restart with a live grant"
ctl grant $C26 ssh --for 1
stop_d TERM
sleep 1		# the 1 s grant of $C26 expires while the daemon is down
check "SIGTERM: clean stop" log_has 'event=stopped msg=clean'
check "state file written" test -s "$WORK/state"
ctl status
check "daemon stopped: gatekeeperctl exit 2, one line" eval \
	"rc_is 2 && err_line 'is gatekeeperd running'"
start_daemon "$BASE" || exit 1
check "restart: a new connection right after succeeds" can_connect "$CLI1" $S4 2201
check "restart: by the restored grant" log_has \
	"event=verdict verdict=accept src=$C4 dport=2201/tcp door=ssh reason=grant"
check "restart: restore logged" log_has "event=state-restore msg=\"$WORK/state: [1-9][0-9]* grants restored"
check "restart: others are still dropped" dropped "$CLI2" $S24 2201
check "restart: the grant expired meanwhile was dropped" eval \
	"log_has 'event=state-restore msg=.* grants restored, 1 expired' &&
	 dropped $CLI2 $S26 2201"
check "restart: the spent one-time door stays spent" eval \
	"cli1 knock $S4 7521 7523 7525 && ctl revoke $C4 ot && out_has '^revoked 0 '"
# A crash: the grant was written within about a second (atomic replace).
ctl grant $C24 ssh --for 60
check "a new grant reaches the state file" \
	wait_file_has "$WORK/state" "^grant $C24 ssh [0-9]+\$" 3
stop_d KILL
start_daemon "$BASE" || exit 1
check "after SIGKILL and a start the grant is restored" can_connect "$CLI2" $S24 2201
# gatekeeperctl may grant longer than the door's Open_Timeout (30 s):
# a restart must not cut the 60 s down.
check "the restored hand-made grant keeps its 60 s, not Open_Timeout" eval \
	"ctl grants && out_has '^$C24 +ssh +2201/tcp +(4[4-9]|5[0-9]|60)s\$'"
check "... and the restore did not report it clamped" log_has \
	"event=state-restore msg=.* grants restored, [0-9]+ expired, 0 clamped"

# The wall clock went back an hour since the file was written (its mtime
# is an hour ahead): a grant that had 20 s left keeps 20 s, not 1 h 20 s.
stop_d TERM
now=$(date +%s)
printf 'gatekeeper-state 1\ngrant %s ssh %s\nend 1\n' $C24 \
	$(( (now + 3620) * 1000 )) >"$WORK/state"
touch -d "@$((now + 3600))" "$WORK/state"
start_daemon "$BASE" || exit 1
check "clock set back: the restored grant keeps only what it had left" eval \
	"ctl grants && out_has '^$C24 +ssh +2201/tcp +(1[0-9]|2[01])s\$'"

echo "# --- corrupt state file"
stop_d TERM
printf 'this is no state file\n\001\002\n' >"$WORK/state"
cp "$WORK/state" "$WORK/state.orig"
start_daemon "$BASE" || exit 1
check "corrupt state: warning logged" log_has \
	"event=state-corrupt msg=\"$WORK/state: .*kept as $WORK/state.bad, starting empty\""
check "corrupt state: the bad file is kept aside" cmp -s "$WORK/state.orig" "$WORK/state.bad"
check "corrupt state: started empty" eval "ctl grants && out_has '^no active grants'"
check "corrupt state: no grant, connection dropped" dropped "$CLI1" $S4 2201
check "corrupt state: the daemon works" eval \
	"cli1 knock $S4 7000 8000 9000 && can_connect $CLI1 $S4 2201"
stop_d TERM
# A foreign file: a state file of a version this daemon does not know.
check "a state file with the grant was written" grep -q "^grant $C4 ssh " "$WORK/state"
sed -i 's/^gatekeeper-state 2$/gatekeeper-state 9/' "$WORK/state"
cp "$WORK/state" "$WORK/state.orig"
start_daemon "$BASE" || exit 1
check "foreign state: warning logged" log_has \
	"event=state-corrupt msg=\"$WORK/state: .*version 9.*kept as $WORK/state.bad, starting empty\""
check "foreign state: kept aside" cmp -s "$WORK/state.orig" "$WORK/state.bad"
check "foreign state: started empty" eval "ctl grants && out_has '^no active grants'"
stop_d TERM

# =========================================================================
# 2. Start_Command / Stop_Command.
# =========================================================================
echo "# --- commands"
CMDS=$WORK/cmds
: >"$CMDS"
CONFIG2="[options]
Queue = 5
Lockout_After = 0

[cmd]
Sequence = 7600,7700,7800
Seq_Timeout = 3
Open_Ports = 2211
Open_Timeout = 30
Start_Command = echo start %IP% >> $CMDS; echo hello-%IP%
Start_Command_6 = echo start6 %IP% >> $CMDS
Stop_Command = echo stop %IP% >> $CMDS; exit 3
Cmd_Timeout = 2

[hang]
Sequence = 7610,7710
Seq_Timeout = 3
Open_Ports = 2212
Open_Timeout = 30
Start_Command = sleep 30
Stop_Command = echo hangstop %IP% >> $CMDS
Cmd_Timeout = 3600

[later]
Sequence = 7620,7720
Seq_Timeout = 3
Start_Command = true
Stop_Command = echo laterstop %IP% >> $CMDS
Cmd_Timeout = 3600"
listen "$SRV" 2211; listen "$SRV" 2212
start_daemon "$CONFIG2" || exit 1
t0=$(date +%s%N)
cli1 knock $S4 7600 7700 7800
cli1 knock -6 $S6 7600 7700 7800
check "start command ran with %IP% (IPv4)" wait_file_has "$CMDS" "^start $C4\$" 2
check "Start_Command_6 ran with %IP% (IPv6)" wait_file_has "$CMDS" "^start6 $C6\$" 2
check "no stop before Cmd_Timeout" eval "! grep -q '^stop' '$CMDS'"
check "start exit status and output logged" eval "wait_log \
	'event=command-exit door=cmd src=$C4 phase=start pid=[0-9]+ status=0 duration_ms=[0-9]+ output=hello-$C4' 1 2"
check "stop command ran (IPv4)" wait_file_has "$CMDS" "^stop $C4\$" 4
t1=$(date +%s%N)
echo "# stop came $(( (t1 - t0) / 1000000 )) ms after the knock (Cmd_Timeout 2 s)"
check "stop not before Cmd_Timeout" [ $(( (t1 - t0) / 1000000 )) -ge 1900 ]
check "stop command ran (IPv6, Stop_Command used for both)" wait_file_has "$CMDS" "^stop $C6\$" 2
check "stop exit status logged" eval \
	"wait_log 'event=command-exit door=cmd src=$C4 phase=stop pid=[0-9]+ status=3' 1 2"

# A reload reaches the command helper: the new Start_Command runs.
write_conf "$(printf '%s\n' "$CONFIG2" | sed 's/echo start %IP%/echo restart %IP%/')"
ctl_ok "reload with a changed Start_Command" '^reloaded' reload
cli1 knock $S4 7600 7700 7800
check "the changed Start_Command runs" wait_file_has "$CMDS" "^restart $C4\$" 2

cli1 knock $S4 7610 7710
check "hang: 'sleep 30' is running" eval \
	"wait_log 'event=command door=hang src=$C4 phase=start' 1 2"
t0=$(date +%s%N)
cli1 knock $S4 7610 7710 && can_connect "$CLI1" $S4 2212
r1=$?
cli1 knock $S4 7600 7700 7800 && can_connect "$CLI1" $S4 2211
r2=$?
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "# two knocks and connects took $ms ms while 'sleep 30' runs"
check "hang: knock+connect succeed during the hanging command" [ $r1 = 0 -a $r2 = 0 ]
check "hang: and promptly (under 1 s)" [ $ms -lt 1000 ]

cli1 knock $S4 7620 7720
check "later: start ran, stop pending" eval \
	"wait_log 'event=command-exit door=later src=$C4 phase=start' 1 2 && ! grep -q laterstop '$CMDS'"
t0=$(date +%s%N)
stop_d TERM
t1=$(date +%s%N)
echo "# shutdown took $(( (t1 - t0) / 1000000 )) ms (waits for 'sleep 30' up to 5 s)"
check "stop: pending Stop_Command ran at shutdown" grep -q "^laterstop $C4\$" "$CMDS"
check "stop: the hung start's Stop_Command ran too" grep -q "^hangstop $C4\$" "$CMDS"
check "stop: shutdown logged" grep -E -q 'event=command-shutdown running=[1-9]' "$ALL_LOG"
check "stop: shutdown bounded (under 9 s)" [ $(( (t1 - t0) / 1000000 )) -lt 9000 ]
# Even SIGKILL of the daemon loses no pending Stop_Command: the command
# helper notices and runs them.
: >"$CMDS"
start_daemon "$CONFIG2" || exit 1
cli1 knock $S4 7620 7720
check "later again: start ran" eval \
	"wait_log 'event=command-exit door=later src=$C4 phase=start' 1 2"
stop_d KILL
check "SIGKILL: the pending Stop_Command still ran" \
	wait_file_has "$CMDS" "^laterstop $C4\$" 3
check "SIGKILL: ... once, and nothing else" eval \
	"sleep 0.3; [ \"\$(grep -v '^start' '$CMDS')\" = 'laterstop $C4' ]"

# =========================================================================
# 3. Refused-packet logging: Log_Prefix, Log_Rate/Log_Burst, Log_Refused.
# =========================================================================
echo "# --- logging"
GROUPLINE=
getent group nogroup >/dev/null && command -v setpriv >/dev/null &&
	GROUPLINE="Control_Group = nogroup"
CONFIG3="[options]
Queue = 7
Lockout_After = 0
Log_Prefix = gk-refused:
Log_Rate = 1/minute
Log_Burst = 2
$GROUPLINE

[ssh]
Sequence = 7000,8000,9000
Open_Ports = 2201"
start_daemon "$CONFIG3" || exit 1
if [ -n "$GROUPLINE" ]; then
	chmod 711 "$WORK"
	check "Control_Group: socket is 0660, group nogroup" \
		[ "$(stat -c '%a %G' "$WORK/control")" = "660 nogroup" ]
	asnobody "$GKCTL" -S "$WORK/control" status >"$WORK/ctl.out" 2>"$WORK/ctl.err"; RC=$?
	check "Control_Group: a member may use gatekeeperctl" eval "rc_is 0 && out_has '^gatekeeperd '"
	srv setpriv --reuid=65534 --regid=65533 --clear-groups "$GKCTL" -S "$WORK/control" \
		status >"$WORK/ctl.out" 2>"$WORK/ctl.err"; RC=$?
	check "Control_Group: a non-member may not" eval "rc_is 2 && err_line 'Permission denied'"
	chmod 700 "$WORK"
else
	echo "ok - Control_Group # SKIP no group nogroup or no setpriv"
fi
# Every per-packet line of a source draws on its bucket (a knock packet:
# its stage line and its verdict line), so each check uses a fresh source.
cli1 knock $S4 7000
check "no prefix on knock lines" eval \
	"wait_log 'event=verdict verdict=accept src=$C4 dport=7000/tcp reason=knock' 1 2"
check "Log_Prefix on a refused line" eval "dropped $CLI1 $S6 2201 &&
	log_has 'event=verdict prefix=gk-refused: verdict=drop src=$C6 dport=2201/tcp reason=no-grant'"
nr0=$(counter verdict.no-grant)
pids=
for i in $(seq 10); do cli2 nc -z -w 1 $S24 2201 2>/dev/null & pids="$pids $!"; done
wait $pids
nr1=$(counter verdict.no-grant)
echo "# $((nr1 - nr0)) refused SYNs from $C24"
check "flood: at least 10 refused SYNs reached the daemon" [ $((nr1 - nr0)) -ge 10 ]
check "Log_Burst = 2: only 2 refused lines logged" \
	[ "$(log_count "verdict=drop src=$C24 dport=2201/tcp reason=no-grant")" = 2 ]
sup=$(counter log_suppressed)
check "stats: suppressed lines counted ($sup)" [ "${sup:-0}" -ge $((nr1 - nr0 - 2)) ]

write_conf "$(printf '%s\n' "$CONFIG3" | sed 's/^Log_Burst = 2$/&\nLog_Refused = no/')"
ctl_ok "reload with Log_Refused = no" '^reloaded' reload
nr0=$(counter verdict.no-grant)
check "Log_Refused = no: the connection is still dropped" dropped "$CLI2" $S26 2201
check "Log_Refused = no: it was decided by the daemon" [ "$(counter verdict.no-grant)" -gt "$nr0" ]
check "Log_Refused = no: no refused line" eval "! log_has 'src=$C26 dport=2201/tcp'"
# Reports come every 10 s, counted from the start.
check "suppressed lines reported: event=log-suppressed" \
	wait_log "event=log-suppressed lines=[1-9]" 1 12
stop_d TERM

check "no sanitizer report in any daemon or client run" no_san_report
[ -n "${GK_KEEP_LOG:-}" ] && cp "$ALL_LOG" "$GK_KEEP_LOG"
echo "# run time $(( $(date +%s) - T0 )) s"
finish

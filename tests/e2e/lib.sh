# Shared harness of the end-to-end tests: throw-away network namespaces,
# the real daemon on the real kernel queue, and TAP-like result lines.
#
# Topology (every address exists only inside these namespaces):
#   cli1 (10.77.1.2, fd77:1::2) --veth-- srv (10.77.1.1, fd77:1::1)
#   cli2 (10.77.2.2, fd77:2::2) --veth-- srv (10.77.2.1, fd77:2::1)
# Names carry the test's PID, so parallel runs never collide.
# Run the daemon ONLY through srv or start_daemon: it installs a ruleset in
# whatever namespace it starts in (--print-rules and -n touch no kernel).

set -u

GK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GKD=${GKD:-$GK_TOP/build/gatekeeperd}
ID=gk$$
SRV=$ID-srv
CLI1=$ID-c1
CLI2=$ID-c2
WORK=$(mktemp -d /tmp/gatekeeper-e2e.XXXXXX)
DPID=
PASS=0
FAIL=0

srv() { ip netns exec "$SRV" "$@"; }
cli1() { ip netns exec "$CLI1" "$@"; }
cli2() { ip netns exec "$CLI2" "$@"; }

cleanup() {
	exec 2>/dev/null	# no job-control noise from killed listeners
	stop_daemon KILL
	# Listeners and captures die with their namespace's processes.
	for ns in "$SRV" "$CLI1" "$CLI2"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$WORK"
}

need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 && continue
		echo "SKIP: $t is not installed (run: make deps)"
		exit 0
	done
}

setup_net() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: end-to-end tests need root (network namespaces, NFQUEUE)"
		exit 0
	fi
	need ip nc knock nft tcpdump
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	ip netns add "$SRV" && ip netns add "$CLI1" && ip netns add "$CLI2" ||
		{ echo "Bail out! cannot create namespaces"; exit 1; }
	local n
	for n in 1 2; do
		local cli=$ID-c$n
		ip link add "${ID}s$n" netns "$SRV" type veth peer name "${ID}c$n" netns "$cli"
		srv ip addr add "10.77.$n.1/24" dev "${ID}s$n"
		srv ip addr add "fd77:$n::1/64" dev "${ID}s$n" nodad
		ip netns exec "$cli" ip addr add "10.77.$n.2/24" dev "${ID}c$n"
		ip netns exec "$cli" ip addr add "fd77:$n::2/64" dev "${ID}c$n" nodad
		srv ip link set "${ID}s$n" up
		ip netns exec "$cli" ip link set "${ID}c$n" up
		ip netns exec "$cli" ip link set lo up
	done
	srv ip link set lo up
	# Keep the v6 neighbours resolved, so no first-packet ND delay.
	cli1 ping -c1 -W2 10.77.1.1 >/dev/null 2>&1
	cli1 ping -6 -c1 -W2 fd77:1::1 >/dev/null 2>&1
	cli2 ping -c1 -W2 10.77.2.1 >/dev/null 2>&1
}

CONF=$WORK/gatekeeper.conf

# write_conf CONFIG_TEXT: $CONF with the test's own control socket and
# state file in [options] (atomically, so a reload never reads half).
write_conf() {
	printf '%s\n' "$1" | awk -v w="$WORK" '
		function ours() { print "Control_Socket = " w "/control"
			print "State_File = " w "/state" }
		tolower($0) ~ /^\[options\]/ { print; ours(); done = 1; next }
		!done && /^\[/ { print "[options]"; ours(); done = 1 }
		{ print }
		END { if (!done) { print "[options]"; ours() } }' >"$CONF.new"
	chmod 600 "$CONF.new"		# it may hold SPA keys
	mv "$CONF.new" "$CONF"
}

# start_daemon CONFIG_TEXT: run gatekeeperd -f in srv, log in $LOG.
start_daemon() {
	LOG=$WORK/daemon.log
	write_conf "$1"
	: >"$LOG"
	# Not through srv(): $! must be the daemon (ip netns exec execs it).
	ip netns exec "$SRV" "$GKD" -f -c "$CONF" 2>>"$LOG" &
	DPID=$!
	local i
	for i in $(seq 50); do
		grep -q 'event=start' "$LOG" && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# daemon did not start:"; sed 's/^/#   /' "$LOG"
	return 1
}

# stop_daemon [SIGNAL]: default TERM, waits for exit.
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -"${1:-TERM}" "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}

# listen NS PORT [udp]: a dual-stack server that accepts forever, output
# in $WORK/NS-PORT.
listen() {
	local ns=$1 port=$2 out=$WORK/$1-$2
	: >"$out"
	if [ "${3:-}" = udp ]; then
		ip netns exec "$ns" nc -lku -6 "$port" >"$out" 2>/dev/null &
	else
		ip netns exec "$ns" nc -lk -6 "$port" >"$out" 2>/dev/null &
	fi
	sleep 0.2
}

# can_connect NS HOST PORT: a TCP connect within 3 s (SYN retransmits once).
can_connect() { ip netns exec "$1" nc -z -w 3 "$2" "$3" 2>/dev/null; }

# is_dropped NS HOST PORT: the connect times out, no RST, no ICMP error.
is_dropped() {
	local err
	err=$(ip netns exec "$1" nc -v -z -w 2 "$2" "$3" 2>&1)
	[ $? -ne 0 ] && case $err in *"timed out"*) return 0 ;; esac
	echo "# expected a silent drop of $2:$3, got: $err"
	return 1
}

# bound_queues: the NFQUEUE numbers bound in the server, ascending.
bound_queues() {
	srv awk '{ print $1 }' /proc/net/netfilter/nfnetlink_queue | sort -n | xargs
}
# queued Q: packets queue Q has handed out so far (its last packet id).
queued() {
	srv awk -v q="$1" '$1 == q { print $8 }' /proc/net/netfilter/nfnetlink_queue
}

log_has() { grep -E -q -- "$1" "$LOG"; }
log_count() { grep -E -c -- "$1" "$LOG"; }

# wait_log REGEX COUNT [SECONDS]: until the log holds COUNT matching lines.
wait_log() {
	local i
	for i in $(seq $((${3:-6} * 10))); do
		[ "$(log_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "# log never had $2 lines matching: $1"
	return 1
}

ok() {
	if [ "$1" = 0 ]; then
		PASS=$((PASS + 1)); echo "ok - $2"
	else
		FAIL=$((FAIL + 1)); echo "not ok - $2"
		echo "# daemon log (last lines):"; tail -n 15 "${LOG:-/dev/null}" 2>/dev/null | sed 's/^/#   /'
	fi
}

# check NAME CMD...: run CMD, record the result.
check() {
	local name=$1; shift
	"$@"; ok $? "$name"
}

finish() {
	echo "$(basename "$0" .sh): $PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ]
}

#!/usr/bin/env bash
# End-to-end: knocks with Debian's `knock` and connections with `nc`,
# through the real kernel queue to the real daemon.
. "$(dirname "$0")/lib.sh"
setup_net

S4=10.77.1.1 S6=fd77:1::1 C4=10.77.1.2

# Lockout is off here: this file makes many wrong knocks on purpose
# (test_hostile.sh covers lockout).
CONFIG='[options]
Queue = 3
Lockout_After = 0

[tcp3]
Sequence = 7000,8000,9000
Seq_Timeout = 3
TCPFlags = syn
Open_Ports = 22, 2222
Open_Timeout = 3

[udp3]
Sequence = 7001:udp,8001:udp,9001:udp
Seq_Timeout = 3
Open_Ports = 2201, 5300:udp
Open_Timeout = 3

[mixed]
Sequence = 7002,8002:udp,9002
Seq_Timeout = 3
Open_Ports = 2202
Open_Timeout = 3'

for p in 22 2222 2201 2202; do listen "$SRV" $p; done
listen "$SRV" 5300 udp
start_daemon "$CONFIG" || exit 1


# 1. No knock: the protected port is silent (dropped, not refused).
check "no knock: connection to 22 is dropped" is_dropped "$CLI1" $S4 22
check "no knock: verdict logged" log_has \
	"event=verdict verdict=drop src=$C4 dport=22/tcp reason=no-grant"

# 2. The first connect right after knock succeeds, every time: no SYN of
#    it may have been dropped (no drop line appears during the round).
tcp_rounds_ok=0
for round in 1 2 3 4 5; do
	before=$(log_count "verdict=drop src=$C4 dport=22/tcp")
	cli1 knock $S4 7000 8000 9000 &&
	can_connect "$CLI1" $S4 22 &&
	[ "$(log_count "verdict=drop src=$C4 dport=22/tcp")" = "$before" ] &&
	tcp_rounds_ok=$((tcp_rounds_ok + 1))
	wait_log "event=expire src=$C4 door=tcp3" $round
done
check "TCP knock: first connect succeeds 5 of 5 times" [ $tcp_rounds_ok = 5 ]

check "UDP knock opens 2201/tcp" eval \
	"cli1 knock -u $S4 7001 8001 9001 && can_connect $CLI1 $S4 2201"
echo hello-udp | cli1 nc -u -w 1 $S4 5300
sleep 0.3
check "UDP knock opens 5300/udp" grep -q hello-udp "$WORK/$SRV-5300"
check "mixed TCP/UDP knock opens 2202" eval \
	"cli1 knock $S4 7002 8002:udp 9002 && can_connect $CLI1 $S4 2202"

# 4. Only the knocking address, only that door's ports.
check "grant of udp3 does not open tcp3's port 22" is_dropped "$CLI1" $S4 22
check "another source gets nothing" is_dropped "$CLI2" 10.77.2.1 2201
check "the knocker's IPv6 address gets nothing" is_dropped "$CLI1" $S6 2201
wait_log "event=expire src=$C4 door=mixed" 1

# 3. Wrong knocks open nothing.
cli1 knock $S4 9000 8000 7000
check "wrong order: no grant" is_dropped "$CLI1" $S4 22
cli1 knock $S4 7000 8000 8000 9000
check "repeated middle port resets: no grant" is_dropped "$CLI1" $S4 22
cli1 knock $S4 7000 8000 7001:udp 9000
check "knock of another door in between resets: no grant" \
	is_dropped "$CLI1" $S4 22
check "... and is logged as a reset" \
	log_has "event=knock-reset src=$C4 door=tcp3 stage=2/3"
cli1 knock -d 1600 $S4 7000 8000 9000
check "too slow (Seq_Timeout 3 s): no grant" is_dropped "$CLI1" $S4 22
check "too slow: timeout logged" log_has "event=knock-timeout src=$C4 door=tcp3"
if command -v hping3 >/dev/null; then
	for p in 7000 8000 9000; do
		cli1 hping3 -q -c 1 -F -p $p $S4 >/dev/null 2>&1
	done
	check "FIN knocks (TCPFlags = syn): no grant" is_dropped "$CLI1" $S4 22
else
	echo "ok - FIN knocks # SKIP hping3 not installed"
fi

# 7. Knock ports look like closed ports: the host answers them as it
#    answers closed port 9999 (RST) and closed UDP port 9998 (ICMP port
#    unreachable); the protected port stays silent.
CAP=$WORK/capture
srv sysctl -qw net.ipv4.icmp_ratelimit=0
# replies WHEN: probe the knock ports, closed neighbours and 22; check that
# the knock ports answer as their neighbours do and 22 stays silent.
replies() {
	srv timeout 8 tcpdump -l -n -i "${ID}s1" \
		"src host $S4 and (tcp[tcpflags] & tcp-rst != 0 or icmp)" >"$CAP" 2>/dev/null &
	local tpid=$!
	sleep 1
	cli1 nc -z -w 1 $S4 7000 2>/dev/null
	echo x | cli1 nc -u -w 1 $S4 8001
	cli1 nc -z -w 1 $S4 9999 2>/dev/null
	echo x | cli1 nc -u -w 1 $S4 9998
	cli1 nc -z -w 1 $S4 22 2>/dev/null
	sleep 0.5
	kill $tpid 2>/dev/null; wait $tpid 2>/dev/null
	check "$1: closed port 9999 answers RST" grep -q "\.9999 >.*Flags \[R" "$CAP"
	check "$1: closed UDP port 9998 answers ICMP port unreachable" \
		grep -q "udp port 9998 unreachable" "$CAP"
	check "$1: knock port 7000/tcp answers RST, as a closed port" \
		grep -q "\.7000 >.*Flags \[R" "$CAP"
	check "$1: knock port 8001/udp answers ICMP unreachable, as a closed port" \
		grep -q "udp port 8001 unreachable" "$CAP"
	check "$1: the protected port 22 sends nothing" eval "! grep -q '\.22 >' '$CAP'"
}
replies "running"

# 6. IPv6.
check "IPv6: no knock, dropped" is_dropped "$CLI1" $S6 22
check "IPv6: knock opens 22" eval \
	"cli1 knock -6 $S6 7000 8000 9000 && can_connect $CLI1 $S6 22"
check "IPv6 grant does not cover the IPv4 address" is_dropped "$CLI1" $S4 22

# 5. After Open_Timeout new connections fail; an open one keeps working.
wait_log "event=expire src=fd77:1::2 door=tcp3" 1
cli1 knock $S4 7000 8000 9000
(echo first-line; sleep 5; echo second-line) | cli1 nc -w 8 $S4 2222 &
NCPID=$!
sleep 0.5
wait_log "event=expire src=$C4 door=tcp3" 6
check "after Open_Timeout a new connection is dropped" is_dropped "$CLI1" $S4 2222
wait $NCPID
check "the connection opened during the grant kept working" \
	grep -q second-line "$WORK/$SRV-2222"

# 8. The log holds the events with their fields.
for re in "event=knock src=$C4 door=tcp3 stage=1/3" \
	"event=knock src=$C4 door=tcp3 stage=2/3" \
	"event=knock-complete src=$C4 door=tcp3 stage=3/3" \
	"event=grant src=$C4 door=tcp3 ports=22/tcp,2222/tcp expires_in=3" \
	"event=verdict verdict=accept src=$C4 dport=22/tcp door=tcp3 reason=grant" \
	"event=verdict verdict=accept src=$C4 dport=7000/tcp reason=knock" \
	"event=knock-reset src=$C4 door=tcp3 stage=2/3" \
	"event=expire src=$C4 door=tcp3" \
	"event=grant src=fd77:1::2 door=tcp3" \
	"event=start .*backend"; do
	check "log: $re" log_has "$re"
done

# 9. SIGKILL: nothing opens up.
cli1 knock $S4 7000 8000 9000
stop_daemon KILL
check "after SIGKILL the table stays" \
	eval "srv nft list table inet gatekeeper >/dev/null 2>&1"
check "after SIGKILL a granted source cannot connect" is_dropped "$CLI1" $S4 22
check "after SIGKILL others cannot connect" is_dropped "$CLI2" 10.77.2.1 22

# A restart takes over its own table in place; a clean stop leaves it, so
# the door stays shut while nobody listens.
start_daemon "$CONFIG"
check "restart after SIGKILL takes over its own table" kill -0 "$DPID"
cli1 knock $S4 7000 8000 9000
check "a knock opens 22 again" can_connect "$CLI1" $S4 22
stop_daemon TERM
check "clean stop logged" log_has "event=stopped msg=clean"
check "after SIGTERM the table stays" \
	eval "srv nft list table inet gatekeeper >/dev/null 2>&1"
check "after SIGTERM the granted source cannot connect" is_dropped "$CLI1" $S4 22
check "after SIGTERM others cannot connect" is_dropped "$CLI2" 10.77.2.1 22
listen "$SRV" 8080
check "after SIGTERM unlisted services still answer" can_connect "$CLI1" $S4 8080
# Knock ports do not stand out while nobody reads the queue either.
replies "stopped"
# Removing the gate is the admin's explicit act.
check "gatekeeperd --remove-table removes the gate" \
	eval "srv $GKD --remove-table | grep -q 'nothing is gated now'"
check "after --remove-table 22 answers anyone" can_connect "$CLI2" 10.77.2.1 22
check "--remove-table again: nothing to remove is fine" \
	eval "srv $GKD --remove-table >/dev/null"

finish

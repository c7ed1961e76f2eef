#!/usr/bin/env bash
# End-to-end: the gate holds.  No port scan of any type opens a door, knock
# ports look like closed ports, a protected port is reached only with a
# grant whatever the packet's flags or conntrack state, long packets are
# judged on their headers, loopback is ungated unless asked, the gate stays
# closed while the daemon is stopped, crashed or restarting, table updates
# keep the packets waiting in the queues, and a flood that overflows the
# knock queue holds up nobody and opens nothing.
#
# Every scan and flood goes from cli1 to the server namespace's address.
. "$(dirname "$0")/lib.sh"
setup_net
need nmap hping3

S4=10.77.1.1 C4=10.77.1.2 S4B=10.77.2.1
CTL=$(dirname "$GKD")/gatekeeperctl
ctl() { srv "$CTL" -S "$WORK/control" "$@"; }
counter() { ctl stats | awk -v k="$1" '$1 == k { print $2 }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Closed ports answer at once: RST, and ICMP port unreachable unthrottled.
srv sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=1000000 \
	net.ipv4.icmp_msgs_burst=1000000

# Ascending, descending and mixed orders; TCP, UDP and mixed; with and
# without TCPFlags (xmas knocks with exactly what nmap -sX sends).
# Lockout is off: only the scan guard stands between a scan and a door.
DOORS='[options]
Queue = 5
Lockout_After = 0

[asc]
Sequence = 1000,2000,3000
Seq_Timeout = 60
Open_Ports = 22

[desc]
Sequence = 6000,5000,4000
Seq_Timeout = 60
Open_Ports = 23

[mixed]
Sequence = 7000,9000,8000
Seq_Timeout = 60
Open_Ports = 24

[near]
Sequence = 10000,10002,10004
Seq_Timeout = 60
Open_Ports = 25

[fin]
Sequence = 11000,12000,11500
Seq_Timeout = 60
TCPFlags = fin
Open_Ports = 26

[xmas]
Sequence = 13000,14000,15000
Seq_Timeout = 60
TCPFlags = fin,psh,urg
Open_Ports = 27

[udp]
Sequence = 1000:udp,2000:udp,3000:udp
Seq_Timeout = 60
Open_Ports = 28

[udpmixed]
Sequence = 17000:udp,16000:udp,18000:udp
Seq_Timeout = 60
Open_Ports = 5300:udp

[mix]
Sequence = 19000,19002:udp,19004
Seq_Timeout = 60
Open_Ports = 29'
PROTECTED="22 23 24 25 26 27 28 29"

listen "$SRV" 22
start_daemon "$DOORS" || exit 1

# scan NAME NMAP-ARGS...: from cli1 to the server, output in $WORK/nmap-NAME.
scan() {
	local name=$1 t0; shift
	t0=$(now_ms)
	cli1 timeout 120 nmap "$@" -T5 --max-retries 0 -n -Pn $S4 \
		>"$WORK/nmap-$name" 2>&1
	echo "# $name: nmap $* took $(($(now_ms) - t0)) ms"
}
no_grant() { ! log_has 'event=grant '; }

# --- 1. No scan opens a door --------------------------------------------------

# Every TCP scan type, ordered and at random, over every port.
for type in sS sT sF sN sX sA sM sW; do
	scan "$type-r" -$type -r -p1-65535
	scan "$type-random" -$type -p1-65535
done
check "16 TCP scans of all 65535 ports (8 types, ordered and random): no grant" no_grant
check "... they did reach the daemon" [ "$(counter verdict.observed)" -gt $((16 * 60000)) ]
# They reached the knock ports: as a scanner's knocks (ten ports probed
# make a scanner), which count for nothing.
check "... and knocked: as a scanner, ignored" \
	[ "$(counter knocks_scanner)" -ge 16 ]
scan udp-r -sU -r -p1-65535 --min-rate 50000
scan udp-random -sU -p1-65535 --min-rate 50000
scan sSU-r -sS -sU -r -p1-20000 --min-rate 50000
check "UDP and TCP+UDP scans, ordered and random: no grant" no_grant
# Just the ports the doors use, in order.  Scanning exactly one door's
# ports in its order is that door's knock (no gate can tell the two
# apart: that is why knock ports must not stand out, section 2); with
# several doors, each door's knocks have another door's ports between
# them, and no door opens.
door_ports() {
	printf '%s\n' "$1" | sed -n 's/^\(Sequence\|Open_Ports\) = //p' |
		tr ',' '\n' | sed 's/:.*//; s/ //g' | sort -n | uniq | paste -sd, -
}
stop_daemon TERM
INTERLEAVED='[options]
Queue = 5
Lockout_After = 0

[up1]
Sequence = 1000,3000,5000
Open_Ports = 22

[up2]
Sequence = 2000,4000,6000
Open_Ports = 23

[down]
Sequence = 9000,8000,7000
Open_Ports = 24

[mixed]
Sequence = 7500,9500,8500
Open_Ports = 25

[udp]
Sequence = 1500:udp,2500:udp,3500:udp
Open_Ports = 26

[udp2]
Sequence = 2000:udp,3000:udp,4000:udp
Open_Ports = 27'
start_daemon "$INTERLEAVED" || exit 1
for type in sS sT sF sN sX sA sM sW; do
	scan "$type-doors" -$type -r -p "$(door_ports "$INTERLEAVED")"
done
scan udp-doors -sU -r -p "$(door_ports "$INTERLEAVED")"
check "ordered scans of just the door ports, every type: no grant" no_grant
stop_daemon TERM
# The control: one door's ports alone, in its order, are its knock.
start_daemon "$(printf '%s\n' "$INTERLEAVED" | sed -n '1,8p')" || exit 1
scan one-door -sS -r -p 1000,3000,5000
check "control: a scan of exactly one door's knock ports in order opens it" \
	wait_log "event=grant src=$C4 door=up1" 1 2
ctl revoke $C4 >/dev/null
stop_daemon TERM
start_daemon "$DOORS" || exit 1
for p in $PROTECTED; do
	can_connect "$CLI1" $S4 "$p" && { echo "# $p let cli1 in"; break; }
done
check "after every scan each protected port still drops cli1" is_dropped "$CLI1" $S4 22

# --- 2. Knock ports look like closed ports ---------------------------------

# The first step of an attack: find the ports that stand out.  A SYN scan
# reports the protected ports filtered and every other port, knock ports
# included, closed.
scan find -sS -p1-65535
sed -n '/^Not shown/,/^Nmap done/p' "$WORK/nmap-find" | sed 's/^/#   nmap: /'
STANDOUT=$(awk '$1 ~ /^[0-9]+\/tcp$/ && $2 != "closed" { sub("/tcp", "", $1); print $1 }' \
	"$WORK/nmap-find" | sort -n | paste -sd, -)
check "SYN scan: 65527 closed ports, the 8 protected ones filtered" eval \
	"grep -q 'Not shown: 65527 closed tcp ports (reset)' '$WORK/nmap-find' &&
	 [ '$STANDOUT' = '$(echo $PROTECTED | tr ' ' ,)' ]"
# The second step: scan what stood out, in order, with every scan type.
for type in sS sT sF sX sA; do
	scan "$type-standout" -$type -r -p "$STANDOUT"
done
check "two-step attack: scanning what stands out, in order, opens nothing" no_grant
scan find-udp -sU -p 990-3010 --min-rate 50000
check "UDP scan: the UDP knock ports are closed like their neighbours" eval \
	"grep -q 'Not shown: 2021 closed udp ports (port-unreach)' '$WORK/nmap-find-udp'"
# The scanner's own right knock counts for nothing (for ten minutes after
# its last probe) ...
ks=$(counter knocks_scanner)
cli1 knock $S4 1000 2000 3000
check "the scanner knocks the asc door right: ignored, it stays shut" eval \
	"[ \$(counter knocks_scanner) = $((ks + 3)) ] && is_dropped $CLI1 $S4 22"
# ... while the same doors open for anyone else's right knocks.
cli2 knock $S4B 1000 2000 3000
check "the asc door opens for its knock" can_connect "$CLI2" $S4B 22
cli2 hping3 -q -c 1 -S -p 13000 $S4B >/dev/null 2>&1
check "a SYN is no knock of the xmas door" eval "! log_has 'door=xmas stage=1/3'"
sleep 0.1	# the wrong knock's settle window (50 ms) must pass
for p in 13000 14000 15000; do
	cli2 hping3 -q -c 1 -F -P -U -p $p $S4B >/dev/null 2>&1
done
check "the xmas door opens for its xmas knocks" \
	wait_log "event=grant src=10.77.2.2 door=xmas" 1 2
stop_daemon TERM

# Knock_Reply = drop keeps the old silence: knock ports stand out.
start_daemon "$(printf '%s\n' "$DOORS" | sed 's/^Queue = 5$/&\nKnock_Reply = drop/')" || exit 1
scan find-drop -sS -p 990-1010,5990-6010
sed -n '/^Not shown/,/^MAC/p' "$WORK/nmap-find-drop" | sed 's/^/#   nmap: /'
check "Knock_Reply = drop: the knock ports show as filtered" eval \
	"grep -E -q '^1000/tcp +filtered' '$WORK/nmap-find-drop' &&
	 grep -E -q '^6000/tcp +filtered' '$WORK/nmap-find-drop' &&
	 grep -q 'Not shown: 40 closed tcp ports' '$WORK/nmap-find-drop'"
stop_daemon TERM

# --- 3. A protected port: a grant, or nothing -----------------------------

GATE='[options]
Queue = 5

[ssh]
Sequence = 7000,8000,9000
Open_Ports = 22, 2323, 5300:udp
Open_Timeout = 60'
listen "$SRV" 8080
listen "$SRV" 5300 udp
start_daemon "$GATE" || exit 1
# TCP of any flags: a closed port answers every packet but a RST with a
# RST of its own.  Protected 2323 (closed behind the gate) answers none:
# nothing got through to the host's stack.
CAP=$WORK/capture
srv timeout 12 tcpdump -l -n -i "${ID}s1" "src host $S4 and tcp" >"$CAP" 2>/dev/null &
TPID=$!
sleep 1
for f in "-A" "-F" "-S -F" "-S -A" "-F -P -U" "-Y" "" "-S"; do
	cli1 hping3 -q -c 1 $f -p 2323 $S4 >/dev/null 2>&1
	cli1 hping3 -q -c 1 $f -p 8089 $S4 >/dev/null 2>&1
done
sleep 0.5
kill $TPID 2>/dev/null; wait $TPID 2>/dev/null
check "packets of 8 flag combinations to unlisted, closed 8089 are answered" \
	[ "$(grep -c '\.8089 >' "$CAP")" -ge 7 ]
check "... to protected, closed 2323 none is (nothing got through)" \
	eval "! grep -q '\.2323 >' '$CAP'"
# notrack in the admin's raw table: untracked packets skip "established",
# and are still gated.
srv nft -f - <<EOF
table inet admin_raw {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		udp dport 5300 notrack
		tcp dport 22 notrack
	}
}
EOF
: >"$WORK/$SRV-5300"
echo untracked-before | cli1 nc -u -w 1 $S4 5300
check "notrack: UDP to the protected port is dropped without a grant" \
	eval "! grep -q untracked-before '$WORK/$SRV-5300'"
check "notrack: TCP to the protected port is dropped without a grant" \
	is_dropped "$CLI1" $S4 22
cli1 knock $S4 7000 8000 9000
echo untracked-after | cli1 nc -u -w 1 $S4 5300
sleep 0.3
check "notrack: with a grant the datagram passes" grep -q untracked-after "$WORK/$SRV-5300"
check "notrack: with a grant the TCP connection passes" can_connect "$CLI1" $S4 22
check "notrack: other sources are still dropped" is_dropped "$CLI2" $S4B 22
srv nft delete table inet admin_raw
ctl revoke $C4 >/dev/null

# --- 4. Big packets are judged on their headers -----------------------------

: >"$WORK/$SRV-8080"
listen "$SRV" 8081 udp
head -c 3000 /dev/zero | tr '\0' b | cli1 nc -u -w 1 $S4 8081
sleep 0.3
check "a 3000-byte datagram to an unlisted port arrives" \
	[ "$(wc -c <"$WORK/$SRV-8081")" -ge 3000 ]
check "... and is not counted malformed" [ "$(counter verdict.malformed)" = 0 ]
: >"$WORK/$SRV-5300"
head -c 3000 /dev/zero | tr '\0' c | cli1 nc -u -w 1 $S4 5300
sleep 0.3
check "a 3000-byte datagram to the protected port without a grant is dropped" \
	[ "$(wc -c <"$WORK/$SRV-5300")" = 0 ]
check "... as no-grant, not malformed" eval \
	"[ \"\$(counter verdict.malformed)\" = 0 ] && log_has 'dport=5300/udp reason=no-grant'"
cli1 knock $S4 7000 8000 9000
head -c 3000 /dev/zero | tr '\0' d | cli1 nc -u -w 1 $S4 5300
sleep 0.3
check "a 3000-byte datagram to the granted protected port arrives" \
	[ "$(wc -c <"$WORK/$SRV-5300")" -ge 3000 ]
ctl revoke $C4 >/dev/null
stop_daemon TERM

# --- 5. Loopback ---------------------------------------------------------------

start_daemon "$(printf '%s\n' "$GATE" | sed 's/^Queue = 5$/&\nGate_Loopback = yes/')" || exit 1
check "Gate_Loopback = yes: the host's own connection to 22 is gated" \
	eval "! srv nc -z -w 1 127.0.0.1 22"
stop_daemon TERM

# --- 6. Fail closed: crashed, restarting ----------------------------------------

start_daemon "$GATE" || exit 1
cli1 knock $S4 7000 8000 9000
check "granted before the crash" can_connect "$CLI1" $S4 22
sleep 1.2				# the state file is written
stop_daemon SEGV
check "crashed (SIGSEGV): the table stays" eval "srv nft list table inet gatekeeper >/dev/null 2>&1"
check "crashed: the granted source cannot connect" is_dropped "$CLI1" $S4 22
check "crashed: others cannot" is_dropped "$CLI2" $S4B 22
check "crashed: unlisted services answer" can_connect "$CLI1" $S4 8080
# Restarting: while it is down nothing passes; after, the grant is back.
cli2 nc -z -w 4 $S4B 22 2>/dev/null >"$WORK/during" & NCPID=$!
start_daemon "$GATE" || exit 1
wait $NCPID; rc=$?
check "restarting: a connection tried across the restart gets nothing" [ "$rc" != 0 ]
check "restarted: the grant from before the crash connects" can_connect "$CLI1" $S4 22

# --- 7. Table changes keep the packets waiting in the queues --------------------

# A granted SYN waits in the queue while the daemon is stopped; meanwhile
# the table is updated in place (what reload, a one-time sequence and a
# repair do).  Woken, the daemon decides it: the first SYN connects.
waiting_syn_survives() {
	local t0 rc
	kill -STOP "$DPID"
	cli1 nc -z -w 3 $S4 22 2>/dev/null & NCPID=$!
	sleep 0.3
	"$@" >/dev/null 2>&1
	sleep 0.2
	t0=$(now_ms)
	kill -CONT "$DPID"
	wait $NCPID; rc=$?
	echo "# connected $(($(now_ms) - t0)) ms after the daemon woke"
	[ "$rc" = 0 ] && [ $(($(now_ms) - t0)) -lt 300 ]
}
write_conf "$(printf '%s\n' "$GATE" | sed 's/^Open_Ports = 22, 5300:udp$/Open_Ports = 22, 2222, 5300:udp/')"
check "a SYN waiting in the queue survives an update in place" \
	waiting_syn_survives srv "$GKD" --install-table -c "$CONF"
kill -HUP "$DPID"
wait_log 'event=reloaded' 1 3
check "reload updated the table in place (no table-replaced line)" eval "! log_has 'event=table-replaced'"
# The control: deleting the table drops what waits (so the test can fail).
check "control: a SYN waiting while the table is deleted is lost" \
	eval "! waiting_syn_survives srv nft delete table inet gatekeeper"
wait_log 'event=reinstalled' 1 3
stop_daemon TERM

# --- 8. A flood that overflows the knock queue ------------------------------------

# The knock queue fails open: while the daemon cannot keep up (here it is
# stopped), packets go by unseen and the host's services still answer.
# The daemon sees the gap in the packet ids, resets every knock in
# progress, and says so.
for k in all default "${ID}s1"; do srv sysctl -qw "net.ipv4.conf.$k.rp_filter=0"; done
rm -f "$WORK/state"
start_daemon "$GATE" || exit 1
cli1 knock $S4 7000 8000
cli1 timeout -s INT 6 hping3 --flood --rand-source -S -p 9999 $S4 >/dev/null 2>&1 &
HPID=$!
sleep 1
kill -STOP "$DPID"
sleep 1
check "overflowed knock queue: an unlisted service answers" can_connect "$CLI2" $S4B 8080
kill -CONT "$DPID"
wait $HPID
check "the overflow is logged once, with a count" \
	wait_log 'event=queue-overflow msg="queue 5 was full: [0-9]+ packets went by unseen' 1 4
check "the knock in progress was reset" [ "$(counter lost_resets)" -ge 1 ]
cli1 knock $S4 9000
check "so its last knock opens nothing" is_dropped "$CLI1" $S4 22
cli1 knock $S4 7000 8000 9000
check "a whole knock afterwards opens" can_connect "$CLI1" $S4 22
check "the daemon is still running" kill -0 "$DPID"
stop_daemon TERM

# --- 9. RSS and RPS reorder a scan's probes ------------------------------------

# A multi-queue NIC (RSS) or RPS hands one source's probes of different
# ports to different CPUs: they reach the queue out of wire order, and an
# ordered sweep's reset can come after the next knock.  RPS on the
# server's veth does the same here.  Each sweep comes from its own
# (spoofed) address, seven ports each, so that no sweep is a scanner's:
# only the settle window stands between the sweep and the door.
srv sh -c "for q in /sys/class/net/${ID}s1/queues/rx-*; do echo 3 >\$q/rps_cpus; done"
start_daemon '[options]
Queue = 5
Lockout_After = 0
Log_Rate = 100000/second
Log_Burst = 10000

[near]
Sequence = 7000,7002
Open_Ports = 22' || exit 1
for i in $(seq 10 209); do
	cli1 hping3 -q -S -p ++6998 -i u1 -c 7 -a 10.77.$((100 + i / 250)).$((i % 250 + 1)) \
		$S4 >/dev/null 2>&1
done
sleep 0.3
# How often the daemon read a sweep out of order (a port after a higher
# one of the same source), among the sweeps the overall log limit let
# through.
REORDERED=$(grep -oE 'src=10\.77\.10[0-9]\.[0-9]+ dport=[0-9]+' "$LOG" | awk '
	{ split($1, s, "="); split($2, d, "="); p = d[2] + 0; n[s[2]]++
	  if (s[2] in last && p < last[s[2]]) bad[s[2]] = 1; last[s[2]] = p }
	END { for (k in n) if (n[k] == 7) whole++; print length(bad) "/" whole + 0 }')
echo "# RPS on: $REORDERED whole sweeps in the log were read out of order;" \
	"$(counter knocks_recent) knocks fell in a reset's window, $(counter cancelled) completions undone"
check "200 reordered sweeps over 7000,7002: no grant" no_grant
check "... the sweeps did knock (as resets' neighbours)" [ "$(counter knocks_recent)" -gt 0 ]
# A client that paces its knocks gets in, RPS or not, at its first SYN.
ok=0
for i in $(seq 10); do
	cli2 knock -d 20 $S4B 7000 7002
	cli2 nc -z -w 1 $S4B 22 2>/dev/null && ok=$((ok + 1))
	ctl revoke 10.77.2.2 >/dev/null
	sleep 0.1
done
check "RPS on: a paced knock, then connect, gets in the first time: $ok/10" [ $ok = 10 ]
stop_daemon TERM

finish
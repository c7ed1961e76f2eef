#!/usr/bin/env bash
# End-to-end: nothing on the packet path blocks, and nothing dies quietly.
# A stuck log reader, signals to every process of the unit, a killed
# command helper, a killed daemon with stop commands owed, a one-time file
# the daemon cannot write, a foreign table, a full queue, systemd's
# notify protocol and watchdog, and a flood of lockouts.
. "$(dirname "$0")/lib.sh"
setup_net
need hping3 python3

S4=10.77.1.1 C4=10.77.1.2 S4B=10.77.2.1 C4B=10.77.2.2
CTL=$(dirname "$GKD")/gatekeeperctl
ctl() { srv "$CTL" -S "$WORK/control" "$@"; }
counter() { ctl stats | awk -v k="$1" '$1 == k { print $2 }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_until() {
	local i n=$(($1 * 10)); shift
	for i in $(seq $n); do "$@" && return 0; sleep 0.1; done
	return 1
}
# helper_pid: the command helper of the daemon in the server namespace.
helper_pid() {
	local p
	for p in $(ip netns pids "$SRV"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = gatekeeperd-cmd ] &&
			{ echo "$p"; return 0; }
	done
	return 1
}
for k in all default "${ID}s1" "${ID}s2"; do srv sysctl -qw "net.ipv4.conf.$k.rp_filter=0"; done
listen "$SRV" 22
listen "$SRV" 8080

# --- 1. A stuck log reader stalls no verdict ---------------------------------

# The daemon's stderr is a pipe of 4 KiB whose reader we can stop, as a
# paused journal would be.
cat >"$WORK/reader.py" <<'EOF'
import fcntl, os, sys
fifo, out = sys.argv[1], sys.argv[2]
fd = os.open(fifo, os.O_RDONLY)
fcntl.fcntl(fd, 1031, 4096)		# F_SETPIPE_SZ
with open(out, "ab", buffering=0) as f:
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        f.write(b)
EOF
FIFO=$WORK/stderr.fifo
mkfifo "$FIFO"
LOG=$WORK/daemon.log
: >"$LOG"
python3 "$WORK/reader.py" "$FIFO" "$LOG" &
READER=$!
write_conf '[options]
Queue = 5
Log_Rate = 100000/second
Log_Burst = 10000

[ssh]
Sequence = 7000,8000,9000
Open_Ports = 22
Open_Timeout = 60'
ip netns exec "$SRV" "$GKD" -f -c "$CONF" 2>"$FIFO" &
DPID=$!
wait_log 'event=start' 1 5 || exit 1
kill -STOP $READER
# Drops to log, from many sources, until the pipe is surely full.
cli2 timeout -s INT 3 hping3 --flood --rand-source -S -p 22 $S4B >/dev/null 2>&1
t0=$(now_ms)
cli1 knock $S4 7000 8000 9000
check "reader stopped: a knock opens, the granted user connects" can_connect "$CLI1" $S4 22
check "reader stopped: an unlisted service answers" can_connect "$CLI1" $S4 8080
check "reader stopped: gatekeeperctl answers" eval "ctl status >/dev/null"
echo "# knock, connect, unlisted connect and status took $(($(now_ms) - t0)) ms with the log reader stopped"
# The ring holds what the pipe does not take (lines are rate-limited:
# seconds of them fit).
check "reader stopped: status shows the lines waiting" eval \
	"ctl status | grep -E -q 'stderr [0-9]+ lines, 0 lost, [1-9][0-9]* KiB queued'"
kill -CONT $READER
check "reader back: the lines that waited are written, none lost" \
	wait_log "event=knock-complete src=$C4" 1 5
check "... status says so" wait_until 3 eval \
	"ctl status | grep -E -q 'log +ok .*stderr [0-9]+ lines, 0 lost, 0 KiB queued'"
check "... and how many drops the rate limit kept out of it" \
	wait_log 'event=log-suppressed lines=[1-9]' 1 12
stop_daemon TERM
kill $READER 2>/dev/null; wait $READER 2>/dev/null

# --- 1b. A full disk under LogFile loses its lines, counted -------------------

# A tmpfs of 64 KiB in the daemon's own mount namespace (ip netns exec
# gives it one), full before the daemon starts; the test reaches it
# through /proc/PID/root.
FULL=$WORK/full
mkdir "$FULL"
write_conf '[options]
Queue = 5
LogFile = '"$FULL"'/gk.log

[ssh]
Sequence = 7000,8000,9000
Open_Ports = 22
Open_Timeout = 60'
LOG=$WORK/daemon.log
: >"$LOG"
ip netns exec "$SRV" sh -c 'mount -t tmpfs -o size=64k gk-full "$1" &&
	{ dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; exec "$2" -f -c "$3"; }' \
	sh "$FULL" "$GKD" "$CONF" 2>>"$LOG" &
DPID=$!
wait_log 'event=start' 1 5 || exit 1
MNT=/proc/$DPID/root$FULL
cli1 knock $S4 7000 8000 9000
check "disk full: a knock opens, the granted user connects" can_connect "$CLI1" $S4 22
check "disk full: status says the file sink fails and loses lines" wait_until 3 eval \
	"ctl status | grep -E -q 'log +LOST .*file [0-9]+ lines, [1-9][0-9]* lost.*writing fails'"
rm -f "$MNT/fill"
cli1 knock $S4 7000 8000 9000
check "space again: the file says how many lines it lost" wait_until 3 \
	grep -E -q "event=log-lost sink=file lines=[1-9][0-9]* " "$MNT/gk.log"
check "... and goes on" wait_until 3 eval \
	"[ \$(grep -c 'event=knock-complete src=$C4' '$MNT/gk.log') -ge 1 ]"
stop_daemon TERM

# --- 2. Signals, the command helper, owed stop commands ----------------------

CMDLOG=$WORK/cmd.log
: >"$CMDLOG"
CMDS='[options]
Queue = 5

[cmd]
Sequence = 7100,7300,7200
Start_Command = echo start %IP% >>'"$CMDLOG"'
Stop_Command = echo stop %IP% >>'"$CMDLOG"'
Cmd_Timeout = 3
Open_Ports = 22
Open_Timeout = 60'
stops() { grep -c "^stop $C4" "$CMDLOG"; }
starts() { grep -c "^start $C4" "$CMDLOG"; }
# knock_fresh: no grant, an empty command log, a knock that runs its start.
knock_fresh() {
	ctl revoke $C4 >/dev/null
	: >"$CMDLOG"
	cli1 knock $S4 7100 7300 7200
	wait_until 3 eval '[ "$(starts)" = 1 ]'
}
start_daemon "$CMDS" || exit 1
HP=$(helper_pid)
check "the command helper runs" [ -n "$HP" ]
# systemctl kill signals every process of the unit.
for sig in USR1 USR2 HUP; do
	kill -$sig "$DPID" "$HP"
done
sleep 0.5
check "USR1, USR2, HUP to daemon and helper: both live on" \
	eval "kill -0 $DPID && kill -0 $HP"
kill -TERM "$HP"; kill -INT "$HP"; kill -QUIT "$HP"
sleep 0.3
check "TERM, INT, QUIT to the helper alone: it lives on" kill -0 "$HP"
cli1 knock $S4 7100 7300 7200
check "after the signals a knock runs its start command" \
	wait_until 3 eval '[ "$(starts)" = 1 ]'
# The helper dies with the stop owed: the daemon says so, starts a new one
# and hands it the stop, which runs once, on time.
kill -9 "$HP"
check "helper killed: logged" wait_log 'event=command-helper-died' 1 3
check "helper killed: a new one started" wait_log 'event=command-helper-restarted msg="pid [0-9]+, 1 owed' 1 3
NHP=$(helper_pid)
check "... it is another process" [ -n "$NHP" -a "$NHP" != "$HP" ]
check "the owed stop runs once, on time" wait_until 5 eval '[ "$(stops)" = 1 ]'
sleep 1
check "... and only once" [ "$(stops)" = 1 ]
check "status: helper up, one restart, nothing owed" eval \
	"ctl status | grep -E -q 'helper +ok +pid $NHP, 1 restarts, 0 stop commands owed'"
# The helper and the daemon agree on the commands, or nothing runs: the
# file changes behind the daemon's back, the helper dies and its successor
# reads the new file; the owed stop is refused, and said so.
ctl revoke $C4 >/dev/null
cli1 knock $S4 7100 7300 7200
wait_until 3 eval '[ "$(starts)" = 2 ]'
sed -i 's|^Stop_Command = echo stop|Stop_Command = echo STOP|' "$CONF"
kill -9 "$NHP"
check "changed file, no reload: the owed stop is refused by the new helper" \
	wait_log 'event=command-refused msg="door cmd, 10.77.1.2: the door.s commands in the file are not the ones the daemon knows' 1 5
check "... and neither version runs" eval \
	"sleep 3.5; [ \"\$(stops)\" = 1 ] && ! grep -q '^STOP' '$CMDLOG'"
sed -i 's|^Stop_Command = echo STOP|Stop_Command = echo stop|' "$CONF"
kill -HUP "$DPID"
wait_log 'event=reloaded' 1 3
stop_daemon TERM

# The daemon is killed with a stop owed: its helper runs the stop at once,
# and the next daemon does not run it again.
: >"$CMDLOG"
rm -f "$WORK/state"
start_daemon "$CMDS" || exit 1
cli1 knock $S4 7100 7300 7200
wait_until 3 eval '[ "$(starts)" = 1 ]'
sleep 1.2				# the owed stop is in the state file
check "the owed stop is in the state file" grep -q "^stop [0-9a-f]* cmd " "$WORK/state"
stop_daemon KILL
check "daemon killed: its helper runs the owed stop at once" \
	wait_until 3 eval '[ "$(stops)" = 1 ]'
start_daemon "$CMDS" || exit 1
check "the next daemon knows the stop ran" log_has 'event=command-settled'
sleep 3
check "... and does not run it again" [ "$(stops)" = 1 ]
# Both die at once: nobody runs the stop then; the next daemon does, once.
knock_fresh
sleep 1.2
HP=$(helper_pid)
kill -9 "$HP" "$DPID"; wait "$DPID" 2>/dev/null; DPID=
sleep 0.3
check "helper and daemon killed at once: no stop ran" [ "$(stops)" = 0 ]
start_daemon "$CMDS" || exit 1
check "the next daemon restores the owed stop" log_has 'state-restore msg=".*1 owed stop commands'
check "... and it runs once, on time or soon after" wait_until 5 eval '[ "$(stops)" = 1 ]'
sleep 1
check "... only once" [ "$(stops)" = 1 ]
# A clean stop runs what is owed, once.
knock_fresh
stop_daemon TERM
check "clean stop: the owed stop ran" [ "$(stops)" = 1 ]
start_daemon "$CMDS" || exit 1
sleep 3.5
check "clean stop: the next daemon owes nothing" [ "$(stops)" = 1 ]
stop_daemon TERM

# --- 3. A one-time line is used once, even when the file is read-only --------

OT=$WORK/otseq
printf '%s\n' '7501,7503,7505' '7511,7513,7515' '7521,7523,7525' >"$OT"
chmod 0644 "$OT"			# root's: nobody cannot mark it
chmod 0777 "$WORK"
rm -f "$WORK/state"
OTCONF='[options]
Queue = 5
User = nobody

[ot]
One_Time_Sequences = '"$OT"'
Open_Ports = 22
Open_Timeout = 60'
start_daemon "$OTCONF" || exit 1
cli1 knock $S4 7501 7503 7505
check "read-only file: line 1 opens" can_connect "$CLI1" $S4 22
check "read-only file: a loud error says the line stays used" \
	wait_log 'event=one-time-error msg=".*otseq: .*Permission denied: the line stays used for the life of this process and in State_File' 1 3
check "... the file is untouched" eval "head -c1 '$OT' | grep -q 7"
ctl revoke $C4 >/dev/null
cli1 knock $S4 7501 7503 7505
check "line 1 again: nothing opens" is_dropped "$CLI1" $S4 22
cli1 knock $S4 7511 7513 7515
check "line 2 opens" can_connect "$CLI1" $S4 22
ctl revoke $C4 >/dev/null
sleep 1.2
stop_daemon TERM
start_daemon "$OTCONF" || exit 1
cli1 knock $S4 7501 7503 7505
cli1 knock $S4 7511 7513 7515
check "after a restart lines 1 and 2 stay used" is_dropped "$CLI1" $S4 22
cli1 knock $S4 7521 7523 7525
check "after a restart line 3 opens" can_connect "$CLI1" $S4 22
stop_daemon TERM
chmod 0700 "$WORK"

# --- 4. Lost enforcement is never silent ----------------------------------------

rm -f "$WORK/state"
start_daemon '[options]
Queue = 5

[ssh]
Sequence = 7000,8000,9000
Open_Ports = 22' || exit 1
printf 'delete table inet gatekeeper\nadd table inet gatekeeper\n' | srv nft -f -
check "a foreign table takes our place: logged" \
	wait_log 'event=enforcement-lost msg="table inet gatekeeper was replaced by a table gatekeeperd did not create' 1 3
sleep 2.5
check "... once per episode" [ "$(log_count 'event=enforcement-lost')" = 1 ]
check "... and status says so" eval "ctl status | grep -E -q 'table +LOST'"
srv nft delete table inet gatekeeper
check "the foreign table goes: ours is back, logged" \
	wait_log 'event=enforcement-restored' 1 3
check "... and the gate is closed again" is_dropped "$CLI2" $S4B 22
# A full protected queue: the kernel drops SYNs; the daemon says so.
kill -STOP "$DPID"
cli2 timeout -s INT 2 hping3 --flood --rand-source -S -p 22 $S4B >/dev/null 2>&1
kill -CONT "$DPID"
check "a full protected queue: the kernel's drops are logged" \
	wait_log 'event=queue-drops msg="the kernel dropped [1-9][0-9]* packets' 1 4
check "... and shown in status" eval "ctl status | grep -E -q 'queues +(LOST|ok  ) kernel drops [0-9]+ knock, [1-9][0-9]* protected'"
# A knock never shortens a grant.
ctl grant $C4 ssh --for 1h >/dev/null
cli1 knock $S4 7000 8000 9000
check "a knock does not shorten an hour's grant to Open_Timeout" eval \
	"ctl grants | grep -E -q '^$C4 +ssh +22/tcp +(35[0-9][0-9]|3600)s'"
stop_daemon TERM

# --- 5. systemd: notify and watchdog --------------------------------------------

# systemd's side of the protocol: a datagram socket in NOTIFY_SOCKET,
# WATCHDOG_USEC in the environment.
cat >"$WORK/notify.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode()
        for line in msg.split("\n"):
            out.write("%d %s\n" % (time.monotonic() * 1000, line))
EOF
NOTES=$WORK/notify.log
: >"$NOTES"
python3 "$WORK/notify.py" "$WORK/notify.sock" "$NOTES" &
NPID=$!
sleep 0.3
LOG=$WORK/daemon.log; : >"$LOG"
write_conf '[options]
Queue = 5

[ssh]
Sequence = 7000,8000,9000
Open_Ports = 22'
NOTIFY_SOCKET=$WORK/notify.sock WATCHDOG_USEC=600000 \
	ip netns exec "$SRV" "$GKD" -f -c "$CONF" 2>>"$LOG" &
DPID=$!
check "READY=1 once the gate is up" wait_until 5 grep -q ' READY=1$' "$NOTES"
check "STATUS says what it gates" grep -q ' STATUS=gating: 1 doors, queues 5 and 6' "$NOTES"
sleep 1.5
check "the watchdog is pinged while idle" [ "$(grep -c ' WATCHDOG=1$' "$NOTES")" -ge 3 ]
kill -STOP "$DPID"
n0=$(grep -c ' WATCHDOG=1$' "$NOTES")
sleep 1.5
check "a stopped event loop stops the pings" [ "$(grep -c ' WATCHDOG=1$' "$NOTES")" = "$n0" ]
kill -CONT "$DPID"
check "... which come back with it" wait_until 3 eval \
	"[ \$(grep -c ' WATCHDOG=1\$' '$NOTES') -gt $n0 ]"
stop_daemon TERM
check "STOPPING=1 at the stop" grep -q ' STOPPING=1$' "$NOTES"
kill $NPID 2>/dev/null; wait $NPID 2>/dev/null

# --- 6. Lines an attacker can cause are rate-limited: lockouts ---------------------

LOG=$WORK/daemon.log
start_daemon '[options]
Queue = 5
Lockout_After = 1

[ssh]
Sequence = 7000,8000,9000
Open_Ports = 22' || exit 1
# 5000 spoofed sources each lock themselves out: two right knocks, then a
# packet to the port next to it (observed by the scan guard: a reset).
cat >"$WORK/lock.py" <<'EOF'
import random, socket, struct, sys
dst = socket.inet_aton(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def csum(b):
    v = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while v >> 16:
        v = (v & 0xFFFF) + (v >> 16)
    return ~v & 0xFFFF
def syn(src, dport):
    tcp = struct.pack("!HHIIBBHHH", random.randint(1024, 65535), dport,
                      random.getrandbits(32), 0, 5 << 4, 0x02, 1024, 0, 0)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, src, dst)
    s.sendto(ip + tcp, (sys.argv[1], 0))
for i in range(int(sys.argv[2])):
    src = struct.pack("!I", 0x0b000000 + i)
    syn(src, 7000)
    syn(src, 8000)
    syn(src, 7001)
EOF
t0=$(now_ms)
cli1 python3 "$WORK/lock.py" $S4 5000
sleep 1.2
secs=$(( ($(now_ms) - t0) / 1000 + 1 ))
nl=$(log_count 'event=lockout ')
echo "# 5000 spoofed lockouts in ${secs} s: $nl lockout lines, $(counter lockouts) counted"
check "5000 lockouts happened" wait_until 5 eval '[ "$(counter lockouts)" -ge 5000 ]'
check "their lines are rate-limited (burst 1000, then 200 a second)" \
	[ "$nl" -le $((1000 + 200 * secs)) ]
check "... and the rest counted" wait_log 'event=log-suppressed lines=[1-9]' 1 12
stop_daemon TERM

finish

#!/usr/bin/env bash
# `make demo`: the real daemon on the real kernel queue, in throw-away
# network namespaces.  Nothing touches the machine's own network.
. "$(dirname "$0")/lib.sh"
setup_net

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "A server namespace (10.77.1.1) runs sshd's stand-in on port 22 and gatekeeperd:"
listen "$SRV" 22
start_daemon '[options]
Queue = 0

[openSSH]
Sequence    = 7000,8000:udp,9000
Seq_Timeout = 5
TCPFlags    = syn
Open_Ports  = 22
Open_Timeout = 10' || exit 1
sed 's/^/    /' "$CONF"

say "The ruleset gatekeeperd installed (established traffic stays in the kernel):"
srv nft list table inet gatekeeper 2>/dev/null | sed 's/^/    /'

say "Without a knock, port 22 is silent (the SYN is dropped, nothing answers):"
run cli1 nc -v -z -w 2 10.77.1.1 22

say "A port scan sees the knock ports as closed as their neighbours; 22 is filtered:"
run cli1 nmap -sS -T5 -n -Pn -p 21-23,6999-7001,7999-8001,8999-9001 10.77.1.1 |
	sed -n '/^PORT/,/^MAC/p' | sed '$d'
run cli1 nmap -sS -T5 -r -n -Pn -p1-65535 10.77.1.1 | grep '^Not shown'
echo "(an ordered scan of every port knocked 7000 and 9000 on the way: it opened nothing)"

say "Knock with Debian's knock client, then connect at once:"
run cli1 knock -v 10.77.1.1 7000 8000:udp 9000
run cli1 nc -v -z -w 2 10.77.1.1 22

say "Another machine (10.77.2.2) did not knock: still silent:"
run cli2 nc -v -z -w 2 10.77.2.1 22

say "gatekeeperctl shows the grant; revoking it closes the door again:"
GKCTL=$(dirname "$GKD")/gatekeeperctl
run srv "$GKCTL" -S "$WORK/control" grants
run srv "$GKCTL" -S "$WORK/control" revoke 10.77.1.2
run cli1 nc -v -z -w 2 10.77.1.1 22

say "The daemon's log (verdict lines of the scan trimmed):"
grep -v 'reason=observed' "$LOG" | sed 's/^/    /'

say "Stopping the daemon leaves the gate closed: 22 stays silent, the knock is heard by nobody:"
stop_daemon TERM
tail -n 1 "$LOG" | sed 's/^/    /'
cli1 knock 10.77.1.1 7000 8000:udp 9000
run cli1 nc -v -z -w 2 10.77.1.1 22
say "Removing the gate is an explicit act:"
run srv "$GKD" --remove-table
run cli1 nc -v -z -w 2 10.77.1.1 22
echo "(the namespaces are deleted on exit)"

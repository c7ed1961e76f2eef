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

say "The ruleset gatekeeperd installed (only knocks and new connections are queued):"
srv nft list table inet gatekeeper 2>/dev/null | sed 's/^/    /'

say "Without a knock, port 22 is silent (the SYN is dropped, nothing answers):"
run cli1 nc -v -z -w 2 10.77.1.1 22

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

say "The daemon's log:"
sed 's/^/    /' "$LOG"
say "Stopping the daemon removes its table; the namespaces are deleted on exit."
stop_daemon TERM
tail -n 2 "$LOG" | sed 's/^/    /'

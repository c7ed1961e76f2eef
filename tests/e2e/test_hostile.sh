#!/usr/bin/env bash
# End-to-end: what a hostile network and a careless admin do to the
# gatekeeper must neither open a door nor lock out a granted user.
. "$(dirname "$0")/lib.sh"
setup_net

S4=10.77.1.1 C4=10.77.1.2

CONFIG='[options]
Queue = 9

[ssh]
Sequence = 7000,8000,9000
Seq_Timeout = 5
Open_Ports = 22
Open_Timeout = 30'

listen "$SRV" 22
start_daemon "$CONFIG" || exit 1

# An nftables.service reload flushes the ruleset: the daemon puts its
# table back within a second, and the gate is closed again.
srv nft flush ruleset
sleep 1
check "nft flush ruleset: table back within a second" \
	eval "srv nft list table inet gatekeeper >/dev/null 2>&1"
check "nft flush ruleset: reinstall logged" log_has 'event=reinstalled msg=".*was deleted'
check "after the flush the gate is closed" is_dropped "$CLI1" $S4 22
check "after the flush a knock still opens" eval \
	"cli1 knock $S4 7000 8000 9000 && can_connect $CLI1 $S4 22"
srv nft delete chain inet gatekeeper input 2>/dev/null ||
	srv nft flush chain inet gatekeeper input
sleep 1
check "a damaged table is repaired" eval \
	"srv nft list chain inet gatekeeper input 2>/dev/null | grep -q 'queue num 9'"
check "repair logged" log_has 'event=reinstalled msg=".*was modified'

# SIGKILL: established sessions continue, new ones fail.
exec 7> >(cli1 nc $S4 22 >/dev/null)
echo before-kill >&7
sleep 0.3
stop_daemon KILL
check "after SIGKILL new connections fail" is_dropped "$CLI1" $S4 22
echo after-kill >&7
sleep 0.3
check "after SIGKILL the established session continues" \
	grep -q after-kill "$WORK/$SRV-22"
exec 7>&-

finish

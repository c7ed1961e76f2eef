#!/usr/bin/env bash
# End-to-end: Single Packet Authorization with Debian's fwknop client as
# the peer, against gatekeeperd's native SPA doors and an access.conf as
# Debian's fwknop-server ships it (real keys put in).
. "$(dirname "$0")/lib.sh"
setup_net
need fwknop python3

S4=10.77.1.1 C4=10.77.1.2 S4B=10.77.2.1 C4B=10.77.2.2
# Keys from fixtures (tests/fixtures/spa); a second pair for access.conf.
K=NHmbVfjBaM8t+v0kuM8YEWwTlx0xXo1cO40DbMcSXUc=
H=UVuXlip0xwQGNopFafVxOBHQFtAhF5JYRkn+wvzm9FtHlOfR4uqkFrn7q0MmWO2r70JpHzDTDR/Zz5YD1qO+AQ==
K2=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
H2=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(64)).decode())')
mkdir -p "$WORK/home"

CTL=$(dirname "$GKD")/gatekeeperctl
ctl() { srv "$CTL" -S "$WORK/control" "$@"; }
counter() { ctl stats | awk -v k="$1" '$1 == k { print $2 }'; }
# mark: remember where the log is; seen PATTERN: a line after it matches
# (within 3 s).
mark() { M=$(wc -l <"$LOG"); }
seen() {
	local i
	for i in $(seq 30); do
		tail -n +$((M + 1)) "$LOG" | grep -E -q -- "$1" && return 0
		sleep 0.1
	done
	echo "# not logged after line $M: $1"
	tail -n +$((M + 1)) "$LOG" | sed 's/^/#   /'
	return 1
}
# spa NS KEY HMAC ARGS...: Debian's fwknop client, to the server's SPA port.
spa() {
	local ns=$1 k=$2 h=$3; shift 3
	mark
	ip netns exec "$ns" env HOME="$WORK/home" fwknop --no-save-args \
		--key-base64-rijndael "$k" --key-base64-hmac "$h" --use-hmac \
		"$@" >>"$WORK/fwknop.out" 2>&1
}
# send NS DEST FILE: the bytes of FILE as one UDP datagram to port 62201.
send() { mark; ip netns exec "$1" nc -u -w1 -q0 "$2" 62201 <"$3" >/dev/null 2>&1; }
refused() { seen "event=spa-refused src=$1 .*reason=$2"; }

# Debian's access.conf, as shipped, but with real keys.
sed -e "s|^KEY_BASE64 .*|KEY_BASE64          $K2|" \
    -e "s|^HMAC_KEY_BASE64 .*|HMAC_KEY_BASE64     $H2|" \
    "$GK_TOP/tests/fixtures/fwknop-access.conf" >"$WORK/access.conf"
chmod 600 "$WORK/access.conf"

CONFIG="[options]
Queue = 7
Fwknop_Access = $WORK/access.conf
Fwknop_Open_Ports = 2222

[ssh]
SPA_Key_Base64 = $K
SPA_HMAC_Key_Base64 = $H
Open_Ports = 22, 8443
Open_Timeout = 30
SPA_Max_Timeout = 60"

for p in 22 8443 2222; do listen "$SRV" $p; done
write_conf "$CONFIG"
check "-n: Debian's access.conf with real keys loads unchanged" \
	eval "'$GKD' -n -c '$CONF' | grep -q 'door access.conf-[0-9]*: SPA'"
start_daemon "$CONFIG" || exit 1

check "before any SPA packet port 22 is dropped" is_dropped "$CLI1" $S4 22
spa "$CLI1" $K $H -A tcp/22 -a $C4 -D $S4
check "fwknop -A tcp/22 -a IP: granted, logged" \
	seen "event=spa src=$C4 door=ssh user=root grant=$C4 ports=22/tcp expires_in=30"
check "... cli1 connects to 22" can_connect "$CLI1" $S4 22
check "... but not to 8443 (not asked for)" is_dropped "$CLI1" $S4 8443
check "... and cli2 does not get in" is_dropped "$CLI2" $S4B 22

spa "$CLI2" $K $H -A tcp/8443 -s -D $S4B -f 600
check "fwknop -s -f 600: granted to the sender, timeout capped at 60 s" \
	seen "event=spa src=$C4B door=ssh user=root grant=$C4B ports=8443/tcp expires_in=60"
check "... cli2 connects to 8443" can_connect "$CLI2" $S4B 8443

spa "$CLI2" $K $H -A tcp/23 -s -D $S4B
check "a port the door does not open is refused" refused $C4B ports
spa "$CLI2" $K2 $H -A tcp/22 -s -D $S4B
check "a wrong key is refused" refused $C4B auth
spa "$CLI2" $K $H2 -A tcp/22 -s -D $S4B
check "a wrong HMAC key is refused" refused $C4B auth
spa "$CLI2" $K $H -A tcp/22 -s -D $S4B --time-offset-minus 10m
check "a stale timestamp (--time-offset-minus 10m) is refused" refused $C4B stale
spa "$CLI2" $K $H -A tcp/22 -s -D $S4B --time-offset-plus 10m
check "a timestamp 10 minutes ahead is refused" refused $C4B future
spa "$CLI1" $K $H -A tcp/22 -a $C4B -D $S4
check "-a OTHER where the source must match: refused" refused $C4 other-address
check "... and the other address gets nothing" is_dropped "$CLI2" $S4B 22

# Spoiled packets: a flipped bit, a truncation, a newline.
spa "$CLI1" $K $H -A tcp/22 -s -D $S4 -B "$WORK/pkt" -T
head -c -1 "$WORK/pkt" >"$WORK/raw"
python3 - "$WORK/raw" "$WORK/flip" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[len(b) // 2] ^= 0x01
if not (chr(b[len(b) // 2]).isalnum() or chr(b[len(b) // 2]) in '+/'):
    b[len(b) // 2] ^= 0x03
open(sys.argv[2], 'wb').write(bytes(b))
PY
send "$CLI1" $S4 "$WORK/flip"
check "a flipped bit is refused" refused $C4 auth
head -c 150 "$WORK/raw" >"$WORK/short"
send "$CLI1" $S4 "$WORK/short"
check "a truncated packet is refused" refused $C4 auth
head -c 100 "$WORK/raw" >"$WORK/tiny"
send "$CLI1" $S4 "$WORK/tiny"
check "a packet under 140 bytes is refused" refused $C4 length

# The access.conf stanza (fwknopd's rules: another address is allowed).
spa "$CLI1" $K2 $H2 -A tcp/2222 -a $C4B -D $S4
check "access.conf stanza, -a OTHER: the other address is granted" \
	seen "event=spa src=$C4 door=access.conf-[0-9]* user=root grant=$C4B ports=2222/tcp"
check "... cli2 connects to 2222" can_connect "$CLI2" $S4B 2222
check "... the sender does not" is_dropped "$CLI1" $S4 2222

# Replay: a packet seen is never honoured again, from anywhere.
spa "$CLI1" $K $H -A tcp/22 -s -D $S4 -B "$WORK/cap"
check "the captured packet was honoured once" \
	seen "event=spa src=$C4 door=ssh user=root grant=$C4 ports=22/tcp"
head -c -1 "$WORK/cap" >"$WORK/cap.raw"
send "$CLI1" $S4 "$WORK/cap.raw"
check "resent from the same source: refused as a replay" refused $C4 replay
send "$CLI2" $S4B "$WORK/cap.raw"
check "resent from another source: refused as a replay" refused $C4B replay
check "... and that source gets nothing" is_dropped "$CLI2" $S4B 22
check "stats count the refusals by reason" [ "$(counter spa.replay)" -ge 2 ]

stop_daemon
: >"$LOG"
ip netns exec "$SRV" "$GKD" -f -c "$CONF" 2>>"$LOG" & DPID=$!
M=0; seen "event=start" || true
send "$CLI2" $S4B "$WORK/cap.raw"
check "after a restart the captured packet is still refused" \
	refused $C4B before-restart
check "... and grants nothing" is_dropped "$CLI2" $S4B 22
spa "$CLI2" $K $H -A tcp/22 -s -D $S4B
check "a fresh packet after the restart opens" can_connect "$CLI2" $S4B 22
stop_daemon


# Key files others can read are refused; broken access files name file:line.
chmod 644 "$WORK/access.conf"
check "an access.conf others can read is refused" \
	eval "! '$GKD' -n -c '$CONF' 2>&1 | grep -q OK"
check "... saying why" eval "'$GKD' -n -c '$CONF' 2>&1 | grep -q 'access.conf: holds SPA keys but others can read'"
chmod 600 "$WORK/access.conf"
printf 'GPG_HOME_DIR /root/.gnupg\nOPEN_PORTS tcp/22\nFROBNICATE yes\n' >>"$WORK/access.conf"
OUT=$("$GKD" -n -c "$CONF" 2>&1)
N=$(wc -l <"$WORK/access.conf")
check "GPG in access.conf is refused with file:line" \
	grep -q "access.conf:$((N - 2)): GPG_HOME_DIR: GPG are not supported" <<<"$OUT"
check "an unknown keyword is refused with file:line" \
	grep -q "access.conf:$N: unknown keyword 'FROBNICATE'" <<<"$OUT"
sed -i '/^HMAC_KEY_BASE64/d; /^GPG_HOME_DIR/d; /^FROBNICATE/d' "$WORK/access.conf"
check "a stanza without an HMAC key is refused" \
	eval "'$GKD' -n -c '$CONF' 2>&1 | grep -q 'access.conf:[0-9]*: stanza has no HMAC_KEY'"

# Many SPA doors: each packet is tried against every door that fits, and
# no per-source budget may make that impossible (it once counted HMAC
# checks, and 41 doors refused every packet).
MANY="[options]
Queue = 7
Public_Ports = 2222"
for i in $(seq 1 50); do
	MANY="$MANY
[d$i]
SPA_Key_Base64 = $(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
SPA_HMAC_Key_Base64 = $(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(64)).decode())')
Open_Ports = 8443"
done
MANY="$MANY
[ssh]
SPA_Key_Base64 = $K
SPA_HMAC_Key_Base64 = $H
Open_Ports = 22"
start_daemon "$MANY" || exit 1
for i in 1 2 3; do
	spa "$CLI1" $K $H -A tcp/22 -s -D $S4
	check "with 51 SPA doors, packet $i of the 51st door's keys grants" \
		seen "event=spa src=$C4 door=ssh user=root grant=$C4 ports=22/tcp"
done
stop_daemon

finish

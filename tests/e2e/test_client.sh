#!/usr/bin/env bash
# End-to-end: gatekeeper-knock, the client, against gatekeeperd (knock's
# command line over IPv4 and IPv6, sequence and SPA profiles, a
# ~/.fwknoprc stanza, refusals), and against Debian's fwknopd (its packets
# are fwknop's wire format).
. "$(dirname "$0")/lib.sh"
setup_net
need fwknopd tcpdump python3

S4=10.77.1.1 C4=10.77.1.2 S6=fd77:1::1 C6=fd77:1::2
S4B=10.77.2.1 C4B=10.77.2.2 S6B=fd77:2::1 C6B=fd77:2::2
KNOCK=$(dirname "$GKD")/gatekeeper-knock
K=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
H=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(64)).decode())')
mkdir -p "$WORK/home/.config/gatekeeper"
PROFILES=$WORK/home/.config/gatekeeper/knock.conf

# gk NS ARGS...: the client as a user whose home is $WORK/home.
gk() {
	local ns=$1; shift
	ip netns exec "$ns" env HOME="$WORK/home" XDG_CONFIG_HOME= \
	    "$KNOCK" "$@" >"$WORK/gk.out" 2>"$WORK/gk.err"
}
said() { grep -q -- "$1" "$WORK/gk.err" || { echo "# stderr:"; sed 's/^/#   /' "$WORK/gk.err"; return 1; }; }
opens() { can_connect "$1" "$2" "$3"; }
fresh() { stop_daemon; rm -f "$WORK/state"; start_daemon "$CONFIG"; }

CONFIG="[options]
Queue = 7

[tcp]
Sequence = 7000,7010,7005
Seq_Timeout = 5
Open_Ports = 2201
[udp]
Sequence = 7100:udp,7120:udp,7110:udp
Seq_Timeout = 5
Open_Ports = 2202
[mixed]
Sequence = 7200,7211:udp,7205
Seq_Timeout = 5
Open_Ports = 2203
[vpn]
SPA_Key_Base64 = $K
SPA_HMAC_Key_Base64 = $H
Open_Ports = 8443, 8444
Open_Timeout = 30"

# --key-gen: its three parts, cut apart; the server door joins the config,
# the client part becomes a profile, the access.conf part goes to fwknopd.
"$KNOCK" --key-gen kg >"$WORK/kg.txt" || echo "# --key-gen failed"
part() { awk -v h="$1" 'index($0, h) == 1 { f = 1; next } /^# / { f = 0 } f' "$WORK/kg.txt"; }
CONFIG="$CONFIG
$(part '# server: a door' | sed 's/Open_Ports *= 22/Open_Ports = 8445/')"

for p in 2201 2202 2203 8443 8444 8445; do listen "$SRV" $p; done
start_daemon "$CONFIG" || exit 1

# --- knock's command line ------------------------------------------------
srv timeout 6 tcpdump -i "${ID}s1" -nn -w "$WORK/syn.pcap" \
    'tcp[tcpflags] & tcp-syn != 0 and dst port 7000' 2>/dev/null &
TD=$!
sleep 0.5
check "before knocking, 2201 is dropped" is_dropped "$CLI1" $S4 2201
check "TCP hits over IPv4 (knock's command line) exit 0" gk "$CLI1" $S4 7000 7010 7005
check "... and open the door for that source" opens "$CLI1" $S4 2201
wait $TD
check "a TCP hit is one SYN, never retransmitted" \
    [ "$(tcpdump -r "$WORK/syn.pcap" -nn 2>/dev/null | grep -c "> $S4.7000:")" = 1 ]
check "over IPv6 the door is still shut (another source)" is_dropped "$CLI1" $S6 2201
check "-6 -u: UDP hits over IPv6" gk "$CLI1" -6 -u $S6 7100 7120 7110
check "... open the UDP door for the IPv6 source" opens "$CLI1" $S6 2202
check "mixed TCP and UDP hits over IPv4" gk "$CLI2" $S4B 7200 7211:udp 7205
check "... open the mixed door" opens "$CLI2" $S4B 2203
check "-u with an explicit :tcp keeps that hit TCP (-d 50)" \
    gk "$CLI2" -d 50 -u $S6B 7200:tcp 7211 7205:tcp
check "... and opens the mixed door over IPv6" opens "$CLI2" $S6B 2203
check "a bad port is a usage error (exit 2)" \
    eval "gk '$CLI1' $S4 7000 70000; [ \$? = 2 ] && said 'bad port'"

# --- profiles -----------------------------------------------------------
fresh || exit 1
cat >"$PROFILES" <<EOF
# profiles of the test
[seq4]
    Host     = $S4            # an address
    Sequence = 7000,7010,7005
    Delay    = 20
[seq6]
    Host     = $S6
    Sequence = 7100:udp,7120:udp,7110:udp
[vpn4]
    Host                = $S4
    SPA_Key_Base64      = $K
    SPA_HMAC_Key_Base64 = $H
    SPA_HMAC_Digest     = sha256
    Open_Ports          = 8443
    Open_Timeout        = 20
    Allow_IP            = source
[vpn6]
    Host                = $S6B
    SPA_Key_Base64      = $K
    SPA_HMAC_Key_Base64 = $H
    Open_Ports          = 8444
    Wait_Port           = 8444
    Wait_Timeout        = 5
    Command             = echo "open at \$GK_ADDR" >$WORK/cmd.out
[other]
    Host                = $S4B
    SPA_Key_Base64      = $K
    SPA_HMAC_Key_Base64 = $H
    Open_Ports          = 8443
    Allow_IP            = $C4
EOF
chmod 600 "$PROFILES"
check "sequence profile over IPv4" gk "$CLI1" seq4
check "... opens its door" opens "$CLI1" $S4 2201
check "sequence profile over IPv6 (UDP hits)" gk "$CLI1" seq6
check "... opens its door" opens "$CLI1" $S6 2202
check "before SPA, 8443 is dropped" is_dropped "$CLI1" $S4 8443
check "SPA profile over IPv4" gk "$CLI1" vpn4
check "... the daemon granted the source exactly 8443, for 20 s" \
    wait_log "event=spa src=$C4 door=vpn user=root grant=$C4 ports=8443/tcp expires_in=20" 1
check "... 8443 opens" opens "$CLI1" $S4 8443
check "... 8444 was not asked for and stays shut" is_dropped "$CLI1" $S4 8444
check "SPA profile over IPv6, waiting for the port, then the command" gk "$CLI2" vpn6
check "... the IPv6 address was inside (what fwknop cannot say)" \
    wait_log "event=spa src=$C6B door=vpn user=root grant=$C6B ports=8444/tcp" 1
check "... Command ran once Wait_Port answered" \
    grep -q "open at $S6B" "$WORK/cmd.out"
check "Allow_IP names another address: sent" gk "$CLI2" other
check "... and refused, since the door wants the source inside (the default)" \
    wait_log "event=spa-refused src=$C4B door=vpn user=root reason=other-address" 1
check "... the sender stays shut" is_dropped "$CLI2" $S4B 8443

part '# client' | sed -e "s/= server.example.org/= $S4/" \
    -e 's/Open_Ports *= 22/Open_Ports = 8445/' >>"$PROFILES"
check "--key-gen: its profile and its gatekeeper.conf door work together" \
    gk "$CLI1" kg
check "... 8445 opens" opens "$CLI1" $S4 8445
N0=$(log_count "event=spa ")
check "-n says what it would send" eval "gk '$CLI1' -n vpn4 && grep -q 'SPA to $S4 port 62201/udp: user root, access 0.0.0.0,tcp/8443, timeout 20 s' '$WORK/gk.out'"
check "... but not the packet (a live credential)" \
    eval "! grep -E -q '[A-Za-z0-9+/]{100}' '$WORK/gk.out'"
sleep 0.5
check "... and sends nothing" [ "$(log_count "event=spa ")" = "$N0" ]
check "-u with a profile is a usage error" \
    eval "gk '$CLI1' -u seq4; [ \$? = 2 ] && said '-u is for the command line form'"
chmod 620 "$PROFILES"
check "a profiles file others can change is refused, keys or not" \
    eval "! gk '$CLI1' seq4 && said 'others can change it'"
chmod 600 "$PROFILES"
mkfifo "$WORK/fifo"
check "a FIFO as the profiles file is refused, not waited on" \
    eval "timeout 5 '$KNOCK' -c '$WORK/fifo' seq4 2>'$WORK/gk.err'; [ \$? = 2 ] && said 'not a regular file'"

chmod 644 "$PROFILES"
check "a profiles file with keys that others can read is refused (exit 2)" \
    eval "! gk '$CLI1' vpn4 && said 'others can read or change it'"
chmod 600 "$PROFILES"
printf '[typo]\n    Host = %s\n    Sequnce = 7000\n' "$S4" >>"$PROFILES"
check "a typo is named with file:line" \
    eval "! gk '$CLI1' seq4 && said 'knock.conf:$(wc -l <"$PROFILES"): unknown key .Sequnce.'"
rm -f "$PROFILES"

# --- ~/.fwknoprc ----------------------------------------------------------
cat >"$WORK/home/.fwknoprc" <<EOF
[default]
DIGEST_TYPE         sha256
[gk]
SPA_SERVER          $S4B
SPA_SERVER_PORT     62201
ACCESS              tcp/8444
ALLOW_IP            source
KEY_BASE64          $K
HMAC_KEY_BASE64     $H
HMAC_DIGEST_TYPE    sha256
USE_HMAC            Y
FW_TIMEOUT          15
[gpg]
SPA_SERVER          $S4B
USE_GPG             Y
EOF
chmod 600 "$WORK/home/.fwknoprc"
check "a ~/.fwknoprc stanza is a profile" gk "$CLI2" gk
check "... the daemon granted it as asked" \
    wait_log "event=spa src=$C4B door=vpn user=root grant=$C4B ports=8444/tcp expires_in=15" 1
check "... 8444 opens" opens "$CLI2" $S4B 8444
check "a stanza with GPG is refused with file:line" \
    eval "! gk '$CLI2' gpg && said '.fwknoprc:15: USE_GPG is refused'"
chmod 640 "$WORK/home/.fwknoprc"
check "a ~/.fwknoprc others can read is refused" \
    eval "! gk '$CLI2' gk && said 'others can read'"
chmod 600 "$WORK/home/.fwknoprc"

# --- Debian's fwknopd takes our packets -----------------------------------
stop_daemon
printf 'PCAP_INTF %s\nENABLE_SPA_OVER_HTTP N\n' "${ID}s2" >"$WORK/fwknopd.conf"
printf 'SOURCE ANY\nKEY_BASE64 %s\nHMAC_KEY_BASE64 %s\nOPEN_PORTS tcp/8444\nFW_ACCESS_TIMEOUT 30\n\n' \
    "$K" "$H" >"$WORK/access.conf"
part '# server: or a stanza' | sed 's|OPEN_PORTS *tcp/22|OPEN_PORTS tcp/8445|' >>"$WORK/access.conf"
chmod 600 "$WORK/fwknopd.conf" "$WORK/access.conf"
mkdir -p "$WORK/fwrun"
srv fwknopd -f -U -c "$WORK/fwknopd.conf" -a "$WORK/access.conf" \
    -d "$WORK/digest.cache" -p "$WORK/fwknopd.pid" -r "$WORK/fwrun" \
    >"$WORK/fwknopd.log" 2>&1 &
FWK=$!
sleep 1
fwk_seen() {
	local i
	for i in $(seq 30); do
		grep -q -- "$1" "$WORK/fwknopd.log" && return 0
		sleep 0.1
	done
	echo "# fwknopd said:"; sed 's/^/#   /' "$WORK/fwknopd.log"
	return 1
}
check "gatekeeper-knock's packet (the fwknoprc stanza) to Debian's fwknopd" gk "$CLI2" gk
check "... fwknopd accepts it: the HMAC, the key, the message" \
    fwk_seen "SPA Packet from IP: $C4B received with access source match"
check "... and would open tcp/8444 for the sender" \
    fwk_seen "Added access rule to FWKNOP_INPUT for $C4B -> 0.0.0.0/0 tcp/8444"
printf '[kg]\n    Host = %s\n' "$S4" >"$PROFILES"
part '# client' | grep -v -e '^\[' -e 'Host' | sed 's/Open_Ports *= 22/Open_Ports = 8445/' >>"$PROFILES"
chmod 600 "$PROFILES"
check "--key-gen: the profile's packet opens the access.conf stanza it printed" \
    gk "$CLI1" kg
check "... fwknopd accepts it (stanza #2, tcp/8445)" \
    fwk_seen "Added access rule to FWKNOP_INPUT for $C4 -> 0.0.0.0/0 tcp/8445"
kill "$FWK" 2>/dev/null; wait "$FWK" 2>/dev/null

finish

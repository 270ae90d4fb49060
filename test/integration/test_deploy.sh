#!/usr/bin/env bash
# The deployment of docs/guide.md, as an operator does it: `make install` into
# a private prefix, the shipped conf/snmpd.conf with its placeholders filled
# in (tailnet addresses on a tun named tailscale0, SNMPv3 user, v2c community),
# snmpd started with the -I list of the shipped drop-in, and the installed
# hostflowd dropping to an unprivileged user. Then what a collector does:
# SNMPv3 authPriv over IPv6, refusals, and Akvorado's one 5-varbind GET for
# every ifIndex that appears in the sFlow samples.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init deploy
hf_capture_init
A=${HF_NS}a
V4=100.64.0.1
V6=fd7a:115c:a1e0::1
AUTH=hostflow-auth-pass
PRIV=hostflow-priv-pass
COMM=tailnet-ro
PORT=6343
ROOT=$HF_DIR/root
conf=$ROOT/etc/hostflow/hostflowd.conf
cap=$HF_DIR/sflow.pcap
dec=$HF_DIR/sflow.txt

# A private prefix: the unit then names the binary that really exists.
install_tree() {
	make -s -C "$HF_ROOT" install DESTDIR= PREFIX="$ROOT/usr/local" \
		UNITDIR="$ROOT/lib/systemd/system" SYSCONFDIR="$ROOT/etc" \
		SYSUSERSDIR="$ROOT/usr/lib/sysusers.d" >"$HF_DIR/install.log" 2>&1
}

# --- make install / uninstall ------------------------------------------------
t_check "make install into a private prefix" install_tree
BIN=$ROOT/usr/local/sbin/hostflowd
UNIT=$ROOT/lib/systemd/system/hostflowd.service
for f in "$BIN" "$ROOT/usr/local/share/man/man8/hostflowd.8" \
	"$ROOT/usr/local/share/man/man5/hostflowd.conf.5" "$UNIT" "$conf" \
	"$ROOT/usr/lib/sysusers.d/hostflow.conf" "$ROOT/usr/local/share/hostflow/examples/snmpd.conf" \
	"$ROOT/etc/systemd/system/snmpd.service.d/hostflow.conf"; do
	t_check "installed ${f#"$ROOT"}" test -s "$f"
done
t_check "the unit starts the installed binary" grep -qx "ExecStart=$BIN -f -c /etc/hostflow/hostflowd.conf" "$UNIT"
t_check "systemd-analyze verify accepts the installed unit" \
	env MANPATH="$ROOT/usr/local/share/man" systemd-analyze verify "$UNIT"
exposure=$(systemd-analyze security --offline=yes "$UNIT" 2>/dev/null |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
t_diag "systemd-analyze security exposure: ${exposure:-?} (docs/guide.md says 1.9)"
t_check "exposure at most 2.0 (hardened as documented)" \
	awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }'
echo "# operator's edit" >>"$conf"
install_tree
t_check "a second install keeps the operator's /etc file" grep -q "operator's edit" "$conf"
make -s -C "$HF_ROOT" uninstall DESTDIR= PREFIX="$ROOT/usr/local" UNITDIR="$ROOT/lib/systemd/system" \
	SYSCONFDIR="$ROOT/etc" SYSUSERSDIR="$ROOT/usr/lib/sysusers.d" >/dev/null 2>&1
t_check "make uninstall removes the binary and the unit, keeps /etc" \
	sh -c "[ ! -e '$BIN' ] && [ ! -e '$UNIT' ] && [ -e '$conf' ]"
rm -f "$conf"
install_tree || hf_die "install"

# --- the host: a tailnet interface --------------------------------------------
hf_ns_add "$A" || hf_die "namespace"
hf_tun "$A" tailscale0 || hf_die "tun"
ip -n "$A" addr add $V4/10 dev tailscale0
ip -n "$A" addr add $V6/64 dev tailscale0 nodad
# Clients outside the tailnet's ranges, on this namespace's own loopback.
ip -n "$A" addr add 192.0.2.99/32 dev lo
ip -n "$A" addr add 2001:db8::99/128 dev lo nodad

# --- snmpd with the shipped configuration -------------------------------------
# The AgentX directory must be reachable by the unprivileged daemon.
chmod 0711 "$HF_DIR"
mkdir -p "$HF_DIR/agentx" "$HF_DIR/snmp-persist"
sed -e "s/TAILNET_IPV4/$V4/g; s/TAILNET_IPV6/$V6/g; s/AUTHPASS/$AUTH/; s/PRIVPASS/$PRIV/" \
	-e "s/COMMUNITY/$COMM/g; s|/run/agentx/master|$HF_DIR/agentx/master|" \
	-e "s/^agentXPerms .*/agentXPerms 0660 0711 root nogroup/" \
	-e "s/^sysLocation .*/sysLocation deploy test/" \
	"$HF_ROOT/conf/snmpd.conf" >"$HF_DIR/snmpd.conf"
echo "sysName hostflow-deploy" >>"$HF_DIR/snmpd.conf"
t_check "placeholders all filled" sh -c "! grep -qE 'TAILNET_|AUTHPASS|PRIVPASS|COMMUNITY' '$HF_DIR/snmpd.conf'"
# The -I list of the shipped drop-in (Debian's list plus ifTable,ifXTable).
ilist=$(sed -n 's/^ExecStart=.* -I \([^ ]*\) .*/\1/p' "$HF_ROOT/systemd/snmpd.service.d/hostflow.conf")
t_check "the drop-in disables snmpd's ifTable and ifXTable with one minus" \
	sh -c "echo '$ilist' | grep -qE '^-[^-]*ifTable,ifXTable$'"
hf_bg "$A" "$HF_DIR/snmpd.out" env SNMP_PERSISTENT_DIR="$HF_DIR/snmp-persist" \
	snmpd -f -C -c "$HF_DIR/snmpd.conf" -I "$ilist" -Lf "$HF_DIR/snmpd.log" -p "$HF_DIR/snmpd.pid"
HF_SNMPD_PID=$HF_LAST_PID

v3() { # v3 OP ARGS...: SNMPv3 authPriv SHA-256/AES to the tailnet IPv6 address
	local op=$1
	shift
	ip netns exec "$A" "snmp$op" -v3 -l authPriv -u hostflow -a SHA-256 -A "$AUTH" \
		-x AES -X "$PRIV" -On -t 1 -r 0 "udp6:[$V6]:161" "$@"
}
v3_ready() { v3 get .1.3.6.1.2.1.2.1.0 2>/dev/null | grep -q INTEGER; }

# --- hostflowd from the installed tree, as an unprivileged user ----------------
cat >"$conf" <<EOF
agentx_socket $HF_DIR/agentx/master
interface tailscale0 alias "Transit: Tailscale" speed 1G
agent_interface tailscale0
sub_agent_id 7
collector 127.0.0.1 $PORT
sample tailscale0 rate 10
polling_interval 0
user nobody
EOF
t_check "hostflowd -t accepts the deployed config" "$BIN" -t -c "$conf"
sf_sink "$A" $V4 9
sf_sink "$A" $V6 9
sf_capture_start "$A" $PORT "$cap" || hf_die "tshark did not start"
# Dropping to nobody, hostflowd makes /run/hostflow (its tc programs'
# record) nobody's and, unprivileged, cannot remove it at its stop: the test
# does, when it was not there before and is empty.
had_rundir=
[[ -e /run/hostflow ]] && had_rundir=1
hf_bg "$A" "$HF_DIR/hostflowd.log" "$BIN" -f -c "$conf"
HF_HOSTFLOWD_PID=$HF_LAST_PID
if ! hf_wait_for 15 v3_ready; then
	t_fail "SNMPv3 authPriv SHA-256/AES over udp6 answers ifNumber.0" "no answer in 15 s"
	sed 's/^/#   /' "$HF_DIR/hostflowd.log" "$HF_DIR/snmpd.log" | tail -n 30
	t_done
	exit 1
fi
t_ok "SNMPv3 authPriv SHA-256/AES over udp6 answers ifNumber.0"
t_check "hostflowd runs as nobody" sh -c "grep -qE '^Uid:\s+65534\s' /proc/$HF_HOSTFLOWD_PID/status"
# CAP_NET_RAW for packet sockets; CAP_BPF and CAP_NET_ADMIN for the tc eBPF
# capture (`capture auto`), where the kernel knows CAP_BPF (Linux 5.8).
caps=0000000000002000
(($(cat /proc/sys/kernel/cap_last_cap) >= 39)) && caps=0000008000003000
t_check "hostflowd keeps only CAP_NET_RAW, CAP_BPF and CAP_NET_ADMIN ($caps)" \
	sh -c "grep -qE '^CapEff:\s+$caps$' /proc/$HF_HOSTFLOWD_PID/status"

# --- what is refused ---------------------------------------------------------
no_answer() { ! "$@" >/dev/null 2>&1; }
t_check "noAuthNoPriv is refused" no_answer ip netns exec "$A" snmpget -v3 -l noAuthNoPriv \
	-u hostflow -On -t 1 -r 0 "udp6:[$V6]:161" .1.3.6.1.2.1.1.5.0
t_check "a wrong auth password is refused" no_answer ip netns exec "$A" snmpget -v3 -l authPriv \
	-u hostflow -a SHA-256 -A wrong-password-1 -x AES -X "$PRIV" -On -t 1 -r 0 \
	"udp6:[$V6]:161" .1.3.6.1.2.1.1.5.0
t_check "v2c from inside 100.64.0.0/10 answers" ip netns exec "$A" snmpget -v2c -c $COMM \
	-On -t 1 -r 0 "udp:$V4:161" .1.3.6.1.2.1.1.5.0
# --clientaddr picks the source; shown to work with an inside address first.
t_check "v2c with --clientaddr=$V4 answers (control)" ip netns exec "$A" snmpget -v2c -c $COMM \
	--clientaddr=$V4 -On -t 1 -r 0 "udp:$V4:161" .1.3.6.1.2.1.1.5.0
t_check "v2c from 192.0.2.99 (outside) gets no answer" no_answer ip netns exec "$A" snmpget \
	-v2c -c $COMM --clientaddr=192.0.2.99 -On -t 1 -r 0 "udp:$V4:161" .1.3.6.1.2.1.1.5.0
t_check "v2c over IPv6 from inside fd7a:115c:a1e0::/48 answers" ip netns exec "$A" snmpget \
	-v2c -c $COMM -On -t 1 -r 0 "udp6:[$V6]:161" .1.3.6.1.2.1.1.5.0
t_check "v2c over IPv6 with --clientaddr=$V6 answers (control)" ip netns exec "$A" snmpget \
	-v2c -c $COMM --clientaddr=$V6 -On -t 1 -r 0 "udp6:[$V6]:161" .1.3.6.1.2.1.1.5.0
t_check "v2c over IPv6 from 2001:db8::99 (outside) gets no answer" no_answer ip netns exec "$A" \
	snmpget -v2c -c $COMM --clientaddr=2001:db8::99 -On -t 1 -r 0 "udp6:[$V6]:161" \
	.1.3.6.1.2.1.1.5.0
t_check "snmpd answers nothing on 127.0.0.1" no_answer ip netns exec "$A" snmpget -v2c -c $COMM \
	-On -t 1 -r 0 udp:127.0.0.1:161 .1.3.6.1.2.1.1.5.0

# --- sFlow, then Akvorado's GET for every ifIndex in the samples ----------------
hf_tun_inject "$A" tailscale0 v4 300 64 || t_fail "inject v4" "tunhold"
hf_tun_inject "$A" tailscale0 v6 300 64 || t_fail "inject v6" "tunhold"
sf_blast "$A" $V4 100.64.0.2 4010 5010 300
hf_wait_for 10 sh -c "tshark -r '$cap' -d udp.port==$PORT,sflow -Y sflow 2>/dev/null | grep -q ."
# One flush interval passes before the last samples leave.
hf_wait_for 5 sh -c "[ \$(tshark -r '$cap' -d udp.port==$PORT,sflow 2>/dev/null | wc -l) -ge 2 ]"
sf_capture_stop
sf_decode "$cap" $PORT >"$dec"
t_check "datagrams carry the tailnet agent address and sub_agent_id 7" \
	awk -v a=$V4 '$1 == "D" { c++; if ($3 != a || $4 != 7) { bad = 1; exit 1 } } END { exit bad || !c }' "$dec"
idxs=$(awk -v x=$SF_IF_INTERNAL '$1 == "F" { print $4; if ($8 != x) print $8; if ($9 != x) print $9 }' "$dec" | sort -un)
t_check "flow samples were sent" test -n "$idxs"
# Sampled as nobody with the capabilities the drop kept: tc eBPF where the
# kernel has tcx (its interfaces attached after the drop), else packet sockets.
t_check "the capture after the drop to nobody: $HF_CAPTURE_KIND" \
	grep -q "sampler: capture: $HF_CAPTURE_KIND" "$HF_DIR/hostflowd.log"
for n in $idxs; do
	out=$(v3 get .1.3.6.1.2.1.1.5.0 .1.3.6.1.2.1.2.2.1.2."$n" .1.3.6.1.2.1.31.1.1.1.1."$n" \
		.1.3.6.1.2.1.31.1.1.1.18."$n" .1.3.6.1.2.1.31.1.1.1.15."$n" 2>&1)
	t_check "ifIndex $n: sysName non-empty" grep -qE '^\.1\.3\.6\.1\.2\.1\.1\.5\.0 = STRING: "?hostflow-deploy' <<<"$out"
	t_check "ifIndex $n: ifDescr tailscale0" grep -qE "^\.1\.3\.6\.1\.2\.1\.2\.2\.1\.2\.$n = STRING: \"?tailscale0" <<<"$out"
	t_check "ifIndex $n: ifName is an OCTET STRING" grep -qE "^\.1\.3\.6\.1\.2\.1\.31\.1\.1\.1\.1\.$n = STRING: \"?tailscale0" <<<"$out"
	t_check "ifIndex $n: ifAlias is the configured one" grep -qE "^\.1\.3\.6\.1\.2\.1\.31\.1\.1\.1\.18\.$n = STRING: \"?Transit: Tailscale" <<<"$out"
	t_check "ifIndex $n: ifHighSpeed is Gauge32 1000" grep -qE "^\.1\.3\.6\.1\.2\.1\.31\.1\.1\.1\.15\.$n = Gauge32: 1000$" <<<"$out"
done

# --- the Akvorado static-provider JSON ----------------------------------------
ip netns exec "$A" "$BIN" -m -F akvorado -c "$conf" >"$HF_DIR/akvorado.json" 2>"$HF_DIR/m.err"
t_check "-m -F akvorado is valid JSON with exportersubnet $V4/32" \
	jq -e ".exporters[0].exportersubnet == \"$V4/32\" and (.exporters[0].name | length > 0)" "$HF_DIR/akvorado.json"
t_check "every interface has ifindex, name, description and speed" jq -e \
	'[.exporters[0].interfaces[] | has("ifindex") and has("name") and has("description") and has("speed")] | all' \
	"$HF_DIR/akvorado.json"
t_check "tailscale0 is described by its alias at 1000 Mb/s" jq -e \
	'[.exporters[0].interfaces[] | select(.name == "tailscale0" and .description == "Transit: Tailscale" and .speed == 1000)] | length == 1' \
	"$HF_DIR/akvorado.json"
json_idx=$(jq -r '.exporters[0].interfaces[].ifindex' "$HF_DIR/akvorado.json" | sort -n | tr '\n' ' ')
snmp_idx=$(v3 walk .1.3.6.1.2.1.2.2.1.1 | awk '{ print $NF }' | sort -n | tr '\n' ' ')
t_diag "JSON ifindex: $json_idx; SNMP ifIndex: $snmp_idx"
t_check "the JSON lists the ifIndex values SNMP serves" test "$json_idx" = "$snmp_idx"

t_check "hostflowd exits cleanly on SIGTERM" hf_hostflowd_stop
[[ -n $had_rundir ]] || rmdir /run/hostflow 2>/dev/null
t_done

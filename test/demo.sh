#!/usr/bin/env bash
# make demo: hostflowd in a throw-away network namespace, end to end.
#
# Builds nothing (make demo builds first). Creates namespaces with a veth
# pair, a bridge with a veth port and a tun called tailscale0, starts a private
# snmpd master and hostflowd (sampling veth0 and tailscale0 to a collector on
# 127.0.0.1 inside the namespace), sends a little traffic, then shows what
# SNMP serves (ifXTable) and what the sFlow says about the same ifIndex, side
# by side. Everything is removed when it ends, even on Ctrl-C.
set -uo pipefail
source "$(dirname "$0")/integration/lib.sh"

heading() {
	printf '\n\033[1m== %s\033[0m\n' "$*"
}

[[ -x $HF_BIN ]] || hf_die "build first: make (agent/hostflowd is missing)"
hf_init demo
A= B=
heading "1. A throw-away namespace"
hf_std_topology || hf_die "could not build the namespaces"
A=$HF_A B=$HF_B
ip -n "$A" link set veth0 alias "Transit: upstream (kernel alias)"
echo "namespace $A (served) and $B (far ends); links in $A:"
ip -n "$A" -br link | sed 's/^/  /'

heading "2. A private snmpd master (its own IF-MIB off: -I -ifTable,ifXTable)"
hf_snmpd_start "$A" || hf_die "snmpd did not start"
echo "snmpd on udp 127.0.0.1:$HF_SNMP_PORT inside $A, AgentX at $HF_AGENTX"

heading "3. hostflowd"
conf=$HF_DIR/hostflowd.conf
base=('interface tailscale0 alias "Transit: Tailscale" speed 1G'
	'interface br0 alias "IX: lab bridge"')
sflow=("collector 127.0.0.1 6343" "agent_address 100.64.0.1"
	"sample veth0 rate 10" "sample tailscale0 rate 10" "polling_interval 2")
hf_conf "$conf" "${base[@]}" "${sflow[@]}"
if ! out=$("$HF_BIN" -t -c "$conf" 2>&1); then
	echo "the sampler configuration is refused ($out): SNMP only"
	sflow=()
	hf_conf "$conf" "${base[@]}"
fi
sed 's/^/  /' "$conf"
if ((${#sflow[@]})); then
	# A socket that never reads: no ICMP port unreachable goes back to hostflowd.
	hf_bg "$A" "$HF_DIR/sink.log" python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 6343))
while True: time.sleep(60)'
	hf_bg "$A" "$HF_DIR/tshark.log" tshark -i lo -f "udp port 6343" -w "$HF_DIR/sflow.pcap"
	tshark_pid=$HF_LAST_PID
	hf_wait_for 15 grep -q "Capturing on" "$HF_DIR/tshark.log" ||
		echo "(tshark did not start: no sFlow decode)"
fi
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd did not start (log above)"
echo "hostflowd serves ifNumber = $(hf_snmp_val "$A" $OID_IFNUMBER) through snmpd"

heading "4. A little traffic"
hf_udp "$B" 198.19.0.1 3000 100 && echo "3000 UDP datagrams $B -> veth0"
hf_udp "$A" 198.19.0.2 1000 400 && echo "1000 UDP datagrams veth0 -> $B"
hf_udp "$B" 198.19.1.1 500 200 && echo "500 UDP datagrams $B -> br0"
hf_tun_inject "$A" tailscale0 v4 1000 200 && echo "1000 IPv4 UDP packets into tailscale0"
hf_tun_inject "$A" tailscale0 v6 500 200 && echo "500 IPv6 UDP packets into tailscale0"

heading "5. What SNMP serves: ifXTable (snmpwalk, numeric OIDs)"
declare -A name alias speed hcin hcout
col() {
	local -n arr=$1
	local idx val
	while read -r idx val; do arr[$idx]=$val; done < <(hf_snmp_col "$A" "$2")
}
# Counters are at most 500 ms old in SNMP: wait until they match the kernel.
ts=$(hf_row "$A" tailscale0)
kin=$(ip netns exec "$A" cat /sys/class/net/tailscale0/statistics/rx_bytes)
hf_wait_for 3 eval '[[ $(hf_snmp_val "$A" $OID_IFXENTRY.6.$ts) == "$kin" ]]'
col name $OID_IFXENTRY.1
col alias $OID_IFXENTRY.18
col speed $OID_IFXENTRY.15
col hcin $OID_IFXENTRY.6
col hcout $OID_IFXENTRY.10
printf '  %-8s %-11s %-34s %6s %12s %12s\n' ifIndex ifName ifAlias Mb/s HCInOctets HCOutOctets
for idx in $(printf '%s\n' "${!name[@]}" | sort -n); do
	printf '  %-8s %-11s %-34s %6s %12s %12s\n' "$idx" "${name[$idx]}" \
		"\"${alias[$idx]:-}\"" "${speed[$idx]:-}" "${hcin[$idx]:-}" "${hcout[$idx]:-}"
done
echo
echo "The collector's question for tailscale0 (one GET, five varbinds):"
hf_snmp "$A" get $OID_SYSNAME $OID_IFENTRY.2."$ts" $OID_IFXENTRY.1."$ts" \
	$OID_IFXENTRY.18."$ts" $OID_IFXENTRY.15."$ts" | sed 's/^/  /'

if ((${#sflow[@]})); then
	heading "6. What the sFlow says (tshark-decoded), per source ifIndex"
	# Two counter polls (polling_interval 2) after the traffic, then stop.
	t0=$(_hf_now_us)
	while (($(_hf_now_us) - t0 < 4500000)); do sleep 0.5; done
	hf_kill "$tshark_pid"
	python3 "$HF_TOOLS/sflow_summary.py" "$HF_DIR/sflow.pcap" | sed 's/^/  /'
	heading "7. Side by side: the same ifIndex on both faces"
	python3 "$HF_TOOLS/sflow_summary.py" --json "$HF_DIR/sflow.pcap" >"$HF_DIR/sflow.json"
	printf '  %-8s| %-54s | %s\n' "" "SNMP (snmpget)" "sFlow (tshark)"
	printf '  %-8s| %-11s %-20s %5s %10s %10s | %6s %4s %6s %10s %10s\n' ifIndex \
		ifName ifAlias Mb/s HCInOct HCOutOct flows rate Mb/s inOct outOct
	for idx in $(printf '%s\n' "${!name[@]}" | sort -n); do
		read -r flows rate sspeed sin sout < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1])).get(sys.argv[2])
if not d: print("- - - - -"); sys.exit()
c = d["counters"] or {}
sp = c.get("ifspeed")
print(d["flow_samples"], ",".join(map(str, d["rates"])) or "-",
      int(sp) // 1000000 if sp else "-", c.get("ifinoct") or "-", c.get("ifoutoct") or "-")
' "$HF_DIR/sflow.json" "$idx")
		[[ $flows == - ]] && continue
		printf '  %-8s| %-11s %-20.20s %5s %10s %10s | %6s %4s %6s %10s %10s\n' "$idx" \
			"${name[$idx]}" "\"${alias[$idx]:-}\"" "${speed[$idx]:-}" "${hcin[$idx]:-}" \
			"${hcout[$idx]:-}" "$flows" "$rate" "$sspeed" "$sin" "$sout"
	done
	echo
	echo "  Same ifIndex on both faces: veth0 = $(hf_row "$A" veth0), tailscale0 = $ts;"
	echo "  input>output uses 1073741823 (0x3FFFFFFF) for the host itself; header"
	echo "  protocol 1 = Ethernet (veth0), 11/12 = IPv4/IPv6 (tailscale0, no link layer)."
	echo "  One decoded flow sample:"
	tshark -r "$HF_DIR/sflow.pcap" -d udp.port==6343,sflow -V -c 40 2>/dev/null |
		awk '/Flow sample, seq/{p=1} p{print "    " $0; if (++n > 22) exit}'
fi

heading "8. Cleaning up"
hf_hostflowd_stop && echo "hostflowd stopped (exit 0)"
echo "namespaces, snmpd, helpers and $HF_DIR are removed on exit"

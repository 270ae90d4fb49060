#!/usr/bin/env bash
# Every IF-MIB column of every row, as served by hostflowd through a real snmpd
# master, against the kernel (ip -j -s -d link, /sys/class/net): names, types,
# MTU, speeds, addresses, statuses (up, down, lower-layer-down, unknown),
# aliases (kernel, config override), config speed override, and counters
# after traffic, including 64-bit octets past 2^32 and their low 32 bits.
source "$(dirname "$0")/lib.sh"
hf_init snmp_columns

hf_std_topology || hf_die "topology"
ip -n "$HF_A" link set veth0 alias "Transit: kernel alias"
ip -n "$HF_A" link set tailscale0 alias "overridden by the config"
# Longer than IF-MIB's 64 bytes: served truncated.
ip -n "$HF_A" link set vlow0 alias "$(printf 'L%.0s' {1..80})"

hf_snmpd_start "$HF_A" || hf_die "snmpd"
conf=$HF_DIR/hostflowd.conf
hf_conf "$conf" \
	'interface vport0 alias "IX: from config"' \
	'interface tailscale0 alias "Transit: Tailscale" speed 1G' \
	'interface vdown0 speed 25G'
hf_hostflowd_start "$HF_A" "$conf" || hf_die "hostflowd"
klinks=$(ip -n "$HF_A" -o link show | wc -l)
n=$(hf_snmp_val "$HF_A" $OID_IFNUMBER)
if ((klinks >= 7)) && [[ $n == "$klinks" ]]; then
	t_ok "hostflowd serves ifNumber through snmpd: $n = the kernel's links"
else
	t_fail "ifNumber through snmpd" "ifNumber '$n', kernel has $klinks links"
fi

overrides=(--override vport0 'alias=IX: from config'
	--override tailscale0 'alias=Transit: Tailscale'
	--override tailscale0 speed=1000000000
	--override vdown0 speed=25000000000)

# Every link predates hostflowd and keeps its status: all times 0.
HF_CHECK_PREFIX="idle: " hf_ifmib_check "$HF_A" "${overrides[@]}" --deadline 3 \
	--before-start all

# Traffic both ways on veth0 and the bridge, IPv4 and IPv6 into the tun, then
# enough into the tun to carry its 64-bit octet counter past 2^32.
hf_udp "$HF_B" 198.19.0.1 3000 100
hf_udp "$HF_A" 198.19.0.2 2000 200
hf_udp "$HF_B" 198.19.1.1 1500 300
hf_tun_inject "$HF_A" tailscale0 v4 500 || t_fail "tun inject v4" "helper failed"
hf_tun_inject "$HF_A" tailscale0 v6 300 100 || t_fail "tun inject v6" "helper failed"
hf_tun_inject "$HF_A" tailscale0 v4 67000 65000 || t_fail "tun inject 4 GB" "helper failed"

HF_CHECK_PREFIX="after traffic: " hf_ifmib_check "$HF_A" "${overrides[@]}" --deadline 5 \
	--before-start all

# The 32-bit view of a counter past 2^32 is its low 32 bits (checked above for
# every row; here the premise of that check, so it cannot pass vacuously).
rx=$(ip netns exec "$HF_A" cat /sys/class/net/tailscale0/statistics/rx_bytes)
ts=$(hf_row "$HF_A" tailscale0)
hc=$(hf_snmp_val "$HF_A" $OID_IFXENTRY.6."$ts")
lo32=$(hf_snmp_val "$HF_A" $OID_IFENTRY.10."$ts")
if ((rx > 4294967295 && hc == rx && lo32 == (rx & 4294967295))); then
	t_ok "tailscale0 octets past 2^32: HC $hc, 32-bit $lo32"
else
	t_fail "tailscale0 octets past 2^32" "kernel $rx, ifHCInOctets $hc, ifInOctets $lo32"
fi

v=$(hf_snmp "$HF_A" get $OID_IFTABLELASTCHANGE)
if [[ $v == *"Timeticks"* ]]; then
	t_ok "ifTableLastChange.0 is TimeTicks"
else
	t_fail "ifTableLastChange.0" "$v"
fi

t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done

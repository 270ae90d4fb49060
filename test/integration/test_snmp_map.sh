#!/usr/bin/env bash
# The ifindex_map case: a pmacct interfaces.map renumbers veth0 to 1000 and
# gives tailscale0 the kernel number of br0. SNMP must serve the map's numbers,
# never a duplicate, br0 under a free number; `hostflowd -m` must list exactly
# what SNMP serves, and pmacctd must accept that output as its map.
source "$(dirname "$0")/lib.sh"
hf_init snmp_map

hf_std_topology || hf_die "topology"
kidx() { ip netns exec "$HF_A" cat "/sys/class/net/$1/ifindex"; }
kbr=$(kidx br0)
map=$HF_DIR/interfaces.map
cat >"$map" <<EOF
! pmacct-style map: keys in any order, comments with ! and #
ifindex=1000 ifname=veth0 direction=in
ifname=tailscale0 ifindex=$kbr direction=in
EOF

hf_snmpd_start "$HF_A" || hf_die "snmpd"
conf=$HF_DIR/hostflowd.conf
hf_conf "$conf" "ifindex_map $map"
t_check "hostflowd -t accepts the config with the map" \
	ip netns exec "$HF_A" "$HF_BIN" -t -c "$conf"
hf_hostflowd_start "$HF_A" "$conf" || hf_die "hostflowd"

t_check "veth0 served as 1000 (the map)" hf_wait_for 2 \
	eval '[[ $(hf_row "$HF_A" veth0) == 1000 ]]'
t_check "tailscale0 served as br0's kernel number $kbr (the map)" hf_wait_for 2 \
	eval '[[ $(hf_row "$HF_A" tailscale0) == "$kbr" ]]'
rbr=$(hf_row "$HF_A" br0)
t_diag "br0 relocated to ${rbr:-nothing}"

# Every column of every row at the map's numbers; br0 anywhere free.
HF_CHECK_PREFIX="map: " hf_ifmib_check "$HF_A" --deadline 3 \
	--index veth0=1000 --index "tailscale0=$kbr" --relocated br0

if grep -q "br0" "$HF_DIR/hostflowd.log"; then
	t_ok "the relocation of br0 is logged"
else
	t_fail "the relocation of br0 is logged" "no line naming br0 in hostflowd.log"
fi

# hostflowd -m: one `ifindex=N ifname=NAME direction=in` line per served row.
ip netns exec "$HF_A" "$HF_BIN" -m -c "$conf" >"$HF_DIR/m.out" 2>"$HF_DIR/m.err"
rc=$?
((rc == 0)) && t_ok "hostflowd -m exits 0" || t_fail "hostflowd -m exits 0" "status $rc: $(head -c 300 "$HF_DIR/m.err")"
if head -n 1 "$HF_DIR/m.out" | grep -q '^#' &&
	! grep -v '^#' "$HF_DIR/m.out" | grep -qvE '^ifindex=[0-9]+ ifname=[^ ]+ direction=in$'; then
	t_ok "hostflowd -m: a # header, then only ifindex=N ifname=NAME direction=in lines"
else
	t_fail "hostflowd -m format" "$(head -n 5 "$HF_DIR/m.out" | tr '\n' '|')"
fi
grep -v '^#' "$HF_DIR/m.out" | sed -E 's/^ifindex=([0-9]+) ifname=([^ ]+) .*/\1 \2/' |
	sort >"$HF_DIR/m.pairs"
hf_snmp_col "$HF_A" $OID_IFXENTRY.1 | sort >"$HF_DIR/snmp.pairs"
if [[ -s $HF_DIR/m.pairs ]] && cmp -s "$HF_DIR/m.pairs" "$HF_DIR/snmp.pairs"; then
	t_ok "hostflowd -m lists exactly what SNMP serves ($(wc -l <"$HF_DIR/m.pairs") rows)"
else
	t_fail "hostflowd -m lists exactly what SNMP serves" "differs"
	diff "$HF_DIR/snmp.pairs" "$HF_DIR/m.pairs" | sed 's/^/#   /'
fi

# pmacctd takes -m's output as its interfaces map: it opens every interface
# under the served number (its log: "[NAME,N] link type is: T"). pmacctd 1.7.7
# cannot open an admin-down interface (it exits: "That device is not up"), so
# vdown0 comes up first; -m lists it all the same, with the same number.
ip -n "$HF_A" link set vdown0 up
cat >"$HF_DIR/pmacctd.conf" <<EOF
daemonize: false
pcap_interfaces_map: $HF_DIR/m.out
pcap_ifindex: map
plugins: print
print_output_file: $HF_DIR/pmacct-print.out
print_refresh_time: 60
print_cache_entries: 128
aggregate: src_host
logfile: $HF_DIR/pmacctd.log
EOF
hf_bg "$HF_A" "$HF_DIR/pmacctd.out" pmacctd -f "$HF_DIR/pmacctd.conf"
pm=$HF_LAST_PID
pm_opened_all() {
	local idx name
	while read -r idx name; do
		grep -qF "[$name,$idx] link type is" "$HF_DIR/pmacctd.log" 2>/dev/null || return 1
	done <"$HF_DIR/m.pairs"
}
if hf_wait_for 10 pm_opened_all; then
	t_ok "pmacctd opened every interface of hostflowd -m under the served number"
else
	t_fail "pmacctd accepts hostflowd -m as pcap_interfaces_map" "see log"
	grep -E 'ERROR|WARN|link type' "$HF_DIR/pmacctd.log" 2>/dev/null | head -n 10 | sed 's/^/#   /'
fi
if grep -q ERROR "$HF_DIR/pmacctd.log" 2>/dev/null; then
	t_fail "pmacctd logs no ERROR" "$(grep ERROR "$HF_DIR/pmacctd.log" | head -n 3)"
else
	t_ok "pmacctd logs no ERROR"
fi
hf_kill "$pm"

# A map that gives two names one number is refused, with FILE:LINE.
bad=$HF_DIR/bad.map
printf 'ifindex=7 ifname=veth0 direction=in\nifindex=7 ifname=br0 direction=in\n' >"$bad"
hf_conf "$HF_DIR/bad.conf" "ifindex_map $bad"
out=$(ip netns exec "$HF_A" "$HF_BIN" -t -c "$HF_DIR/bad.conf" 2>&1)
rc=$?
if ((rc != 0)) && [[ $out == *"$bad:2"* ]]; then
	t_ok "hostflowd -t refuses a map with a duplicate number ($bad:2)"
else
	t_fail "hostflowd -t refuses a duplicate number" "status $rc: $out"
fi

t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done

#!/usr/bin/env bash
# ifOperStatus against the kernel for the operstates that need a rule
# (operstates.rst): UNKNOWN is up(1) when the interface is up with carrier
# (IFF_UP and IFF_LOWER_UP), else down(2). lo (UNKNOWN, carrier), a tun with a
# reader (created by its reader, as tailscaled does: UNKNOWN with carrier), a
# persistent tun without one (NO-CARRIER), an admin-down veth, and a
# persistent tun gaining and losing its reader (served within 1 s).
source "$(dirname "$0")/lib.sh"
hf_init snmp_operstate

A=${HF_NS}a
B=${HF_NS}b
hf_ns_add "$A" && hf_ns_add "$B" || hf_die "namespaces"
hf_tun "$A" tunheld0 || hf_die "held tun"
ip -n "$A" tuntap add dev tunbare0 mode tun || hf_die "tun without reader"
ip -n "$A" link set tunbare0 up || hf_die "tunbare0 up"
ip -n "$A" tuntap add dev tunlate0 mode tun || hf_die "tunlate0"
ip -n "$A" link set tunlate0 up || hf_die "tunlate0 up"
hf_veth "$A" vdown0 "$B" vdown0p || hf_die "veth"
ip -n "$A" link set vdown0 down
hf_veth "$A" vup0 "$B" vup0p || hf_die "veth"

hf_snmpd_start "$A" || hf_die "snmpd"
conf=$HF_DIR/hostflowd.conf
hf_conf "$conf"
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd"

kstate() { ip netns exec "$A" cat "/sys/class/net/$1/operstate"; }
kflags() { ip -n "$A" -o link show dev "$1" | sed -E 's/^[0-9]+: [^:]+: <([^>]*)>.*/\1/'; }
oper() { hf_snmp_val "$A" $OID_IFENTRY.8."$(hf_row "$A" "$1")"; }
oper_is() { [[ $(oper "$1") == "$2" ]]; }

# expect NAME KERNEL_OPERSTATE FLAG_RE WANT: the kernel's view is what this
# case is about (else the case proves nothing), and IF-MIB serves WANT.
expect() {
	local name=$1 kst=$2 fre=$3 want=$4 st fl got
	st=$(kstate "$name")
	fl=$(kflags "$name")
	if [[ $st != "$kst" || ! ,$fl, =~ $fre ]]; then
		t_fail "$name: kernel premise" "operstate $st flags <$fl>, want $kst and /$fre/"
		return
	fi
	if hf_wait_for 1 oper_is "$name" "$want"; then
		t_ok "$name (operstate $st, <$fl>): ifOperStatus $want"
	else
		got=$(oper "$name")
		t_fail "$name (operstate $st, <$fl>)" "ifOperStatus $got, want $want"
	fi
}
expect lo unknown ',UP,.*LOWER_UP|LOWER_UP.*,UP,' 1
expect tunheld0 unknown ',UP,.*LOWER_UP,' 1
expect tunbare0 down 'NO-CARRIER' 2
expect vdown0 down '^,BROADCAST,MULTICAST,$' 2
expect vup0 up ',LOWER_UP,' 1
expect tunlate0 down 'NO-CARRIER' 2

# A reader attaches to the persistent tun: carrier, served within 1 s; it
# goes away: no carrier again.
hf_bg "$A" "$HF_DIR/tunlate.out" python3 "$HF_TOOLS/tunhold.py" serve tunlate0 \
	"$HF_DIR/tunlate.sock"
late=$HF_LAST_PID
hf_wait_for 10 _hf_file_has "$HF_DIR/tunlate.out" '^ready' || t_fail "tunlate0 reader" "did not start"
hf_wait_for 5 test "$(kstate tunlate0)" = up
expect tunlate0 up ',UP,' 1
hf_kill "$late"
hf_wait_for 5 test "$(kstate tunlate0)" = down
expect tunlate0 down 'NO-CARRIER' 2

# The checker applies the same rule to every link, against ip -j link.
HF_CHECK_PREFIX="all links: " hf_ifmib_check "$A" --deadline 3 \
	--only ifOperStatus --only ifAdminStatus --only "one row per link, at the expected ifIndex"

t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done

#!/usr/bin/env bash
# Interfaces come, go, get renamed, re-aliased, set up and down: SNMP follows
# each change within 1 s, and after 50 add/remove cycles holds no duplicate and
# no stale row.
source "$(dirname "$0")/lib.sh"
hf_init snmp_churn

HF_A=${HF_NS}a
HF_B=${HF_NS}b
hf_ns_add "$HF_A" && hf_ns_add "$HF_B" || hf_die "namespaces"
hf_veth "$HF_A" veth0 "$HF_B" veth0p || hf_die "veth"
hf_snmpd_start "$HF_A" || hf_die "snmpd"
conf=$HF_DIR/hostflowd.conf
hf_conf "$conf"
hf_hostflowd_start "$HF_A" "$conf" || hf_die "hostflowd"

get() { hf_snmp_val "$HF_A" "$1"; }
is() { [[ $(get "$1") == "$2" ]]; }
absent() { ! get "$1" >/dev/null; }
nlinks() { ip -n "$HF_A" -o link show | wc -l; }
# ifOperStatus the kernel's operstate maps to (RFC 2863 names; admin down -> 2).
koper() {
	local st
	st=$(ip netns exec "$HF_A" cat "/sys/class/net/$1/operstate")
	if ! ip -n "$HF_A" link show dev "$1" | grep -q '[<,]UP[,>]'; then
		echo 2
		return
	fi
	case $st in
	up) echo 1 ;; down) echo 2 ;; testing) echo 3 ;; dormant) echo 5 ;;
	notpresent) echo 6 ;; lowerlayerdown) echo 7 ;; *) echo 4 ;;
	esac
}

# within1 NAME CMD...: t_ok when CMD succeeds within 1 s of the change.
within1() {
	local name=$1
	shift
	if hf_wait_for 1 "$@"; then
		t_ok "$name within 1 s"
	else
		t_fail "$name within 1 s" "not seen: $*"
	fi
}

tlc0=$(get $OID_IFTABLELASTCHANGE)

ip -n "$HF_A" link add vc1 type veth peer name vc1p netns "$HF_B"
k=$(ip netns exec "$HF_A" cat /sys/class/net/vc1/ifindex)
within1 "added vc1 served as $k" is $OID_IFXENTRY.1."$k" vc1
within1 "ifNumber counts vc1" is $OID_IFNUMBER "$(nlinks)"
within1 "ifTableLastChange moves on add" eval '[[ $(get $OID_IFTABLELASTCHANGE) != "$tlc0" ]]'
within1 "new vc1 is admin down" is $OID_IFENTRY.7."$k" 2

# The kernel sends no RTM_NEWLINK for an alias set on a down link (it
# notifies only IFF_UP devices): that alias shows with the next event.
ip -n "$HF_A" link set vc1 alias "set while down"
ip -n "$HF_A" link set vc1 up
within1 "vc1 admin up" is $OID_IFENTRY.7."$k" 1
within1 "alias set while down, served once up" is $OID_IFXENTRY.18."$k" "set while down"
ip -n "$HF_A" link set vc1 alias "Transit: churn"
within1 "kernel alias on vc1" is $OID_IFXENTRY.18."$k" "Transit: churn"
ip -n "$HF_A" link set vc1 alias ""
within1 "alias cleared" is $OID_IFXENTRY.18."$k" ""
# The kernel says DOWN for a veth whose peer never came up, LOWERLAYERDOWN
# once the peer went up and down again: serve what it says.
o=$(koper vc1)
within1 "vc1 up, peer never up: oper $o as the kernel says" is $OID_IFENTRY.8."$k" "$o"
ip -n "$HF_B" link set vc1p up
# Carrier changes reach the operstate through the kernel's linkwatch, which
# may defer them up to 1 s: the 1 s for hostflowd counts from then.
hf_wait_for 3 eval '[[ $(koper vc1) == 1 ]]'
within1 "vc1 oper up (peer up)" is $OID_IFENTRY.8."$k" 1
ip -n "$HF_B" link set vc1p down
hf_wait_for 3 eval '[[ $(koper vc1) != 1 ]]'
o=$(koper vc1)
within1 "vc1 peer down again: oper $o as the kernel says" is $OID_IFENTRY.8."$k" "$o"
((o == 7)) && t_ok "premise: the kernel reports lowerLayerDown here" ||
	t_diag "the kernel reports $o, not lowerLayerDown, for a veth whose peer went down"
ip -n "$HF_B" link set vc1p up
hf_wait_for 3 eval '[[ $(koper vc1) == 1 ]]'
within1 "vc1 oper up (peer up)" is $OID_IFENTRY.8."$k" 1
within1 "vc1 ifHighSpeed 10000 once up" is $OID_IFXENTRY.15."$k" 10000
ip -n "$HF_A" link set vc1 mtu 1400
within1 "vc1 MTU 1400" is $OID_IFENTRY.4."$k" 1400
ip -n "$HF_A" link set vc1 down
within1 "vc1 admin down" is $OID_IFENTRY.7."$k" 2
within1 "vc1 oper down" is $OID_IFENTRY.8."$k" 2
within1 "vc1 ifHighSpeed 0 when down" is $OID_IFXENTRY.15."$k" 0

ip -n "$HF_A" link set vc1 name vc1renamed
within1 "rename: ifName follows" is $OID_IFXENTRY.1."$k" vc1renamed
within1 "rename: ifDescr follows" is $OID_IFENTRY.2."$k" vc1renamed
within1 "rename: old name gone" eval '! hf_row "$HF_A" vc1 >/dev/null'

tlc1=$(get $OID_IFTABLELASTCHANGE)
ip -n "$HF_A" link del vc1renamed
within1 "removed vc1renamed: row gone" absent $OID_IFENTRY.2."$k"
within1 "removed: ifXTable row gone" absent $OID_IFXENTRY.1."$k"
within1 "ifNumber after remove" is $OID_IFNUMBER "$(nlinks)"
within1 "ifTableLastChange moves on remove" eval '[[ $(get $OID_IFTABLELASTCHANGE) != "$tlc1" ]]'

# A bridge appears with a port, loses it, goes away.
ip -n "$HF_A" link add vc2 type veth peer name vc2p netns "$HF_B"
ip -n "$HF_A" link add brc type bridge
ip -n "$HF_A" link set vc2 master brc up
ip -n "$HF_A" link set brc up
kb=$(ip netns exec "$HF_A" cat /sys/class/net/brc/ifindex)
within1 "bridge brc served" is $OID_IFXENTRY.1."$kb" brc
ip -n "$HF_A" link del brc
within1 "bridge brc gone" absent $OID_IFXENTRY.1."$kb"
ip -n "$HF_A" link del vc2

# 50 add/remove cycles as fast as ip can go, while a walker looks for
# duplicates in flight.
dups=$HF_DIR/dups
: >"$dups"
(
	while [[ ! -e $HF_DIR/churn.done ]]; do
		hf_snmp_col "$HF_A" $OID_IFXENTRY.1 >"$HF_DIR/w" 2>/dev/null
		d=$(cut -d' ' -f2 "$HF_DIR/w" | sort | uniq -d)
		[[ -n $d ]] && echo "duplicate names: $d" >>"$dups"
		d=$(cut -d' ' -f1 "$HF_DIR/w" | sort | uniq -d)
		[[ -n $d ]] && echo "duplicate ifIndex: $d" >>"$dups"
	done
) &
walker=$!
_hf_track $walker
for i in $(seq 50); do
	ip -n "$HF_A" link add "cy$i" type veth peer name "cy${i}p" netns "$HF_B" || t_fail "add cy$i" "ip failed"
	ip -n "$HF_A" link set "cy$i" up
	((i % 5 == 0)) && ip -n "$HF_A" link set "cy$i" name "cz$i"
	ip -n "$HF_A" link del "$( ((i % 5 == 0)) && echo cz$i || echo cy$i)"
done
# Five that stay.
for i in 1 2 3 4 5; do
	ip -n "$HF_A" link add "st$i" type veth peer name "st${i}p" netns "$HF_B"
done
touch "$HF_DIR/churn.done"
hf_kill $walker
if [[ -s $dups ]]; then
	t_fail "no duplicate row while churning" "$(head -n 3 "$dups" | tr '\n' ' ')"
else
	t_ok "no duplicate row while churning"
fi

settled() {
	[[ $(get $OID_IFNUMBER) == "$(nlinks)" ]] && hf_row "$HF_A" st5 >/dev/null &&
		! hf_snmp_col "$HF_A" $OID_IFXENTRY.1 | grep -qE ' c[yz][0-9]+$'
}
within1 "after 50 cycles: no stale row, ifNumber right" settled
HF_CHECK_PREFIX="after churn: " hf_ifmib_check "$HF_A" --deadline 2 \
	--only "ifNumber = number of links" \
	--only "ifIndex column unique and equal to the row index" \
	--only "one row per link, at the expected ifIndex" \
	--only ifDescr --only ifName --only ifAdminStatus --only ifOperStatus --only ifMtu

t_check "hostflowd still running" kill -0 "$HF_HOSTFLOWD_PID"
t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done

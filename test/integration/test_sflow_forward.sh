#!/usr/bin/env bash
# Forwarded packets once, with both interfaces (issue 9, item 3). hostflowd's
# namespace R routes between two peers (veth <-> veth) and between a tun and a
# veth, as a Tailscale subnet router does (the tun's peers in a table 52
# behind a policy rule). Counted UDP crosses it both ways, plus traffic to and
# from R itself. Every forwarded packet must be sampled once (within 5 sigma
# of offered/N, where today it is sampled on the way in and again on the way
# out), with input and output = the ifIndex SNMP serves for the interfaces it
# came in on and went out of, and an extended_router record with the next hop
# and both prefix lengths; R's own packets keep 0x3FFFFFFF on R's side and
# carry no router record. Then with only r2 sampled: still once, the input
# found from the route back to the source.
#
#   P (p1 198.18.1.2) --- r1 198.18.1.1  [R]  r2 198.18.2.1 --- (q2 198.18.2.2) Q
#                                         |                     lo 198.19.5.1, 100.64.0.1,
#                          tailscale0 (tun)                        fd7a:115c:a1e0::1
#              peers 100.64.0.2, fd7a:115c:a1e0::2 (table 52)
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init sflow_forward
R=${HF_NS}r
P=${HF_NS}p
Q=${HF_NS}q
PORT=6343
RATE=50
N=20000
conf=$HF_DIR/hostflowd.conf

# rt_stat NS IF rx|tx: packets of IF.
rt_stat() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_packets"
}

# rt_wait_flushed CAP: two more counter samples than now (polling 1 s): the
# datagrams holding every earlier flow sample have been sent and captured.
rt_wait_flushed() {
	local seen
	seen=$(sf_live_counters "$1")
	hf_wait_for 10 sf_more_counters "$1" $((seen + 2))
}

# rt_flow FILE DST DPORT: the sample lines of one flow (see sflow_summary.py --samples).
rt_flow() {
	awk -v d="$2" -v p="$3" '$1 == "S" && $7 == d && $9 == p' "$1"
}

# rt_check NAME FILE DST DPORT OFFERED IN OUT [NEXTHOP SRCMASK DSTMASK]
# Count once within 5 sigma; every sample with input IN, output OUT and the
# router record given (or none when NEXTHOP is omitted).
rt_check() {
	local name=$1 file=$2 dst=$3 dport=$4 offered=$5 in=$6 out=$7
	local nh=${8:--} sm=${9:--} dm=${10:--} k
	k=$(rt_flow "$file" "$dst" "$dport" | wc -l)
	t_check "$name: sampled once ($k samples of $offered offered, 1 in $RATE)" \
		sf_binomial "$k" "$offered" $RATE
	t_check "$name: input $in, output $out" \
		rt_none "$file" "$dst" "$dport" "\$3 != $in || \$4 != $out"
	t_check "$name: next hop $nh, masks $sm/$dm" \
		rt_none "$file" "$dst" "$dport" "\$10 != \"$nh\" || \$11 != \"$sm\" || \$12 != \"$dm\""
	if ((k)); then
		t_diag "$name: $(rt_flow "$file" "$dst" "$dport" | awk '{ print $3 ">" $4, $10, $11 "/" $12 }' |
			sort | uniq -c | tr '\n' ';')"
	fi
}

# rt_none FILE DST DPORT COND: no sample of the flow where the awk COND
# holds (those that do are printed).
rt_none() {
	awk -v d="$2" -v p="$3" "\$1 == \"S\" && \$7 == d && \$9 == p && ($4) { print; bad = 1 }
		END { exit bad }" "$1"
}

# rt_grew NS IF rx|tx BASE MIN: the counter moved by at least MIN since BASE.
rt_grew() {
	(($(rt_stat "$1" "$2" "$3") - $4 >= $5))
}

# rt_opened BASE N: the log says "sampler: sampling" N more times than BASE.
rt_opened() {
	(($(grep -c 'sampler: sampling' "$HF_DIR/hostflowd.log") - $1 >= $2))
}

# rt_phase TAG: capture, start hostflowd with $conf, run every flow, decode.
# Sets R1, R2, TS (served ifIndex) and OFF_* (offered packets, from the
# counters of the side where each flow should be sampled).
rt_phase() {
	local tag=$1 cap=$HF_DIR/$1.pcap a b base
	base=$(grep -c 'sampler: sampling' "$HF_DIR/hostflowd.log" 2>/dev/null)
	base=${base:-0}
	sf_capture_start "$R" $PORT "$cap" || hf_die "tshark did not start"
	hf_hostflowd_start "$R" "$conf" || hf_die "hostflowd did not start"
	# Every capture is open once the log says so (the sampler logs each).
	hf_wait_for 10 rt_opened "$base" "$2" || t_diag "$tag: not every capture reported open"
	R1=$(hf_row "$R" r1) R2=$(hf_row "$R" r2) TS=$(hf_row "$R" tailscale0)
	t_diag "$tag: served ifIndex r1 $R1, r2 $R2, tailscale0 $TS"

	# F1: P -> behind Q's gateway (r1 -> r2, via 198.18.2.2).
	a=$(rt_stat "$R" r1 rx) b=$(rt_stat "$R" r2 tx)
	sf_blast "$P" 198.18.1.2 198.19.5.1 4001 5001 $N
	OFF_F1_IN=$(($(rt_stat "$R" r1 rx) - a)) OFF_F1_OUT=$(($(rt_stat "$R" r2 tx) - b))
	# F2: Q -> P, on-link (r2 -> r1).
	a=$(rt_stat "$R" r2 rx)
	sf_blast "$Q" 198.18.2.2 198.18.1.2 4002 5002 $N
	OFF_F2_IN=$(($(rt_stat "$R" r2 rx) - a))
	# F3, F4: a tailnet peer -> behind Q (tailscale0 -> r2), IPv4 and IPv6.
	a=$(rt_stat "$R" tailscale0 rx) b=$(rt_stat "$R" r2 tx)
	hf_tun_inject "$R" tailscale0 v4 $N 64 || t_fail "$tag: inject v4"
	OFF_F3_IN=$(($(rt_stat "$R" tailscale0 rx) - a)) OFF_F3_OUT=$(($(rt_stat "$R" r2 tx) - b))
	a=$(rt_stat "$R" tailscale0 rx)
	hf_tun_inject "$R" tailscale0 v6 $N 64 || t_fail "$tag: inject v6"
	OFF_F4_IN=$(($(rt_stat "$R" tailscale0 rx) - a))
	# F5: Q -> a tailnet peer (r2 -> tailscale0, on-link in table 52).
	a=$(rt_stat "$R" r2 rx)
	sf_blast "$Q" 198.18.2.2 100.64.0.2 4005 5005 $N
	OFF_F5_IN=$(($(rt_stat "$R" r2 rx) - a))
	# H1, H2: to R itself and from R.
	a=$(rt_stat "$R" r1 rx)
	sf_blast "$P" 198.18.1.2 198.18.1.1 4006 5006 $N
	OFF_H1=$(($(rt_stat "$R" r1 rx) - a))
	a=$(rt_stat "$R" r1 tx)
	sf_blast "$R" 198.18.1.1 198.18.1.2 4007 5007 $N
	OFF_H2=$(($(rt_stat "$R" r1 tx) - a))

	rt_wait_flushed "$cap" || t_diag "$tag: fewer counter samples than expected"
	sf_capture_stop
	t_check "$tag: hostflowd exits cleanly" hf_hostflowd_stop
	python3 "$HF_TOOLS/sflow_summary.py" --samples "$cap" $PORT >"$HF_DIR/$tag.txt"
	t_diag "$tag: $(wc -l <"$HF_DIR/$tag.txt") flow samples decoded"
}

# --- topology -----------------------------------------------------------------

hf_ns_add "$R" && hf_ns_add "$P" && hf_ns_add "$Q" || hf_die "namespaces"
hf_ns_quiet "$P"
hf_veth "$R" r1 "$P" p1 || hf_die "veth r1"
hf_veth "$R" r2 "$Q" q2 || hf_die "veth r2"
hf_neigh "$R" r1 198.18.1.1 "$P" p1 198.18.1.2 || hf_die "addresses r1"
hf_neigh "$R" r2 198.18.2.1 "$Q" q2 198.18.2.2 || hf_die "addresses r2"
ip -n "$R" -6 addr add fd7a:115c:a1e0:2::1/64 dev r2 nodad &&
	ip -n "$Q" -6 addr add fd7a:115c:a1e0:2::2/64 dev q2 nodad || hf_die "IPv6 r2"
hf_tun "$R" tailscale0 || hf_die "tun"
ip -n "$R" addr add 100.64.0.3/32 dev tailscale0 || hf_die "tun address"
# Forwarding in R only.
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
	hf_die "forwarding"
# What lives behind Q, and the way back from P and Q.
ip -n "$Q" addr add 198.19.5.1/32 dev lo && ip -n "$Q" addr add 100.64.0.1/32 dev lo &&
	ip -n "$Q" -6 addr add fd7a:115c:a1e0::1/128 dev lo nodad || hf_die "Q addresses"
ip -n "$Q" route add default via 198.18.2.1 && ip -n "$Q" -6 route add default via fd7a:115c:a1e0:2::1 &&
	ip -n "$P" route add default via 198.18.1.1 || hf_die "peer routes"
ip -n "$R" route add 198.19.0.0/16 via 198.18.2.2 &&
	ip -n "$R" route add 100.64.0.1/32 via 198.18.2.2 &&
	ip -n "$R" -6 route add fd7a:115c:a1e0::1/128 via fd7a:115c:a1e0:2::2 || hf_die "R routes"
# The tailnet peers as Tailscale routes them: table 52 behind rule 5270.
ip -n "$R" route add 100.64.0.2/32 dev tailscale0 table 52 &&
	ip -n "$R" -6 route add fd7a:115c:a1e0::2/128 dev tailscale0 table 52 &&
	ip -n "$R" rule add pref 5270 table 52 && ip -n "$R" -6 rule add pref 5270 table 52 ||
	hf_die "table 52"
# Sinks, so that no ICMP port unreachable comes back.
sf_sink "$Q" 198.19.5.1 5001
sf_sink "$Q" 100.64.0.1 9
sf_sink "$Q" fd7a:115c:a1e0::1 9
sf_sink "$P" 198.18.1.2 5002 5007
sf_sink "$R" 198.18.1.1 5006

# The topology itself, before any sampling: each flow takes the path drawn above.
t_check "topology: R forwards P -> 198.19.5.1 via 198.18.2.2 out r2" sh -c \
	"ip -n $R route get 198.19.5.1 from 198.18.1.2 iif r1 | grep -q 'via 198.18.2.2 dev r2'"
t_check "topology: R sends 100.64.0.2 out tailscale0 (table 52)" sh -c \
	"ip -n $R route get 100.64.0.2 | grep -q 'dev tailscale0 table 52'"
t_check "topology: tun peer -> 100.64.0.1 via 198.18.2.2" sh -c \
	"ip -n $R route get 100.64.0.1 from 100.64.0.2 iif tailscale0 | grep -q 'via 198.18.2.2 dev r2'"
t_check "topology: IPv6 tun peer -> fd7a:115c:a1e0::1 via r2" sh -c \
	"ip -n $R -6 route get fd7a:115c:a1e0::1 from fd7a:115c:a1e0::2 iif tailscale0 |
	 grep -q 'via fd7a:115c:a1e0:2::2 dev r2'"
a=$(rt_stat "$Q" q2 rx)
sf_blast "$P" 198.18.1.2 198.19.5.1 4000 5001 100
t_check "topology: P reaches behind Q through R" hf_wait_for 2 rt_grew "$Q" q2 rx "$a" 100

hf_snmpd_start "$R" || hf_die "snmpd"
IF_INTERNAL=$SF_IF_INTERNAL

# --- phase 1: every interface sampled ------------------------------------------

hf_conf "$conf" "sample r1 rate $RATE" "sample r2 rate $RATE" "sample tailscale0 rate $RATE" \
	"polling_interval 1" "agent_address 198.18.1.1" "collector 127.0.0.1 $PORT"
rt_phase all 3
f=$HF_DIR/all.txt
rt_check "veth -> gateway (F1)" "$f" 198.19.5.1 5001 "$OFF_F1_IN" "$R1" "$R2" 198.18.2.2 24 16
rt_check "veth -> veth on-link (F2)" "$f" 198.18.1.2 5002 "$OFF_F2_IN" "$R2" "$R1" 198.18.1.2 24 24
rt_check "tun -> veth IPv4 (F3)" "$f" 100.64.0.1 9 "$OFF_F3_IN" "$TS" "$R2" 198.18.2.2 32 32
rt_check "tun -> veth IPv6 (F4)" "$f" fd7a:115c:a1e0::1 9 "$OFF_F4_IN" "$TS" "$R2" \
	fd7a:115c:a1e0:2::2 128 128
rt_check "veth -> tun (F5)" "$f" 100.64.0.2 5005 "$OFF_F5_IN" "$R2" "$TS" 100.64.0.2 24 32
rt_check "to the host (H1)" "$f" 198.18.1.1 5006 "$OFF_H1" "$R1" "$IF_INTERNAL"
rt_check "from the host (H2)" "$f" 198.18.1.2 5007 "$OFF_H2" "$IF_INTERNAL" "$R1"

# --- phase 2: only r2 sampled --------------------------------------------------

hf_conf "$conf" "sample r2 rate $RATE" \
	"polling_interval 1" "agent_address 198.18.1.1" "collector 127.0.0.1 $PORT"
rt_phase r2only 1
f=$HF_DIR/r2only.txt
rt_check "r2 only: veth -> gateway, sampled leaving (F1)" "$f" 198.19.5.1 5001 "$OFF_F1_OUT" \
	"$R1" "$R2" 198.18.2.2 24 16
rt_check "r2 only: veth -> veth, sampled entering (F2)" "$f" 198.18.1.2 5002 "$OFF_F2_IN" \
	"$R2" "$R1" 198.18.1.2 24 24
rt_check "r2 only: tun -> veth, sampled leaving (F3)" "$f" 100.64.0.1 9 "$OFF_F3_OUT" \
	"$TS" "$R2" 198.18.2.2 32 32
t_done

#!/usr/bin/env bash
# Sampling by link speed (`sampling_rate SPEED N`): veths served at 1G and
# 10G by `interface ... speed`, one at 100M (no entry in the speed table),
# one at the kernel's own speed (a veth: 10G, no `interface` line), and a
# bridge whose speed the kernel calls unknown until its first port comes up.
# With `sampling_rate 1G 5`, `sampling_rate 10G 20`, `sampling_rate 50` and
# `sample *`: -t names each interface's rate and the line that decided it;
# counted UDP crosses each veth and every interface's samples carry its own
# N and number within 5 sigma of offered/N. Then the rate follows the speed:
# a SIGHUP that serves s1gA at 10G switches it to 1 in 20 (sequence and pool
# continue, count within bounds at the new N), and the bridge's first port
# (the kernel's new speed, 10G) switches it from 1 in 50 to 1 in 20.
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

# speed_samples DEC IDX RATE: flow samples of source IDX at RATE.
speed_samples() {
	awk -v i="$2" -v r="$3" '$1 == "F" && $4 == i && $5 == r { n++ } END { print n + 0 }' "$1"
}

# speed_blast IF PEER_IP LOCAL_IP PORT N: N UDP packets from namespace B to
# A over IF's pair; prints the packets IF counted meanwhile (the pool's
# definition: rx + tx), once its counters stopped moving.
speed_blast() {
	local ifc=$1 n0 n1
	n0=$(sf_pkts "$A" "$ifc")
	sf_blast "$B" "$2" "$3" 4000 "$4" "$5"
	hf_wait_for 10 sf_counters_stable "$A" "$ifc"
	n1=$(sf_pkts "$A" "$ifc")
	echo $((n1 - n0))
}

# The log says the interface's rate is now N (sampler_table.c's lines).
speed_logged() {
	grep -q "sampler: $1 now 1 in $2\$" "$HF_DIR/hostflowd.log"
}

main() {
	hf_init sflow_speed
	A=${HF_NS}a B=${HF_NS}b
	local P=6343 N=10000 conf=$HF_DIR/hostflowd.conf cap=$HF_DIR/lo.pcap
	local dec=$HF_DIR/lo.txt out seen i
	local -A idx offered

	hf_ns_add "$A" && hf_ns_add "$B" || hf_die "namespaces"
	hf_ns_quiet "$A" && hf_ns_quiet "$B" || hf_die "quiet"
	i=1
	for ifc in s1g s10g s100m skern; do
		hf_veth "$A" "${ifc}A" "$B" "${ifc}B" || hf_die "veth $ifc"
		hf_neigh "$A" "${ifc}A" "198.18.$i.1" "$B" "${ifc}B" "198.18.$i.2" ||
			hf_die "addresses $ifc"
		i=$((i + 1))
	done
	# The bridge: a fixed address (a bridge takes its first port's
	# otherwise), its port's pair made now and attached later.
	ip -n "$A" link add brk address 02:00:00:00:0b:01 type bridge || hf_die "bridge"
	ip -n "$A" link set brk up
	hf_veth "$A" vbA "$B" vbB || hf_die "veth vb"
	hf_neigh "$A" brk 198.18.5.1 "$B" vbB 198.18.5.2 || hf_die "addresses brk"

	hf_snmpd_start "$A" || hf_die "snmpd"
	sf_sink "$A" 0.0.0.0 5001 5002 5003 5004 5005
	sf_capture_start "$A" $P "$cap" || hf_die "tshark did not start"
	local common=("collector 127.0.0.1 $P" "polling_interval 2" "agent_address 192.0.2.7"
		"interface s10gA speed 10G" "interface s100mA speed 100M"
		"sampling_rate 1G 5" "sampling_rate 10G 20" "sampling_rate 50"
		"sample lo off" "sample vbA off" "sample *")
	hf_conf "$conf" "interface s1gA speed 1G" "${common[@]}"

	# -t: every interface present, its rate and the line that decided it
	# (hf_conf's header is line 1, agentx_socket line 2).
	out=$(ip netns exec "$A" "$HF_BIN" -t -c "$conf" 2>&1)
	t_diag "hostflowd -t:"
	while IFS= read -r i; do t_diag "  $i"; done <<<"$out"
	local want=(
		"$conf: s1gA: 1 in 5 (sampling_rate 1G 5, line 9; speed 1G; sample *, line 14)"
		"$conf: s10gA: 1 in 20 (sampling_rate 10G 20, line 10; speed 10G; sample *, line 14)"
		"$conf: s100mA: 1 in 50 (sampling_rate 50, line 11; speed 100M, not in the speed table; sample *, line 14)"
		"$conf: skernA: 1 in 20 (sampling_rate 10G 20, line 10; speed 10G; sample *, line 14)"
		"$conf: brk: 1 in 50 (sampling_rate 50, line 11; speed unknown, not in the speed table; sample *, line 14)"
		"$conf: lo: not sampled (sample lo off, line 12)"
		"$conf: vbA: not sampled (sample vbA off, line 13)"
		"$conf: configuration OK")
	for i in "${want[@]}"; do
		t_check "-t says: ${i#"$conf: "}" grep -qxF -- "$i" <<<"$out"
	done

	hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd did not start"
	for ifc in s1gA s10gA s100mA skernA brk; do
		idx[$ifc]=$(sf_served "$A" "$ifc")
		[[ -n ${idx[$ifc]} ]] || hf_die "SNMP does not serve $ifc"
	done
	t_check "SNMP serves s1gA at 1000 Mb/s" test \
		"$(hf_snmp_val "$A" $OID_IFXENTRY.15."${idx[s1gA]}")" = 1000
	t_check "SNMP serves skernA at the kernel's 10000 Mb/s" test \
		"$(hf_snmp_val "$A" $OID_IFXENTRY.15."${idx[skernA]}")" = 10000

	# Phase 1: each veth at its own rate.
	i=1
	for ifc in s1g s10g s100m skern; do
		offered[${ifc}A]=$(speed_blast "${ifc}A" "198.18.$i.2" "198.18.$i.1" "500$i" $N)
		i=$((i + 1))
	done

	# Phase 2: a reload serves s1gA at 10G: its rate becomes 1 in 20.
	hf_conf "$conf" "interface s1gA speed 10G" "${common[@]}"
	kill -HUP "$HF_HOSTFLOWD_PID"
	t_check "after SIGHUP the log says s1gA now 1 in 20" hf_wait_for 10 speed_logged s1gA 20
	t_check "SNMP serves s1gA at 10000 Mb/s" test \
		"$(hf_snmp_val "$A" $OID_IFXENTRY.15."${idx[s1gA]}")" = 10000
	offered[s1gA2]=$(speed_blast s1gA 198.18.1.2 198.18.1.1 5001 $N)

	# Phase 3: the bridge's first port; the kernel now says 10G.
	t_check "the bridge starts at 1 in 50 (speed unknown)" \
		grep -q "sampler: sampling brk (ifIndex ${idx[brk]}) 1 in 50\$" "$HF_DIR/hostflowd.log"
	ip -n "$A" link set vbA master brk || hf_die "bridge port"
	t_check "with its first port up the log says brk now 1 in 20" \
		hf_wait_for 10 speed_logged brk 20
	t_check "SNMP serves brk at 10000 Mb/s" test \
		"$(hf_snmp_val "$A" $OID_IFXENTRY.15."${idx[brk]}")" = 10000
	offered[brk]=$(speed_blast brk 198.18.5.2 198.18.5.1 5005 $N)

	# Two more counter samples: every flow sample queued before is out.
	seen=$(sf_live_counters "$cap")
	hf_wait_for 10 sf_more_counters "$cap" $((seen + 1))
	sf_capture_stop
	t_check "hostflowd exits cleanly on SIGTERM" hf_hostflowd_stop
	sf_decode "$cap" $P >"$dec"

	t_check "every datagram decodes as sFlow" sh -c "! grep -q '^X' $dec && grep -q '^D' $dec"
	t_check "no sample lost (drops 0)" awk '$1 == "F" && $7 != 0 { print "offending record (line " NR "): " $0; exit 1 }' "$dec"
	local -A rate=([s1gA]=5 [s10gA]=20 [s100mA]=50 [skernA]=20)
	for ifc in s1gA s10gA s100mA skernA; do
		t_check "$ifc: samples at 1 in ${rate[$ifc]} within 5 sigma of offered/${rate[$ifc]}" \
			sf_binomial "$(speed_samples "$dec" "${idx[$ifc]}" "${rate[$ifc]}")" \
			"${offered[$ifc]}" "${rate[$ifc]}"
	done
	t_check "s10gA, s100mA, skernA: no sample at another rate" awk \
		-v a="${idx[s10gA]}" -v b="${idx[s100mA]}" -v c="${idx[skernA]}" '
		$1 == "F" && (($4 == a && $5 != 20) || ($4 == b && $5 != 50) || ($4 == c && $5 != 20)) {
			print "offending record (line " NR "): " $0; exit 1 }' "$dec"
	t_check "s1gA after the reload: within 5 sigma of offered/20" \
		sf_binomial "$(speed_samples "$dec" "${idx[s1gA]}" 20)" "${offered[s1gA2]}" 20
	t_check "s1gA: 1 in 5, then 1 in 20; sequence and pool go on" awk -v i="${idx[s1gA]}" '
		$1 == "F" && $4 == i {
			if ($3 != ++s || $6 < pool || (prev == 20 && $5 != 20) || ($5 != 5 && $5 != 20)) {
				print "offending record (line " NR "): " $0; bad = 1; exit 1 }
			pool = $6; prev = $5; seen[$5]++ }
		END { if (!bad && !(seen[5] && seen[20])) print "rates seen: 5 x" seen[5] + 0 ", 20 x" seen[20] + 0
		      exit bad || !(seen[5] && seen[20]) }' "$dec"
	t_check "brk: its traffic sampled at 1 in 20, within 5 sigma" \
		sf_binomial "$(speed_samples "$dec" "${idx[brk]}" 20)" "${offered[brk]}" 20
	t_check "brk: no sample at 1 in 50 (it carried nothing before its port)" test \
		"$(speed_samples "$dec" "${idx[brk]}" 50)" = 0
	t_check "hostflowd was not restarted (one start in its log)" test \
		"$(grep -c ' running$' "$HF_DIR/hostflowd.log")" = 1
	t_done
}

main "$@"

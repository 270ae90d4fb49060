# shellcheck shell=bash
# Shared by test/integration/test_fault_*.sh, after test_sflow_veth.sh (which
# sources lib.sh and defines the sf_* helpers). Sampling under fault needs a
# clock on every datagram, steady traffic for a minute, and counts per time
# window; that is what this adds.
#
#   fl_sampled_pair           $FL_A (served: snmpd, hostflowd) and $FL_B, quiet;
#                             vethA 198.18.0.1 <-> vethB 198.18.0.2 (no ARP), a sink
#                             on 198.18.0.1:5001 so no ICMP is sampled.
#   fl_traffic_start PPS MAX_S  steady UDP B -> A:5001 (test/tools/udp_pace.py)
#                             until fl_traffic_stop or MAX_S seconds.
#   fl_traffic_stop
#   fl_capture_start NS IFACE FILE PORT...
#                             tshark on IFACE for UDP to PORT...: pcap FILE and,
#                             live, one line per datagram in FILE.live:
#                             TIME DST DPORT DGRAM_SEQ NSAMPLES [RATES FLOW_SEQS INPUTS]
#                             (RATES, FLOW_SEQS and the samples' input ifIndex
#                             values are comma lists, absent without flow
#                             samples; sampled headers are not dissected).
#                             Stop with sf_capture_stop.
#   fl_dgrams FILE T0 T1 [DST [DPORT]]   datagrams captured in [T0, T1)
#   fl_flows FILE T0 T1 [DST [DPORT]]    flow samples in those datagrams
#   fl_receiver NS ADDR PORT FILE   a UDP socket on ADDR:PORT that appends one
#                             line per datagram received to FILE; pid in $HF_LAST_PID.
#   fl_now                    wall clock as tshark prints it (seconds.micro)
#   fl_get_ms NS OID...       one GET, prints its duration in ms; GET's status
#   fl_one_start              hostflowd's log shows exactly one start

fl_sampled_pair() {
	FL_A=${HF_NS}a
	FL_B=${HF_NS}b
	hf_ns_add "$FL_A" && hf_ns_add "$FL_B" || return 1
	hf_ns_quiet "$FL_A" && hf_ns_quiet "$FL_B" || return 1
	hf_veth "$FL_A" vethA "$FL_B" vethB || return 1
	hf_neigh "$FL_A" vethA 198.18.0.1 "$FL_B" vethB 198.18.0.2 || return 1
	sf_sink "$FL_A" 198.18.0.1 5001
}

fl_traffic_start() {
	rm -f "$HF_DIR/traffic.stop"
	hf_bg "$FL_B" "$HF_DIR/traffic.log" python3 "$HF_TOOLS/udp_pace.py" \
		198.18.0.2 198.18.0.1 5001 "$1" "$2" "$HF_DIR/traffic.stop"
	FL_TRAFFIC_PID=$HF_LAST_PID
}

fl_traffic_stop() {
	touch "$HF_DIR/traffic.stop"
	[[ -n ${FL_TRAFFIC_PID:-} ]] && hf_wait_for 3 _hf_gone "$FL_TRAFFIC_PID"
	[[ -n ${FL_TRAFFIC_PID:-} ]] && hf_kill "$FL_TRAFFIC_PID"
	FL_TRAFFIC_PID=
}

fl_capture_start() {
	local ns=$1 ifc=$2 file=$3 p filter='' decode=()
	shift 3
	for p in "$@"; do
		filter+="${filter:+ or }udp dst port $p"
		decode+=(-d "udp.port==$p,sflow")
	done
	# Sampled headers are not dissected: a sampled ICMP error quotes one of
	# our own datagrams, whose fields would count as this datagram's.
	hf_bg "$ns" "$file.log" sh -c 'f=$1; shift; exec tshark "$@" -w "$f" -P -l \
		-o sflow.enable_dissection:FALSE -T fields \
		-E separator=/s -e frame.time_epoch -e ip.dst -e udp.dstport \
		-e sflow_245.sequence_number -e sflow_245.numsamples \
		-e sflow.flow_sample.sampling_rate -e sflow.flow_sample.sequence_number \
		-e sflow.flow_sample.input_interface \
		>"$f.live"' sh "$file" -i "$ifc" -f "$filter" "${decode[@]}"
	SF_CAPTURE_PIDS+=("$HF_LAST_PID")
	hf_wait_for 15 grep -q "Capturing on" "$file.log"
}

_fl_select() {
	awk -v t0="$2" -v t1="$3" -v dst="${4:-}" -v dport="${5:-}" \
		'{ sub(/,.*/, "", $2); sub(/,.*/, "", $3) }
		$1 >= t0 && $1 < t1 && $4 != "" && (dst == "" || $2 == dst) &&
		(dport == "" || $3 == dport)' "$1.live"
}

fl_dgrams() {
	_fl_select "$@" | wc -l
}

fl_flows() {
	_fl_select "$@" | awk '$6 != "" { n += split($6, r, ",") } END { print n + 0 }'
}

fl_receiver() {
	hf_bg "$1" "$4.log" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
with open(sys.argv[3], "a", buffering=1) as out:
    while True:
        out.write("%d\n" % len(s.recv(65536)))' "$2" "$3" "$4"
	hf_wait_for 10 grep -q '^ready' "$4.log"
}

fl_now() {
	echo "$EPOCHREALTIME"
}

fl_get_ms() {
	local ns=$1 t0 rc
	shift
	t0=$(_hf_now_us)
	hf_snmp "$ns" get -t 2 -r 0 "$@" >"$HF_DIR/fl_get.out" 2>&1
	rc=$?
	grep -q "No Such\|Timeout" "$HF_DIR/fl_get.out" && rc=1
	echo $((($(_hf_now_us) - t0) / 1000))
	return $rc
}

fl_one_start() {
	[[ $(grep -c ' running$' "$HF_DIR/hostflowd.log") == 1 ]]
}

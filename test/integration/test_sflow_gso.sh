#!/usr/bin/env bash
# Segmentation offload (issue 9, item 5): a TCP bulk transfer each way over a
# veth sampled 1 in 2. With GSO/TSO the stack hands the device (and the
# packet socket's tap) super-frames of up to 64 KiB, which the veth carries
# whole. What hostflowd(5)'s SEGMENTATION OFFLOAD section says, pinned here:
#   - a sampled super-frame is one sample: frame_length = its whole length
#     (+ 4 for the FCS), the sampled IP header's total length = the same
#     length as the kernel fixed it up for the super-frame (what Akvorado
#     reads), so samples x rate x length estimate the bytes without bias;
#   - the 1-in-N is drawn per super-frame, the pool and the interface's
#     packet counters count each once: samples x rate estimates super-frames,
#     far fewer than the TCP segments that a wire would carry.
# The ring keeps up with a starved sampler (issue 16, item 3): the
# transfers run beside one busy process per CPU with hostflowd at nice 19,
# a busy 2-core machine where the sampler waits for a CPU while 1-in-2
# super-frames arrive at tens of thousands a second. With 512-frame rings
# and a fixed 20 ms pause it lost 15-20 % of the samples here (14-24 % on
# a fresh CI machine without the load); a ring sized for the wait and a
# pause that shortens as samples come faster lose at most a few. What the
# ring drops is not lost unseen: it is counted in the source's drops field,
# as sFlow defines, so the estimates here count samples + drops, and the
# drops must be the same number the log reports.
# Skips (fails under CI=true) when the kernel hands over no super-frame (its
# counters show no more bytes a packet than a 1500-byte MTU frame).
set -uo pipefail
# shellcheck source=test_sflow_veth.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_sflow_veth.sh"

hf_init sflow_gso
A=${HF_NS}a
B=${HF_NS}b
PORT=6343
RATE=2
BYTES=$((128 * 1024 * 1024))
conf=$HF_DIR/hostflowd.conf
cap=$HF_DIR/lo.pcap
dec=$HF_DIR/gso.txt

# gs_stat NS IF rx|tx packets|bytes
gs_stat() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_$4"
}

# gs_segs NS: TCP segments sent by NS (Tcp OutSegs of /proc/net/snmp).
gs_segs() {
	ip netns exec "$1" awk '$1 == "Tcp:" { if (h) { for (i = 2; i <= NF; i++) if (k[i] == "OutSegs") print $i; exit }
		for (i = 2; i <= NF; i++) k[i] = $i; h = 1 }' /proc/net/snmp
}

# gs_bulk FROM_NS TO_NS TO_IP PORT BYTES: one TCP connection carrying BYTES,
# read and discarded at the far end; returns once the far end has them all.
gs_bulk() {
	local from=$1 to=$2 ip=$3 port=$4 bytes=$5 log=$HF_DIR/bulk-$4.log
	hf_bg "$to" "$log" python3 -c '
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
l.settimeout(30)
print("listening", flush=True)
c, _ = l.accept()
c.settimeout(30)
n = 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    n += len(b)
print("received", n, flush=True)' "$ip" "$port"
	hf_wait_for 10 grep -q listening "$log" || return 1
	ip netns exec "$from" timeout 60 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
buf = bytes(1 << 20)
left = int(sys.argv[3])
while left:
    n = min(left, len(buf))
    s.sendall(buf[:n])
    left -= n
s.close()' "$ip" "$port" "$bytes" || return 1
	hf_wait_for 30 grep -q "^received $bytes\$" "$log"
}

# gs_decode FILE: one line per flow sample (sf_decode's columns reordered):
#   G input output frame_length stripped pool ip_total_length drops
gs_decode() {
	sf_decode "$1" $PORT | awk '$1 == "F" { print "G", $8, $9, $11, $12, $6, $16, $7 }'
}

# gs_pool_reached N: the last flow sample captured so far carries a sample
# pool of at least N (tshark flushes the capture file at every packet).
gs_pool_reached() {
	local last
	last=$(tshark -r "$cap" -d "udp.port==$PORT,sflow" -T fields \
		-e sflow.flow_sample.sample_pool 2>/dev/null |
		tr ',' '\n' | awk 'NF { p = $1 } END { print p + 0 }')
	((last >= $1))
}

# gs_bytes DIR IF_BYTES: the sampled bytes (frame_length less the FCS) x rate
# of direction DIR (out: output = $idx, in: input = $idx) within 5 sigma of
# IF_BYTES, sigma estimated from the samples: Var = (N - 1) N sum(len^2).
# Samples the ring dropped are taken to be like the ones that arrived around
# them: the drops field grows at the next sample after an overflow, so each
# transfer (A -> B first, then B -> A; a sample belongs to the transfer of the
# last super-frame before it) is scaled by its own (samples + drops) /
# samples. One factor for both would be wrong: the ring overflows more in one
# transfer than in the other.
gs_bytes() {
	awk -v dir="$1" -v truth="$2" -v i="$idx" -v r=$RATE '$1 == "G" {
		if ($4 > 1518) ph = $3 == i ? "out" : "in"
		else if (ph == "") ph = "out"
		n[ph]++; dr[ph] += $8 - last; last = $8
		if ((dir == "out" && $3 == i) || (dir == "in" && $2 == i)) {
			l = $4 - $5; s[ph] += l; q[ph] += l * l; k++ } }
		END {
			for (p in n) {
				f = (n[p] + dr[p]) / n[p]
				e += s[p] * r * f; v += f * f * (r - 1) * r * q[p]
			}
			sd = sqrt(v); d = e - truth; if (d < 0) d = -d
			printf "# %s: %d samples (drops: %d in the A -> B transfer, %d in B -> A), estimate %.0f bytes, counters %d, 5 sigma %.0f\n",
				dir, k, dr["out"], dr["in"], e, truth, 5 * sd
			exit !(k > 0 && d <= 5 * sd) }' "$dec"
}

hf_ns_add "$A" && hf_ns_add "$B" || hf_die "namespaces"
hf_ns_quiet "$A" && hf_ns_quiet "$B" || hf_die "quiet"
hf_veth "$A" vethA "$B" vethB || hf_die "veth"
hf_neigh "$A" vethA 198.18.0.1 "$B" vethB 198.18.0.2 || hf_die "addresses"
t_diag "vethA: mtu $(ip -n "$A" -j link show vethA | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mtu"])')," \
	"$(ip -n "$A" -d link show vethA | grep -o 'gso_max_size [0-9]*')"
hf_snmpd_start "$A" || hf_die "snmpd"
sf_capture_start "$A" $PORT "$cap" || hf_die "tshark did not start"
hf_conf "$conf" "sample vethA rate $RATE" "polling_interval 1" "header_bytes 128" \
	"agent_address 192.0.2.5" "collector 127.0.0.1 $PORT"
pre=$(sf_pkts "$A" vethA)
hf_hostflowd_start "$A" "$conf" || hf_die "hostflowd did not start"
idx=$(sf_served "$A" vethA)
t_check "SNMP serves vethA" test -n "$idx"
hf_wait_for 10 sf_more_counters "$cap" 0

tx0=$(gs_stat "$A" vethA tx bytes) rx0=$(gs_stat "$A" vethA rx bytes) tp0=$(gs_stat "$A" vethA tx packets)
p0=$(sf_pkts "$A" vethA) sa0=$(gs_segs "$A") sb0=$(gs_segs "$B")
t_check "hostflowd's threads at nice 19" hf_starve "$HF_HOSTFLOWD_PID"
hf_hog_start
t_check "TCP bulk A -> B ($BYTES bytes)" gs_bulk "$A" "$B" 198.18.0.2 5201 $BYTES
t_check "TCP bulk B -> A ($BYTES bytes)" gs_bulk "$B" "$A" 198.18.0.1 5202 $BYTES
hf_hog_stop
hf_wait_for 10 sf_counters_stable "$A" vethA
tx1=$(gs_stat "$A" vethA tx bytes) rx1=$(gs_stat "$A" vethA rx bytes) tp1=$(gs_stat "$A" vethA tx packets)
p1=$(sf_pkts "$A" vethA) sa1=$(gs_segs "$A") sb1=$(gs_segs "$B")
pk=$((p1 - p0))
# Small bursts until a sample carries a pool read after the transfers (the
# pool is read at most every 100 ms, when a sample is taken): at most 20
# bursts of 20 packets, each given 3 s to show up in the capture.
for ((round = 1; round <= 20; round++)); do
	sf_blast "$B" 198.18.0.2 198.18.0.1 4001 9 20
	hf_wait_for 3 gs_pool_reached "$pk" && break
done
t_check "a sample's pool has seen every super-frame ($pk packets, after $round bursts)" \
	gs_pool_reached "$pk"
hf_wait_for 10 sf_counters_stable "$A" vethA
p2=$(sf_pkts "$A" vethA)
seen=$(sf_live_counters "$cap")
hf_wait_for 10 sf_more_counters "$cap" $((seen + 2)) || t_fail "counter samples after the traffic" "none in 10 s"
sf_capture_stop
t_check "hostflowd exits cleanly on SIGTERM" hf_hostflowd_stop

gs_decode "$cap" >"$dec"
segs=$((sa1 - sa0 + sb1 - sb0))
t_diag "vethA: $pk packets counted (rx + tx), $segs TCP segments sent by both ends," \
	"$(awk '$1 == "G" && $4 > 1518' "$dec" | wc -l) of $(grep -c '^G' "$dec") samples over 1518 bytes," \
	"largest $(awk '$1 == "G" && $4 > m { m = $4 } END { print m + 0 }' "$dec")"
# The kernel's own figures say whether super-frames crossed (more bytes a
# packet than a 1500-byte MTU frame holds), not hostflowd's samples.
if (((tx1 - tx0) <= 1514 * (tp1 - tp0))); then
	t_skip "segmentation offload" "$((tx1 - tx0)) bytes in $((tp1 - tp0)) packets: GSO off?"
	t_done
	exit
fi
t_check "super-frames sampled (frames over 1518 bytes on a 1500-byte MTU)" \
	awk '$1 == "G" && $4 > 1518 { ok = 1 } END { exit !ok }' "$dec"
t_check "IP total length = frame_length - 14 - 4 in every sample (the kernel's fix-up)" \
	awk '$1 == "G" { c++; if ($7 != $4 - 18) { print "offending record (line " NR "): " $0; bad = 1; exit 1 } } END { exit bad || !c }' "$dec"
t_diag "$(gs_bytes out $((tx1 - tx0)))"
t_diag "$(gs_bytes in $((rx1 - rx0)))"
t_check "outbound bytes: samples x rate x length within 5 sigma of tx_bytes" gs_bytes out $((tx1 - tx0))
t_check "inbound bytes: samples x rate x length within 5 sigma of rx_bytes" gs_bytes in $((rx1 - rx0))
k=$(grep -c '^G' "$dec")
drops=$(awk '$1 == "G" { d = $8 } END { print d + 0 }' "$dec")
logged=$(sed -n 's/.*samples dropped while holding, \([0-9]*\) by the ring.*/\1/p' "$HF_DIR/hostflowd.log")
t_diag "ring drops: $drops in the drops field, ${logged:-none} in the log"
t_check "every sample the ring dropped is counted: drops field $drops = the log's ${logged:-none}" \
	test "$drops" = "${logged:-none}"
t_check "the ring keeps up with a starved sampler ($drops dropped, at most 1 in 20 of the $k that arrived)" \
	test $((drops * 20)) -le "$k"
t_check "samples (+ drops) x rate estimate super-frames: $k + $drops samples of $((p2 - p0)) counted packets, 1 in $RATE" \
	sf_binomial $((k + drops)) $((p2 - p0)) $RATE
t_check "packets low: samples x rate below a fifth of the TCP segments ($((k * RATE)) vs $segs)" \
	test $((k * RATE * 5)) -lt "$segs"
last=$(awk '$1 == "G" { p = $6 } END { print p + 0 }' "$dec")
t_check "the pool counts each super-frame once ($last, link $pk..$((p2 - pre)), segments $segs)" \
	test "$last" -ge "$pk" -a "$last" -le $((p2 - pre))
t_done

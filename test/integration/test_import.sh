#!/usr/bin/env bash
# hostflowd --import hsflowd|pmacctd FILE on the recipe's two configs exactly
# as issue 17 publishes them (pmacctd's interfaces.map at
# /etc/pmacct/interfaces.map, listing lo and ens3 in and out: a private
# mount namespace puts it there, over the host's /etc/pmacct), and on
# configs from the projects' documentation; hostflowd -t must accept each
# result as it is. A file the importer cannot parse exits 1 with
# FILE:LINE: message, as a bad configuration does.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hf_init import

D=$HF_DIR
ETC=$D/etc-pmacct     # becomes /etc/pmacct inside the mount namespace

# in_etc CMD...: CMD with $ETC mounted on /etc/pmacct, for this command only.
in_etc() {
	unshare --mount --propagation private sh -c \
		'mount --bind "$0" /etc/pmacct && exec "$@"' "$ETC" "$@"
}

# import_ok NAME KIND FILE [in_etc]: the import exits 0 and -t takes it.
import_ok() {
	local name=$1 kind=$2 file=$3 wrap=${4:-} out=$D/$1.out
	if ! $wrap "$HF_BIN" --import "$kind" "$file" >"$out" 2>"$out.err"; then
		t_fail "$name: --import $kind exits 0" "$(cat "$out.err")"
		return 1
	fi
	t_ok "$name: --import $kind exits 0"
	if $wrap "$HF_BIN" -t -c "$out" >"$out.t" 2>&1 && grep -qxF "$out: configuration OK" "$out.t"; then
		t_ok "$name: hostflowd -t accepts the result as it is"
	else
		t_fail "$name: hostflowd -t accepts the result as it is" "$(cat "$out.t")"
	fi
}

# has NAME LINE...: the result holds each LINE exactly.
has() {
	local name=$1 l
	shift
	for l in "$@"; do
		t_check "$name: writes '$l'" grep -qxF -- "$l" "$D/$name.out"
	done
}

if [[ ! -d /etc/pmacct ]]; then
	t_skip "pmacctd recipe" "no /etc/pmacct to mount the recipe's map on (test/deps.sh installs pmacct)"
	RECIPE_PM=0
else
	RECIPE_PM=1
fi

# --- the recipe's hsflowd.conf, as published ---
cat >"$D/hsflowd.conf" <<'EOF'
sflow {
     agent = tailscale0
     polling = 10
     sampling.1G = 100
     sampling.10G = 1024
     sampling.40G = 1024
     collector { ip=100.68.194.88 udpport=6343 }
     # collector {ip=fd7a:115c:a1e0::e601:c258 udpport=6343 }
     #pcap { dev = ens3 }
     nflog { group = 5  probability = 0.0025 }
}
EOF
if import_ok recipe-hsflowd hsflowd "$D/hsflowd.conf"; then
	has recipe-hsflowd "agent_interface tailscale0" "polling_interval 10" \
		"sampling_rate 1G 100" "sampling_rate 10G 1024" "sampling_rate 40G 1024" \
		"collector 100.68.194.88 6343" "sampling_rate 25G 25000"
	t_check "recipe-hsflowd: nflog is a comment saying why" \
		grep -q "^#   no equivalent: nflog samples the packets an iptables rule" \
		"$D/recipe-hsflowd.out"
fi

# --- the recipe's pmacctd.conf and interfaces.map, as published ---
cat >"$D/pmacctd.conf" <<'EOF'
daemonize: true
pidfile: /var/run/pmacctd.pid
syslog: daemon
  plugins: sfprobe[any]
  sfprobe_receiver: 100.68.194.88:6343
  sfprobe_agentip: 100.65.156.88
  #sfprobe_receiver: [fd7a:115c:a1e0::e601:c258]:6343
  #sfprobe_agentip: fd7a:115c:a1e0::5501:9c58
  aggregate: src_host,dst_host,in_iface,out_iface,src_port,dst_port,proto
  pcap_ifindex: map
  pcap_interfaces_map: /etc/pmacct/interfaces.map
  pcap_interface_wait: true
  sfprobe_agentsubid: 1402
  sampling_rate: 100
  snaplen: 128
EOF
mkdir -p "$ETC"
cat >"$ETC/interfaces.map" <<'EOF'
  ifindex=1 ifname=lo direction=in
  ifindex=1 ifname=lo direction=out
  ifindex=3 ifname=ens3 direction=in
  ifindex=3 ifname=ens3 direction=out
EOF
if ((RECIPE_PM)) && import_ok recipe-pmacctd pmacctd "$D/pmacctd.conf" in_etc; then
	has recipe-pmacctd "collector 100.68.194.88 6343" "agent_address 100.65.156.88" \
		"ifindex_map /etc/pmacct/interfaces.map" "sample lo" "sample ens3" \
		"sub_agent_id 1402" "sampling_rate 100" "header_bytes 128"
	t_check "recipe-pmacctd: the map's in-and-out lines are explained" \
		grep -q "ingress: lo, ens3, listed twice (in and out), had" "$D/recipe-pmacctd.out"
	t_check "recipe-pmacctd: -t says lo is sampled 1 in 100, by which lines" \
		grep -qxF "$D/recipe-pmacctd.out: lo: 1 in 100 (sampling_rate 100, line $(grep -n '^sampling_rate 100$' "$D/recipe-pmacctd.out" | cut -d: -f1); sample lo, line $(grep -n '^sample lo$' "$D/recipe-pmacctd.out" | cut -d: -f1))" \
		"$D/recipe-pmacctd.out.t"
fi

# --- from the projects' documentation ---
# hsflowd's shipped hsflowd.conf (src/Linux/scripts/hsflowd.conf, abridged
# comments) and the settings its comments document.
cat >"$D/hsflowd-doc.conf" <<'EOF'
# hsflowd configuration file
# http://sflow.net/host-sflow-linux-config.php
sflow {
  agent.cidr = 100.64.0.0/10
  polling = 30
  sampling = 400
  sampling.100M = 100
  sampling.1G = 1000
  sampling.10G = 10000
  sampling.40G = 40000
  sampling.http = 50
  collector { ip=127.0.0.1 udpport=6343 }
  pcap { dev = docker0 }
  pcap { dev = eth0 }
  pcap { speed=1G-1T }
  psample { group = 1 }
  dropmon { group=1 start=on limit=50 }
  docker { }
  kvm { }
  tcp { }
}
EOF
if import_ok hsflowd-doc hsflowd "$D/hsflowd-doc.conf"; then
	has hsflowd-doc "sampling_rate 400" "polling_interval 30" "sampling_rate 100M 100" \
		"collector 127.0.0.1 6343" "sample docker0" "sample eth0"
fi
# Akvorado's documentation for pmacctd (its map in a directory of ours).
cat >"$D/pmacctd-akvorado.conf" <<EOF
daemonize: false
plugins: sfprobe[any]
sfprobe_receiver: 192.0.2.50:6343
aggregate: src_host,dst_host,in_iface,out_iface,src_port,dst_port,proto
pcap_ifindex: map
pcap_interfaces_map: $D/akvorado.map
pcap_interface_wait: true
sfprobe_agentsubid: 1402
sfprobe_agentip: 10.25.0.1
sampling_rate: 1000
snaplen: 128
EOF
printf 'ifindex=1 ifname=lo direction=in\nifindex=1 ifname=lo direction=out\nifindex=3 ifname=eth0 direction=in\nifindex=3 ifname=eth0 direction=out\nifindex=4 ifname=eth1 direction=in\nifindex=4 ifname=eth1 direction=out\n' >"$D/akvorado.map"
if import_ok pmacctd-akvorado pmacctd "$D/pmacctd-akvorado.conf"; then
	has pmacctd-akvorado "collector 192.0.2.50 6343" "ifindex_map $D/akvorado.map" \
		"sample eth1" "sampling_rate 1000"
fi
# An sfprobe config as pmacct users publish it: '!' comments, [IPv4]:port.
printf '! pmacctd configuration\ndaemonize: true\nplugins: sfprobe\n! interface to listen on\npcap_interface: eth0\n! sample every 5th packet\nsampling_rate: 5\nsfprobe_agentsubid: 1402\nsfprobe_receiver: [127.0.0.1]:5678\npcap_filter: not udp port 41641\n' >"$D/pmacctd-user.conf"
if import_ok pmacctd-user pmacctd "$D/pmacctd-user.conf"; then
	has pmacctd-user 'sample eth0 filter "not udp port 41641"' "collector 127.0.0.1 5678"
fi

# --- what it cannot parse: exit 1, FILE:LINE: message ---
printf 'sflow {\n  polling = 10\n  bogus = 1\n}\n' >"$D/bad-hsflowd.conf"
"$HF_BIN" --import hsflowd "$D/bad-hsflowd.conf" >"$D/bad.out" 2>"$D/bad.err"
rc=$?
t_check "a bad hsflowd.conf exits 1 with FILE:3:" sh -c \
	"[ $rc = 1 ] && grep -q '^$D/bad-hsflowd.conf:3: ' '$D/bad.err' && [ ! -s '$D/bad.out' ]"
printf 'plugins: sfprobe\npcap_interfaces_map: %s/none.map\n' "$D" >"$D/bad-pmacctd.conf"
"$HF_BIN" --import pmacctd "$D/bad-pmacctd.conf" >"$D/bad.out" 2>"$D/bad.err"
rc=$?
t_check "a pmacctd.conf naming a missing map exits 1 with FILE:2:" sh -c \
	"[ $rc = 1 ] && grep -q '^$D/bad-pmacctd.conf:2: pcap_interfaces_map: $D/none.map: cannot read' '$D/bad.err'"
"$HF_BIN" --import snmpd "$D/bad-pmacctd.conf" >/dev/null 2>"$D/bad.err"
rc=$?
t_check "an unknown kind exits 1 with the usage" sh -c \
	"[ $rc = 1 ] && grep -q 'usage: hostflowd --import hsflowd|pmacctd FILE' '$D/bad.err'"
t_done

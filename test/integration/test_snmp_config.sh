#!/usr/bin/env bash
# hostflowd -t: the shipped configuration is valid; a broken one is refused
# with FILE:LINE before anything starts.
source "$(dirname "$0")/lib.sh"
hf_init snmp_config

shipped=$HF_ROOT/conf/hostflowd.conf
if [[ -f $shipped ]]; then
	t_check "hostflowd -t conf/hostflowd.conf exits 0" "$HF_BIN" -t -c "$shipped"
else
	t_skip "hostflowd -t conf/hostflowd.conf" "conf/hostflowd.conf is missing"
fi

# bad_conf NAME LINE2: a config whose second line is LINE2 is refused as FILE:2.
bad_conf() {
	local f=$HF_DIR/bad-$_hf_t_n.conf out rc
	printf 'agentx_socket %s\n%s\n' "$HF_DIR/agentx.sock" "$2" >"$f"
	out=$("$HF_BIN" -t -c "$f" 2>&1)
	rc=$?
	if ((rc != 0)) && [[ $out == *"$f:2"* ]]; then
		t_ok "-t refuses $1 with FILE:LINE"
	else
		t_fail "-t refuses $1 with FILE:LINE" "status $rc: $out"
	fi
}
bad_conf "an unknown directive" "no_such_directive 1"
bad_conf "sampling_rate 0" "sampling_rate 0"
bad_conf "an alias over 64 bytes" "interface eth0 alias \"$(printf 'x%.0s' {1..65})\""
bad_conf "header_bytes 257" "header_bytes 257"
bad_conf "an unclosed link_notifications pattern" "link_notifications eth0 veth[0-9"

out=$("$HF_BIN" -t -c "$HF_DIR/does-not-exist.conf" 2>&1)
rc=$?
if ((rc != 0)) && [[ $out == *does-not-exist.conf* ]]; then
	t_ok "-t on a missing file names it and fails"
else
	t_fail "-t on a missing file" "status $rc: $out"
fi
t_done

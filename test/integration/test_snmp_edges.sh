#!/usr/bin/env bash
# GET, GETNEXT and GETBULK at the edges of hostflowd's tables, and the exact
# request a collector (Akvorado) sends for each ifIndex it sees in flows.
source "$(dirname "$0")/lib.sh"
hf_init snmp_edges

hf_std_topology || hf_die "topology"
hf_snmpd_start "$HF_A" || hf_die "snmpd"
conf=$HF_DIR/hostflowd.conf
hf_conf "$conf" 'interface tailscale0 alias "Transit: Tailscale"'
hf_hostflowd_start "$HF_A" "$conf" || hf_die "hostflowd"

mapfile -t rows < <(hf_snmp_col "$HF_A" $OID_IFENTRY.1 | cut -d' ' -f1)
nrows=${#rows[@]}
first=${rows[0]}
last=${rows[nrows - 1]}
t_diag "rows served: ${rows[*]}"
# Every link once, nothing else: the served ifName set is the kernel's names.
knames=$(ip -n "$HF_A" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort)
snames=$(hf_snmp_col "$HF_A" $OID_IFXENTRY.1 | awk '{ print $2 }' | sort)
if ((nrows >= 7)) && [[ -n $knames && $snames == "$knames" && $(wc -l <<<"$knames") == "$nrows" ]]; then
	t_ok "ifTable has every link once ($nrows rows, ifName = ip link names)"
else
	t_fail "ifTable has every link once" "$nrows rows; ifName vs ip link: $(diff <(echo "$snames") <(echo "$knames") | grep '^[<>]' | tr '\n' ' ')"
fi

# expect_get NAME OID PATTERN: a GET of OID answers a line matching PATTERN.
expect_get() {
	local out
	out=$(hf_snmp "$HF_A" get "$2" 2>&1)
	if [[ $out =~ $3 ]]; then
		t_ok "$1"
	else
		t_fail "$1" "got: $out"
	fi
}

expect_get "GET of a missing row: noSuchInstance" \
	$OID_IFENTRY.2.999999 "No Such Instance"
expect_get "GET of ifDescr.0: noSuchInstance" $OID_IFENTRY.2.0 "No Such Instance"
expect_get "GET with an index too long: noSuch*" \
	$OID_IFENTRY.2."$first".1 "No Such (Instance|Object)"
expect_get "GET of a missing ifXTable row: noSuchInstance" \
	$OID_IFXENTRY.1.999999 "No Such Instance"
expect_get "GET of an unknown column: noSuch*" $OID_IFENTRY.99."$first" "No Such (Instance|Object)"
expect_get "GET ifNumber.0 is an INTEGER = rows" $OID_IFNUMBER "INTEGER: $nrows\$"

# expect_next NAME OID WANT_OID: GETNEXT of OID returns WANT_OID (a prefix
# when WANT_OID ends with '.').
expect_next() {
	local out oid
	out=$(hf_snmp "$HF_A" getnext "$2" 2>&1)
	oid=${out%% *}
	if [[ $oid == "$3" || ($3 == *. && $oid == "$3"*) ]]; then
		t_ok "$1"
	else
		t_fail "$1" "GETNEXT $2 -> $out"
	fi
}

expect_next "GETNEXT ifNumber -> ifNumber.0" .1.3.6.1.2.1.2.1 $OID_IFNUMBER
expect_next "GETNEXT ifNumber.0 -> first ifIndex" $OID_IFNUMBER $OID_IFENTRY.1."$first"
expect_next "GETNEXT ifTable -> first ifIndex" $OID_IFTABLE $OID_IFENTRY.1."$first"
expect_next "GETNEXT last ifIndex -> first ifDescr" $OID_IFENTRY.1."$last" $OID_IFENTRY.2."$first"
expect_next "GETNEXT between rows -> next row" $OID_IFENTRY.2."$first".5 $OID_IFENTRY.2."${rows[1]}"
expect_next "GETNEXT ifXTable -> first ifName" $OID_IFXTABLE $OID_IFXENTRY.1."$first"
expect_next "GETNEXT last ifName -> first ifInMulticastPkts" \
	$OID_IFXENTRY.1."$last" $OID_IFXENTRY.2."$first"

# Past the last row of the last column: out of the table, without an error.
past_end() {
	local name=$1 start=$2 table=$3 out oid
	out=$(hf_snmp "$HF_A" getnext "$start" 2>&1)
	oid=${out%% *}
	if [[ $out == *"No more variables"* || ($oid == .1.3.6.1.* && $oid != "$table".*) ]]; then
		t_ok "$name ($oid)"
	else
		t_fail "$name" "GETNEXT $start -> $out"
	fi
}
past_end "GETNEXT past the end of ifTable leaves it" $OID_IFENTRY.99 $OID_IFTABLE
past_end "GETNEXT past the last ifTable row leaves it" $OID_IFENTRY.22."$last" $OID_IFTABLE
past_end "GETNEXT past the end of ifXTable leaves it" $OID_IFXENTRY.99 $OID_IFXTABLE

# A walk and bulk walks see the same OIDs in the same order, and the same
# values but for counters: lo's move with every query (they cross it), and
# any live link's may move between two walks (a bridge's own frames), so the
# counter columns are masked (their values are test_snmp_columns' business).
mask_lo() {
	sed -E "s/^((\.1\.3\.6\.1\.2\.1\.2\.2\.1\.(1[0-9]|2[0-2]))|(\.1\.3\.6\.1\.2\.1\.31\.1\.1\.1\.([2-9]|1[0-3])))\.([0-9]+) = .*/\1.\6 = (counter)/"
}
for tree in .1.3.6.1.2.1.2 .1.3.6.1.2.1.31.1.1; do
	hf_snmp "$HF_A" walk "$tree" | mask_lo >"$HF_DIR/walk"
	n=$(wc -l <"$HF_DIR/walk")
	for reps in 1 7 50; do
		hf_snmp "$HF_A" bulkwalk -Cr$reps "$tree" | mask_lo >"$HF_DIR/bulk"
		if ((n > nrows)) && cmp -s "$HF_DIR/walk" "$HF_DIR/bulk"; then
			t_ok "bulkwalk -Cr$reps of $tree equals the walk ($n varbinds)"
		else
			t_fail "bulkwalk -Cr$reps of $tree equals the walk" "$n varbinds walked"
			diff "$HF_DIR/walk" "$HF_DIR/bulk" | head -n 8 | sed 's/^/#   /'
		fi
	done
done

# GETBULK with a non-repeater, as some pollers send it (GETNEXT semantics:
# sysName, not sysName.0, to land on sysName.0).
out=$(hf_snmp "$HF_A" bulkget -Cn1 -Cr3 .1.3.6.1.2.1.1.5 $OID_IFXENTRY.1)
want=".1.3.6.1.2.1.31.1.1.1.1.$first .1.3.6.1.2.1.31.1.1.1.1.${rows[1]} .1.3.6.1.2.1.31.1.1.1.1.${rows[2]}"
got=$(echo "$out" | sed -n '2,4p' | cut -d' ' -f1 | xargs)
if [[ $(echo "$out" | head -n 1) == "$OID_SYSNAME = STRING: \"hostflow-test\"" &&
	$got == "$want" ]]; then
	t_ok "GETBULK non-repeater sysName.0 + 3 ifName rows"
else
	t_fail "GETBULK non-repeater" "$(echo "$out" | tr '\n' '|')"
fi

# The collector's request: one GET of five varbinds per ifIndex. ifName must be
# an OCTET STRING and ifHighSpeed a Gauge32, sysName non-empty, for every row.
bad=()
for n in "${rows[@]}"; do
	out=$(hf_snmp "$HF_A" get $OID_SYSNAME $OID_IFENTRY.2."$n" $OID_IFXENTRY.1."$n" \
		$OID_IFXENTRY.18."$n" $OID_IFXENTRY.15."$n" 2>&1)
	mapfile -t l <<<"$out"
	if ((${#l[@]} != 5)) ||
		[[ ${l[0]} != "$OID_SYSNAME = STRING: \"hostflow-test\"" ]] ||
		[[ ! ${l[1]} =~ ^$OID_IFENTRY\.2\.$n\ =\ STRING:\ \"?[^\"]+ ]] ||
		[[ ! ${l[2]} =~ ^$OID_IFXENTRY\.1\.$n\ =\ STRING:\ \"?[^\"]+ ]] ||
		[[ ! ${l[3]} =~ ^$OID_IFXENTRY\.18\.$n\ =\ (STRING:\ .*|\"\")$ ]] ||
		[[ ! ${l[4]} =~ ^$OID_IFXENTRY\.15\.$n\ =\ Gauge32:\ [0-9]+$ ]]; then
		bad+=("$n: $(echo "$out" | tr '\n' '|')")
	fi
done
if ((${#bad[@]} == 0)); then
	t_ok "collector's 5-varbind GET answers for all $nrows rows with the right types"
else
	t_fail "collector's 5-varbind GET" "${bad[*]:0:2}"
fi
ts=$(hf_row "$HF_A" tailscale0)
expect_get "collector GET: tailscale0 alias from the config" \
	$OID_IFXENTRY.18."$ts" 'STRING: "Transit: Tailscale"'

# Timing: the collector waits 1 s with one retry; measure the worst of 20 GETs.
worst=0
for i in $(seq 20); do
	t0=$(_hf_now_us)
	hf_snmp "$HF_A" get $OID_SYSNAME $OID_IFENTRY.2."$ts" $OID_IFXENTRY.1."$ts" \
		$OID_IFXENTRY.18."$ts" $OID_IFXENTRY.15."$ts" >/dev/null
	dt=$(($(_hf_now_us) - t0))
	((dt > worst)) && worst=$dt
done
if ((worst < 500000)); then
	t_ok "collector GET worst of 20: $((worst / 1000)) ms (includes process start)"
else
	t_fail "collector GET latency" "worst of 20: $((worst / 1000)) ms"
fi

t_check "hostflowd exits 0 on SIGTERM" hf_hostflowd_stop
t_done

#!/bin/bash
# Every broken input in test/bad must make `hostflowd -t` exit 1 (not 0, not a
# crash) with "FILE:LINE: message" on stderr; good configurations must exit 0.
# See test/bad/README.md for the case format. Self-contained; needs no root
# except for the unresolvable-name case (run in an empty network namespace).
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${HOSTFLOWD:-$TOP/agent/hostflowd}
BAD=$TOP/test/bad
WORK=$(mktemp -d /tmp/test_bad_config.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# Only lib.sh's results (t_ok, t_fail, t_skip, t_done): no hf_init, this
# test needs no root and no namespace of its own.
. "$TOP/test/integration/lib.sh"

result() {	# result OK NAME [why]
	if [ "$1" = 1 ]; then
		t_ok "$2"
	else
		t_fail "$2" "see below"
		echo "#   $3" | head -c 2000
		echo
	fi
}

# expect_fail NAME CONF WANT [PREFIX...]: `PREFIX hostflowd -t -c CONF`
# must exit 1 with WANT (a fixed string) on stderr.
expect_fail() {
	local name=$1 conf=$2 want=$3 rc
	shift 3
	timeout 20 "$@" "$BIN" -t -c "$conf" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ "$rc" -ne 1 ]; then
		result 0 "$name" "exit status $rc (want 1); stderr: $(cat "$WORK/err")"
	elif ! grep -qF -- "$want" "$WORK/err"; then
		result 0 "$name" "stderr lacks '$want': $(cat "$WORK/err")"
	else
		result 1 "$name"
	fi
}

expect_ok() {	# expect_ok NAME CONF
	local rc
	timeout 20 "$BIN" -t -c "$2" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		result 1 "$1"
	else
		result 0 "$1" "exit status $rc (want 0); stderr: $(cat "$WORK/err")"
	fi
}

expectation() {	# the "LINE: substring" from a case's first line
	head -n 1 "$1" | sed -n 's/^# expect: //p'
}

if [ ! -x "$BIN" ]; then
	echo "not ok 1 - $BIN is not built"
	echo "0 passed, 1 failed"
	exit 1
fi

for f in "$BAD"/conf/*.conf; do
	expect_fail "conf/${f##*/}" "$f" "$f:$(expectation "$f")"
done

for f in "$BAD"/map/*.map; do
	c=$WORK/${f##*/}.conf
	printf '# map case\nifindex_map %s\n' "$f" >"$c"
	expect_fail "map/${f##*/}" "$c" "$f:$(expectation "$f")"
done

# Long lines: 4095 bytes is the limit, one more is an error.
c=$WORK/long-ok.conf
{ echo "sampling_rate 10"; printf '#%.0s' $(seq 4095); echo; } >"$c"
expect_ok "generated: 4095-byte line" "$c"
c=$WORK/long.conf
{ echo "sampling_rate 10"; printf 'x%.0s' $(seq 4096); echo; } >"$c"
expect_fail "generated: 4096-byte line" "$c" "$c:2: line is longer than 4095 bytes"
c=$WORK/long-map.map
{ echo "ifindex=1 ifname=lo"; printf 'ifindex=2 ifname=eth0 #'; \
  printf 'y%.0s' $(seq 5000); echo; } >"$c"
printf 'ifindex_map %s\n' "$c" >"$WORK/long-map.conf"
expect_fail "generated: long map line" "$WORK/long-map.conf" \
	"$c:2: line is longer than 4095 bytes"

# NUL bytes, in a directive and in a comment.
c=$WORK/nul.conf
printf 'sampling_rate 10\nuser ho\000stflow\n' >"$c"
expect_fail "generated: NUL in a directive" "$c" "$c:2: NUL byte in line"
c=$WORK/nul-comment.conf
printf '# \000\n' >"$c"
expect_fail "generated: NUL in a comment" "$c" "$c:1: NUL byte in line"
c=$WORK/nul.map
printf 'ifindex=1 ifname=lo\n\nifindex=2\000 ifname=eth0\n' >"$c"
printf 'ifindex_map %s\n' "$c" >"$WORK/nul-map.conf"
expect_fail "generated: NUL in the map" "$WORK/nul-map.conf" "$c:3: NUL byte in line"

# Size: 1 MiB of comments loads, one byte more does not.
c=$WORK/big.conf
head -c 1048576 /dev/zero | tr '\0' '\n' >"$c"
expect_ok "generated: 1 MiB file" "$c"
echo >>"$c"
expect_fail "generated: file over 1 MiB" "$c" "$c: file is larger than 1048576 bytes"

# Files that cannot be read. Root reads mode-000 files, so use a missing
# path, a directory and a path below a regular file.
expect_fail "missing config" "$WORK/none.conf" \
	"$WORK/none.conf: cannot read: No such file or directory"
mkdir "$WORK/dir.conf"
expect_fail "config is a directory" "$WORK/dir.conf" \
	"$WORK/dir.conf: not a regular file"
# A FIFO with no writer would block open() forever: refused at once
# (expect_fail's timeout turns a hang into exit 124, a failure).
mkfifo "$WORK/fifo.conf"
expect_fail "config is a FIFO" "$WORK/fifo.conf" "$WORK/fifo.conf: not a regular file"
expect_fail "config is a device" /dev/null "/dev/null: not a regular file"
: >"$WORK/plain"
expect_fail "config below a file" "$WORK/plain/x.conf" \
	"$WORK/plain/x.conf: cannot read: Not a directory"
printf 'ifindex_map %s\n' "$WORK/none.map" >"$WORK/missing-map.conf"
expect_fail "missing map" "$WORK/missing-map.conf" \
	"$WORK/missing-map.conf:1: ifindex_map: $WORK/none.map: cannot read: No such file or directory"
printf '\nifindex_map %s\n' "$WORK" >"$WORK/dir-map.conf"
expect_fail "map is a directory" "$WORK/dir-map.conf" \
	"$WORK/dir-map.conf:2: ifindex_map: $WORK: not a regular file"
mkfifo "$WORK/fifo.map"
printf 'ifindex_map %s\n' "$WORK/fifo.map" >"$WORK/fifo-map.conf"
expect_fail "map is a FIFO" "$WORK/fifo-map.conf" \
	"$WORK/fifo-map.conf:1: ifindex_map: $WORK/fifo.map: not a regular file"

# A name that does not resolve; in an empty netns nothing is sent anywhere.
c=$WORK/unresolvable.conf
printf '# resolved only by -t\ncollector 192.0.2.1\ncollector no-such-host.invalid 6343\n' >"$c"
if unshare -n true 2>/dev/null; then
	expect_fail "unresolvable collector" "$c" \
		"$c:3: collector no-such-host.invalid: cannot resolve:" unshare -n
else
	t_skip "unresolvable collector" "unshare -n not permitted"
fi

# Good configurations.
expect_ok "conf/hostflowd.conf" "$TOP/conf/hostflowd.conf"
c=$WORK/good.map
cat >"$c" <<'EOF'
# pmacct guides list each interface twice; first wins, same number.
ifindex=10 ifname=eth0 direction=in
ifindex=10 ifname=eth0 direction=out   ! egress
ifname=tailscale0 ifindex=20
EOF
c=$WORK/good.conf
cat >"$c" <<EOF
# every directive once; caf$(printf '\303\251') in a comment is fine
agentx_socket tcp:[::1]:705
ifindex_map $WORK/good.map
interface tailscale0 alias "Transit: \"Tailscale\" \\\\ x" speed 1G
interface eth0 speed 10G alias "IX: Example"   # options in any order
collector 192.0.2.10
collector [2001:db8::10] 9999
collector localhost 6344
agent_address fd7a:115c:a1e0::1
sub_agent_id 4294967295
sampling_rate 4294967295
polling_interval 0
header_bytes 256
sample lo off
sample eth0 rate 100 filter "not udp port 41641"
sample tailscale0
sample veth* rate 20
user nobody
EOF
expect_ok "good: every directive" "$c"

# A pattern matching no interface now is a note on stdout, not an error.
c=$WORK/note.conf
printf 'sample lo\nsample nosuch-hf* rate 5\n' >"$c"
expect_ok "good: pattern matching nothing" "$c"
if grep -qxF "$c:2: note: sample nosuch-hf* matches no interface now" "$WORK/out" &&
	! grep -q "$c:1:" "$WORK/out"; then
	result 1 "note names the pattern matching nothing, and only it"
else
	result 0 "note names the pattern matching nothing, and only it" \
		"stdout: $(cat "$WORK/out")"
fi
printf 'sampling_rate 10\r\ncollector 127.0.0.1\r\n' >"$WORK/crlf.conf"
expect_ok "good: CRLF line ends" "$WORK/crlf.conf"
: >"$WORK/empty.conf"
expect_ok "good: empty file (all defaults)" "$WORK/empty.conf"

t_done

#!/usr/bin/env bash
# shellcheck disable=SC2016 # dpkg-query's ${Field} formats are single-quoted on purpose
# make check-package: the Debian package as a new machine sees it.
#
# Builds the .deb (conf/debian/build-deb.sh) and a second one of the same tree
# with a newer version, lints the first (lintian: any error or warning fails;
# the overrides in conf/debian/lintian-overrides carry their reasons), then
# makes a fresh Debian 12 root (debootstrap --variant=minbase, from the mirror
# this machine's apt sources name) and, chrooted in it:
#
#   pass A, a root without systemd: apt installs the .deb (Depends resolved by
#     apt, satisfied by adduser: the postinst's fallback makes the user),
#     hostflowd -V, hostflowd -t on the shipped configuration with a
#     collector set, purge, nothing left;
#   pass B, systemd installed (for systemd-analyze; a dependency of this test
#     only): apt installs the .deb with its Recommends (snmpd, left untouched),
#     systemd-sysusers makes the user, the unit is enabled and passes
#     systemd-analyze verify; an edited conffile and an operator's disable
#     survive an upgrade to the newer version (no dpkg prompt: standard input
#     is /dev/null, a prompt would fail the upgrade) and a reinstall; purge,
#     nothing left but what policy allows (the system user);
#
# then a fresh Debian 13 (trixie, today's stable) root from the same mirror:
#
#   pass C: the package built here on Debian 12 installs there as it is
#     (apt resolves its Depends against trixie's libraries), runs, takes the
#     shipped configuration, and purges to nothing.
#
# Prints "ok N - ..." / "not ok N - ...: why" lines and ends with
# "N passed, M failed"; non-zero on any failure. Mounts (/proc in the root)
# are undone and the root deleted on exit, even on failure or Ctrl-C.
#
#   HF_PKG_CACHE=1   reuse build/package/cache/root-SUITE.tar (debootstrapped roots
#                    made by an earlier run) instead of debootstrapping again;
#                    ignored under CI=true, where every run starts afresh.
#   HF_PKG_KEEP=1    keep the root (build/package/root) for inspection.
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=$top/build/package
R=$work/root
SUITE=bookworm
# The suite whose mirror this machine's apt sources name (every suite is
# fetched from that mirror).
MIRROR_SUITE=bookworm
: "${VERSION:?VERSION is not set (run make check-package)}"
: "${DEB_REVISION:?DEB_REVISION is not set (run make check-package)}"
TEST_VERSION=$VERSION+test1
pkg_version=$VERSION-$DEB_REVISION
test_pkg_version=$TEST_VERSION-$DEB_REVISION
ROOT_PATH=/usr/sbin:/usr/bin:/sbin:/bin

_n=0
_pass=0
_fail=0

t_ok() {
	_n=$((_n + 1))
	_pass=$((_pass + 1))
	echo "ok $_n - $1"
}

t_fail() {
	_n=$((_n + 1))
	_fail=$((_fail + 1))
	echo "not ok $_n - $1: ${2:-failed}"
}

t_diag() {
	echo "# $*"
}

# t_check NAME CMD...: ok when CMD succeeds; otherwise not ok, with the first
# lines of its output. Returns 0 either way (the next checks still run);
# $T_RC is CMD's status.
T_RC=0
t_check() {
	local name=$1 out
	shift
	T_RC=0
	out=$("$@" 2>&1) || T_RC=$?
	if ((T_RC == 0)); then
		t_ok "$name"
		return 0
	fi
	t_fail "$name" "status $T_RC"
	printf '%s\n' "$out" | head -n 15 | sed 's/^/#   /'
	return 0
}

# t_check_or_stop NAME CMD...: t_check, and stop when it failed (what
# follows needs it).
t_check_or_stop() {
	t_check "$@"
	if ((T_RC != 0)); then
		echo "# stopping: the remaining steps need this one"
		t_done || true
		exit 1
	fi
}

t_done() {
	echo "$_pass passed, $_fail failed"
	((_fail == 0))
}

# A step the rest depends on failed: report it, stop.
bail() {
	t_fail "$1" "${2:-failed}"
	echo "# stopping: the remaining steps need this one"
	t_done || true
	exit 1
}

# --- the root ----------------------------------------------------------------

# The mounts under the root, deepest first.
root_mounts() {
	awk -v r="$R" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

# release_root: nothing started in the root $R outlives it, its mounts are
# undone and it is removed (unless HF_PKG_KEEP=1).
release_root() {
	local m pid link
	# policy-rc.d keeps daemons from starting; this is the safety net.
	for link in /proc/[0-9]*/root; do
		pid=${link#/proc/}
		pid=${pid%/root}
		if [[ $(readlink "$link" 2>/dev/null) == "$R" ]]; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	for m in $(root_mounts); do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done
	if [[ -d $R && ${HF_PKG_KEEP:-0} != 1 ]]; then
		if [[ -n $(root_mounts) ]]; then
			echo "# not removing $R: still mounted: $(root_mounts | tr '\n' ' ')" >&2
		else
			rm -rf --one-file-system "$R"
		fi
	fi
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	release_root
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The Debian URI this machine's apt sources use for SUITE's main component
# (one-line .list and deb822 .sources files; files apt ignores are skipped).
apt_mirror() {
	local f
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[[ -r $f ]] || continue
			awk -v s="$MIRROR_SUITE" '
				$1 == "deb" {
					i = 2
					if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
					if ($(i + 1) != s) next
					for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; next }
				}' "$f"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[[ -r $f ]] || continue
			awk -v s="$MIRROR_SUITE" '
				BEGIN { RS = ""; FS = "\n" }
				{
					delete v
					for (k = 1; k <= NF; k++) {
						if ($k ~ /^#/ || $k !~ /^[A-Za-z-]+:/) continue
						key = tolower(substr($k, 1, index($k, ":") - 1))
						v[key] = " " substr($k, index($k, ":") + 1) " "
					}
					if (v["enabled"] ~ / no /) next
					if (v["types"] !~ / deb / || v["suites"] !~ (" " s " ") || v["components"] !~ / main /) next
					split(v["uris"], u, " ")
					print u[1]
				}' "$f"
		done
	} | head -n 1
}

# in_root CMD...: CMD inside the root, clean environment, no terminal.
in_root() {
	timeout 600 chroot "$R" /usr/bin/env -i PATH="$ROOT_PATH" HOME=/root LC_ALL=C \
		DEBIAN_FRONTEND=noninteractive "$@" </dev/null
}

# apt_root ARGS...: apt-get in the root; its output goes to the log (the
# last lines are shown when it fails).
apt_root() {
	local rc=0
	echo "### apt-get $*" >>"$work/apt.log"
	in_root apt-get -y -q "$@" >>"$work/apt.log" 2>&1 || rc=$?
	((rc == 0)) || tail -n 15 "$work/apt.log"
	return "$rc"
}

make_root() {
	local mirror
	mirror=$(apt_mirror)
	[[ -n $mirror ]] || bail "a $MIRROR_SUITE mirror in this machine's apt sources" "none found"
	t_diag "mirror (from this machine's apt sources): $mirror"
	local cache=$work/cache/root-$SUITE.tar use_cache=0
	if [[ ${HF_PKG_CACHE:-0} == 1 && ${CI:-} != true ]]; then
		use_cache=1
	fi
	rm -rf --one-file-system "$R"
	mkdir -p "$R"
	if ((use_cache)) && [[ -s $cache ]]; then
		tar -C "$R" --numeric-owner -xpf "$cache" ||
			bail "unpack the cached root $cache"
		t_ok "fresh $SUITE root unpacked from the cache (HF_PKG_CACHE=1)"
	else
		local t0=$SECONDS
		timeout 900 debootstrap --variant=minbase "$SUITE" "$R" "$mirror" \
			>"$work/debootstrap.log" 2>&1 ||
			{
				tail -n 15 "$work/debootstrap.log" | sed 's/^/#   /'
				bail "debootstrap --variant=minbase $SUITE" "see $work/debootstrap.log"
			}
		t_ok "debootstrap --variant=minbase $SUITE ($((SECONDS - t0)) s)"
		if ((use_cache)); then
			mkdir -p "$work/cache"
			tar -C "$R" --numeric-owner -cpf "$cache.new" . && mv "$cache.new" "$cache"
		fi
	fi
	mount -t proc proc "$R/proc" || bail "mount /proc in the root"
	# Daemons that packages install (snmpd) must not start in the root; the
	# log shows who asked for what.
	printf '#!/bin/sh\necho "$*" >>/tmp/policy-rc.d.log\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
	chmod 0755 "$R/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
	t_check_or_stop "apt-get update in the root" apt_root update
	# A test fixture: adduser, so that pass A's Depends are met without systemd.
	t_check_or_stop "apt-get install adduser in the root (the test's own)" \
		apt_root install --no-install-recommends adduser
	[[ ! -e $R/run/systemd/system ]] || bail "the root has no running systemd" "$R/run/systemd/system exists"
}

# snapshot FILE: every path in the root, sorted. Left out: the kernel's
# file systems, /run (a tmpfs on a real system: adduser's lock, systemctl's
# scratch files), /tmp (the test's .debs), apt's caches, lists and state
# (which packages were installed automatically), logs.
snapshot() {
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./sys -o -path ./run \
		-o -path ./tmp -o -path ./var/cache/apt -o -path ./var/lib/apt -o -path ./var/log \) \
		-prune -o -print) | LC_ALL=C sort >"$1"
}

# What policy lets a purge leave behind: the system user (and the backups of
# the account files that making it wrote).
ALLOWED_LEFT='^\./etc/(passwd|group|shadow|gshadow)-$'

# compare_snapshots LABEL BEFORE AFTER
compare_snapshots() {
	local label=$1 before=$2 after=$3 added removed
	added=$(LC_ALL=C comm -13 "$before" "$after" | grep -Ev "$ALLOWED_LEFT" || true)
	removed=$(LC_ALL=C comm -23 "$before" "$after" || true)
	if [[ -z $added && -z $removed ]]; then
		t_ok "$label: the root has exactly the paths it had before the install"
	else
		t_fail "$label: the root differs from before the install" \
			"$(printf '%s\n' "$added" | grep -c . || true) paths left, $(printf '%s\n' "$removed" | grep -c . || true) gone"
		printf '%s\n' "$added" | grep . | head -n 20 | sed 's/^/#   left: /' || true
		printf '%s\n' "$removed" | grep . | head -n 20 | sed 's/^/#   gone: /' || true
	fi
}

# --- checks run in both passes -------------------------------------------------

PKG_FILES=(/usr/sbin/hostflowd /lib/systemd/system/hostflowd.service
	/usr/lib/sysusers.d/hostflow.conf /usr/share/man/man8/hostflowd.8.gz
	/usr/share/man/man5/hostflowd.conf.5.gz /etc/hostflow/hostflowd.conf
	/usr/share/doc/hostflow/copyright /usr/share/doc/hostflow/changelog.Debian.gz
	/usr/share/doc/hostflow/examples/snmpd.service.d-hostflow.conf
	/usr/share/doc/hostflow/examples/akvorado-outlet.yaml
	/usr/share/doc/hostflow/examples/pmacct/pmacctd.conf
	/usr/share/doc/hostflow/examples/snmpd.conf)
CONF=/etc/hostflow/hostflowd.conf

pkg_status() {
	in_root dpkg-query -W -f='${db:Status-Abbrev}${Version}' hostflow 2>/dev/null || true
}

# has_status WANT: dpkg's status and version of hostflow is WANT.
has_status() {
	local got
	got=$(pkg_status)
	[[ $got == "$1" ]] || {
		echo "dpkg-query says '$got', want '$1'"
		return 1
	}
}

files_present() {
	local f rc=0
	for f in "${PKG_FILES[@]}"; do
		[[ -f $R$f ]] || {
			echo "missing $f"
			rc=1
		}
	done
	return "$rc"
}

conffile_registered() {
	in_root dpkg-query -W -f='${Conffiles}\n' hostflow | grep -q "^ $CONF [0-9a-f]\{32\}$"
}

user_ok() {
	local ent uid home shell
	ent=$(in_root getent passwd hostflow) || {
		echo "no user hostflow"
		return 1
	}
	IFS=: read -r _ _ uid _ _ home shell <<<"$ent"
	in_root getent group hostflow >/dev/null || {
		echo "no group hostflow"
		return 1
	}
	if ! ((uid > 0 && uid < 1000)) || [[ $home != / || $shell != /usr/sbin/nologin ]]; then
		echo "passwd entry: $ent"
		return 1
	fi
}

# is_enabled WANT: systemctl is-enabled (offline, in the root) says WANT.
is_enabled() {
	local got
	got=$(in_root systemctl is-enabled hostflowd.service 2>&1) || true
	[[ $got == "$1" ]] || {
		echo "systemctl is-enabled says '$got', want '$1'"
		return 1
	}
}

no_dpkg_leftovers() {
	local left
	left=$(find "$R/etc/hostflow" -name '*.dpkg-*')
	[[ -z $left ]] || {
		echo "$left"
		return 1
	}
}

unit_enabled_link() {
	[[ $(readlink "$R/etc/systemd/system/multi-user.target.wants/hostflowd.service") == \
		/lib/systemd/system/hostflowd.service ]]
}

version_is() {
	local out
	out=$(in_root hostflowd -V) || return 1
	[[ $out == "hostflowd $1" ]] || {
		echo "hostflowd -V says '$out', want 'hostflowd $1'"
		return 1
	}
}

set_collector() {
	sed -i 's/^#collector 100\.64\.0\.10 6343$/collector 198.18.0.10 6343/' "$R$CONF"
	grep -qx 'collector 198.18.0.10 6343' "$R$CONF"
}

bad_config_refused() {
	printf 'agentx_socket /run/agentx/master\nno_such_directive 1\n' >"$R/tmp/bad.conf"
	! in_root hostflowd -t -c /tmp/bad.conf
}

nothing_named_hostflow() {
	local left
	left=$(cd "$R" && find . -xdev \( -path ./proc -o -path ./tmp \) -prune -o -name '*hostflow*' -print)
	[[ -z $left ]] || {
		echo "$left"
		return 1
	}
}

# installed_checks LABEL: what must hold after an install of $pkg_version.
installed_checks() {
	local p=$1
	t_check "$p: dpkg has hostflow $pkg_version installed" has_status "ii $pkg_version"
	t_check "$p: every file of the package is there" files_present
	t_check "$p: $CONF is a conffile" conffile_registered
	t_check "$p: no snmpd drop-in in /etc (only the example)" \
		test ! -e "$R/etc/systemd/system/snmpd.service.d"
	t_check "$p: system user and group hostflow (uid < 1000, home /, nologin)" user_ok
	t_check "$p: the unit is enabled (multi-user.target.wants link)" unit_enabled_link
	t_check "$p: hostflowd -V says hostflowd $VERSION" version_is "$VERSION"
	t_check "$p: a collector line set in the shipped configuration" set_collector
	t_check "$p: hostflowd -t accepts the shipped configuration" \
		in_root hostflowd -t -c "$CONF"
	t_check "$p: hostflowd -t refuses a bad configuration" bad_config_refused
}

# purged_checks LABEL ID: after a purge, against the snapshot before-ID.
purged_checks() {
	local p=$1 id=$2 before=$work/before-$2
	t_check "$p: dpkg no longer knows hostflow" test -z "$(pkg_status | sed 's/^un.*//')"
	t_check "$p: /etc/hostflow is gone" test ! -e "$R/etc/hostflow"
	t_check "$p: no path named *hostflow* anywhere in the root" nothing_named_hostflow
	snapshot "$work/after-$id"
	compare_snapshots "$p" "$before" "$work/after-$id"
	if in_root getent passwd hostflow >/dev/null; then
		t_diag "$p: the system user hostflow remains (as Debian policy allows)"
	fi
}

# --- build and lint ------------------------------------------------------------

for tool in debootstrap lintian dpkg-deb chroot; do
	command -v "$tool" >/dev/null || bail "$tool is installed" "missing (make deps-package)"
done
((EUID == 0)) || bail "running as root" "debootstrap and chroot need root"

# A fresh work directory each run (the cache of HF_PKG_CACHE=1 aside).
mkdir -p "$work"
find "$work" -mindepth 1 -maxdepth 1 ! -name cache -exec rm -rf --one-file-system {} +
mkdir -p "$work/debs"
: >"$work/apt.log"
t0=$SECONDS

deb=$(VERSION=$VERSION DEB_REVISION=$DEB_REVISION bash "$top/conf/debian/build-deb.sh" "$work/debs" |
	tail -n 1) || bail "make deb"
[[ -s $deb && $deb == */hostflow_${pkg_version}_*.deb ]] || bail "make deb" "no $deb"
t_ok "make deb: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
deb2=$(VERSION=$TEST_VERSION DEB_REVISION=$DEB_REVISION bash "$top/conf/debian/build-deb.sh" "$work/debs" |
	tail -n 1) || bail "make deb VERSION=$TEST_VERSION"
[[ -s $deb2 ]] || bail "make deb VERSION=$TEST_VERSION" "no $deb2"
t_ok "make deb VERSION=$TEST_VERSION: $(basename "$deb2")"

lint=$(lintian --display-level '>=pedantic' --display-experimental "$deb" 2>&1 |
	grep -v '^running with root privileges is not recommended!$' || true)
lint_bad=$(printf '%s\n' "$lint" | grep -E '^[EW]: ' || true)
printf '%s\n' "$lint" | grep . | sed 's/^/# lintian: /' || true
t_diag "lintian $(lintian --version | awk '{ print $2 }'): $(lintian --display-level '>=pedantic' --display-experimental --show-overrides "$deb" 2>/dev/null |
	grep -c '^O: ' || true) tags overridden (conf/debian/lintian-overrides, each with its reason)"
if [[ -z $lint_bad ]]; then
	t_ok "lintian: no error, no warning ($(printf '%s\n' "$lint" | grep -c '^[IP]: ' || true) info/pedantic tags)"
else
	t_fail "lintian: no error, no warning" "$(printf '%s\n' "$lint_bad" | wc -l) tags"
fi
t_check "the package carries no file under /etc/systemd" \
	sh -c "! dpkg-deb -c '$deb' | grep -q ' \./etc/systemd'"

control_fields() {
	local dep rec
	dep=$(dpkg-deb -f "$deb" Depends)
	rec=$(dpkg-deb -f "$deb" Recommends)
	echo "Depends: $dep; Recommends: $rec"
	[[ $dep == *"libsnmp40 (>= "* && $dep == *"libnl-route-3-200 (>= "* && $dep == *"libc6 (>= "* &&
		$dep == *"libbpf1 (>= "* && $rec == snmpd ]]
}
t_check "Depends from dpkg-shlibdeps (libc6, libnl-route-3-200, libsnmp40, libbpf1), Recommends: snmpd" \
	control_fields
t_diag "$(control_fields)"

# --- pass A: a root without systemd --------------------------------------------

make_root
cp "$deb" "$deb2" "$R/tmp/"
d1=/tmp/$(basename "$deb")
d2=/tmp/$(basename "$deb2")

snapshot "$work/before-A"
A="A (no systemd)"
t_check_or_stop "$A: apt-get install --no-install-recommends .$d1 (Depends by apt)" \
	apt_root install --no-install-recommends "$d1"
t_check "$A: apt met the user-making dependency with adduser, not systemd" \
	sh -c "! test -e '$R/usr/bin/systemd-sysusers'"
installed_checks "$A"
t_check "$A: apt-get purge --autoremove hostflow" apt_root purge --autoremove hostflow
purged_checks "$A" A

# --- pass B: systemd in the root ---------------------------------------------
# The user made by pass A goes, so that systemd-sysusers makes it this time.

B="B (systemd)"
in_root userdel hostflow >/dev/null 2>&1 || true
in_root groupdel hostflow >/dev/null 2>&1 || true
# snmpd is installed first, as an operator's machine has it (and so that what
# its installation brings is not counted against hostflow's purge); so is
# dbus, which every systemd host runs: libpcap's libdbus-1-3 recommends it,
# and once there systemd's own Recommends keep apt's autoremove off it.
t_check_or_stop "B: apt-get install systemd dbus snmpd (systemd for systemd-analyze: the test's own)" \
	apt_root install --no-install-recommends systemd dbus snmpd
snapshot "$work/before-B"
: >"$R/tmp/policy-rc.d.log"
t_check_or_stop "$B: apt-get install .$d1 (Depends and Recommends by apt)" apt_root install "$d1"
installed_checks "$B"

snmpd_untouched() {
	local conf_md5 pkg_md5
	pkg_md5=$(in_root dpkg-query -W -f='${Conffiles}\n' snmpd |
		awk '$1 == "/etc/snmp/snmpd.conf" { print $2 }')
	conf_md5=$(md5sum <"$R/etc/snmp/snmpd.conf" | cut -d' ' -f1)
	[[ -n $pkg_md5 && $pkg_md5 == "$conf_md5" ]] || {
		echo "snmpd.conf md5 $conf_md5, snmpd's $pkg_md5"
		return 1
	}
	[[ ! -e $R/etc/systemd/system/snmpd.service.d ]]
}
t_check "$B: snmpd's configuration untouched (snmpd.conf as shipped, no drop-in)" snmpd_untouched

analyze_verify() {
	local out
	out=$(in_root systemd-analyze verify --man=no /lib/systemd/system/hostflowd.service 2>&1) || {
		echo "$out"
		return 1
	}
	# Any complaint about the unit itself fails too (verify's status does
	# not cover every warning).
	if grep -i 'hostflowd' <<<"$out"; then
		return 1
	fi
}
t_check "$B: systemd-analyze verify accepts the installed unit" analyze_verify
t_check "$B: systemctl is-enabled hostflowd says enabled" is_enabled enabled

# The operator disables the unit and edits the conffile (the collector line,
# done above); the package's conffile is the same in both versions, so dpkg
# keeps the edit without asking.
in_root systemctl disable hostflowd.service >/dev/null 2>&1 || true
conf_before=$(md5sum <"$R$CONF")
t_check "$B: upgrade to $test_pkg_version (apt-get install .$d2, no prompt)" apt_root install "$d2"
t_check "$B: dpkg has hostflow $test_pkg_version installed" has_status "ii $test_pkg_version"
t_check "$B: hostflowd -V says hostflowd $TEST_VERSION after the upgrade" version_is "$TEST_VERSION"
t_check "$B: the edited conffile is kept byte for byte" test "$(md5sum <"$R$CONF")" = "$conf_before"
t_check "$B: no .dpkg-dist/.dpkg-new/.dpkg-old beside it" no_dpkg_leftovers
t_check "$B: the operator's disable survives the upgrade" is_enabled disabled
t_check "$B: same-version reinstall (apt-get install --reinstall .$d2)" \
	apt_root install --reinstall "$d2"
t_check "$B: the edited conffile is still kept" test "$(md5sum <"$R$CONF")" = "$conf_before"
t_check "$B: hostflowd -t accepts it" in_root hostflowd -t -c "$CONF"
t_check "$B: apt-get purge --autoremove hostflow (and what apt installed for it)" \
	apt_root purge --autoremove hostflow
purged_checks "$B" B
t_check "$B: nothing asked to start, stop or restart snmpd (policy-rc.d's log)" \
	sh -c "! grep snmpd '$R/tmp/policy-rc.d.log'"
t_check "$B: snmpd's configuration still untouched" snmpd_untouched

# --- pass C: Debian 13 (trixie) -------------------------------------------------

release_root
SUITE=trixie
R=$work/root-trixie
C="C (Debian 13)"
make_root
cp "$deb" "$R/tmp/"
snapshot "$work/before-C"
t_check_or_stop "$C: apt-get install --no-install-recommends .$d1 (a Debian 12 build, Depends by apt)" \
	apt_root install --no-install-recommends "$d1"
t_diag "$C: installed with $(in_root dpkg-query -W -f='${Package} ${Version}\n' libsnmp40t64 libnl-route-3-200 libc6 2>/dev/null | tr '\n' ';')"
installed_checks "$C"
t_check "$C: apt-get purge --autoremove hostflow" apt_root purge --autoremove hostflow
purged_checks "$C" C

t_diag "make check-package took $((SECONDS - t0)) s"
t_done

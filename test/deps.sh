#!/usr/bin/env bash
# Installs what hostflowd needs to build, test (MODE=check), build and test
# the Debian package (MODE=package: make deb, make check-package) and run the
# demo and benchmarks (MODE=all: everything). A fast no-op when everything is
# present.
#
#   test/deps.sh check|package|all
#
# Runs without a terminal (CI has no stdin): no debconf question is asked.
# Debian's snmpd package starts a system snmpd on install, and snmptrapd a
# system snmptrapd (socket-activated on udp/162); when this script installed
# them, those are stopped and disabled so tests own their ports.
set -euo pipefail

# libbpf-dev and clang build the tc eBPF capture (clang also the fuzzers);
# bpftool lets test_sflow_ebpf see which of its programs are loaded.
CHECK_PKGS=(build-essential pkg-config libsnmp-dev libnl-route-3-dev libnl-3-dev
	    libpcap0.8-dev libbpf-dev check snmpd snmp snmptrapd iproute2 tshark pmacct nfdump-sflow
	    python3 jq procps psmisc clang libclang-rt-14-dev bpftool)
ALL_PKGS=(iperf3 valgrind)
# make deb builds with Debian's tools; make check-package lints the package and
# installs it in a fresh root (debootstrap), where systemd-analyze (systemd)
# verifies the unit. Build-time and test-time only, never a Depends.
PACKAGE_PKGS=(build-essential pkg-config libsnmp-dev libnl-route-3-dev libnl-3-dev
	      libpcap0.8-dev libbpf-dev clang dpkg-dev binutils lintian debootstrap systemd)

usage() {
	echo "usage: $0 check|package|all" >&2
	exit 2
}

# Prints the packages of "$@" that are not installed.
missing_pkgs() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[[ $st == "install ok installed" ]] || echo "$p"
	done
}

# The package's own snmpd would answer on udp/161 and hold /var/agentx/master.
stop_system_snmpd() {
	# /run/systemd/system exists exactly when systemd is the running init.
	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now snmpd >/dev/null 2>&1 || true
	else
		# No systemd (containers): stop it and keep it from starting on boot.
		if command -v update-rc.d >/dev/null 2>&1; then
			update-rc.d snmpd disable >/dev/null 2>&1 || true
		fi
		local pidfile=/run/snmpd.pid pid
		if [[ -s $pidfile ]]; then
			pid=$(<"$pidfile")
			kill "$pid" 2>/dev/null || true
		fi
	fi
	echo "deps: stopped and disabled the system snmpd that the package started"
}

# The package's own snmptrapd would hold udp/162 (the tests run theirs in
# namespaces, on other ports).
stop_system_snmptrapd() {
	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now snmptrapd.socket snmptrapd >/dev/null 2>&1 || true
	else
		if command -v update-rc.d >/dev/null 2>&1; then
			update-rc.d snmptrapd disable >/dev/null 2>&1 || true
		fi
		local pidfile=/run/snmptrapd.pid pid
		if [[ -s $pidfile ]]; then
			pid=$(<"$pidfile")
			kill "$pid" 2>/dev/null || true
		fi
	fi
	echo "deps: stopped and disabled the system snmptrapd that the package started"
}

install_pkgs() {
	local want_snmpd=0 want_snmptrapd=0 p
	for p in "$@"; do
		[[ $p == snmpd ]] && want_snmpd=1
		[[ $p == snmptrapd ]] && want_snmptrapd=1
	done
	export DEBIAN_FRONTEND=noninteractive
	echo "deps: installing: $*"
	# tshark otherwise asks whether non-root users may capture.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections
	apt-get update -q
	apt-get install -y -q --no-install-recommends "$@" </dev/null
	if ((want_snmpd)); then
		stop_system_snmpd
	fi
	if ((want_snmptrapd)); then
		stop_system_snmptrapd
	fi
}

main() {
	local mode=${1:-}
	local -a pkgs
	case $mode in
	check) pkgs=("${CHECK_PKGS[@]}") ;;
	package) pkgs=("${PACKAGE_PKGS[@]}") ;;
	all) pkgs=("${CHECK_PKGS[@]}" "${ALL_PKGS[@]}" "${PACKAGE_PKGS[@]}") ;;
	*) usage ;;
	esac
	if ((EUID != 0)); then
		echo "deps: must run as root (sudo make deps / sudo make check)" >&2
		exit 1
	fi
	local -a missing
	mapfile -t missing < <(missing_pkgs "${pkgs[@]}")
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	install_pkgs "${missing[@]}"
}

main "$@"

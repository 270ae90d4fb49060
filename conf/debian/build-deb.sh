#!/usr/bin/env bash
# make deb: builds hostflow_VERSION-REVISION_ARCH.deb with Debian's own tools
# (dpkg-buildflags, dpkg-shlibdeps, dpkg-gencontrol, dpkg-deb) over the tree
# that `make install DESTDIR=... PREFIX=/usr` stages. No debhelper and no
# top-level debian/ directory: the metadata is in conf/debian/ (see
# docs/PACKAGING.md). Needs no root (dpkg-deb --root-owner-group).
#
#   VERSION=0.1.0 DEB_REVISION=1 conf/debian/build-deb.sh [OUTDIR]
#
# VERSION and DEB_REVISION come from the Makefile (the changelog's first
# line). When VERSION-DEB_REVISION is not the changelog's version (a test
# build, make deb VERSION=0.1.0+test1), the package's changelog gets an entry
# for it on top. OUTDIR defaults to build/. Prints the .deb's path last.
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${VERSION:?VERSION is not set (run make deb)}"
: "${DEB_REVISION:?DEB_REVISION is not set (run make deb)}"
outdir=${1:-$top/build}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
pkg=hostflow
deb_version=$VERSION-$DEB_REVISION
arch=$(dpkg --print-architecture)
work=$top/build/deb
stage=$work/debian/$pkg

die() {
	echo "make deb: $*" >&2
	exit 1
}

for tool in dpkg-buildflags dpkg-shlibdeps dpkg-gencontrol dpkg-parsechangelog dpkg-deb strip gzip; do
	command -v "$tool" >/dev/null || die "$tool is missing (apt-get install dpkg-dev binutils; or make deps-package)"
done

rm -rf "$work"
mkdir -p "$work/src" "$work/debian"

# The packaging tools read debian/control and debian/changelog relative to
# their working directory: give them a private one.
cp "$here/control" "$work/debian/control"
cl_version=$(dpkg-parsechangelog -l "$here/changelog" -SVersion)
if [[ $cl_version == "$deb_version" ]]; then
	cp "$here/changelog" "$work/debian/changelog"
else
	{
		echo "$pkg ($deb_version) UNRELEASED; urgency=medium"
		echo
		echo "  * Test build of the $cl_version tree as $deb_version."
		echo
		echo " -- $(dpkg-parsechangelog -l "$here/changelog" -SMaintainer)  $(date -R)"
		echo
		cat "$here/changelog"
	} >"$work/debian/changelog"
fi
# Reproducible: file times and gzip headers from the changelog's date.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$work/debian/changelog" -STimestamp)
export SOURCE_DATE_EPOCH

# A copy of the tree, so the package's objects and build flags never mix with
# the developer's build in agent/.
cp -a "$top/Makefile" "$top/agent" "$top/docs" "$top/conf" "$top/systemd" "$work/src/"
make -s -C "$work/src" clean >/dev/null

# Debian's hardening and optimisation flags, as dpkg-buildpackage would set.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags=$(dpkg-buildflags --get CFLAGS)
cppflags=$(dpkg-buildflags --get CPPFLAGS)
ldflags=$(dpkg-buildflags --get LDFLAGS)
make -s -C "$work/src" install \
	VERSION="$VERSION" CFLAGS="$cflags" CPPFLAGS="$cppflags" LDFLAGS="$ldflags" \
	DESTDIR="$stage" PREFIX=/usr SBINDIR=/usr/sbin MANDIR=/usr/share/man \
	SYSCONFDIR=/etc UNITDIR=/lib/systemd/system SYSUSERSDIR=/usr/lib/sysusers.d \
	EXAMPLESDIR=/usr/share/doc/$pkg/examples SNMPD_DROPIN=no >"$work/install.log"

# What Debian policy wants of the staged tree.
[[ ! -e $stage/etc/systemd ]] || die "the staged tree has files under /etc/systemd"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$stage/usr/sbin/hostflowd"
gzip -9n "$stage/usr/share/man/man8/hostflowd.8" "$stage/usr/share/man/man5/hostflowd.conf.5"
doc=$stage/usr/share/doc/$pkg
install -m 0644 "$here/copyright" "$doc/copyright"
gzip -9nc "$work/debian/changelog" >"$doc/changelog.Debian.gz"
chmod 0644 "$doc/changelog.Debian.gz"
install -D -m 0644 "$here/lintian-overrides" "$stage/usr/share/lintian/overrides/$pkg"

# Control area: maintainer scripts, conffiles, md5sums (conffiles have their
# own hashes in dpkg's database), control from dpkg-gencontrol.
install -d "$stage/DEBIAN"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
install -m 0644 "$here/conffiles" "$stage/DEBIAN/conffiles"
while read -r f; do
	[[ -f $stage$f ]] || die "conffile $f is not in the staged tree"
done <"$here/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print |
	LC_ALL=C sort | sed 's|^\./||' | xargs md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"
# Directories 0755 whatever the umask of the checkout was.
find "$stage" -type d -exec chmod 0755 {} +

cd "$work"
dpkg-shlibdeps -T"debian/$pkg.substvars" "debian/$pkg/usr/sbin/hostflowd"
dpkg-gencontrol -p"$pkg" -P"debian/$pkg" -T"debian/$pkg.substvars" -f"debian/files"

deb=$outdir/${pkg}_${deb_version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "debian/$pkg" "$deb" >/dev/null
echo "$deb"

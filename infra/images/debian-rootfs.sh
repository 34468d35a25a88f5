#!/usr/bin/env bash
# debian-rootfs.sh SUITE PACKAGES OUT.tar [EXPECT]
# Builds a minimal Debian root filesystem with debootstrap and packs it as a
# tarball for `docker import`. The mirror is read from this machine's apt
# sources at run time, and removed from the root filesystem before it is
# packed: no mirror host is written anywhere. EXPECT (package=version
# prefix, comma-separated) fails the build when the suite installed another
# version than the one pinned in versions.env.
set -euo pipefail
usage="usage: debian-rootfs.sh SUITE PACKAGES OUT.tar [EXPECT]"
suite=${1:?$usage}
packages=${2:?$usage}
out=${3:?$usage}
expect=${4:-}

mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "debian-rootfs: no Debian mirror found in the apt sources" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "debian-rootfs: debootstrap is not installed (make tools installs it)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/idstack-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "debootstrap $suite (+$packages) ..."
debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" "$mirror" >"$work/log" 2>&1 || {
  tail -n 30 "$work/log" >&2; exit 1; }
# Pinned versions: the suite is a dated snapshot here, so a mismatch means
# versions.env and the archive disagree.
for pin in ${expect//,/ }; do
  pkg=${pin%%=*} want=${pin#*=}
  got=$(dpkg-query --admindir="$work/root/var/lib/dpkg" -W -f='${Version}' "$pkg" 2>/dev/null || true)
  case "$got" in
    "$want"*) ;;
    *) echo "debian-rootfs: $pkg is '${got:-not installed}' in $suite, versions.env pins $want" >&2; exit 1 ;;
  esac
done
# postgresql-common made a default cluster for every server package it
# saw installed: the containers make their own.
if [ -f "$work/root/etc/postgresql-common/createcluster.conf" ]; then
  sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' "$work/root/etc/postgresql-common/createcluster.conf"
  rm -rf "$work/root"/etc/postgresql/*/main "$work/root"/var/lib/postgresql/*/main
fi
# The mirror debootstrap used is in the apt sources: drop them.
: >"$work/root/etc/apt/sources.list"
rm -f "$work/root"/etc/apt/sources.list.d/*
# Trim what no container here reads.
rm -rf "$work/root"/usr/share/{doc,man,info,locale} "$work/root"/var/cache/apt/* \
  "$work/root"/var/lib/apt/lists/* "$work/root"/var/log/*
mkdir -p "$(dirname "$out")"
tar -C "$work/root" --numeric-owner -cf "$out.tmp" .
mv "$out.tmp" "$out"
echo "rootfs: $(du -h "$out" | cut -f1) $out"

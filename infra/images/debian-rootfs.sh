#!/usr/bin/env bash
# debian-rootfs.sh SUITE PACKAGES OUT.tar
# Builds a minimal Debian root filesystem with debootstrap and packs it as a
# tarball for `docker import`. The mirror is read from this machine's apt
# sources at run time; no mirror host is written anywhere.
set -euo pipefail
suite=${1:?usage: debian-rootfs.sh SUITE PACKAGES OUT.tar}
packages=${2:?usage: debian-rootfs.sh SUITE PACKAGES OUT.tar}
out=${3:?usage: debian-rootfs.sh SUITE PACKAGES OUT.tar}

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
# Trim what no container here reads.
rm -rf "$work/root"/usr/share/{doc,man,info,locale} "$work/root"/var/cache/apt/* \
  "$work/root"/var/lib/apt/lists/* "$work/root"/var/log/*
mkdir -p "$(dirname "$out")"
tar -C "$work/root" --numeric-owner -cf "$out.tmp" .
mv "$out.tmp" "$out"
echo "rootfs: $(du -h "$out" | cut -f1) $out"

#!/usr/bin/env bash
# build.sh NAME OUT: builds server NAME from its locked module (tools/NAME) into
# OUT as a static binary (CGO_ENABLED=0, stripped), for FROM scratch images.
# Builds are kept in IDSTACK_TOOLS_CACHE (default ~/.cache/idstack/tools) under
# a hash of the lock and this script, so a fresh clone on a warm machine
# copies instead of compiling.
set -euo pipefail
name=${1:?usage: build.sh NAME OUT}; out=${2:?usage: build.sh NAME OUT}
here=$(cd "$(dirname "$0")" && pwd)
main=$("$here/mainpkg.sh" "$name")
[ -f "$here/$name/go.mod" ] || "$here/lock.sh" "$name"
version=$(awk -F= -v k="$(echo "$name" | tr '[:lower:]' '[:upper:]')_VERSION" '$1==k{print $2}' "$here/../versions.env")

key=$(cat "$here/$name/go.mod" "$here/$name/go.sum" "$0" "$here/mainpkg.sh" | sha256sum | cut -c1-16)
cache=${IDSTACK_TOOLS_CACHE:-$HOME/.cache/idstack/tools}
cached="$cache/$name-$key"
mkdir -p "$(dirname "$out")" "$cache"
if [ ! -x "$cached" ]; then
  start=$(date +%s)
  echo "building $name $version ($main) ..."
  # Kratos and Hydra report their version on /version when it is stamped in.
  ldflags="-s -w"
  case "$name" in
    kratos) ldflags="$ldflags -X github.com/ory/kratos/driver/config.Version=$version" ;;
    hydra) ldflags="$ldflags -X github.com/ory/hydra/v2/driver/config.Version=$version" ;;
  esac
  (cd "$here/$name" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$cached.tmp" "$main")
  mv "$cached.tmp" "$cached"
  echo "built $name $version in $(( $(date +%s) - start ))s"
fi
cp "$cached" "$out.tmp"
mv "$out.tmp" "$out"

#!/usr/bin/env bash
# build.sh OUT: builds Terraform from this directory's lock (see lock.sh) into
# OUT, with CGO_ENABLED=0 as HashiCorp's release builds have it.
set -euo pipefail
out=${1:?usage: build.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "-s -w" -o "$out" github.com/hashicorp/terraform

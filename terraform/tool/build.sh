#!/usr/bin/env bash
# build.sh OUT: builds Terraform from this directory's lock (see lock.sh) into
# OUT. CGO off and version.dev=no as in HashiCorp's release builds, so
# `terraform version` prints the release's version, not "-dev".
set -euo pipefail
out=${1:?usage: build.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
CGO_ENABLED=0 go build -mod=readonly -trimpath \
  -ldflags "-s -w -X github.com/hashicorp/terraform/version.dev=no" \
  -o "$out" github.com/hashicorp/terraform

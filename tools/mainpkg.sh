#!/usr/bin/env bash
# mainpkg.sh NAME: prints the import path of NAME's main package.
set -euo pipefail
case "${1:?usage: mainpkg.sh NAME}" in
  kratos) echo github.com/ory/kratos ;;
  hydra) echo github.com/ory/hydra/v2 ;;
  vault) echo github.com/hashicorp/vault ;;
  toxiproxy) echo github.com/Shopify/toxiproxy/v2/cmd/server ;;
  *) echo "mainpkg.sh: unknown tool $1" >&2; exit 2 ;;
esac

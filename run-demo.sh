#!/bin/sh
# Build sockmodel and show the classic BSD SO_REUSEADDR table under every
# OS profile side by side.
set -eu
cd "$(dirname "$0")"
./scripts/setup.sh
echo
exec ./cli/sockmodel run --profile all --explain scenarios/bsd/seed-table.scn

#!/bin/sh
# Build sockmodel and show the classic BSD SO_REUSEADDR table under every
# OS profile side by side (all twelve, macOS, iOS, OpenBSD, NetBSD, FreeBSD 13
# and Solaris 11.4 included; each column's expected results and their sources
# are in the scenario file).
set -eu
cd "$(dirname "$0")"
./scripts/setup.sh
echo
exec ./cli/sockmodel run --profile all --explain scenarios/bsd/seed-table.scn

#!/bin/sh
# scripts/teaching-drawings.sh - redraws the pictures of docs/teaching.md
# (docs/teaching/*.svg) from the scenarios they show.  Run it after a change
# to the drawing or to one of these scenarios, and commit the result.
#
#   scripts/teaching-drawings.sh [SOCKMODEL [OUTDIR]]
#       (defaults: cli/sockmodel, docs/teaching; tests/teaching-drawings.sh
#       draws into a scratch OUTDIR and compares it with docs/teaching)
set -eu
sm=${1:-cli/sockmodel}
case $sm in /*) ;; *) sm="$PWD/$sm" ;; esac
out=${2:-docs/teaching}
case $out in /*) ;; *) out="$PWD/$out" ;; esac
cd "$(dirname "$0")/.."
mkdir -p "$out"
draw() { # scenario profile name
    "$sm" run --profile "$2" --svg "$out/$3.svg" "scenarios/$1" >/dev/null || [ $? -eq 1 ]
}
draw teaching/wildcard-vs-specific.scn linux wildcard-vs-specific.linux
draw teaching/wildcard-vs-specific.scn bsd wildcard-vs-specific.bsd
draw teaching/server-cannot-rebind.scn windows server-cannot-rebind.windows
draw teaching/port-hijack.scn windows-classic port-hijack.windows-classic
draw teaching/port-hijack.scn windows port-hijack.windows
draw teaching/reuseport-spread.scn linux reuseport-spread.linux
draw tcp/server-restart.scn linux server-restart.linux
draw tcp/linger.scn linux linger.linux
[ -n "${2:-}" ] || ls -la "$out"

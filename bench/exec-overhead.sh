#!/bin/sh
# exec-overhead.sh - what `sockmodel exec` costs the program it observes.
#
# A loopback request loop (tests/programs/prog_net: N sequential TCP
# requests against a server that serves N, each connection a socket,
# connect, write, read to end of stream, close on both sides: about 14
# observed calls per request) run bare and under `sockmodel exec`
# mirroring PROFILES (default the six original ones: bsd, linux-3.8,
# linux, windows-classic, windows, solaris; PROFILES=all for twelve), in a
# private network namespace.  ROUNDS pairs (default 5), each a bare run
# and an observed run back to back (which goes first alternates): the
# machine may be shared, so each pair's ratio is taken and the median of
# the pairs' ratios is the result.  Prints the loop's own time (the
# slowdown the program sees, wall and CPU), each pair, the medians, the
# ratio and whether it meets the 1.3x target, and the whole
# `sockmodel exec` wall time (the program plus the mirroring after it).
#
# usage: bench/exec-overhead.sh [N]   (default 10000; run from the build tree)
set -eu
N=${1:-10000}
top=$(cd "$(dirname "$0")/.." && pwd)
SM=${SOCKMODEL:-$top/cli/sockmodel}
PROG=${PROG_NET:-$top/tests/programs/prog_net}
if [ -z "${SM_IN_NETNS:-}" ]; then
    [ "$(id -u)" = 0 ] || { echo "needs root (a private network namespace)"; exit 77; }
    SM_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
run() { # PORT: prints the loop's seconds
    "$PROG" server "$1" 1 "$N" plain >/dev/null & s=$!
    "$PROG" loop "$1" "$N"
    wait $s
}
ROUNDS=${ROUNDS:-5}
PROFILES=${PROFILES:-bsd,linux-3.8,linux,windows-classic,windows,solaris}
bare() { run $1; }
observed() { # PORT: the loop's seconds and CPU, then exec's whole wall time
    t0=$(date +%s.%N)
    line=$("$SM" exec --profile "$PROFILES" -- sh -c "$PROG server $1 1 $N plain >/dev/null & $PROG loop $1 $N; wait" | sed -n 1p)
    t1=$(date +%s.%N)
    echo "$line $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}
pairs=$(mktemp)
trap 'rm -f "$pairs"' EXIT
i=0
while [ $i -lt "$ROUNDS" ]; do
    p1=$((7101 + 2 * i)) p2=$((7102 + 2 * i))
    if [ $((i % 2)) = 0 ]; then
        b=$(bare $p1); o=$(observed $p2)
    else
        o=$(observed $p2); b=$(bare $p1)
    fi
    # each run must have printed its two numbers (a failed run is no pair)
    set -- $b $o
    [ $# = 5 ] || { echo "round $((i + 1)): a run failed (bare: '$b', exec: '$o')" >&2; exit 1; }
    echo "$b $o" >>"$pairs"
    i=$((i + 1))
done
# columns: bare wall, bare CPU, exec loop wall, exec loop CPU, exec total wall
awk -v n="$N" -v r="$ROUNDS" -v prof="$PROFILES" '
function median(a, k,   i, j, t) {
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ k++; bw[k] = $1; bc[k] = $2; ow[k] = $3; oc[k] = $4; tw[k] = $5
  rw[k] = $3 / $1; rc[k] = $4 / $2
  printf "pair %d: bare %.3f s wall %.3f s CPU, under exec %.3f s wall %.3f s CPU: %.2fx wall, %.2fx CPU\n", k, $1, $2, $3, $4, rw[k], rc[k] }
END {
  printf "requests:              %d, %d pairs, profiles %s\n", n, r, prof
  printf "median bare loop:      %.3f s wall, %.3f s CPU\n", median(bw, k), median(bc, k)
  printf "median loop under exec: %.3f s wall, %.3f s CPU\n", median(ow, k), median(oc, k)
  mw = median(rw, k); mc = median(rc, k)
  printf "ratio (program, wall): %.2fx (median of the pairs; target 1.30x: %s)\n", mw, mw <= 1.30 ? "met" : "missed"
  printf "ratio (program, CPU):  %.2fx (median of the pairs)\n", mc
  printf "sockmodel exec wall:   %.2f s median (program + mirroring)\n", median(tw, k)
}' "$pairs"

#!/bin/sh
# exec-overhead.sh - what `sockmodel exec` costs the program it observes.
#
# A loopback request loop (tests/programs/prog_net: N sequential TCP
# requests against a server that serves N, each connection a socket,
# connect, write, read to end of stream, close on both sides: about 14
# observed calls per request) run bare and under `sockmodel exec` with
# every profile (all) mirrored, in a private network namespace (three rounds,
# the fastest of each kept: ROUNDS=N to change).  Prints the
# loop's own time both ways and their ratio (the slowdown the program
# sees), and the whole `sockmodel exec` wall time (the program plus the
# mirroring into the models after it ended).
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
# ROUNDS rounds (default 3), alternating, the fastest of each kept (the
# machine may be shared: wall times are noisy, CPU times less so).
ROUNDS=${ROUNDS:-3}
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
bw= bc= uw= uc= wall=
i=0
while [ $i -lt "$ROUNDS" ]; do
    set -- $(run $((7101 + 2 * i)))
    bw=$(best "$bw" "$1"); bc=$(best "$bc" "$2")
    t0=$(date +%s.%N)
    set -- $("$SM" exec --profile all -- sh -c "$PROG server $((7102 + 2 * i)) 1 $N plain >/dev/null & $PROG loop $((7102 + 2 * i)) $N; wait" | sed -n 1p)
    t1=$(date +%s.%N)
    uw=$(best "$uw" "$1"); uc=$(best "$uc" "$2")
    wall=$(best "$wall" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
    i=$((i + 1))
done
echo "requests:              $N (best of $ROUNDS rounds)"
echo "bare loop:             ${bw} s wall, ${bc} s CPU"
echo "loop under exec:       ${uw} s wall, ${uc} s CPU"
awk -v a="$bw" -v b="$uw" 'BEGIN { printf "ratio (program, wall): %.2fx\n", b / a }'
awk -v a="$bc" -v b="$uc" 'BEGIN { printf "ratio (program, CPU):  %.2fx\n", b / a }'
awk -v w="$wall" 'BEGIN { printf "sockmodel exec wall:   %.2f s (program + mirroring under every profile)\n", w }'

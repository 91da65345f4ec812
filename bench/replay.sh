#!/bin/sh
# replay.sh - the speed benchmark of `sockmodel replay` (issue 5).
#
#   bench/replay.sh [--packets N] [--runs R] [--build DIR] [--no-tshark]
#
# DIR is a configured build tree with cli/sockmodel and the bench tools
# (`make replay-bench-tools` builds bench/gen_capture and bench/pcap_floor);
# default: the current directory.  The script writes a capture of N packets
# (default 10000000) with bench/gen_capture to a temporary directory under
# ${TMPDIR:-/tmp} (about 380 bytes per packet), then times, R times each
# (default 5), the median wall-clock time of:
#   baseline  bench/pcap_floor: a bare libpcap loop that only reads records
#   model     sockmodel replay --profile linux --no-connections (the default
#             --threads: 2 on a machine with 2+ cores, a read-ahead thread)
#   model1    the same with --threads 1 (one thread, as the floor)
#   model2    sockmodel replay --profile linux,windows --no-connections
#   full      sockmodel replay --profile linux (with the connection list,
#             to /dev/null)
#   tshark    tshark -q -z conv,tcp (once; it is slow), if installed
# and prints, for the targets of issue 5:
#   replay  model MEDIAN s  baseline MEDIAN s (bare libpcap loop)  ratio X  target <=1.5x MET|MISSED
#   replay  tshark MEDIAN s  model MEDIAN s  speedup X  target >=20x MET|MISSED
# plus the one-thread ratio and, with GNU time installed (/usr/bin/time),
# the CPU time (user + system) of the median-length runs: the read-ahead
# thread saves wall-clock time only, the CPU ratio says what it costs.
# Exit 0 (the figures are the result), 2 on a setup error.
set -u

packets=10000000
runs=5
build=.
tshark_on=1
while [ $# -gt 0 ]; do
    case $1 in
    --packets) packets=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --no-tshark) tshark_on=0; shift ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "replay.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

sm=$build/cli/sockmodel
gen=$build/bench/gen_capture
floor=$build/bench/pcap_floor
for x in "$sm" "$gen" "$floor"; do
    [ -x "$x" ] || { echo "replay.sh: $x missing (make replay-bench-tools in $build)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-replay-bench.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM
cap=$tmp/capture.pcap
"$gen" --packets "$packets" --out "$cap" >/dev/null || { echo "replay.sh: gen_capture failed" >&2; exit 2; }

gnutime=
[ -x /usr/bin/time ] && /usr/bin/time -f %U true >/dev/null 2>&1 && gnutime=/usr/bin/time

# seconds CMD...: "WALL CPU" seconds of one run (output discarded; CPU "-"
# without GNU time)
seconds() {
    _s=$(date +%s.%N)
    if [ -n "$gnutime" ]; then
        "$gnutime" -f '%U %S' -o "$tmp/cpu" "$@" >/dev/null 2>&1 || { echo "replay.sh: failed: $*" >&2; exit 2; }
        _c=$(awk '{printf "%.3f", $1 + $2}' "$tmp/cpu")
    else
        "$@" >/dev/null 2>&1 || { echo "replay.sh: failed: $*" >&2; exit 2; }
        _c=-
    fi
    _e=$(date +%s.%N)
    echo "$_s $_e $_c" | awk '{printf "%.3f %s\n", $2 - $1, $3}'
}

# median CMD...: R runs; prints the median wall time, and sets cpu_of_median
# (in $tmp/median_cpu) to that run's CPU time
median() {
    _i=0
    : >"$tmp/times"
    while [ $_i -lt "$runs" ]; do
        seconds "$@" >>"$tmp/times" || exit 2
        _i=$((_i + 1))
    done
    sort -n "$tmp/times" | awk '{w[NR] = $1; c[NR] = $2} END {m = int((NR + 1) / 2); print c[m] > "'"$tmp"'/median_cpu"; print w[m]}'
}

# warm the page cache once
cat "$cap" >/dev/null
base=$(median "$floor" "$cap"); base_cpu=$(cat "$tmp/median_cpu")
model=$(median "$sm" replay --profile linux --no-connections "$cap"); model_cpu=$(cat "$tmp/median_cpu")
model1=$(median "$sm" replay --threads 1 --profile linux --no-connections "$cap"); model1_cpu=$(cat "$tmp/median_cpu")
model2=$(median "$sm" replay --profile linux,windows --no-connections "$cap")
full=$(median "$sm" replay --profile linux "$cap")

verdict() { # ratio op target
    awk -v r="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == "le") ? (r <= t) : (r >= t); print ok ? "MET" : "MISSED" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }

echo "replay benchmark: $packets packets ($(ls -l "$cap" | awk '{print $5}') bytes), median of $runs runs"
r=$(ratio "$model" "$base")
echo "replay  model $model s  baseline $base s (bare libpcap loop)  ratio ${r}x  target <=1.5x $(verdict "$r" le 1.5)"
r1=$(ratio "$model1" "$base")
echo "replay  model (--threads 1) $model1 s  baseline $base s (bare libpcap loop)  ratio ${r1}x  (one thread, as the floor)"
if [ -n "$gnutime" ]; then
    echo "replay  CPU time (user+system) of those runs: floor $base_cpu s, model $model_cpu s ($(ratio "$model_cpu" "$base_cpu")x), --threads 1 $model1_cpu s ($(ratio "$model1_cpu" "$base_cpu")x)"
fi
r2=$(ratio "$model2" "$base")
echo "replay  model (linux,windows) $model2 s  baseline $base s (bare libpcap loop)  ratio ${r2}x  target <=1.5x $(verdict "$r2" le 1.5)"
r3=$(ratio "$full" "$base")
echo "replay  model (with connection list) $full s  baseline $base s (bare libpcap loop)  ratio ${r3}x  (no target)"
if [ "$tshark_on" = 1 ] && command -v tshark >/dev/null 2>&1; then
    ts=$(seconds tshark -n -r "$cap" -q -z conv,tcp | cut -d' ' -f1) || exit 2
    s=$(ratio "$ts" "$model")
    echo "replay  tshark $ts s  model $model s  speedup ${s}x  target >=20x $(verdict "$s" ge 20)"
else
    echo "replay  tshark not run (not installed or --no-tshark)"
fi
exit 0

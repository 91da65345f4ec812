#!/bin/sh
# compare.sh - two builds of a program on one command line: which is faster,
# by how much.  The two run in alternating rounds (old, new, old, new...), so
# that other load and the machine's drift fall on both; each run is timed
# as a whole process by bench/ptime (bench/ptime.c).  Each run's standard
# output goes to a file that is removed right after it (a report written to
# a file, as a user writes it, without its writeback falling on the next
# run).  Prints each build's median wall and CPU time and the median of
# the per-round ratios new/old: below 1, the new build is faster.
#
#   bench/compare.sh [--rounds N] OLD NEW ARG...
#
#   bench/compare.sh --rounds 61 /tmp/old/cli/sockmodel cli/sockmodel \
#       replay --profile all /tmp/c20k.pcap
#
# Exit: 0; 2 for bad use or a run that failed.
set -u
rounds=31
[ "${1:-}" = --rounds ] && { rounds=$2; shift 2; }
[ $# -ge 3 ] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
old=$1 new=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-compare.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM
${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -o "$tmp/ptime" "$here/ptime.c" ||
    { echo "compare.sh: bench/ptime.c does not compile" >&2; exit 2; }
: >"$tmp/t"
run() { # TAG BINARY ARG...: one timed run; appends "TAG WALL CPU" to $tmp/t
    _t=$1; shift
    "$tmp/ptime" "$tmp/cpu" "$@" >"$tmp/out" 2>"$tmp/err" ||
        { echo "compare.sh: $1 failed: $(tail -1 "$tmp/err")" >&2; exit 2; }
    rm -f "$tmp/out"
    awk -v t="$_t" '{print t, $1, $2}' "$tmp/cpu" >>"$tmp/t"
}
run old "$old" "$@" && run new "$new" "$@" # warm-up, not counted
: >"$tmp/t"
i=0
while [ $i -lt "$rounds" ]; do
    run old "$old" "$@"
    run new "$new" "$@"
    i=$((i + 1))
done
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
med() { awk -v t="$1" -v c="$2" '$1 == t {print $c}' "$tmp/t" | median; }
pmed() { # column: median over the rounds of new/old
    awk -v c="$1" '$1 == "old" {o[++no] = $c} $1 == "new" {n[++nn] = $c}
        END {for (i = 1; i <= no && i <= nn; i++) if (o[i] > 0) print n[i] / o[i]}' "$tmp/t" | median
}
printf 'compare: %s rounds of: %s\n' "$rounds" "$*"
printf '  old %s: wall %.4fs, CPU %.4fs (medians)\n' "$old" "$(med old 2)" "$(med old 3)"
printf '  new %s: wall %.4fs, CPU %.4fs (medians)\n' "$new" "$(med new 2)" "$(med new 3)"
printf '  new/old, median of the per-round ratios: wall %.3fx, CPU %.3fx  [load %s]\n' \
    "$(pmed 2)" "$(pmed 3)" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo -)"

#!/bin/sh
# replay-memory.sh - `sockmodel replay`'s memory is bounded by the live
# connections, not by the capture (issue 22).
#
#   bench/replay-memory.sh [--build DIR] [--gap US] [N...]
#
# For each N (default 100000 1000000 10000000) bench/gen_capture --short N
# writes N connections of 10 packets each, --gap US (default 1000)
# microseconds more between frames, so that the connections are spread over
# N/100 s of capture time and their TIME_WAITs end while it runs; the
# capture is streamed through a pipe into `sockmodel replay -` (the default
# report, connection list included, to a pipe), never written to disk.  GNU
# time gives the replay's peak RSS.  Prints, per N:
#   replay-memory  N connections  peak RSS KB  records held at most  wall s
# DIR: a configured build tree with cli/sockmodel and bench/gen_capture
# (`make replay-bench-tools`); default: the current directory.  10^7
# connections are 10^8 packets: about 3 minutes on one free core.
# Exit 0 (the figures are the result), 2 on a setup error.
set -u
build=.
gap=1000
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --gap) gap=$2; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "replay-memory.sh: unknown argument $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -gt 0 ] || set -- 100000 1000000 10000000
sm=$build/cli/sockmodel
gen=$build/bench/gen_capture
for x in "$sm" "$gen"; do
    [ -x "$x" ] || { echo "replay-memory.sh: $x missing (make replay-bench-tools in $build)" >&2; exit 2; }
done
/usr/bin/time -f %M true >/dev/null 2>&1 || { echo "replay-memory.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-replay-mem.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM
for n in "$@"; do
    "$gen" --short "$n" --gap "$gap" --out - 2>"$tmp/gen.err" |
        /usr/bin/time -f "%M %e" -o "$tmp/time" "$sm" replay - |
        grep '^summary:' >"$tmp/summary"
    [ -s "$tmp/summary" ] || { echo "replay-memory.sh: N=$n: no summary"; cat "$tmp/gen.err"; exit 2; }
    held=$(sed -n 's/.*at most \([0-9]*\) records held at once.*/\1/p' "$tmp/summary")
    read -r rss wall <"$tmp/time"
    echo "replay-memory  $n connections  peak RSS $rss KB  records held at most $held  wall $wall s"
done

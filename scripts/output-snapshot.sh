#!/bin/sh
# scripts/output-snapshot.sh - what users see, as files: every scenario under
# SCENARIO_DIR run by PROGRAM in each output mode (the table, --explain,
# --json, and --profile all), stdout, stderr and exit status, plus the
# profile list, a probe table and a replay report of a generated capture.
# Two trees' snapshots compared with `diff -r` prove a refactoring changed
# nothing users see (issue 14 runs it at every step).
#
#   scripts/output-snapshot.sh PROGRAM SCENARIO_DIR OUTDIR
set -u
prog=${1:?program} dir=${2:?scenario dir} out=${3:?output dir}
mkdir -p "$out"
n=0
for f in $(cd "$dir" && find . -name '*.scn' | LC_ALL=C sort); do
    name=$(echo "$f" | sed 's|^\./||; s|/|__|g')
    for mode in table explain json all; do
        case $mode in
            table) set -- run ;;
            explain) set -- run --explain ;;
            json) set -- run --json ;;
            all) set -- run --profile all --explain ;;
        esac
        (cd "$dir" && "$prog" "$@" "$f" >"$out/$name.$mode.out" 2>"$out/$name.$mode.err"
         echo "exit $?" >>"$out/$name.$mode.out")
        n=$((n + 1))
    done
done
"$prog" profiles >"$out/profiles.out" 2>&1; echo "exit $?" >>"$out/profiles.out"
"$prog" probe >"$out/probe.out" 2>&1; echo "exit $?" >>"$out/probe.out"
"$prog" gen --seed 7 --count 3 >"$out/gen.out" 2>&1; echo "exit $?" >>"$out/gen.out"
# The drawing and the capture of a TCP scenario, and the capture replayed.
tmp=$(mktemp -d) || exit 2
for f in tcp/close-orders.scn replay/closes.scn replay/reuse.scn; do
    [ -f "$dir/$f" ] || continue
    name=$(echo "$f" | sed 's|/|__|g')
    (cd "$dir" && "$prog" run --profile linux --pcap "$tmp/c.pcap" --svg "$out/$name.svg" "$f" >/dev/null 2>&1)
    for rep in "" "--json" "--csv"; do
        (cd "$tmp" && "$prog" replay --profile all $rep c.pcap) >"$out/$name.replay$rep.out" 2>&1
        echo "exit $?" >>"$out/$name.replay$rep.out"
    done
done
rm -rf "$tmp"
echo "output-snapshot: $n runs of $(cd "$dir" && find . -name '*.scn' | wc -l) scenarios into $out"

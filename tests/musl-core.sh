#!/bin/sh
# tests/musl-core.sh - the portable core built with musl (musl-gcc, Debian
# musl-tools) gives the same bytes as the glibc build.
#
# Builds util/, engine/, profiles/, sockapi/, scenario/, gen/, observe/,
# trace/, exec/ (not its preload shim), render's SVG and HTML writers and the
# sockmodel program without libpcap (render/pcap_none.c,
# cli/cmd_replay_none.c) straight from the sources with musl-gcc, then runs
# every scenario under SCENARIO_DIR with both programs in each output mode
# (the table, --explain, --json, --profile all) and compares stdout, stderr
# and the exit status byte for byte; also `profiles`, `probe`, `gen` and an
# SVG drawing.
#
# The core must not include a Linux header: a file of those folders that
# does fails the test.  hostkernel/ (the real-kernel backend, Linux only) is
# left out: the core must link without it (the program then says `host` is
# not available), and `probe` is compared over the models (--profile all).
#
#   SOCKMODEL=cli/sockmodel SCENARIO_DIR=scenarios tests/musl-core.sh [SRCDIR]
#
# Exit: 0 same bytes, 1 a difference or a core file with a Linux header,
# 77 skipped (no musl-gcc), 99 the musl build failed or broken setup.
set -u
: "${SOCKMODEL:?set SOCKMODEL to the glibc-built sockmodel}"
: "${SCENARIO_DIR:?set SCENARIO_DIR to the scenario directory}"
srcdir=${1:-${TESTS_DIR:-$(dirname "$0")}/..}
MUSL_CC=${MUSL_CC:-musl-gcc}

if ! command -v "$MUSL_CC" >/dev/null 2>&1; then
    echo "SKIP: $MUSL_CC is not installed (Debian: apt-get install musl-tools)"
    exit 77
fi
[ -x "$SOCKMODEL" ] || { echo "musl-core: no program $SOCKMODEL"; exit 99; }
[ -f "$srcdir/engine/sm.h" ] || { echo "musl-core: no sources in $srcdir"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-musl.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
status=0

# ---- the sources -----------------------------------------------------------
core_dirs="util engine profiles sockapi scenario gen observe trace exec pkt"
srcs= incs="-I$srcdir/include -I$srcdir/render -I$srcdir/cli"
for d in $core_dirs; do
    [ -d "$srcdir/$d" ] || continue
    for f in "$srcdir"/$d/*.c; do
        case $f in */sm_preload.c) continue ;; esac # exec's preload shim: a library of its own
        srcs="$srcs $f"
    done
    incs="$incs -I$srcdir/$d"
done
srcs="$srcs $srcdir/render/svg_out.c $srcdir/render/pcap_none.c"
[ -f "$srcdir/render/html_out.c" ] && srcs="$srcs $srcdir/render/html_out.c"
for f in "$srcdir"/cli/*.c; do
    case $f in */cmd_replay.c) continue ;; esac # needs libpcap
    srcs="$srcs $f"
done

linux_hdr=$(grep -l '^[[:space:]]*#[[:space:]]*include[[:space:]]*<linux/' $srcs 2>/dev/null)
if [ -n "$linux_hdr" ]; then
    echo "FAIL: the portable core includes Linux headers:"
    echo "$linux_hdr" | sed "s|^$srcdir/|  |"
    status=1
fi

# ---- the build -------------------------------------------------------------
build() { # OUTPUT SOURCES...: compile and link with musl
    out=$1; shift
    # shellcheck disable=SC2086 # word splitting intended
    "$MUSL_CC" -std=c11 -O2 -Wall -Wextra $incs $extra "$@" -o "$out" 2>"$out.log"
}
extra=
build "$tmp/sockmodel-musl" $srcs
if [ ! -x "$tmp/sockmodel-musl" ]; then
    echo "FAIL: the musl build failed:"
    head -30 "$tmp/sockmodel-musl.log"
    exit 99
fi
musl=$tmp/sockmodel-musl

# ---- the same bytes --------------------------------------------------------
runs=0 diffs=0
compare() { # NAME ARGS...: run both programs in SCENARIO_DIR, compare
    name=$1; shift
    (cd "$SCENARIO_DIR" && "$SOCKMODEL" "$@" >"$tmp/g.out" 2>"$tmp/g.err"; echo "exit $?" >>"$tmp/g.out")
    (cd "$SCENARIO_DIR" && "$musl" "$@" >"$tmp/m.out" 2>"$tmp/m.err"; echo "exit $?" >>"$tmp/m.out")
    runs=$((runs + 1))
    if ! cmp -s "$tmp/g.out" "$tmp/m.out" || ! cmp -s "$tmp/g.err" "$tmp/m.err"; then
        diffs=$((diffs + 1))
        echo "FAIL $name: musl and glibc builds differ"
        diff "$tmp/g.out" "$tmp/m.out" | head -8
        diff "$tmp/g.err" "$tmp/m.err" | head -4
        status=1
    fi
}
nscn=0
for f in $(cd "$SCENARIO_DIR" && find . -name '*.scn' | LC_ALL=C sort); do
    nscn=$((nscn + 1))
    compare "$f (table)" run "$f"
    compare "$f (--explain)" run --explain "$f"
    compare "$f (--json)" run --json "$f"
    compare "$f (--profile all)" run --profile all --explain "$f"
done
compare "profiles" profiles
compare "probe (the models)" probe --profile all
compare "gen" gen --seed 7 --count 3
if [ -f "$SCENARIO_DIR/tcp/close-orders.scn" ]; then
    (cd "$SCENARIO_DIR" && "$SOCKMODEL" run --profile linux --svg "$tmp/g.svg" tcp/close-orders.scn >/dev/null 2>&1)
    (cd "$SCENARIO_DIR" && "$musl" run --profile linux --svg "$tmp/m.svg" tcp/close-orders.scn >/dev/null 2>&1)
    runs=$((runs + 1))
    cmp -s "$tmp/g.svg" "$tmp/m.svg" || { echo "FAIL svg: the drawings differ"; diffs=$((diffs + 1)); status=1; }
fi
echo "musl-core: $nscn scenarios, $runs runs compared, $diffs difference(s)"
exit $status

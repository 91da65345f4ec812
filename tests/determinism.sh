#!/bin/sh
# determinism.sh - checks the determinism contract of the scenario language
# ("the same file under the same profile gives the same result, byte for
# byte, every time"): every scenario under $SCENARIO_DIR is run twice in
# each output mode (the table, --explain, --json) and the two outputs and
# exit statuses must be identical.  The second run changes what must not
# matter: the working directory, the locale, the time zone, and glibc's
# MALLOC_PERTURB_ (fresh and freed heap memory filled with a byte pattern,
# so output that depends on uninitialised or freed memory changes).
# Addresses differ between the runs anyway (ASLR), which catches output
# that depends on pointer values or on hash order.
#
#   SOCKMODEL=cli/sockmodel SCENARIO_DIR=scenarios tests/determinism.sh
#   tests/determinism.sh --builds SRCDIR [CC_LIBS]
#
# With --builds the script also compiles the sources of SRCDIR (every
# library folder and cli/) with gcc -O0, gcc -O2 and clang -O2 into three
# programs in a temporary directory and checks that they and $SOCKMODEL
# print the same bytes for every scenario and mode (compilers and
# optimisation must not change a result: no undefined or unspecified
# behaviour reaches the output).  CC_LIBS: extra libraries to link
# (e.g. -lpcap).  A compiler that is not installed is reported and skipped.
#
# Exit status: 0 all outputs identical, 1 a difference (shown with diff),
# 2 a wrong setup (no program, no scenarios, a build that failed).
set -u
: "${SOCKMODEL:?set SOCKMODEL to the sockmodel program}"
: "${SCENARIO_DIR:?set SCENARIO_DIR to the scenario directory}"

builds=no srcdir= cc_libs=
if [ "${1:-}" = "--builds" ]; then
    builds=yes
    srcdir=${2:?--builds needs the source directory}
    cc_libs=${3:-}
fi

case $SOCKMODEL in /*) ;; *) SOCKMODEL=$(pwd)/$SOCKMODEL ;; esac
case $SCENARIO_DIR in /*) ;; *) SCENARIO_DIR=$(pwd)/$SCENARIO_DIR ;; esac
[ -x "$SOCKMODEL" ] || { echo "determinism: no program $SOCKMODEL"; exit 2; }

files=$(find "$SCENARIO_DIR" -name '*.scn' | LC_ALL=C sort)
[ -n "$files" ] || { echo "determinism: no scenarios under $SCENARIO_DIR"; exit 2; }
nfiles=$(printf '%s\n' "$files" | wc -l | tr -d ' ')

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-determinism.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM
mkdir "$tmp/elsewhere"

# run PROG OUT FILE MODE...: output and exit status of one run into OUT.
run() {
    prog=$1 out=$2 f=$3
    shift 3
    "$prog" run "$@" "$f" >"$out" 2>&1
    echo "exit status $?" >>"$out"
}

status=0 compared=0

# same DESCRIPTION A B: A and B must be identical.
same() {
    compared=$((compared + 1))
    if ! cmp -s "$2" "$3"; then
        echo "FAIL $1"
        diff "$2" "$3" | head -20
        status=1
    fi
}

# ---- 1. the same program twice ---------------------------------------------
echo "determinism: $nfiles scenarios x (table, --explain, --json), each run twice"
for f in $files; do
    rel=${f#"$SCENARIO_DIR"/}
    for mode in table --explain --json; do
        opt=$mode
        [ "$mode" = table ] && opt=
        # Run 1: as make check runs it.
        (cd "$SCENARIO_DIR" && run "$SOCKMODEL" "$tmp/a" "$f" $opt)
        # Run 2: another directory, locale, time zone and heap pattern.
        (cd "$tmp/elsewhere" &&
         export LC_ALL=C.UTF-8 TZ=Pacific/Chatham MALLOC_PERTURB_=165 &&
         run "$SOCKMODEL" "$tmp/b" "$f" $opt)
        same "$rel ($mode): two runs differ" "$tmp/a" "$tmp/b"
    done
done
# All files in one run: one world per file, nothing carried over.
(cd "$SCENARIO_DIR" && "$SOCKMODEL" run --json $files >"$tmp/a" 2>&1)
(cd "$tmp/elsewhere" && export MALLOC_PERTURB_=90 &&
 "$SOCKMODEL" run --json $files >"$tmp/b" 2>&1)
same "all files in one --json run: two runs differ" "$tmp/a" "$tmp/b"
echo "determinism: $compared pairs of outputs compared"

# ---- 2. three compilers and optimisation levels ----------------------------
if [ "$builds" = yes ]; then
    layers="util engine profiles sockapi scenario hostkernel gen render replay trace observe exec pkt cli"
    srcs= incs="-I$srcdir/include"
    # With libpcap (CC_LIBS names it) the pcap writer and the replay;
    # without, their stand-ins (*_none.c) and no replay/.
    case $cc_libs in *pcap*) pcap=yes ;; *) pcap=no ;; esac
    for d in $layers; do
        for f in "$srcdir"/$d/*.c; do
            # exec/sm_preload.c is the preload library, not the program
            case $f in */exec/sm_preload.c) continue ;; esac
            case $pcap,$f in
                yes,*_none.c | no,*/replay/*.c | no,*/pcap_out.c | no,*/cmd_replay.c) continue ;;
            esac
            srcs="$srcs $f"
        done
        incs="$incs -I$srcdir/$d"
    done
    progs=
    for build in "gcc -O0" "gcc -O2" "clang -O2"; do
        set -- $build
        cc=$1 opt=$2
        name=sockmodel-$cc$opt
        if ! command -v "$cc" >/dev/null 2>&1; then
            echo "determinism: $cc not installed, build '$build' skipped"
            continue
        fi
        # shellcheck disable=SC2086 # word splitting intended
        if ! $cc -std=c11 $opt $incs $srcs -o "$tmp/$name" $cc_libs \
                2>"$tmp/$name.log"; then
            echo "determinism: build '$build' failed:"
            head -20 "$tmp/$name.log"
            exit 2
        fi
        echo "determinism: built $name ($cc -std=c11 $opt)"
        progs="$progs $name"
    done
    if [ -z "$progs" ]; then # nothing to compare is not a pass
        echo "determinism: SKIP: none of gcc and clang is installed: no build compared"
        exit 77
    fi
    cmp_before=$compared
    for f in $files; do
        rel=${f#"$SCENARIO_DIR"/}
        for mode in table --explain --json; do
            opt=$mode
            [ "$mode" = table ] && opt=
            (cd "$SCENARIO_DIR" && run "$SOCKMODEL" "$tmp/ref" "$f" $opt)
            for p in $progs; do
                (cd "$SCENARIO_DIR" && run "$tmp/$p" "$tmp/out" "$f" $opt)
                same "$rel ($mode): $p differs from $SOCKMODEL" \
                    "$tmp/ref" "$tmp/out"
            done
        done
    done
    "$SOCKMODEL" profiles >"$tmp/ref" 2>&1
    for p in $progs; do
        "$tmp/$p" profiles >"$tmp/out" 2>&1
        same "profiles: $p differs" "$tmp/ref" "$tmp/out"
    done
    echo "determinism: $((compared - cmp_before)) outputs of$progs" \
         "compared with $(basename "$SOCKMODEL")"
fi

[ "$status" -eq 0 ] && echo "determinism: all $compared comparisons identical"
exit $status

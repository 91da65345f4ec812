#!/bin/sh
# valgrind.sh - runs the unit-test programs and the sockmodel program under
# valgrind (memcheck) and fails on any memory error or definite/indirect
# leak.  Called by `make check-valgrind` (fuzz/fuzz.am):
#
#   SOCKMODEL=cli/sockmodel SCENARIO_DIR=scenarios TESTS_DIR=tests \
#       tests/valgrind.sh [CHECK_PROGRAM...]
#
# What runs under valgrind:
#   - each CHECK_PROGRAM (Check unit tests) with CK_FORK=no, so the tests
#     run in the process valgrind watches, not in forked children;
#   - `sockmodel run FILE` for every scenario under $SCENARIO_DIR (must exit
#     0: every expectation met), then all of them at once with --explain and
#     with --json;
#   - every regression input under $TESTS_DIR/regress (exit 0 or 1: the
#     program ran; their expectations are not the point) and every bad
#     input under $TESTS_DIR/bad (must exit 2: a parse error);
#   - `sockmodel check`, `profiles`, `--help`, `--version` and a wrong
#     command line.
# valgrind's own error exit status is 97, so that it cannot be mistaken for
# sockmodel's 1 (an expectation not met) or 2 (a bad file).
#
# Exit status: 0 clean, 1 at least one error or unexpected exit status,
# 2 valgrind or the program missing.
set -u
: "${SOCKMODEL:?set SOCKMODEL to the sockmodel program}"
: "${SCENARIO_DIR:?set SCENARIO_DIR to the scenario directory}"
TESTS_DIR=${TESTS_DIR:-$(dirname "$0")}
VALGRIND=${VALGRIND:-valgrind}
VG_ERR=97

command -v "$VALGRIND" >/dev/null 2>&1 ||
    { echo "valgrind.sh: $VALGRIND not found (Debian: apt-get install valgrind)"; exit 2; }
[ -x "$SOCKMODEL" ] || { echo "valgrind.sh: no program $SOCKMODEL"; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-valgrind.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

status=0 runs=0

# vg WANT DESCRIPTION COMMAND...: run COMMAND under memcheck; its exit
# status must be one of WANT ("0", "0|1", "2").
vg() {
    want=$1 what=$2
    shift 2
    runs=$((runs + 1))
    "$VALGRIND" -q --error-exitcode=$VG_ERR --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
        --track-origins=yes --log-file="$tmp/vg.log" "$@" >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" -eq $VG_ERR ] || [ -s "$tmp/vg.log" ]; then
        echo "FAIL $what: valgrind found errors"
        head -60 "$tmp/vg.log"
        status=1
        return
    fi
    case "|$want|" in
    *"|$rc|"*) echo "ok   $what" ;;
    *)
        echo "FAIL $what: exit status $rc, wanted $want"
        head -20 "$tmp/out"
        status=1
        ;;
    esac
}

# ---- unit tests ---------------------------------------------------------
for prog in "$@"; do
    # A libtool wrapper script would put valgrind on /bin/sh, not the tests.
    if head -c 4 "$prog" 2>/dev/null | grep -q '^#!'; then
        echo "FAIL $prog is a script (libtool wrapper?), not the test program"
        status=1
        continue
    fi
    CK_FORK=no vg 0 "$prog (CK_FORK=no)" "$prog"
done

# ---- scenarios ----------------------------------------------------------
files=$(find "$SCENARIO_DIR" -name '*.scn' | LC_ALL=C sort)
[ -n "$files" ] || { echo "valgrind.sh: no scenarios under $SCENARIO_DIR"; exit 2; }
for f in $files; do
    vg 0 "sockmodel run ${f#"$SCENARIO_DIR"/}" "$SOCKMODEL" run "$f"
done
# shellcheck disable=SC2086 # one word per file
vg 0 "sockmodel run --explain (all scenarios)" "$SOCKMODEL" run --explain $files
# shellcheck disable=SC2086
vg 0 "sockmodel run --json (all scenarios)" "$SOCKMODEL" run --json $files
# shellcheck disable=SC2086
vg 0 "sockmodel check (all scenarios)" "$SOCKMODEL" check $files

for f in "$TESTS_DIR"/regress/*.scn; do
    [ -e "$f" ] || continue
    vg "0|1" "sockmodel run --explain regress/${f##*/}" "$SOCKMODEL" run --explain "$f"
    vg "0|1" "sockmodel run --json regress/${f##*/}" "$SOCKMODEL" run --json "$f"
done
for f in "$TESTS_DIR"/bad/*.scn; do
    [ -e "$f" ] || continue
    vg 2 "sockmodel run bad/${f##*/}" "$SOCKMODEL" run "$f"
done

# ---- the rest of the command line ---------------------------------------
vg 0 "sockmodel profiles" "$SOCKMODEL" profiles
vg 0 "sockmodel --help" "$SOCKMODEL" --help
vg 0 "sockmodel --version" "$SOCKMODEL" --version
first=$(printf '%s\n' "$files" | head -1)
vg 2 "sockmodel run --profile nosuch" "$SOCKMODEL" run --profile nosuch "$first"
vg 2 "sockmodel run (missing file)" "$SOCKMODEL" run "$tmp/no-such-file.scn"
printf 's = socket tcp4\nbind s 127.0.0.1:0 => ok\nclose s\n' >"$tmp/stdin.scn"
vg 0 "sockmodel run - (standard input)" "$SOCKMODEL" run - <"$tmp/stdin.scn"

echo "valgrind.sh: $runs runs under valgrind"
exit $status

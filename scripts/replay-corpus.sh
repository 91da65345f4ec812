#!/bin/sh
# replay-corpus.sh - runs `sockmodel replay` over every capture of a corpus
# directory and over seeded mutants of each, and reports what must never
# happen (issue 22): crashes (a signal, or a sanitizer report: build with
# ./configure --enable-sanitizers), hangs (no end within the per-file
# timeout), and exit-2 messages that do not name the file and the record.
#
#   scripts/replay-corpus.sh [--sockmodel PATH] [--mkcap PATH] [--mutants N]
#                            [--seed S] [--timeout SECONDS] [--keep DIR] DIR
#
# Every file under DIR whose first four bytes are a pcap or pcapng magic
# number is a capture (other files are left alone).  Each is replayed as
#   sockmodel replay --profile all --json --svg F.svg --timeline F.csv CAPTURE
# and so are N mutants of it (default 4; tests/mkcap --mutate: a cut, flipped
# bits, a record's length field, a timestamp byte; the seeds are S (default
# 1) and the file's number, so a run is reproducible).  A run is:
#   ok       exit 0, or exit 2 with every error line naming the file and a
#            record ("FILE: error: record N: ...") or the file as a whole
#            ("FILE: error: not a readable pcap/pcapng capture: ...")
#   unnamed  exit 2 with an error line that does not
#   crash    killed by a signal, a sanitizer report, or another exit status
#   hang     still running after the timeout (default 20 s)
# The summary line, then one line per problem (the mutants of the problems
# are kept in --keep DIR, default a temporary directory that is removed
# when there is none):
#   corpus: files F mutants M runs R ok O exit2 E unnamed U crashes C hangs H
# Exit status: 0 when there is no crash, hang or unnamed message; 1 when
# there is; 2 on a setup error.  Not part of `make check` (it takes
# minutes): `make replay-corpus CORPUS=DIR` runs it.
set -u

sm=${SOCKMODEL:-cli/sockmodel}
mkcap=${MKCAP:-tests/mkcap}
mutants=4
seed=1
limit=20
keep=
while [ $# -gt 1 ]; do
    case $1 in
    --sockmodel) sm=$2; shift 2 ;;
    --mkcap) mkcap=$2; shift 2 ;;
    --mutants) mutants=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --timeout) limit=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "replay-corpus: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ $# -eq 1 ] || { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
dir=$1
[ -d "$dir" ] || { echo "replay-corpus: $dir: not a directory" >&2; exit 2; }
[ -x "$sm" ] || { echo "replay-corpus: no $sm (--sockmodel)" >&2; exit 2; }
[ "$mutants" -eq 0 ] || [ -x "$mkcap" ] || { echo "replay-corpus: no $mkcap (--mkcap)" >&2; exit 2; }
command -v timeout >/dev/null 2>&1 || { echo "replay-corpus: needs timeout(1)" >&2; exit 2; }
if ! nm -D "$sm" 2>/dev/null | grep -q __asan_init && ! ldd "$sm" 2>/dev/null | grep -q asan; then
    echo "replay-corpus: warning: $sm is not built with --enable-sanitizers; memory errors may go unseen" >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-replay-corpus.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM
[ -n "$keep" ] || keep=$tmp/keep
mkdir -p "$keep" || exit 2
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

files=0 muts=0 runs=0 ok=0 exit2=0 unnamed=0 crashes=0 hangs=0
problems=$tmp/problems
: >"$problems"

# one CAPTURE LABEL: replays CAPTURE, classifies the run
one() {
    runs=$((runs + 1))
    timeout "$limit" "$sm" replay --profile all --json --svg "$tmp/o.svg" \
        --timeline "$tmp/o.csv" "$1" >/dev/null 2>"$tmp/err"
    rc=$?
    what=
    if [ $rc -eq 124 ]; then
        what=hang
        hangs=$((hangs + 1))
    elif grep -q 'Sanitizer\|runtime error:' "$tmp/err" || { [ $rc -ne 0 ] && [ $rc -ne 2 ]; }; then
        what="crash (exit $rc)"
        crashes=$((crashes + 1))
    elif [ $rc -eq 2 ]; then
        exit2=$((exit2 + 1))
        # every error line names the file, and a record or the whole file
        bad=$(grep ': error: ' "$tmp/err" | grep -v -F "sockmodel: $1: error: record " |
            grep -v -F "sockmodel: $1: error: not a readable pcap/pcapng capture: " | head -1)
        if [ -n "$bad" ] || ! grep -q ': error: ' "$tmp/err"; then
            what="unnamed: ${bad:-no error line}"
            unnamed=$((unnamed + 1))
        else
            ok=$((ok + 1))
        fi
    else
        ok=$((ok + 1))
    fi
    if [ -n "$what" ]; then
        echo "$2: $what: $(grep -m1 'ERROR\|runtime error\|error' "$tmp/err")" >>"$problems"
        return 1
    fi
    return 0
}

list=$tmp/list
"$(dirname "$0")/list-captures.sh" "$dir" >"$list" || exit 2
n=0
while IFS= read -r f; do
    files=$((files + 1))
    n=$((n + 1))
    one "$f" "$f" </dev/null
    k=0
    while [ "$k" -lt "$mutants" ]; do
        s=$((seed * 1000003 + n * 64 + k))
        m=$tmp/mutant
        if "$mkcap" --mutate "$s" "$f" "$m" </dev/null; then
            muts=$((muts + 1))
            one "$m" "$f (mutant $s)" </dev/null ||
                cp "$m" "$keep/$(basename "$f").mutant-$s"
        fi
        k=$((k + 1))
    done
done <"$list"

echo "corpus: files $files mutants $muts runs $runs ok $ok exit2 $exit2 unnamed $unnamed crashes $crashes hangs $hangs"
if [ -s "$problems" ]; then
    cat "$problems"
    [ "$keep" = "$tmp/keep" ] || echo "(mutants of the problems kept in $keep)"
    exit 1
fi
exit 0

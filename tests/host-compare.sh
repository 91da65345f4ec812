#!/bin/sh
# host-compare.sh - runs scenario files under the linux model and the real
# kernel (the host profile, docs/host-profile.md) and lists, per file, the
# steps where the two columns differ.  Not part of `make check` (it needs
# root and takes a few seconds per file); the lead's tool for the "Known
# differences" table.
#
# usage: sudo tests/host-compare.sh [SOCKMODEL] [FILE...]
#   SOCKMODEL defaults to ./cli/sockmodel; FILEs default to every
#   scenarios/**/*.scn.  Ports after "ok" (ephemeral choices) and the "!"
#   marking an unmet expectation are left out of the comparison; "skip"
#   cells (steps the host profile cannot reproduce quickly) and "-" cells
#   (guarded out) are counted, not compared.
# Exit status: 0 no difference, 1 some difference, 2 a run failed.
set -u
SM=${1:-./cli/sockmodel}
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then
    set -- $(find scenarios -name '*.scn' | LC_ALL=C sort)
fi
total=0 skipped=0 files=0 status=0
for f in "$@"; do
    # A mixed-OS world (host NAME ... os PROFILE) runs on the model only:
    # the real kernel is one OS.
    if grep -Eq '^[[:space:]]*(\[[^]]*\][[:space:]]*)?host[[:space:]][^#]*[[:space:]]os[[:space:]]' "$f"; then
        printf '%s: not compared: a mixed-OS world (a host pinned with os)\n' "$f"
        continue
    fi
    out=$("$SM" run --profile linux,host "$f" 2>&1)
    rc=$?
    if [ $rc -eq 2 ]; then
        printf '%s: run failed (exit 2):\n%s\n' "$f" "$out"
        status=2
        continue
    fi
    files=$((files + 1))
    # The table: header "LINE  STEP  linux  host", then one row per step;
    # columns are separated by two or more spaces.
    res=$(printf '%s\n' "$out" | awk -v F="$f" '
        BEGIN { intab = 0; d = 0; s = 0 }
        /^ *LINE  STEP/ { intab = 1; next }
        intab && /^ *[0-9]+  / {
            n = split($0, c, /  +/)
            # c[1] may be empty (right-aligned line numbers)
            i = (c[1] == "") ? 2 : 1
            line = c[i]; step = c[i + 1]; lx = c[i + 2]; ho = c[i + 3]
            if (ho == "skip") { s++; next }
            if (ho == "-" || lx == "-") next
            a = lx; b = ho
            sub(/!$/, "", a); sub(/!$/, "", b)
            sub(/ :[0-9]+$/, "", a); sub(/ :[0-9]+$/, "", b)
            if (a != b) {
                d++
                printf "%s:%s: %s: linux %s, host %s\n", F, line, step, lx, ho
            }
            next
        }
        intab && !/^ *[0-9]+  / { intab = 0 }
        END { printf "#counts %d %d\n", d, s }')
    printf '%s\n' "$res" | grep -v '^#counts'
    set -- $(printf '%s\n' "$res" | sed -n 's/^#counts //p')
    total=$((total + $1))
    skipped=$((skipped + $2))
    printf '%s: %d difference(s), %d host step(s) time-skipped\n' "$f" "$1" "$2"
    [ "$1" -gt 0 ] && [ $status -eq 0 ] && status=1
done
printf 'total: %d file(s), %d difference(s), %d time-skipped host step(s)\n' \
    "$files" "$total" "$skipped"
exit $status

#!/bin/sh
# scenario-seeds.sh - the scenario fuzz target's seeds that mirror the
# scenarios of the tree (fuzz/corpus/scenario/D-N.scn for scenarios/D/N.scn),
# so that every part of the language a scenario uses is in the seeds: a
# campaign of 10^7 executions from seeds without connections never reached
# the engine's TIME_WAIT code (fuzz/README.md).
#
#   scripts/scenario-seeds.sh [--check] SCENARIOS_DIR CORPUS_DIR
#
# A seed is its scenario without comment lines and blank lines.  One whose
# seed would exceed 8192 bytes (the campaigns' -max_len) gets D-N-head.scn
# instead: its longest head of whole lines within 8192 bytes that does not
# end inside a `repeat ... end` block.  Seeds are inputs, not tests: their
# expectations are kept but not relied on.  The corpus's other, hand-written
# seeds are left alone.
#
# Without --check the seeds are written.  With --check nothing is written;
# the exit status is 1 when a seed is missing or differs (each is named),
# with the command that rewrites them.  Exit 2: bad arguments.
set -u
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
[ $# -eq 2 ] || { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
src=$1 corpus=$2
[ -d "$src" ] || { echo "scenario-seeds: $src: not a directory" >&2; exit 2; }
[ -d "$corpus" ] || { echo "scenario-seeds: $corpus: not a directory" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-seeds.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
bad=0 n=0
for f in "$src"/*/*.scn; do
    [ -f "$f" ] || continue
    d=$(basename "$(dirname "$f")")
    name=$d-$(basename "$f" .scn)
    grep -v '^[[:space:]]*#' "$f" | grep -v '^[[:space:]]*$' >"$tmp/seed"
    if [ "$(wc -c <"$tmp/seed")" -gt 8192 ]; then
        name=$name-head
        LC_ALL=C awk 'BEGIN { depth = 0; bytes = 0; cut = 0 }
             { bytes += length($0) + 1; if (bytes > 8192) exit
               if ($1 == "repeat") depth++; else if ($1 == "end") depth--
               line[NR] = $0; if (depth == 0) cut = NR }
             END { for (i = 1; i <= cut; i++) print line[i] }' "$tmp/seed" >"$tmp/head"
        mv "$tmp/head" "$tmp/seed"
    fi
    n=$((n + 1))
    if [ "$check" = 1 ]; then
        if ! cmp -s "$tmp/seed" "$corpus/$name.scn"; then
            if [ -e "$corpus/$name.scn" ]; then
                echo "scenario-seeds: $corpus/$name.scn differs from $f"
            else
                echo "scenario-seeds: $corpus/$name.scn is missing (for $f)"
            fi
            bad=$((bad + 1))
        fi
    else
        cp "$tmp/seed" "$corpus/$name.scn" || exit 2
    fi
done
if [ "$check" = 1 ]; then
    if [ "$bad" -gt 0 ]; then
        echo "scenario-seeds: $bad of $n seeds out of date; rewrite them with"
        echo "  scripts/scenario-seeds.sh scenarios fuzz/corpus/scenario"
        exit 1
    fi
    echo "scenario-seeds: $n seeds match their scenarios"
else
    echo "scenario-seeds: $n seeds written to $corpus"
fi
exit 0

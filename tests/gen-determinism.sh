#!/bin/sh
# gen-determinism.sh - `sockmodel gen` (issue 4): the same seed gives the
# same bytes; scenario I of a seed is the same whatever --first/--count
# surround it; another seed gives other scenarios; every generated file has
# 5 to 25 statements, passes `sockmodel check`, and runs under every
# profile without crashing (exit status 0 or 1, never 2 or a signal).
#
#   SOCKMODEL=cli/sockmodel tests/gen-determinism.sh
set -u
: "${SOCKMODEL:?set SOCKMODEL to the sockmodel program}"
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "gen-determinism: FAIL: $*"; fail=1; }

"$SOCKMODEL" gen --seed 7 --count 60 > "$tmp/a" || bad "gen exited $?"
"$SOCKMODEL" gen --seed 7 --count 60 > "$tmp/b" || bad "gen exited $?"
cmp -s "$tmp/a" "$tmp/b" || bad "same seed, different output"
"$SOCKMODEL" gen --seed 8 --count 60 > "$tmp/c" || bad "gen exited $?"
cmp -s "$tmp/a" "$tmp/c" && bad "seeds 7 and 8 gave the same output"
[ "$(grep -c '^# ==== sockmodel gen --seed 7: scenario' "$tmp/a")" = 60 ] ||
    bad "expected 60 scenario markers"

# Scenario 41 alone is scenario 41 of the batch.
"$SOCKMODEL" gen --seed 7 --first 41 --count 1 > "$tmp/one" || bad "gen --first"
awk '/^# ==== .*: scenario 41 ====/{p=1;print;next} /^# ==== /{p=0} p' "$tmp/a" |
    sed -e '${/^$/d;}' > "$tmp/from-batch"
cmp -s "$tmp/one" "$tmp/from-batch" || bad "scenario 41 differs alone and in the batch"

# Files: they parse, have 5..25 statements, run under every profile.
mkdir "$tmp/out"
"$SOCKMODEL" gen --seed 7 --count 60 --out "$tmp/out" || bad "gen --out exited $?"
[ "$(ls "$tmp/out" | wc -l)" = 60 ] || bad "expected 60 files in --out"
[ -f "$tmp/out/gen-7-59.scn" ] || bad "no gen-7-59.scn"
"$SOCKMODEL" check "$tmp"/out/*.scn || bad "generated files do not parse"
for f in "$tmp"/out/*.scn; do
    n=$(grep -cv '^#' "$f")
    if [ "$n" -lt 5 ] || [ "$n" -gt 25 ]; then bad "$f has $n statements"; fi
done
"$SOCKMODEL" run --profile all "$tmp"/out/*.scn > "$tmp/run.out" 2>&1
st=$?
[ $st -le 1 ] || bad "run --profile all on the generated files exited $st"
grep -q 'passed,.*failed' "$tmp/run.out" || bad "no totals line from run"

# With a profile line.
"$SOCKMODEL" gen --seed 7 --count 2 --profile-line 'linux*' > "$tmp/p" || bad "--profile-line"
[ "$(grep -c '^profile linux\*$' "$tmp/p")" = 2 ] || bad "--profile-line not written"
"$SOCKMODEL" gen --profile-line 'nosuchos' > /dev/null 2>&1
[ $? = 2 ] || bad "--profile-line nosuchos should exit 2"

# Command-line mistakes.
for args in "--seed" "--seed x" "--count -1" "--bogus" "--check" \
            "--check --profile linux" "--check --profile linux,bsd,solaris"; do
    # shellcheck disable=SC2086
    "$SOCKMODEL" gen $args > /dev/null 2>&1
    [ $? = 2 ] || bad "gen $args should exit 2"
done

[ $fail = 0 ] && echo "gen-determinism: ok"
exit $fail

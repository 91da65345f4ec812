#!/bin/sh
# run --tap, --junit and --quiet, read by real consumers: prove parses the
# TAP of every scenario file (all pass) and of a file with expectations
# that fail (prove must fail, one not-ok point per failing profile);
# xmllint checks the JUnit XML is well formed and that its testcases and
# failures count what the run counted; --quiet prints the failure blocks
# and the last line only.  Skips (77) without prove or xmllint.
set -u
: "${SOCKMODEL:?}" "${SCENARIO_DIR:?}"
for t in prove xmllint; do
    command -v $t >/dev/null 2>&1 ||
        { echo "SKIP: $t not found (Debian: perl, libxml2-utils)"; exit 77; }
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

files=$(find "$SCENARIO_DIR" -name '*.scn' | LC_ALL=C sort)
# shellcheck disable=SC2086
"$SOCKMODEL" run --tap --junit "$tmp/all.xml" $files >"$tmp/all.tap"
[ $? -eq 0 ] || fail "run --tap over the scenario suite exited non-zero"
prove -e cat "$tmp/all.tap" >"$tmp/prove.out" 2>&1 ||
    { cat "$tmp/prove.out"; fail "prove rejected the suite's TAP"; }
head -1 "$tmp/all.tap" | grep -qx 'TAP version 13' || fail "no TAP version line"
xmllint --noout "$tmp/all.xml" || fail "JUnit XML of the suite not well formed"
points=$(grep -c '^ok ' "$tmp/all.tap")
cases=$(xmllint --xpath 'count(//testcase)' "$tmp/all.xml")
[ "$points" = "$cases" ] || fail "$points TAP points but $cases JUnit testcases"
[ "$points" -gt 0 ] || fail "no test points"

# A file whose expectations fail: two under linux (ports below 1024 need
# privilege), one under windows (the second wildcard bind).
cat >"$tmp/bad & <odd>.scn" <<'SCN'
# expectations that are not met, in a file name XML must escape
profile linux, windows
a = socket tcp4
bind a 0.0.0.0:80 => ok
b = socket tcp4
bind b 0.0.0.0:80 => ok
SCN
bad="$tmp/bad & <odd>.scn"
"$SOCKMODEL" run --tap --junit "$tmp/bad.xml" "$bad" >"$tmp/bad.tap"
[ $? -eq 1 ] || fail "run --tap with failing expectations: exit status not 1"
if prove -e cat "$tmp/bad.tap" >"$tmp/prove.out" 2>&1; then
    cat "$tmp/prove.out"; fail "prove accepted a run with failures"
fi
grep -q 'Failed 2/2 subtests' "$tmp/prove.out" ||
    { cat "$tmp/prove.out"; fail "prove did not see 2 failing points of 2"; }
xmllint --noout "$tmp/bad.xml" || fail "JUnit XML with failures not well formed"
text_failed=$("$SOCKMODEL" run "$bad" | tail -1 | sed 's/.*passed, \([0-9]*\) failed/\1/')
xml_failed=$(xmllint --xpath 'count(//failure)' "$tmp/bad.xml")
[ "$text_failed" = 3 ] && [ "$xml_failed" = 3 ] ||
    fail "failures: table $text_failed, JUnit $xml_failed (want 3 and 3)"
suites=$(xmllint --xpath 'string(//testsuite/@failures)' "$tmp/bad.xml")
[ "$suites" = 2 ] || fail "testsuite failures=$suites, want 2"
xmllint --xpath 'string(//testcase[@name="windows"]/failure/@message)' \
    "$tmp/bad.xml" | grep -q ':6: windows: expected ok, got WSAEADDRINUSE$' ||
    fail "the windows failure message is not the table's"

# A CI system's view: the report read with Python's XML parser and
# rendered as a test page (tests/junit-view.py), failing cases first.
if command -v python3 >/dev/null 2>&1; then
    python3 "$TESTS_DIR/junit-view.py" "$tmp/bad.xml" "$tmp/view" >"$tmp/view.out" ||
        { cat "$tmp/view.out"; fail "the JUnit report could not be rendered"; }
    grep -qx '2 tests, 2 failed, 0 passed' "$tmp/view.out" ||
        { cat "$tmp/view.out"; fail "rendered totals wrong"; }
    grep -q 'FAILED .*windows$' "$tmp/view/summary.txt" &&
        grep -q ':6: windows: expected ok, got WSAEADDRINUSE' "$tmp/view/index.html" ||
        fail "the rendered page does not show the windows failure"
fi

# --quiet: the failure blocks and the totals, nothing else.
"$SOCKMODEL" run --quiet "$bad" >"$tmp/quiet.out"
[ $? -eq 1 ] || fail "--quiet: exit status not 1"
"$SOCKMODEL" run "$bad" | grep -E ': expected |^    ' >"$tmp/want"
"$SOCKMODEL" run "$bad" | tail -1 >>"$tmp/want"
cmp -s "$tmp/want" "$tmp/quiet.out" ||
    { diff "$tmp/want" "$tmp/quiet.out"; fail "--quiet printed more or less"; }
# shellcheck disable=SC2086
[ "$("$SOCKMODEL" run --quiet $files)" = "$(tail -1 "$tmp/all.tap" | sed 's/^# //')" ] ||
    fail "--quiet over the passing suite is not just the totals"
"$SOCKMODEL" run --tap --json "$bad" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--tap --json together: exit status not 2"
echo "ok: $points TAP points and JUnit testcases; failures seen by prove and xmllint"

#!/bin/sh
# Build sockmodel and run every test: the unit tests and scenario suite
# (make check), the same under AddressSanitizer + UndefinedBehaviorSanitizer,
# and a release-tarball build (make distcheck).
set -u
cd "$(dirname "$0")"
./scripts/setup.sh || exit 2
export SM_LINUX_OBSERVED="${SM_LINUX_OBSERVED:-$(cd .. && pwd)/shared/reference/linux-observed/results_raw.txt}"
jobs="$(nproc 2>/dev/null || echo 2)"
status=0
pass=0 fail=0 skip=0

count() { # add the totals of an automake test-suite.log
    [ -f "$1" ] || return 0
    p=$(sed -n 's/^# PASS: *//p' "$1" | head -1)
    f=$(sed -n 's/^# FAIL: *//p' "$1" | head -1)
    e=$(sed -n 's/^# ERROR: *//p' "$1" | head -1)
    x=$(sed -n 's/^# XPASS: *//p' "$1" | head -1)
    s=$(sed -n 's/^# SKIP: *//p' "$1" | head -1)
    pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0} + ${x:-0})); skip=$((skip + ${s:-0}))
}

echo "== make check"
make -s check -j"$jobs" || { status=1; cat test-suite.log; }
count test-suite.log

echo "== make check with --enable-sanitizers (ASan + UBSan)"
rm -rf _build/asan && mkdir -p _build/asan
make -s dist-gzip >/dev/null && tar -xzf sockmodel-*.tar.gz -C _build/asan --strip-components=1
( cd _build/asan && ./configure --quiet --enable-sanitizers &&
  make -s -j"$jobs" && make -s check -j"$jobs" ) || { status=1; cat _build/asan/test-suite.log 2>/dev/null; }
count _build/asan/test-suite.log

echo "== make distcheck"
make -s distcheck >/tmp/sockmodel-distcheck.log 2>&1 || { status=1; tail -50 /tmp/sockmodel-distcheck.log; }
grep -q "archives ready for distribution" /tmp/sockmodel-distcheck.log && echo "distcheck: ok"

echo "tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] || status=1
exit "$status"

#!/bin/sh
# Build sockmodel and run every test: the unit tests and scenario suite
# (make check), the same under AddressSanitizer + UndefinedBehaviorSanitizer,
# the fuzz targets (clang, libFuzzer) once over their seeds and regression
# inputs, outputs compared across gcc -O0/-O2 and clang builds and with a
# musl build of the core, valgrind, cppcheck,
# and a release-tarball build (make distcheck).
set -u
cd "$(dirname "$0")"
SETUP_TEST_TOOLS=1 SETUP_WASM=1 ./scripts/setup.sh || exit 2
jobs="$(nproc 2>/dev/null || echo 2)"
# FreeBSD's packetdrill suite sits in ../shared beside the checkout.  The
# sanitizer and distcheck builds run from unpacked tarballs elsewhere, where
# pkt/tests/suite.sh's relative default does not reach it: name it once here.
if [ -z "${PKT_SUITE:-}" ] && [ -d ../shared/conformance/freebsd-tcp-testsuite ]; then
    PKT_SUITE="$(cd ../shared/conformance/freebsd-tcp-testsuite && pwd)"
    export PKT_SUITE
fi
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
# one tarball, this version's: a stale one would make the glob below two files
rm -f sockmodel-*.tar.gz
make -s dist-gzip >/dev/null && tar -xzf sockmodel-*.tar.gz -C _build/asan --strip-components=1
( cd _build/asan && ./configure --quiet --enable-sanitizers &&
  make -s -j"$jobs" && make -s check -j"$jobs" ) || { status=1; cat _build/asan/test-suite.log 2>/dev/null; }
count _build/asan/test-suite.log

echo "== make fuzz-regress (the fuzz targets built by clang with libFuzzer, ASan + UBSan; each run once over its seeds and regression inputs)"
# From the unpacked tarball in a build directory of its own; the targets
# compile the library sources directly, so no library build is needed
# there (about 2 min of CPU for the five targets).
if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
    echo "SKIP: ${FUZZ_CC:-clang} is not installed (scripts/setup.sh installs it with SETUP_TEST_TOOLS=1): the fuzz targets were not built or run"
    skip=$((skip + 1))
else
    rm -rf _build/fuzz && mkdir -p _build/fuzz
    if { ls sockmodel-*.tar.gz >/dev/null 2>&1 || make -s dist-gzip >/dev/null; } &&
        tar -xzf sockmodel-*.tar.gz -C _build/fuzz --strip-components=1 &&
        ( cd _build/fuzz && ./configure --quiet && make -s -j"$jobs" fuzz FUZZ_CC="${FUZZ_CC:-clang}" &&
          make -s fuzz-regress FUZZ_CC="${FUZZ_CC:-clang}" ) >/tmp/sockmodel-fuzz.log 2>&1; then
        grep '^fuzz-regress:' /tmp/sockmodel-fuzz.log | cut -c1-100; echo "fuzz-regress: ok"
        pass=$((pass + 1))
    else
        tail -60 /tmp/sockmodel-fuzz.log; status=1; fail=$((fail + 1))
    fi
fi

echo "== make check-determinism (gcc -O0, gcc -O2, clang -O2: same bytes out)"
if make -s check-determinism >/tmp/sockmodel-determinism.log 2>&1; then
    tail -1 /tmp/sockmodel-determinism.log; pass=$((pass + 1))
else
    cat /tmp/sockmodel-determinism.log; status=1; fail=$((fail + 1))
fi

echo "== make check-musl (the core built with musl-gcc: same bytes as glibc)"
make -s check-musl >/tmp/sockmodel-musl.log 2>&1; rc=$?
if [ $rc -eq 0 ]; then
    tail -1 /tmp/sockmodel-musl.log; pass=$((pass + 1))
elif [ $rc -eq 77 ] || grep -q '^SKIP' /tmp/sockmodel-musl.log; then
    cat /tmp/sockmodel-musl.log; skip=$((skip + 1))
else
    tail -40 /tmp/sockmodel-musl.log; status=1; fail=$((fail + 1))
fi

echo "== make check-valgrind"
if make -s check-valgrind >/tmp/sockmodel-valgrind.log 2>&1; then
    tail -1 /tmp/sockmodel-valgrind.log; pass=$((pass + 1))
else
    grep -v '^ok ' /tmp/sockmodel-valgrind.log | tail -40; status=1; fail=$((fail + 1))
fi

echo "== make cppcheck"
if make -s cppcheck >/tmp/sockmodel-cppcheck.log 2>&1; then
    echo "cppcheck: clean"; pass=$((pass + 1))
else
    cat /tmp/sockmodel-cppcheck.log; status=1; fail=$((fail + 1))
fi

echo "== make distcheck"
if make -s distcheck >/tmp/sockmodel-distcheck.log 2>&1; then
    echo "distcheck: ok"; pass=$((pass + 1))
else
    tail -50 /tmp/sockmodel-distcheck.log; status=1; fail=$((fail + 1))
fi

echo "tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] || status=1
exit "$status"

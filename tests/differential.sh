#!/bin/sh
# differential.sh - the differential check of issue 4: generated scenarios
# run under the linux model and under the real kernel (the `host` profile,
# real system calls in a private network namespace), compared step by
# step; any difference fails the test and is printed as the smallest
# scenario that shows it, with both answers.
#
# Skipped (77, with the reason) when not root, when `unshare -n` does not
# work here, or when this build has no working host profile.  About 10 s.
#
#   SOCKMODEL=cli/sockmodel tests/differential.sh
#   DIFF_SEED=N DIFF_COUNT=K tests/differential.sh      (other scenarios)
set -u
: "${SOCKMODEL:?set SOCKMODEL to the sockmodel program}"
seed=${DIFF_SEED:-1}
count=${DIFF_COUNT:-250}

if [ "$(id -u)" != 0 ]; then
    echo "differential: SKIP: not root (the host profile needs a network namespace)"
    exit 77
fi
if ! unshare -n true 2>/dev/null; then
    echo "differential: SKIP: 'unshare -n true' fails here (no network namespaces)"
    exit 77
fi
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
printf 'a = socket tcp4\nbind a 127.0.0.1:5000\n' > "$tmp/t.scn"
if ! "$SOCKMODEL" run --profile host "$tmp/t.scn" > "$tmp/t.out" 2>&1; then
    echo "differential: SKIP: no working host profile in this build:"
    sed 's/^/    /' "$tmp/t.out" | head -n 5
    exit 77
fi

"$SOCKMODEL" gen --check --profile linux,host --seed "$seed" --count "$count" --all --quiet > "$tmp/out" 2>&1
st=$?
cat "$tmp/out"
case $st in
0) grep -Eq "^$count scenarios, [0-9]+ steps compared, 0 differences" "$tmp/out" ||
       { echo "differential: FAIL: no summary line"; exit 1; }
   echo "differential: ok" ;;
1) echo "differential: FAIL: the linux model and the kernel differ (above)" ;;
*) echo "differential: FAIL: gen --check exited $st" ;;
esac
exit $st

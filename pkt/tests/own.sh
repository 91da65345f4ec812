#!/bin/sh
# Our own packetdrill scripts (pkt/scripts/linux) pass under the Linux
# profiles, pkt/scripts/openbsd under OpenBSD, NetBSD, macOS and iOS; under bsd the SYN's options differ (its layout, window scale
# 6), which `sockmodel pkt` must report as a mismatch.  Each malformed
# script in pkt/tests/bad exits 2 with its SCRIPT:LINE:COL: message (the
# first line of the script's .err file).
set -u
: "${SOCKMODEL:?}" "${PKT_DIR:?}"
status=0
for p in linux linux-3.8; do
    if out=$("$SOCKMODEL" pkt --profile "$p" "$PKT_DIR"/scripts/linux/*.pkt); then
        echo "ok   linux scripts under $p"
    else
        echo "FAIL linux scripts under $p:"
        echo "$out"
        status=1
    fi
done
# scripts/openbsd: what the BSDs that keep the whole connection in
# TIME_WAIT do (new data there resets it)
for p in openbsd netbsd macos ios; do
    if out=$("$SOCKMODEL" pkt --profile "$p" "$PKT_DIR"/scripts/openbsd/*.pkt); then
        echo "ok   openbsd scripts under $p"
    else
        echo "FAIL openbsd scripts under $p:"
        echo "$out"
        status=1
    fi
done
out=$("$SOCKMODEL" pkt --profile bsd "$PKT_DIR"/scripts/linux/active-open.pkt)
rc=$?
if [ "$rc" -eq 1 ] && echo "$out" | grep -q "active-open.pkt:[0-9]*: bsd: TCP options differ"; then
    echo "ok   bsd differs from linux on the SYN's options"
else
    echo "FAIL under bsd: exit $rc, expected 1 with an options mismatch:"
    echo "$out"
    status=1
fi
cd "$PKT_DIR/tests/bad" || exit 1
n=0
for f in *.pkt; do
    n=$((n + 1))
    want=$(head -1 "${f%.pkt}.err")
    got=$("$SOCKMODEL" pkt "$f" 2>&1 >/dev/null | head -1)
    "$SOCKMODEL" pkt "$f" >/dev/null 2>&1
    rc=$?
    if [ "$rc" -ne 2 ] || [ "$got" != "$want" ]; then
        echo "FAIL $f: exit $rc"
        echo "  want: $want"
        echo "  got:  $got"
        status=1
    else
        echo "ok   $f"
    fi
done
[ "$n" -gt 0 ] || { echo "no malformed scripts"; exit 1; }
exit $status

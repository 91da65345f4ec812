#!/bin/sh
# svg.sh - `sockmodel run --svg` (render/svg_out.c) draws a well-formed SVG
# that shows what the run did.
#
# Draws $SCENARIO_DIR/tcp/close-orders.scn under linux and checks:
# - xmllint --noout accepts it (well-formed XML);
# - it is an <svg> document and names every TCP state the four close orders
#   go through (ESTABLISHED ... TIME_WAIT, CLOSING from the simultaneous
#   close) and the segments (SYN, SYN,ACK, ACK, FIN,ACK, a data segment
#   of 1000 B from the half-close part);
# - the same run drawn twice gives the same bytes;
# - with two profiles it writes one file each (FILE.PROFILE.svg);
# - teaching/port-hijack.scn under windows draws the refused bind as an
#   arrow to srv titled with WSAEACCES and its rule, and the binds' addresses;
#   windows/ms-table-classic.scn (72 sockets, no segments) is at most
#   1600 px wide and draws its refused binds.
# Self-check: a copy with a tag cut off must be rejected by xmllint.
#
#   SOCKMODEL=cli/sockmodel SCENARIO_DIR=scenarios tests/svg.sh
#
# Exit: 0 pass, 1 fail, 77 skipped (no xmllint), 99 broken setup.
set -u
: "${SOCKMODEL:?set SOCKMODEL to the sockmodel program}"
: "${SCENARIO_DIR:?set SCENARIO_DIR to the scenario directory}"

if ! command -v xmllint >/dev/null 2>&1; then
    echo "SKIP: xmllint is not installed (Debian: apt-get install libxml2-utils)"
    exit 77
fi
scn=$SCENARIO_DIR/tcp/close-orders.scn
[ -r "$scn" ] || { echo "svg: no scenario $scn"; exit 99; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
bad() { echo "FAIL: $*"; fail=1; }

"$SOCKMODEL" run --profile linux --svg "$tmp/x.svg" "$scn" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || bad "run exited $rc: $(cat "$tmp/err")"
[ -s "$tmp/err" ] && bad "stderr not empty: $(cat "$tmp/err")"
[ -s "$tmp/x.svg" ] || { echo "FAIL: no SVG written"; exit 1; }
xmllint --noout "$tmp/x.svg" 2>"$tmp/lint" || bad "not well-formed: $(cat "$tmp/lint")"
grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$tmp/x.svg" || bad "not an svg document"

for s in LISTEN SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 CLOSE_WAIT \
         LAST_ACK CLOSING TIME_WAIT; do
    # as the name written in a band (not only in the legend)
    n=$(grep -c ">$s</text>" "$tmp/x.svg")
    [ "$n" -ge 2 ] || bad "state $s not drawn in a column"
done
for l in '>SYN</text>' '>SYN,ACK</text>' '>ACK</text>' '>FIN,ACK</text>' \
         '>ACK 1000 B</text>'; do
    grep -qF "$l" "$tmp/x.svg" || bad "no segment labelled $l"
done
grep -qF 'close c1' "$tmp/x.svg" || bad "steps not shown"
grep -qF 'host server' "$tmp/x.svg" || bad "hosts not shown"

"$SOCKMODEL" run --profile linux --svg "$tmp/y.svg" "$scn" >/dev/null 2>&1
cmp -s "$tmp/x.svg" "$tmp/y.svg" || bad "two runs drew different bytes"

"$SOCKMODEL" run --profile linux,bsd --svg "$tmp/two.svg" "$scn" >/dev/null 2>&1
for p in linux bsd; do
    [ -s "$tmp/two.$p.svg" ] || bad "no two.$p.svg with two profiles"
done

# Bind lessons: a refused bind is an arrow to the socket it conflicted
# with, titled with the error and the rule; binds show their address.
hj=$SCENARIO_DIR/teaching/port-hijack.scn
"$SOCKMODEL" run --profile windows --svg "$tmp/hj.svg" "$hj" >/dev/null 2>&1
xmllint --noout "$tmp/hj.svg" 2>/dev/null || bad "port-hijack drawing not well-formed"
grep -q '<line class="conflict"' "$tmp/hj.svg" || bad "no conflict arrow for the refused bind"
grep -q '<title>WSAEACCES because of srv: .*Windows' "$tmp/hj.svg" ||
    bad "the conflict does not name the culprit srv and the rule"
grep -q '>198.51.100.1:8080</text>' "$tmp/hj.svg" && bad "the refused bind drawn as bound"
grep -q '>0.0.0.0:8080</text>' "$tmp/hj.svg" || bad "srv's address not drawn"
# A large bind table stays readable: the 72 sockets of the MS table share
# columns (it was 9494 px wide).
ms=$SCENARIO_DIR/windows/ms-table-classic.scn
"$SOCKMODEL" run --profile windows-classic --svg "$tmp/ms.svg" "$ms" >/dev/null 2>&1
w=$(sed -n 's/^<svg [^>]*width="\([0-9]*\)".*/\1/p' "$tmp/ms.svg")
[ -n "$w" ] && [ "$w" -le 1600 ] || bad "ms-table drawing is ${w:-?} px wide"
n=$(grep -c '<line class="conflict"' "$tmp/ms.svg")
[ "$n" -ge 10 ] || bad "ms-table: only $n conflict arrows"

# Self-check: xmllint must reject a broken file.
head -c 300 "$tmp/x.svg" >"$tmp/broken.svg"
xmllint --noout "$tmp/broken.svg" 2>/dev/null && bad "xmllint accepted a cut file"

[ "$fail" -eq 0 ] && echo "PASS: svg drawing of $(basename "$scn")"
exit "$fail"

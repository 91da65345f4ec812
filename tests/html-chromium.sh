#!/bin/sh
# html-chromium.sh - `sockmodel run --html` writes one self-contained page
# that a real browser shows as the model says.
#
# Writes the report of $SCENARIO_DIR/teaching/port-hijack.scn under every
# profile and checks:
# - the file names no external resource (no src=, href=, url(http, @import,
#   <script>): it works offline and from file://;
# - headless Chromium loads it from file:// (--dump-dom) and the DOM has the
#   table (a column per profile, the thief's bind "ok" under
#   windows-classic and "WSAEACCES" under windows, that row highlighted as a
#   difference, the rule on the cell), and one drawing per profile
#   (12 inline SVGs, windows' with the refused bind's conflict naming srv);
# - Chromium prints it to PDF (print CSS) and takes a screenshot (kept in
#   $HTML_SHOTS when set, to be looked at).
# Skipped (77) without Chromium (Debian: apt-get install chromium).
#
#   SOCKMODEL=cli/sockmodel SCENARIO_DIR=scenarios tests/html-chromium.sh
#
# Exit: 0 pass, 1 fail, 77 skipped, 99 broken setup.
set -u
: "${SOCKMODEL:?set SOCKMODEL to the sockmodel program}"
: "${SCENARIO_DIR:?set SCENARIO_DIR to the scenario directory}"

. "${TESTS_DIR:-$(dirname "$0")}/chromium-lib.sh"
scn=$SCENARIO_DIR/teaching/port-hijack.scn
[ -r "$scn" ] || { echo "html: no scenario $scn"; exit 99; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
bad() { echo "FAIL: $*"; fail=1; }

"$SOCKMODEL" run --profile all --html "$tmp/r.html" "$scn" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || bad "run --html exited $rc: $(cat "$tmp/err")"
[ -s "$tmp/r.html" ] || { echo "FAIL: no HTML written"; exit 1; }
grep -Eiq 'src=|href=|url\(http|@import|<script|<link' "$tmp/r.html" &&
    bad "the page names an external resource or a script"

browse --dump-dom "file://$tmp/r.html" >"$tmp/dom.html"
[ -s "$tmp/dom.html" ] || { echo "FAIL: Chromium produced no DOM: $(tail -3 "$tmp/chrome.err")"; exit 1; }
n=$(grep -o '<th>[a-z0-9.-]*</th>' "$tmp/dom.html" | wc -l)
[ "$n" -ge 12 ] || bad "table heads: $n profile columns"
# The thief's bind: its row, the cells in profile order.
row=$(tr '\n' ' ' <"$tmp/dom.html" | grep -o '<tr class="diff"><td class="line">[0-9]*</td>[^<]*<td class="step">bind evil 198.51.100.1:8080</td>.*' | sed 's|</tr>.*||')
[ -n "$row" ] || bad "the thief's bind is not a highlighted row"
cells=$(echo "$row" | sed 's|<span class="why">[^<]*</span>||g; s|<td[^>]*>|\n|g; s|</td>||g' | tail -n +4)
wc_cell=$(echo "$cells" | sed -n 4p)
w_cell=$(echo "$cells" | sed -n 5p)
[ "$wc_cell" = "ok" ] || bad "windows-classic cell: '$wc_cell'"
[ "$w_cell" = "WSAEACCES" ] || bad "windows cell: '$w_cell'"
echo "$row" | grep -q 'title="[^"]*SO_REUSEADDR' || bad "the row's cells carry no rule"
nsvg=$(grep -c '<svg ' "$tmp/dom.html")
[ "$nsvg" -eq 12 ] || bad "$nsvg drawings in the page, not 12"
grep -q '<title>WSAEACCES because of srv' "$tmp/dom.html" || bad "no conflict drawn for windows"

browse --print-to-pdf="$tmp/r.pdf" --no-pdf-header-footer "file://$tmp/r.html" >/dev/null
head -c 5 "$tmp/r.pdf" 2>/dev/null | grep -q '%PDF' || bad "Chromium did not print the page"
browse --hide-scrollbars --window-size=1600,1000 --screenshot="$tmp/shot.png" \
    "file://$tmp/r.html" >/dev/null
[ -s "$tmp/shot.png" ] || bad "no screenshot"
if [ -n "${HTML_SHOTS:-}" ] && [ -s "$tmp/shot.png" ]; then
    cp "$tmp/shot.png" "$HTML_SHOTS/port-hijack.html.png"
fi

[ "$fail" -eq 0 ] && echo "PASS: HTML report of $(basename "$scn") in $chrome"
exit "$fail"

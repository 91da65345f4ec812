#!/bin/sh
# playground-chromium.sh - the browser playground (web/) works in a real
# browser: built with emscripten, loaded from file:// in headless Chromium.
#
# Builds the page (web/build-wasm.sh; or takes $PLAYGROUND_HTML, e.g. the
# one `make playground` wrote) and checks:
# - it names no external resource (no src=, href=, url(http, @import,
#   <link>): one file that works offline and from file://;
# - loaded with #example=port-hijack.scn&p=linux,windows-classic,windows,
#   the page's table is the table `sockmodel run --profile ...` prints for
#   that file, byte for byte (the file name aside), with the thief's bind
#   EADDRINUSE / ok / WSAEACCES, every expectation met, a drawing per
#   profile and the windows drawing showing the refused bind's conflict;
# - a shared link (#p=linux&s=BASE64URL) runs the scenario it carries;
# - #bench=1000 runs a generated 1,000-step scenario and writes its time;
# - a screenshot is taken (kept in $PLAYGROUND_SHOTS when set).
# Skipped (77) without emcc (Debian: emscripten), node or Chromium.
#
#   SOCKMODEL=cli/sockmodel SCENARIO_DIR=scenarios tests/playground-chromium.sh [SRCDIR]
#
# Exit: 0 pass, 1 fail, 77 skipped, 99 broken setup.
set -u
: "${SOCKMODEL:?set SOCKMODEL to the sockmodel program}"
: "${SCENARIO_DIR:?set SCENARIO_DIR to the scenario directory}"
srcdir=${1:-${TESTS_DIR:-$(dirname "$0")}/..}

. "${TESTS_DIR:-$(dirname "$0")}/chromium-lib.sh"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
page=${PLAYGROUND_HTML:-}
if [ -z "$page" ]; then
    sh "$srcdir/web/build-wasm.sh" "$srcdir" "$tmp/build" >"$tmp/build.log" 2>&1
    rc=$?
    [ "$rc" -eq 77 ] && { grep SKIP "$tmp/build.log"; exit 77; }
    [ "$rc" -eq 0 ] || { echo "FAIL: the playground did not build:"; tail -20 "$tmp/build.log"; exit 1; }
    page=$tmp/build/index.html
fi
[ -s "$page" ] || { echo "playground: no page $page"; exit 99; }
scn=$SCENARIO_DIR/teaching/port-hijack.scn
[ -r "$scn" ] || { echo "playground: no scenario $scn"; exit 99; }
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# The text of the element with id $2 in DOM file $1 (entities decoded).
text_of() {
    tr '\n' '\001' <"$1" | sed -n "s|.*<[a-z]* id=\"$2\"[^>]*>\([^<]*\)<.*|\1|p" |
        tr '\001' '\n' | sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g'
}

grep -Eiq ' src=|href=|url\(http|@import|<link' "$page" &&
    bad "the page names an external resource"
echo "playground: $page: $(wc -c <"$page") bytes"

# 1. A teaching scenario under three profiles.
profiles=linux,windows-classic,windows
browse --virtual-time-budget=10000 --dump-dom "file://$page#example=port-hijack.scn&p=$profiles" >"$tmp/dom.html"
[ -s "$tmp/dom.html" ] || { echo "FAIL: Chromium produced no DOM: $(tail -3 "$tmp/chrome.err")"; exit 1; }
text_of "$tmp/dom.html" table >"$tmp/page-table"
"$SOCKMODEL" run --profile "$profiles" "$scn" | sed "s|^$scn|playground.scn|" >"$tmp/cli-table"
diff "$tmp/cli-table" "$tmp/page-table" >"$tmp/diff" ||
    bad "the page's table differs from sockmodel's: $(head -20 "$tmp/diff")"
row=$(grep 'bind evil 198.51.100.1:8080' "$tmp/page-table")
set -- $row
[ "$5 $6 $7" = "EADDRINUSE ok WSAEACCES" ] || bad "the thief's bind: '$row'"
text_of "$tmp/dom.html" status | grep -q '^every expectation met' ||
    bad "status: $(text_of "$tmp/dom.html" status)"
ntabs=$(tr '\n' ' ' <"$tmp/dom.html" | sed 's|.*<nav id="tabs">||; s|</nav>.*||' | grep -o '<button' | wc -l)
[ "$ntabs" -eq 3 ] || bad "$ntabs drawing tabs, not 3"
grep -q '<div id="drawing"><svg ' "$tmp/dom.html" || bad "no drawing shown"
grep -q '<title>EADDRINUSE because of srv' "$tmp/dom.html" || bad "no conflict drawn for linux"
text_of "$tmp/dom.html" explain | grep -q 'SO_REUSEADDR' || bad "--explain names no rule"
browse --virtual-time-budget=10000 --hide-scrollbars --window-size=1400,1000 --screenshot="$tmp/shot.png" \
    "file://$page#example=port-hijack.scn&p=$profiles" >/dev/null
[ -s "$tmp/shot.png" ] || bad "no screenshot"

# 2. A shared link carries its scenario.
printf 'a = socket tcp4\nbind a 0.0.0.0:8080 => ok\nb = socket tcp4\nbind b 0.0.0.0:8080 => EADDRINUSE\n' >"$tmp/s.scn"
s=$(base64 -w0 <"$tmp/s.scn" | tr '+/' '-_' | tr -d '=')
browse --virtual-time-budget=10000 --dump-dom "file://$page#p=linux&s=$s" >"$tmp/dom2.html"
text_of "$tmp/dom2.html" table | grep -q 'bind b 0.0.0.0:8080  *EADDRINUSE' ||
    bad "the shared link's scenario did not run: $(text_of "$tmp/dom2.html" errors)"

# 3. The timing of a 1,000-step scenario.
browse --virtual-time-budget=10000 --dump-dom "file://$page#bench=1000&p=linux" >"$tmp/dom3.html"
timing=$(text_of "$tmp/dom3.html" timing)
echo "$timing" | grep -q '^1000-step generated scenario under linux (1 profile): [0-9.]* ms' ||
    bad "no timing: '$timing'"
text_of "$tmp/dom3.html" table | grep -q '1000 steps x 1 profile' || bad "the 1,000 steps did not all run"
echo "playground: $timing"

if [ -n "${PLAYGROUND_SHOTS:-}" ] && [ -s "$tmp/shot.png" ]; then
    cp "$tmp/shot.png" "$PLAYGROUND_SHOTS/playground.png"
fi
[ "$fail" -eq 0 ] && echo "PASS: playground in $chrome"
exit "$fail"

#!/bin/sh
# teaching-drawings.sh - the drawings committed in docs/teaching/ are what
# the current program draws from their scenarios (scripts/teaching-drawings.sh).
# A change to the drawing code, a rule text or one of those scenarios that
# alters a picture fails here until the pictures are redrawn and committed.
#
#   SOCKMODEL=cli/sockmodel tests/teaching-drawings.sh
set -u
: "${SOCKMODEL:?set SOCKMODEL to the sockmodel program}"
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-teach.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
sh "$top/scripts/teaching-drawings.sh" "$SOCKMODEL" "$tmp" || { echo "FAIL: drawing failed"; exit 1; }
n=$(ls "$top/docs/teaching" | wc -l)
[ "$n" -gt 0 ] || { echo "FAIL: docs/teaching is empty"; exit 1; }
if diff -r "$top/docs/teaching" "$tmp" >"$tmp.diff" 2>&1; then
    echo "docs/teaching: $n drawings, all current"
    rm -f "$tmp.diff"
    exit 0
fi
echo "FAIL: docs/teaching is stale; redraw with scripts/teaching-drawings.sh and commit:"
diff -rq "$top/docs/teaching" "$tmp" | sed 's/^/  /'
rm -f "$tmp.diff"
exit 1

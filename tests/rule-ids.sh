#!/bin/sh
# Every rule ID that reaches a user is in the rule reference: the IDs of
# every outcome of every scenario file under every profile (`run --json
# --profile all`), and every ID written in a rule record in the source
# tree, must be among the records tests/rules_doc walks (docs/rules.md).
set -u
: "${SOCKMODEL:?}" "${SCENARIO_DIR:?}" "${RULES_DOC:?}" "${TOP_SRCDIR:?}"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
"$RULES_DOC" --ids | LC_ALL=C sort >"$tmp/known" || {
    echo "FAIL: the rule records do not pass rules_doc's checks"; exit 1; }
[ -s "$tmp/known" ] || { echo "FAIL: no rule records"; exit 1; }

# IDs the scenarios produce.
find "$SCENARIO_DIR" -name '*.scn' | LC_ALL=C sort >"$tmp/files"
while read -r f; do
    "$SOCKMODEL" run --json --profile all "$f" 2>/dev/null
done <"$tmp/files" | grep -o '"rule_id":"[^"]*"' | sed 's/.*:"//; s/"$//' |
    LC_ALL=C sort -u >"$tmp/used"
[ -s "$tmp/used" ] || { echo "FAIL: no rule_id in any --json output"; exit 1; }

# IDs written out in rule records (macro-built ones end in '.': skipped).
grep -rhoE 'SM_RULE\("[a-z0-9.-]+[a-z0-9]"' "$TOP_SRCDIR/engine" "$TOP_SRCDIR/profiles" \
    "$TOP_SRCDIR/sockapi" "$TOP_SRCDIR/scenario" "$TOP_SRCDIR/hostkernel" \
    "$TOP_SRCDIR/observe" |
    sed 's/SM_RULE("//; s/"$//' | LC_ALL=C sort -u >"$tmp/written"

status=0
for list in used written; do
    missing=$(LC_ALL=C comm -23 "$tmp/$list" "$tmp/known")
    if [ -n "$missing" ]; then
        echo "FAIL: rule IDs ($list) without a record in the reference:"
        printf '  %s\n' $missing
        status=1
    fi
done
echo "$(wc -l <"$tmp/used") rule IDs in the scenarios' outputs," \
     "$(wc -l <"$tmp/written") in the source, $(wc -l <"$tmp/known") records"
exit $status

#!/bin/sh
# FreeBSD's packetdrill conformance suite (648 scripts, kept outside the
# tree in ../shared/conformance/freebsd-tcp-testsuite) under the bsd
# profile, compared with the list of scripts expected to pass
# (pkt/tests/bsd-pass.txt, paths relative to the suite).  A script that
# stops passing fails the test; one that starts passing fails it too,
# asking for the list to be updated (the command is printed).
set -u
: "${SOCKMODEL:?}" "${PKT_DIR:?}"
suite=${PKT_SUITE:-$PKT_DIR/../../shared/conformance/freebsd-tcp-testsuite}
if [ ! -d "$suite/state-event-engine" ]; then
    echo "SKIP: the FreeBSD TCP suite is not at $suite."
    echo "  Get it with: git clone https://github.com/freebsd-net/tcp-testsuite.git"
    echo "  (commit 04b8c73fc5081fe3792f1bed9168c9b22aaedddb), keep the scripts of"
    echo "  state-event-engine/, snippets/ and snd-syn/ that its PROVENANCE.md lists,"
    echo "  and point PKT_SUITE at it."
    exit 77
fi
list=$PKT_DIR/tests/bsd-pass.txt
tmp=${TMPDIR:-/tmp}/sm-pkt-suite.$$
trap 'rm -f "$tmp".*' EXIT
(cd "$suite" && find . -name '*.pkt' | sed 's|^\./||' | LC_ALL=C sort) >"$tmp.all"
n=$(wc -l <"$tmp.all")
[ "$n" -gt 0 ] || { echo "no scripts under $suite"; exit 1; }
# (the suite's file names hold no blanks)
(cd "$suite" && "$SOCKMODEL" pkt --profile bsd --tsv $(cat "$tmp.all")) >"$tmp.tsv"
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    echo "sockmodel pkt exited $rc (a script did not parse?)"
    exit 1
fi
awk -F'\t' '$1 == "pass" { print $3 }' "$tmp.tsv" | LC_ALL=C sort >"$tmp.pass"
LC_ALL=C sort "$list" >"$tmp.want"
npass=$(wc -l <"$tmp.pass")
echo "bsd: $npass of $n scripts pass ($(wc -l <"$tmp.want") expected)"
status=0
LC_ALL=C comm -13 "$tmp.pass" "$tmp.want" >"$tmp.lost"
LC_ALL=C comm -23 "$tmp.pass" "$tmp.want" >"$tmp.new"
if [ -s "$tmp.lost" ]; then
    echo "FAIL: expected to pass, now failing:"
    while read -r f; do
        grep -F "	$f	" "$tmp.tsv" | cut -f3-
    done <"$tmp.lost"
    status=1
fi
if [ -s "$tmp.new" ]; then
    echo "FAIL: now passing, not in the list (update it):"
    sed 's/^/  /' "$tmp.new"
    echo "  cd $suite && $SOCKMODEL pkt -p bsd --tsv \$(find . -name '*.pkt' | sort) |"
    echo "    awk -F'\\t' '\$1==\"pass\"{sub(/^\\.\\//,\"\",\$3); print \$3}' > $list"
    status=1
fi
exit $status

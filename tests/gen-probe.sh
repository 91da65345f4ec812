#!/bin/sh
# gen-probe.sh - `sockmodel probe` (issue 4) under the six models (no root
# needed): well-known cells of the bind matrix, determinism, and that
# --markdown is a well-formed table.
#
#   Well-known cells (outcome of the second bind):
#   - tcp, no options, 0.0.0.0 then 0.0.0.0: EADDRINUSE under every OS
#     (Stack Overflow 14388706 table: "ON/OFF 0.0.0.0 0.0.0.0 Error");
#   - linux, SO_REUSEPORT on both, same address, bound or listening: ok
#     (Linux >= 3.9, same user);
#   - windows and windows-classic, SO_REUSEADDR on the second over a
#     wildcard bind, specific address: ok (MS "Using SO_REUSEADDR and
#     SO_EXCLUSIVEADDRUSE"); windows-classic also on the same wildcard
#     (the pre-2003 port stealing), windows refuses it (WSAEACCES);
#   - linux, [::] (dual-stack) then 0.0.0.0: EADDRINUSE; bsd: ok (v6only=1).
#
#   SOCKMODEL=cli/sockmodel tests/gen-probe.sh
set -u
: "${SOCKMODEL:?set SOCKMODEL to the sockmodel program}"
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "gen-probe: FAIL: $*"; fail=1; }

"$SOCKMODEL" probe --profile all > "$tmp/t" || bad "probe exited $?"
"$SOCKMODEL" probe --profile all > "$tmp/t2" || bad "probe exited $?"
cmp -s "$tmp/t" "$tmp/t2" || bad "two runs differ"

# cell PROTO FIRST SECOND STATE OPTIONS PROFILE -> outcome (columns are
# separated by two or more spaces).
cell() {
    awk -F '  +' -v p="$1" -v a="$2" -v b="$3" -v s="$4" -v o="$5" -v prof="$6" '
        $1 == "proto" { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == p && $2 == a && $3 == b && $4 == s && $5 == o { print $(col[prof]); exit }
    ' "$tmp/t"
}
want() {
    got=$(cell "$1" "$2" "$3" "$4" "$5" "$6")
    [ "$got" = "$7" ] || bad "$1 $2 -> $3 ($4, $5) under $6: got '$got', want '$7'"
}
for p in bsd linux-3.8 linux windows-classic windows solaris; do
    want tcp 0.0.0.0 0.0.0.0 bound "- / -" $p EADDRINUSE
done
want tcp 0.0.0.0 0.0.0.0 bound "RP / RP" linux ok
want tcp 0.0.0.0 0.0.0.0 listening "RP / RP" linux ok
want tcp 127.0.0.1 127.0.0.1 listening "RP / RP" linux ok
want tcp 0.0.0.0 0.0.0.0 bound "RP / RP" linux-3.8 'EADDRINUSE*'
want tcp 0.0.0.0 127.0.0.1 bound "- / RA" windows ok
want tcp 0.0.0.0 127.0.0.1 bound "- / RA" windows-classic ok
want tcp 0.0.0.0 0.0.0.0 bound "- / RA" windows-classic ok
want tcp 0.0.0.0 0.0.0.0 bound "- / RA" windows EACCES
want tcp "[::]" 0.0.0.0 bound "- / -" linux EADDRINUSE
want tcp "[::]" 0.0.0.0 bound "- / -" bsd ok
want tcp 127.0.0.1 192.0.2.1 bound "- / -" linux ok
want udp 0.0.0.0 0.0.0.0 bound "RA / RA" linux ok
want udp 0.0.0.0 0.0.0.0 bound "- / -" linux EADDRINUSE
rows=$(grep -Ec '^(tcp|udp) ' "$tmp/t")
[ "$rows" = 264 ] || bad "expected 264 rows, got $rows"

"$SOCKMODEL" probe --profile all --full > "$tmp/full" || bad "probe --full exited $?"
rows=$(grep -Ec '^(tcp|udp) ' "$tmp/full")
[ "$rows" = 528 ] || bad "--full: expected 528 rows, got $rows"

# Markdown: a header row, a separator row, then rows with as many cells.
"$SOCKMODEL" probe --markdown --profile 'linux*,windows' > "$tmp/md" || bad "--markdown exited $?"
awk '
    /^\|/ { n++; c = gsub(/\|/, "|"); if (n == 1) cols = c
            else if (c != cols) { print "row " n " has " c - 1 " cells, header " cols - 1; bad = 1 }
            if (n == 2 && $0 !~ /^\|(---\|)+$/) { print "no separator row"; bad = 1 }
            if ($0 !~ /\|$/) { print "row " n " does not end with |"; bad = 1 }
            next }
    n > 0 && NF { print "text after the table: " $0; bad = 1 }
    END { if (n != 266) { print n " table lines, want 266"; bad = 1 } exit bad }
' "$tmp/md" || bad "--markdown is not a well-formed table"
head -n 4 "$tmp/md" | grep -q '^| proto | first | second | first is | options | linux-3.8 | linux | windows |$' ||
    bad "--markdown header row"

"$SOCKMODEL" probe --bogus > /dev/null 2>&1
[ $? = 2 ] || bad "probe --bogus should exit 2"
"$SOCKMODEL" probe --profile nosuchos > /dev/null 2>&1
[ $? = 2 ] || bad "probe --profile nosuchos should exit 2"

[ $fail = 0 ] && echo "gen-probe: ok"
exit $fail

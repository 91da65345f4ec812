#!/bin/sh
# replay-zeek-compare.sh - compares `sockmodel replay`'s per-connection
# summary (Zeek's conn_state, computed as Zeek's TCPSessionAdapter does)
# with Zeek's own conn.log baselines, connection by connection (issue 23).
#
#   scripts/replay-zeek-compare.sh [--sockmodel PATH] [--details N] BTESTDIR
#
# BTESTDIR is Zeek's testing/btest directory (a Zeek source checkout: its
# Traces/, its test scripts and Baseline/).  For every Baseline/NAME/conn.log
# whose test script (NAME with dots as slashes, .zeek or .test) reads a
# trace (`-r $TRACES/FILE`; the last one when it runs Zeek several times),
# the trace is replayed (`--profile linux
# --json`) and the conn.log's TCP rows (id.orig_h, id.orig_p, id.resp_h,
# id.resp_p, conn_state, in its #fields order) are matched with replay's
# connections by 4-tuple (the same direction, or reversed: counted apart),
# several on one 4-tuple in time order.  Per baseline, one line:
#   same    NAME: N matched, all conn_state equal
#   differ  NAME: N matched, K conn_state differ, Z zeek only, R replay only
# then up to --details N (default 3) of the differences.  Last, the counts:
# baselines compared, TCP rows in the baselines, matched (reversed),
# conn_state equal, Zeek rows without a replay connection, replay
# connections without a Zeek row.  Baselines without the columns (filtered
# by zeek-cut) or whose trace is missing are counted as skipped.
# Not part of `make check`: `make replay-zeek-compare BTEST=DIR`.  Exit 0
# (the counts are the result), 2 on a setup error.
set -u

sm=${SOCKMODEL:-cli/sockmodel}
details=3
while [ $# -gt 1 ]; do
    case $1 in
    --sockmodel) sm=$2; shift 2 ;;
    --details) details=$2; shift 2 ;;
    *) echo "replay-zeek-compare: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ $# -eq 1 ] || { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
bt=$1
[ -d "$bt/Baseline" ] && [ -d "$bt/Traces" ] ||
    { echo "replay-zeek-compare: $bt: no Baseline/ and Traces/ (Zeek's testing/btest)" >&2; exit 2; }
[ -x "$sm" ] || { echo "replay-zeek-compare: no $sm (--sockmodel)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-replay-zeek.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

: >"$tmp/totals"
skipped=0
for log in "$bt"/Baseline/*/conn.log; do
    [ -f "$log" ] || continue
    name=$(basename "$(dirname "$log")")
    rel=$(echo "$name" | tr . /)
    test=
    for ext in zeek test; do
        [ -f "$bt/$rel.$ext" ] && { test=$bt/$rel.$ext; break; }
    done
    trace=
    [ -n "$test" ] && trace=$(grep -o -- '-r *\$TRACES/[^ ]*' "$test" | tail -1 |
        sed 's/^-r *\$TRACES\///')
    if [ -z "$trace" ] || [ ! -f "$bt/Traces/$trace" ] ||
        ! grep -q '^#fields.*id\.orig_h.*conn_state' "$log"; then
        skipped=$((skipped + 1))
        continue
    fi
    # Zeek: "orig resp state" per TCP row, in the log's order (by ts)
    awk -F'\t' '
        /^#fields/ { for (i = 2; i <= NF; i++) col[$i] = i - 1; next }
        /^#/ { next }
        col["proto"] && $col["proto"] != "tcp" { next }
        { oh = $col["id.orig_h"]; rh = $col["id.resp_h"]
          if (oh ~ /:/) oh = "[" oh "]"; if (rh ~ /:/) rh = "[" rh "]"
          print oh ":" $col["id.orig_p"], rh ":" $col["id.resp_p"], $col["conn_state"] }
    ' "$log" >"$tmp/zeek"
    timeout 60 "$sm" replay --profile linux --json "$bt/Traces/$trace" >"$tmp/r.json" \
        2>/dev/null </dev/null
    # replay: "client server state start", in the order connections began
    grep '"client": ' "$tmp/r.json" |
        sed 's/.*"client": "\([^"]*\)", "server": "\([^"]*\)".*"summary": "\([^"]*\)".*"start": \([0-9.]*\).*/\1 \2 \3 \4/' |
        sort -k4,4n -s | awk '{ print $1, $2, $3 }' >"$tmp/mine"
    awk -v name="$name" -v details="$details" -v totals="$tmp/totals" '
        FNR == NR { z[++nz] = $0; next }
        { m[++nm] = $0 }
        END {
            # match each Zeek row with the first free replay row on the same
            # 4-tuple, same direction first, then reversed
            for (i = 1; i <= nz; i++) {
                split(z[i], a, " ")
                hit = 0
                for (pass = 0; pass < 2 && !hit; pass++)
                    for (j = 1; j <= nm && !hit; j++) {
                        if (used[j]) continue
                        split(m[j], b, " ")
                        if ((pass == 0 && a[1] == b[1] && a[2] == b[2]) ||
                            (pass == 1 && a[1] == b[2] && a[2] == b[1])) {
                            used[j] = 1; hit = 1; matched++
                            if (pass) rev++
                            if (a[3] == b[3]) eq++
                            else if (nd++ < details)
                                d[nd] = "    " a[1] " -> " a[2] ": zeek " a[3] ", replay " b[3] (pass ? " (reversed)" : "")
                        }
                    }
                if (!hit) { zo++; if (nd++ < details) d[nd] = "    zeek only: " z[i] }
            }
            for (j = 1; j <= nm; j++) if (!used[j]) ro++
            if (matched == eq && !zo && !ro)
                printf "same    %s: %d matched, all conn_state equal\n", name, matched
            else {
                printf "differ  %s: %d matched, %d conn_state differ, %d zeek only, %d replay only\n",
                       name, matched, matched - eq, zo, ro
                for (k = 1; k <= nd && k <= details; k++) print d[k]
            }
            printf "%d %d %d %d %d %d\n", nz, matched, rev, eq, zo, ro >> totals
        }' "$tmp/zeek" "$tmp/mine"
done
awk -v skipped="$skipped" '
    { n++; rows += $1; m += $2; r += $3; e += $4; z += $5; o += $6 }
    END { printf "compare: baselines %d skipped %d zeek-tcp-rows %d matched %d reversed %d conn_state-equal %d zeek-only %d replay-only %d\n",
                 n, skipped, rows, m, r, e, z, o }' "$tmp/totals"
exit 0

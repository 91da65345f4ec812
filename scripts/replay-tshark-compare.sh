#!/bin/sh
# replay-tshark-compare.sh - compares `sockmodel replay` with
# `tshark -q -z conv,tcp` over every capture of a corpus directory, row by
# row (issue 23): each TCP connection's two endpoints and its packet count.
#
#   scripts/replay-tshark-compare.sh [--sockmodel PATH] [--details N]
#                                    [--tshark-cache CACHEDIR] DIR
#
# Every file under DIR whose first four bytes are a pcap or pcapng magic
# number is read by both (`sockmodel replay --profile linux --json` and
# `tshark -n -r FILE -q -z conv,tcp`).  A row is "A B packets", the two
# endpoints in sorted order (IPv6 without brackets, as tshark prints them).
# Per file, one line:
#   same     FILE: N rows          both list the same rows (whatever either's
#                                   exit status: a damaged file may stop both)
#   differ   FILE: CLASS: ...      the rows differ; CLASS is the likeliest
#                                   cause, from the reader's counters:
#     link-type       replay does not decode the file's link type
#     fragments       IP fragments (tshark reassembles; replay takes the
#                     header of a first fragment only)
#     icmp-quoted     ICMP errors (tshark dissects the TCP header they quote)
#     not-decoded     encapsulations or protocols replay counts as other
#     broken          truncated or malformed headers (either may be right)
#     reader-error    replay stopped with an error (exit 2)
#     tshark-error    tshark failed on the file
#     unexplained     none of the above
# then up to --details N (default 3) rows of each side that the other lacks.
# --tshark-cache keeps tshark's output per file in CACHEDIR and reuses it on
# the next run (tshark is most of the time; the corpus does not change).
# Last, the counts: files, files with TCP (rows on either side), same,
# and differ per class.  Not part of `make check` (minutes): `make
# replay-tshark-compare CORPUS=DIR`.  Exit 0 (the counts are the result),
# 2 on a setup error, 77 without tshark.
set -u

sm=${SOCKMODEL:-cli/sockmodel}
details=3
cache=
while [ $# -gt 1 ]; do
    case $1 in
    --sockmodel) sm=$2; shift 2 ;;
    --details) details=$2; shift 2 ;;
    --tshark-cache) cache=$2; shift 2 ;;
    *) echo "replay-tshark-compare: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ $# -eq 1 ] || { sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
dir=$1
[ -d "$dir" ] || { echo "replay-tshark-compare: $dir: not a directory" >&2; exit 2; }
[ -x "$sm" ] || { echo "replay-tshark-compare: no $sm (--sockmodel)" >&2; exit 2; }
command -v tshark >/dev/null 2>&1 || { echo "replay-tshark-compare: no tshark (skipped)"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-replay-tshark.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

# rows: "A B n" with A < B
norm() {
    awk '{ a = $1; b = $2; if (b < a) { t = a; a = b; b = t } print a, b, $3 }' | LC_ALL=C sort
}

files=0 withtcp=0 same=0
classes="link-type fragments icmp-quoted not-decoded broken reader-error tshark-error unexplained"
for k in $classes; do eval "n_$(echo $k | tr - _)=0"; done

"$(dirname "$0")/list-captures.sh" "$dir" >"$tmp/list" || exit 2
while IFS= read -r f; do
    files=$((files + 1))
    timeout 60 "$sm" replay --profile linux --json "$f" >"$tmp/r.json" 2>"$tmp/r.err" </dev/null
    rrc=$?
    grep '"client": ' "$tmp/r.json" |
        sed 's/.*"client": "\([^"]*\)", "server": "\([^"]*\)".*"packets": \[\([0-9]*\), \([0-9]*\)\].*/\1 \2 \3 \4/' |
        tr -d '[]' | awk '{ print $1, $2, $3 + $4 }' | norm >"$tmp/mine"
    key=
    [ -n "$cache" ] && key=$cache/$(printf '%s' "$f" | cksum | tr ' ' _)
    if [ -n "$key" ] && [ -f "$key.rc" ]; then
        cp "$key.out" "$tmp/ts.out"
        trc=$(cat "$key.rc")
    else
        timeout 120 tshark -n -r "$f" -q -z conv,tcp >"$tmp/ts.out" 2>"$tmp/ts.err" </dev/null
        trc=$?
        if [ -n "$key" ]; then
            mkdir -p "$cache" && cp "$tmp/ts.out" "$key.out" && echo $trc >"$key.rc"
        fi
    fi
    grep ' <-> ' "$tmp/ts.out" | awk '{ print $1, $3, $10 }' | norm >"$tmp/theirs"
    if [ ! -s "$tmp/mine" ] && [ ! -s "$tmp/theirs" ]; then
        continue # no TCP on either side
    fi
    withtcp=$((withtcp + 1))
    if cmp -s "$tmp/mine" "$tmp/theirs"; then
        same=$((same + 1))
        echo "same     $f: $(wc -l <"$tmp/mine" | tr -d ' ') rows"
        continue
    fi
    counts=$(grep -o '"counts": {[^}]*}' "$tmp/r.json")
    has() { echo "$counts" | grep -q "\"$1\": [1-9]"; }
    if [ $trc -ne 0 ] && [ ! -s "$tmp/theirs" ]; then
        class=tshark-error
    elif [ $rrc -ne 0 ]; then
        class=reader-error
    elif has link_unsupported; then
        class=link-type
    elif has frag4 || has frag6 || has frag_first; then
        class=fragments
    elif has icmp4 || has icmp6; then
        class=icmp-quoted
    elif has other_ethertype || has ip_other || has other_family || has llc; then
        class=not-decoded
    elif has trunc_link || has trunc_ip || has trunc_l4 || has bad_ip_version ||
        has bad_ip_hlen || has bad_ip_len || has bad_tcp_hlen || has file_truncated; then
        class=broken
    else
        class=unexplained
    fi
    v=n_$(echo $class | tr - _)
    eval "$v=\$((\$$v + 1))"
    echo "differ   $f: $class: tshark $(wc -l <"$tmp/theirs" | tr -d ' ') rows, replay $(wc -l <"$tmp/mine" | tr -d ' ')$( [ $rrc -ne 0 ] && echo " ($(head -1 "$tmp/r.err"))")"
    LC_ALL=C comm -13 "$tmp/mine" "$tmp/theirs" | head -"$details" | sed 's/^/    tshark only: /'
    LC_ALL=C comm -23 "$tmp/mine" "$tmp/theirs" | head -"$details" | sed 's/^/    replay only: /'
done <"$tmp/list"

line="compare: files $files with-tcp $withtcp same $same"
for k in $classes; do
    eval "line=\"\$line $k \$n_$(echo $k | tr - _)\""
done
echo "$line"
exit 0

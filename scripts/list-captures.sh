#!/bin/sh
# list-captures.sh - prints, one per line and sorted, every file under DIR
# whose first four bytes are a pcap (either byte order, microsecond or
# nanosecond) or pcapng magic number: the captures of a corpus, whatever
# their names.  Used by replay-corpus.sh and replay-tshark-compare.sh.
#
#   scripts/list-captures.sh DIR
set -u
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: list-captures.sh DIR" >&2; exit 2; }
find "$1" -type f | LC_ALL=C sort | while IFS= read -r f; do
    case $(od -An -tx1 -N4 "$f" 2>/dev/null | tr -d ' \n') in
    d4c3b2a1 | a1b2c3d4 | 4d3cb2a1 | a1b23c4d | 0a0d0d0a) printf '%s\n' "$f" ;;
    esac
done

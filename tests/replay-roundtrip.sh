#!/bin/sh
# replay-roundtrip.sh - a scenario run with --pcap, then replayed, must give
# the same final states as the scenario run itself (issue 5, "round trip").
#
# For each scenarios/replay/*.scn:
#   1. sockmodel run --profile linux --pcap CAP FILE must exit 0: every
#      expectation of the file is met, including its final
#      `expect SOCK state STATE` lines;
#   2. sockmodel replay --profile linux --json CAP must exit 0;
#   3. for each `# replay-pair CLIENT SERVER` comment line of the file, the
#      last connection in the replay whose client is CLIENT's bound
#      endpoint (its `bind CLIENT ADDR:PORT` line) must have client_state =
#      the last expected state of CLIENT and server_state = that of SERVER;
#   4. the replay must list as many connections as the file has
#      `connect` lines to a listener that answered (at least the pairs).
#
#   SOCKMODEL=cli/sockmodel tests/replay-roundtrip.sh   (from the build dir)
# Exit: 0 pass, 1 fail, 99 broken setup.
set -u

sm=${SOCKMODEL:-cli/sockmodel}
[ -x "$sm" ] || { echo "replay-roundtrip: no $sm (set SOCKMODEL)"; exit 99; }
. "$(dirname "$0")/need-pcap.sh" # skipped (77) in a build without libpcap
dir=${SCENARIO_DIR:-${srcdir:-.}/scenarios}/replay
[ -d "$dir" ] || { echo "replay-roundtrip: no $dir"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-replay-rt.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM

status=0
checked=0
for f in "$dir"/*.scn; do
    name=$(basename "$f")
    if ! "$sm" run --profile linux --pcap "$tmp/cap.pcap" "$f" >"$tmp/run.out" 2>&1; then
        echo "FAIL $name: sockmodel run did not meet its expectations:"
        sed 's/^/  /' "$tmp/run.out" | tail -20
        status=1
        continue
    fi
    if ! "$sm" replay --profile linux --json "$tmp/cap.pcap" >"$tmp/rp.json" 2>"$tmp/rp.err"; then
        echo "FAIL $name: sockmodel replay failed: $(cat "$tmp/rp.err")"
        status=1
        continue
    fi
    pairs=$(sed -n 's/^# replay-pair \([A-Za-z_][A-Za-z0-9_.-]*\) \([A-Za-z_][A-Za-z0-9_.-]*\).*/\1 \2/p' "$f")
    [ -n "$pairs" ] || { echo "FAIL $name: no '# replay-pair' lines"; status=1; continue; }
    echo "$pairs" | while read -r cs ss; do
        ep=$(sed -n "s/^bind $cs \([^ ]*\).*/\1/p" "$f" | tail -1)
        cst=$(sed -n "s/^expect $cs state \([A-Z_0-9]*\).*/\1/p" "$f" | tail -1)
        sst=$(sed -n "s/^expect $ss state \([A-Z_0-9]*\).*/\1/p" "$f" | tail -1)
        if [ -z "$ep" ] || [ -z "$cst" ] || [ -z "$sst" ]; then
            echo "FAIL $name: pair $cs/$ss needs a bind line and final expect state lines"
            echo 1 >"$tmp/failed"
            continue
        fi
        line=$(grep "\"client\": \"$ep\"" "$tmp/rp.json" | grep '"profile": "linux"' | tail -1)
        got_c=$(echo "$line" | sed -n 's/.*"client_state": "\([A-Z_0-9]*\)".*/\1/p')
        got_s=$(echo "$line" | sed -n 's/.*"server_state": "\([A-Z_0-9]*\)".*/\1/p')
        if [ "$got_c" != "$cst" ] || [ "$got_s" != "$sst" ]; then
            echo "FAIL $name: $cs/$ss ($ep): run ended $cst/$sst, replay says ${got_c:-none}/${got_s:-none}"
            echo 1 >"$tmp/failed"
        else
            echo "ok   $name: $cs/$ss ($ep): $cst/$sst"
        fi
    done
    [ -f "$tmp/failed" ] && status=1
    npairs=$(echo "$pairs" | wc -l)
    nconn=$(grep -c '"profile": "linux", "client"' "$tmp/rp.json")
    if [ "$nconn" -lt "$npairs" ]; then
        echo "FAIL $name: replay found $nconn connections, fewer than the $npairs pairs"
        status=1
    fi
    checked=$((checked + 1))
done
[ "$checked" -gt 0 ] || { echo "replay-roundtrip: no scenario checked"; exit 99; }
exit $status

#!/bin/sh
# replay-cli.sh - the command line of `sockmodel replay` (issue 5):
#   - bad input: a file that is not a capture, a missing file, an unknown
#     option, an unknown profile, no file: a message and exit status 2;
#   - on the capture of scenarios/tcp/syn-into-time-wait.scn (run with
#     --pcap under linux): the text report names each profile's hosts and
#     events; --json is valid JSON (checked with python3 or jq when one is
#     installed) with a connections array; --timeline writes the CSV header
#     and rows; --svg writes well-formed XML (xmllint, when installed);
#   - the same command twice gives the same bytes (determinism), and the
#     same bytes with and without the read-ahead thread (--threads 1|2),
#     also on a capture cut inside a record (the warning, the counts);
#   - --scenario takes the scenario's declarations without complaint.
#
#   SOCKMODEL=cli/sockmodel tests/replay-cli.sh
# Exit: 0 pass, 1 fail, 99 broken setup.
set -u

sm=${SOCKMODEL:-cli/sockmodel}
[ -x "$sm" ] || { echo "replay-cli: no $sm (set SOCKMODEL)"; exit 99; }
. "$(dirname "$0")/need-pcap.sh" # skipped (77) in a build without libpcap
scn=${SCENARIO_DIR:-${srcdir:-.}/scenarios}/tcp/syn-into-time-wait.scn
[ -f "$scn" ] || { echo "replay-cli: no $scn"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-replay-cli.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM
status=0
fail() { echo "FAIL $*"; status=1; }

# expect2 NAME CMD...: exit status 2 and a message on stderr
expect2() {
    _n=$1
    shift
    "$@" >"$tmp/o" 2>"$tmp/e"
    _rc=$?
    if [ $_rc -ne 2 ]; then
        fail "$_n: exit status $_rc, expected 2"
    elif ! grep -q 'error' "$tmp/e"; then
        fail "$_n: no error message: $(cat "$tmp/e")"
    else
        echo "ok   $_n: $(head -1 "$tmp/e")"
    fi
}

printf 'this is not a capture file, just text\n' >"$tmp/text.pcap"
expect2 "not a capture" "$sm" replay "$tmp/text.pcap"
expect2 "missing file" "$sm" replay "$tmp/no-such-file.pcap"
: >"$tmp/empty.pcap"
expect2 "empty file" "$sm" replay "$tmp/empty.pcap"
expect2 "unknown option" "$sm" replay --frobnicate "$tmp/text.pcap"
expect2 "unknown profile" "$sm" replay --profile nosuchos "$tmp/text.pcap"
expect2 "no file" "$sm" replay --json
expect2 "bad interval" "$sm" replay --interval 5 "$tmp/text.pcap"
expect2 "bad --host" "$sm" replay --host 10.0.0.1=nosuchos "$tmp/text.pcap"
expect2 "two files" "$sm" replay a.pcap b.pcap
expect2 "bad --threads" "$sm" replay --threads 3 "$tmp/text.pcap"

if ! "$sm" run --profile linux --pcap "$tmp/siw.pcap" "$scn" >/dev/null 2>&1; then
    echo "replay-cli: sockmodel run --pcap failed on $scn"
    exit 99
fi

# text
if "$sm" replay --profile linux,bsd "$tmp/siw.pcap" >"$tmp/t1" 2>"$tmp/e"; then
    for want in '== linux: hosts ==' '== bsd: hosts ==' 'syn_into_time_wait' \
        '192.0.2.10:5000 -> 192.0.2.20:8080 SF' 'would accept it' 'would ack'; do
        grep -q -- "$want" "$tmp/t1" || fail "text: '$want' missing"
    done
    "$sm" replay --profile linux,bsd "$tmp/siw.pcap" >"$tmp/t2" 2>&1
    cmp -s "$tmp/t1" "$tmp/t2" || fail "text: two runs differ"
    echo "ok   text report"
else
    fail "text: exit status $?: $(cat "$tmp/e")"
fi

# JSON, timeline, SVG
if "$sm" replay --profile linux,windows --json --timeline "$tmp/tl.csv" --svg "$tmp/tw.svg" \
    --interval 100ms "$tmp/siw.pcap" >"$tmp/j1" 2>"$tmp/e"; then
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["connections"]) == 16, len(d["connections"]); assert all(k in c for c in d["connections"] for k in ("client","server","client_state","server_state","summary"))' "$tmp/j1" ||
            fail "json: not valid, or not 16 connection objects with the required fields"
    elif command -v jq >/dev/null 2>&1; then
        [ "$(jq '.connections | length' "$tmp/j1")" = 16 ] || fail "json: not 16 connections"
    else
        echo "note: JSON structure not checked (neither python3 nor jq is installed)"
    fi
    grep -q '"kind": "syn_into_time_wait"' "$tmp/j1" || fail "json: no syn_into_time_wait event"
    head -1 "$tmp/tl.csv" | grep -qx 'time_s,profile,host,time_wait,time_wait_max' ||
        fail "timeline: bad header"
    grep -q ',linux,192.0.2.20,1,1$' "$tmp/tl.csv" || fail "timeline: no TIME_WAIT row for 192.0.2.20"
    if command -v xmllint >/dev/null 2>&1; then
        xmllint --noout "$tmp/tw.svg" 2>"$tmp/x" || fail "svg: not well-formed: $(head -3 "$tmp/x")"
    else
        echo "note: SVG well-formedness not checked (xmllint is not installed)"
    fi
    grep -q '<polyline' "$tmp/tw.svg" || fail "svg: no line drawn"
    "$sm" replay --profile linux,windows --json --interval 100ms "$tmp/siw.pcap" >"$tmp/j2" 2>&1
    cmp -s "$tmp/j1" "$tmp/j2" || fail "json: two runs differ"
    # the connection and host objects, written without printf: their exact
    # punctuation (a number where the capture decides the value)
    n='[0-9]+' s='[0-9]+\.[0-9]{6}'
    grep -Eq "^  \{\"id\": $n, \"profile\": \"(linux|windows)\", \"client\": \"[0-9.]+:$n\", \"server\": \"[0-9.]+:$n\", \"client_state\": \"[A-Z_0-9]+\", \"server_state\": \"[A-Z_0-9]+\", \"summary\": \"[A-Z0-9]+\", \"opened_by\": \"[a-z]+\", \"closed_first_by\": \"[a-z]+\", \"close\": \"[a-z]+\", \"client_time_wait_ms\": $n, \"client_time_wait_end\": \"[a-z_]+\", \"server_time_wait_ms\": $n, \"server_time_wait_end\": \"[a-z_]+\", \"observed_client_state\": \"[A-Z_0-9]+\", \"observed_server_state\": \"[A-Z_0-9]+\", \"first_frame\": $n, \"start\": $s, \"end\": $s, \"packets\": \[$n, $n\], \"bytes\": \[$n, $n\], \"record\": \"[a-z ]+\"\},?$" "$tmp/j1" ||
        fail "json: no connection object in the expected form"
    grep -Eq "^  \{\"profile\": \"(linux|windows)\", \"host\": \"[0-9.]+\", \"host_profile\": \"[a-z0-9.-]+\", \"time_wait_ms\": $n, \"time_wait_total\": $n, \"time_wait_peak\": $n, \"time_wait_peak_at\": $s, \"time_wait_at_end\": $n, \"time_wait_not_kept\": $n, \"client_ports_peak\": $n, \"client_ports_peak_at\": $s, \"port_range\": $n, \"events\": \{\"syn_into_time_wait\": $n(, \"[a-z_]+\": $n)*\}, \"destinations\": \[\{\"dest\": \"[0-9.]+:$n\", \"connections\": $n, \"ports_peak\": $n, \"ports_peak_at\": $s, \"exhausted_at\": (null|$s)\}(, \{[^}]*\})*\]\},?$" "$tmp/j1" ||
        fail "json: no host object in the expected form"
    echo "ok   json, timeline, svg"
else
    fail "json: exit status $?: $(cat "$tmp/e")"
fi

# the read-ahead thread changes nothing: whole capture, and one cut short
# inside its last record (a warning and file_truncated in the counts)
size=$(wc -c <"$tmp/siw.pcap")
head -c $((size - 7)) "$tmp/siw.pcap" >"$tmp/cut.pcap"
same=1
for f in siw cut; do
    for th in 1 2; do
        "$sm" replay --threads $th --profile linux,windows "$tmp/$f.pcap" >"$tmp/th$th" 2>"$tmp/the$th" ||
            fail "--threads $th $f: exit status $?"
    done
    cmp -s "$tmp/th1" "$tmp/th2" || { fail "--threads 1 and 2 differ on $f.pcap"; same=0; }
    cmp -s "$tmp/the1" "$tmp/the2" || { fail "--threads 1 and 2 warn differently on $f.pcap"; same=0; }
done
grep -q 'file_truncated: 1' "$tmp/th2" || { fail "cut capture: no file_truncated count"; same=0; }
grep -q 'warning' "$tmp/the2" || { fail "cut capture: no warning"; same=0; }
[ $same = 1 ] && echo "ok   --threads 1 and 2 give the same output"

# with two threads the host sections are formatted by a second thread
# while the records still held close, then written in their order: the
# same bytes as one thread, under every profile (twelve sections taken in
# turn by the two threads), on the capture above (hosts with "events:"
# lines) and on one of 1,000 short connections from bench/gen_capture
# (about 600 hosts: each section spans several of the kept chunks)
gen=${GEN_CAPTURE:-$(dirname "$sm")/../bench/gen_capture}
[ -x "$gen" ] || { echo "replay-cli: no generator $gen (make check builds it; set GEN_CAPTURE)"; exit 99; }
"$gen" --short 1000 --no-mix --out "$tmp/c1k.pcap" >/dev/null 2>&1 || { echo "replay-cli: $gen failed"; exit 99; }
same=1
for f in siw c1k; do
    for th in 1 2; do
        "$sm" replay --threads $th --profile all "$tmp/$f.pcap" >"$tmp/all$th" 2>&1 ||
            fail "--threads $th --profile all $f: exit status $?"
    done
    cmp -s "$tmp/all1" "$tmp/all2" || { fail "--threads 1 and 2 differ under --profile all on $f.pcap"; same=0; }
    [ "$(grep -c ': hosts ==$' "$tmp/all2")" -ge 12 ] || { fail "$f.pcap: fewer than 12 host sections"; same=0; }
    # each run's hosts, then its events, run after run; the summary last
    grep '^== ' "$tmp/all2" | awk '
        NR % 2 == 1 { if ($0 !~ /: hosts ==$/) bad = 1; name = $2 }
        NR % 2 == 0 { if ($0 !~ /: events \(/ || $2 != name) bad = 1 }
        END { exit bad || NR % 2 }' || { fail "$f.pcap: the sections are out of order"; same=0; }
    awk '/^== /{last = NR} /^summary: /{s = NR} END {exit !(s > last)}' "$tmp/all2" ||
        { fail "$f.pcap: the summary is not after the sections"; same=0; }
    if [ $f = siw ] && ! grep -q '^  events: syn_into_time_wait 1, rst_killed_time_wait [0-9]' "$tmp/all2"; then
        fail "siw.pcap under every profile: no host line 'events: syn_into_time_wait 1, rst_killed_time_wait N'"
        same=0
    fi
done
[ $same = 1 ] && echo "ok   the host sections formatted by a second thread: the same output"

# --timing: the same report, and where the time went on standard error
for th in 1 2; do
    "$sm" replay --threads $th --profile all "$tmp/c1k.pcap" >"$tmp/nt$th" 2>/dev/null
    if "$sm" replay --timing --threads $th --profile all "$tmp/c1k.pcap" >"$tmp/tm$th" 2>"$tmp/tme$th"; then
        cmp -s "$tmp/nt$th" "$tmp/tm$th" || fail "--timing --threads $th changed the report"
        grep -Eq '^sockmodel replay: timing \(ms, this run\): setup [0-9.]+, reading [0-9.]+, hosts readied [0-9.]+, records closed [0-9.]+, report [0-9.]+, teardown [0-9.]+; total [0-9.]+ ' "$tmp/tme$th" ||
            fail "--timing --threads $th: no phases line: $(head -1 "$tmp/tme$th")"
    else
        fail "--timing --threads $th: exit status $?"
    fi
done
grep -Eq '^sockmodel replay: timing \(ms\): reading on one thread: CPU [0-9.]+$' "$tmp/tme1" ||
    fail "--timing --threads 1: no reading line"
grep -Eq '^sockmodel replay: timing \(ms\): reading on two threads: the read-ahead thread .* CPU [0-9.]+, waiting for room [0-9.]+ \([0-9]+ times\); the model.s thread CPU [0-9.]+, waiting for packets [0-9.]+ \([0-9]+ times' "$tmp/tme2" ||
    fail "--timing --threads 2: no two-thread reading line"
grep -Eq '^sockmodel replay: timing \(ms\): a second thread formatted host sections for [0-9.]+ ' "$tmp/tme2" ||
    fail "--timing --threads 2: no host-section line"
echo "ok   --timing: the same report, and its phases on standard error"

# the host lines, written without printf: their exact text
cat >"$tmp/cap.scn" <<'EOF2'
host b addr 192.0.2.20
on b
sysctl net.ipv4.tcp_max_tw_buckets 0
EOF2
if "$sm" replay --profile linux --no-connections --scenario "$tmp/cap.scn" "$tmp/siw.pcap" >"$tmp/h1" 2>"$tmp/e"; then
    grep -qx '192.0.2.20 (linux)' "$tmp/h1" || fail "host line: no '192.0.2.20 (linux)'"
    grep -qx '  TIME_WAIT: 0 entries, peak 0 at +0.000000s, 0 at the end, length 60000 ms, 1 not kept' "$tmp/h1" ||
        fail "host line: no TIME_WAIT line with '1 not kept'"
    grep -Eq '^    to 192\.0\.2\.20:8080: [0-9]+ connections, ports in use peak [0-9]+ at \+[0-9]+\.[0-9]{6}s$' "$tmp/h1" ||
        fail "host line: no destination line for 192.0.2.20:8080"
    echo "ok   host and destination lines"
else
    fail "cap scenario: exit status $?: $(cat "$tmp/e")"
fi

# --scenario: the file's listeners and sysctls
if "$sm" replay --profile linux --scenario "$scn" "$tmp/siw.pcap" >"$tmp/s1" 2>"$tmp/e"; then
    echo "ok   --scenario"
else
    fail "--scenario: exit status $?: $(cat "$tmp/e")"
fi
exit $status

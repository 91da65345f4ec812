#!/bin/sh
# replay-captures.sh - `sockmodel replay` on the small captures of
# tests/captures/ (written by tests/mkcap.c; this test first checks that
# mkcap still writes exactly those bytes):
#   - clocks (issue 22): records beyond 2^64 ns, jumps by decades, a clock
#     going back: replayed in bounded time (no hang), exit 0, a warning
#     naming the file and the record, the connection still SF;
#   - damaged files (issue 23): each gives its exit status, and every
#     message names the file and the record;
#   - link types and encapsulations (issue 23): each file's two
#     connections (10.1.0.1:40001 -> 10.2.0.2:80 and
#     [2001:db8:1::1]:40002 -> [2001:db8:2::2]:443) are found, SF, 8
#     packets each, with no bad checksum under --verify-checksums.
#
#   SOCKMODEL=cli/sockmodel MKCAP=tests/mkcap tests/replay-captures.sh
# Exit: 0 pass, 1 fail, 99 broken setup.
set -u

sm=${SOCKMODEL:-cli/sockmodel}
mkcap=${MKCAP:-tests/mkcap}
caps=${CAPTURE_DIR:-${TESTS_DIR:-${srcdir:-.}/tests}/captures}
[ -x "$sm" ] || { echo "replay-captures: no $sm (set SOCKMODEL)"; exit 99; }
[ -d "$caps" ] || { echo "replay-captures: no $caps"; exit 99; }
command -v timeout >/dev/null 2>&1 || { echo "replay-captures: no timeout(1)"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-replay-caps.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM
status=0
fail() { echo "FAIL $*"; status=1; }

# the files in the tree are what mkcap writes
if [ -x "$mkcap" ]; then
    mkdir "$tmp/gen" && "$mkcap" "$tmp/gen" || { echo "replay-captures: mkcap failed"; exit 99; }
    for f in "$tmp"/gen/*; do
        b=$(basename "$f")
        cmp -s "$f" "$caps/$b" || fail "mkcap: $b differs from tests/captures/$b (rerun mkcap)"
    done
    for f in "$caps"/*.pcap "$caps"/*.pcapng; do
        [ -f "$tmp/gen/$(basename "$f")" ] || fail "mkcap: no longer writes $(basename "$f")"
    done
    echo "ok   mkcap writes the captures in the tree"
fi

# want_all NAME PATTERN...: every pattern is in $tmp/out
want_all() {
    wname=$1
    shift
    wok=1
    for w in "$@"; do
        grep -q "$w" "$tmp/out" || { fail "$wname: no $w"; wok=0; }
    done
    [ $wok = 1 ] && echo "ok   $wname"
}

# run NAME: replay --profile all with every output, 20 s at most; sets rc
run() {
    timeout 20 "$sm" replay --profile all --json --svg "$tmp/o.svg" --timeline "$tmp/o.csv" \
        --interval 1ms "$caps/$1" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -ne 124 ] || fail "$1: no end after 20 s (a hang)"
}

# ---- clocks
for c in ts-beyond-2e64.pcapng:3 ts-all-beyond.pcapng:1 ts-jump.pcapng:3; do
    f=${c%:*}
    rec=${c#*:}
    run "$f"
    [ $rc -eq 0 ] || { fail "$f: exit status $rc: $(cat "$tmp/err")"; continue; }
    grep -q "^sockmodel: .*$f: warning: record $rec: the timestamp " "$tmp/err" ||
        fail "$f: no warning naming record $rec: $(cat "$tmp/err")"
    grep -q '"summary": "SF"' "$tmp/out" || fail "$f: the connection is not SF"
    grep -q '"ts_jumps": ' "$tmp/out" || fail "$f: no ts_jumps count"
    echo "ok   $f: $(head -1 "$tmp/err")"
done

# ---- damaged files: NAME STATUS KIND RECORD (KIND error/warning; RECORD
# the record the message names, - for a file-level message)
while read -r f want kind rec; do
    run "$f"
    [ $rc -eq "$want" ] || fail "$f: exit status $rc, expected $want: $(cat "$tmp/err")"
    if [ "$rec" = - ]; then
        grep -q "^sockmodel: .*$f: $kind: " "$tmp/err" || fail "$f: no $kind naming the file: $(cat "$tmp/err")"
    else
        grep -q "^sockmodel: .*$f: $kind: record $rec: " "$tmp/err" ||
            fail "$f: no $kind naming the file and record $rec: $(cat "$tmp/err")"
    fi
    if [ "$rec" = 1 ]; then
        grep -q 'replayed' "$tmp/err" && fail "$f: says records were replayed before record 1"
    fi
    echo "ok   $f: $(head -1 "$tmp/err")"
done <<LIST
bad-caplen.pcap 2 error 3
bad-cut-file-header.pcap 2 error -
bad-cut-in-header.pcap 0 warning 5
bad-cut-in-record.pcap 0 warning 5
bad-linktype.pcap 0 warning -
bad-magic.pcap 2 error -
bad-ng-blocklen.pcapng 2 error 3
bad-ng-cut.pcapng 0 warning 2
bad-second-idb-first.pcapng 2 error 1
bad-second-idb.pcapng 2 error 2
bad-second-snaplen.pcapng 2 error 1
LIST
# libpcap's limit is named as libpcap's
run bad-second-snaplen.pcapng
grep -q 'libpcap reads no pcapng file whose interfaces differ in snapshot length' "$tmp/err" ||
    fail "bad-second-snaplen.pcapng: the message does not name libpcap's limit: $(cat "$tmp/err")"

# bad lengths in headers are counted, not fatal
run bad-lengths.pcap
[ $rc -eq 0 ] || fail "bad-lengths.pcap: exit status $rc: $(cat "$tmp/err")"
for c in len_clipped bad_tcp_hlen; do
    grep -q "\"$c\": 1" "$tmp/out" || fail "bad-lengths.pcap: no $c count"
done
echo "ok   bad-lengths.pcap: counted"

# ---- the SVG of a capture with one TIME_WAIT per profile: each host's line
# stays inside its panel (it started at the image's top edge), and the y
# axis counts in whole entries (a peak of 1 was labelled 0,0,0,0,1)
timeout 20 "$sm" replay --profile linux,windows --svg "$tmp/tw.svg" "$caps/enc-eth.pcap" \
    >/dev/null 2>"$tmp/err" || fail "svg: $(cat "$tmp/err")"
ok=1
# panel r spans y = 60 + 300 r .. 320 + 300 r
awk -v RS='<' '/^polyline/ {
        match($0, /points="[^"]*"/); pts = substr($0, RSTART + 8, RLENGTH - 9)
        n = split(pts, p, " "); top = 1e9; bot = 0
        for (i = 1; i <= n; i++) { split(p[i], xy, ","); if (xy[2] < top) top = xy[2]; if (xy[2] > bot) bot = xy[2] }
        r = int((bot - 60) / 300); if (top < 60 + 300 * r || bot > 320 + 300 * r) { print "out of its panel: " pts; bad = 1 }
    } END { exit bad }' "$tmp/tw.svg" || { fail "svg: a line leaves its panel"; ok=0; }
labels=$(grep -o 'text-anchor="end">[0-9]*<' "$tmp/tw.svg" | sed 's/[^0-9]//g' | head -2 | tr '\n' ' ')
[ "$labels" = "0 1 " ] || { fail "svg: y labels of a peak of 1: $labels"; ok=0; }
[ $ok = 1 ] && echo "ok   svg: lines inside their panels, whole-number y labels"

# ---- link types and encapsulations: both connections, SF, 5 + 3 packets,
# every checksum right (inner ones computed over the inner addresses)
v4='"client": "10.1.0.1:40001", "server": "10.2.0.2:80"'
v6='"client": "\[2001:db8:1::1\]:40002", "server": "\[2001:db8:2::2\]:443"'
for f in "$caps"/enc-*.pcap; do
    b=$(basename "$f")
    timeout 20 "$sm" replay --json --verify-checksums "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 0 ] || { fail "$b: exit status $rc: $(cat "$tmp/err")"; continue; }
    ok=1
    for want in "$v4" "$v6"; do
        grep "$want" "$tmp/out" | grep -q '"summary": "SF".*"packets": \[5, 3\]' ||
            { fail "$b: no SF connection $want with 5 + 3 packets"; ok=0; }
    done
    grep -q '"records": 16, "tcp": 16, "udp": 0, "skipped": 0' "$tmp/out" ||
        { fail "$b: not every record delivered: $(grep -o '"counts".*' "$tmp/out")"; ok=0; }
    grep -q 'bad_l4_csum\|bad_ip_csum\|csum_unchecked' "$tmp/out" &&
        { fail "$b: checksums: $(grep -o '"counts".*' "$tmp/out")"; ok=0; }
    [ $ok = 1 ] && echo "ok   $b"
done

# encapsulations of IPv4 only (WCCP): the v4 connection
for f in "$caps"/enc4-*.pcap; do
    b=$(basename "$f")
    timeout 20 "$sm" replay --json --verify-checksums "$f" >"$tmp/out" 2>"$tmp/err"
    if grep "$v4" "$tmp/out" | grep -q '"summary": "SF".*"packets": \[5, 3\]' &&
        grep -q '"records": 8, "tcp": 8, "udp": 0, "skipped": 0' "$tmp/out" &&
        ! grep -q 'csum' "$tmp/out"; then
        echo "ok   $b"
    else
        fail "$b: $(cat "$tmp/err") $(grep -o '"counts".*' "$tmp/out")"
    fi
done

# IPv4 fragments: the data segment in three fragments: one connection, all
# 8 segments, the datagram reassembled at its third fragment, checksums
# right (the reassembled header's too)
timeout 20 "$sm" replay --json --verify-checksums "$caps/frag4.pcap" >"$tmp/out" 2>"$tmp/err"
if grep "$v4" "$tmp/out" | grep -q '"summary": "SF".*"packets": \[5, 3\]' &&
    grep -q '"frag4": 2,' "$tmp/out" && grep -q '"reassembled": 1,' "$tmp/out" &&
    ! grep -q 'csum' "$tmp/out"; then
    echo "ok   frag4.pcap"
else
    fail "frag4.pcap: $(cat "$tmp/err") $(grep -o '"counts".*' "$tmp/out")"
fi
# reassembly's cases (tests/mkcap.c frag_cases): a SYN whose first 8 bytes
# come last, an exact repeat ignored, an overlap repeating the bytes held
# (accepted), one contradicting them (the datagram given up: 7 packets), a
# 30 s timeout, a GRE packet in outer fragments
timeout 20 "$sm" replay --json --verify-checksums "$caps/frag4-cases.pcap" >"$tmp/out" 2>"$tmp/err"
ok=1
for want in '"10.1.0.1:40011".*"summary": "SF".*"packets": \[5, 3\]' \
    '"10.1.0.1:40012".*"summary": "SF".*"packets": \[4, 3\]' \
    '"10.1.0.1:40014".*"summary": "SF".*"packets": \[5, 3\]' \
    '"tcp": 23, "udp": 0, "skipped": 11, "frag4": 11, "tunneled": 8, "reassembled": 4, "frag_reassembled": 4, "frag_given_up": 3}'; do
    grep -q "$want" "$tmp/out" || { fail "frag4-cases.pcap: no $want: $(cat "$tmp/err") $(grep -o '"counts".*' "$tmp/out")"; ok=0; }
done
[ "$(grep -c '"summary"' "$tmp/out")" -eq 3 ] || { fail "frag4-cases.pcap: not 3 connections"; ok=0; }
[ $ok = 1 ] && echo "ok   frag4-cases.pcap"

# IPv6 reassembly's cases (tests/mkcap.c frag6_cases): the same as IPv4's
# (the SYN's fragments behind a Hop-by-Hop header), RFC 8200's 60 s timeout
# (a fragment 61 s late given up, one 45 s late reassembled), atomic
# fragments, IPv4 in IPv6 in outer fragments
timeout 20 "$sm" replay --json --verify-checksums "$caps/frag6-cases.pcap" >"$tmp/out" 2>"$tmp/err"
ok=1
for want in '"\[2001:db8:1::1\]:40031".*"summary": "SF".*"packets": \[5, 3\]' \
    '"\[2001:db8:1::1\]:40032".*"summary": "SF".*"packets": \[4, 3\]' \
    '"\[2001:db8:1::1\]:40035".*"summary": "SF".*"packets": \[5, 3\]' \
    '"10.1.0.1:40036".*"summary": "SF".*"packets": \[5, 3\]' \
    '"records": 44, "tcp": 31, "udp": 1, "skipped": 12, "frag6": 12, "ip6_ext": 9, "tunneled": 8, "reassembled": 5, "frag_reassembled": 5, "frag_given_up": 3}'; do
    grep -q "$want" "$tmp/out" || { fail "frag6-cases.pcap: no $want: $(cat "$tmp/err") $(grep -o '"counts".*' "$tmp/out")"; ok=0; }
done
[ "$(grep -c '"summary"' "$tmp/out")" -eq 4 ] || { fail "frag6-cases.pcap: not 4 connections"; ok=0; }
[ $ok = 1 ] && echo "ok   frag6-cases.pcap"

# encapsulations of IPv6 only (Teredo, with its origin and authentication
# indications, and a bubble): the v6 connection, the bubble counted
for f in "$caps"/enc6-*.pcap; do
    b=$(basename "$f")
    timeout 20 "$sm" replay --json --verify-checksums "$f" >"$tmp/out" 2>"$tmp/err"
    if grep "$v6" "$tmp/out" | grep -q '"summary": "SF".*"packets": \[5, 3\]' &&
        grep -q '"records": 9, "tcp": 8, "udp": 0, "skipped": 1, "ip6_no_next": 1, "tunneled": 8}' "$tmp/out" &&
        ! grep -q 'csum' "$tmp/out"; then
        echo "ok   $b"
    else
        fail "$b: $(cat "$tmp/err") $(grep -o '"counts".*' "$tmp/out")"
    fi
done

# A-MSDUs (tests/mkcap.c amsdu_file): every subframe a packet, padding
# between them, a subframe that is not IP counted and skipped
timeout 20 "$sm" replay --json --verify-checksums "$caps/amsdu.pcap" >"$tmp/out" 2>"$tmp/err"
if grep "$v4" "$tmp/out" | grep -q '"summary": "SF".*"packets": \[5, 3\]' &&
    grep "$v6" "$tmp/out" | grep -q '"summary": "SF".*"packets": \[5, 3\]' &&
    grep -q '"records": 8, "tcp": 16, "udp": 0, "skipped": 8, "subframes": 16, "llc": 8, "tunneled": 16}' "$tmp/out" &&
    ! grep -q 'csum' "$tmp/out"; then
    echo "ok   amsdu.pcap"
else
    fail "amsdu.pcap: $(cat "$tmp/err") $(grep -o '"counts".*' "$tmp/out")"
fi

# data reaching a side that closed (tests/mkcap.c tw_data_file): the server
# that answered with a RST holds no TIME_WAIT under any profile; new data
# into the client's TIME_WAIT: each profile's rule
timeout 20 "$sm" replay --json --profile linux,openbsd,solaris "$caps/tw-data.pcap" \
    >"$tmp/out" 2>"$tmp/err"
want_all tw-data.pcap '"profile": "linux", "client": "10.1.0.1:40021".*"server_time_wait_end": "own_rst"' \
    '"profile": "openbsd", "client": "10.1.0.1:40021".*"server_time_wait_end": "own_rst"' \
    '"profile": "linux", "client": "10.1.0.1:40022".*"client_time_wait_end": "live"' \
    '"profile": "solaris", "client": "10.1.0.1:40022".*"client_time_wait_end": "live"' \
    '"profile": "openbsd", "client": "10.1.0.1:40022".*"client_time_wait_end": "data"' \
    '"profile": "linux", "kind": "data_into_time_wait".*"action": "ack"' \
    '"profile": "solaris", "kind": "data_into_time_wait".*"action": "drop"' \
    '"profile": "openbsd", "kind": "data_into_time_wait".*"action": "rst"'

# TIME_WAIT lengths per connection (NetBSD's MSL classes) and the
# collector's runs (macOS tcp_gc(), every 10 s from when the first entry on
# the host armed it: that one lasts 30 s, the next, 8 ms younger, 39.992 s),
# as the engine's sm_tw_expiry_ns() gives them (tests/mkcap.c tw_len_file)
timeout 20 "$sm" replay --json --profile netbsd,macos,linux "$caps/tw-lengths.pcap" \
    >"$tmp/out" 2>"$tmp/err"
want_all tw-lengths.pcap '"profile": "netbsd", "client": "10.1.0.1:40031".*"client_time_wait_ms": 60000, "client_time_wait_end": "expired"' \
    '"profile": "netbsd", "client": "10.1.0.1:40032".*"client_time_wait_ms": 10000, "client_time_wait_end": "expired"' \
    '"profile": "macos", "client": "10.1.0.1:40031".*"client_time_wait_ms": 30000, "client_time_wait_end": "expired"' \
    '"profile": "macos", "client": "10.1.0.1:40032".*"client_time_wait_ms": 39992, "client_time_wait_end": "expired"' \
    '"profile": "linux", "client": "10.1.0.1:40032".*"client_time_wait_ms": 60000, "client_time_wait_end": "expired"'

# a RST after a SYN into TIME_WAIT that the OS answers with an ACK reaches
# the old connection's TIME_WAIT (tests/mkcap.c tw_syn_rst_file)
timeout 20 "$sm" replay --json --profile linux,freebsd-13 "$caps/tw-syn-rst.pcap" \
    >"$tmp/out" 2>"$tmp/err"
want_all tw-syn-rst.pcap \
    '"profile": "linux", "kind": "rst_killed_time_wait", "time": 0.009000, "frame": 10, "connection": 1, "host": "10.2.0.2:80"' \
    '"profile": "freebsd-13", "kind": "rst_ignored_in_time_wait", "time": 0.009000, "frame": 10, "connection": 1, "host": "10.2.0.2:80"'

# ports: three connections to three servers with a two-port range; Linux
# shares a port across destinations (no exhaustion), macOS does not (the
# host's count runs out), as the profiles' own port choice says
cat >"$tmp/ports.scn" <<'EOF'
host c addr 10.1.0.1
[linux*] sysctl net.ipv4.ip_local_port_range 40000 40001
[macos] sysctl net.inet.ip.portrange.first 40000
[macos] sysctl net.inet.ip.portrange.last 40001
EOF
timeout 20 "$sm" replay --json --profile linux,macos --scenario "$tmp/ports.scn" \
    "$caps/ports-shared.pcap" >"$tmp/out" 2>"$tmp/err"
want_all ports-shared.pcap \
    '"profile": "macos", "kind": "ports_exhausted".*"ports_needed": 3, "port_range": 2, "counted": "host"'
grep -q '"profile": "linux", "kind": "ports_exhausted"' "$tmp/out" &&
    fail "ports-shared.pcap: linux shares ports across destinations, yet ports_exhausted"

# IPv6 Home Address option and routing headers (types 2 and 0): the
# connections use the home address and the final destination, and the
# checksums (over those addresses) are right
timeout 20 "$sm" replay --json --verify-checksums "$caps/ip6-mobile.pcap" >"$tmp/out" 2>"$tmp/err"
ok=1
for want in '"client": "\[2001:db8:a::10\]:41000", "server": "\[2001:db8:b::20\]:80"' \
    '"client": "\[2001:db8:c::10\]:41001", "server": "\[2001:db8:b::20\]:443"'; do
    grep "$want" "$tmp/out" | grep -q '"summary": "SF"' || { fail "ip6-mobile.pcap: no $want"; ok=0; }
done
[ "$(grep -c '"summary"' "$tmp/out")" -eq 2 ] || { fail "ip6-mobile.pcap: not 2 connections"; ok=0; }
grep -q 'bad_l4_csum' "$tmp/out" && { fail "ip6-mobile.pcap: bad checksums counted"; ok=0; }
[ $ok = 1 ] && echo "ok   ip6-mobile.pcap"

exit $status

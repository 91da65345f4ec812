#!/bin/sh
# pcap-tshark.sh - captures written by the pcap writer (render/pcap_out.c)
# must read cleanly in tshark, the reference dissector.
#
# Captures checked:
#   demo      tests/check_pcap_out --demo FILE: a handcrafted IPv4 + IPv6
#             conversation (handshakes, data, FIN both ways, a simultaneous
#             close, RSTs, v4-mapped loopback, UDP); 27 frames.
#   scenario  sockmodel run --profile linux --pcap FILE
#             $SCENARIO_DIR/tcp/server-restart.scn (or $PCAP_SCENARIO),
#             checked once that file exists and `sockmodel run --help`
#             mentions --pcap; until then it is reported as not checked.
# For each: tshark (with IPv4/TCP/UDP checksum validation switched on; it
# is off by default) must exit 0 and print nothing on stderr, every IP/TCP/
# UDP checksum it verifies must be good, no expert item may be at severity
# Warning or Error except "Connection reset (RST)" (Wireshark files every
# RST as a warning; a refused connect or an abortive close is a modelled
# event, not a defect of the file), and some TCP stream must show the
# three-way handshake (SYN, SYN/ACK, ACK) and a FIN from each side.
# Self-checks: a copy of the demo with one TCP checksum byte changed, and
# one with a data segment removed, must both be rejected, so the checks
# above can fail.
#
#   SOCKMODEL=cli/sockmodel SCENARIO_DIR=scenarios \
#   PCAP_DEMO_WRITER=tests/check_pcap_out tests/pcap-tshark.sh
#
# Exit: 0 pass, 1 fail, 77 skipped (no tshark), 99 broken setup.
# tshark on Debian: DEBIAN_FRONTEND=noninteractive apt-get install -y tshark
# (preseed wireshark-common/install-setuid false to avoid the question).
set -u
: "${SOCKMODEL:?set SOCKMODEL to the sockmodel program}"
: "${SCENARIO_DIR:?set SCENARIO_DIR to the scenario directory}"
. "$(dirname "$0")/need-pcap.sh" # skipped (77) in a build without libpcap

if ! command -v tshark >/dev/null 2>&1; then
    echo "SKIP: tshark is not installed (Debian: apt-get install tshark)"
    exit 77
fi
writer=${PCAP_DEMO_WRITER:-$(dirname "$SOCKMODEL")/../tests/check_pcap_out}
scenario=${PCAP_SCENARIO:-$SCENARIO_DIR/tcp/server-restart.scn}
[ -x "$writer" ] || { echo "pcap-tshark: no demo writer $writer"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-pcap-tshark.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM

# Checksum validation on; no name resolution (no DNS, same output anywhere).
tsopts="-n -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE"
# tshark started as root always says so on stderr; that line is not about
# the file.
root_note='^Running as user "root" and group "root"\. This could be dangerous\.$'

# ts FILE OUT ARGS...: tshark -r FILE ARGS > OUT; false (with the reason
# printed) if it failed or wrote anything else to stderr.
ts() {
    _f=$1 _out=$2
    shift 2
    # shellcheck disable=SC2086 # $tsopts: word splitting intended
    tshark -r "$_f" $tsopts "$@" >"$_out" 2>"$tmp/stderr"
    rc=$?
    grep -v -E "$root_note" "$tmp/stderr" >"$tmp/stderr.rest"
    if [ "$rc" -ne 0 ] || [ -s "$tmp/stderr.rest" ]; then
        echo "  tshark $* exited $rc; stderr:"
        sed 's/^/    /' "$tmp/stderr.rest"
        return 1
    fi
    return 0
}

# check NAME FILE [FRAMES]: every check above on one capture; FRAMES, if
# given, is the number of frames it must hold.
check() {
    name=$1 f=$2 want=${3:-}
    bad=0
    echo "== $name: tshark -r $(basename "$f")"
    ts "$f" "$tmp/summary" || return 1
    sed 's/^/  /' "$tmp/summary"
    n=$(wc -l <"$tmp/summary" | tr -d ' ')
    if [ "$n" -eq 0 ]; then
        echo "FAIL $name: no frames"
        return 1
    fi
    if [ -n "$want" ] && [ "$n" -ne "$want" ]; then
        echo "FAIL $name: $n frames, want $want"
        bad=1
    fi

    # Expert items: severity and message of each, paired up ('|' joins the
    # items of one frame).  PI_WARN = 0x00600000 (6291456), PI_ERROR above.
    ts "$f" "$tmp/expert" -T fields -E aggregator='|' -e frame.number \
        -e _ws.expert.severity -e _ws.expert.message || return 1
    awk -F '\t' -v name="$name" '
        $2 != "" {
            ns = split($2, sev, "|"); split($3, msg, "|")
            for (i = 1; i <= ns; i++) {
                if (sev[i] + 0 < 6291456) continue
                if (msg[i] == "Connection reset (RST)") { rst++; continue }
                printf "FAIL %s: frame %s: expert %s: %s\n", name, $1,
                       (sev[i] + 0 >= 8388608 ? "error" : "warning"), msg[i]
                bad++
            }
        }
        END {
            if (rst) printf "  %d RST frame(s) (expert warning \"Connection reset\", allowed)\n", rst
            exit (bad > 0)
        }' "$tmp/expert" || bad=1

    # Checksums: 1 = good, 0 = bad, 2 = unverified (must not happen here).
    ts "$f" "$tmp/cks" -T fields -e frame.number -e ip.checksum.status \
        -e tcp.checksum.status -e udp.checksum.status || return 1
    awk -F '\t' -v name="$name" '
        { for (i = 2; i <= NF; i++) if ($i != "") {
              n++
              if ($i != "1") { printf "FAIL %s: frame %s: checksum status %s\n", name, $1, $i; bad++ }
          } }
        END { if (!n) { printf "FAIL %s: no checksum verified\n", name; bad++ }
              else printf "  %d checksums verified good\n", n
              exit (bad > 0) }' "$tmp/cks" || bad=1

    # Handshake and close, per TCP stream; a side is "address port".
    ts "$f" "$tmp/flags" -Y tcp -T fields -e tcp.stream -e ip.src \
        -e ipv6.src -e tcp.srcport -e tcp.flags.syn -e tcp.flags.ack \
        -e tcp.flags.fin -e tcp.flags.reset || return 1
    awk -F '\t' -v name="$name" '
        function on(v) { return v == "1" || tolower(v) == "true" }
        {
            s = $1; side = $2 $3 " " $4
            syn = on($5); ack = on($6); fin = on($7); rst = on($8)
            if (syn && !ack && !rst && !(s in client)) client[s] = side
            else if (syn && ack && (s in client) && side != client[s]) synack[s] = 1
            else if (!syn && ack && !rst && synack[s] && side == client[s] && !(s in hs)) hs[s] = 1
            if (fin) { if (side == client[s]) cfin[s] = 1; else sfin[s] = 1 }
        }
        END {
            for (s in hs) { nhs++; if (cfin[s] && sfin[s]) nclose++ }
            printf "  %d TCP stream(s) with a full handshake, %d of them closed with a FIN each way\n", nhs, nclose
            if (!nhs) { printf "FAIL %s: no SYN, SYN/ACK, ACK handshake\n", name; exit 1 }
            if (!nclose) { printf "FAIL %s: no FIN from both sides of a connection\n", name; exit 1 }
        }' "$tmp/flags" || bad=1

    [ "$bad" -eq 0 ] && echo "ok   $name"
    return "$bad"
}

status=0

# ---- the demo capture ---------------------------------------------------------
if ! "$writer" --demo "$tmp/demo.pcap"; then
    echo "FAIL demo: $writer --demo failed"
    exit 1
fi
check demo "$tmp/demo.pcap" 27 || status=1

# ---- self-check: a bad TCP checksum must be caught ----------------------------
# Frame 1 (IPv4 SYN): 24-byte file header, 16-byte record header, Ethernet
# 14, IPv4 20, then the TCP checksum at offset 16 of the TCP header.
cp "$tmp/demo.pcap" "$tmp/broken.pcap"
printf '\125\252' | dd of="$tmp/broken.pcap" bs=1 seek=$((24 + 16 + 14 + 20 + 16)) \
    conv=notrunc 2>/dev/null
if check "self-check (bad checksum)" "$tmp/broken.pcap" >"$tmp/selfcheck" 2>&1; then
    echo "FAIL self-check: a capture with a wrong TCP checksum passed"
    status=1
else
    echo "ok   self-check: a wrong TCP checksum is reported:"
    grep '^FAIL' "$tmp/selfcheck" | sed 's/^/  /'
fi

# ---- self-check: a missing segment must be caught ------------------------------
# Without frame 4 (1460 bytes of data) tshark warns "previous segment(s) not
# captured": the expert check can fail.  editcap comes with tshark.
if command -v editcap >/dev/null 2>&1; then
    editcap "$tmp/demo.pcap" "$tmp/gap.pcap" 4 2>/dev/null
    if check "self-check (missing segment)" "$tmp/gap.pcap" >"$tmp/selfcheck" 2>&1; then
        echo "FAIL self-check: a capture with a missing segment passed"
        status=1
    else
        echo "ok   self-check: a missing segment is reported:"
        grep '^FAIL' "$tmp/selfcheck" | sed 's/^/  /'
    fi
else
    echo "note: self-check not run (editcap is not installed)"
fi

# ---- the scenario capture -------------------------------------------------------
if [ ! -f "$scenario" ]; then
    echo "note: $scenario does not exist yet: scenario capture not checked"
elif ! "$SOCKMODEL" run --help 2>/dev/null | grep -q -e '--pcap'; then
    echo "note: $SOCKMODEL run has no --pcap yet: scenario capture not checked"
else
    "$SOCKMODEL" run --profile linux --pcap "$tmp/scenario.pcap" "$scenario" \
        >"$tmp/run.out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] || [ ! -s "$tmp/scenario.pcap" ]; then
        echo "FAIL scenario: sockmodel run --pcap exited $rc"
        sed 's/^/  /' "$tmp/run.out" | tail -20
        status=1
    else
        check "$(basename "$scenario")" "$tmp/scenario.pcap" || status=1
    fi
fi

exit $status

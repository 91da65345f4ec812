#!/bin/sh
# replay-tshark.sh - the replay reader's TCP conversation count
# (replay/conv.c, through bench/replay_read) must agree with
# `tshark -q -z conv,tcp` on the same file, row by row (the endpoints of
# each conversation and its frame count), on:
#   kernel     real traffic: the script re-runs itself inside a private
#              network namespace (unshare -n; only its own loopback, never
#              a real interface), brings lo up, captures lo with tcpdump
#              and makes connections on 127.0.0.1 and ::1 with python3:
#              client-first and server-first closes, an abortive close
#              (SO_LINGER 0: RST), a refused connect, a client that
#              reconnects from the same port to the same server (the
#              4-tuple reused while the server holds it in TIME_WAIT), UDP
#              datagrams (answered by ICMP port unreachable); with curl,
#              also HTTP requests to a python3 http.server.  At least the
#              conversations the script made must be seen (14 planned).
#   generated  bench/gen_capture --packets 20000 with heavy port reuse (20
#              clients, 4 ports each): more conversations than 4-tuples.
# On both captures `sockmodel replay --profile linux,windows --json` must
# then list, per profile, exactly tshark's number of connections, each with
# client, server, client_state, server_state and summary; on the kernel
# capture also (linux): a client that closed first and holds TIME_WAIT, a
# server that closed first and holds TIME_WAIT, and a SYN that reached a
# TIME_WAIT (the reconnects from a fixed port) and was accepted.
#
#   SOCKMODEL=cli/sockmodel tests/replay-tshark.sh     (from the build dir;
#   or REPLAY_READ=... GEN_CAPTURE=... to name the tools directly)
#
# Exit: 0 pass, 1 fail, 77 skipped (no tshark; the kernel part alone is
# skipped, with the reason, without unshare/tcpdump/python3 or the right
# to make a network namespace), 99 broken setup.
set -u

if [ "${RP_IN_NETNS:-}" = 1 ]; then
    # ---- inside the namespace: capture loopback traffic into $1 ---------
    out=$1
    ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null || exit 3
    # -Z root: no privilege drop, so the file can be written in a 0700
    # temporary directory whoever tcpdump would become.
    tcpdump -Z root -i lo -U -s 0 -w "$out" >"$out.log" 2>&1 &
    tdpid=$!
    n=0
    while ! grep -q "listening on" "$out.log" 2>/dev/null; do
        n=$((n + 1))
        [ $n -gt 100 ] && { kill "$tdpid" 2>/dev/null; exit 4; }
        sleep 0.05
    done
    # "listening on" comes before the capture is live, and under load
    # long before: send UDP probes until one is in the file (-U writes
    # each packet as it comes), so no conversation below is missed.
    n=0
    while :; do
        python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"sync", ("127.0.0.1", 7))'
        sleep 0.1
        [ "$(tcpdump -r "$out" -nn udp port 7 2>/dev/null | wc -l)" -gt 0 ] && break
        n=$((n + 1))
        [ $n -gt 100 ] && { kill "$tdpid" 2>/dev/null; exit 4; }
    done
    RP_MADE="$out.made" python3 - <<'EOF'
import os, socket, struct, time

made = 0  # TCP conversations this script surely put on the wire

def pair(fam, host, lst, cport=None):
    c = socket.socket(fam, socket.SOCK_STREAM)
    if cport:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind((host, cport))
    c.connect(lst.getsockname()[:2])
    s, _ = lst.accept()
    c.sendall(b"GET / HTTP/1.0\r\n\r\n")
    s.recv(100)
    s.sendall(b"x" * 3000)
    got = 0
    while got < 3000:
        got += len(c.recv(4096))
    return c, s

def drain(sock):
    while sock.recv(4096):
        pass

for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    lst = socket.socket(fam, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((host, 0))
    lst.listen(16)
    c, s = pair(fam, host, lst)          # client closes first
    c.close(); drain(s); s.close()
    c, s = pair(fam, host, lst)          # server closes first
    s.close(); drain(c); c.close()
    c, s = pair(fam, host, lst)          # abortive close: RST
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close(); time.sleep(0.05); s.close()
    made += 3
    # the same client port three times: the server closes first, so the
    # server holds the 4-tuple in TIME_WAIT when the next SYN comes
    cport = 47001 if fam == socket.AF_INET else 47002
    for i in range(3):
        try:
            c, s = pair(fam, host, lst, cport)
            s.close(); drain(c); c.close()
            made += 1
            time.sleep(0.05)
        except OSError:
            pass
    lport = lst.getsockname()[1]
    lst.close()
    # refused: nothing listens on that port any more
    r = socket.socket(fam, socket.SOCK_STREAM)
    try:
        r.connect((host, lport))
    except ConnectionRefusedError:
        made += 1
    except OSError:
        pass
    r.close()
    u = socket.socket(fam, socket.SOCK_DGRAM)
    for i in range(3):
        u.sendto(b"ping", (host, 9))
    u.close()
with open(os.environ["RP_MADE"], "w") as f:
    f.write("%d\n" % made)
EOF
    if command -v curl >/dev/null 2>&1; then
        python3 -m http.server 8089 --bind 127.0.0.1 >/dev/null 2>&1 &
        hpid=$!
        n=0
        until curl -s -o /dev/null http://127.0.0.1:8089/ 2>/dev/null; do
            n=$((n + 1))
            [ $n -gt 50 ] && break
            sleep 0.1
        done
        kill "$hpid" 2>/dev/null
        wait "$hpid" 2>/dev/null
    fi
    # the same at the end: a last probe in the file means every packet
    # before it is there too
    seen=$(tcpdump -r "$out" -nn udp port 7 2>/dev/null | wc -l)
    n=0
    while :; do
        python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"sync", ("127.0.0.1", 7))'
        sleep 0.1
        [ "$(tcpdump -r "$out" -nn udp port 7 2>/dev/null | wc -l)" -gt "$seen" ] && break
        n=$((n + 1))
        [ $n -gt 100 ] && break
    done
    kill -INT "$tdpid"
    wait "$tdpid"
    exit 0
fi

. "$(dirname "$0")/need-pcap.sh" # skipped (77) in a build without libpcap
if ! command -v tshark >/dev/null 2>&1; then
    echo "SKIP: tshark is not installed (Debian: apt-get install tshark)"
    exit 77
fi
bindir=
[ -n "${SOCKMODEL:-}" ] && bindir=$(dirname "$SOCKMODEL")/..
reader=${REPLAY_READ:-$bindir/bench/replay_read}
gen=${GEN_CAPTURE:-$bindir/bench/gen_capture}
[ -x "$reader" ] || { echo "replay-tshark: no reader tool $reader (set REPLAY_READ)"; exit 99; }
[ -x "$gen" ] || { echo "replay-tshark: no generator $gen (set GEN_CAPTURE)"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-replay-tshark.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 99' HUP INT TERM

# compare NAME FILE MIN: rows of replay_read and tshark must be equal.
status=0
compare() {
    _name=$1 _f=$2 _min=$3
    if ! "$reader" --rows "$_f" >"$tmp/mine.out" 2>"$tmp/mine.err"; then
        echo "FAIL $_name: replay_read failed: $(cat "$tmp/mine.err")"
        status=1
        return
    fi
    # rows: "A <-> B frames first"; tshark prints IPv6 without brackets
    grep ' <-> ' "$tmp/mine.out" | awk '{print $1, $3, $4}' | tr -d '[]' |
        LC_ALL=C sort >"$tmp/mine.rows"
    mine=$(sed -n 's/.*conversations=\([0-9]*\).*/\1/p' "$tmp/mine.out")
    tshark -n -r "$_f" -q -z conv,tcp >"$tmp/ts.out" 2>"$tmp/ts.err" || {
        echo "FAIL $_name: tshark failed: $(cat "$tmp/ts.err")"
        status=1
        return
    }
    # columns: A <-> B | frames bytes unit | frames bytes unit | total ...
    grep ' <-> ' "$tmp/ts.out" | awk '{print $1, $3, $10}' | LC_ALL=C sort >"$tmp/ts.rows"
    theirs=$(wc -l <"$tmp/ts.rows" | tr -d ' ')
    if [ "$mine" != "$theirs" ]; then
        echo "FAIL $_name: $mine conversations, tshark -z conv,tcp: $theirs"
        diff "$tmp/mine.rows" "$tmp/ts.rows" | head -20
        status=1
    elif ! cmp -s "$tmp/mine.rows" "$tmp/ts.rows"; then
        echo "FAIL $_name: $mine conversations as tshark, but the rows differ:"
        diff "$tmp/mine.rows" "$tmp/ts.rows" | head -20
        status=1
    elif [ "$mine" -lt "$_min" ]; then
        echo "FAIL $_name: only $mine conversations (at least $_min expected)"
        status=1
    else
        echo "ok   $_name: $mine conversations, same rows as tshark -q -z conv,tcp"
    fi
}

# model NAME FILE KERNEL: the replay of FILE under linux and windows.
sm=${SOCKMODEL:-$bindir/cli/sockmodel}
model() {
    _name=$1 _f=$2 _kernel=$3
    if ! "$sm" replay --profile linux,windows --json "$_f" >"$tmp/rp.json" 2>"$tmp/rp.err"; then
        echo "FAIL $_name replay: exit status $?: $(head -3 "$tmp/rp.err")"
        status=1
        return
    fi
    for _p in linux windows; do
        _n=$(grep -c "^  {\"id\": [0-9]*, \"profile\": \"$_p\", \"client\": \"[^\"]*:[0-9]*\", \"server\": \"[^\"]*:[0-9]*\", \"client_state\": \"[A-Z_0-9]*\", \"server_state\": \"[A-Z_0-9]*\", \"summary\": \"[A-Z0-9]*\"" "$tmp/rp.json")
        if [ "$_n" != "$theirs" ]; then
            echo "FAIL $_name replay: $_n well-formed $_p connections, tshark -z conv,tcp: $theirs"
            status=1
            return
        fi
    done
    echo "ok   $_name replay: $theirs connections under linux and windows, as tshark"
    [ "$_kernel" = 1 ] || return
    _lin=$(grep '"profile": "linux"' "$tmp/rp.json")
    if ! echo "$_lin" | grep '"closed_first_by": "client"' | grep -q '"client_state": "TIME_WAIT"'; then
        echo "FAIL $_name replay: no client that closed first holds TIME_WAIT under linux"
        status=1
    elif ! echo "$_lin" | grep '"closed_first_by": "server"' | grep -q '"server_state": "TIME_WAIT"'; then
        echo "FAIL $_name replay: no server that closed first holds TIME_WAIT under linux"
        status=1
    elif ! grep '"profile": "linux", "kind": "syn_into_time_wait"' "$tmp/rp.json" | grep -q '"action": "accept"'; then
        echo "FAIL $_name replay: no accepted SYN into TIME_WAIT under linux"
        status=1
    else
        echo "ok   $_name replay: active closers in TIME_WAIT, SYN into TIME_WAIT accepted (linux)"
    fi
}

# ---- kernel traffic --------------------------------------------------------
why=
for t in unshare tcpdump python3; do
    command -v "$t" >/dev/null 2>&1 || why="$t is not installed"
done
if [ -z "$why" ] && ! unshare -n true 2>/dev/null; then
    why="cannot create a network namespace (unshare -n needs root or CAP_SYS_ADMIN)"
fi
if [ -z "$why" ]; then
    # Under heavy load tcpdump has been seen to write an empty capture;
    # capture again (at most 3 times) before judging it.
    tries=0 captured=no
    while [ $tries -lt 3 ] && [ $captured = no ]; do
        tries=$((tries + 1))
        rm -f "$tmp/kernel.pcap"
        RP_IN_NETNS=1 unshare -n sh "$0" "$tmp/kernel.pcap" >"$tmp/netns.log" 2>&1 || break
        [ "$(wc -c <"$tmp/kernel.pcap" 2>/dev/null || echo 0)" -gt 4096 ] && captured=yes
    done
    [ $tries -gt 1 ] && echo "note: kernel capture taken $tries times (an empty one before)"
    if [ $captured = yes ] || [ -s "$tmp/kernel.pcap" ]; then
        # at least the conversations the script made (14 when every
        # reconnect over a TIME_WAIT got through; fewer under heavy load)
        made=$(cat "$tmp/kernel.pcap.made" 2>/dev/null || echo 14)
        [ "$made" -lt 14 ] && echo "note: $made of 14 planned conversations were made"
        compare kernel "$tmp/kernel.pcap" "$made"
        model kernel "$tmp/kernel.pcap" 1
    else
        why="capture in the namespace failed: $(tail -3 "$tmp/netns.log" "$tmp/kernel.pcap.log" 2>/dev/null | tr '\n' ' ')"
    fi
fi
kernel_skipped=
if [ -n "$why" ]; then
    echo "SKIP kernel: $why"
    kernel_skipped=1
fi

# ---- generated capture -----------------------------------------------------
if "$gen" --packets 20000 --seed 7 --clients 20 --ports 4 --out "$tmp/gen.pcap" 2>"$tmp/gen.err"; then
    compare generated "$tmp/gen.pcap" 500
    model generated "$tmp/gen.pcap" 0
    tuples=$(sed -n 's/.*tuples=\([0-9]*\).*/\1/p' "$tmp/mine.out")
    if [ "${mine:-0}" -le "${tuples:-0}" ]; then
        echo "FAIL generated: no 4-tuple reuse ($mine conversations, $tuples 4-tuples)"
        status=1
    fi
else
    echo "FAIL generated: gen_capture failed: $(cat "$tmp/gen.err")"
    status=1
fi

[ $status -eq 0 ] && [ -n "$kernel_skipped" ] && echo "(kernel part skipped; generated part passed)"
exit $status

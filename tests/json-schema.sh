#!/bin/sh
# Every --json the program writes, validated by a real JSON Schema
# validator (python3-jsonschema) against the schema of the format it
# declares (docs/schema/FORMAT-VERSION.schema.json):
#  - run --json --profile all of every scenario under scenarios/ (one
#    document per file);
#  - replay --json of every capture in tests/captures that replays, and of
#    captures the model wrote for the TCP scenarios;
#  - trace --json of the strace logs in tests/data/strace, exec --json of a
#    small Python program;
#  - probe --json (the default matrix, and with another user).
# Then documents broken on purpose (a field removed, a rule ID reworded
# into prose, a wrong format name) must be rejected, so the check cannot
# pass by accepting anything.  Skips (77) without python3 or jsonschema.
set -u
: "${SOCKMODEL:?}" "${SCENARIO_DIR:?}" "${TESTS_DIR:?}"
top=$(cd "$TESTS_DIR/.." && pwd)
schemas=$top/docs/schema
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
python3 -c 'import jsonschema' 2>/dev/null ||
    { echo "SKIP: python3 module jsonschema not found (Debian: python3-jsonschema)"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
list=$tmp/list
: >"$list"
n=0
# doc FORMAT: the next document's path in $out, listed with the format it must declare
doc() { n=$((n + 1)); out=$tmp/d$n.json; echo "$out $1" >>"$list"; }
undoc() { n=$((n - 1)); sed -i '$d' "$list"; }

# run: every scenario file, every profile
files=$(cd "$SCENARIO_DIR" && find . -name '*.scn' | LC_ALL=C sort)
for f in $files; do
    doc sockmodel-run/2
    (cd "$SCENARIO_DIR" && "$SOCKMODEL" run --json --profile all "$f") >"$out"
    rc=$?
    [ $rc -le 1 ] || fail "run --json $f: exit $rc"
done

# replay: the captures in the tree that replay, and the model's own
for c in "$TESTS_DIR"/captures/*.pcap "$TESTS_DIR"/captures/*.pcapng; do
    [ -f "$c" ] || continue
    doc sockmodel-replay/1
    "$SOCKMODEL" replay --json --profile all "$c" >"$out" 2>/dev/null ||
        undoc   # a capture it refuses: exit 2, no document
done
for f in tcp/close-orders.scn replay/closes.scn replay/reuse.scn; do
    [ -f "$SCENARIO_DIR/$f" ] || continue
    (cd "$SCENARIO_DIR" && "$SOCKMODEL" run --profile linux --pcap "$tmp/c.pcap" "$f") >/dev/null
    if [ -s "$tmp/c.pcap" ]; then
        doc sockmodel-replay/1
        "$SOCKMODEL" replay --json --profile all "$tmp/c.pcap" >"$out" ||
            fail "replay --json of $f's capture"
    fi
done

# trace and exec (some log must give a divergence, with its rule ID)
ruled=0
for l in "$TESTS_DIR"/data/strace/*.strace; do
    doc sockmodel-exec/1
    "$SOCKMODEL" trace --json --profile all "$l" >"$out"
    [ $? -le 1 ] || fail "trace --json $l"
    grep -q '"rule_id": "' "$out" && ruled=$((ruled + 1))
done
[ $ruled -gt 0 ] || fail "trace --json: no log gave a divergence with a rule ID"
doc sockmodel-exec/1
"$SOCKMODEL" exec --json --profile all -- python3 -c '
import socket
a = socket.socket(); a.bind(("127.0.0.1", 0)); a.listen()
b = socket.socket(); b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: b.bind(a.getsockname())
except OSError: pass
' >"$out" 2>"$tmp/exec.err"
rc=$?
if [ $rc -gt 1 ]; then
    # a sanitizer build cannot preload its shim into another program
    echo "note: exec could not run here (exit $rc), exec --json not validated: $(head -1 "$tmp/exec.err")"
    undoc
fi

# probe
doc sockmodel-probe/1
"$SOCKMODEL" probe --json --profile all >"$out" || fail "probe --json"
doc sockmodel-probe/1
"$SOCKMODEL" probe --json --other-user --profile all >"$out" || fail "probe --json --other-user"

python3 "$TESTS_DIR/json-schema.py" "$schemas" "$list" || fail "documents do not match their schemas"

# A rule's source is the same string in every format: its record's ("" when
# it cites none), never a placeholder of one report.
python3 - "$list" <<'PY' || fail "a rule's source differs between formats"
import json, sys
seen, bad = {}, 0
def walk(x, fmt):
    global bad
    if isinstance(x, dict):
        if isinstance(x.get("rule_id"), str) and "source" in x:
            s = x["source"]
            prev = seen.setdefault(x["rule_id"], (s, fmt))
            if prev[0] != s and bad < 5:
                print("%s: source %r in %s, %r in %s" % (x["rule_id"], prev[0], prev[1], s, fmt))
            if prev[0] != s:
                bad += 1
        for v in x.values():
            walk(v, fmt)
    elif isinstance(x, list):
        for v in x:
            walk(v, fmt)
for line in open(sys.argv[1]):
    path, fmt = line.split()
    walk(json.load(open(path)), fmt)
ids = [i for i, (s, f) in seen.items() if s == ""]
print("json-schema: %d rule IDs, each with one source in every format (%d cite none)" % (len(seen), len(ids)))
sys.exit(1 if bad else 0)
PY

# The validator must reject broken documents.
python3 - "$tmp" "$list" <<'PY' || exit 1
import json, sys
tmp, listing = sys.argv[1], sys.argv[2]
docs = [l.split() for l in open(listing)]
def first(fmt):
    return json.load(open([p for p, f in docs if f == fmt][0]))
bad = []
d = first("sockmodel-run/2")
o = next(iter(d["files"][0]["steps"][0]["outcomes"].values()))
del o["rule_id"]; bad.append(("run-no-rule-id", d))
d = first("sockmodel-run/2")
o = next(iter(d["files"][0]["steps"][0]["outcomes"].values()))
o["rule_id"] = "A new socket holds no port"; bad.append(("run-prose-id", d))
d = first("sockmodel-run/2"); d["format"] = "sockmodel-run/1"; bad.append(("run-old-format", d))
d = first("sockmodel-probe/1"); d["cells"][0]["outcomes"] = {"linux": {"result": "OK"}}
bad.append(("probe-no-rule", d))
d = first("sockmodel-exec/1"); del d["diverges"]; bad.append(("exec-no-diverges", d))
d = first("sockmodel-replay/1"); d["connections"] = [{"id": 0}]; bad.append(("replay-bad-conn", d))
with open(tmp + "/badlist", "w") as f:
    for name, d in bad:
        p = "%s/bad-%s.json" % (tmp, name)
        json.dump(d, open(p, "w"))
        f.write(p + "\n")
PY
python3 "$TESTS_DIR/json-schema.py" "$schemas" "$tmp/badlist" >"$tmp/bad.out"
[ $? = 1 ] || { cat "$tmp/bad.out"; fail "broken documents were accepted"; }
nbad=$(grep -c 'schema errors\|no schema for format' "$tmp/bad.out")
[ "$nbad" = 6 ] || { cat "$tmp/bad.out"; fail "$nbad of 6 broken documents rejected"; }
echo "json-schema: $n documents valid; 6 broken ones rejected"

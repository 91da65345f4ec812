#!/usr/bin/env python3
"""tests/json-schema.py SCHEMA_DIR LIST - validates JSON documents against
the schema their own "format" names, with the jsonschema package (Debian:
python3-jsonschema).  LIST has one line per document: PATH [FORMAT], where
FORMAT (e.g. sockmodel-run/2) is the format the document must declare.
Each schema is first checked against its own meta-schema.  Prints one line
per invalid document and the count; exit 0 when every one is valid, 1
otherwise, 77 when jsonschema is missing."""
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("SKIP: python3 module jsonschema not found (Debian: python3-jsonschema)")
    sys.exit(77)


def validator_for(schema_dir, fmt, cache):
    if fmt not in cache:
        name, ver = fmt.split("/")
        path = os.path.join(schema_dir, "%s-%s.schema.json" % (name, ver))
        with open(path) as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        cache[fmt] = cls(schema)
    return cache[fmt]


def main():
    schema_dir, listing = sys.argv[1], sys.argv[2]
    cache, bad, n = {}, 0, 0
    with open(listing) as lf:
        for line in lf:
            parts = line.split()
            if not parts:
                continue
            path, want = parts[0], parts[1] if len(parts) > 1 else None
            n += 1
            try:
                with open(path) as f:
                    doc = json.load(f)
            except (OSError, ValueError) as e:
                print("%s: not JSON: %s" % (path, e))
                bad += 1
                continue
            fmt = doc.get("format") if isinstance(doc, dict) else None
            if not isinstance(fmt, str) or "/" not in fmt:
                print("%s: no format name" % path)
                bad += 1
                continue
            if want and fmt != want:
                print("%s: format %s, expected %s" % (path, fmt, want))
                bad += 1
                continue
            try:
                v = validator_for(schema_dir, fmt, cache)
            except OSError:
                print("%s: no schema for format %s" % (path, fmt))
                bad += 1
                continue
            errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
            if errs:
                bad += 1
                e = errs[0]
                print("%s: %d schema errors; first at /%s: %s" % (
                    path, len(errs), "/".join(str(p) for p in e.absolute_path),
                    e.message[:300]))
    print("%d documents, %d invalid, %d formats: %s" % (
        n, bad, len(cache), " ".join(sorted(cache))))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

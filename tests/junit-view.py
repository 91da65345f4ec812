#!/usr/bin/env python3
"""tests/junit-view.py JUNIT.xml OUTDIR - renders a JUnit XML report the way a
CI system's test page shows it (totals, then each suite with its failing
cases first, each failure's message and detail), as OUTDIR/index.html and
OUTDIR/summary.txt.  Reads the XML with Python's own parser, as CI plugins
read it: a report it cannot parse, or one whose counts disagree with its
cases, is an error (exit 1)."""
import html
import os
import sys
import xml.etree.ElementTree as ET


def suites_of(root):
    return [root] if root.tag == "testsuite" else root.findall("testsuite")


def main():
    path, outdir = sys.argv[1], sys.argv[2]
    root = ET.parse(path).getroot()
    os.makedirs(outdir, exist_ok=True)
    total = failed = 0
    text, body = [], []
    for s in suites_of(root):
        cases = s.findall("testcase")
        bad = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
        if int(s.get("tests", -1)) != len(cases) or int(s.get("failures", -1)) != len(bad):
            print("%s: suite %s: tests=%s failures=%s but %d cases, %d failing" % (
                path, s.get("name"), s.get("tests"), s.get("failures"), len(cases), len(bad)))
            return 1
        total += len(cases)
        failed += len(bad)
        mark = "FAILED" if bad else "passed"
        text.append("%s  %s  (%d/%d passed)" % (mark, s.get("name"), len(cases) - len(bad), len(cases)))
        body.append('<h2 class="%s">%s <small>%d/%d passed</small></h2>\n<table>' % (
            "fail" if bad else "pass", html.escape(s.get("name", "")), len(cases) - len(bad),
            len(cases)))
        for c in bad + [c for c in cases if c not in bad]:
            name = "%s . %s" % (c.get("classname", ""), c.get("name", ""))
            out = c.findtext("system-out") or ""
            fails = c.findall("failure") + c.findall("error")
            body.append('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td></tr>' % (
                "fail" if fails else "pass", "FAILED" if fails else "passed",
                html.escape(c.get("name", "")), html.escape(out)))
            for f in fails:
                text.append("    FAILED %s" % name)
                text.append("      %s" % f.get("message", ""))
                for line in (f.text or "").splitlines():
                    text.append("        %s" % line)
                body.append('<tr class="detail"><td></td><td colspan="2"><b>%s</b><pre>%s</pre>'
                            '</td></tr>' % (html.escape(f.get("message", "")),
                                            html.escape(f.text or "")))
        body.append("</table>")
    head = "%d tests, %d failed, %d passed" % (total, failed, total - failed)
    with open(os.path.join(outdir, "summary.txt"), "w") as f:
        f.write("Test results: %s\n\n%s\n" % (head, "\n".join(text)))
    with open(os.path.join(outdir, "index.html"), "w") as f:
        f.write('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Test results</title>'
                "<style>body{font-family:sans-serif} .fail{color:#b00} .pass{color:#070}"
                " td{padding:2px 8px;vertical-align:top} pre{color:#333;white-space:pre-wrap}"
                "</style></head><body>\n<h1>Test results: %s</h1>\n%s\n</body></html>\n" % (
                    html.escape(head), "\n".join(body)))
    print(head)
    return 0


if __name__ == "__main__":
    sys.exit(main())

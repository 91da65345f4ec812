#!/bin/sh
# scripts/setup.sh - install what the build needs (Debian, as root), then
# generate, configure and build sockmodel in the source tree.
# Used by run-demo.sh and run-tests.sh; safe to run again.
set -eu
cd "$(dirname "$0")/.."

need_pkgs=""
have() { command -v "$1" >/dev/null 2>&1; }
have_hdr() { [ -f "/usr/include/$1" ]; }
have autoreconf || need_pkgs="$need_pkgs autoconf"
have automake   || need_pkgs="$need_pkgs automake"
have libtoolize || need_pkgs="$need_pkgs libtool"
have pkg-config || need_pkgs="$need_pkgs pkg-config"
have make       || need_pkgs="$need_pkgs make"
have cc         || need_pkgs="$need_pkgs gcc"
have_hdr check.h || need_pkgs="$need_pkgs check"
have_hdr pcap.h  || need_pkgs="$need_pkgs libpcap-dev"
# The full test run (run-tests.sh) also uses these.
if [ "${SETUP_TEST_TOOLS:-0}" = 1 ]; then
    have clang    || need_pkgs="$need_pkgs clang"
    have valgrind || need_pkgs="$need_pkgs valgrind"
    have cppcheck || need_pkgs="$need_pkgs cppcheck"
    have tshark   || need_pkgs="$need_pkgs tshark"
    have tcpdump  || need_pkgs="$need_pkgs tcpdump"
    # real programs for `sockmodel exec` / `trace` (tests/exec-programs.sh)
    have curl     || need_pkgs="$need_pkgs curl"
    have socat    || need_pkgs="$need_pkgs socat"
    have strace   || need_pkgs="$need_pkgs strace"
    have python3  || need_pkgs="$need_pkgs python3"
    have xmllint  || need_pkgs="$need_pkgs libxml2-utils"
    # tests/html-chromium.sh: the HTML report in a real (headless) browser.
    have chromium || need_pkgs="$need_pkgs chromium"
    # the Python package's test (tests/python.sh)
    /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || need_pkgs="$need_pkgs python3-venv"
    /usr/bin/python3 -c 'import pytest' 2>/dev/null || need_pkgs="$need_pkgs python3-pytest"
    /usr/bin/python3 -c 'import wheel' 2>/dev/null || need_pkgs="$need_pkgs python3-wheel"
    # the JSON Schema check of every --json format (tests/json-schema.sh)
    /usr/bin/python3 -c 'import jsonschema' 2>/dev/null || need_pkgs="$need_pkgs python3-jsonschema"
    # consumers of run --tap and --junit (tests/ci-reports.sh)
    have prove    || need_pkgs="$need_pkgs perl"
    have musl-gcc || need_pkgs="$need_pkgs musl-tools"   # tests/musl-core.sh
fi
# The browser playground (make playground, tests/playground-chromium.sh):
# emscripten brings clang, LLVM and binaryen (about 800 MB installed), so
# only on request.
if [ "${SETUP_WASM:-0}" = 1 ]; then
    have emcc     || need_pkgs="$need_pkgs emscripten"
    have node     || need_pkgs="$need_pkgs nodejs"
    have chromium || need_pkgs="$need_pkgs chromium"
fi
if [ -n "$need_pkgs" ]; then
    if [ "$(id -u)" = 0 ] && have apt-get; then
        echo "setup: installing:$need_pkgs"
        apt-get update -qq
        # tshark: do not ask about (or install) the setuid dumpcap.
        echo "wireshark-common wireshark-common/install-setuid boolean false" |
            debconf-set-selections 2>/dev/null || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_pkgs >/dev/null
    else
        echo "setup: missing:$need_pkgs (run as root on Debian to install them)" >&2
        exit 2
    fi
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
    ./autogen.sh
fi
if [ ! -f Makefile ] || [ configure -nt config.status ]; then
    ./configure --quiet
fi
make -s -j"$(nproc 2>/dev/null || echo 2)"

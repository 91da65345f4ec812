#!/bin/sh
# The Python package (python/): installs it without network access into a
# fresh virtual environment with the system's site packages, over this
# build's libsockmodel, and runs its pytest suite.  Skips (77) when no
# Python 3 with venv and pytest is found, or when the library is built with
# the sanitizers (their runtime must be loaded before Python starts).
set -u
: "${SOCKMODEL:?}" "${TESTS_DIR:?}"
build=$(cd "$(dirname "$SOCKMODEL")/.." && pwd)
lib="$build/.libs/libsockmodel.so"
[ -f "$lib" ] || { echo "SKIP: no shared library at $lib (--disable-shared?)"; exit 77; }
if command -v ldd >/dev/null 2>&1 && ldd "$lib" | grep -q 'libasan\|libubsan'; then
    echo "SKIP: libsockmodel is built with sanitizers; Python cannot load it"
    exit 77
fi
py=""
# PYTHON if set, else the first python3 (PATH, then the system's) that has
# venv (with pip), pytest and wheel (setuptools' wheel builder).
for cand in ${PYTHON:-} python3 /usr/bin/python3; do
    command -v "$cand" >/dev/null 2>&1 || continue
    if "$cand" -c 'import venv, ensurepip, pytest, wheel' >/dev/null 2>&1; then
        py=$cand
        break
    fi
done
[ -n "$py" ] || { echo "SKIP: no python3 with venv, ensurepip, pytest and wheel (Debian: python3-venv python3-pytest python3-wheel)"; exit 77; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# Install from a copy: the build writes into the directory it is given.
cp -R "$TESTS_DIR/../python" "$tmp/src" || exit 1
"$py" -m venv --system-site-packages "$tmp/venv" || { echo "venv failed"; exit 1; }
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$tmp/venv/bin/pip" install -q --no-build-isolation "$tmp/src" ||
    { echo "pip install failed"; exit 1; }
SOCKMODEL_LIB=$lib SOCKMODEL=$SOCKMODEL
export SOCKMODEL_LIB SOCKMODEL
# Run from elsewhere so the tests import the installed package.
cd "$tmp" && "$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider "$tmp/src/tests"

#!/bin/sh
# web/build-wasm.sh - compiles the portable libraries (engine/, profiles/,
# sockapi/) to WebAssembly with Debian's emscripten, the first part of the
# browser playground; `make wasm` runs it.
#
# What it builds: OUT/sockmodel-engine.wasm, every public sm_ function
# exported, and prints its size.  What it does not build yet: the scenario
# runner.  scenario/scn_run.c calls the real-kernel backend
# (hostkernel/host_run.c), which needs Linux headers (linux/netlink.h,
# linux/rtnetlink.h, network namespaces) that emscripten does not have;
# until the runner reaches that backend only through a registered profile,
# the playground page (editor, table, --explain, drawing) cannot be built,
# and nothing is stubbed here to pretend otherwise.
#
#   sh web/build-wasm.sh SRCDIR OUT
#
# Works offline.  Debian's emscripten runs its JS optimizer with node; a
# node not from Debian does not look in /usr/share/nodejs for the acorn it
# needs, hence NODE_PATH.  Exit: 0 built, 1 failed, 77 no emcc.
set -eu
src=${1:-.}
out=${2:-web/build}
if ! command -v emcc >/dev/null 2>&1; then
    echo "SKIP: emcc is not installed (Debian: apt-get install emscripten)"
    exit 77
fi
NODE_PATH=${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs
export NODE_PATH
mkdir -p "$out"
srcs=$(ls "$src"/engine/*.c "$src"/profiles/*.c "$src"/sockapi/*.c)
# The public functions: every sm_ name a header declares as a function.
fns=$(cat "$src"/engine/sm.h "$src"/include/*.h 2>/dev/null |
      sed -n 's/^[a-z_][a-z0-9_ *]*[ *]\(sm_[a-z0-9_]*\)(.*/_\1/p' | sort -u | paste -sd, -)
# engine/sm_map.c leaves a parameter and a helper unused when it is not
# built for Linux (its huge-page path): warnings, not errors, here.
emcc -O2 -std=c11 -Wall -Wextra -Werror -Wno-error=unused-parameter \
    -Wno-error=unused-function --no-entry -sALLOW_MEMORY_GROWTH=1 \
    -sEXPORTED_FUNCTIONS="$fns,_malloc,_free" \
    -I"$src"/engine -I"$src"/profiles -I"$src"/sockapi -I"$src"/include \
    -o "$out/sockmodel-engine.wasm" $srcs
echo "wasm: $out/sockmodel-engine.wasm: $(wc -c <"$out/sockmodel-engine.wasm") bytes"
echo "wasm: not built: the scenario runner (scenario/scn_run.c needs hostkernel/, Linux-only)"

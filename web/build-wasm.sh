#!/bin/sh
# web/build-wasm.sh - builds the browser playground with Debian's
# emscripten: the portable core (util/, engine/, profiles/, sockapi/,
# scenario/, render's SVG writer) and web/playground.c compiled to
# WebAssembly, then one self-contained page, OUT/index.html, made from
# web/index.html with the scenarios of scenarios/teaching/ and the engine
# (its wasm embedded as base64: emcc -sSINGLE_FILE) written into it, so it
# works from file:// and from any static host, offline.  `make playground`
# (also `make wasm`) runs it.
#
# hostkernel/ (the real kernel, Linux only) is not part of it: the page
# runs the models.
#
#   sh web/build-wasm.sh SRCDIR OUT
#
# Works offline.  Debian's emscripten runs its JS optimizer with node; a
# node not from Debian does not look in /usr/share/nodejs for the acorn it
# needs, hence NODE_PATH.  Exit: 0 built, 1 failed, 77 no emcc or node.
set -eu
src=${1:-.}
out=${2:-web/build}
if ! command -v emcc >/dev/null 2>&1; then
    echo "SKIP: emcc is not installed (Debian: apt-get install emscripten)"
    exit 77
fi
if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node is not installed (Debian: apt-get install nodejs)"
    exit 77
fi
NODE_PATH=${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs
export NODE_PATH
mkdir -p "$out"
srcs= incs="-I$src/include -I$src/render -I$src/web"
for d in util engine profiles sockapi scenario; do
    srcs="$srcs $(ls "$src"/$d/*.c)"
    incs="$incs -I$src/$d"
done
srcs="$srcs $src/render/svg_out.c $src/web/playground.c"
fns=_pg_run,_pg_table,_pg_explain,_pg_errors,_pg_svg_count,_pg_svg_name,_pg_svg,_pg_profiles
# engine/sm_map.c leaves a parameter and a helper unused when it is not
# built for Linux (its huge-page path): warnings, not errors, here.
emcc -O2 -std=c11 -Wall -Wextra -Werror -Wno-error=unused-parameter \
    -Wno-error=unused-function -sALLOW_MEMORY_GROWTH=1 \
    -sMODULARIZE=1 -sEXPORT_NAME=SockmodelPlayground -sSINGLE_FILE=1 \
    -sENVIRONMENT=web,node -sWASM_ASYNC_COMPILATION=0 -sEXPORTED_FUNCTIONS="$fns" \
    -sEXPORTED_RUNTIME_METHODS=ccall,cwrap,UTF8ToString \
    $incs -o "$out/sockmodel-playground.js" $srcs
node "$src/web/assemble.js" "$src/web/index.html" "$src/scenarios/teaching" \
    "$out/sockmodel-playground.js" "$out/index.html"
echo "playground: $out/index.html: $(wc -c <"$out/index.html") bytes" \
     "(engine $(wc -c <"$out/sockmodel-playground.js") bytes of JS with the wasm in base64)"

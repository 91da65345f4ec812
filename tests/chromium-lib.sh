# tests/chromium-lib.sh - sourced by the browser tests (html-chromium.sh,
# playground-chromium.sh): finds headless Chromium or skips (exit 77), and
# browse ARGS... runs one isolated browser (no network, a fresh profile
# under $tmp, which the caller makes), its messages in $tmp/chrome.err.
chrome=
for c in chromium chromium-browser; do
    command -v "$c" >/dev/null 2>&1 && { chrome=$c; break; }
done
if [ -z "$chrome" ]; then
    echo "SKIP: Chromium is not installed (Debian: apt-get install chromium)"
    exit 77
fi

browse() {
    prof=$(mktemp -d "$tmp/prof.XXXXXX") || exit 99
    timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$prof" "$@" 2>>"$tmp/chrome.err"
}

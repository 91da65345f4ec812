# netns-lib.sh - sourced by the tests that run real programs: re-runs the
# calling script in a private network namespace (skip 77 when it cannot),
# brings its loopback up, and gives it $tmp (removed at exit), fail() and
# $fails.  PROG names the program the script needs built.
if [ -z "${SM_IN_NETNS:-}" ]; then
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a private network namespace"; exit 77; }
    command -v unshare >/dev/null && command -v ip >/dev/null ||
        { echo "SKIP: unshare or ip missing"; exit 77; }
    unshare -n true 2>/dev/null || { echo "SKIP: cannot create a network namespace here"; exit 77; }
    SM_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up || { echo "SKIP: cannot bring up loopback"; exit 77; }
[ -x "$PROG" ] || { echo "FAIL: $PROG not built"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

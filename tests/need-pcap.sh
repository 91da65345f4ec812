# tests/need-pcap.sh - sourced by the tests that need libpcap.  A sockmodel
# built without it (configure found none) has neither `run --pcap` nor
# `replay`, and says so in `replay --help`; such a test is then skipped
# (77) with the reason.  The program: $SOCKMODEL (default cli/sockmodel).
_sm=${SOCKMODEL:-cli/sockmodel}
if [ -x "$_sm" ] && "$_sm" replay --help 2>&1 | grep -q "built without libpcap"; then
    echo "SKIP: this sockmodel was built without libpcap (no run --pcap, no replay)"
    exit 77
fi

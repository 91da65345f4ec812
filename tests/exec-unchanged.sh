#!/bin/sh
# exec-unchanged.sh - `sockmodel exec` never changes what the program
# observes: each mode of tests/programs/prog_behave runs bare and under
# `sockmodel exec --profile all`, in a private network namespace, and what
# it prints and its exit status must be the same:
#   threads, fork, exec (the child clears its environment and execvp()s),
#   signal (SIGALRM interrupts a blocking accept: EINTR, not a restart),
#   closeall (close_range and a loop close every descriptor from 3; the
#   count of open descriptors and the numbers of new sockets are the
#   program's own: the shim's FIFO goes with the others),
#   highfd (ulimit -n raised, dup2 to 1500/1600, F_DUPFD >= 1000 and dup2
#   onto 1023, the shim's own number).
# The exec mode's report must show the exec'd child's write: the shim
# followed it although the child's environment had no LD_PRELOAD.
set -u
: "${SOCKMODEL:?}"
PROG=${PROG_BEHAVE:-$(dirname "$SOCKMODEL")/../tests/programs/prog_behave}

. "$(dirname "$0")/netns-lib.sh"

port=7100
for mode in threads fork exec signal closeall highfd; do
    port=$((port + 1))
    "$PROG" "$mode" $port >"$tmp/$mode.bare" 2>&1
    echo "exit $?" >>"$tmp/$mode.bare"
    port=$((port + 1))
    "$SOCKMODEL" exec --profile all --scenario-out "$tmp/$mode.scn" -- sh -c \
        "'$PROG' $mode $port >'$tmp/$mode.exec' 2>&1; echo \"exit \$?\" >>'$tmp/$mode.exec'" \
        >"$tmp/$mode.report" 2>&1
    rc=$?
    [ $rc = 0 ] || [ $rc = 1 ] || { fail "$mode: sockmodel exec exit $rc"; cat "$tmp/$mode.report"; }
    if cmp -s "$tmp/$mode.bare" "$tmp/$mode.exec"; then
        echo "ok: $mode: $(head -1 "$tmp/$mode.bare")"
    else
        fail "$mode: the program saw something else under exec"
        diff "$tmp/$mode.bare" "$tmp/$mode.exec"
    fi
    grep -q "^exit 0$" "$tmp/$mode.bare" || { fail "$mode: the bare run failed"; cat "$tmp/$mode.bare"; }
done
# the exec'd child (empty environment) was observed: its write of 4 bytes
grep -q "^send prog_behave.* 4" "$tmp/exec.scn" ||
    fail "exec: the child that cleared its environment was not observed"

[ $fails = 0 ] && echo "the program observed the same with and without sockmodel exec"
[ $fails = 0 ]

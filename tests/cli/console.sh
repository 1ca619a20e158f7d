#!/usr/bin/env bash
# The console's escape keys (--serial stdio, here through a fifo as QEMU
# also takes them from a pipe): Ctrl-A h prints the keys on stdout with
# CR LF line ends and the guest runs on; Ctrl-A x stops roam at once with
# exit status 0 and "roam: terminated by Ctrl-A x", also while the VM is
# paused. The guest is the dirtier, which never reads its UART: the keys
# must work even so.
set -u
cd "$(dirname "$0")/../.."
ROAM=${ROAM:-build/roam}
GUEST=build/guests/dirtier.elf
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    exec 3>&- 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap '' PIPE # a write to the fifo of a roam that has exited fails, and the test says why

if $ROAM run --help | grep -q 'Ctrl-A x quits roam' && $ROAM run --help | grep -q -- '--reboot POLICY'; then
    echo "PASS: cli/console_run_help"
else
    echo "FAIL: cli/console_run_help: roam run --help does not list the console keys and --reboot"
fi

if [ ! -r "$GUEST" ]; then
    for t in console_help console_quit console_quit_paused; do echo "SKIP: cli/$t: $GUEST is not built (make guests)"; done
    exit 0
fi

wait_for() { # PATTERN SECONDS: until stdout shows PATTERN
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        grep -aq -- "$1" "$tmp/out" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

mkfifo "$tmp/in"
$ROAM run --engine emu --memory 16M --kernel "$GUEST" --cmdline "rounds=0 mem=1M" \
    --serial stdio <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/in"

if ! wait_for "^round 2 sum" 60; then
    echo "FAIL: cli/console_help: the guest did not run (no 'round 2' within 60 s)"
    tail -n 5 "$tmp/out" "$tmp/err" | sed 's/^/    /'
    exit 0
fi
# Ahead of the keys, more input than the UART's 16-byte FIFO holds: the
# dirtier never reads it, and the keys must still get through.
printf 'typed ahead of the keys, unread by the guest\r' >&3 2>/dev/null
printf '\001h' >&3 2>/dev/null
if wait_for "Ctrl-A x" 10; then
    # The help is whole, in CR LF lines, and the guest still runs after it.
    rounds=$(grep -ac '^round' "$tmp/out")
    if ! grep -aq $'^  Ctrl-A h    print this help\r$' "$tmp/out" ||
        ! grep -aq $'^  Ctrl-A a    send Ctrl-A to the guest.*\r$' "$tmp/out"; then
        echo "FAIL: cli/console_help: the help is not in CR LF lines:"
        grep -a 'Ctrl-A' "$tmp/out" | cat -A | sed 's/^/    /'
    elif ! wait_for "^round $((rounds + 1)) sum" 30; then
        echo "FAIL: cli/console_help: the guest did not run on after Ctrl-A h"
        tail -n 3 "$tmp/out" | sed 's/^/    /'; sed 's/^/    /' "$tmp/err"
    else
        echo "PASS: cli/console_help"
    fi
else
    echo "FAIL: cli/console_help: no help on stdout within 10 s after Ctrl-A h"
    tail -n 5 "$tmp/out" "$tmp/err" | sed 's/^/    /'
fi

# An unknown key after Ctrl-A is ignored (as QEMU): roam runs on.
printf '\001q' >&3 2>/dev/null
sleep 0.5
if ! kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: cli/console_quit: roam stopped after Ctrl-A q"
    exit 0
fi
printf '\001x' >&3 2>/dev/null
for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: cli/console_quit: roam still runs 5 s after Ctrl-A x"
    exit 0
fi
wait "$pid"
st=$?
pid=
if [ "$st" -ne 0 ]; then
    echo "FAIL: cli/console_quit: exit status $st, expected 0"; sed 's/^/    /' "$tmp/err"
elif [ "$(cat "$tmp/err")" != "roam: terminated by Ctrl-A x" ]; then
    echo "FAIL: cli/console_quit: stderr is not just 'roam: terminated by Ctrl-A x':"
    sed 's/^/    /' "$tmp/err"
else
    echo "PASS: cli/console_quit"
fi

# A VM kept paused (-S, no 'cont') takes the keys too; its guest never ran.
exec 3>&-
rm -f "$tmp/in"
mkfifo "$tmp/in"
$ROAM run --engine emu --memory 16M --kernel "$GUEST" -S --control "unix:$tmp/c.sock" \
    <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/in"
for ((i = 0; i < 100; i++)); do [ -S "$tmp/c.sock" ] && break; sleep 0.05; done
printf '\001x' >&3 2>/dev/null
for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: cli/console_quit_paused: roam still runs 5 s after Ctrl-A x"
    exit 0
fi
wait "$pid"
st=$?
pid=
if [ "$st" -eq 0 ] && [ "$(cat "$tmp/err")" = "roam: terminated by Ctrl-A x" ] && [ ! -s "$tmp/out" ]; then
    echo "PASS: cli/console_quit_paused"
else
    echo "FAIL: cli/console_quit_paused: exit status $st, expected 0 and no guest output"
    sed 's/^/    /' "$tmp/out" "$tmp/err"
fi
exit 0

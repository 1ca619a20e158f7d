#!/usr/bin/env bash
# A stock Debian kernel (the guest kit, scripts/guest-kit.sh) on emu with
# `roam run --reboot restart`: `reboot -f` in the guest (the ACPI reset
# register) boots a fresh VM to the banner again in the same roam process,
# whose console still takes input, and `poweroff -f` then ends roam with
# status 0. Also the console key Ctrl-A a: it gives the guest's shell a
# literal Ctrl-A (busybox's line editor: go to the start of the line).
# Skipped, with the reason, when the kit cannot be fetched.
set -u
cd "$(dirname "$0")/../.."
ROAM=${ROAM:-build/roam}
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    exec 3>&- 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap '' PIPE # a write to the fifo of a roam that has exited fails, and the test says why
TESTS="boot_banner console_literal_ctrl_a reboot_restarts input_after_restart poweroff_status"

if ! kit=$(scripts/guest-kit.sh 2>&1); then
    for t in $TESTS; do echo "SKIP: linux-reboot/$t: the guest kit is not available: $kit"; done
    exit 0
fi
pass() { echo "PASS: linux-reboot/$1"; }
fail() {
    echo "FAIL: linux-reboot/$1: $2"
    tr -d '\r' <"$tmp/out" | tail -n 5 | sed 's/^/    out: /'
    tail -n 5 "$tmp/err" | sed 's/^/    err: /'
}
# Skips the tests after the one that failed: they need a running guest.
give_up() {
    local past=no t
    for t in $TESTS; do
        [ $past = yes ] && echo "SKIP: linux-reboot/$t: needs linux-reboot/$1, which failed"
        [ "$t" = "$1" ] && past=yes
    done
    exit 0
}

# wait_for PATTERN SECONDS [COUNT]: until the console shows COUNT (default
# 1) lines matching PATTERN, while roam runs.
wait_for() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [ "$(tr -d '\r' <"$tmp/out" | grep -c -- "$1")" -ge "${3:-1}" ] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
say() { printf '%s\n' "$1" >&3 2>/dev/null; }
BANNER="roam guest kit: Linux .* is up"

mkfifo "$tmp/in"
$ROAM run --engine emu --memory 256M --kernel build/guest/vmlinuz --initrd build/guest/initrd.gz \
    --cmdline "console=ttyS0" --serial stdio --reboot restart <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/in"

if wait_for "$BANNER" 240; then
    pass boot_banner
else
    fail boot_banner "no banner within 240 s"
    give_up boot_banner
fi

# "echo TWO" typed, Ctrl-A a (the shell's cursor to the start), then
# "echo ONE; " typed in front of it: the line runs as "echo ONE; echo TWO".
printf 'echo CTRLA-TWO\001a' >&3 2>/dev/null
say "echo CTRLA-ONE; "
if wait_for "^CTRLA-TWO$" 30 && tr -d '\r' <"$tmp/out" | grep -A1 "^CTRLA-ONE$" | grep -q "^CTRLA-TWO$"; then
    pass console_literal_ctrl_a
else
    fail console_literal_ctrl_a "the shell did not run 'echo CTRLA-ONE; echo CTRLA-TWO'"
fi

say "reboot -f"
if wait_for "$BANNER" 240 2 && grep -q "^roam: guest reset, restarting$" "$tmp/err"; then
    pass reboot_restarts
else
    fail reboot_restarts "no second banner within 240 s of 'reboot -f', or no 'guest reset, restarting'"
    give_up reboot_restarts
fi

say "echo AFTER-\$((6 * 7))"
if wait_for "^AFTER-42$" 30; then
    pass input_after_restart
else
    fail input_after_restart "the restarted guest's shell did not answer"
fi

say "poweroff -f"
for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null
wait "$pid"
st=$?
pid=
if [ "$st" = 0 ] && grep -q "reboot: Power down" "$tmp/out" && [ "$(grep -c restarting "$tmp/err")" = 1 ]; then
    pass poweroff_status
else
    fail poweroff_status "roam exited $st, expected 0 after the guest's power-off (one restart)"
fi
exit 0

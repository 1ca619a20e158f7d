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
TESTS="boot_banner console_literal_ctrl_a reboot_restarts input_after_restart poweroff_status"
TEST_PREFIX=linux-reboot/
. tests/linux/guest.bash
guest_need_kit
pass() { echo "PASS: linux-reboot/$1"; }
fail() {
    echo "FAIL: linux-reboot/$1: $2"
    guest_console vm | tail -n 5 | sed 's/^/    out: /'
    tail -n 5 "$tmp/vm.err" | sed 's/^/    err: /'
}
# Skips the tests after the one that failed: they need a running guest.
give_up() { guest_skip_after "$1" "needs linux-reboot/$1, which failed"; }

guest_start vm $ROAM run --engine emu --memory 256M "${GUEST_KIT[@]}" --serial stdio --reboot restart

if guest_wait vm "$GUEST_BANNER" 240; then
    pass boot_banner
else
    fail boot_banner "no banner within 240 s"
    give_up boot_banner
fi

# "echo TWO" typed, Ctrl-A a (the shell's cursor to the start), then
# "echo ONE; " typed in front of it: the line runs as "echo ONE; echo TWO".
guest_type vm $'echo CTRLA-TWO\001a'
guest_say vm "echo CTRLA-ONE; "
if guest_wait vm "^CTRLA-TWO$" 30 && guest_console vm | grep -A1 "^CTRLA-ONE$" | grep -q "^CTRLA-TWO$"; then
    pass console_literal_ctrl_a
else
    fail console_literal_ctrl_a "the shell did not run 'echo CTRLA-ONE; echo CTRLA-TWO'"
fi

guest_say vm "reboot -f"
if guest_wait vm "$GUEST_BANNER" 240 2 && grep -q "^roam: guest reset, restarting$" "$tmp/vm.err"; then
    pass reboot_restarts
else
    fail reboot_restarts "no second banner within 240 s of 'reboot -f', or no 'guest reset, restarting'"
    give_up reboot_restarts
fi

guest_say vm "echo AFTER-\$((6 * 7))"
if guest_wait vm "^AFTER-42$" 30; then
    pass input_after_restart
else
    fail input_after_restart "the restarted guest's shell did not answer"
fi

if guest_poweroff vm && [ "$(grep -c restarting "$tmp/vm.err")" = 1 ]; then
    pass poweroff_status
else
    fail poweroff_status "roam exited $st, expected 0 after the guest's power-off (one restart)"
fi
exit 0

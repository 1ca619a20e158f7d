#!/usr/bin/env bash
# `roam run --reboot exit|restart` with a guest that prints "R" and resets
# through the i8042 (0xFE to port 0x64): exit (the default) ends roam with
# status 0 after one boot; restart boots it again and again until Ctrl-A x.
# A VM that came from --incoming restarts from --kernel, and without one
# roam says why it cannot restart (status 2). Linux's own reboot is in
# tests/linux/reboot.sh.
set -u
cd "$(dirname "$0")/../.."
ROAM=${ROAM:-build/roam}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap '' PIPE # a write to the fifo of a roam that has exited fails, and the test says why

# A minimal multiboot image (a.out kludge, loaded at 1 MiB), as in
# bad_input.sh: mov dx,0x3f8; mov al,'R'; out dx,al; mov al,0xfe;
# out 0x64,al; hlt; jmp $-1.
printf '\x02\xb0\xad\x1b\x00\x00\x01\x00\xfe\x4f\x51\xe4' >"$tmp/reset.bin"
printf '\x00\x00\x10\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x00\x10\x00' >>"$tmp/reset.bin"
printf '\x66\xba\xf8\x03\xb0R\xee\xb0\xfe\xe6\x64\xf4\xeb\xfd' >>"$tmp/reset.bin"
RUN=(run --engine emu --memory 2M --kernel "$tmp/reset.bin")

# The default: one boot, status 0.
timeout 20 $ROAM "${RUN[@]}" -v >"$tmp/out" 2>"$tmp/err" </dev/null
st=$?
if [ "$st" -eq 0 ] && [ "$(cat "$tmp/out")" = R ] && grep -q 'guest stopped: the guest requested a reset' "$tmp/err" &&
    ! grep -q restarting "$tmp/err"; then
    echo "PASS: cli/reboot_exit"
else
    echo "FAIL: cli/reboot_exit: exit status $st, output '$(head -c 20 "$tmp/out")'"; sed 's/^/    /' "$tmp/err"
fi

timeout 20 $ROAM "${RUN[@]}" --reboot fast >"$tmp/out" 2>"$tmp/err" </dev/null
st=$?
if [ "$st" -eq 2 ] && [ "$(cat "$tmp/err")" = "roam run: --reboot: bad reboot policy 'fast' (use exit or restart)" ]; then
    echo "PASS: cli/reboot_bad_policy"
else
    echo "FAIL: cli/reboot_bad_policy: exit status $st"; sed 's/^/    /' "$tmp/err"
fi

# quit_after_boots ARGS...: runs roam with ARGS and sends it Ctrl-A x once
# the guest has booted 3 times (or after 20 s); st is its exit status (137:
# still running 10 s after the keys), boots the number of boots.
quit_after_boots() {
    local p i
    rm -f "$tmp/in"
    mkfifo "$tmp/in"
    $ROAM "$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
    p=$!
    exec 4>"$tmp/in"
    for ((i = 0; i < 200; i++)); do
        [ "$(tr -cd R <"$tmp/out" | wc -c)" -ge 3 ] && break
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    printf '\001x' >&4 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p"
    st=$?
    exec 4>&-
    boots=$(tr -cd R <"$tmp/out" | wc -c)
}

quit_after_boots "${RUN[@]}" --reboot restart
restarts=$(grep -c '^roam: guest reset, restarting$' "$tmp/err")
if [ "$st" -eq 0 ] && [ "$boots" -ge 3 ] && [ "$restarts" -ge $((boots - 1)) ] &&
    [ "$(tail -n 1 "$tmp/err")" = "roam: terminated by Ctrl-A x" ]; then
    echo "PASS: cli/reboot_restart"
else
    echo "FAIL: cli/reboot_restart: exit status $st, $boots boots (3 expected within 20 s), $restarts restarts"
    sort "$tmp/err" | uniq -c | sed 's/^/    /'
fi

# A snapshot taken before the guest ran its first instruction: restored, it
# resets at once.
$ROAM "${RUN[@]}" -S --control "unix:$tmp/c.sock" --serial none </dev/null >"$tmp/src.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$tmp/c.sock" ] && break; sleep 0.05; done
if ! $ROAM snapshot save --control "unix:$tmp/c.sock" "$tmp/snap.roam" >"$tmp/save.log" 2>&1; then
    for t in reboot_incoming_no_kernel reboot_incoming_kernel; do
        echo "FAIL: cli/$t: cannot take the snapshot:"; sed 's/^/    /' "$tmp/save.log" "$tmp/src.log"
    done
    exit 0
fi
timeout 20 $ROAM snapshot restore "$tmp/snap.roam" --engine emu --memory 2M --reboot restart \
    >"$tmp/out" 2>"$tmp/err" </dev/null
st=$?
if [ "$st" -eq 2 ] && [ "$(cat "$tmp/out")" = R ] &&
    grep -q "^roam: the guest reset, and --reboot restart cannot boot it again: the VM came from --incoming file:$tmp/snap.roam and no --kernel was given$" "$tmp/err"; then
    echo "PASS: cli/reboot_incoming_no_kernel"
else
    echo "FAIL: cli/reboot_incoming_no_kernel: exit status $st, output '$(head -c 20 "$tmp/out")'"
    sed 's/^/    /' "$tmp/err"
fi
quit_after_boots snapshot restore "$tmp/snap.roam" "${RUN[@]:1}" --reboot restart
if [ "$st" -eq 0 ] && [ "$boots" -ge 3 ] && grep -q '^roam: guest reset, restarting$' "$tmp/err"; then
    echo "PASS: cli/reboot_incoming_kernel"
else
    echo "FAIL: cli/reboot_incoming_kernel: exit status $st, $boots boots"
    sort "$tmp/err" | uniq -c | sed 's/^/    /'
fi
exit 0

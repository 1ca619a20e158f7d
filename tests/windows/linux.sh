#!/usr/bin/env bash
# A Linux guest (the guest kit) on the Windows build under wine: it boots
# on roam.exe to its shell, which answers through a pipe; with roam-dirty
# running it moves live Windows -> Linux (the migration started by roam.exe
# through the Windows VM's TCP control socket) and back Linux -> Windows
# (started by the Linux build), over TCP loopback. roam-dirty's running
# checksum must go on unbroken across the three processes and equal the
# host's replay; poweroff on the last one ends roam.exe with status 0.
# Skipped, with the reason, without wine, roam.exe, build/roam or the kit.
set -u
cd "$(dirname "$0")/../.." || exit 1
TESTS="boot shell migrate_windows_to_linux migrate_linux_to_windows dirtier_unbroken dirtier_sum poweroff"
TEST_NAME=windows/linux
. tests/windows/wine-env.bash

skip_all() { for t in $TESTS; do echo "SKIP: windows/linux/$t: $1"; done; exit 0; }
[ -x "$LROAM" ] || skip_all "the Linux build ($LROAM) is not built"
kit=$(scripts/guest-kit.sh 2>&1) || skip_all "the guest kit is not available: $kit"

declare -A pid
fd=3
# start NAME CMD...: console NAME.out, input the fifo NAME.in (held open).
start() {
    local name=$1
    shift
    mkfifo "$tmp/$name.in"
    "$@" <"$tmp/$name.in" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pid[$name]=$!
    pids+=($!)
    eval "exec $fd>\"$tmp/$name.in\""
    eval "fd_$name=$fd"
    fd=$((fd + 1))
}
say() { local v="fd_$1"; printf '%s\n' "$2" >&"${!v}"; }
seen() { # NAME PATTERN SECONDS: NAME's console shows PATTERN while it runs
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        tr -d '\r' <"$tmp/$1.out" 2>/dev/null | grep -q -- "$2" && return 0
        kill -0 "${pid[$1]}" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
gone() { # NAME SECONDS: waits for NAME to exit; its status in $st
    local i
    for ((i = 0; i < $2 * 10; i++)); do kill -0 "${pid[$1]}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${pid[$1]}" 2>/dev/null
    wait "${pid[$1]}" 2>/dev/null
    st=$?
}
KIT=(--kernel build/guest/vmlinuz --initrd build/guest/initrd.gz --cmdline console=ttyS0)
c1=$(free_port) p1=$(free_port) p2=$(free_port)

start W1 "${WIN[@]}" run --engine emu --memory 256M --serial stdio --control "tcp:127.0.0.1:$c1" "${KIT[@]}"
if seen W1 "roam guest kit: Linux .* is up" 300; then
    pass linux/boot
else
    fail linux/boot "no banner from roam.exe within 300 s" "$tmp/W1.out" "$tmp/W1.err"
    for t in ${TESTS#boot }; do echo "SKIP: windows/linux/$t: the guest did not boot"; done
    exit 0
fi
release=$(ls build/guest/deb/linux-image-*_*.deb | head -n 1 | sed 's|.*/linux-image-\([^_]*\)_.*|\1|')
say W1 "uname -r; roam-dirty -m 32 -r 20 &"
if seen W1 "^$release" 30; then pass linux/shell; else fail linux/shell "no uname answer ($release)" "$tmp/W1.out"; fi
seen W1 "^roam-dirty: t=2 " 30

# Windows -> Linux, started on Windows by roam.exe.
start L "$LROAM" run --engine emu --memory 256M --serial stdio --incoming "tcp:127.0.0.1:$p1" \
    --control "unix:$tmp/L.ctl"
for ((i = 0; i < 100; i++)); do [ -S "$tmp/L.ctl" ] && break; sleep 0.05; done
if timeout 120 "${WIN[@]}" migrate --control "tcp:127.0.0.1:$c1" --to "tcp:127.0.0.1:$p1" \
    >"$tmp/m1.out" 2>"$tmp/m1.err" </dev/null && seen L "^roam-dirty: t=" 30 && gone W1 30 && [ "$st" = 0 ]; then
    pass linux/migrate_windows_to_linux
else
    fail linux/migrate_windows_to_linux "roam.exe migrate, then no report on the Linux side or roam.exe did not exit 0" \
        "$tmp/m1.out" "$tmp/m1.err" "$tmp/L.err" "$tmp/W1.err"
fi

# Linux -> Windows, started by the Linux build.
start W2 "${WIN[@]}" run --engine emu --memory 256M --serial stdio --incoming "tcp:127.0.0.1:$p2"
sleep 3 # roam.exe under wine takes a moment to listen
ok=0
for try in 1 2 3 4 5; do
    if timeout 120 "$LROAM" migrate --control "unix:$tmp/L.ctl" --to "tcp:127.0.0.1:$p2" \
        >"$tmp/m2.out" 2>"$tmp/m2.err" </dev/null; then
        ok=1
        break
    fi
    grep -q "Connection refused" "$tmp/m2.out" "$tmp/m2.err" || break
    sleep 2
done
if [ $ok = 1 ] && seen W2 "^roam-dirty: t=" 30 && gone L 30 && [ "$st" = 0 ]; then
    pass linux/migrate_linux_to_windows
else
    fail linux/migrate_linux_to_windows "roam migrate to roam.exe, then no report there" \
        "$tmp/m2.out" "$tmp/m2.err" "$tmp/W2.err" "$tmp/L.err"
fi
sleep 2

cat "$tmp/W1.out" "$tmp/L.out" "$tmp/W2.out" | tr -d '\r' | grep "^roam-dirty: t=" >"$tmp/reports"
bad=$(awk '{ t = $2; sub("t=", "", t); q = $3; sub("seq=", "", q); e = $5; sub("errors=", "", e) }
    e != 0 { print "errors=" e " at t=" t; exit }
    NR > 1 && (t + 0 <= pt + 0 || q + 0 <= pq + 0) { print "t=" pt " seq=" pq " then t=" t " seq=" q; exit }
    { pt = t; pq = q }' "$tmp/reports")
if [ -z "$bad" ] && [ "$(wc -l <"$tmp/reports")" -ge 4 ] && ! cat "$tmp"/*.out | grep -q MISMATCH; then
    pass linux/dirtier_unbroken
else
    fail linux/dirtier_unbroken "${bad:-too few reports or a MISMATCH}" "$tmp/reports"
fi
last=$(tr -d '\r' <"$tmp/W2.out" | grep "^roam-dirty: t=" | tail -n 1)
seq=$(sed -n 's/.* seq=\([0-9]*\) .*/\1/p' <<<"$last")
sum=$(sed -n 's/.* sum=\([0-9a-f]*\) .*/\1/p' <<<"$last")
want=$(build/guest/tools/roam-dirty --replay "${seq:-0}" -m 32)
if [ -n "$sum" ] && [ "$sum" = "$want" ]; then
    pass linux/dirtier_sum
else
    fail linux/dirtier_sum "the guest's last report on Windows '$last', the host's replay $want"
fi
say W2 "kill %1; poweroff -f"
gone W2 60
if [ "$st" = 0 ] && tr -d '\r' <"$tmp/W2.out" | grep -q "reboot: Power down"; then
    pass linux/poweroff
else
    fail linux/poweroff "roam.exe exited $st after the guest's power-off" "$tmp/W2.err"
fi
exit 0

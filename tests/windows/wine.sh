#!/usr/bin/env bash
# The Windows build (build-win/roam.exe) run under wine: real Win32 API
# runs of roam's host/win32 layer.
#   guests:   every guest program on emu, with the same verdicts as on Linux
#   errors:   bad input gets the same one-line errors (and status 2) as on Linux
#   snapshot: a snapshot saved by the Linux build restored by the Windows
#             build, and the reverse
#   migrate:  live migration Linux -> Windows -> Linux over TCP loopback while
#             the dirtier runs, its checksums those of an unmigrated run
#             (Linux side on emu, and on KVM where KVM is usable)
# Skipped, with the reason, where wine or roam.exe is missing; the cases that
# need the Linux build (build/roam) are skipped where it is not built.
# Windows paths: wine maps / to drive Z:, and roam.exe takes the plain
# /tmp/... paths (they resolve on the current drive, Z:).
set -u
cd "$(dirname "$0")/../.." || exit 1
TEST_NAME=windows/wine
. tests/windows/wine-env.bash

linux=1
[ -x "$LROAM" ] || linux=0
kvm="not built"
[ $linux = 1 ] && kvm=$($LROAM info | sed -n 's/^ *kvm *//p')

# The dirtier's reference checksums, from an unmigrated Linux run (in the
# background while the guest programs run).
# The sums depend on the round and mem= only: one reference serves the
# emu runs and the KVM ones. Both pause between rounds so that the guest is
# still running when the migration or the snapshot comes, however fast the
# engine runs the rounds themselves (emu's take ~0.1 s each now).
DIRTY="rounds=12 mem=16M pause=250"
KDIRTY="rounds=12 mem=16M pause=1000"
if [ $linux = 1 ]; then
    $LROAM run --engine emu --serial "file:$tmp/ref.serial" --kernel build/guests/dirtier.elf \
        --cmdline "$DIRTY" >/dev/null 2>"$tmp/ref.err" </dev/null &
    ref_pid=$!
    pids+=("$ref_pid")
fi

# ---- guests: the list, options and expected lines of tests/guests/run-roam.sh
guests=(
    "hello|--cmdline 'hello from roam'|cmdline: hello from roam"
    "longmode||PASS: longmode"
    "exceptions||PASS: exceptions"
    "cpl3|--memory 128M|PASS: cpl3"
    "pit||PASS: pit"
    "lapic_timer||PASS: lapic_timer"
    "ioapic||PASS: ioapic"
    "smp|--cpus 2|PASS: smp"
    "smp|--cpus 4|PASS: smp"
    "dirtier|--cmdline 'rounds=5 mem=16M'|PASS: dirtier"
    "paging||PASS: paging"
    "modes||PASS: modes"
    "segments||PASS: segments"
    "sysinsn|--cmdline cpuid=roam|PASS: sysinsn"
    "fpu||PASS: fpu"
    "cpl3|--memory 128M --cmdline 'mem=8M int80=on syscall=on'|PASS: cpl3"
    "exceptions|--cmdline 'intn=off bp0=1'|PASS: exceptions"
)
for g in "${guests[@]}"; do
    IFS='|' read -r name opts want <<<"$g"
    label="guest/emu/$name${opts:+ $opts}"
    if [ ! -f "build/guests/$name.elf" ]; then
        echo "SKIP: windows/$label: build/guests/$name.elf is missing (make guests)"
        continue
    fi
    rm -f "$tmp/serial"
    eval "timeout 120 \"\${WIN[@]}\" run --engine emu $opts --serial file:$tmp/serial --kernel build/guests/$name.elf" \
        >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    if [ "$rc" -ne 1 ]; then
        fail "$label" "exit status $rc, expected 1 (PASS)" "$tmp/serial" "$tmp/err"
    elif ! grep -qF -- "$want" "$tmp/serial"; then
        fail "$label" "serial output lacks '$want'" "$tmp/serial"
    elif grep -q '^FAIL' "$tmp/serial"; then
        fail "$label" "the guest reported a failure" "$tmp/serial"
    else
        pass "$label"
    fi
done
# The dirtier's self-test: a corrupted word is caught (status 3, a FAIL line).
if [ -f build/guests/dirtier.elf ]; then
    rm -f "$tmp/serial"
    timeout 120 "${WIN[@]}" run --engine emu --serial "file:$tmp/serial" \
        --cmdline "rounds=5 mem=8M corrupt=3" --kernel build/guests/dirtier.elf >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    if [ "$rc" -eq 3 ] && grep -q '^FAIL: dirtier' "$tmp/serial"; then
        pass "guest/emu/dirtier corrupt=3"
    else
        fail "guest/emu/dirtier corrupt=3" "exit status $rc, expected 3 with a FAIL line" "$tmp/serial"
    fi
fi

# ---- errors: status 2 and one line on stderr matching PATTERN; where
# SAME=1 and the Linux build exists, the very line Linux prints.
# expect NAME SAME PATTERN -- ARGS...
expect() {
    local name=$1 same=$2 pat=$3 rc lines
    shift 4
    timeout 60 "${WIN[@]}" "$@" >"$tmp/out" 2>"$tmp/werr" </dev/null
    rc=$?
    tr -d '\r' <"$tmp/werr" >"$tmp/err" # Windows' text-mode stderr ends lines in CRLF
    lines=$(wc -l <"$tmp/err")
    if [ "$rc" -ne 2 ]; then
        fail "errors/$name" "exit status $rc, expected 2" "$tmp/err"
    elif ! grep -qiE -- "$pat" "$tmp/err"; then
        fail "errors/$name" "stderr does not match '$pat'" "$tmp/err"
    elif [ "$lines" -ne 1 ]; then
        fail "errors/$name" "expected one line on stderr, got $lines" "$tmp/err"
    elif [ "$same" = 1 ] && [ $linux = 1 ] &&
        { timeout 60 $LROAM "$@" >/dev/null 2>"$tmp/lerr" </dev/null; ! cmp -s "$tmp/err" "$tmp/lerr"; }; then
        fail "errors/$name" "differs from Linux: '$(cat "$tmp/err")' vs '$(cat "$tmp/lerr")'"
    else
        pass "errors/$name"
    fi
}

expect missing_kernel 1 'nonexistent.elf: No such file or directory' -- run --engine emu --kernel "$tmp/nonexistent.elf"
expect missing_snapshot 1 'none.snap: No such file or directory' -- run --engine emu --incoming "file:$tmp/none.snap"
expect unknown_engine 0 "unknown engine 'warp' \(available: emu, auto\)" -- run --kernel build/guests/hello.elf --engine warp
# KVM is Linux's: roam.exe names the engines it has.
expect engine_kvm 0 "engine 'kvm'.*available: emu" -- run --kernel build/guests/hello.elf --engine kvm
port=$(free_port)
expect migrate_refused 1 "tcp:127.0.0.1:$port: Connection refused" -- migrate --control "tcp:127.0.0.1:$port" --to tcp:127.0.0.1:1
expect snapshot_save_refused 1 "tcp:127.0.0.1:$port: Connection refused" -- snapshot save --control "tcp:127.0.0.1:$port" "$tmp/s"
expect control_refused 1 "tcp:127.0.0.1:$port: Connection refused" -- control --control "tcp:127.0.0.1:$port" query-status
# No unix sockets in this roam.exe (or no socket file): a clear line either way.
expect migrate_no_unix_socket 0 "unix:$tmp/none.sock: (No such file or directory|unix sockets are not available)" -- \
    migrate --control "unix:$tmp/none.sock" --to tcp:127.0.0.1:1
# A port in use, held by a listener on the loopback.
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1); print(s.getsockname()[1]); sys.stdout.flush(); time.sleep(600)' \
        >"$tmp/holder" &
    holder=$!
    pids+=("$holder")
    wait_for "$tmp/holder" '[0-9]' 10
    busy=$(cat "$tmp/holder")
    expect incoming_port_in_use 1 "tcp:127.0.0.1:$busy: Address already in use" -- run --engine emu --incoming "tcp:127.0.0.1:$busy"
    expect control_port_in_use 1 "control tcp:127.0.0.1:$busy: .*Address already in use" -- \
        run --engine emu --kernel build/guests/hello.elf --control "tcp:127.0.0.1:$busy"
    kill "$holder" 2>/dev/null
else
    echo "SKIP: windows/errors/incoming_port_in_use: needs python3 to hold a port"
    echo "SKIP: windows/errors/control_port_in_use: needs python3 to hold a port"
fi

# ---- snapshot and migrate need the Linux build
if [ $linux = 0 ]; then
    for t in snapshot/linux_to_windows snapshot/windows_to_linux migrate/linux_emu_windows_linux_emu \
        migrate/linux_kvm_windows_linux_kvm; do
        echo "SKIP: windows/$t: $LROAM is not built (make)"
    done
    exit 0
fi
if [ ! -f build/guests/dirtier.elf ]; then
    echo "SKIP: windows/snapshot, windows/migrate: build/guests/dirtier.elf is missing (make guests)"
    exit 0
fi
wait "$ref_pid"
grep '^round .* sum' "$tmp/ref.serial" >"$tmp/ref.sums" 2>/dev/null
if [ ! -s "$tmp/ref.sums" ]; then
    fail reference "the unmigrated Linux dirtier run printed no sums" "$tmp/ref.serial" "$tmp/ref.err"
    exit 0
fi

# sums_ok SERIAL...: every round sum these consoles printed is the unmigrated
# run's, and together they are all of them, in order.
sums_ok() {
    cat "$@" | grep '^round .* sum' >"$tmp/got.sums"
    cmp -s "$tmp/got.sums" "$tmp/ref.sums"
}
# sums_suffix SERIAL: its round sums (at least one) are the unmigrated run's.
sums_suffix() {
    grep '^round .* sum' "$1" >"$tmp/got.sums" && ! grep -vxFf "$tmp/ref.sums" "$tmp/got.sums" >/dev/null
}

finish() { # PID SECONDS: waits for it; exit status in $st
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$1" 2>/dev/null
    wait "$1"
    st=$?
}

# Linux saves (emu, and KVM where usable), Windows restores.
lin_engines=(emu)
[ "$kvm" = usable ] && lin_engines+=(kvm)
[ "$kvm" = usable ] || echo "SKIP: windows/snapshot/linux_kvm_to_windows: KVM is not usable here ($kvm)"
for e in "${lin_engines[@]}"; do
    t=snapshot/linux_${e}_to_windows
    cmdline=$DIRTY
    [ "$e" = kvm ] && cmdline=$KDIRTY
    rm -f "$tmp"/s.* "$tmp/src.ctl"
    $LROAM run --engine "$e" --serial "file:$tmp/s.src.serial" --control "unix:$tmp/src.ctl" \
        --kernel build/guests/dirtier.elf --cmdline "$cmdline" >/dev/null 2>"$tmp/s.src.err" </dev/null &
    src=$!
    pids+=("$src")
    if ! wait_for "$tmp/s.src.serial" "round 2 " 60; then
        fail "$t" "the Linux guest did not start" "$tmp/s.src.err"
        kill -9 $src 2>/dev/null
        continue
    fi
    $LROAM snapshot save --control "unix:$tmp/src.ctl" "$tmp/s.snap" >"$tmp/s.save.out" 2>"$tmp/s.save.err"
    save=$?
    kill -9 $src 2>/dev/null
    wait $src 2>/dev/null
    if [ $save != 0 ]; then
        fail "$t" "the Linux build's snapshot save failed" "$tmp/s.save.err"
        continue
    fi
    timeout 120 "${WIN[@]}" snapshot restore "$tmp/s.snap" --serial "file:$tmp/s.dst.serial" \
        >"$tmp/s.dst.out" 2>"$tmp/s.dst.err" </dev/null
    rc=$?
    if [ $rc = 1 ] && grep -q '^PASS: dirtier' "$tmp/s.dst.serial" && sums_suffix "$tmp/s.dst.serial"; then
        pass "$t"
    else
        fail "$t" "roam.exe snapshot restore exited $rc, want 1 (guest PASS) with the reference sums" \
            "$tmp/s.dst.serial" "$tmp/s.dst.err"
    fi
done

# Windows runs the guest with a TCP control socket; roam.exe and the Linux
# build each save a snapshot of it; the Linux build restores both.
t=snapshot/windows_to_linux
ctl=$(free_port)
rm -f "$tmp"/w.*
"${WIN[@]}" run --engine emu --serial "file:$tmp/w.src.serial" --control "tcp:127.0.0.1:$ctl" \
    --kernel build/guests/dirtier.elf --cmdline "$DIRTY" >/dev/null 2>"$tmp/w.src.err" </dev/null &
src=$!
pids+=("$src")
if wait_for "$tmp/w.src.serial" "round 2 " 60; then
    timeout 60 "${WIN[@]}" snapshot save --control "tcp:127.0.0.1:$ctl" "$tmp/w.exe.snap" \
        >"$tmp/w.save1.out" 2>"$tmp/w.save1.err" </dev/null
    s1=$?
    timeout 60 $LROAM snapshot save --control "tcp:127.0.0.1:$ctl" "$tmp/w.lin.snap" \
        >"$tmp/w.save2.out" 2>"$tmp/w.save2.err" </dev/null
    s2=$?
    kill -9 $src 2>/dev/null
    wait $src 2>/dev/null
    [ $s1 = 0 ] || fail "$t/exe_save" "roam.exe snapshot save exited $s1" "$tmp/w.save1.err"
    [ $s2 = 0 ] || fail "$t/linux_save" "build/roam snapshot save over TCP exited $s2" "$tmp/w.save2.err"
    if $LROAM stream-dump "$tmp/w.exe.snap" 2>&1 | grep -q 'checksum ok'; then
        pass "$t/stream_dump"
    else
        fail "$t/stream_dump" "build/roam stream-dump does not find the checksum ok"
    fi
    # roam.exe's stream-dump prints what the Linux build's does, line for line.
    timeout 60 "${WIN[@]}" stream-dump "$tmp/w.lin.snap" </dev/null 2>&1 | tr -d '\r' >"$tmp/w.dump.exe"
    $LROAM stream-dump "$tmp/w.lin.snap" >"$tmp/w.dump.lin" 2>&1
    if grep -q 'checksum ok' "$tmp/w.dump.exe" && cmp -s "$tmp/w.dump.exe" "$tmp/w.dump.lin"; then
        pass "$t/exe_stream_dump"
    else
        fail "$t/exe_stream_dump" "roam.exe stream-dump differs from the Linux build's" "$tmp/w.dump.exe"
        diff "$tmp/w.dump.exe" "$tmp/w.dump.lin" | head -n 6 | sed 's/^/    /'
    fi
    for e in "${lin_engines[@]}"; do
        for which in exe lin; do
            f=$tmp/w.$which.snap
            [ -f "$f" ] || continue
            timeout 120 $LROAM snapshot restore "$f" --engine "$e" --serial "file:$tmp/w.dst.serial" \
                >"$tmp/w.dst.out" 2>"$tmp/w.dst.err" </dev/null
            rc=$?
            label="$t/${which}_saved_linux_${e}_restores"
            if [ $rc = 1 ] && grep -q '^PASS: dirtier' "$tmp/w.dst.serial" && sums_suffix "$tmp/w.dst.serial"; then
                pass "$label"
            else
                fail "$label" "build/roam snapshot restore exited $rc, want 1 (guest PASS) with the reference sums" \
                    "$tmp/w.dst.serial" "$tmp/w.dst.err"
            fi
        done
    done
else
    fail "$t" "the guest did not start under wine" "$tmp/w.src.err"
    kill -9 $src 2>/dev/null
fi

# ---- live migration Linux (ENGINE) -> Windows -> Linux (ENGINE) over TCP
# loopback while the dirtier runs. The first hop is driven by build/roam
# through the Linux VM's unix control socket, the second by CLIENT (roam.exe
# or build/roam) through the Windows VM's TCP control socket.
# chain TEST ENGINE CLIENT
chain() {
    local t=$1 e=$2 client=$3 ok=1 why=""
    local p1 p2 c2 a b c cmdline=$DIRTY
    [ "$e" = kvm ] && cmdline=$KDIRTY
    p1=$(free_port) p2=$(free_port) c2=$(free_port)
    rm -f "$tmp"/m.*
    $LROAM run --engine "$e" --serial "file:$tmp/m.a.serial" --control "unix:$tmp/m.a.ctl" \
        --kernel build/guests/dirtier.elf --cmdline "$cmdline" >/dev/null 2>"$tmp/m.a.err" </dev/null &
    a=$!
    "${WIN[@]}" run --engine emu --incoming "tcp:127.0.0.1:$p1" --control "tcp:127.0.0.1:$c2" \
        --serial "file:$tmp/m.b.serial" >/dev/null 2>"$tmp/m.b.err" </dev/null &
    b=$!
    $LROAM run --engine "$e" --incoming "tcp:127.0.0.1:$p2" --serial "file:$tmp/m.c.serial" \
        >/dev/null 2>"$tmp/m.c.err" </dev/null &
    c=$!
    pids+=("$a" "$b" "$c")
    # The Windows destination must listen before the migration starts.
    local i
    for ((i = 0; i < 300; i++)); do
        $LROAM control --control "tcp:127.0.0.1:$c2" query-status >/dev/null 2>&1 && break
        sleep 0.2
    done
    [ $i -lt 300 ] || { ok=0; why="the Windows destination's control socket did not answer"; }
    [ $ok = 0 ] || wait_for "$tmp/m.a.serial" "round 2 " 60 || { ok=0; why="the Linux guest did not start"; }
    if [ $ok = 1 ]; then
        sleep 0.5
        if ! timeout 120 $LROAM migrate --control "unix:$tmp/m.a.ctl" --to "tcp:127.0.0.1:$p1" \
            >"$tmp/m.1.out" 2>"$tmp/m.1.err" </dev/null; then
            ok=0 why="migration 1 (Linux $e -> Windows) failed"
        fi
    fi
    finish $a 30
    [ $ok = 0 ] || [ $st = 0 ] || { ok=0; why="the Linux source exited $st, want 0"; }
    if [ $ok = 1 ]; then
        # A round or more on Windows (the KVM cmdline pauses 1 s a round).
        wait_for "$tmp/m.b.serial" "^round" 30 || { ok=0; why="no round ran on Windows"; }
    fi
    if [ $ok = 1 ]; then
        sleep 0.5
        if [ "$client" = exe ]; then
            timeout 120 "${WIN[@]}" migrate --control "tcp:127.0.0.1:$c2" --to "tcp:127.0.0.1:$p2" \
                >"$tmp/m.2.out" 2>"$tmp/m.2.err" </dev/null
        else
            timeout 120 $LROAM migrate --control "tcp:127.0.0.1:$c2" --to "tcp:127.0.0.1:$p2" \
                >"$tmp/m.2.out" 2>"$tmp/m.2.err" </dev/null
        fi || { ok=0; why="migration 2 (Windows -> Linux $e, by $client) failed"; }
    fi
    finish $b $((ok * 30))
    [ $ok = 0 ] || [ $st = 0 ] || { ok=0; why="the Windows process exited $st, want 0"; }
    finish $c $((ok * 120))
    local last=$st
    if [ $ok = 1 ] && [ $last = 1 ] && grep -q '^PASS: dirtier' "$tmp/m.c.serial"; then
        pass "$t"
        if sums_ok "$tmp/m.a.serial" "$tmp/m.b.serial" "$tmp/m.c.serial"; then
            pass "${t}_sums"
        else
            fail "${t}_sums" "the per-round checksums differ from the unmigrated run" \
                "$tmp/got.sums" "$tmp/ref.sums"
        fi
    else
        fail "$t" "${why:-the last process exited $last, want 1 (guest PASS)}" \
            "$tmp/m.1.err" "$tmp/m.2.err" "$tmp/m.b.err" "$tmp/m.c.serial" "$tmp/m.c.err"
        echo "SKIP: windows/migrate/${t#migrate/}_sums: the migration itself failed"
    fi
}
chain migrate/linux_emu_windows_linux_emu emu exe
if [ "$kvm" = usable ]; then
    chain migrate/linux_kvm_windows_linux_kvm kvm linux
else
    echo "SKIP: windows/migrate/linux_kvm_windows_linux_kvm: KVM is not usable here ($kvm)"
fi
exit 0

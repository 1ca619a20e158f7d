#!/usr/bin/env bash
# Live migration across engines: guest programs moved mid-run between the
# software engine (emu) and KVM, in both directions, and from emu to emu.
# The dirtier's per-round checksums must equal those of a run that was
# never migrated; the timer and SMP guests must pass on the last process.
# Without /dev/kvm the KVM legs are skipped with the reason. Then every
# other guest program, emu to emu, each moved in the middle of its run.
set -u
cd "$(dirname "$0")/../.."
TEST_PREFIX=cross
. tests/migrate/common.bash

kvm_ok=0
kvm=$($ROAM info | sed -n 's/^ *kvm *//p')
[ "$kvm" = usable ] && kvm_ok=1

# start_on NAME ENGINE ARGS...: common.bash's start on ENGINE.
start_on() {
    local name=$1 engine=$2
    shift 2
    start "$name" ${verbose:-} "$@"
}

# chain TEST GUEST CMDLINE CPUS START-PATTERN ENGINE... : starts GUEST on
# the first engine, waits for START-PATTERN on its console, then migrates
# it to a process on each next engine in turn (0.5 s apart), over Unix
# sockets or, with via=tcp, loopback TCP. Every source must exit 0 and the
# last process 1 (the guest's PASS through debug-exit).
via=unix
port0=$((20000 + RANDOM % 20000))
mig_uri() { # N: where process pN takes its VM
    if [ "$via" = tcp ]; then echo "tcp:127.0.0.1:$((port0 + $1))"; else echo "unix:$tmp/p$1.mig"; fi
}
chain() {
    local test=$1 guest=$2 cmdline=$3 cpus=$4 pattern=$5
    shift 5
    local engines=("$@") n=$# i ok=1 why=""
    rm -f "$tmp"/p*.serial
    start_on p0 "${engines[0]}" --cpus "$cpus" --kernel "build/guests/$guest.elf" --cmdline "$cmdline" ||
        { ok=0; why="p0 did not start"; }
    for ((i = 1; i < n; i++)); do
        start_on "p$i" "${engines[$i]}" --cpus "$cpus" --incoming "$(mig_uri $i)" ||
            { ok=0; why="p$i did not start"; }
    done
    [ $ok = 1 ] && { wait_for "$tmp/p0.serial" "$pattern" 60 || { ok=0; why="the guest did not start"; }; }
    for ((i = 1; i < n && ok == 1; i++)); do
        sleep 0.5
        if ! $ROAM migrate --control "unix:$tmp/p$((i - 1)).ctl" --to "$(mig_uri $i)" \
            >"$tmp/m$i.out" 2>"$tmp/m$i.err"; then
            ok=0
            why="migration $i (${engines[$((i - 1))]} -> ${engines[$i]}) failed"
        fi
        finish "p$((i - 1))" 120
        [ "$st" = 0 ] || { ok=0; why="${why:-source p$((i - 1)) exited $st}"; }
    done
    finish "p$((n - 1))" 120
    local last=$st
    if [ $ok = 1 ] && [ "$last" = 1 ] && grep -q "^PASS: $guest" "$tmp/p$((n - 1)).serial"; then
        pass "$test"
        return 0
    fi
    fail "$test" "${why:-the last process exited $last, want 1 (guest PASS)}" \
        "$tmp/m1.err" "$tmp/p0.err" "$tmp/p$((n - 1)).serial" "$tmp/p$((n - 1)).err"
    return 1
}

# The dirtier's checksums, compared with a run never migrated. It pauses
# 60 ms a round so that the guest still runs at the last hop: KVM runs a
# round's work in a few ms, and emu now in ~0.1 s.
DIRTY="rounds=40 mem=16M pause=60"
$ROAM run --engine emu --serial "file:$tmp/ref.serial" --kernel build/guests/dirtier.elf \
    --cmdline "$DIRTY" >/dev/null 2>"$tmp/ref.err"
grep '^round .* sum' "$tmp/ref.serial" >"$tmp/ref.sums"

sums_match() { # TEST ENGINES...: the dirtier chain, then its sums
    local test=$1
    shift
    if chain "$test" dirtier "$DIRTY" 1 "round 2 " "$@"; then
        cat "$tmp"/p*.serial | grep '^round .* sum' >"$tmp/mig.sums"
        if [ -s "$tmp/ref.sums" ] && cmp -s "$tmp/mig.sums" "$tmp/ref.sums"; then
            pass "${test}_sums"
        else
            fail "${test}_sums" "the guest's per-round checksums differ from the unmigrated run" \
                "$tmp/mig.sums" "$tmp/ref.sums"
        fi
    else
        echo "SKIP: cross/${test}_sums: the migration itself failed"
    fi
}

sums_match emu_emu_emu emu emu emu
# Over TCP the source cannot count what the destination has not read, so
# before the stop it asks the destination (a SYNC section, answered by a
# read receipt): the sources, started with -v, log each receipt.
via=tcp verbose=-v sums_match emu_emu_tcp emu emu emu
if grep -q "read receipt 1: the destination has read" "$tmp/p0.err" "$tmp/p1.err" 2>/dev/null; then
    pass emu_emu_tcp_receipts
else
    fail emu_emu_tcp_receipts "no source logged a read receipt over TCP" "$tmp/p0.err" "$tmp/p1.err"
fi
if [ $kvm_ok = 1 ]; then
    sums_match kvm_emu_kvm kvm emu kvm
    sums_match emu_kvm_emu emu kvm emu
else
    for t in kvm_emu_kvm kvm_emu_kvm_sums emu_kvm_emu emu_kvm_emu_sums; do
        echo "SKIP: cross/$t: KVM is not usable here ($kvm)"
    done
fi

# Timers and SMP across engines: the PIT and LAPIC timer guests check the
# count and the pace of their interrupts; the SMP guest counts with
# lock xadd on two vCPUs and checks the total.
if [ $kvm_ok = 1 ]; then
    E=(kvm emu kvm)
    label=kvm_emu_kvm
else
    E=(emu emu emu)
    label=emu_emu_emu
    echo "SKIP: cross/guests_kvm_legs: KVM is not usable here ($kvm); the guests move emu to emu"
fi
chain "pit_$label" pit "ticks=3000" 1 "" "${E[@]}"
chain "lapic_timer_$label" lapic_timer "ticks=3000" 1 "" "${E[@]}"
# The SMP count runs at CPL0, which KVM here emulates slowly: it starts and
# ends on emu and spends its middle hop on KVM (both directions mid-count).
if [ $kvm_ok = 1 ]; then
    chain smp_emu_kvm_emu smp "iters=30000000 timeout=120" 2 "APs up" emu kvm emu
else
    chain smp_emu_emu_emu smp "iters=30000000 timeout=120" 2 "APs up" emu emu emu
fi
# The other guest programs, moved emu -> emu mid-run: cpl3 in its CPL3
# workload, the others held at a point of their run (hold=NAME,
# lib/guest.h's hold_point(); the architecture guests between two check
# groups), with what comes before done at the source and the rest at the
# destination. The source must have migrated (exit 0)
# and the destination print the guest's PASS.
chain mid_run_cpl3 cpl3 "" 1 "workload:" emu emu
# ... and the IOAPIC guest while it counts 3000 PIT and 3000 RTC interrupts
# (1 kHz) through IOAPIC pins 2 and 8: the routing, the PIT, the RTC and
# the LAPIC carry on at the destination.
chain mid_run_ioapic_pit ioapic "ticks=3000" 1 "waiting for" emu emu
chain mid_run_ioapic_rtc ioapic "ticks=3000 source=rtc" 1 "waiting for" emu emu
for g in "hello|cmdline|" "longmode|aliases|" "exceptions|cpl3|" "fpu|cpl3|" "modes|compat3|" \
    "paging|tlb|" "segments|gate|" "sysinsn|swapgs|cpuid=roam"; do
    IFS='|' read -r name group extra <<<"$g"
    chain "mid_run_$name" "$name" "hold=$group hold_ms=2000 $extra" 1 "hold: $group" emu emu
done
exit 0

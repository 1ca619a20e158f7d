#!/usr/bin/env bash
# `make demo`: boots roam's guest programs with their serial console on this
# terminal, then moves a running guest live from KVM to the software engine
# (emu) and back, with each process's console lines labelled. Without a
# usable /dev/kvm every step uses emu.
set -u
cd "$(dirname "$0")/.."
ROAM=build/roam
status=0
kvm=emu
if $ROAM info | grep -q 'kvm *usable'; then
    kvm=kvm
else
    echo "demo: KVM is not usable here ($($ROAM info | sed -n 's/^ *kvm *//p')); every step uses emu."
fi

run() { # ENGINE NAME DESCRIPTION ROAM-ARGS...
    local engine=$1 name=$2 what=$3
    shift 3
    echo
    echo "=== roam run --engine $engine $(printf '%q ' "$@")--kernel build/guests/$name.elf"
    $ROAM run --engine "$engine" "$@" --kernel "build/guests/$name.elf"
    local rc=$?
    if [ "$rc" -eq 1 ]; then
        echo "=== demo: '$name' passed on $engine (debug-exit status 1 = PASS): $what"
    else
        echo "=== demo: '$name' FAILED on $engine (exit status $rc)"
        status=1
    fi
}
run "$kvm" hello "a multiboot guest printed on COM1 through roam's 16550A" --cmdline "hello from make demo"
run emu hello "the same guest on roam's software engine" --cmdline "hello from the emu engine"
run "$kvm" smp "a second vCPU started with INIT/SIPI through roam's LAPIC" --cpus 2
run emu cpl3 "ring 3 code and calls into ring 0 on the software engine" --memory 256M

# Live migration across engines: kvm -> emu -> kvm while the dirtier runs.
echo
echo "=== live migration: the dirtier starts on $kvm, moves to emu, then back to $kvm"
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
start() { # LABEL ENGINE ARGS...
    local label=$1 engine=$2
    shift 2
    ({ $ROAM run --engine "$engine" --serial stdio --control "unix:$tmp/$label.ctl" "$@" </dev/null
       echo $? >"$tmp/$label.rc"; } | sed -u "s/^/[$label on $engine] /") &
    pids+=($!)
    for _ in $(seq 100); do [ -S "$tmp/$label.ctl" ] && return 0; sleep 0.05; done
    return 1
}
migrate() { # FROM TO
    sleep 1.5
    echo "=== roam migrate --control unix:$1.ctl --to unix:$2.mig"
    $ROAM migrate --control "unix:$tmp/$1.ctl" --to "unix:$tmp/$2.mig" || status=1
}
start A "$kvm" --kernel build/guests/dirtier.elf --cmdline "rounds=60 mem=16M pause=40"
start B emu --incoming "unix:$tmp/B.mig"
start C "$kvm" --incoming "unix:$tmp/C.mig"
migrate A B
migrate B C
wait
[ "$(cat "$tmp/C.rc" 2>/dev/null)" = 1 ] || { echo "demo: the guest did not pass on C"; status=1; }
echo
if [ $status -eq 0 ]; then
    echo "demo: every guest passed, and the dirtier kept its checksums across $kvm -> emu -> $kvm."
else
    echo "demo: something failed (see above)."
fi
exit $status

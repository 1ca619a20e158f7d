#!/usr/bin/env bash
# `make demo`: boots roam's guest programs on KVM with their serial console
# on this terminal, and says what each one showed.
set -u
cd "$(dirname "$0")/.."
ROAM=build/roam
if ! $ROAM info | grep -q 'kvm *usable'; then
    echo "demo: KVM is not usable on this host: $($ROAM info | grep kvm | sed 's/^ *kvm *//')"
    echo "demo: roam has no other engine yet (the software engine is a later milestone)."
    exit 1
fi
status=0
run() { # NAME DESCRIPTION ROAM-ARGS...
    local name=$1 what=$2
    shift 2
    echo
    echo "=== roam run --engine kvm $(printf '%q ' "$@")--kernel build/guests/$name.elf"
    $ROAM run --engine kvm "$@" --kernel "build/guests/$name.elf"
    local rc=$?
    if [ "$rc" -eq 1 ]; then
        echo "=== demo: '$name' passed on KVM (debug-exit status 1 = PASS): $what"
    else
        echo "=== demo: '$name' FAILED on KVM (exit status $rc)"
        status=1
    fi
}
run hello "a multiboot guest printed on COM1 through roam's 16550A" --cmdline "hello from make demo"
run cpl3 "a 32 MiB checksum workload ran at ring 3 and called into ring 0" --memory 256M
run smp "a second vCPU started with INIT/SIPI through roam's LAPIC and shared memory with the first" --cpus 2
run dirtier "a memory dirtier kept a running checksum and verified all of its memory" --cmdline "rounds=5 mem=32M"
echo
[ $status -eq 0 ] && echo "demo: every guest program ran on KVM under roam and passed." || echo "demo: some guests failed."
exit $status

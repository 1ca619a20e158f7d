#!/usr/bin/env bash
# Runs every guest program on roam's KVM engine and on its software engine
# (emu), with the normal and the ASan+UBSan build of roam, and checks the
# guest's own verdict: exit status 1 (debug-exit code 0 = PASS), its
# "PASS: NAME" line on the serial console, and no FAIL line. KVM runs are
# skipped, with the reason, where KVM cannot run. On emu the guests also run
# in their strict form: the checks this host's KVM cannot do (docs/kvm.md)
# must pass there.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name | roam options | a line the serial output must contain
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
)
# Only on emu: the strict forms (as tests/guests/qemu-ref.sh runs them).
emu_only=(
    "cpl3|--memory 128M --cmdline 'mem=8M int80=on syscall=on'|PASS: cpl3"
    "exceptions|--cmdline 'intn=off bp0=1'|PASS: exceptions"
)

for roam in build/roam build-asan/roam; do
    prefix=""
    [ "$roam" = build-asan/roam ] && prefix="asan:"
    if [ ! -x "$roam" ]; then
        echo "SKIP: ${prefix}guests: $roam is not built"
        continue
    fi
    kvm=$("$roam" info | sed -n 's/^ *kvm *//p')
    for engine in kvm emu; do
        list=("${guests[@]}")
        [ "$engine" = emu ] && list+=("${emu_only[@]}")
        for g in "${list[@]}"; do
            IFS='|' read -r name opts want <<<"$g"
            label="${prefix}guest/$engine/$name${opts:+ $opts}"
            if [ "$engine" = kvm ] && [ "$kvm" != usable ]; then
                echo "SKIP: $label: KVM is not usable here ($kvm)"
                continue
            fi
            if [ ! -f "build/guests/$name.elf" ]; then
                echo "FAIL: $label: build/guests/$name.elf is missing (make guests)"
                continue
            fi
            eval "timeout 300 $roam run --engine $engine $opts --serial file:$tmp/serial --kernel build/guests/$name.elf" \
                >"$tmp/out" 2>"$tmp/err" </dev/null
            rc=$?
            if [ "$rc" -ne 1 ]; then
                echo "FAIL: $label: exit status $rc, expected 1 (PASS)"
                tail -n 5 "$tmp/serial" "$tmp/err" 2>/dev/null | sed 's/^/    /'
            elif ! grep -qF -- "$want" "$tmp/serial"; then
                echo "FAIL: $label: serial output lacks '$want'"
                tail -n 5 "$tmp/serial" | sed 's/^/    /'
            elif grep -q '^FAIL' "$tmp/serial"; then
                echo "FAIL: $label: the guest reported a failure"
                grep '^FAIL' "$tmp/serial" | sed 's/^/    /'
            else
                echo "PASS: $label"
            fi
            # Checks the guest itself skipped (what this host's KVM cannot do,
            # see docs/kvm.md) are reported as skipped, with the guest's reason.
            grep '^skip - ' "$tmp/serial" | sed "s|^skip - |SKIP: $label: in-guest check: |"
            grep '^SKIP: ' "$tmp/serial" | sed "s|^SKIP: |SKIP: $label: in-guest check: |"
        done
        # The dirtier's self-test: one word corrupted behind its back must be
        # caught (exit status 3, a FAIL line), or its PASS above proves nothing.
        label="${prefix}guest/$engine/dirtier corrupt=3"
        if [ "$engine" = emu ] || [ "$kvm" = usable ]; then
            timeout 300 "$roam" run --engine $engine --serial "file:$tmp/serial" \
                --cmdline "rounds=5 mem=8M corrupt=3" --kernel build/guests/dirtier.elf \
                >"$tmp/out" 2>"$tmp/err" </dev/null
            rc=$?
            if [ "$rc" -eq 3 ] && grep -q '^FAIL: dirtier' "$tmp/serial"; then
                echo "PASS: $label"
            else
                echo "FAIL: $label: exit status $rc, expected 3 with a FAIL line"
                tail -n 5 "$tmp/serial" | sed 's/^/    /'
            fi
        else
            echo "SKIP: $label: KVM is not usable here ($kvm)"
        fi
    done
done

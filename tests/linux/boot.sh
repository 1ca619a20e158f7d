#!/usr/bin/env bash
# A stock Debian kernel on the emu engine (the guest kit, scripts/guest-kit.sh):
# boots to the initramfs banner, answers commands typed on its console
# (uname -r, the CPU flags of /proc/cpuinfo, dmesg with no ACPI errors), 64 MiB
# of data generated in the guest has the checksums the host computes for it
# (busybox's md5sum and the kit's roam-sum, against coreutils and the same
# roam-sum run on the host), and `poweroff -f` ends roam with status 0. Skipped, with the reason, when the
# kit cannot be fetched (no network or no Debian package sources).
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

if ! kit=$(scripts/guest-kit.sh 2>&1); then
    for t in boot_banner uname cpuinfo_flags dmesg_no_acpi_errors checksum_64m pci_host_bridge no_unhandled_io poweroff_status; do
        echo "SKIP: linux/$t: the guest kit is not available: $kit"
    done
    exit 0
fi

wait_for() { # PATTERN SECONDS: until the console shows PATTERN
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        grep -q -- "$1" "$tmp/out" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
say() { printf '%s\n' "$1" >&3; }

mkfifo "$tmp/in"
$ROAM run --engine emu --memory 256M --kernel build/guest/vmlinuz --initrd build/guest/initrd.gz \
    --cmdline "console=ttyS0" --serial stdio <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/in"

if wait_for "roam guest kit: Linux .* is up" 240; then
    echo "PASS: linux/boot_banner"
else
    echo "FAIL: linux/boot_banner: no banner within 240 s"
    tail -n 5 "$tmp/out" "$tmp/err" | sed 's/^/    /'
    exit 0
fi
release=$(ls build/guest/deb/linux-image-*_*.deb | head -n 1 | sed 's|.*/linux-image-\([^_]*\)_.*|\1|')
say "uname -r; echo UNAME-DONE"
if wait_for "UNAME-DONE" 30 && grep -q "^$release" "$tmp/out"; then
    echo "PASS: linux/uname"
else
    echo "FAIL: linux/uname: expected $release"
fi
# roam-v1's leaf 1 and 0x80000001 features, in /proc/cpuinfo's order.
want="fpu de pse tsc msr pae cx8 apic sep mtrr pge cmov pat clflush mmx fxsr sse sse2 syscall nx lm"
say "grep -m1 ^flags /proc/cpuinfo; echo FLAGS-DONE"
if wait_for "FLAGS-DONE" 30; then
    # The console ends lines with CR LF.
    flags=$(tr -d '\r' <"$tmp/out" | grep -m1 "^flags" | sed 's/^flags[[:space:]]*: //')
    hw=$(for f in $flags; do case " $want " in *" $f "*) echo -n "$f ";; esac; done)
    extra=$(for f in $flags; do case " $want constant_tsc rep_good nopl cpuid hypervisor pti tsc_known_freq " in
            *" $f "*) ;; *) echo -n "$f ";; esac; done)
    if [ "${hw% }" = "$want" ] && [ -z "$extra" ]; then
        echo "PASS: linux/cpuinfo_flags"
    else
        echo "FAIL: linux/cpuinfo_flags: got '$flags'"
    fi
else
    echo "FAIL: linux/cpuinfo_flags: no answer"
fi
say "echo ACPI-ERRORS=\$(dmesg | grep -ci -e 'acpi.*error' -e 'firmware bug')"
if wait_for "^ACPI-ERRORS=[0-9]" 30 && grep -q "^ACPI-ERRORS=0" "$tmp/out"; then
    echo "PASS: linux/dmesg_no_acpi_errors"
else
    echo "FAIL: linux/dmesg_no_acpi_errors"
    tr -d '\r' <"$tmp/out" | grep -i -e 'acpi.*error' -e 'firmware bug' | head -n 5 | sed 's/^/    /'
fi
# 64 MiB made in the guest (in its RAM-backed root file system), summed there
# and here: exercises memory, the page cache and a long stretch of integer code.
say "roam-sum gen 64M 7 >/tmp/d; echo SUM-\$(roam-sum /tmp/d | cut -c1-16)-\$(md5sum /tmp/d | cut -c1-32)-; rm /tmp/d"
want_sum=$(build/guest/tools/roam-sum gen 64M 7 | build/guest/tools/roam-sum | cut -c1-16)
want_md5=$(build/guest/tools/roam-sum gen 64M 7 | md5sum | cut -c1-32)
if wait_for "^SUM-[0-9a-f]*-[0-9a-f]*-" 120; then
    got=$(tr -d '\r' <"$tmp/out" | grep -m1 "^SUM-[0-9a-f]*-[0-9a-f]*-")
    if [ "$got" = "SUM-$want_sum-$want_md5-" ]; then
        echo "PASS: linux/checksum_64m"
    else
        echo "FAIL: linux/checksum_64m: the guest says $got, the host SUM-$want_sum-$want_md5-"
    fi
else
    echo "FAIL: linux/checksum_64m: no answer within 120 s"
fi
# The PCI host bridge (dev/pci_host.h, \_SB.PCI0 in the DSDT): Linux lists
# 00:00.0 with the i440FX's vendor and device IDs. And roam has not warned
# about any I/O port (the PCI configuration ports and the absent ISA
# devices' ports, dev/isa_absent.h, are claimed).
say "echo PCI=\$(ls /sys/bus/pci/devices)=\$(cat /sys/bus/pci/devices/0000:00:00.0/vendor /sys/bus/pci/devices/0000:00:00.0/device)="
if wait_for "^PCI=[0-9=]" 30 && tr -d '\r' <"$tmp/out" | grep -q "^PCI=0000:00:00.0=0x8086 0x1237=$"; then
    echo "PASS: linux/pci_host_bridge"
else
    echo "FAIL: linux/pci_host_bridge: expected PCI=0000:00:00.0=0x8086 0x1237="
    tr -d '\r' <"$tmp/out" | grep "^PCI=" | head -n 1 | sed 's/^/    /'
fi
if ! grep -q "unhandled" "$tmp/err"; then
    echo "PASS: linux/no_unhandled_io"
else
    echo "FAIL: linux/no_unhandled_io: roam warned about unclaimed accesses"
    grep "unhandled" "$tmp/err" | sort | uniq -c | head -n 5 | sed 's/^/    /'
fi
say "poweroff -f"
for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null
wait "$pid"
st=$?
pid=
if [ "$st" = 0 ] && grep -q "reboot: Power down" "$tmp/out"; then
    echo "PASS: linux/poweroff_status"
else
    echo "FAIL: linux/poweroff_status: roam exited $st, expected 0 after the guest's power-off"
fi
exit 0

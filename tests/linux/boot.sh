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
TESTS="boot_banner uname cpuinfo_flags dmesg_no_acpi_errors checksum_64m pci_host_bridge no_unhandled_io poweroff_status auto_engine"
TEST_PREFIX=linux/
. tests/linux/guest.bash
guest_need_kit

guest_start vm $ROAM run --engine emu --memory 256M "${GUEST_KIT[@]}" --serial stdio

if guest_wait vm "$GUEST_BANNER" 240; then
    echo "PASS: linux/boot_banner"
else
    echo "FAIL: linux/boot_banner: no banner within 240 s"
    tail -n 5 "$tmp/vm.out" "$tmp/vm.err" | sed 's/^/    /'
    exit 0
fi
release=$(guest_kernel_release)
guest_say vm "uname -r; echo UNAME-DONE"
if guest_wait vm "^UNAME-DONE" 30 && guest_console vm | grep -q "^$release"; then
    echo "PASS: linux/uname"
else
    echo "FAIL: linux/uname: expected $release"
fi
# roam-v1's leaf 1 and 0x80000001 features, in /proc/cpuinfo's order.
want="fpu de pse tsc msr pae cx8 apic sep mtrr pge cmov pat clflush mmx fxsr sse sse2 syscall nx lm"
guest_say vm "grep -m1 ^flags /proc/cpuinfo; echo FLAGS-DONE"
if guest_wait vm "^FLAGS-DONE" 30; then
    flags=$(guest_console vm | grep -m1 "^flags" | sed 's/^flags[[:space:]]*: //')
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
guest_say vm "echo ACPI-ERRORS=\$(dmesg | grep -ci -e 'acpi.*error' -e 'firmware bug')"
if guest_wait vm "^ACPI-ERRORS=[0-9]" 30 && guest_console vm | grep -q "^ACPI-ERRORS=0"; then
    echo "PASS: linux/dmesg_no_acpi_errors"
else
    echo "FAIL: linux/dmesg_no_acpi_errors"
    guest_console vm | grep -i -e 'acpi.*error' -e 'firmware bug' | head -n 5 | sed 's/^/    /'
fi
# 64 MiB made in the guest (in its RAM-backed root file system), summed there
# and here: exercises memory, the page cache and a long stretch of integer code.
guest_say vm "roam-sum gen 64M 7 >/tmp/d; echo SUM-\$(roam-sum /tmp/d | cut -c1-16)-\$(md5sum /tmp/d | cut -c1-32)-; rm /tmp/d"
want_sum=$(build/guest/tools/roam-sum gen 64M 7 | build/guest/tools/roam-sum | cut -c1-16)
want_md5=$(build/guest/tools/roam-sum gen 64M 7 | md5sum | cut -c1-32)
if guest_wait vm "^SUM-[0-9a-f]*-[0-9a-f]*-" 120; then
    got=$(guest_console vm | grep -m1 "^SUM-[0-9a-f]*-[0-9a-f]*-")
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
guest_say vm "echo PCI=\$(ls /sys/bus/pci/devices)=\$(cat /sys/bus/pci/devices/0000:00:00.0/vendor /sys/bus/pci/devices/0000:00:00.0/device)="
if guest_wait vm "^PCI=[0-9=]" 30 && guest_console vm | grep -q "^PCI=0000:00:00.0=0x8086 0x1237=$"; then
    echo "PASS: linux/pci_host_bridge"
else
    echo "FAIL: linux/pci_host_bridge: expected PCI=0000:00:00.0=0x8086 0x1237="
    guest_console vm | grep "^PCI=" | head -n 1 | sed 's/^/    /'
fi
if ! grep -q "unhandled" "$tmp/vm.err"; then
    echo "PASS: linux/no_unhandled_io"
else
    echo "FAIL: linux/no_unhandled_io: roam warned about unclaimed accesses"
    grep "unhandled" "$tmp/vm.err" | sort | uniq -c | head -n 5 | sed 's/^/    /'
fi
if guest_poweroff vm; then
    echo "PASS: linux/poweroff_status"
else
    echo "FAIL: linux/poweroff_status: roam exited $st, expected 0 after the guest's power-off"
fi

# --engine auto with a Linux kernel: KVM where it runs ring 0 at speed; where
# /dev/kvm is kvm_pvm (ring 0 emulated, DESIGN.md) emu, saying why.
kvm=$($ROAM info | sed -n 's/^ *kvm *//p')
if [ "$kvm" = usable ] && [ -e /sys/module/kvm_pvm ]; then
    want="roam: engine auto: emu (kvm: /dev/kvm here is kvm_pvm"
elif [ "$kvm" = usable ]; then
    want="roam: engine auto: kvm"
else
    want="roam: engine auto: emu"
fi
timeout 3 $ROAM run --memory 256M "${GUEST_KIT[@]}" --serial "file:$tmp/auto.out" \
    >/dev/null 2>"$tmp/auto.err" </dev/null
if grep -qF -- "$want" "$tmp/auto.err"; then
    echo "PASS: linux/auto_engine"
else
    echo "FAIL: linux/auto_engine: expected '$want'"
    head -n 3 "$tmp/auto.err" | sed 's/^/    /'
fi
exit 0

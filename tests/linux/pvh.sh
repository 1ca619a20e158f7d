#!/usr/bin/env bash
# The guest kit's kernel as a vmlinux ELF (scripts/guest-vmlinux.sh), booted
# through its PVH entry point on the emu engine: it reaches the initramfs
# banner, /proc/cmdline is the command line roam passed in start_info, the
# kernel says it came in through PVH (Linux's PVH code fills boot_params
# with boot protocol 2.12 and loader type 0xb0, and adds the ISA range
# [0xa0000, 1 MiB) to the memory map, which merges with roam's reserved
# [0x9fc00, 0xa0000)), ACPI was found at roam's RSDP with no errors, and
# `poweroff -f` ends roam with status 0. Skipped, with the reason, when the
# kit cannot be fetched or lz4 cannot extract the vmlinux.
set -u
cd "$(dirname "$0")/../.."
TESTS="boot_banner cmdline booted_via_pvh acpi_rsdp_no_errors poweroff_status"
TEST_PREFIX=linux/pvh_
. tests/linux/guest.bash
guest_need_kit
vml=$(scripts/guest-vmlinux.sh 2>&1) || guest_skip_all "no vmlinux: $vml"

cmdline="console=ttyS0 roam.pvh=1"
guest_start vm $ROAM run --engine emu --memory 256M --kernel build/guest/vmlinux --initrd build/guest/initrd.gz \
    --cmdline "$cmdline" --serial stdio

if guest_wait vm "$GUEST_BANNER" 240; then
    echo "PASS: linux/pvh_boot_banner"
else
    echo "FAIL: linux/pvh_boot_banner: no banner within 240 s"
    tail -n 5 "$tmp/vm.out" "$tmp/vm.err" | sed 's/^/    /'
    exit 0
fi

guest_say vm "echo CMDLINE=\$(cat /proc/cmdline)"
if guest_wait vm "^CMDLINE=" 30 && [ "$(guest_answer vm CMDLINE=)" = "$cmdline" ]; then
    echo "PASS: linux/pvh_cmdline"
else
    echo "FAIL: linux/pvh_cmdline: /proc/cmdline is '$(guest_answer vm CMDLINE=)', expected '$cmdline'"
fi

# boot_params as Linux's PVH code built it: version 0x020c, type_of_loader
# 0xb0 at 0x210 (a bzImage boot reports the image's protocol, 0x020f here,
# and roam's loader type 0xff).
# One question at a time: each answer comes back before the next is typed.
guest_say vm "echo BPVER=\$(cat /sys/kernel/boot_params/version)"
guest_wait vm "^BPVER=" 30
guest_say vm "echo LOADER=\$(od -An -tx1 -j 528 -N 1 /sys/kernel/boot_params/data)"
guest_wait vm "^LOADER=" 30
guest_say vm "echo ISA=\$(dmesg | grep -c 'BIOS-e820: \[mem 0x000000000009fc00-0x00000000000fffff\] reserved')"
if guest_wait vm "^ISA=[0-9]" 30 && [ "$(guest_answer vm BPVER=)" = 0x020c ] &&
    [ "$(guest_answer vm LOADER=)" = b0 ] && [ "$(guest_answer vm ISA=)" = 1 ]; then
    echo "PASS: linux/pvh_booted_via_pvh"
else
    echo "FAIL: linux/pvh_booted_via_pvh: boot_params version '$(guest_answer vm BPVER=)' (want 0x020c)," \
        "loader '$(guest_answer vm LOADER=)' (want b0), ISA range merged in e820: '$(guest_answer vm ISA=)' (want 1)"
    guest_console vm | grep -e BPVER -e LOADER -e ISA -e boot_params | sed 's/^/    /'
fi

guest_say vm "echo RSDP=\$(dmesg | grep -c 'ACPI: RSDP 0x00000000000F0000') ACPI-ERRORS=\$(dmesg | grep -ci -e 'acpi.*error' -e 'firmware bug')"
if guest_wait vm "^RSDP=[0-9]" 30 && guest_console vm | grep -q "^RSDP=1 ACPI-ERRORS=0$"; then
    echo "PASS: linux/pvh_acpi_rsdp_no_errors"
else
    echo "FAIL: linux/pvh_acpi_rsdp_no_errors: $(guest_console vm | grep -m1 '^RSDP=')"
    guest_console vm | grep -i -e 'acpi.*error' -e 'firmware bug' | head -n 5 | sed 's/^/    /'
fi

if guest_poweroff vm; then
    echo "PASS: linux/pvh_poweroff_status"
else
    echo "FAIL: linux/pvh_poweroff_status: roam exited $st, expected 0 after the guest's power-off"
fi
exit 0

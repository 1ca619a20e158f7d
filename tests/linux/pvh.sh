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
ROAM=${ROAM:-build/roam}
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    exec 3>&- 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

TESTS="boot_banner cmdline booted_via_pvh acpi_rsdp_no_errors poweroff_status"
skip_all() {
    for t in $TESTS; do echo "SKIP: linux/pvh_$t: $1"; done
    exit 0
}
if ! kit=$(scripts/guest-kit.sh 2>&1); then
    skip_all "the guest kit is not available: $kit"
fi
if ! vml=$(scripts/guest-vmlinux.sh 2>&1); then
    skip_all "no vmlinux: $vml"
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
# The console ends lines with CR LF.
answer() { tr -d '\r' <"$tmp/out" | grep -m1 "^$1" | sed "s/^$1 *//"; }

cmdline="console=ttyS0 roam.pvh=1"
mkfifo "$tmp/in"
$ROAM run --engine emu --memory 256M --kernel build/guest/vmlinux --initrd build/guest/initrd.gz \
    --cmdline "$cmdline" --serial stdio <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/in"

if wait_for "roam guest kit: Linux .* is up" 240; then
    echo "PASS: linux/pvh_boot_banner"
else
    echo "FAIL: linux/pvh_boot_banner: no banner within 240 s"
    tail -n 5 "$tmp/out" "$tmp/err" | sed 's/^/    /'
    exit 0
fi

say "echo CMDLINE=\$(cat /proc/cmdline)"
if wait_for "^CMDLINE=" 30 && [ "$(answer CMDLINE=)" = "$cmdline" ]; then
    echo "PASS: linux/pvh_cmdline"
else
    echo "FAIL: linux/pvh_cmdline: /proc/cmdline is '$(answer CMDLINE=)', expected '$cmdline'"
fi

# boot_params as Linux's PVH code built it: version 0x020c, type_of_loader
# 0xb0 at 0x210 (a bzImage boot reports the image's protocol, 0x020f here,
# and roam's loader type 0xff).
say "echo BPVER=\$(cat /sys/kernel/boot_params/version)"
say "echo LOADER=\$(od -An -tx1 -j 528 -N 1 /sys/kernel/boot_params/data)"
say "echo ISA=\$(dmesg | grep -c 'BIOS-e820: \[mem 0x000000000009fc00-0x00000000000fffff\] reserved')"
if wait_for "^ISA=[0-9]" 30 && [ "$(answer BPVER=)" = 0x020c ] && [ "$(answer LOADER=)" = b0 ] &&
    [ "$(answer ISA=)" = 1 ]; then
    echo "PASS: linux/pvh_booted_via_pvh"
else
    echo "FAIL: linux/pvh_booted_via_pvh: boot_params version '$(answer BPVER=)' (want 0x020c)," \
        "loader '$(answer LOADER=)' (want b0), ISA range merged in e820: '$(answer ISA=)' (want 1)"
fi

say "echo RSDP=\$(dmesg | grep -c 'ACPI: RSDP 0x00000000000F0000') ACPI-ERRORS=\$(dmesg | grep -ci -e 'acpi.*error' -e 'firmware bug')"
if wait_for "^RSDP=[0-9]" 30 && tr -d '\r' <"$tmp/out" | grep -q "^RSDP=1 ACPI-ERRORS=0$"; then
    echo "PASS: linux/pvh_acpi_rsdp_no_errors"
else
    echo "FAIL: linux/pvh_acpi_rsdp_no_errors: $(tr -d '\r' <"$tmp/out" | grep -m1 '^RSDP=')"
    tr -d '\r' <"$tmp/out" | grep -i -e 'acpi.*error' -e 'firmware bug' | head -n 5 | sed 's/^/    /'
fi

say "poweroff -f"
for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null
wait "$pid"
st=$?
pid=
if [ "$st" = 0 ] && grep -q "reboot: Power down" "$tmp/out"; then
    echo "PASS: linux/pvh_poweroff_status"
else
    echo "FAIL: linux/pvh_poweroff_status: roam exited $st, expected 0 after the guest's power-off"
fi
exit 0

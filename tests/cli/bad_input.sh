#!/usr/bin/env bash
# Bad input to `roam run` gets one clear line on stderr and exit status 2;
# a triple-faulting guest gets a CPU state dump and exit status 4.
set -u
cd "$(dirname "$0")/../.."
ROAM=${ROAM:-build/roam}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A minimal multiboot image (a.out kludge, loaded at 1 MiB): header, then code.
# mkimage FILE CODE-BYTES(printf escapes)
mkimage() {
    printf '\x02\xb0\xad\x1b\x00\x00\x01\x00\xfe\x4f\x51\xe4' >"$1"   # magic, flags bit 16, checksum
    printf '\x00\x00\x10\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x00\x10\x00' >>"$1"
    printf "$2" >>"$1"
}
mkimage "$tmp/tf.bin" '\x0f\x0b'            # ud2 with no IDT: #UD -> #DF -> triple fault
mkimage "$tmp/ok.bin" '\xb0\x00\xe6\xf4\xf4' # mov al,0; out 0xf4,al: debug-exit code 0 -> status 1
head -c 4096 /dev/urandom >"$tmp/random.bin"
printf 'hello' >"$tmp/short.bin"
mkdir "$tmp/dir"
# An ELF64 executable (one PT_LOAD at 1 MiB) with neither a multiboot header
# nor a PVH entry note: what a vmlinux built without CONFIG_PVH looks like.
{
    printf '\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0'  # ident, ET_EXEC, x86-64
    printf '\0\0\x10\0\0\0\0\0\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0'      # entry, phoff, shoff, flags
    printf '\x40\0\x38\0\x01\0\0\0\0\0\0\0'                                 # sizes, one phdr
    printf '\x01\0\0\0\x05\0\0\0\0\0\0\0\0\0\0\0\0\0\x10\0\0\0\0\0\0\0\x10\0\0\0\0\0' # PT_LOAD
    printf '\x78\0\0\0\0\0\0\0\x78\0\0\0\0\0\0\0\0\x10\0\0\0\0\0\0'               # sizes, align
} >"$tmp/vmlinux-nopvh"

# expect NAME STATUS PATTERN -- ARGS...: exit status STATUS and stderr matching
# PATTERN (one line for status 2; an empty PATTERN means stderr stays empty).
expect() {
    local name=$1 want=$2 pat=$3
    shift 4
    $ROAM "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: cli/$name: exit status $rc, expected $want; stderr:"; sed 's/^/    /' "$tmp/err"
    elif [ -z "$pat" ] && [ -s "$tmp/err" ]; then
        echo "FAIL: cli/$name: expected nothing on stderr:"; sed 's/^/    /' "$tmp/err"
    elif [ -n "$pat" ] && ! grep -qiE -- "$pat" "$tmp/err"; then
        echo "FAIL: cli/$name: stderr does not match '$pat':"; sed 's/^/    /' "$tmp/err"
    elif [ "$want" = 2 ] && [ "$lines" -ne 1 ]; then
        echo "FAIL: cli/$name: expected one line on stderr, got $lines:"; sed 's/^/    /' "$tmp/err"
    else
        echo "PASS: cli/$name"
    fi
}

expect missing_kernel 2 'nonexistent.*No such file' -- run --kernel "$tmp/nonexistent.elf"
expect unreadable_kernel 2 'dir.*(directory|cannot read)' -- run --kernel "$tmp/dir"
expect no_kernel_option 2 'kernel FILE is required' -- run --memory 64M
expect not_multiboot 2 'no multiboot header' -- run --kernel "$tmp/random.bin"
expect truncated_image 2 'short.bin.*(too short|truncated|no multiboot header)' -- run --kernel "$tmp/short.bin"
expect memory_not_a_size 2 'not a size' -- run --kernel "$tmp/ok.bin" --memory lots
expect memory_too_small 2 'too small' -- run --kernel "$tmp/ok.bin" --memory 1M
expect memory_too_large 2 'more than the host' -- run --kernel "$tmp/ok.bin" --memory 64T
expect memory_overflow 2 'too large' -- run --kernel "$tmp/ok.bin" --memory 99999999999999T
expect cpus_out_of_range 2 'out of range' -- run --kernel "$tmp/ok.bin" --cpus 0
expect unknown_engine 2 "unknown engine 'warp'" -- run --kernel "$tmp/ok.bin" --engine warp
expect unknown_option 2 "unknown option '--turbo'" -- run --kernel "$tmp/ok.bin" --turbo
expect missing_value 2 'needs a value' -- run --kernel
expect unknown_command 2 "unknown command 'fly'" -- fly
expect bad_serial 2 'bad serial backend' -- run --kernel "$tmp/ok.bin" --serial tcp:1
expect initrd_with_multiboot 2 'initrd is for Linux kernels' -- run --kernel "$tmp/ok.bin" --initrd "$tmp/ok.bin"
expect elf_without_pvh_note 2 'no PVH entry note \(XEN_ELFNOTE_PHYS32_ENTRY\).*CONFIG_PVH=y' -- run --kernel "$tmp/vmlinux-nopvh"
expect neither_format 2 'neither a Linux bzImage.*nor a multiboot' -- run --kernel "$tmp/random.bin"

# The KVM device: absent (a path that does not exist) and not permitted.
ROAM_KVM_DEVICE="$tmp/no-kvm" expect kvm_absent 2 'not found.*(engine|kvm)' -- run --kernel "$tmp/ok.bin" --engine kvm
if [ -e /dev/kvm ] && [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$tmp"; chmod 644 "$tmp/ok.bin"
    ROAM_ABS=$(readlink -f "$ROAM")
    ROAM="setpriv --reuid=65534 --regid=65534 --clear-groups $ROAM_ABS"
    if setpriv --reuid=65534 --regid=65534 --clear-groups test -r /dev/kvm; then
        echo "SKIP: cli/kvm_not_permitted: /dev/kvm is readable by everyone here"
    else
        expect kvm_not_permitted 2 'permission denied.*kvm' -- run --kernel "$tmp/ok.bin" --engine kvm
    fi
    ROAM=${ROAM_ABS}
else
    echo "SKIP: cli/kvm_not_permitted: needs /dev/kvm, root and setpriv to test as an unprivileged user"
fi

# Guests that end: debug-exit status, and a triple fault with a state dump.
if $ROAM info | grep -q 'kvm *usable'; then
    expect debug_exit_status 1 '' -- run --kernel "$tmp/ok.bin" --engine kvm
    expect triple_fault 4 'triple fault' -- run --kernel "$tmp/tf.bin" --engine kvm
    if grep -qi 'rip=' "$tmp/err" && grep -qi 'cr0=' "$tmp/err"; then
        echo "PASS: cli/triple_fault_dump"
    else
        echo "FAIL: cli/triple_fault_dump: no register dump on stderr"; sed 's/^/    /' "$tmp/err"
    fi
else
    echo "SKIP: cli/debug_exit_status: KVM is not usable here ($($ROAM info | grep kvm))"
    echo "SKIP: cli/triple_fault: KVM is not usable here"
    echo "SKIP: cli/triple_fault_dump: KVM is not usable here"
fi

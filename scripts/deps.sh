#!/usr/bin/env bash
# Installs (as root, through apt-get) or names (otherwise) the Debian 12
# packages roam's build and tests need. Used by `make check` and `make demo`.
set -u
need=()
want() { # command package
    command -v "$1" >/dev/null 2>&1 || need+=("$2")
}
want gcc gcc
want clang clang
want make make
want objcopy binutils
want x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
want qemu-system-x86_64 qemu-system-x86   # the reference VMM (tests/guests/qemu-ref.sh)
want setpriv util-linux                   # the "/dev/kvm not permitted" test
want cpio cpio                            # the Linux guest kit's initramfs (scripts/guest-kit.sh)
want lz4 lz4                              # the kit's vmlinux for PVH boot (scripts/guest-vmlinux.sh)
# wine runs the Windows build's tests (tests/windows/wine.sh); Debian's
# wine64 package puts its loader in /usr/lib/wine, not on PATH.
[ -x /usr/lib/wine/wine64 ] || command -v wine64 >/dev/null 2>&1 || need+=(wine64)
# libasan/libubsan come with gcc; check that a sanitizer build links.
if command -v gcc >/dev/null 2>&1; then
    if ! echo 'int main(void){return 0;}' | gcc -x c -fsanitize=address,undefined -o /dev/null - 2>/dev/null; then
        need+=(libasan8 libubsan1)
    fi
fi
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
# de-duplicate
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null || {
        echo "deps: apt-get install ${need[*]} failed" >&2
        exit 1
    }
else
    echo "deps: missing packages: ${need[*]}" >&2
    echo "deps: run: sudo apt-get install -y ${need[*]}" >&2
    exit 1
fi

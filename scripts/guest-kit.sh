#!/usr/bin/env bash
# `make guest`: the Linux guest kit. Downloads Debian 12's cloud kernel and
# busybox-static with `apt-get download` (cached in build/guest/deb: nothing
# is fetched twice), extracts the kernel, and builds an initramfs whose init
# prints a banner and starts a shell on ttyS0, with the kernel's virtio
# modules and roam's guest tools (tools/guest: roam-dirty, roam-sum, built
# static here) in /bin. Results:
#   build/guest/vmlinuz      the kernel (a bzImage)
#   build/guest/initrd.gz    the initramfs (newc cpio, gzip)
#   build/guest/tools/       the guest tools (static Linux binaries; the tests
#                            run them on the host too, for expected values)
# Exits 0 when both exist, 1 with a message when the download fails.
set -eu -o pipefail
cd "$(dirname "$0")/.."
out=build/guest
mkdir -p "$out/deb"
fresh=1
for f in "$0" tools/guest/*; do [ "$out/initrd.gz" -nt "$f" ] || fresh=0; done
if [ -s "$out/vmlinuz" ] && [ "$(stat -c %s "$out/initrd.gz" 2>/dev/null || echo 0)" -gt 1000 ] &&
    [ "$fresh" = 1 ]; then
    exit 0
fi
# The guest tools: static, so they need nothing from the initramfs.
mkdir -p "$out/tools"
for t in roam-dirty roam-sum; do
    ${CC:-gcc} -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$out/tools/$t" "tools/guest/$t.c" || {
        echo "guest-kit: cannot build tools/guest/$t.c statically (is libc6-dev installed?)" >&2
        exit 1
    }
done
fetch() { # PACKAGE: download its .deb into build/guest/deb unless cached
    ls "$out/deb/$1"_*.deb >/dev/null 2>&1 && return 0
    (cd "$out/deb" && apt-get download "$1" >/dev/null 2>&1) || {
        echo "guest-kit: apt-get download $1 failed (no network or no Debian sources?)" >&2
        exit 1
    }
}
# linux-image-cloud-amd64 is a metapackage: take the versioned image it names.
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
       awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kpkg" ] || { echo "guest-kit: apt-cache knows no linux-image-cloud-amd64" >&2; exit 1; }
fetch "$kpkg"
fetch busybox-static
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$(ls "$out/deb/$kpkg"_*.deb | head -n 1)" "$tmp/k"
dpkg-deb -x "$(ls "$out/deb"/busybox-static_*.deb | head -n 1)" "$tmp/b"
cp "$(ls "$tmp"/k/boot/vmlinuz-* | head -n 1)" "$out/vmlinuz"

root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp "$tmp/b/bin/busybox" "$root/bin/busybox"
cp "$out"/tools/* "$root/bin/"
# The virtio drivers (modules in Debian's cloud kernel), for `modprobe`.
kver=$(ls "$tmp/k/lib/modules" | head -n 1)
for m in drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko drivers/virtio/virtio_pci.ko \
    drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko \
    drivers/virtio/virtio_mmio.ko drivers/block/virtio_blk.ko drivers/net/virtio_net.ko \
    drivers/net/net_failover.ko net/core/failover.ko drivers/char/virtio_console.ko; do
    src=$tmp/k/lib/modules/$kver/kernel/$m
    [ -f "$src" ] || continue
    mkdir -p "$root/lib/modules/$kver/kernel/$(dirname "$m")"
    cp "$src" "$root/lib/modules/$kver/kernel/$m"
done
cp "$tmp/k/lib/modules/$kver"/modules.{order,builtin} "$root/lib/modules/$kver/" 2>/dev/null
# busybox's own depmod writes the modules.dep its modprobe reads.
"$root/bin/busybox" depmod -b "$root" "$kver" 2>/dev/null ||
    echo "guest-kit: depmod failed: modprobe in the guest needs full paths (insmod)" >&2
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "roam guest kit: Linux $(uname -r) is up"
exec setsid cttyhack sh
INIT
chmod +x "$root/init"
# Written aside and renamed, so a running test never reads half an initramfs.
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -9) >"$out/initrd.gz.tmp"
mv "$out/initrd.gz.tmp" "$out/initrd.gz"
echo "guest-kit: $out/vmlinuz ($kpkg) and $out/initrd.gz"

#!/usr/bin/env bash
# `make guest`: the Linux guest kit. Downloads Debian 12's cloud kernel and
# busybox-static with `apt-get download` (cached in build/guest/deb: nothing
# is fetched twice), extracts the kernel, and builds an initramfs whose init
# prints a banner and starts a shell on ttyS0. Results:
#   build/guest/vmlinuz      the kernel (a bzImage)
#   build/guest/initrd.gz    the initramfs (newc cpio, gzip)
# Exits 0 when both exist, 1 with a message when the download fails.
set -eu -o pipefail
cd "$(dirname "$0")/.."
out=build/guest
mkdir -p "$out/deb"
if [ -s "$out/vmlinuz" ] && [ "$(stat -c %s "$out/initrd.gz" 2>/dev/null || echo 0)" -gt 1000 ] &&
    [ "$out/initrd.gz" -nt "$0" ]; then
    exit 0
fi
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
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -9) >"$out/initrd.gz"
echo "guest-kit: $out/vmlinuz ($kpkg) and $out/initrd.gz"

#!/usr/bin/env bash
# The guest kit's kernel as a vmlinux ELF, for PVH boot (tests/linux/pvh.sh):
# extracts build/guest/vmlinux from build/guest/vmlinuz (a bzImage with an
# LZ4-compressed payload; run scripts/guest-kit.sh first) as the kernel's
# scripts/extract-vmlinux does: find the LZ4 legacy-frame magic 02 21 4c 18
# and decompress from each place it occurs until the result is an ELF file.
# (The payload is the stripped vmlinux with the relocations appended, so the
# ELF comes out whole; lz4 complains about the bzImage's tail, which is
# ignored.) Exits 0 when build/guest/vmlinux exists, 1 with a message.
set -eu -o pipefail
cd "$(dirname "$0")/.."
out=build/guest
in=$out/vmlinuz
if [ -s "$out/vmlinux" ] && [ "$out/vmlinux" -nt "$in" ] && [ "$out/vmlinux" -nt "$0" ]; then
    exit 0
fi
[ -s "$in" ] || { echo "guest-vmlinux: no $in (run scripts/guest-kit.sh)" >&2; exit 1; }
command -v lz4 >/dev/null 2>&1 || { echo "guest-vmlinux: lz4 is not installed (apt-get install lz4)" >&2; exit 1; }
tmp=$(mktemp "$out/vmlinux.XXXXXX")
trap 'rm -f "$tmp"' EXIT
is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }
# Byte offsets of the magic (grep -obUaP counts bytes with LC_ALL=C).
for pos in $(LC_ALL=C grep -obUaP '\x02\x21\x4c\x18' "$in" | cut -d: -f1); do
    tail -c +$((pos + 1)) "$in" | lz4 -dc >"$tmp" 2>/dev/null || true
    if is_elf "$tmp"; then
        chmod 644 "$tmp"
        mv "$tmp" "$out/vmlinux"
        echo "guest-vmlinux: $out/vmlinux ($(stat -c %s "$out/vmlinux") bytes, from offset $pos)"
        exit 0
    fi
done
echo "guest-vmlinux: no LZ4-compressed ELF kernel in $in" >&2
exit 1

#!/usr/bin/env bash
# Streams saved by an earlier roam (tests/migrate/golden/, see its README)
# still load and resume: stream-dump reads every section, and the restored
# dirtier (on emu, which runs everywhere) goes on from where it was saved,
# its round sums equal to those of a run that never stopped, its final
# check of every word passing.
set -u
cd "$(dirname "$0")/../.."
TEST_PREFIX=migrate/golden
. tests/migrate/common.bash

GOLD=tests/migrate/golden/dirtier-emu-v1.roam
if [ ! -f "$G" ]; then
    echo "SKIP: migrate/golden/dump_v1: $G is not built (make guests)"
    echo "SKIP: migrate/golden/restore_v1: $G is not built (make guests)"
    exit 0
fi

# 1. Every section of the old stream decodes, by name.
if $ROAM stream-dump "$GOLD" >"$tmp/dump" 2>"$tmp/dump.err" &&
    grep -q '^roam migration stream, format version 1$' "$tmp/dump" &&
    grep -q "^ram section 'ram'" "$tmp/dump" &&
    grep -q "^device section 'lapic'" "$tmp/dump" &&
    grep -q "^device section 'uart16550'" "$tmp/dump" &&
    grep -q "^cpu section 'x86_cpu'" "$tmp/dump" &&
    grep -q '^end: checksum ok' "$tmp/dump"; then
    pass dump_v1
else
    fail dump_v1 "stream-dump of $GOLD failed or lacks sections" "$tmp/dump" "$tmp/dump.err"
fi

# 2. Restored in a new process, the guest finishes its run. Its sums for
# rounds 21-60 must be those of an unbroken run (pause= does not change them).
$ROAM run --engine emu --memory 4M --serial "file:$tmp/ref.serial" --kernel "$G" \
    --cmdline "rounds=60 mem=64K" >/dev/null 2>"$tmp/ref.err"
ref_rc=$?
timeout 120 $ROAM snapshot restore "$GOLD" --engine emu --memory 4M \
    --serial "file:$tmp/r.serial" >/dev/null 2>"$tmp/r.err"
r_rc=$?
grep '^round' "$tmp/r.serial" >"$tmp/r.sums"
grep -E '^round (2[1-9]|[3-5][0-9]|60) ' "$tmp/ref.serial" >"$tmp/ref.sums"
if [ "$ref_rc" = 1 ] && [ "$r_rc" = 1 ] && grep -q '^PASS: dirtier' "$tmp/r.serial" &&
    [ "$(wc -l <"$tmp/r.sums")" = 40 ] && cmp -s "$tmp/r.sums" "$tmp/ref.sums"; then
    pass restore_v1
else
    fail restore_v1 "restore exit $r_rc (want 1, PASS), reference exit $ref_rc; round sums must match rounds 21-60" \
        "$tmp/r.err" "$tmp/r.serial" "$tmp/ref.sums"
fi

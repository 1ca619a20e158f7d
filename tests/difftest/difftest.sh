#!/usr/bin/env bash
# The bounded differential test `make check` runs (scripts/run-tests.sh runs
# tests/difftest/*.sh): a fixed seed and a case count that takes well under
# two minutes here. Two legs:
#   1. kvm against kvm (two VMs): the oracle must be deterministic;
#   2. kvm against emu: tests/difftest/regressions.txt replayed, then the
#      generated cases; the first mismatch of each kind is minimized and
#      printed.
# Skips, saying why, where /dev/kvm is absent (the recorded hardware
# outcomes are still replayed on emu) or emu is not built (the program
# prints those lines). More: build/difftest/difftest --cases 100000
# (README.md). DIFFTEST_SEED and DIFFTEST_CASES override the defaults.
set -u
cd "$(dirname "$0")/../.."
bin=build/difftest/difftest
seed=${DIFFTEST_SEED:-0x5eed}
cases=${DIFFTEST_CASES:-60000}
self_cases=${DIFFTEST_SELF_CASES:-5000}

if [ ! -x "$bin" ]; then
    echo "SKIP: difftest: $bin is not built (make tests)"
    exit 0
fi
rc=0
if [ -e /dev/kvm ]; then
    "$bin" --name difftest-kvm-self --engine-a kvm --engine-b kvm --seed "$seed" \
        --cases "$self_cases" --replay none || rc=1
else
    echo "SKIP: difftest-kvm-self: /dev/kvm is absent (KVM at CPL3 is the hardware oracle)"
fi
# Without KVM this still replays the recorded hardware outcomes on emu.
"$bin" --engine-a kvm --engine-b emu --seed "$seed" --cases "$cases" --max-report 10 || rc=1
exit $rc

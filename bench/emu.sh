#!/usr/bin/env bash
# Software-engine benchmark: guest instructions per second of roam's
# interpreter (roam run --engine emu) beside QEMU's TCG running the same
# guest in the same run, as ratios; roam's KVM engine is measured too where
# it works, for reference. It prints figures and asserts nothing; see
# bench/README.md for what each workload does and how to read the table.
#
# The guest is bench/guest/emubench (build/guests/emubench.elf). Each run
# boots it with one workload, at CPL3, whose loop has a fixed number of
# instructions per iteration; the guest times the loop alone with its TSC
# (measured against the PIT) and prints
#   emubench WORK: N instructions in T ms: R M/s (checksum 0x...)
# Workloads:
#   int     an integer mix on 8 words (16 instructions per iteration)
#   sse     SSE2 strchr/memcmp steps over 4 KiB (20 per 16 bytes)
#   paging  the integer mix with its load and store on a new 4 KiB page
#           each iteration (8 MiB mapped with 4 KiB pages) under a 1 kHz
#           PIT interrupt
#   paging-cr3  the same, and each tick reloads CR3 (a TLB flush, as a
#           switch between processes does; it also lets QEMU resize its TLB)
# Every VMM runs the same iterations, so the checksums must agree (KVM runs
# the loop natively: the reference). Runs of the VMMs alternate, REPEAT
# times; the table has each VMM's median.
#
# Environment:
#   QUICK=1              a quarter of the iterations, REPEAT=3
#   REPEAT=5             runs per workload and VMM (the median is shown)
#   WORKLOADS="int sse paging paging-cr3"
#   ITERS_INT=20000000 ITERS_SSE=12000000 ITERS_PAGING=16000000
#   GUEST_OPTS=          more guest options for every run, e.g. "timer=off",
#                        "mem=64K", "timer=lapic" (bench/guest/emubench.c)
#   KVM=auto             auto (where roam's KVM engine works), off
#   TIMEOUT=300          seconds a run may take before it counts as failed
#   KEEP=1               keep the temp dir (each run's serial output)
#   ROAM=build/roam  QEMU=qemu-system-x86_64
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
ROAM=${ROAM:-build/roam}
QEMU=${QEMU:-qemu-system-x86_64}
G=build/guests/emubench.elf
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    REPEAT=${REPEAT:-3}
    div=4
else
    REPEAT=${REPEAT:-5}
    div=1
fi
WORKLOADS=${WORKLOADS:-"int sse paging paging-cr3"}
ITERS_INT=${ITERS_INT:-$((20000000 / div))}
ITERS_SSE=${ITERS_SSE:-$((12000000 / div))}
ITERS_PAGING=${ITERS_PAGING:-$((16000000 / div))}
GUEST_OPTS=${GUEST_OPTS:-}
KVM=${KVM:-auto}
TIMEOUT=${TIMEOUT:-300}   # seconds per run: a hung guest must not hang the bench
TARGET_INT=100            # M instructions/s on int (the issue's target)
TARGET_PAGING_RATIO=3     # emu within this factor of TCG on paging

BENCH=bench/emu.sh
. bench/lib.bash

if [ ! -x "$ROAM" ] || [ ! -f "$G" ]; then
    skip "build roam and the bench guest first (make all guests bench-guests)"
fi
need_emu
[ "$REPEAT" -ge 1 ] 2>/dev/null || skip "REPEAT must be a number >= 1"
for work in $WORKLOADS; do
    case $work in
    int | sse | paging | paging-cr3) ;;
    *) skip "unknown workload '$work' (int, sse, paging, paging-cr3)" ;;
    esac
done

vmms=(emu)
if command -v "$QEMU" >/dev/null 2>&1; then
    vmms+=(tcg)
    qemu_note="QEMU TCG: $("$QEMU" --version | head -n 1)"
else
    qemu_note="QEMU TCG: skipped: $QEMU is not installed (emu figures only, no ratios)"
fi
kvm=$("$ROAM" info 2>/dev/null | sed -n 's/^ *kvm *//p')
if [ "$KVM" = off ]; then
    kvm_note="roam KVM: skipped (KVM=off)"
elif [ "$kvm" = usable ]; then
    vmms+=(kvm)
    kvm_note="roam KVM: measured for reference (CPL3 runs natively)"
else
    kvm_note="roam KVM: skipped: roam's KVM engine is ${kvm:-not available} here"
fi

bench_tmp emu

iters_of() {
    case $1 in
    int) echo "$ITERS_INT" ;;
    sse) echo "$ITERS_SSE" ;;
    paging*) echo "$ITERS_PAGING" ;;
    esac
}

# The guest's options for a workload.
opts_of() {
    case $1 in
    paging-cr3) echo "work=paging cr3=on iters=$(iters_of "$1")" ;;
    *) echo "work=$1 iters=$(iters_of "$1")" ;;
    esac
}

# run VMM WORK N: boots the guest once, in the background (so that Ctrl-C
# reaches cleanup), and leaves its serial output in $tmp/VMM-WORK-N.out.
# Sets R to "M/s checksum" or "FAIL why" (not printed: a $(...) subshell
# would hide the pid from cleanup).
run() {
    local vmm=$1 work=$2 n=$3 out="$tmp/$1-$2-$3" opts rc line re
    opts="$(opts_of "$work")${GUEST_OPTS:+ $GUEST_OPTS}"
    case $vmm in
    emu | kvm)
        timeout "$TIMEOUT" "$ROAM" run --engine "$vmm" --memory 256M --serial "file:$out.out" \
            --kernel "$G" --cmdline "$opts" >"$out.err" 2>&1 </dev/null &
        ;;
    tcg)
        timeout "$TIMEOUT" "$QEMU" -M microvm,pit=on,pic=on,rtc=on -accel tcg -cpu qemu64 \
            -m 256M -nodefaults -no-user-config -nographic -serial "file:$out.out" \
            -device isa-debug-exit,iobase=0xf4,iosize=0x4 -kernel "$G" -append "$opts" \
            >"$out.err" 2>&1 </dev/null &
        ;;
    esac
    pids+=("$!")
    wait "$!"
    rc=$?
    line=$(grep "^emubench ${work%-cr3}:" "$out.out" 2>/dev/null)
    re='in ([0-9.]+) ms: ([0-9.]+) M/s \(checksum (0x[0-9a-f]+)\)'
    [ "$rc" -eq 124 ] && rc="124 (timed out after $TIMEOUT s)"
    if [ "$rc" = 1 ] && grep -q "^PASS: emubench" "$out.out" && [[ $line =~ $re ]]; then
        R="${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
    else
        R="FAIL exit status $rc: $(grep -h "FAIL\|rror" "$out.out" "$out.err" 2>/dev/null |
            head -n 2 | tr '\n' ' ')"
    fi
}

say "roam emu engine: guest instructions per second beside QEMU TCG (bench/emu.sh)"
say "host: $(nproc) CPUs, $(cpu_model); load average at start: $(loadavg)"
say "roam: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
say "$qemu_note"
say "$kvm_note"
say "$REPEAT run(s) per workload and VMM, alternating; medians below${GUEST_OPTS:+; guest options: $GUEST_OPTS}"
say ""

start=$SECONDS
R=
declare -A res sums fails m
for work in $WORKLOADS; do
    for ((n = 1; n <= REPEAT; n++)); do
        for vmm in "${vmms[@]}"; do
            run "$vmm" "$work" "$n"
            if [[ $R == FAIL* ]]; then
                fails[$work,$vmm]+="  run $n: ${R#FAIL }"$'\n'
            else
                res[$work,$vmm]+="${R% *} "
                sums[$work,$vmm]+="${R#* } "
            fi
        done
    done
done

# The checksums: every run of every VMM must have the same ("-" when fewer
# than two VMMs have one to compare).
check() {
    local work=$1 vmm all="" u have=0
    for vmm in "${vmms[@]}"; do
        [ -n "${sums[$work,$vmm]:-}" ] && have=$((have + 1))
        all+="${sums[$work,$vmm]:-}"
    done
    u=$(tr ' ' '\n' <<<"$all" | sed '/^$/d' | sort -u | wc -l)
    if [ "$u" -gt 1 ]; then
        echo "DIFFER"
    elif [ "$have" -ge 2 ]; then
        echo "same"
    else
        echo "-"
    fi
}

fmt="%-10s %9s %10s | %10s %10s %8s | %10s | %-8s %s\n"
printf "$fmt" workload "instr/it" iterations "emu M/s" "TCG M/s" emu/TCG "KVM M/s" checksum target
for work in $WORKLOADS; do
    case $work in int) per=16 ;; sse) per=20 ;; paging*) per=16 ;; esac
    for vmm in emu tcg kvm; do
        m[$vmm]=$(tr ' ' '\n' <<<"${res[$work,$vmm]:-}" | sed '/^$/d' | median 2)
        [ -n "${fails[$work,$vmm]:-}" ] && [ "${m[$vmm]}" = - ] && m[$vmm]=FAIL
    done
    ratio=$(awk -v a="${m[emu]}" -v b="${m[tcg]}" 'BEGIN {
        if (a + 0 > 0 && b + 0 > 0) printf "%.3f", a / b; else print "-" }')
    case $work in
    int) target=$(awk -v a="${m[emu]}" -v t=$TARGET_INT 'BEGIN {
        if (a + 0 <= 0) print "-"; else printf "%s (emu >= %d M/s)", (a >= t ? "met" : "not met"), t }') ;;
    paging*) target=$(awk -v r="$ratio" -v t=$TARGET_PAGING_RATIO 'BEGIN {
        if (r == "-") print "-"; else printf "%s (emu/TCG >= 1/%d)", (r * t >= 1 ? "met" : "not met"), t }') ;;
    *) target="" ;;
    esac
    printf "$fmt" "$work" "$per" "$(iters_of "$work")" "${m[emu]}" "${m[tcg]}" "$ratio" "${m[kvm]}" \
        "$(check "$work")" "$target"
done
say "(M/s = 10^6 guest instructions per second, the loop's own; medians of $REPEAT runs)"
say ""
say "each run, M/s:"
for work in $WORKLOADS; do
    for vmm in "${vmms[@]}"; do
        printf "  %-10s %-4s %s\n" "$work" "$vmm" "${res[$work,$vmm]:-none}"
    done
done
failed=0
for work in $WORKLOADS; do
    for vmm in "${vmms[@]}"; do
        if [ -n "${fails[$work,$vmm]:-}" ]; then
            [ $failed = 0 ] && say "" && say "failed runs:"
            failed=1
            printf "  %s on %s:\n%s" "$work" "$vmm" "${fails[$work,$vmm]}"
        fi
    done
done
say ""
say "load average at end: $(loadavg); elapsed $((SECONDS - start)) s"

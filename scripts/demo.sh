#!/usr/bin/env bash
# `make demo`: boots roam's guest programs with their serial console on this
# terminal, then moves a running guest live from KVM to the software engine
# (emu) and back, with each process's console lines labelled. Without a
# usable /dev/kvm every step uses emu. Then Linux (the guest kit, fetched
# once by scripts/guest-kit.sh) boots on emu and moves live between two
# roam processes while roam-dirty runs.
set -u
cd "$(dirname "$0")/.."
ROAM=build/roam
status=0
kvm=emu
if $ROAM info | grep -q 'kvm *usable'; then
    kvm=kvm
else
    echo "demo: KVM is not usable here ($($ROAM info | sed -n 's/^ *kvm *//p')); every step uses emu."
fi

run() { # ENGINE NAME DESCRIPTION ROAM-ARGS...
    local engine=$1 name=$2 what=$3
    shift 3
    echo
    echo "=== roam run --engine $engine $(printf '%q ' "$@")--kernel build/guests/$name.elf"
    $ROAM run --engine "$engine" "$@" --kernel "build/guests/$name.elf"
    local rc=$?
    if [ "$rc" -eq 1 ]; then
        echo "=== demo: '$name' passed on $engine (debug-exit status 1 = PASS): $what"
    else
        echo "=== demo: '$name' FAILED on $engine (exit status $rc)"
        status=1
    fi
}
run "$kvm" hello "a multiboot guest printed on COM1 through roam's 16550A" --cmdline "hello from make demo"
run emu hello "the same guest on roam's software engine" --cmdline "hello from the emu engine"
run "$kvm" smp "a second vCPU started with INIT/SIPI through roam's LAPIC" --cpus 2
run emu cpl3 "ring 3 code and calls into ring 0 on the software engine" --memory 256M

# Live migration across engines: kvm -> emu -> kvm while the dirtier runs.
echo
echo "=== live migration: the dirtier starts on $kvm, moves to emu, then back to $kvm"
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
start() { # LABEL ENGINE ARGS...
    local label=$1 engine=$2
    shift 2
    ({ $ROAM run --engine "$engine" --serial stdio --control "unix:$tmp/$label.ctl" "$@" </dev/null
       echo $? >"$tmp/$label.rc"; } | sed -u "s/^/[$label on $engine] /") &
    pids+=($!)
    for _ in $(seq 100); do [ -S "$tmp/$label.ctl" ] && return 0; sleep 0.05; done
    return 1
}
migrate() { # FROM TO
    sleep 1.5
    echo "=== roam migrate --control unix:$1.ctl --to unix:$2.mig"
    $ROAM migrate --control "unix:$tmp/$1.ctl" --to "unix:$tmp/$2.mig" || status=1
}
start A "$kvm" --kernel build/guests/dirtier.elf --cmdline "rounds=60 mem=16M pause=40"
start B emu --incoming "unix:$tmp/B.mig"
start C "$kvm" --incoming "unix:$tmp/C.mig"
migrate A B
migrate B C
wait
[ "$(cat "$tmp/C.rc" 2>/dev/null)" = 1 ] || { echo "demo: the guest did not pass on C"; status=1; }

# A Linux VM (the guest kit: Debian 12's kernel and a busybox initramfs) on
# emu, migrated live between two roam processes while roam-dirty changes
# its memory and prints its running checksum every second.
echo
echo "=== Linux: Debian's cloud kernel boots on emu (about 20 s), roam-dirty runs, the VM moves live"
linux=1
if ! kit=$(scripts/guest-kit.sh 2>&1); then
    echo "demo: no Linux part: the guest kit is not available: $kit"
    linux=0
fi
if [ $linux = 1 ]; then
    mkfifo "$tmp/L1.in" "$tmp/L2.in"
    lstart() { # LABEL ARGS...: console labelled, input from the fifo
        local label=$1
        shift
        ({ $ROAM run --engine emu --memory 512M --serial stdio --control "unix:$tmp/$label.ctl" "$@" \
               <"$tmp/$label.in"
           echo $? >"$tmp/$label.rc"; } | tee "$tmp/$label.out" | sed -u -e "s/\x1b\[6n//g" -e "s/^/[$label] /") &
        pids+=($!)
    }
    lstart L1 --kernel build/guest/vmlinuz --initrd build/guest/initrd.gz --cmdline "console=ttyS0 quiet"
    exec 7>"$tmp/L1.in"
    lstart L2 --incoming "unix:$tmp/L2.mig"
    exec 8>"$tmp/L2.in"
    until_seen() { # FILE PATTERN SECONDS
        for ((i = 0; i < $3 * 10; i++)); do
            tr -d '\r' <"$1" 2>/dev/null | grep -q -- "$2" && return 0
            sleep 0.1
        done
        return 1
    }
    if until_seen "$tmp/L1.out" "roam guest kit: Linux .* is up" 240; then
        echo 'uname -a; roam-dirty -m 64 -r 20 &' >&7
        until_seen "$tmp/L1.out" "^roam-dirty: t=3 " 30
        echo "=== roam migrate --control unix:L1.ctl --to unix:L2.mig   (the VM moves from L1 to L2)"
        $ROAM migrate --control "unix:$tmp/L1.ctl" --to "unix:$tmp/L2.mig" || status=1
        until_seen "$tmp/L2.out" "^roam-dirty: t=" 20
        sleep 3
        last=$(tr -d '\r' <"$tmp/L2.out" | grep "^roam-dirty: t=" | tail -n 1)
        seq=$(sed -n 's/.* seq=\([0-9]*\) .*/\1/p' <<<"$last")
        sum=$(sed -n 's/.* sum=\([0-9a-f]*\) .*/\1/p' <<<"$last")
        want=$(build/guest/tools/roam-dirty --replay "$seq" -m 64)
        echo 'kill %1; poweroff -f' >&8
        for ((i = 0; i < 100; i++)); do [ -f "$tmp/L2.rc" ] && break; sleep 0.1; done
        if [ -n "$sum" ] && [ "$sum" = "$want" ] && ! grep -q "errors=[1-9]" "$tmp/L1.out" "$tmp/L2.out" &&
            [ "$(cat "$tmp/L2.rc" 2>/dev/null)" = 0 ]; then
            echo "=== demo: Linux moved L1 -> L2 while roam-dirty ran: its checksum at seq $seq is $sum,"
            echo "    the one the host computes (roam-dirty --replay $seq), no errors; poweroff ended roam with 0"
        else
            echo "=== demo: the Linux migration did not check out (last report '$last', expected sum $want)"
            status=1
        fi
    else
        echo "demo: Linux did not boot within 240 s"
        status=1
    fi
    exec 7>&- 8>&-
fi
wait
echo
if [ $status -eq 0 ]; then
    echo "demo: every guest passed, the dirtier kept its checksums across $kvm -> emu -> $kvm$([ $linux = 1 ] && echo ",
      and a Linux VM moved live between two roam processes with its memory intact")."
else
    echo "demo: something failed (see above)."
fi
exit $status

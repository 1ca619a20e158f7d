#!/usr/bin/env bash
# Live migration and snapshots between roam processes on KVM, checked by the
# guest itself: the dirtier verifies every word of its memory each round and
# at the end, and its per-round sums must equal those of a run that was
# never migrated. Also the failure cases: the source keeps running.
set -u
cd "$(dirname "$0")/../.."
. tests/migrate/common.bash

# On KVM where it is usable; elsewhere on emu, with lighter guests (emu
# runs the dirtier's rounds ~50x slower), so that the failure cases and the
# snapshots are checked on any host.
kvm=$($ROAM info | sed -n 's/^ *kvm *//p')
engine=kvm
DIRTY="rounds=150 mem=16M pause=30"
SMEM=16M
SMP_ITERS=1500000
if [ "$kvm" != usable ]; then
    emu=$($ROAM info | sed -n 's/^ *emu *//p')
    if [ "$emu" != usable ]; then
        echo "SKIP: migrate/all: neither kvm ($kvm) nor emu ($emu) is usable here"
        exit 0
    fi
    echo "SKIP: migrate/on_kvm: KVM is not usable here ($kvm); the tests below run on emu"
    engine=emu
    DIRTY="rounds=40 mem=4M pause=30"
    SMEM=4M
    SMP_ITERS=30000000
fi

# Reference: the same guest, never migrated.
$ROAM run --engine $engine --serial "file:$tmp/ref.serial" --kernel $G --cmdline "$DIRTY" \
    >/dev/null 2>"$tmp/ref.err"
ref_rc=$?

# 1. A chain of live migrations: a -> b (unix) -> c (tcp) -> d (unix).
port=$((20000 + RANDOM % 20000))
start a --kernel $G --cmdline "$DIRTY"
start b --incoming "unix:$tmp/b.mig"
start c --incoming "tcp:127.0.0.1:$port"
start d --incoming "unix:$tmp/d.mig"
ok=1
wait_for "$tmp/a.serial" "round 5 " || { ok=0; fail chain_unix_tcp "the guest did not start" "$tmp/a.serial" "$tmp/a.err"; }
if [ $ok = 1 ]; then
    $ROAM migrate --control "unix:$tmp/a.ctl" --to "unix:$tmp/b.mig" --json >"$tmp/m1.json" 2>"$tmp/m1.err" || ok=0
    finish a; a_rc=$st
    wait_for "$tmp/b.serial" "round" 20 || ok=0
    $ROAM migrate --control "unix:$tmp/b.ctl" --to "tcp:127.0.0.1:$port" >"$tmp/m2.out" 2>"$tmp/m2.err" || ok=0
    finish b; b_rc=$st
    wait_for "$tmp/c.serial" "round" 20 || ok=0
    $ROAM migrate --control "unix:$tmp/c.ctl" --to "unix:$tmp/d.mig" >"$tmp/m3.out" 2>"$tmp/m3.err" || ok=0
    finish c; c_rc=$st
    finish d; d_rc=$st
    if [ $ok = 1 ] && [ "$a_rc" = 0 ] && [ "$b_rc" = 0 ] && [ "$c_rc" = 0 ] && [ "$d_rc" = 1 ] &&
        grep -q '^PASS: dirtier' "$tmp/d.serial" && grep -q '"completed"' "$tmp/m1.json"; then
        pass chain_unix_tcp
    else
        fail chain_unix_tcp "exit statuses a=$a_rc b=$b_rc c=$c_rc d=$d_rc (want 0 0 0 1)" \
            "$tmp/m1.json" "$tmp/m1.err" "$tmp/m2.err" "$tmp/m3.err" "$tmp/d.serial" "$tmp/d.err"
    fi
    # The guest's per-round sums across all four processes equal the reference's.
    cat "$tmp"/{a,b,c,d}.serial | grep '^round .* sum' >"$tmp/mig.sums"
    grep '^round .* sum' "$tmp/ref.serial" >"$tmp/ref.sums"
    if [ "$ref_rc" = 1 ] && cmp -s "$tmp/mig.sums" "$tmp/ref.sums"; then
        pass sums_match
    else
        fail sums_match "round sums differ from the unmigrated run (ref exit $ref_rc)" "$tmp/mig.sums" "$tmp/ref.sums"
    fi
fi

# 2. Snapshot save, stream-dump, restore in a new process; corrupt and truncated files.
start p --kernel $G --cmdline "$DIRTY"
wait_for "$tmp/p.serial" "round 3 " || fail snapshot_restore "the guest did not start" "$tmp/p.err"
if $ROAM snapshot save --control "unix:$tmp/p.ctl" "$tmp/snap" >"$tmp/ss.out" 2>"$tmp/ss.err"; then
    $ROAM stream-dump "$tmp/snap" >"$tmp/dump.txt" 2>"$tmp/dump.err"
    if grep -q "config section 'machine'" "$tmp/dump.txt" && grep -q "device section 'lapic'" "$tmp/dump.txt" &&
        grep -q "cpu section" "$tmp/dump.txt" && grep -q "rip" "$tmp/dump.txt" && grep -q "checksum ok" "$tmp/dump.txt" &&
        ! grep -q "^ *field [0-9]" "$tmp/dump.txt"; then # every field by name
        pass stream_dump
    else
        fail stream_dump "the dump lacks sections or fields, or names a field by number" \
            "$tmp/dump.txt" "$tmp/dump.err"
    fi
    $ROAM snapshot restore "$tmp/snap" --engine $engine --serial "file:$tmp/r.serial" >/dev/null 2>"$tmp/r.err"
    r_rc=$?
    if [ "$r_rc" = 1 ] && grep -q '^PASS: dirtier' "$tmp/r.serial"; then
        pass snapshot_restore
    else
        fail snapshot_restore "restore exit $r_rc" "$tmp/r.serial" "$tmp/r.err"
    fi
    size=$(stat -c %s "$tmp/snap")
    cp "$tmp/snap" "$tmp/bad"
    # Invert one byte (writing a constant would change nothing where the
    # snapshot already holds it).
    b=$(od -An -tu1 -j $((size / 2)) -N1 "$tmp/snap" | tr -d ' ')
    printf "\\x$(printf %02x $((b ^ 0xff)))" | dd of="$tmp/bad" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
    cmp -s "$tmp/snap" "$tmp/bad" && echo "  (the corrupted copy is unchanged: test bug)"
    $ROAM snapshot restore "$tmp/bad" --engine $engine --serial none >/dev/null 2>"$tmp/bad.err"
    rc=$?
    if [ "$rc" = 2 ] && grep -qiE 'checksum|corrupt|invalid|unknown|outside' "$tmp/bad.err"; then
        pass corrupt_snapshot
    else
        fail corrupt_snapshot "exit $rc (want 2 with a clear error)" "$tmp/bad.err"
    fi
    # save -> load -> save: restore paused, save again, compare field by field.
    start q --incoming "file:$tmp/snap" --paused
    if $ROAM snapshot save --control "unix:$tmp/q.ctl" "$tmp/snap2" >/dev/null 2>"$tmp/q2.err"; then
        $ROAM stream-dump "$tmp/snap2" >"$tmp/dump2.txt" 2>&1
        if cmp -s "$tmp/snap" "$tmp/snap2"; then
            pass save_load_save_identical
            pass save_load_save_byte_identical
        elif diff <(grep -v '^  tsc = ' "$tmp/dump.txt") <(grep -v '^  tsc = ' "$tmp/dump2.txt") >"$tmp/dump.diff"; then
            pass save_load_save_identical
            # The TSC is the one field that may not come back as it was
            # saved: this project's nested KVM ignores TSC writes and runs
            # it on while the VM is paused (docs/kvm.md). emu stops it
            # while paused (docs/emu.md), so there it must be exact.
            if [ $engine = kvm ]; then
                echo "SKIP: migrate/save_load_save_byte_identical: identical except the TSC: this host's KVM does not let roam set it (docs/kvm.md)"
            else
                diff <(grep '^  tsc = ' "$tmp/dump.txt") <(grep '^  tsc = ' "$tmp/dump2.txt") >"$tmp/tsc.diff"
                fail save_load_save_byte_identical "identical except the TSC, which emu stops while the VM is paused" \
                    "$tmp/tsc.diff"
            fi
        else
            fail save_load_save_identical "the re-saved snapshot differs" "$tmp/dump.diff"
        fi
    else
        fail save_load_save_identical "snapshot of the paused restored VM failed" "$tmp/q2.err"
    fi
    # ... and the restored VM, told to continue, finishes its work.
    $ROAM control --control "unix:$tmp/q.ctl" cont >/dev/null 2>&1
    finish q; q_rc=$st
    if [ "$q_rc" = 1 ] && grep -q '^PASS: dirtier' "$tmp/q.serial"; then
        pass paused_restore_cont
    else
        fail paused_restore_cont "exit $q_rc" "$tmp/q.serial" "$tmp/q.err"
    fi
    head -c $((size - 1000)) "$tmp/snap" >"$tmp/short"
    $ROAM snapshot restore "$tmp/short" --engine $engine --serial none >/dev/null 2>"$tmp/short.err"
    rc=$?
    if [ "$rc" = 2 ] && grep -qiE 'ended early|truncated|end of' "$tmp/short.err"; then
        pass truncated_snapshot
    else
        fail truncated_snapshot "exit $rc (want 2 with a clear error)" "$tmp/short.err"
    fi
else
    fail snapshot_restore "snapshot save failed" "$tmp/ss.err"
fi

kill "${pid[p]}" 2>/dev/null

# 3. Refused destinations: the source keeps running and its guest still passes.
start s --kernel $G --cmdline "rounds=0 mem=$SMEM pause=20"
wait_for "$tmp/s.serial" "round 3 "
start w1 --incoming "unix:$tmp/w1.mig" --memory 128M
start w2 --incoming "unix:$tmp/w2.mig" --cpus 2
$ROAM migrate --control "unix:$tmp/s.ctl" --to "unix:$tmp/w1.mig" >/dev/null 2>"$tmp/w1m.err"
rc1=$?
$ROAM migrate --control "unix:$tmp/s.ctl" --to "unix:$tmp/w2.mig" >/dev/null 2>"$tmp/w2m.err"
rc2=$?
finish w1; w1_rc=$st
finish w2; w2_rc=$st
if [ "$rc1" = 1 ] && grep -q 'memory size differs' "$tmp/w1m.err" && grep -q 'memory size differs' "$tmp/w1.err" && [ "$w1_rc" = 2 ]; then
    pass wrong_memory
else
    fail wrong_memory "migrate exit $rc1, destination exit $w1_rc" "$tmp/w1m.err" "$tmp/w1.err"
fi
if [ "$rc2" = 1 ] && grep -q 'vCPU count differs' "$tmp/w2m.err" && [ "$w2_rc" = 2 ]; then
    pass wrong_cpus
else
    fail wrong_cpus "migrate exit $rc2, destination exit $w2_rc" "$tmp/w2m.err" "$tmp/w2.err"
fi

# 4. The destination dies mid-stream: slow the link so there is time to kill it.
start k --incoming "unix:$tmp/k.mig"
$ROAM migrate --control "unix:$tmp/s.ctl" --to "unix:$tmp/k.mig" --bandwidth 4 >/dev/null 2>"$tmp/km.err" &
mpid=$!
sleep 0.7
kill -9 "${pid[k]}"
wait "$mpid"
rc=$?
if [ "$rc" = 1 ] && kill -0 "${pid[s]}" 2>/dev/null; then
    pass dest_killed
else
    fail dest_killed "migrate exit $rc, source alive: $(kill -0 "${pid[s]}" 2>/dev/null && echo yes || echo no)" "$tmp/km.err" "$tmp/s.err"
fi

# 5. Cancel: the source keeps running.
start x --incoming "unix:$tmp/x.mig"
$ROAM migrate --control "unix:$tmp/s.ctl" --to "unix:$tmp/x.mig" --bandwidth 4 >/dev/null 2>"$tmp/xm.err" &
mpid=$!
sleep 0.7
$ROAM control --control "unix:$tmp/s.ctl" '{"execute": "migrate-cancel"}' >"$tmp/cancel.out" 2>&1
wait "$mpid"
rc=$?
finish x; x_rc=$st
if [ "$rc" = 1 ] && grep -qi 'cancel' "$tmp/xm.err" && kill -0 "${pid[s]}" 2>/dev/null; then
    pass cancel
else
    fail cancel "migrate exit $rc, destination exit $x_rc" "$tmp/xm.err" "$tmp/x.err"
fi

# The source that survived all of that still runs, still checks every word
# of its memory each round, and quits when told.
r1=$(grep -c '^round' "$tmp/s.serial")
sleep 0.5
r2=$(grep -c '^round' "$tmp/s.serial")
$ROAM control --control "unix:$tmp/s.ctl" quit >/dev/null 2>&1
finish s; s_rc=$st
if [ "$r2" -gt "$r1" ] && ! grep -q '^FAIL' "$tmp/s.serial" && [ "$s_rc" = 0 ]; then
    pass source_survives_failures
else
    fail source_survives_failures "rounds $r1 -> $r2, exit $s_rc" "$tmp/s.serial" "$tmp/s.err"
fi

# 6. A guest that dirties memory faster than the link: auto-converge makes it
# finish, or the report says why not; either way nothing is lost.
start f --kernel $G --cmdline "rounds=0 mem=32M stride=4096"
start g --incoming "unix:$tmp/g.mig"
wait_for "$tmp/f.serial" "round 2 "
$ROAM migrate --control "unix:$tmp/f.ctl" --to "unix:$tmp/g.mig" --bandwidth 20 --json >"$tmp/f.json" 2>"$tmp/fm.err"
rc=$?
if [ "$rc" = 0 ] && grep -q '"completed"' "$tmp/f.json"; then
    pass auto_converge
    kill "${pid[g]}" 2>/dev/null
elif [ "$rc" = 1 ] && grep -q 'did not converge' "$tmp/fm.err" && kill -0 "${pid[f]}" 2>/dev/null; then
    pass auto_converge
    kill "${pid[g]}" "${pid[f]}" 2>/dev/null
else
    fail auto_converge "migrate exit $rc" "$tmp/f.json" "$tmp/fm.err"
fi
kill "${pid[f]}" 2>/dev/null

# 6b. Under a bandwidth limit, a hot set that the limit's token bucket can
# hold goes once: 16 MiB of data, 512 pages of it rewritten every ~100 ms,
# at 21.8 MB/s (the 100 ms bucket holds the set; trickled at the limit it
# takes ~96 ms, and the guest writes it again before the last page is out).
# The stream is then the data and the set once, 4608 pages of 4104 bytes
# plus the device state (19.0 MB); roam before 2026-11-27 sent parts of the
# set again: 19.5-25.3 MB in six runs. The guest may write during the burst
# itself (a few ms in 100): the better of two tries counts.
hot_best=
for try in 1 2; do
    start h --memory 64M --kernel $G --cmdline "rounds=0 mem=16M stride=32768 pause=100"
    start i --memory 64M --incoming "unix:$tmp/i.mig"
    wait_for "$tmp/h.serial" "round 3 "
    $ROAM migrate --control "unix:$tmp/h.ctl" --to "unix:$tmp/i.mig" --bandwidth 21.8 --json \
        >"$tmp/h.json" 2>"$tmp/hm.err"
    rc=$?
    bytes=$(sed -n 's/.*"transferred": *\([0-9]*\).*/\1/p' "$tmp/h.json")
    wait_for "$tmp/i.serial" "^round" 10
    r1=$(grep -c '^round' "$tmp/i.serial")
    sleep 0.5
    r2=$(grep -c '^round' "$tmp/i.serial")
    kill "${pid[h]}" "${pid[i]}" 2>/dev/null
    finish h 5; finish i 5
    if [ "$rc" != 0 ] || [ -z "$bytes" ] || [ "$r2" -le "$r1" ] || grep -q '^FAIL' "$tmp/i.serial"; then
        hot_best=
        fail cap_hot_set_once "migrate exit $rc, destination rounds $r1 -> $r2" "$tmp/h.json" \
            "$tmp/hm.err" "$tmp/i.serial"
        break
    fi
    [ -z "$hot_best" ] || [ "$bytes" -lt "$hot_best" ] && hot_best=$bytes
    [ "$hot_best" -le 19300000 ] && break
    rm -f "$tmp/h.serial" "$tmp/i.serial"
done
if [ -n "$hot_best" ]; then
    if [ "$hot_best" -le 19300000 ]; then
        pass cap_hot_set_once
    else
        fail cap_hot_set_once "the stream took $hot_best bytes (want <= 19300000: the hot set once)" "$tmp/h.json"
    fi
fi

# 7. Timers carry on across a migration: PIT interrupts through the PIC,
# and the LAPIC timer, counted by guests that check the count and the pace.
for tg in "pit|ticks=2500" "lapic_timer|ticks=2500"; do
    IFS='|' read -r gname gargs <<<"$tg"
    start t1 --kernel "build/guests/$gname.elf" --cmdline "$gargs"
    start t2 --incoming "unix:$tmp/t2.mig"
    sleep 0.8
    $ROAM migrate --control "unix:$tmp/t1.ctl" --to "unix:$tmp/t2.mig" >/dev/null 2>"$tmp/tm.err"
    rc=$?
    finish t1; t1_rc=$st
    finish t2; t2_rc=$st
    if [ "$rc" = 0 ] && [ "$t1_rc" = 0 ] && [ "$t2_rc" = 1 ] && grep -q "^PASS: $gname" "$tmp/t2.serial"; then
        pass "timers_$gname"
    else
        fail "timers_$gname" "migrate exit $rc, source $t1_rc, destination $t2_rc" "$tmp/tm.err" "$tmp/t1.serial" "$tmp/t2.serial" "$tmp/t2.err"
    fi
    rm -f "$tmp/t1.serial" "$tmp/t2.serial"
done

# 8. SMP: two vCPUs counting with lock xadd into one shared word, migrated
# mid-count; the count must come out exact on the destination.
start m --cpus 2 --kernel build/guests/smp.elf --cmdline "iters=$SMP_ITERS timeout=120"
start n --cpus 2 --incoming "unix:$tmp/n.mig"
wait_for "$tmp/m.serial" "APs up" 10
sleep 0.3
$ROAM migrate --control "unix:$tmp/m.ctl" --to "unix:$tmp/n.mig" >/dev/null 2>"$tmp/mm.err"
rc=$?
finish m; m_rc=$st
finish n; n_rc=$st
if [ "$rc" = 0 ] && [ "$m_rc" = 0 ] && [ "$n_rc" = 1 ] && grep -q '^PASS: smp' "$tmp/n.serial" &&
    ! grep -q '^PASS: smp' "$tmp/m.serial"; then
    pass smp
else
    fail smp "migrate exit $rc, source exit $m_rc, destination exit $n_rc (the count must finish after the migration)" \
        "$tmp/mm.err" "$tmp/m.serial" "$tmp/n.serial" "$tmp/n.err"
fi
exit 0

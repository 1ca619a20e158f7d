#!/usr/bin/env bash
# A running Linux guest (the guest kit on emu) migrated live between roam
# processes while roam-dirty changes its memory: A -> B over a unix socket,
# B -> C over TCP loopback, C -> D over a unix socket again. roam-dirty's
# running checksum must go on unbroken (its seq keeps counting, errors=0, and
# the last sum is what the host computes with roam-dirty --replay), and the
# guest's wall clock and CLOCK_MONOTONIC must agree with the host's. Then a
# snapshot of D restored in a new process E: the dirtier goes on from where
# it was saved, and the guest's clock is behind by the time the VM was not
# running (as QEMU's: a restored guest needs NTP to catch up).
# Skipped, with the reason, when the kit cannot be fetched.
set -u
cd "$(dirname "$0")/../.."
TESTS="boot migrate_unix migrate_tcp migrate_back dirtier_unbroken dirtier_sum wallclock monotonic
       snapshot_restore snapshot_clock poweroff"
TEST_PREFIX=linux-migrate/
. tests/linux/guest.bash
guest_need_kit
pass() { echo "PASS: linux-migrate/$1"; }
fail() {
    echo "FAIL: linux-migrate/$1: $2"
    for f in "$tmp"/*.err; do [ -s "$f" ] && tail -n 4 "$f" | sed "s|^|    $(basename "$f"): |"; done
}

# start NAME ROAM-RUN-ARGS...: a guest (tests/linux/guest.bash) in a roam on
# emu with the control socket $tmp/NAME.ctl.
start() {
    local name=$1
    shift
    guest_start "$name" $ROAM run --engine emu --memory 256M --serial stdio --control "unix:$tmp/$name.ctl" "$@"
    guest_wait_socket "$tmp/$name.ctl"
}
# last_dirty NAME: the last roam-dirty report on NAME's console.
last_dirty() { guest_console "$1" | grep "^roam-dirty: t=" | tail -n 1; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
# migrate FROM TO URI TEST: live migration, then the dirtier must report on TO.
migrate() {
    local out i
    if ! out=$($ROAM migrate --control "unix:$tmp/$1.ctl" --to "$3" 2>&1); then
        fail "$4" "roam migrate failed: $out"
        return 1
    fi
    if ! guest_wait "$2" "^roam-dirty: t=" 20; then
        fail "$4" "no dirtier report on $2 after the migration"
        return 1
    fi
    for ((i = 0; i < 50; i++)); do guest_running "$1" || break; sleep 0.1; done
    if guest_running "$1"; then
        fail "$4" "the source $1 still runs after a completed migration"
        return 1
    fi
    pass "$4"
}

start A "${GUEST_KIT[@]}"
if guest_wait A "$GUEST_BANNER" 240; then
    pass boot
else
    fail boot "no banner within 240 s"
    exit 0
fi
guest_say A "roam-dirty -m 32 -r 20 &"
guest_wait A "^roam-dirty: t=2 " 30
# The guest's CLOCK_MONOTONIC (/proc/uptime) and the host's, before the hops.
clock_of() { # NAME TAG: "<host ms> <guest date> <guest uptime in ms>"
    local line host
    guest_mark "$1"
    guest_say "$1" "echo $2 \$(date +%s) \$(cut -d' ' -f1 /proc/uptime)"
    guest_wait "$1" "^$2 [0-9]* [0-9.]*\$" 20 || return 1
    host=$(($(date +%s%N) / 1000000))
    line=$(guest_since_mark "$1" | grep -m1 "^$2 [0-9]")
    set -- $line
    echo "$host $2 $((10#${3%.*}${3#*.}0))"
}
clock0=$(clock_of A CLOCK0)
start B --incoming "unix:$tmp/B.mig"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
       echo $((20000 + RANDOM % 20000)))
start C --incoming "tcp:127.0.0.1:$port"
start D --incoming "unix:$tmp/D.mig"
# Several hops while the dirtier runs; each destination reports on its own.
migrate A B "unix:$tmp/B.mig" migrate_unix &&
    migrate B C "tcp:127.0.0.1:$port" migrate_tcp &&
    migrate C D "unix:$tmp/D.mig" migrate_back || exit 0
guest_wait D "^roam-dirty: t=.* seq=" 10

# The reports of A, B, C and D read as one run: t (whole seconds since the
# dirtier started) and seq only grow, no errors anywhere.
for n in A B C D; do guest_console $n; done >"$tmp/all"
bad=$(guest_dirty_break <"$tmp/all")
n=$(grep -c "^roam-dirty: t=" "$tmp/all")
if [ -z "$bad" ] && ! grep -q "MISMATCH" "$tmp/all" && [ "$n" -ge 4 ]; then
    pass dirtier_unbroken
else
    fail dirtier_unbroken "${bad:-a MISMATCH line or too few reports ($n)}"
fi
last=$(last_dirty D)
want=$(build/guest/tools/roam-dirty --replay "$(field "$last" seq)" -m 32)
if [ -n "$want" ] && [ "$(field "$last" sum)" = "$want" ]; then
    pass dirtier_sum
else
    fail dirtier_sum "the guest's last report '$last', the host's replay gives '$want'"
fi

# Clocks: the guest's wall clock is the host's (the downtimes were
# milliseconds), and its CLOCK_MONOTONIC advanced as much as the host's
# across the three hops (within the console's round trips).
if [ -n "$clock0" ] && clock1=$(clock_of D CLOCK1); then
    read -r h0 _ u0 <<<"$clock0"
    read -r h1 g1 u1 <<<"$clock1"
    d=$((h1 / 1000 - g1))
    if [ "${d#-}" -le 2 ]; then pass wallclock; else fail wallclock "guest $g1, host $((h1 / 1000))"; fi
    d=$(((h1 - h0) - (u1 - u0)))
    if [ "${d#-}" -le 1000 ]; then
        pass monotonic
    else
        fail monotonic "the guest's uptime advanced $((u1 - u0)) ms, the host's clock $((h1 - h0)) ms"
    fi
else
    fail wallclock "no answer"
    fail monotonic "no answer"
fi

# Snapshot: save D, let time pass, stop D, restore in E.
if $ROAM snapshot save --control "unix:$tmp/D.ctl" "$tmp/snap" >"$tmp/save.err" 2>&1; then
    saved_at=$(date +%s)
    saved_seq=$(field "$(last_dirty D)" seq)
    sleep 3
    guest_stop D 0
    start E --incoming "file:$tmp/snap"
    if guest_wait E "^roam-dirty: t=" 20; then
        last=$(last_dirty E)
        if [ "$(field "$last" errors)" = 0 ] && [ "$(field "$last" seq)" -ge "$saved_seq" ]; then
            pass snapshot_restore
        else
            fail snapshot_restore "after restore: '$last' (seq was $saved_seq at the save)"
        fi
    else
        fail snapshot_restore "no dirtier report after the restore"
    fi
    guest_mark E
    guest_say E 'echo CLOCK $(date +%s)'
    if guest_wait E "^CLOCK [0-9]*$" 20; then
        g_now=$(guest_since_mark E | grep -m1 "^CLOCK" | cut -d" " -f2)
        lag=$(( $(date +%s) - g_now ))
        off=$(( $(date +%s) - saved_at ))
        # The guest's clock stopped for the time between the save and the restore.
        if [ $((lag - off)) -ge -2 ] && [ $((lag - off)) -le 2 ] && [ "$lag" -ge 2 ]; then
            pass snapshot_clock
        else
            fail snapshot_clock "the guest's clock lags the host by $lag s; the VM was not running for $off s"
        fi
    else
        fail snapshot_clock "no answer"
    fi
    last=E
else
    fail snapshot_restore "snapshot save failed: $(cat "$tmp/save.err")"
    fail snapshot_clock "no snapshot"
    last=D
fi

guest_say "$last" "kill %1; poweroff -f"
guest_stop "$last" 30
st=$?
if [ "$st" = 0 ]; then pass poweroff; else fail poweroff "roam exited $st after the guest's power-off"; fi
exit 0

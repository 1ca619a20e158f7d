#!/usr/bin/env bash
# A migration that the source gives up must read as such on both sides
# (docs/migration-format.md, "The abort record"): migrate-cancel, the source
# killed, the source's guest ending during the migration. The destination
# names the reason and exits non-zero; the source VM runs on after a cancel
# (its guest still passes) and ends as its guest did when the guest ended.
# Uses KVM, or emu where KVM is not usable (with a smaller guest).
set -u
cd "$(dirname "$0")/../.."
. tests/migrate/common.bash

TESTS="cancel_dest_message cancel_source_runs_on cancel_source_message source_killed_dest_message
       guest_ended_dest_message guest_ended_source guest_ended_migrate_report
       cancel_stalled_dest_handshake cancel_stalled_dest_stream stall_timeout
       dest_stall_timeout dest_stall_source_runs_on dest_quit_while_loading
       abort_record_dump abort_record_restore abort_record_source_runs_on stall_timeout_receipt"
# ENGINE=emu runs it on emu where KVM works too.
engine=${ENGINE:-kvm}
if [ "$($ROAM info | sed -n "s/^ *$engine *//p")" != usable ]; then
    engine=emu
    if [ "$($ROAM info | sed -n 's/^ *emu *//p')" != usable ]; then
        for t in $TESTS; do echo "SKIP: migrate/$t: neither kvm nor emu is usable here"; done
        exit 0
    fi
fi
# Sizes for a stream that takes seconds at the bandwidth limit (MB/s): the
# dirtier's region is what round 0 sends. emu runs the guest far slower.
if [ $engine = kvm ]; then
    MEM=16M BW=4 LONG="rounds=160 pause=30" SHORT="rounds=25 pause=40" SHORT_BW=2
else
    MEM=2M BW=1 LONG="rounds=40 pause=30" SHORT="rounds=3 pause=30" SHORT_BW=1
fi

rounds() { grep -c '^round' "$tmp/$1.serial" 2>/dev/null || echo 0; }

# ended PID NAME: waits up to 10 s for the roam migrate process PID; its
# exit status goes in $m_rc ("running" if it had to be killed). Then counts
# the source NAME's rounds over half a second into $r1, $r2.
ended() {
    local i
    for ((i = 0; i < 200; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$1" 2>/dev/null; then
        m_rc=running
        kill "$1" 2>/dev/null
    else
        wait "$1"
        m_rc=$?
    fi
    r1=$(rounds "$2")
    sleep 0.5
    r2=$(rounds "$2")
}

# stalling SRC DST [SET_ON]: a source SRC (the dirtier) and a destination
# DST; a 1 s stall-timeout on SET_ON's control socket where given; the
# migration started in the background ($mpid, its stderr in
# $tmp/m_SRC.err) and half a second into its stream.
stalling() {
    start "$1" --kernel $G --cmdline "rounds=0 mem=$MEM pause=30"
    start "$2" --incoming "unix:$tmp/$2.mig"
    wait_for "$tmp/$1.serial" "round 2 " 60
    if [ -n "${3:-}" ]; then
        $ROAM control --control "unix:$tmp/$3.ctl" \
            '{"execute": "migrate-set-parameters", "arguments": {"stall-timeout": 1000}}' >/dev/null 2>&1
    fi
    $ROAM migrate --control "unix:$tmp/$1.ctl" --to "unix:$tmp/$2.mig" --bandwidth $BW \
        >/dev/null 2>"$tmp/m_$1.err" &
    mpid=$!
    sleep 0.5
}

# 1. migrate-cancel mid-stream.
start s1 --kernel $G --cmdline "$LONG mem=$MEM"
start d1 --incoming "unix:$tmp/d1.mig"
wait_for "$tmp/s1.serial" "round 2 " 60
$ROAM migrate --control "unix:$tmp/s1.ctl" --to "unix:$tmp/d1.mig" --bandwidth $BW >/dev/null 2>"$tmp/m1.err" &
mpid=$!
sleep 0.7
$ROAM control --control "unix:$tmp/s1.ctl" '{"execute": "migrate-cancel"}' >"$tmp/c1.out" 2>&1
wait "$mpid"
m_rc=$?
r1=$(rounds s1)
finish d1; d_rc=$st
if [ "$d_rc" = 2 ] &&
    grep -q 'incoming migration: the source cancelled the migration (migrate-cancel on the control socket)' "$tmp/d1.err" &&
    ! grep -qi 'corrupt' "$tmp/d1.err"; then
    pass cancel_dest_message
else
    fail cancel_dest_message "destination exit $d_rc (want 2 and 'the source cancelled the migration')" "$tmp/d1.err"
fi
if [ "$m_rc" = 1 ] && grep -q 'migration cancelled: migrate-cancel on the control socket' "$tmp/m1.err" &&
    grep -q 'cancelled: migrate-cancel on the control socket; the VM keeps running here' "$tmp/s1.err"; then
    pass cancel_source_message
else
    fail cancel_source_message "migrate exit $m_rc" "$tmp/m1.err" "$tmp/s1.err"
fi
# The source runs on: its guest finishes all its rounds, every word checked.
finish s1 120; s_rc=$st
r2=$(rounds s1)
if [ "$s_rc" = 1 ] && grep -q '^PASS: dirtier' "$tmp/s1.serial" && ! grep -q '^FAIL' "$tmp/s1.serial" &&
    [ "$r2" -gt "$r1" ]; then
    pass cancel_source_runs_on
else
    fail cancel_source_runs_on "source exit $s_rc (want 1 with PASS), rounds $r1 -> $r2" "$tmp/s1.serial" "$tmp/s1.err"
fi

# 2. The source killed mid-stream: the stream just stops.
start s2 --kernel $G --cmdline "rounds=0 mem=$MEM pause=30"
start d2 --incoming "unix:$tmp/d2.mig"
wait_for "$tmp/s2.serial" "round 2 " 60
$ROAM migrate --control "unix:$tmp/s2.ctl" --to "unix:$tmp/d2.mig" --bandwidth $BW >/dev/null 2>"$tmp/m2.err" &
mpid=$!
sleep 0.7
{ kill -9 "${pid[s2]}"; wait "${pid[s2]}"; } 2>/dev/null # without bash's "Killed" line
wait "$mpid"
finish d2; d_rc=$st
if [ "$d_rc" = 2 ] &&
    grep -qE 'incoming migration: the connection closed at byte [0-9]+ of unix:.*d2.mig \(the source stopped sending: killed or cancelled\?\)' "$tmp/d2.err"; then
    pass source_killed_dest_message
else
    fail source_killed_dest_message "destination exit $d_rc (want 2 and 'the connection closed at byte N')" "$tmp/d2.err"
fi

# 3. The source's guest ends by itself during a slow migration.
start s3 --kernel $G --cmdline "$SHORT mem=$MEM"
start d3 --incoming "unix:$tmp/d3.mig"
wait_for "$tmp/s3.serial" "round 0 filled" 60
$ROAM migrate --control "unix:$tmp/s3.ctl" --to "unix:$tmp/d3.mig" --bandwidth $SHORT_BW >"$tmp/m3.out" 2>"$tmp/m3.err"
m_rc=$?
finish s3; s_rc=$st
finish d3; d_rc=$st
stopped='the VM stopped at the source before the migration finished (debug-exit status 1)'
if [ "$d_rc" = 2 ] && grep -qF "incoming migration: $stopped; there is no VM to run here" "$tmp/d3.err"; then
    pass guest_ended_dest_message
else
    fail guest_ended_dest_message "destination exit $d_rc (want 2 and '$stopped')" "$tmp/d3.err" "$tmp/s3.err"
fi
if [ "$s_rc" = 1 ] && grep -q '^PASS: dirtier' "$tmp/s3.serial" &&
    grep -qF "abandoned: $stopped" "$tmp/s3.err" && ! grep -q 'keeps running' "$tmp/s3.err"; then
    pass guest_ended_source
else
    fail guest_ended_source "source exit $s_rc (want 1, the guest's status)" "$tmp/s3.err" "$tmp/s3.serial"
fi
if [ "$m_rc" = 1 ] && grep -qF "migration cancelled: $stopped; the VM has ended at the source" "$tmp/m3.err"; then
    pass guest_ended_migrate_report
else
    fail guest_ended_migrate_report "migrate exit $m_rc (want 1 and '$stopped')" "$tmp/m3.err" "$tmp/m3.out"
fi

# 4. migrate-cancel while the destination has stopped reading (SIGSTOP: a
# hung host), before it answered the config or mid-stream with the socket
# full: the cancel still ends the migration (the source closes the
# connection when it cannot send its abort record), and the VM runs on.
for phase in handshake stream; do
    t=cancel_stalled_dest_$phase
    start s5 --kernel $G --cmdline "rounds=0 mem=$MEM pause=30"
    start d5 --incoming "unix:$tmp/d5.mig"
    wait_for "$tmp/s5.serial" "round 2 " 60
    [ $phase = handshake ] && kill -STOP "${pid[d5]}"
    $ROAM migrate --control "unix:$tmp/s5.ctl" --to "unix:$tmp/d5.mig" --bandwidth $BW >/dev/null 2>"$tmp/m5.err" &
    mpid=$!
    sleep 0.5
    [ $phase = stream ] && kill -STOP "${pid[d5]}"
    sleep 0.5
    $ROAM control --control "unix:$tmp/s5.ctl" '{"execute": "migrate-cancel"}' >/dev/null 2>&1
    # Before the fix the source waited for the destination (forever mid-stream).
    ended $mpid s5
    if [ "$m_rc" = 1 ] && grep -q 'migration cancelled: migrate-cancel on the control socket' "$tmp/m5.err" &&
        [ "$r2" -gt "$r1" ]; then
        pass $t
    else
        fail $t "migrate exit $m_rc 10 s after the cancel (want 1, cancelled), source rounds $r1 -> $r2" \
            "$tmp/m5.err" "$tmp/s5.err"
    fi
    kill -CONT "${pid[d5]}" 2>/dev/null
    $ROAM control --control "unix:$tmp/s5.ctl" quit >/dev/null 2>&1
    finish s5
    finish d5 10
done

# 5. No cancel: the stall timeout (1 s here, 60 s by default) gives up on a
# destination that stopped reading, and the VM runs on.
stalling s6 d6 s6
kill -STOP "${pid[d6]}"
ended $mpid s6
stalled='migration failed: the destination took nothing for 1000 ms (stall-timeout): the connection is closed; the VM runs on'
if [ "$m_rc" = 1 ] && grep -qF "$stalled" "$tmp/m_s6.err" && [ "$r2" -gt "$r1" ]; then
    pass stall_timeout
else
    fail stall_timeout "migrate exit $m_rc 10 s after the destination stopped (want 1, stall-timeout), source rounds $r1 -> $r2" \
        "$tmp/m_s6.err" "$tmp/s6.err"
fi
kill -CONT "${pid[d6]}" 2>/dev/null
$ROAM control --control "unix:$tmp/s6.ctl" quit >/dev/null 2>&1
finish s6
finish d6 10

# 5b. The destination's own stall timeout: a source that stops sending
# mid-stream (SIGSTOP: a hung process or host) is given up after the
# timeout set on the destination's control socket (1 s here, 60 s by
# default); the destination exits with the reason and never runs the VM.
# The source, resumed, finds the connection closed and runs on.
stalling s8 d8 d8
kill -STOP "${pid[s8]}"
t0=$SECONDS
finish d8 10; d_rc=$st
waited=$((SECONDS - t0))
kill -CONT "${pid[s8]}"
if [ "$d_rc" = 2 ] && [ "$waited" -le 5 ] &&
    grep -qE 'incoming migration: the source sent nothing for 1000 ms \(stall-timeout\) at byte [0-9]+ of unix:' "$tmp/d8.err" &&
    ! grep -q '^round' "$tmp/d8.serial" 2>/dev/null; then
    pass dest_stall_timeout
else
    fail dest_stall_timeout "destination exit $d_rc after ${waited} s (want 2 within 5 s, stall-timeout)" "$tmp/d8.err" "$tmp/d8.serial"
fi
ended $mpid s8
if [ "$m_rc" = 1 ] && [ "$r2" -gt "$r1" ]; then
    pass dest_stall_source_runs_on
else
    fail dest_stall_source_runs_on "migrate exit $m_rc (want 1), source rounds $r1 -> $r2" "$tmp/m_s8.err" "$tmp/s8.err"
fi
$ROAM control --control "unix:$tmp/s8.ctl" quit >/dev/null 2>&1
finish s8

# 5c. quit on the destination's control socket while a stalled source
# holds its load in a read: it ends at once, the VM unstarted.
stalling s9 d9
kill -STOP "${pid[s9]}"
$ROAM control --control "unix:$tmp/d9.ctl" quit >/dev/null 2>&1
t0=$SECONDS
finish d9 10; d_rc=$st
waited=$((SECONDS - t0))
kill -CONT "${pid[s9]}"
if [ "$d_rc" != 137 ] && [ "$waited" -le 3 ] && grep -q 'stopped at byte [0-9]* while loading the incoming VM' "$tmp/d9.err" &&
    ! grep -q '^round' "$tmp/d9.serial" 2>/dev/null; then
    pass dest_quit_while_loading
else
    fail dest_quit_while_loading "destination exit $d_rc after ${waited} s (want it to end within 3 s of the quit)" "$tmp/d9.err"
fi
ended $mpid s9
$ROAM control --control "unix:$tmp/s9.ctl" quit >/dev/null 2>&1
finish s9

# 6. The bytes a cancelled source sends, caught by a stand-in destination
# that accepts the config: the stream ends with an abort record and a good
# checksum; stream-dump prints it and a restore reports it.
if ! command -v python3 >/dev/null; then
    for t in abort_record_dump abort_record_restore abort_record_source_runs_on stall_timeout_receipt; do
        echo "SKIP: migrate/$t: python3 is not installed"
    done
    exit 0
fi
# A stand-in destination: reads the header and the config, answers, then
# reads the rest. catch PATH OUT: on a Unix socket, answers ROAMCFOK and
# keeps every byte in OUT. mute PORTFILE: on TCP (its port in PORTFILE),
# agrees to read receipts (ROAMCFRC) and never sends one.
cat >"$tmp/standin.py" <<'EOF'
import socket, struct, sys
mode, where = sys.argv[1], sys.argv[2]
if mode == "catch":
    l = socket.socket(socket.AF_UNIX)
    l.bind(where)
else:
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
l.listen(1)
if mode == "mute":
    open(where, "w").write(str(l.getsockname()[1]))
c, _ = l.accept()
def get(n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            raise SystemExit("the source closed early")
        b += x
    return b
data = get(12) + get(2)
data += get(data[-1]) + get(16)
data += get(struct.unpack("<Q", data[-8:])[0])
c.sendall(b"ROAMCFOK" if mode == "catch" else b"ROAMCFRC")
while True:
    x = c.recv(65536)
    if not x:
        break
    if mode == "catch":
        data += x
if mode == "catch":
    open(sys.argv[3], "wb").write(data)
EOF
start s4 --kernel $G --cmdline "rounds=0 mem=$MEM pause=30"
wait_for "$tmp/s4.serial" "round 2 " 60
python3 "$tmp/standin.py" catch "$tmp/d4.mig" "$tmp/caught" 2>"$tmp/catch.err" &
cpid=$!
for ((i = 0; i < 100; i++)); do [ -S "$tmp/d4.mig" ] && break; sleep 0.05; done
$ROAM migrate --control "unix:$tmp/s4.ctl" --to "unix:$tmp/d4.mig" --bandwidth $BW >/dev/null 2>"$tmp/m4.err" &
mpid=$!
sleep 0.7
$ROAM control --control "unix:$tmp/s4.ctl" '{"execute": "migrate-cancel"}' >/dev/null 2>&1
wait "$mpid"
wait "$cpid"
$ROAM stream-dump "$tmp/caught" >"$tmp/dump.txt" 2>"$tmp/dump.err"
dump_rc=$?
if [ "$dump_rc" = 0 ] && grep -q "^ram section 'ram'" "$tmp/dump.txt" &&
    grep -q "^abort section 'abort' instance 0 version 1" "$tmp/dump.txt" &&
    grep -q '^  reason = 2 (cancelled)$' "$tmp/dump.txt" &&
    grep -q '^  message = migrate-cancel on the control socket$' "$tmp/dump.txt" &&
    tail -n 1 "$tmp/dump.txt" | grep -q '^end: checksum ok'; then
    pass abort_record_dump
else
    fail abort_record_dump "stream-dump exit $dump_rc" "$tmp/dump.txt" "$tmp/dump.err" "$tmp/catch.err"
fi
$ROAM snapshot restore "$tmp/caught" --engine $engine --serial none >/dev/null 2>"$tmp/r4.err"
rc=$?
if [ "$rc" = 2 ] && grep -qE 'the stream was abandoned at byte [0-9]+ while it was written \(cancelled: migrate-cancel on the control socket\): it holds no complete VM' "$tmp/r4.err"; then
    pass abort_record_restore
else
    fail abort_record_restore "restore exit $rc (want 2 and 'the stream was abandoned')" "$tmp/r4.err"
fi
r1=$(rounds s4)
sleep 0.5
r2=$(rounds s4)
$ROAM control --control "unix:$tmp/s4.ctl" quit >/dev/null 2>&1
finish s4; s_rc=$st
if [ "$r2" -gt "$r1" ] && ! grep -q '^FAIL' "$tmp/s4.serial" && [ "$s_rc" = 0 ]; then
    pass abort_record_source_runs_on
else
    fail abort_record_source_runs_on "rounds $r1 -> $r2, exit $s_rc" "$tmp/s4.serial" "$tmp/s4.err"
fi

# 7. A destination over TCP that takes the whole stream but never answers
# the SYNC before the stop with its read receipt (the stand-in, mute): the
# stall timeout ends the wait, and the VM runs on.
start s7 --kernel $G --cmdline "rounds=0 mem=$MEM pause=30"
wait_for "$tmp/s7.serial" "round 2 " 60
python3 "$tmp/standin.py" mute "$tmp/mute.port" 2>"$tmp/mute.err" &
mute=$!
for ((i = 0; i < 100; i++)); do [ -s "$tmp/mute.port" ] && break; sleep 0.05; done
$ROAM control --control "unix:$tmp/s7.ctl" \
    '{"execute": "migrate-set-parameters", "arguments": {"stall-timeout": 1000}}' >/dev/null 2>&1
$ROAM migrate --control "unix:$tmp/s7.ctl" --to "tcp:127.0.0.1:$(cat "$tmp/mute.port")" >/dev/null 2>"$tmp/m7.err" &
ended $! s7
if [ "$m_rc" = 1 ] && grep -qF "$stalled" "$tmp/m7.err" && [ "$r2" -gt "$r1" ]; then
    pass stall_timeout_receipt
else
    fail stall_timeout_receipt "migrate exit $m_rc (want 1, stall-timeout), source rounds $r1 -> $r2" \
        "$tmp/m7.err" "$tmp/s7.err" "$tmp/mute.err"
fi
kill $mute 2>/dev/null
$ROAM control --control "unix:$tmp/s7.ctl" quit >/dev/null 2>&1
finish s7
exit 0

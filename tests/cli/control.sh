#!/usr/bin/env bash
# `roam migrate` and `roam snapshot save`, the control socket's clients:
# bad usage and unreachable sockets get one line on stderr and exit status
# 2; a live migration between two roam processes (exit 0, a JSON report), a
# snapshot, and a migration to nowhere (exit 1, the VM runs on), on KVM
# where it is usable and on emu elsewhere.
set -u
cd "$(dirname "$0")/../.."
ROAM=${ROAM:-build/roam}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# expect NAME STATUS PATTERN -- ARGS...: exit status and stderr (one line
# for status 2) matching PATTERN.
expect() {
    local name=$1 want=$2 pat=$3
    shift 4
    $ROAM "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: cli/$name: exit status $rc, expected $want; stderr:"; sed 's/^/    /' "$tmp/err"
    elif [ -n "$pat" ] && ! grep -qiE -- "$pat" "$tmp/err"; then
        echo "FAIL: cli/$name: stderr does not match '$pat':"; sed 's/^/    /' "$tmp/err"
    elif [ "$want" = 2 ] && [ "$lines" -ne 1 ]; then
        echo "FAIL: cli/$name: expected one line on stderr, got $lines:"; sed 's/^/    /' "$tmp/err"
    else
        echo "PASS: cli/$name"
    fi
}

# A TCP port with nobody listening (bound and released by python3, if any).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 1
}

expect migrate_help 0 '' -- migrate --help
expect migrate_no_args 2 'control SPEC and --to URI are required' -- migrate
expect migrate_bad_uri 2 "bad migration URI 'xyz' \(use tcp:HOST:PORT" -- migrate --control unix:/x --to xyz
expect migrate_bad_port 2 'port must be a number' -- migrate --control unix:/x --to tcp:h:99999
expect migrate_bad_bandwidth 2 "'fast' is not a positive number of MB/s" -- migrate --control unix:/x --to tcp:h:1 --bandwidth fast
expect migrate_bad_downtime 2 'downtime-ms.*out of range' -- migrate --control unix:/x --to tcp:h:1 --downtime-ms 0
expect migrate_unknown_option 2 "unknown option '--turbo'" -- migrate --turbo
expect migrate_missing_value 2 'needs a value' -- migrate --control
expect migrate_bad_control 2 "bad control socket 'x:y'" -- migrate --control x:y --to tcp:h:1
expect migrate_no_socket 2 "unix:$tmp/none.sock: No such file or directory" -- migrate --control "unix:$tmp/none.sock" --to tcp:h:1
port=$(free_port)
expect migrate_refused 2 "tcp:127.0.0.1:$port: Connection refused" -- migrate --control "tcp:127.0.0.1:$port" --to tcp:h:1
expect snapshot_no_args 2 'usage: roam snapshot save' -- snapshot
expect snapshot_unknown 2 "unknown subcommand 'take'" -- snapshot take
expect snapshot_save_no_file 2 'control SPEC and FILE are required' -- snapshot save --control unix:/x
expect snapshot_save_two_files 2 'one FILE only' -- snapshot save --control unix:/x a b
expect control_no_request 2 'at least one REQUEST' -- control --control unix:/x
expect control_bad_json 2 "JSON: expected ':' at offset 5" -- control --control unix:/x '{"a" 1}'
expect control_no_socket 2 "unix:$tmp/none.sock: No such file or directory" -- control --control "unix:$tmp/none.sock" query-status
expect snapshot_save_no_socket 2 "unix:$tmp/none.sock: No such file or directory" -- snapshot save --control "unix:$tmp/none.sock" "$tmp/s"

# wait_for PATH: until a socket file appears (5 s).
wait_for() {
    for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
    return 1
}

GUEST=build/guests/dirtier.elf
# The guests run on --engine auto's choice: KVM where it is usable, else emu.
if ! $ROAM info | grep -qE '^ *(kvm|emu) +usable'; then
    why="no engine is usable here ($($ROAM info | grep -E '^ *(kvm|emu) ' | tr -s ' \n' ' '))"
    for t in migrate_live snapshot_save control_requests migrate_to_nowhere; do echo "SKIP: cli/$t: $why"; done
    exit 0
fi
if [ ! -r "$GUEST" ]; then
    for t in migrate_live snapshot_save control_requests migrate_to_nowhere; do echo "SKIP: cli/$t: $GUEST is not built (make guests)"; done
    exit 0
fi

run_guest() { # run_guest LOG ARGS...: a dirtier that runs until stopped
    local log=$1
    shift
    $ROAM run --kernel "$GUEST" --cmdline "rounds=0 mem=8M" --memory 64M --serial none "$@" >"$log" 2>&1 &
    pids+=($!)
}

# A snapshot, then a migration to nowhere: the source runs on.
run_guest "$tmp/a.log" --control "unix:$tmp/a.sock"
a_pid=$!
if ! wait_for "$tmp/a.sock"; then
    echo "FAIL: cli/snapshot_save: the control socket did not appear"; sed 's/^/    /' "$tmp/a.log"
else
    (cd "$tmp" && "$OLDPWD/$ROAM" snapshot save --control "unix:$tmp/a.sock" snap.roam) >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 0 ] && grep -q "^saved the VM to $tmp/snap.roam ([0-9.]* [KMG]*i*B)" "$tmp/out" && [ -s "$tmp/snap.roam" ]; then
        echo "PASS: cli/snapshot_save"
    else
        echo "FAIL: cli/snapshot_save: exit status $rc"; sed 's/^/    /' "$tmp/out" "$tmp/err"
    fi
    $ROAM control --control "unix:$tmp/a.sock" stop query-status '{"execute":"cont","id":5}' fly >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 1 ] && [ "$(sed -n 2p "$tmp/out")" = '{"return":{"status":"paused","running":false}}' ] &&
        [ "$(sed -n 3p "$tmp/out")" = '{"return":{},"id":5}' ] && grep -q '^{"error":{"class":"CommandNotFound"' "$tmp/out"; then
        echo "PASS: cli/control_requests"
    else
        echo "FAIL: cli/control_requests: exit status $rc"; sed 's/^/    /' "$tmp/out" "$tmp/err"
    fi
    expect migrate_to_nowhere 1 "migration failed: unix:$tmp/nowhere.sock: No such file or directory; the VM runs on" \
        -- migrate --control "unix:$tmp/a.sock" --to "unix:$tmp/nowhere.sock"
fi
kill "$a_pid" 2>/dev/null

# A live migration between two roam processes.
run_guest "$tmp/src.log" --control "unix:$tmp/src.sock"
src_pid=$!
run_guest "$tmp/dst.log" --incoming "unix:$tmp/mig.sock"
dst_pid=$!
if ! wait_for "$tmp/src.sock" || ! wait_for "$tmp/mig.sock"; then
    echo "FAIL: cli/migrate_live: the sockets did not appear"; sed 's/^/    /' "$tmp/src.log" "$tmp/dst.log"
else
    sleep 0.2
    $ROAM migrate --control "unix:$tmp/src.sock" --to "unix:$tmp/mig.sock" --downtime-ms 100 --json >"$tmp/out" 2>"$tmp/err"
    rc=$?
    wait "$src_pid"
    src_rc=$?
    sleep 0.2
    if [ $rc -ne 0 ]; then
        echo "FAIL: cli/migrate_live: roam migrate exited with $rc"; sed 's/^/    /' "$tmp/out" "$tmp/err" "$tmp/src.log"
    elif ! grep -q '^{"status":"completed",.*"pages":[1-9]' "$tmp/out"; then
        echo "FAIL: cli/migrate_live: unexpected report:"; sed 's/^/    /' "$tmp/out"
    elif [ "$src_rc" -ne 0 ]; then
        echo "FAIL: cli/migrate_live: the source exited with $src_rc"; sed 's/^/    /' "$tmp/src.log"
    elif ! kill -0 "$dst_pid" 2>/dev/null; then
        echo "FAIL: cli/migrate_live: the destination is not running"; sed 's/^/    /' "$tmp/dst.log"
    else
        echo "PASS: cli/migrate_live"
    fi
fi
kill "$dst_pid" 2>/dev/null
exit 0

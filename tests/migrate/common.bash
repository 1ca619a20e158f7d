# Sourced by tests/migrate/*.sh (not a test itself): $ROAM, $G (the
# dirtier), $tmp and the pids killed at exit, pass/fail with the
# "$TEST_PREFIX/" prefix (default migrate), and the roam processes they
# drive by name.

ROAM=${ROAM:-build/roam}
G=build/guests/dirtier.elf
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "PASS: ${TEST_PREFIX:-migrate}/$1"; }
fail() {
    echo "FAIL: ${TEST_PREFIX:-migrate}/$1: $2"
    shift 2
    for f in "$@"; do [ -f "$f" ] && tail -n 8 "$f" | sed "s|^|    $(basename "$f"): |"; done
}

# wait_for FILE PATTERN [SECONDS]: until FILE has a line matching PATTERN.
wait_for() {
    local i
    for ((i = 0; i < ${3:-30} * 20; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# start NAME ARGS...: runs roam on ${engine:-kvm} in the background with its
# COM1 in $tmp/NAME.serial and its control socket $tmp/NAME.ctl; its pid is
# ${pid[NAME]}. Returns once the control socket is there.
declare -A pid
start() {
    local name=$1
    shift
    $ROAM run --engine "${engine:-kvm}" --serial "file:$tmp/$name.serial" \
        --control "unix:$tmp/$name.ctl" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
    pid[$name]=$!
    pids+=($!)
    local i
    for ((i = 0; i < 200; i++)); do [ -S "$tmp/$name.ctl" ] && return 0; sleep 0.05; done
    return 1
}

# finish NAME [SECONDS]: waits (default 60 s) for the process; its exit
# status goes in $st (137 if it had to be killed).
finish() {
    local i
    for ((i = 0; i < ${2:-60} * 20; i++)); do
        kill -0 "${pid[$1]}" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "${pid[$1]}" 2>/dev/null
    wait "${pid[$1]}"
    st=$?
}

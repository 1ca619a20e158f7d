# Sourced by the tests/windows/*.sh scripts (not a test itself): finds wine
# and roam.exe (exits 0 with a SKIP line, naming TEST_NAME, when either is
# missing or wine cannot run it), starts and stops our own wineserver, and
# gives: $tmp (removed at exit), pids (killed at exit), WIN (the command line
# that runs roam.exe), LROAM, pass/fail, free_port, wait_for.
EXE=build-win/roam.exe
LROAM=build/roam

wine=""
for w in /usr/lib/wine/wine64 wine64 wine; do
    if command -v "$w" >/dev/null 2>&1; then wine=$(command -v "$w"); break; fi
done
if [ -z "$wine" ]; then
    echo "SKIP: ${TEST_NAME:-windows/wine}: wine is not installed (/usr/lib/wine/wine64, wine64 or wine; apt-get install wine64)"
    exit 0
fi
if [ ! -f "$EXE" ]; then
    echo "SKIP: ${TEST_NAME:-windows/wine}: $EXE is not built (make windows)"
    exit 0
fi
export WINEDEBUG=-all
wineserver=""
for w in "$(dirname "$wine")/wineserver" /usr/lib/wine/wineserver wineserver; do
    if command -v "$w" >/dev/null 2>&1; then wineserver=$(command -v "$w"); break; fi
done
# A wineserver this script starts is stopped at the end; one already
# running (someone else's wine session) is left alone.
ours_server=0
if [ -n "$wineserver" ] && ! pgrep -x -u "$(id -u)" wineserver >/dev/null 2>&1; then
    ours_server=1
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
    [ "$ours_server" = 1 ] && "$wineserver" -k 2>/dev/null
}
trap cleanup EXIT

WIN=("$wine" "$EXE")
pass() { echo "PASS: windows/$1"; }
fail() {
    echo "FAIL: windows/$1: $2"
    shift 2
    for f in "$@"; do [ -f "$f" ] && tail -n 6 "$f" | sed "s|^|    $(basename "$f"): |"; done
}

# wine itself must start (the first run in a fresh prefix creates it).
if ! timeout 180 "${WIN[@]}" info >"$tmp/info" 2>&1 </dev/null || ! grep -q 'emu *usable' "$tmp/info"; then
    echo "SKIP: ${TEST_NAME:-windows/wine}: wine cannot run $EXE here:"
    sed 's/^/    /' "$tmp/info"
    exit 0
fi

# A TCP port with nobody listening (bound and released; racy but brief).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 30000))
}

wait_for() { # FILE PATTERN [SECONDS]
    local i
    for ((i = 0; i < ${3:-30} * 20; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}


# Sourced by the benchmarks (bench/linux.sh, bench/emu.sh; not a benchmark
# itself): the helpers they share. The script sets BENCH (its name, as the
# skip line shows it) and ROAM before sourcing this.
#   say WORDS...        prints WORDS as a line
#   skip WHY            prints "BENCH: skipped: WHY" and exits 0
#   need_emu            skips unless roam's emu engine is usable here
#   bench_tmp NAME      makes $tmp (/tmp/roam-bench-NAME.XXXXXX) and pids:
#                       at exit the processes in pids are stopped (TERM,
#                       then KILL) and $tmp removed (kept with KEEP=1);
#                       Ctrl-C exits 130 through the same
#   median [DIGITS]     the median of the numbers on stdin ("-" if none);
#                       of an even count, the mean of the middle two with
#                       DIGITS decimals (default 3)
#   cpu_model           the host CPU's model name
#   loadavg             the host's load averages (1, 5, 15 minutes)
#   jnum KEY JSON       the first number after "KEY": in JSON ("-" if none)
#   freeport            a TCP port on 127.0.0.1 with nobody listening
#   link_shape RATE     from here to exit, TCP traffic to 127.0.0.2 goes
#                       through a link of RATE (tc units: 1gbit, 100mbit)
#                       whose queue holds LINK_QUEUE packets (default 100);
#                       the rest of lo is left alone. Root and tc (htb,
#                       u32, pfifo) are needed; skips without them
#   qmp_open PORT, qmp JSON, qmp_close
#                       QMP over bash's /dev/tcp: qmp_open connects
#                       (retrying while QEMU starts), reads the greeting
#                       and negotiates capabilities on fd $QFD; qmp sends
#                       one command and leaves its answer line in $QR
#                       (events skipped)

say() { printf '%s\n' "$*"; }
skip() { say "$BENCH: skipped: $1"; exit 0; }

need_emu() {
    local emu
    emu=$("$ROAM" info 2>/dev/null | sed -n 's/^ *emu *//p')
    [ "$emu" = usable ] || skip "roam's emu engine is not usable here (${emu:-unknown})"
}

bench_tmp() {
    tmp=$(mktemp -d "/tmp/roam-bench-$1.XXXXXX")
    pids=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}
bench_cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ "${LINK_SHAPED:-0}" = 1 ] && tc qdisc del dev lo root 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then
        say "kept $tmp"
    else
        rm -rf "$tmp"
    fi
}

median() {
    sort -g | awk -v f="%.${1:-3}f\n" '{ v[NR] = $1 } END {
        if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2]
        else printf f, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

cpu_model() { sed -n 's/^model name[^:]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null; }

jnum() {
    local re="\"$1\": *(-?[0-9.eE+]+)"
    [[ $2 =~ $re ]] && echo "${BASH_REMATCH[1]}" || echo -
}

# Bound and released at once: racy, but briefly.
freeport() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' \
        2>/dev/null || echo $((20000 + (RANDOM * 7 + $$) % 40000))
}

# A slow link on one machine: htb classifies on the destination address,
# so 127.0.0.1 (control sockets, QMP, the other direction) stays fast.
link_shape() {
    [ "$(id -u)" = 0 ] || skip "LINK=$1 needs root (it shapes the loopback device with tc)"
    command -v tc >/dev/null 2>&1 || skip "LINK=$1 needs tc (Debian package iproute2)"
    tc qdisc show dev lo | grep -q '^qdisc noqueue' ||
        skip "LINK=$1: lo already has a queueing discipline ($(tc qdisc show dev lo | head -n 1))"
    if ! { tc qdisc add dev lo root handle 1: htb default 20 &&
        tc class add dev lo parent 1: classid 1:10 htb rate "$1" &&
        tc class add dev lo parent 1: classid 1:20 htb rate 100gbit &&
        tc qdisc add dev lo parent 1:10 handle 10: pfifo limit "${LINK_QUEUE:-100}" &&
        tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip dst 127.0.0.2/32 flowid 1:10; } \
        >"$tmp/tc.log" 2>&1; then
        tc qdisc del dev lo root 2>/dev/null
        skip "LINK=$1: tc failed: $(grep -v '^Warning' "$tmp/tc.log" | head -n 1)"
    fi
    LINK_SHAPED=1
}

QFD=
qmp_open() {
    local i
    for ((i = 0; i < 250; i++)); do
        exec {QFD}<>"/dev/tcp/127.0.0.1/$1" 2>/dev/null && break
        QFD=
        sleep 0.02
    done
    [ -n "$QFD" ] || return 1
    IFS= read -r -t 5 _ <&"$QFD" || return 1
    qmp '{"execute": "qmp_capabilities"}'
}
QR=
qmp() {
    local line
    QR=
    printf '%s\n' "$1" >&"$QFD" || return 1
    while IFS= read -r -t 10 line <&"$QFD"; do
        case $line in *'"return"'* | *'"error"'*) QR=$line; return 0 ;; esac
    done
    return 1
}
qmp_close() {
    [ -n "$QFD" ] && exec {QFD}>&-
    QFD=
}

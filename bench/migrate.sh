#!/usr/bin/env bash
# Live-migration benchmark: roam against QEMU 7.2, both under KVM, on one
# host. It prints figures and ratios and asserts nothing; bench/README.md
# says how each figure is measured and how to read the table.
#
# The guest is tests/guests/dirtier (at CPL3). It fills RESIDENT bytes of
# its RAM with non-zero data (a quarter of the VM by default), then runs
# rounds: each rewrites one word every stride= bytes of that region, checks
# the words it rewrites, prints "round N sum ..." on COM1 and idles pause=
# ms. stride= sets how many pages a round dirties, so the dirty rate is
# pages * 4096 / (time per round). Three loads, at 512 MiB and 2 GiB:
#   idle   1 word per round and no pause: a round (a heartbeat) every ~1 ms
#   20     ~20 MB/s: ~488 pages per round, a round every ~100 ms
#   100    ~100 MB/s: ~2441 pages per round, a round every ~100 ms
# Each case migrates once per setting:
#   roam, unlimited           roam, --bandwidth 134.217728 (128 MiB/s)
#   QEMU, max-bandwidth 1e11  QEMU, its default max-bandwidth (128 MiB/s)
# with the same downtime target on both (DOWNTIME_MS, default 50 ms: roam's
# default; QEMU's own default is 300 ms). Migrations are sequential.
#
# Environment:
#   QUICK=1          only 512 MiB, idle and 20 MB/s
#   SIZES="512M 2G"  VM sizes;  LOADS="idle 20 100"  loads
#   TRANSPORT=unix   or tcp (loopback)
#   RESIDENT=        bytes of non-zero guest data (default: a quarter of the VM)
#   DOWNTIME_MS=50   the downtime target given to both VMMs
#   SETTLE=1.5       seconds of guest rounds before migrating
#   POST=1           seconds watched on the destination after completion
#   VERIFY=512M      sizes whose runs also wait for the destination's PASS
#   REPEAT=1         migrations per setting (rows get #N when more than 1)
#   KEEP=1           keep the temp dir (serial timestamps, QMP replies)
#   PREWARM=1        before each migration, touch and free RESIDENT + 256 MiB
#                    of huge pages (build/bench/prewarm, `make bench-tools`),
#                    so that neither destination's first touch of its memory
#                    depends on what ran before (bench/tools/prewarm.c says
#                    why); 0: off
#   ROAM=build/roam  QEMU=qemu-system-x86_64
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
ROAM=${ROAM:-build/roam}
QEMU=${QEMU:-qemu-system-x86_64}
G=build/guests/dirtier.elf
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    SIZES=${SIZES:-512M}
    LOADS=${LOADS:-"idle 20"}
else
    SIZES=${SIZES:-"512M 2G"}
    LOADS=${LOADS:-"idle 20 100"}
fi
TRANSPORT=${TRANSPORT:-unix}
DOWNTIME_MS=${DOWNTIME_MS:-50}
SETTLE=${SETTLE:-1.5}
POST=${POST:-1}
VERIFY=${VERIFY:-512M}
REPEAT=${REPEAT:-1}
RESIDENT=${RESIDENT:-}
PREWARM=${PREWARM:-1}
PREWARM_BIN=build/bench/prewarm
ROAM_CAP=134.217728          # MB/s (10^6 B/s): exactly 128 MiB/s
QEMU_UNCAPPED=100000000000   # bytes/s for QEMU's max-bandwidth: 100 GB/s

BENCH=bench/migrate.sh
. bench/lib.bash # say, skip, jnum, freeport, qmp_open/qmp/qmp_close

[ -n "${EPOCHREALTIME:-}" ] || skip "bash 5 is needed (\$EPOCHREALTIME)"
if [ ! -x "$ROAM" ] || [ ! -f "$G" ]; then skip "build roam and the guests first (make all guests)"; fi
command -v "$QEMU" >/dev/null 2>&1 || skip "$QEMU is not installed"
kvm=$("$ROAM" info 2>/dev/null | sed -n 's/^ *kvm *//p')
[ "$kvm" = usable ] || skip "roam's KVM engine cannot run here (${kvm:-unknown})"
case $TRANSPORT in unix | tcp) ;; *) skip "TRANSPORT must be unix or tcp" ;; esac
if [ "$PREWARM" != 0 ] && [ ! -x "$PREWARM_BIN" ]; then
    skip "$PREWARM_BIN is missing: make bench-tools (or PREWARM=0)"
fi

bench_tmp migrate

# ---- helpers ----------------------------------------------------------------

# bytes SIZE: "512M" -> 536870912 (K, M, G suffixes)
bytes() {
    local n=${1%[KMGkmg]}
    case $1 in
    *[Kk]) echo $((n << 10)) ;;
    *[Mm]) echo $((n << 20)) ;;
    *[Gg]) echo $((n << 30)) ;;
    *) echo "$n" ;;
    esac
}

# stamp FIFO OUT: copies the lines written to FIFO into OUT, each prefixed
# with the time it arrived ($EPOCHREALTIME, microseconds). A line the
# writer did not finish before it closed is dropped.
stamp() {
    mkfifo "$1"
    (while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done <"$1" >"$2") &
    pids+=("$!")
}

# wait_line FILE PATTERN SECONDS: until FILE has a line matching PATTERN.
wait_line() {
    local i
    for ((i = 0; i < $3 * 50; i++)); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.02
    done
    return 1
}

# wait_exit PID SECONDS: waits for a process we started, then kills it.
wait_exit() {
    local i
    for ((i = 0; i < $2 * 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.02
    done
    kill -TERM "$1" 2>/dev/null
    sleep 0.05
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# analyze TS_SOURCE TS_DEST T_START T_END: the guest's heartbeat. Events are
# the arrivals of round lines (source: "round N sum" lines; destination:
# every line but the verdict, so that the rest of a line the source left
# half-printed counts as that round's end). Prints, in ms: the median
# interval before T_START; the switchover interval (last source event to
# first destination event); the longest other interval and the mean one
# among those that end after T_START and start before T_END + POST; then
# the number of intervals before and in that window.
analyze() {
    { grep -h ' round [0-9]* sum' "$1" | sed 's/ .*/ S/'
      grep -hv 'verified\|PASS\|FAIL' "$2" | sed 's/ .*/ D/'; } 2>/dev/null |
        sort -n |
        awk -v t0="$3" -v t1="$4" -v post="$POST" '
            { t = $1 + 0
              if (n++) {
                  d = (t - prev) * 1000
                  if (t <= t0) printf "P %.3f\n", d
                  else if (prev < t1 + post) printf "%s %.3f\n", (ps == "S" && $2 == "D") ? "X" : "W", d
              }
              prev = t; ps = $2 }' |
        sort -k1,1 -k2,2g |
        awk '$1 == "P" { p[np++] = $2 }
             $1 == "W" { if ($2 > mx) mx = $2; sw += $2; nw++ }
             $1 == "X" { x = $2; sw += $2; nw++ }
             END {
               if (np == 0) { print "- - - - 0 0"; exit }
               med = (np % 2) ? p[int(np / 2)] : (p[np / 2 - 1] + p[np / 2]) / 2
               printf "%.2f %s %s %s %d %d\n", med, (x == "" ? "-" : sprintf("%.2f", x)),
                   (nw ? sprintf("%.2f", mx) : "-"), (nw ? sprintf("%.2f", sw / nw) : "-"), np, nw }'
}

# prewarm: right before a migration, the same for both VMMs (PREWARM above).
prewarm() {
    [ "$PREWARM" = 0 ] || "$PREWARM_BIN" $((res / 1048576 + 256))
}

# ---- one migration ------------------------------------------------------------

# migrate_roam ID MEM CMDLINE CAP(0|1) WAIT_PASS(0|1): result line in $RES.
migrate_roam() {
    local id=$1 mem=$2 cmd=$3 cap=$4 wait_pass=$5 d=$tmp/$1 uri sp dp json t0 t1 rc i
    mkdir -p "$d"
    stamp "$d/s.fifo" "$d/s.ts"
    stamp "$d/d.fifo" "$d/d.ts"
    if [ "$TRANSPORT" = tcp ]; then uri=tcp:127.0.0.1:$(freeport); else uri=unix:$d/mig; fi
    "$ROAM" run --engine kvm --memory "$mem" --serial "file:$d/d.fifo" --control "unix:$d/d.ctl" \
        --incoming "$uri" >"$d/d.out" 2>"$d/d.err" </dev/null &
    dp=$!
    pids+=("$dp")
    "$ROAM" run --engine kvm --memory "$mem" --serial "file:$d/s.fifo" --control "unix:$d/s.ctl" \
        --kernel "$G" --cmdline "$cmd" >"$d/s.out" 2>"$d/s.err" </dev/null &
    sp=$!
    pids+=("$sp")
    if ! wait_line "$d/s.ts" ' round 1 sum' 60; then
        RES="roam failed:the-guest-did-not-start - - - - - - - - - - - none -"
        wait_exit $sp 0; wait_exit $dp 0
        return
    fi
    sleep "$SETTLE"
    for ((i = 0; i < 100; i++)); do [ -S "$d/d.ctl" ] && break; sleep 0.02; done
    prewarm
    t0=$EPOCHREALTIME
    local bw=()
    [ "$cap" = 1 ] && bw=(--bandwidth "$ROAM_CAP")
    timeout 300 "$ROAM" migrate --control "unix:$d/s.ctl" --to "$uri" --downtime-ms "$DOWNTIME_MS" \
        --json "${bw[@]}" >"$d/m.json" 2>"$d/m.err"
    rc=$?
    t1=$EPOCHREALTIME
    echo "$t0 $t1" >"$d/times"
    json=$(cat "$d/m.json")
    wait_exit $sp 10
    finish_dest "$d" $dp "$t1" "$wait_pass" roam
    local status=completed
    [ "$rc" = 0 ] || status="failed:$(tr -s ' \n' '__' <"$d/m.err" | cut -c1-60)"
    RES="roam $status $(jnum total-time-ms "$json") $(jnum downtime-ms "$json") \
$(jnum transferred "$json") $(jnum rounds "$json") $(jnum dirty-pages-rate "$json") \
$(analyze "$d/s.ts" "$d/d.ts" "$t0" "$t1") $VERDICT $(jnum throttle-percent "$json")"
}

# finish_dest DIR PID T_END WAIT_PASS VMM: watches the destination for POST
# seconds (or until its verdict when WAIT_PASS), stops it, sets $VERDICT:
# PASS / FAIL (the guest's verdict), ok (rounds went on, no FAIL line),
# none (the destination printed nothing), or the FAIL text.
finish_dest() {
    local d=$1 dp=$2 wait_pass=$4 vmm=$5
    if [ "$wait_pass" = 1 ]; then
        wait_line "$d/d.ts" 'PASS: dirtier\|FAIL' 30
    else
        sleep "$POST"
    fi
    if [ "$vmm" = roam ] && kill -0 "$dp" 2>/dev/null; then
        "$ROAM" control --control "unix:$d/d.ctl" quit >/dev/null 2>&1
    fi
    wait_exit "$dp" 3
    if grep -q 'FAIL' "$d/s.ts" "$d/d.ts" 2>/dev/null; then
        VERDICT=FAIL
    elif grep -q 'PASS: dirtier' "$d/d.ts" 2>/dev/null; then
        VERDICT=PASS
    elif [ "$(grep -c . "$d/d.ts" 2>/dev/null)" -ge 2 ]; then
        VERDICT=ok
    else
        VERDICT=none
    fi
}

# migrate_qemu ID MEM CMDLINE CAP(0|1) WAIT_PASS(0|1): result line in $RES.
migrate_qemu() {
    local id=$1 mem=$2 cmd=$3 cap=$4 wait_pass=$5 d=$tmp/$1 uri sp dp t0 t1 port status q i
    mkdir -p "$d"
    stamp "$d/s.fifo" "$d/s.ts"
    stamp "$d/d.fifo" "$d/d.ts"
    if [ "$TRANSPORT" = tcp ]; then uri=tcp:127.0.0.1:$(freeport); else uri=unix:$d/mig; fi
    port=$(freeport)
    # shellcheck disable=SC2054 # the commas are QEMU's
    q=("$QEMU" -M microvm,pit=on,pic=on,rtc=on -accel kvm -cpu qemu64 -m "$mem" -nodefaults
        -no-user-config -nographic -device isa-debug-exit,iobase=0xf4,iosize=0x4
        -kernel "$G" -append "$cmd")
    "${q[@]}" -serial "file:$d/d.fifo" -incoming "$uri" >"$d/d.out" 2>"$d/d.err" </dev/null &
    dp=$!
    pids+=("$dp")
    "${q[@]}" -serial "file:$d/s.fifo" -qmp "tcp:127.0.0.1:$port,server=on,wait=off" \
        >"$d/s.out" 2>"$d/s.err" </dev/null &
    sp=$!
    pids+=("$sp")
    if ! wait_line "$d/s.ts" ' round 1 sum' 60 || ! qmp_open "$port"; then
        RES="qemu failed:the-guest-or-QMP-did-not-start - - - - - - - - - - - none -"
        qmp_close; wait_exit $sp 0; wait_exit $dp 0
        return
    fi
    qmp "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"downtime-limit\": $DOWNTIME_MS$(
        [ "$cap" = 1 ] || echo ", \"max-bandwidth\": $QEMU_UNCAPPED")}}"
    echo "$QR" >"$d/params.json"
    sleep "$SETTLE"
    prewarm
    t0=$EPOCHREALTIME
    qmp "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"$uri\"}}"
    echo "$QR" >"$d/migrate.json"
    status=failed:no-answer
    local active=
    local deadline=$((SECONDS + 300))
    while [ $SECONDS -lt $deadline ]; do
        qmp '{"execute": "query-migrate"}' || break
        case $QR in
        *'"completed"'*) status=completed; break ;;
        *'"failed"'* | *'"cancelled"'*) status=failed:qemu; break ;;
        *'"active"'*) active=$QR ;;
        esac
        sleep 0.01
    done
    t1=$EPOCHREALTIME
    echo "$t0 $t1" >"$d/times"
    echo "$QR" >"$d/query.json"
    qmp_close
    wait_exit $sp 0
    finish_dest "$d" $dp "$t1" "$wait_pass" qemu
    RES="qemu $status $(jnum total-time "$QR") $(jnum downtime "$QR") $(jnum transferred "$QR") \
$(jnum dirty-sync-count "$QR") $(jnum dirty-pages-rate "$active") \
$(analyze "$d/s.ts" "$d/d.ts" "$t0" "$t1") $VERDICT $(jnum cpu-throttle-percentage "$active")"
}

# ---- the cases ----------------------------------------------------------------

# load_opts LOAD RES_BYTES: sets CMD (dirtier options without rounds=),
# PAGES (pages dirtied per round) and PERIOD_MS (the nominal round time).
load_opts() {
    local load=$1 res=$2 want stride
    if [ "$load" = idle ]; then
        CMD="mem=$res stride=$res pause=0"; PAGES=1; PERIOD_MS=1
        return
    fi
    want=$((load * 1000000 / 10 / 4096)) # pages per 100 ms round
    stride=$((res / want / 8 * 8))
    PAGES=$(((res + stride - 1) / stride))
    CMD="mem=$res stride=$stride pause=100"; PERIOD_MS=100
}

results=$tmp/results
: >"$results"
say "roam vs QEMU live migration: dirtier guest, KVM, $TRANSPORT transport, downtime target $DOWNTIME_MS ms"
kvmkind=kvm
[ -d /sys/module/kvm_pvm ] && kvmkind="kvm_pvm (nested, paravirtual)"
say "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), $(uname -r), /dev/kvm: $kvmkind"
say "$($QEMU --version | head -1), roam $(git describe --always --dirty 2>/dev/null || echo '?')"
if [ "$PREWARM" = 0 ]; then
    say "prewarm: off (each destination's memory is as warm or cold as the host left it)"
else
    say "prewarm: RESIDENT + 256 MiB of huge pages touched and freed before each migration (PREWARM=0: off)"
fi
say ""
start=$EPOCHREALTIME
for size in $SIZES; do
    ram=$(bytes "$size")
    res=${RESIDENT:-$((ram / 4))}
    res=$(($(bytes "$res") / 4096 * 4096))
    for load in $LOADS; do
        load_opts "$load" "$res"
        verify=0
        for v in $VERIFY; do [ "$v" = "$size" ] && verify=1; done
        if [ $verify = 1 ]; then
            # Enough rounds to outlast the migration; then the destination
            # runs them out and checks every word of the region.
            rounds=$(((${SETTLE%.*} + 5) * 1000 / PERIOD_MS))
        else
            rounds=0
        fi
        for setting in cap unlim; do
            cap=0
            [ $setting = cap ] && cap=1
            for ((rep = 1; rep <= REPEAT; rep++)); do
                label=$setting
                [ "$REPEAT" -gt 1 ] && label=$setting#$rep
                for vmm in roam qemu; do
                    id=$size-$load-$label-$vmm
                    "migrate_$vmm" "$id" "$size" "rounds=$rounds $CMD" $cap $verify
                    say "  $id: $RES"
                    echo "$size $load $label $PAGES $RES" >>"$results"
                done
            done
        done
    done
done
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

# ---- the table ------------------------------------------------------------------
# results: size load setting pages | vmm status total down bytes rounds rate |
#          med switch max mean npre nwin | verdict throttle
say ""
awk '
function r(a, b) { return (a != "-" && b != "-" && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
function mb(x) { return (x == "" || x == "-") ? "-" : sprintf("%.1f", x / 1e6) }
function pr(x) { return (x == "" || x == "-") ? "-" : mb(x * 4096) }
function less(x, m) { return (x == "-" || m == "-") ? "-" : sprintf("%.0f", x - m) }
function rate(k, v, i) { i = med[k, v]; if (i == "-") return "-"; if (i < 100) i = 100
                         return sprintf("%.1f", pg[k] * 4096 / (i / 1000) / 1e6) }
function nz(x) { return x == "" ? "-" : x }
{
    key = $1 " " $2 " " $3
    if (!(key in seen)) { seen[key] = 1; order[n++] = key }
    v = $5
    st[key, v] = $6; tot[key, v] = nz($7); dn[key, v] = nz($8); by[key, v] = $9
    if ($6 != "completed") { tot[key, v] = "-"; dn[key, v] = "-" }
    rd[key, v] = $10; dr[key, v] = $11; med[key, v] = $12; swi[key, v] = $13; mx[key, v] = $14
    wm[key, v] = $15; ver[key, v] = $18; thr[key, v] = $19
    pg[key] = $4
}
END {
    fmt = "%-17s | %5s %5s | %6s %5s %5s %5s %6s | %6s %5s %5s %5s %6s | %5s %5s %5s %5s\n"
    printf fmt, "", "guest", "MB/s", "roam", "", "", "", "", "QEMU", "", "", "", "", "ratio", "roam/", "QEMU", ""
    printf fmt, "size load bw", "roam", "QEMU", "total", "down", "gap", "stall", "MB", "total", "down", "gap", "stall", "MB", "total", "down", "gap", "bytes"
    for (i = 0; i < n; i++) {
        k = order[i]
        rg = less(swi[k, "roam"], med[k, "roam"]); qg = less(swi[k, "qemu"], med[k, "qemu"])
        printf fmt, k, rate(k, "roam"), rate(k, "qemu"),
            tot[k, "roam"], dn[k, "roam"], rg, less(mx[k, "roam"], med[k, "roam"]), mb(by[k, "roam"]),
            tot[k, "qemu"], dn[k, "qemu"], qg, less(mx[k, "qemu"], med[k, "qemu"]), mb(by[k, "qemu"]),
            r(tot[k, "roam"], tot[k, "qemu"]), r(dn[k, "roam"], dn[k, "qemu"]), r(rg, qg),
            r(by[k, "roam"], by[k, "qemu"])
    }
    print "(times in ms; MB = 10^6 bytes; a ratio is - where the QEMU figure is 0 or less)"
    print ""
    fmt2 = "%-17s | %-9s %3s %3s %7s %7s %7s %7s %7s %-4s | %-9s %3s %3s %7s %7s %7s %7s %7s %-4s\n"
    printf fmt2, "details", "roam", "rnd", "thr", "medI", "switchI", "maxI", "meanI", "vmmMB/s", "dest", "QEMU", "syn", "thr", "medI", "switchI", "maxI", "meanI", "vmmMB/s", "dest"
    for (i = 0; i < n; i++) {
        k = order[i]
        printf fmt2, k, substr(st[k, "roam"], 1, 9), nz(rd[k, "roam"]), nz(thr[k, "roam"]), med[k, "roam"], swi[k, "roam"],
            mx[k, "roam"], wm[k, "roam"], pr(dr[k, "roam"]), ver[k, "roam"],
            substr(st[k, "qemu"], 1, 9), nz(rd[k, "qemu"]), nz(thr[k, "qemu"]), med[k, "qemu"], swi[k, "qemu"],
            mx[k, "qemu"], wm[k, "qemu"], pr(dr[k, "qemu"]), ver[k, "qemu"]
    }
}' "$results"
cat <<EOT

guest MB/s: distinct pages the guest dirties per 100 ms (per round, rounds being <= 100 ms apart) * 4096,
  timed by its median round interval before the migration.
total, down: the VMM's own total-time and downtime. MB: roam's stream bytes, QEMU's ram.transferred.
gap: the interval from the source's last round line to the destination's first (the switchover seen
  from outside), minus the median interval: the guest-visible downtime. stall: the longest other
  interval from the start of the migration to $POST s after it, minus the median (a slowed or
  descheduled guest during pre-copy). See bench/README.md for what they can and cannot see.
bw: cap = 128 MiB/s on both (roam --bandwidth $ROAM_CAP, QEMU's default max-bandwidth);
  unlim = roam's default (none), QEMU max-bandwidth $QEMU_UNCAPPED. Downtime target $DOWNTIME_MS ms on both.
details: rnd = roam's RAM rounds, syn = QEMU's dirty-sync-count; thr = vCPU throttle %
  (auto-converge) at the end of pre-copy; medI, switchI, maxI, meanI = the
  median round interval before the migration, the switchover one, the longest other one and the
  mean one from the start of the migration to $POST s after it (ms); vmmMB/s = the VMM's
  dirty-pages-rate * 4096; last column: the destination guest: PASS (it ran out its rounds, then
  checked every word), ok (rounds went on there, each checking the words it rewrote), FAIL, none.
elapsed ${elapsed} s
EOT

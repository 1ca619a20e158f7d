#!/usr/bin/env bash
# Linux guest benchmark: roam's software engine (roam run --engine emu)
# beside QEMU's TCG, in the same run, with the same kernel and initramfs
# (the guest kit, scripts/guest-kit.sh: Debian 12's cloud kernel and a
# busybox initramfs with roam's guest tools). It prints figures and ratios
# and asserts nothing; bench/README.md says how each figure is measured.
#
# 1. boot: the wall time from starting the VMM to the initramfs banner
#    ("roam guest kit: Linux ... is up") on the serial console, RUNS times
#    each, alternating, medians; roam against QEMU TCG on -M microvm (and on
#    -M pc, with its firmware, for reference). The issue's target: roam
#    within 3x of QEMU TCG.
# 2. migrate: live migration of the running guest, SIZES x LOADS. The load
#    is the kit's roam-dirty typed on the console: idle = "roam-dirty -m 1
#    -r 0.1" (a loop that watches the clock and dirties almost nothing),
#    20 and 100 = "roam-dirty -m 64 -r 20|100" (MB/s). One guest per case
#    is booted and migrated twice in a chain, source -> A -> B: first at
#    128 MiB/s on both VMMs (cap), then unlimited (unlim). Each migration:
#    the VMM's total time and downtime, bytes sent, the guest-visible
#    downtime (the console's silence across the switchover while the
#    guest's shell echoes a key typed every PING_MS ms: both VMMs stop the
#    guest's clock while paused, so roam-dirty's maxgap_ms cannot see it;
#    see bench/README.md), and whether the dirtier still checks out on the
#    destination (QEMU 7.2's TCG is known to lose pages).
#
# Environment:
#   QUICK=1             RUNS=1, SIZES=512M, LOADS="idle 20"
#   PARTS="boot migrate"
#   RUNS=5              boots per VMM (the median is shown)
#   SIZES="512M 1G"     LOADS="idle 20 100"
#   BOOT_MACHINES="microvm pc"   QEMU machines for the boot part
#   BOOT_EXTRA=cryptomgr.notests  also boot roam and microvm with this added
#                       to the kernel command line (empty: don't)
#   CMDLINE="console=ttyS0 quiet"  the kernel command line
#   TRANSPORT=unix      or tcp (loopback), for both VMMs
#   LINK=               with TRANSPORT=tcp, e.g. 1gbit: the migrations go to
#                       127.0.0.2 through a link of that rate shaped with tc
#                       (root only; LINK_QUEUE=100 packets of queue), so that
#                       data queued on the way shows in the downtime
#   DOWNTIME_MS=50      the downtime target given to both VMMs
#   DIRTY_MIB=64        roam-dirty's buffer for the 20 and 100 MB/s loads
#   SETTLE=4            dirtier reports seen before migrating
#   POST=3              dirtier reports awaited on each destination
#   QEMU_TSC_KHZ=       the host's TSC rate for QEMU microvm's guest
#                       (tsc_early_khz=, see bench/README.md); default: from
#                       /proc/cpuinfo
#   PING_MS=10          the console heartbeat's period (see ping_start)
#   MIGRATE_TIMEOUT=120 seconds before a migration counts as failed (QEMU's
#                       does not converge when the guest outruns the link:
#                       it has no auto-converge by default)
#   KEEP=1              keep the temp dir (consoles with arrival times)
#   ROAM=build/roam  QEMU=qemu-system-x86_64
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
ROAM=${ROAM:-build/roam}
QEMU=${QEMU:-qemu-system-x86_64}
KERNEL=build/guest/vmlinuz
INITRD=build/guest/initrd.gz
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    RUNS=${RUNS:-1}
    SIZES=${SIZES:-512M}
    LOADS=${LOADS:-"idle 20"}
else
    RUNS=${RUNS:-5}
    SIZES=${SIZES:-"512M 1G"}
    LOADS=${LOADS:-"idle 20 100"}
fi
PARTS=${PARTS:-"boot migrate"}
BOOT_MACHINES=${BOOT_MACHINES:-"microvm pc"}
TRANSPORT=${TRANSPORT:-unix}
LINK=${LINK:-}
MIG_ADDR=127.0.0.1
DOWNTIME_MS=${DOWNTIME_MS:-50}
DIRTY_MIB=${DIRTY_MIB:-64}
SETTLE=${SETTLE:-4}
POST=${POST:-3}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
PING_MS=${PING_MS:-10}
MIGRATE_TIMEOUT=${MIGRATE_TIMEOUT:-120}   # seconds a migration may take
CMDLINE=${CMDLINE:-"console=ttyS0 quiet"}
# Booted too, on roam and microvm: the kernel's crypto self-tests (about
# half of roam's boot, see bench/README.md) left out. Empty: not measured.
BOOT_EXTRA=${BOOT_EXTRA-cryptomgr.notests}
EXTRA=
# roam-v1 is x86-64-v1 with the hypervisor bit, vendor GenuineIntel
# (docs/cpu-model.md). qemu64 minus these gives the guest the same
# /proc/cpuinfo flags but the ones Linux derives itself (xtopology on QEMU;
# rep_good, tsc_known_freq on roam).
QEMU_CPU=${QEMU_CPU:-qemu64,-sse3,-cx16,-lahf-lm,-svm,-mce,-mca,-pse36,vendor=GenuineIntel}
ROAM_CAP=134.217728          # MB/s (10^6 B/s): exactly 128 MiB/s
QEMU_CAP=134217728           # bytes/s: QEMU's default max-bandwidth
QEMU_UNCAPPED=100000000000   # bytes/s: 100 GB/s

BENCH=bench/linux.sh
. bench/lib.bash

[ -n "${EPOCHREALTIME:-}" ] || skip "bash 5 is needed (\$EPOCHREALTIME)"
[ -x "$ROAM" ] || skip "build roam first (make all)"
need_emu
command -v "$QEMU" >/dev/null 2>&1 || skip "$QEMU is not installed (QEMU TCG is the peer this compares with)"
if ! kit=$(scripts/guest-kit.sh 2>&1) || [ ! -f "$KERNEL" ] || [ ! -f "$INITRD" ]; then
    skip "the guest kit is not available (scripts/guest-kit.sh: ${kit:-no kernel or initramfs})"
fi
[ "$RUNS" -ge 1 ] 2>/dev/null || skip "RUNS must be a number >= 1"
case $TRANSPORT in unix | tcp) ;; *) skip "TRANSPORT must be unix or tcp" ;; esac
[ -z "$LINK" ] || [ "$TRANSPORT" = tcp ] || skip "LINK=$LINK needs TRANSPORT=tcp"
for p in $PARTS; do case $p in boot | migrate) ;; *) skip "unknown part '$p' (boot, migrate)" ;; esac; done
for l in $LOADS; do case $l in idle | [0-9]*) ;; *) skip "unknown load '$l' (idle or MB/s)" ;; esac; done

# QEMU 7.2's microvm has no port 0x61 (the PIT's gate, so Linux cannot
# calibrate its TSC against the PIT), no HPET and no ACPI PM timer: under
# TCG a stock kernel then hangs after "tsc: Marking TSC unstable". Under KVM
# kvmclock hides this. tsc_early_khz= gives the kernel the TSC rate, which
# under TCG is the host's (roam-v1 gives it in CPUID leaf 0x15).
if [ -z "${QEMU_TSC_KHZ:-}" ]; then
    QEMU_TSC_KHZ=$(cat /sys/devices/system/cpu/cpu0/tsc_freq_khz 2>/dev/null ||
        awk -F': *' '/^cpu MHz/ { printf "%d\n", $2 * 1000; exit }' /proc/cpuinfo)
fi
[ "${QEMU_TSC_KHZ:-0}" -gt 0 ] 2>/dev/null || skip "cannot tell the host's TSC rate: set QEMU_TSC_KHZ"

bench_tmp linux
if [ -n "$LINK" ]; then
    link_shape "$LINK"
    MIG_ADDR=127.0.0.2
fi

# ---- helpers (the shared ones are in bench/lib.bash) ----------------------------

# wait_line FILE PATTERN SECONDS [PID]: until FILE has a line matching the
# extended regex PATTERN (while PID runs, when given).
wait_line() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && return 1
        sleep 0.05
    done
    return 1
}

# stop PID [SECONDS]: waits that long for a process we started to end,
# then stops it.
stop() {
    local i
    for ((i = 0; i < ${2:-0} * 20; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -TERM "$1" 2>/dev/null
    for ((i = 0; i < 20; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# The console stamper (python3, whose standard library is all it needs):
# copies a VM's console output into NAME.ts, each line prefixed with the
# time it arrived (CRs removed), and writes the arrival time of every chunk
# read into NAME.chunks, the console's heartbeat (see ping_start).
STAMPER='
import os, sys, time
ts, ch, buf = open(sys.argv[1], "w"), open(sys.argv[2], "w"), b""
while True:
    d = os.read(0, 65536)
    if not d:
        break
    t = "%.6f" % time.time()
    ch.write(t + "\n")
    ch.flush()
    *lines, buf = (buf + d).split(b"\n")
    for l in lines:
        ts.write(t + " " + l.replace(b"\r", b"").decode("utf-8", "replace") + "\n")
    ts.flush()
'
command -v python3 >/dev/null 2>&1 || skip "python3 is needed (the console stamper)"

# vm NAME SIZE VMM [INCOMING-URI]: starts a VM whose console output is
# $tmp/NAME.ts and NAME.chunks (the stamper) and whose input is NAME's
# fifo, held open on ${VFD[NAME]}. VMM is roam, or microvm or pc (QEMU
# TCG). Sets VPID[NAME], and VPORT[NAME] (QMP) for QEMU; roam's control
# socket is $tmp/NAME.ctl.
declare -A VPID VFD VPORT PING
vm() {
    local name=$1 size=$2 vmm=$3 incoming=${4:-} f=$tmp/$1 fd p
    local -a cmd
    mkfifo "$f.in" "$f.fifo"
    python3 -c "$STAMPER" "$f.ts" "$f.chunks" <"$f.fifo" &
    pids+=("$!")
    case $vmm in
    roam)
        cmd=("$ROAM" run --engine emu --memory "$size" --serial stdio --control "unix:$f.ctl")
        if [ -n "$incoming" ]; then
            cmd+=(--incoming "$incoming")
        else
            cmd+=(--kernel "$KERNEL" --initrd "$INITRD" --cmdline "$CMDLINE${EXTRA:+ $EXTRA}")
        fi
        ;;
    microvm | pc)
        p=$(freeport)
        VPORT[$name]=$p
        # shellcheck disable=SC2054 # the commas are QEMU's
        cmd=("$QEMU" -M "$vmm" -accel tcg -cpu "$QEMU_CPU" -m "$size" -nodefaults -no-user-config
            -nographic -serial stdio -kernel "$KERNEL" -initrd "$INITRD"
            -qmp "tcp:127.0.0.1:$p,server=on,wait=off")
        if [ "$vmm" = microvm ]; then
            cmd+=(-append "$CMDLINE${EXTRA:+ $EXTRA} tsc_early_khz=$QEMU_TSC_KHZ")
        else
            cmd+=(-append "$CMDLINE${EXTRA:+ $EXTRA}")
        fi
        [ -n "$incoming" ] && cmd+=(-incoming "$incoming")
        ;;
    esac
    exec {fd}<>"$f.in"
    VFD[$name]=$fd
    "${cmd[@]}" <&"$fd" >"$f.fifo" 2>"$f.err" &
    VPID[$name]=$!
    pids+=("$!")
}
# vm_stop NAME [SECONDS]: stops NAME (after waiting that long for it to end).
vm_stop() {
    local fd=${VFD[$1]:-}
    ping_stop "$1"
    stop "${VPID[$1]}" "${2:-0}"
    [ -n "$fd" ] && exec {fd}>&-
    VFD[$1]=
}
# type_line NAME LINE: types LINE on NAME's console.
type_line() { printf '%s\n' "$2" >&"${VFD[$1]}"; }

# ping_start NAME: types "a" and a DEL on NAME's console every PING_MS ms
# until ping_stop. The guest's shell (busybox line editing) echoes them and
# rubs them out, so the console's output never pauses for longer than that
# while the guest runs: the gaps in NAME.chunks are the times the guest did
# not run, whatever its own clock says.
ping_start() {
    local fd=${VFD[$1]} nfd s
    s=$(awk -v m="$PING_MS" 'BEGIN { printf "%.3f", m / 1000 }')
    [ -n "${PING[$1]:-}" ] && return
    mkfifo "$tmp/$1.never"
    exec {nfd}<>"$tmp/$1.never" # read -t on it: a sleep with no fork
    (while printf 'a\177' >&"$fd"; do read -r -t "$s" -u "$nfd" _; done) 2>/dev/null &
    PING[$1]=$!
    pids+=("$!")
    exec {nfd}>&-
}
ping_stop() {
    [ -n "${PING[$1]:-}" ] || return 0
    kill "${PING[$1]}" 2>/dev/null
    wait "${PING[$1]}" 2>/dev/null
    PING[$1]=
}

BANNER='roam guest kit: Linux .* is up'

# ---- 1. boot to init ------------------------------------------------------------

# boot_once KEY N: one boot of KEY (a VMM, with "+" at the end: with
# BOOT_EXTRA on the kernel command line); sets BT to the seconds from its
# start to the banner, or to "FAIL why".
boot_once() {
    local vmm=${1%+} name=boot-$1-$2 t0 tb
    EXTRA=
    [ "$vmm" != "$1" ] && EXTRA=$BOOT_EXTRA
    t0=$EPOCHREALTIME
    vm "$name" 512M "$vmm"
    EXTRA=
    if wait_line "$tmp/$name.ts" "$BANNER" "$BOOT_TIMEOUT" "${VPID[$name]}"; then
        tb=$(grep -m1 -E "$BANNER" "$tmp/$name.ts" | cut -d' ' -f1)
        BT=$(awk -v a="$t0" -v b="$tb" 'BEGIN { printf "%.2f", b - a }')
    else
        BT="FAIL no banner within $BOOT_TIMEOUT s: $(tail -n 1 "$tmp/$name.ts" | cut -d' ' -f2- | cut -c1-70)"
    fi
    vm_stop "$name"
}

boot_part() {
    local n key m ratio note label nums mn mx cnt
    local -A times fails med
    local keys
    read -r -a keys <<<"roam $BOOT_MACHINES"
    if [ -n "$BOOT_EXTRA" ]; then
        keys+=(roam+)
        for m in $BOOT_MACHINES; do [ "$m" = microvm ] && keys+=(microvm+); done
    fi
    say "== boot to init: $KERNEL + $INITRD, 512 MiB, \"$CMDLINE\", $RUNS run(s) each, alternating"
    say "   roam:    $ROAM run --engine emu --memory 512M --kernel ... --initrd ... --cmdline \"$CMDLINE\" --serial stdio"
    for m in $BOOT_MACHINES; do
        if [ "$m" = microvm ]; then
            say "   microvm: $QEMU -M microvm -accel tcg -cpu $QEMU_CPU -m 512M -nodefaults -no-user-config"
            say "            -nographic -serial stdio -kernel ... -initrd ... -append \"$CMDLINE tsc_early_khz=$QEMU_TSC_KHZ\""
        else
            say "   $m:      the same with -M $m (SeaBIOS; no tsc_early_khz=)"
        fi
    done
    [ -n "$BOOT_EXTRA" ] && say "   +:       the same with \"$BOOT_EXTRA\" added to the kernel command line"
    for ((n = 1; n <= RUNS; n++)); do
        for key in "${keys[@]}"; do
            boot_once "$key" "$n"
            if [[ $BT == FAIL* ]]; then
                fails[$key]+="  $key run $n: ${BT#FAIL }"$'\n'
            else
                times[$key]+="$BT "
            fi
        done
    done
    say ""
    printf "%-18s %8s %8s %8s  %-5s | %s\n" VMM median min max runs "roam/this"
    for key in "${keys[@]}"; do
        med[$key]=$(tr ' ' '\n' <<<"${times[$key]:-}" | sed '/^$/d' | median 3)
    done
    for key in "${keys[@]}"; do
        nums=$(tr ' ' '\n' <<<"${times[$key]:-}" | sed '/^$/d' | sort -g)
        mn=$(head -n 1 <<<"$nums")
        mx=$(tail -n 1 <<<"$nums")
        cnt=$(grep -c . <<<"$nums")
        # roam's median over this QEMU's, with the same command line
        m=roam
        [ "${key%+}" != "$key" ] && m=roam+
        ratio=$(awk -v a="${med[$m]}" -v b="${med[$key]}" 'BEGIN {
            if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
        case ${key%+} in
        roam) label="roam emu"; ratio="" ;;
        *) label="QEMU TCG ${key%+}" ;;
        esac
        [ "${key%+}" != "$key" ] && label="$label +"
        note=""
        if [ "$key" = microvm ] && [ "$ratio" != - ]; then
            note=$(awk -v r="$ratio" 'BEGIN { printf "  target roam <= 3x QEMU TCG: %s", (r <= 3 ? "met" : "not met") }')
        fi
        printf "%-18s %8s %8s %8s  %-5s | %s%s\n" "$label" "${med[$key]}" "${mn:--}" "${mx:--}" "$cnt/$RUNS" \
            "$ratio" "$note"
    done
    say "(seconds from starting the VMM to the banner on its console)"
    say "each run, s:"
    for key in "${keys[@]}"; do printf "  %-8s %s\n" "$key" "${times[$key]:-none}"; done
    for key in "${keys[@]}"; do
        [ -n "${fails[$key]:-}" ] && printf "failed:\n%s" "${fails[$key]}"
    done
    say ""
}

# ---- 2. live migration -------------------------------------------------------

# analyze SRC DEST T0 T1: one migration from VM SRC to VM DEST, started at
# host time T0 and seen complete at T1. Prints
#   gap stall base ggap rate check
# From the consoles' heartbeats (the arrival times of console output; the
# shell echoes a key every PING_MS ms, see ping_start), in ms: gap, from the
# source's last output to the destination's first (the switchover as the
# outside sees it: the guest-visible downtime, PING_MS at best); stall, the
# longest other silence from T0 to 2 s after the switchover (the guest
# slowed or stopped during pre-copy or just after it resumed); base, the
# longest in the second before T0 (the noise floor). From
# roam-dirty's reports: ggap, the largest maxgap_ms in the destination's
# first two (the switchover as the guest's CLOCK_MONOTONIC counted it: not
# at all, where the VMM stops the guest's clock while the VM is paused, as
# both do); rate, the median MB/s it reported before T0; check: ok, none
# (no report on the destination), errors=N (new errors on the destination:
# words lost or corrupted), MISMATCH (its XOR scan) or OOPS.
analyze() {
    local s=$tmp/$1 d=$tmp/$2
    {
        awk '{ print $1, "S" }' "$s.chunks"
        awk '{ print $1, "D" }' "$d.chunks"
    } 2>/dev/null | sort -n | awk -v t0="$3" '
        function ms(x) { return sprintf("%.1f", x * 1000) }
        $2 == "S" && !nd { s = $1 }
        $1 <= t0 - 1 { prev = $1; ls = s; next }
        { d = prev ? $1 - prev : 0 }
        $1 <= t0 { if (d > bs) bs = d; prev = $1; ls = s; next }
        $2 == "S" && !nd { if (d > st) st = d; ls = $1; prev = $1; next }
        $2 == "D" && !nd { nd = $1; gap = ls ? $1 - ls : 0; prev = $1; next }
        $2 == "D" && $1 <= nd + 2 { if (d > st) st = d; prev = $1 }
        END { printf "%s %s %s ", (gap ? ms(gap) : "-"), (st ? ms(st) : "-"), (bs ? ms(bs) : "-") }'
    awk -v src="$s.ts" -v t0="$3" '
    function fld(s, k) {
        if (match(s, " " k "=[^ ]*")) return substr(s, RSTART + length(k) + 2, RLENGTH - length(k) - 2)
        return ""
    }
    function med(a, n,   i, j, x) {
        for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
        return n == 0 ? "-" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
    }
    /roam-dirty: t=[0-9]+ seq=.* maxgap_ms=/ {
        ts = $1 + 0; e = fld($0, "errors") + 0; g = fld($0, "maxgap_ms") + 0
        r = fld($0, "rate"); sub("MB/s", "", r)
        if (FILENAME == src) {
            if (ts <= t0) rt[++np] = r
            le = e
        } else {
            if (++nd <= 2 && g > ggap) ggap = g
            if (e > de) de = e
        }
        next
    }
    FILENAME != src && /MISMATCH/ { mism = 1 }
    FILENAME != src && /Oops|BUG:|Kernel panic|general protection|segfault/ { oops = 1 }
    END {
        check = "ok"
        if (!nd) check = "none"
        if (de > le) check = "errors=" (de - le)
        if (mism) check = "MISMATCH"
        if (oops) check = "OOPS"
        printf "%s %s %s\n", (nd ? sprintf("%.1f", ggap) : "-"), (np ? sprintf("%.1f", med(rt, np)) : "-"), check
    }' "$s.ts" "$d.ts"
}

# migrate_one VMM FROM TO SETTING: migrates VM FROM to a new VM TO, which it
# starts; appends the figures to $results (via $RES).
migrate_one() {
    local vmm=$1 from=$2 to=$3 setting=$4 uri t0 json rc status total down bytes extra
    if [ "$TRANSPORT" = tcp ]; then uri=tcp:$MIG_ADDR:$(freeport); else uri=unix:$tmp/$to.mig; fi
    vm "$to" "$SIZE" "$vmm" "$uri"
    ping_start "$from"
    ping_start "$to"
    sleep 1
    # The destination must listen before the source connects.
    local i
    for ((i = 0; i < 200; i++)); do
        case $uri in
        unix:*) [ -S "${uri#unix:}" ] && break ;;
        tcp:*) ss -ltn 2>/dev/null | grep -q ":${uri##*:} " && break ;;
        esac
        sleep 0.05
    done
    if [ "$vmm" = roam ]; then
        local bw=()
        [ "$setting" = cap ] && bw=(--bandwidth "$ROAM_CAP")
        t0=$EPOCHREALTIME
        timeout "$MIGRATE_TIMEOUT" "$ROAM" migrate --control "unix:$tmp/$from.ctl" --to "$uri" \
            --downtime-ms "$DOWNTIME_MS" --json "${bw[@]}" >"$tmp/$to.json" 2>"$tmp/$to.merr"
        rc=$?
        json=$(cat "$tmp/$to.json")
        status=completed
        [ "$rc" = 0 ] || status="failed:$(tr -s ' \n' '__' <"$tmp/$to.merr" | cut -c1-50)"
        total=$(jnum total-time-ms "$json")
        down=$(jnum downtime-ms "$json")
        bytes=$(jnum transferred "$json")
        extra="rounds=$(jnum rounds "$json")"
    else
        local cap=$QEMU_CAP deadline
        [ "$setting" = unlim ] && cap=$QEMU_UNCAPPED
        if ! qmp_open "${VPORT[$from]}"; then
            RES="$vmm failed:no-QMP - - - - - - - - - -"
            qmp_close
            vm_stop "$from"
            return 1
        fi
        qmp "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"downtime-limit\": $DOWNTIME_MS, \"max-bandwidth\": $cap}}"
        t0=$EPOCHREALTIME
        qmp "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"$uri\"}}"
        status=failed:not-done-in-${MIGRATE_TIMEOUT}s
        deadline=$((SECONDS + MIGRATE_TIMEOUT))
        while [ $SECONDS -lt $deadline ]; do
            qmp '{"execute": "query-migrate"}' || break
            case $QR in
            *'"completed"'*) status=completed; break ;;
            *'"failed"'* | *'"cancelled"'*) status=failed:qemu; break ;;
            esac
            sleep 0.01
        done
        qmp_close
        echo "$QR" >"$tmp/$to.json"
        total=$(jnum total-time "$QR")
        down=$(jnum downtime "$QR")
        bytes=$(jnum transferred "$QR")
        extra="syncs=$(jnum dirty-sync-count "$QR")"
    fi
    # POST reports on the destination (a little longer for slow guests).
    local want=$((POST + 1))
    for ((i = 0; i < (POST + 10) * 20; i++)); do
        [ "$(grep -c 'roam-dirty: t=' "$tmp/$to.ts" 2>/dev/null)" -ge "$want" ] && break
        kill -0 "${VPID[$to]}" 2>/dev/null || break
        sleep 0.05
    done
    # roam's source ends by itself after a completed migration; QEMU's
    # stays, paused.
    if [ "$vmm" = roam ]; then vm_stop "$from" 5; else vm_stop "$from"; fi
    if [ "$status" != completed ]; then
        extra="$extra,sent=$(awk -v b="$bytes" 'BEGIN { printf "%.0fMB", b / 1e6 }')"
        total=-
        down=-
        bytes=-
    fi
    RES="$vmm $status $total $down $bytes $(analyze "$from" "$to" "$t0") $extra"
}

# dirtier LOAD: roam-dirty's command line for a load.
dirtier() {
    case $1 in
    idle) echo "roam-dirty -m 1 -r 0.1 &" ;;
    *) echo "roam-dirty -m $DIRTY_MIB -r $1 &" ;;
    esac
}

# chain VMM SIZE LOAD: boots a guest, starts the dirtier, migrates it
# (cap), then the destination again (unlim); one line per migration in
# $results.
chain() {
    local vmm=$1 load=$3 id=$1-$2-$3 setting from to
    SIZE=$2
    vm "$id-0" "$SIZE" "$vmm"
    if ! wait_line "$tmp/$id-0.ts" "$BANNER" "$BOOT_TIMEOUT" "${VPID[$id-0]}"; then
        for setting in cap unlim; do
            echo "$SIZE $load $setting $vmm failed:no-boot - - - - - - - - - -" >>"$results"
        done
        vm_stop "$id-0"
        return
    fi
    type_line "$id-0" "$(dirtier "$load")"
    if ! wait_line "$tmp/$id-0.ts" "roam-dirty: t=$SETTLE " 60 "${VPID[$id-0]}"; then
        for setting in cap unlim; do
            echo "$SIZE $load $setting $vmm failed:no-dirtier - - - - - - - - - -" >>"$results"
        done
        vm_stop "$id-0"
        return
    fi
    from=$id-0
    local n=1
    for setting in cap unlim; do
        to=$id-$n
        if [ $n -gt 1 ]; then
            # SETTLE reports on this VM before migrating it on.
            local i
            for ((i = 0; i < (SETTLE + 10) * 20; i++)); do
                [ "$(grep -c 'roam-dirty: t=' "$tmp/$from.ts")" -ge "$((SETTLE + 1))" ] && break
                sleep 0.05
            done
        fi
        migrate_one "$vmm" "$from" "$to" "$setting"
        say "  $SIZE $load $setting $RES"
        echo "$SIZE $load $setting $RES" >>"$results"
        from=$to
        n=$((n + 1))
        case $RES in "$vmm completed"*) ;; *) break ;; esac
    done
    if [ $n -le 2 ]; then
        echo "$SIZE $load unlim $vmm failed:not-run - - - - - - - - - -" >>"$results"
    fi
    vm_stop "$from"
}

migrate_part() {
    local size load vmm
    say "== live migration on emu / TCG (-M microvm), $TRANSPORT transport${LINK:+ over a $LINK link to $MIG_ADDR (queue ${LINK_QUEUE:-100} packets)}, downtime target $DOWNTIME_MS ms on both"
    say "   each case: boot, \"$(dirtier 20 | sed 's/20/RATE/')\" (idle: \"$(dirtier idle)\"), $SETTLE reports,"
    say "   migrate at 128 MiB/s (cap), $POST reports on the destination, migrate that one unlimited (unlim)"
    for size in $SIZES; do
        for load in $LOADS; do
            for vmm in roam microvm; do
                chain "$vmm" "$size" "$load"
            done
        done
    done
    say ""
    # results: size load setting | vmm status total down bytes | gap stall base ggap rate check | extra
    awk '
    function r(a, b) { return (a != "-" && b != "-" && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
    function mb(x) { return (x == "" || x == "-") ? "-" : sprintf("%.1f", x / 1e6) }
    {
        key = $1 " " $2 " " $3
        if (!(key in seen)) { seen[key] = 1; order[n++] = key }
        v = ($4 == "roam") ? "r" : "q"
        st[key, v] = $5; tot[key, v] = $6; dn[key, v] = $7; by[key, v] = $8
        gap[key, v] = $9; stall[key, v] = $10; base[key, v] = $11; gg[key, v] = $12
        rate[key, v] = $13; ck[key, v] = $14; ex[key, v] = $15
        if ($5 != "completed") ck[key, v] = $5
    }
    END {
        f = "%-15s|%6s %6s |%6s %5s %6s %6s %5s %6s |%6s %5s %6s %6s %5s %6s |%6s %5s %5s\n"
        printf f, "", "guest", "MB/s", "roam", "", "", "", "", "", "QEMU", "", "", "", "", "",
            "roam/", "QEMU", ""
        printf f, "size load bw", "roam", "QEMU", "total", "down", "gap", "stall", "ggap", "MB",
            "total", "down", "gap", "stall", "ggap", "MB", "total", "gap", "bytes"
        for (i = 0; i < n; i++) {
            k = order[i]
            printf f, k, rate[k, "r"], rate[k, "q"],
                tot[k, "r"], dn[k, "r"], gap[k, "r"], stall[k, "r"], gg[k, "r"], mb(by[k, "r"]),
                tot[k, "q"], dn[k, "q"], gap[k, "q"], stall[k, "q"], gg[k, "q"], mb(by[k, "q"]),
                r(tot[k, "r"], tot[k, "q"]), r(gap[k, "r"], gap[k, "q"]), r(by[k, "r"], by[k, "q"])
        }
        print "(times in ms; MB = 10^6 bytes)"
        print ""
        f = "%-15s| %-12s %-10s %6s | %-12s %-10s %6s\n"
        printf f, "destination", "roam", "", "base", "QEMU", "", "base"
        for (i = 0; i < n; i++) {
            k = order[i]
            printf f, k, ck[k, "r"], ex[k, "r"], base[k, "r"], ck[k, "q"], ex[k, "q"], base[k, "q"]
        }
    }' "$results"
    cat <<EOT

guest MB/s: the rate roam-dirty reported before the migration (median).
total, down: the VMM's own total time and downtime; MB: bytes sent (roam's stream, QEMU's ram.transferred).
gap: guest-visible downtime: the console's longest silence across the switchover, from the source's
  last byte to the destination's first, while the guest's shell echoes a key every $PING_MS ms
  ($PING_MS = no pause seen). stall: the longest other silence from the start of the migration to
  2 s after the switchover (base, in the destination table: the same in the second before it).
ggap: the largest maxgap_ms roam-dirty reported in its first two seconds on the destination: the
  switchover by the guest's own clock, which both VMMs stop while the VM is paused (so it misses it).
roam/QEMU: the ratios of total, gap and MB.
bw: cap = 128 MiB/s on both (roam migrate --bandwidth $ROAM_CAP; QEMU max-bandwidth $QEMU_CAP);
  unlim = roam's default (none), QEMU max-bandwidth $QEMU_UNCAPPED.
destination: ok = the dirtier went on with no new errors; errors=N = it found N words or scans that did
  not hold what it wrote (pages lost by the migration); MISMATCH (its XOR scan); OOPS (a kernel oops);
  none = no report. QEMU 7.2 under TCG is known to lose pages (bench/README.md, DESIGN.md): its
  figures count only where the destination says ok. rounds (roam), syncs (QEMU): RAM passes.
EOT
    say ""
}

# ---- run ----------------------------------------------------------------------------

say "roam emu vs QEMU TCG, Linux guest (bench/linux.sh)"
kver=$(find build/guest/deb -name 'linux-image-*_*.deb' 2>/dev/null | head -n 1 | sed 's|.*/linux-image-\([^_]*\)_.*|\1|')
say "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(cpu_model)), load average at start: $(loadavg)"
say "$("$QEMU" --version | head -n 1), roam $(git describe --always --dirty 2>/dev/null || echo '?'), guest kernel ${kver:-?}"
say ""
start=$SECONDS
results=$tmp/results
: >"$results"
for p in $PARTS; do "${p}_part"; done
say "load average at end: $(loadavg); elapsed $((SECONDS - start)) s"

# Sourced by the Linux guest tests (tests/linux/*.sh, tests/windows/linux.sh;
# not a test itself): runs guests of the guest kit (scripts/guest-kit.sh) in
# roam processes, each under a NAME, and talks to them on their consoles.
#
# The sourcing script sets, before it calls the skip helpers:
#   TESTS         its test names, in order, space separated
#   TEST_PREFIX   what stands before each in a PASS/FAIL/SKIP line
#                 ("linux/", "linux-migrate/", ...)
# It gets:
#   $tmp, pids    a scratch folder, removed at exit, and the processes that are
#                 killed at exit (when the script already has them, as from
#                 tests/windows/wine-env.bash sourced first, those are used)
#   ROAM          the roam binary (build/roam unless set)
#   GUEST_KIT     roam run's arguments that boot the kit's kernel and initramfs
#   GUEST_BANNER  the pattern of the initramfs's "is up" banner
# Skipping:
#   guest_skip_all REASON         SKIP every test in $TESTS, exit 0
#   guest_skip_after TEST REASON  SKIP the tests after TEST in $TESTS, exit 0
#   guest_need_kit                the kit built (cached), or every test skipped
#   guest_kernel_release          the kit kernel's release (as uname -r says)
# Guests (NAME's console is $tmp/NAME.out, its stderr $tmp/NAME.err):
#   guest_start NAME CMD...       runs CMD in the background, its stdin the fifo
#                                 $tmp/NAME.in held open on a descriptor (so
#                                 the guest never sees EOF)
#   guest_wait_socket PATH        waits up to 5 s for a unix socket (--control)
#   guest_running NAME            whether NAME's process still runs
#   guest_say NAME LINE           types LINE and Enter on NAME's console
#   guest_type NAME TEXT          types TEXT as it is (no Enter)
#   guest_console NAME            all NAME's console has shown, CR LF as LF
#   guest_mark NAME               what NAME shows from now on is "new"
#   guest_since_mark NAME         NAME's console after the mark (all, unmarked)
#   guest_wait NAME PATTERN SECONDS [COUNT]
#                                 until COUNT (default 1) new lines of NAME's
#                                 console match PATTERN (grep), while NAME
#                                 runs; false when NAME exits or time runs out
#   guest_answer NAME KEY         the rest of the first new line starting
#                                 with KEY (the spaces after KEY dropped)
#   guest_stop NAME SECONDS       waits up to SECONDS for NAME to exit, then
#                                 kills it; returns its exit status
#   guest_poweroff NAME [SECONDS] types "poweroff -f", guest_stop (30 s): true
#                                 when NAME exited with status 0 and its
#                                 console shows the kernel's "reboot: Power
#                                 down"; the exit status in $st
# The kit's memory dirtier, roam-dirty:
#   guest_dirty_break             reads consoles on stdin and prints the first
#                                 break in their roam-dirty reports taken as
#                                 one run (errors, or t or seq not growing);
#                                 nothing when there is none
ROAM=${ROAM:-build/roam}
# shellcheck disable=SC2034 # for the sourcing scripts
GUEST_KIT=(--kernel build/guest/vmlinuz --initrd build/guest/initrd.gz --cmdline console=ttyS0)
# shellcheck disable=SC2034
GUEST_BANNER="roam guest kit: Linux .* is up"
declare -A GUEST_PID GUEST_FD GUEST_MARK

if [ -z "${tmp:-}" ]; then
    tmp=$(mktemp -d)
    pids=()
    trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
fi

guest_skip_all() {
    local t
    for t in $TESTS; do echo "SKIP: $TEST_PREFIX$t: $1"; done
    exit 0
}
guest_skip_after() {
    local past=no t
    for t in $TESTS; do
        [ $past = yes ] && echo "SKIP: $TEST_PREFIX$t: $2"
        [ "$t" = "$1" ] && past=yes
    done
    exit 0
}
guest_need_kit() {
    local kit
    kit=$(scripts/guest-kit.sh 2>&1) || guest_skip_all "the guest kit is not available: $kit"
}
guest_kernel_release() {
    ls build/guest/deb/linux-image-*_*.deb | head -n 1 | sed 's|.*/linux-image-\([^_]*\)_.*|\1|'
}

guest_start() {
    local name=$1 fd
    shift
    mkfifo "$tmp/$name.in"
    "$@" <"$tmp/$name.in" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    GUEST_PID[$name]=$!
    pids+=($!)
    exec {fd}>"$tmp/$name.in"
    GUEST_FD[$name]=$fd
    GUEST_MARK[$name]=0
}
guest_wait_socket() {
    local i
    for ((i = 0; i < 100; i++)); do [ -S "$1" ] && return 0; sleep 0.05; done
    return 1
}
guest_running() { kill -0 "${GUEST_PID[$1]}" 2>/dev/null; }
# In a subshell: a write to the fifo of a process that has exited raises
# SIGPIPE, which ends the subshell, not the test (whose next wait says why).
guest_say() { (printf '%s\n' "$2" >&"${GUEST_FD[$1]}") 2>/dev/null; }
guest_type() { (printf '%s' "$2" >&"${GUEST_FD[$1]}") 2>/dev/null; }

# (Quiet while the console file is not there yet: roam's redirections are
# made after guest_start returns.)
guest_console() { tr -d '\r' <"$tmp/$1.out"; } 2>/dev/null
guest_mark() { GUEST_MARK[$1]=$(wc -l <"$tmp/$1.out"); } 2>/dev/null
guest_since_mark() { tail -n "+$((GUEST_MARK[$1] + 1))" "$tmp/$1.out" | tr -d '\r'; } 2>/dev/null
guest_wait() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ "$(guest_since_mark "$1" | grep -c -- "$2")" -ge "${4:-1}" ] && return 0
        guest_running "$1" || return 1
        sleep 0.1
    done
    return 1
}
guest_answer() { guest_since_mark "$1" | grep -m1 "^$2" | sed "s/^$2 *//"; }

guest_stop() {
    local i p=${GUEST_PID[$1]} st keep=()
    for ((i = 0; i < $2 * 10; i++)); do guest_running "$1" || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    st=$?
    for i in "${pids[@]}"; do [ "$i" = "$p" ] || keep+=("$i"); done
    pids=("${keep[@]}")
    return $st
}
guest_poweroff() {
    guest_say "$1" "poweroff -f"
    guest_stop "$1" "${2:-30}"
    st=$?
    [ "$st" = 0 ] && guest_console "$1" | grep -q "reboot: Power down"
}

guest_dirty_break() {
    grep "^roam-dirty: t=" | awk '
        { t = $2; sub("t=", "", t); q = $3; sub("seq=", "", q); e = $5; sub("errors=", "", e) }
        e != 0 { print "errors=" e " at t=" t; exit }
        NR > 1 && (t + 0 <= pt + 0 || q + 0 <= pq + 0) { print "t=" pt " seq=" pq " then t=" t " seq=" q; exit }
        { pt = t; pq = q }'
}

#!/usr/bin/env bash
# Runs every test program and test script and counts their PASS/FAIL/SKIP
# lines. Runs the unit, device and KVM tests twice: the normal build and
# the ASan+UBSan build (prefixed "asan:"); the shell tests (CLI, guests)
# use the normal roam binary and, where they take one, the sanitized one.
# Ends with "N passed, N failed, N skipped"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_one LABEL PREFIX CMD...: runs a test program and counts its lines.
run_one() {
    local label=$1 prefix=$2 rc
    shift 2
    "$@" >"$log" 2>&1
    rc=$?
    local p f s
    p=$(grep -c '^PASS: ' "$log")
    f=$(grep -c '^FAIL: ' "$log")
    s=$(grep -c '^SKIP: ' "$log")
    sed -e "s/^\(PASS\|FAIL\|SKIP\): /\1: $prefix/" "$log" | grep -E '^(PASS|FAIL|SKIP): |^  ' || true
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL: $prefix$label: exited with status $rc and no FAIL line; last output:"
        tail -n 15 "$log" | sed 's/^/    /'
        f=$((f + 1))
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

for build in build build-asan; do
    [ -d "$build/tests" ] || continue
    prefix=""
    [ "$build" = build-asan ] && prefix="asan:"
    for t in $(find "$build/tests" -type f -perm -u+x | sort); do
        run_one "${t#"$build"/tests/}" "$prefix" "$t"
    done
done

for t in tests/cli/*.sh tests/guests/*.sh tests/migrate/*.sh tests/windows/*.sh tests/linux/*.sh tests/difftest/*.sh; do
    [ -x "$t" ] || continue
    run_one "$t" "" "$t"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# run-asm-test.sh VX86 ROM: runs one guest test ROM (tests/asm/*.asm) on vx86 and judges it.
#
# The guest prints `ok N - ...` / `not ok N - ...` lines and a final PASS or FAIL on port 0xE9,
# then halts with cli; hlt (vx86 exits 0). This script prints the guest's output and exits 0
# only if vx86 exited 0, no line starts with `not ok` and the last line is exactly PASS;
# otherwise it prints one line saying why and exits 1.
set -u
source "$(dirname "$0")/judge.sh"

if [ $# -lt 2 ]; then
    echo "usage: $0 VX86 ROM [VX86 OPTIONS...]" >&2
    exit 2
fi
vx86=$1
rom=$2
shift 2  # the rest are extra vx86 options (e.g. --engine=interp)
timeout_s=${VX86_ASM_TIMEOUT:-120}

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

timeout "$timeout_s" "$vx86" -bios "$rom" -display none -serial none -debugcon stdio \
    --max-insns 200000000 "$@" >"$out" 2>"$err"
rc=$?

cat "$out"
if [ -s "$err" ]; then
    sed 's/^/vx86 stderr: /' "$err"
fi

name=$(basename "$rom")
fail() {
    echo "$name: FAILED: $*"
    exit 1
}

case $rc in
    0) ;;
    124) fail "vx86 did not finish within ${timeout_s}s" ;;
    1) fail "vx86 exited 1 (triple fault, or HLT waiting for an interrupt)" ;;
    3) fail "vx86 exited 3 (the --max-insns limit was reached)" ;;
    *) fail "vx86 exited $rc" ;;
esac

judge_output "$out"
echo "$name: passed"
exit 0

#!/usr/bin/env bash
# qemu-run.sh [--cpu MODEL] [--qemu BINARY] ROM: runs a guest test ROM on QEMU (the oracle the
# tests are validated against) and judges it like run-asm-test.sh. QEMU does not exit on
# `cli; hlt`, so it is stopped once the last line is PASS or FAIL (or after 20 s).
# Not used by meson; for people changing the tests:
#   for t in build-asm/tests/asm/*.bin; do tests/asm/qemu-run.sh "$t"; done
set -u
source "$(dirname "$0")/judge.sh"
cpu=pentium3
qemu=qemu-system-i386
while [ $# -gt 1 ]; do
    case $1 in
        --cpu) cpu=$2; shift 2 ;;
        --qemu) qemu=$2; shift 2 ;;
        *) echo "usage: $0 [--cpu MODEL] [--qemu BINARY] ROM" >&2; exit 2 ;;
    esac
done
if [ $# -ne 1 ]; then
    echo "usage: $0 [--cpu MODEL] [--qemu BINARY] ROM" >&2
    exit 2
fi
rom=$1
name=$(basename "$rom")
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

"$qemu" -bios "$rom" -display none -serial none -debugcon "file:$out" -no-reboot \
    -m 32 -cpu "$cpu" -monitor none ${QEMU_EXTRA:-} 2>"$err" &
pid=$!
status=timeout
for _ in $(seq 200); do
    sleep 0.1
    if ! kill -0 "$pid" 2>/dev/null; then
        status=exited
        break
    fi
    last=$(tail -n 1 "$out" 2>/dev/null)
    if [ "$last" = PASS ] || [ "$last" = FAIL ]; then
        status=finished
        break
    fi
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

cat "$out"
[ "$status" != finished ] && [ -s "$err" ] && sed 's/^/qemu stderr: /' "$err"
fail() {
    echo "$name (qemu -cpu $cpu): FAILED: $*"
    exit 1
}
[ "$status" = timeout ] && fail "no PASS/FAIL within 20 s"
[ "$status" = exited ] && fail "QEMU exited (triple fault?) before PASS/FAIL"
judge_output "$out"
echo "$name (qemu -cpu $cpu): passed"
exit 0

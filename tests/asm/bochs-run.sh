#!/usr/bin/env bash
# bochs-run.sh [--cpu MODEL] ROM: runs a guest test ROM on Bochs, the second oracle, for what
# QEMU's TCG does not model (virtual-8086 mode extensions CR4.VME/PVI, alignment checking #AC),
# and judges it like qemu-run.sh. Bochs (2.7, Debian package) has no null display and is built
# with its debugger, so this uses the VNC display without waiting for a client (port 5900+:
# run one at a time), types `c` at the debugger prompt, and stops Bochs once the last line of
# the port 0xE9 output is PASS or FAIL (or after 30 s). A triple fault is fatal, not a reset;
# an unknown MSR raises #GP as on hardware (ignore_bad_msrs=0).
# Not used by meson; for people changing the tests:
#   tests/asm/bochs-run.sh build-asm/tests/asm/v86.bin
set -u
source "$(dirname "$0")/judge.sh"
cpu=p3_katmai
while [ $# -gt 1 ]; do
    case $1 in
        --cpu) cpu=$2; shift 2 ;;
        *) echo "usage: $0 [--cpu MODEL] ROM" >&2; exit 2 ;;
    esac
done
if [ $# -ne 1 ]; then
    echo "usage: $0 [--cpu MODEL] ROM" >&2
    exit 2
fi
rom=$(realpath "$1")
name=$(basename "$rom")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cat >"$dir/bochsrc" <<EOF
megs: 32
romimage: file=$rom
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
cpu: model=$cpu, count=1, ips=50000000, reset_on_triple_fault=0, ignore_bad_msrs=0
display_library: rfb, options="timeout=0"
port_e9_hack: enabled=1
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: $dir/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
clock: sync=none
EOF

raw=$dir/raw
printf 'c\n' | bochs -q -f "$dir/bochsrc" >"$raw" 2>"$dir/err" &
pid=$!
out=$dir/out
guest_output() {
    # everything after the debugger's `<bochs:1> c` prompt line, minus Bochs's own exit banner
    sed -n '/^<bochs:1>/,$p' "$raw" | sed '1d' | sed '/^=====/,$d' | grep -v '^(0)\|^Next at\|^bx_dbg\|^<bochs' >"$out"
}
status=timeout
for _ in $(seq 300); do
    sleep 0.1
    guest_output
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
guest_output

cat "$out"
fail() {
    echo "$name (bochs -cpu $cpu): FAILED: $*"
    grep -h 'PANIC\|>>' "$dir/err" "$dir/bochs.log" 2>/dev/null | head -5 | sed 's/^/bochs: /'
    exit 1
}
[ "$status" = timeout ] && fail "no PASS/FAIL within 30 s"
[ "$status" = exited ] && fail "Bochs exited (triple fault?) before PASS/FAIL"
judge_output "$out"
echo "$name (bochs -cpu $cpu): passed"
exit 0

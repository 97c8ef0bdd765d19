#!/usr/bin/env bash
# tools/cli-check.sh [VX86]: checks the vx86 command line from the outside.
#
# Runs the executable (default: build/frontend/vx86) with bad and good command lines and checks
# exit codes and messages: errors are exactly one line on stderr with exit code 2; --help lists
# every option; the default guest prints its greeting and exits with 0. Prints PASS/FAIL per
# case and exits nonzero when any case fails. Meant to be registered as a meson test:
#   test('cli', find_program('tools/cli-check.sh'), args: [vx86_exe], depends: hello_rom)
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vx86="${1:-$root/build/frontend/vx86}"
if [ ! -x "$vx86" ]; then
    echo "cli-check: no executable at '$vx86' (build first)" >&2
    exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
greeting='vx86: hello from the guest'

# run ARGS...: runs vx86 with a timeout; sets $status, $out (stdout), $err (stderr).
run() {
    timeout 60 "$vx86" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    out="$(cat "$tmp/out")"
    err="$(cat "$tmp/err")"
}

pass() { echo "PASS: $1"; }
fail() {
    echo "FAIL: $1"
    echo "      command status $status; stdout: $(head -c 300 "$tmp/out" | tr '\n' '|')"
    echo "      stderr: $(head -c 300 "$tmp/err" | tr '\n' '|')"
    failures=$((failures + 1))
}

# expect_usage_error NAME PATTERN ARGS...: exit 2, exactly one stderr line matching PATTERN.
expect_usage_error() {
    local name="$1" pattern="$2"
    shift 2
    run "$@"
    if [ "$status" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
        grep -q -- "^vx86: .*$pattern" "$tmp/err"; then
        pass "$name"
    else
        fail "$name"
    fi
}

expect_usage_error "unknown option" "unknown option '--foo' (try --help)" --foo
expect_usage_error "positional argument" "unexpected argument 'disk.img'" disk.img
expect_usage_error "missing argument" "needs an argument" -m
expect_usage_error "missing BIOS file" "cannot read BIOS image '$tmp/nope.bin': No such file or directory" \
    -display none -bios "$tmp/nope.bin"
head -c 1000 /dev/zero >"$tmp/small.bin"
expect_usage_error "BIOS of a bad size" "must be 64, 128, 192 or 256 KiB" -display none -bios "$tmp/small.bin"
expect_usage_error "bad -m value" "bad memory size '12x'" -m 12x
expect_usage_error "-m out of range" "out of range" -m 64G
expect_usage_error "bad --max-insns" "bad instruction count" --max-insns -5
expect_usage_error "bad -cpu" "unknown CPU model 'z80'" -cpu z80
expect_usage_error "bad -display" "display 'sdl'" -display sdl
expect_usage_error "bad -serial" "bad -serial backend" -serial tcp:1234
expect_usage_error "bad --trace-io" "bad I/O port" --trace-io 0x10000
expect_usage_error "missing disk image" "disk image '$tmp/none.img': No such file or directory" \
    -display none -hda "$tmp/none.img"
head -c 1000 /dev/zero >"$tmp/odd.img"
expect_usage_error "truncated disk image" "not a multiple of 512-byte sectors" -display none -hda "$tmp/odd.img"
head -c 5120 /dev/zero >"$tmp/small.img"
expect_usage_error "floppy of no known size" "floppy image '$tmp/small.img'" -display none -fda "$tmp/small.img"
: >"$tmp/empty.iso"
expect_usage_error "empty CD image" "the image is empty" -display none -cdrom "$tmp/empty.iso"
expect_usage_error "bad -boot" "bad boot order 'x'" -boot x
expect_usage_error "bad -rtc" "bad -rtc value" -rtc base=yesterday
expect_usage_error "unwritable trace file" "cannot open trace file" -display none --trace "$tmp/no/dir/t.txt"
expect_usage_error "-initrd without -kernel" "need -kernel" -initrd "$tmp/small.bin"
expect_usage_error "--fast-boot without -kernel" "need -kernel" --fast-boot
expect_usage_error "missing kernel" "cannot read kernel '$tmp/nope'" -display none -kernel "$tmp/nope"
expect_usage_error "kernel that is not a bzImage" "is not a Linux x86 bzImage" \
    -display none -kernel "$tmp/small.bin" --fast-boot
# A bzImage header whose setup size runs past the end of the file.
python3 -c '
import sys
b = bytearray(4096); b[0x1F1] = 60; b[0x1FE:0x200] = b"\x55\xaa"; b[0x202:0x206] = b"HdrS"
b[0x206:0x208] = (0x20f).to_bytes(2, "little"); b[0x211] = 1
open(sys.argv[1], "wb").write(b)' "$tmp/trunc.bz"
expect_usage_error "truncated bzImage" "impossible setup size" -display none -kernel "$tmp/trunc.bz"
expect_usage_error "bad --engine" "unknown engine 'fast' for --engine (want interp, jit or diff)" --engine fast

run --help
missing=""
for opt in -m -bios --vga-bios -cpu -fda/-fdb -hda/-hdb -cdrom -boot -snapshot -rtc --deterministic \
           -serial -debugcon --bios-log --screen-dump -display --trace --trace-io --engine --stats \
           --dump-block --perf-map --max-insns --help --version; do
    grep -q -- "^  $opt " "$tmp/out" || missing="$missing $opt"
done
if [ "$status" -eq 0 ] && [ -z "$missing" ] && [ ! -s "$tmp/err" ]; then pass "--help lists every option"
else echo "      missing from --help:$missing"; fail "--help lists every option"; fi

run --version
if [ "$status" -eq 0 ] && grep -q '^vx86 [0-9]' "$tmp/out"; then pass "--version"; else fail "--version"; fi

run -display none -bios hello
if [ "$status" -eq 0 ] && grep -qF "$greeting" "$tmp/out"; then pass "the hello ROM greets and exits 0"
else fail "the hello ROM greets and exits 0"; fi

for model in 8086 286 386 486 pentium p6; do
    run -display none -bios hello -cpu "$model" -serial none
    if [ "$status" -eq 0 ] && [ "$(grep -cF "$greeting" "$tmp/out")" -eq 1 ]; then pass "hello ROM on -cpu $model"
    else fail "hello ROM on -cpu $model"; fi
done

run -display none -bios hello -serial "file:$tmp/com1.txt" -debugcon none
if [ "$status" -eq 0 ] && grep -qF "$greeting" "$tmp/com1.txt" && ! grep -qF "$greeting" "$tmp/out"; then
    pass "-serial file: and -debugcon none"
else fail "-serial file: and -debugcon none"; fi

run -display none -bios hello -serial none --trace "$tmp/trace.txt"
if [ "$status" -eq 0 ] && head -n 1 "$tmp/trace.txt" | grep -q '^f000:fff0  ea .*ljmp.*; cs=f000 eip=0000' &&
    [ "$(wc -l <"$tmp/trace.txt")" -gt 20 ]; then
    pass "--trace writes one line per instruction"
else echo "      trace head: $(head -n 2 "$tmp/trace.txt" 2>/dev/null | tr '\n' '|')"; fail "--trace writes one line per instruction"; fi

run -display none -bios hello -serial none --trace-io 0xe9
if [ "$status" -eq 0 ] && grep -q '^io: write port 0x00e9 size 1 value 0x76 at insn [0-9]' "$tmp/err" &&
    ! grep -q 'port 0x03f' "$tmp/err"; then
    pass "--trace-io logs the selected port only"
else fail "--trace-io logs the selected port only"; fi

# Lockstep mode: the same greeting, every comparable block compared, no divergence.
run -display none -bios hello -serial none --engine=diff --stats
if [ "$status" -eq 0 ] && grep -qF "$greeting" "$tmp/out" && grep -q '^engine diff$' "$tmp/err" &&
    grep -q '^diff.divergences *0$' "$tmp/err" && grep -q '^diff.blocks_compared *[1-9]' "$tmp/err"; then
    pass "--engine=diff runs the hello ROM with no divergence"
else echo "      stderr: $(tr '\n' '|' <"$tmp/err")"; fail "--engine=diff runs the hello ROM with no divergence"; fi

# --perf-map: /tmp/perf-PID.map names the translated blocks vx86:PHYS.BITS@CS:EIP (the PID is
# the shell's, kept by exec; a map left by an earlier process of that PID is removed first, as
# vx86 appends to it).
if "$vx86" --help | grep -q -- '--engine ENGINE *jit'; then
    timeout 60 sh -c 'echo $$ >"$1/pid"; rm -f "/tmp/perf-$$.map"; shift; exec "$@"' sh "$tmp" \
        "$vx86" -display none -bios hello -serial none --engine=jit --perf-map >"$tmp/out" 2>"$tmp/err"
    status=$?
    map="/tmp/perf-$(cat "$tmp/pid").map"
    if [ "$status" -eq 0 ] && grep -q '^[0-9a-f]* [0-9a-f]* vx86:stub\.slow_access$' "$map" &&
        grep -q '^[0-9a-f]* [0-9a-f]* vx86:stub\.chain$' "$map" &&
        grep -q '^[0-9a-f]* [0-9a-f]* vx86:000f\([0-9a-f]\{4\}\)\.16@f000:0000\1$' "$map"; then
        pass "--perf-map names the generated code by guest block"
    else echo "      map head: $(head -n 3 "$map" 2>/dev/null | tr '\n' '|')"; fail "--perf-map names the generated code by guest block"; fi
    rm -f "$map"
fi

run -display none -bios hello --max-insns 5
if [ "$status" -eq 3 ] && grep -q 'instruction limit' "$tmp/err"; then pass "--max-insns stops with exit 3"
else fail "--max-insns stops with exit 3"; fi

# SeaBIOS with no bootable medium keeps retrying; SIGTERM stops it cleanly: exit 4, one line
# on stderr, and the --screen-dump written on the way out.
if [ -f /usr/share/seabios/bios-256k.bin ]; then
    "$vx86" -display none -serial none -debugcon none --screen-dump "$tmp/screen.txt" \
        >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    sleep 3
    kill -TERM "$pid"
    wait "$pid"
    status=$?
    if [ "$status" -eq 4 ] && grep -q 'stopped by a signal' "$tmp/err" &&
        grep -q 'SeaBIOS (version' "$tmp/screen.txt"; then
        pass "SIGTERM stops SeaBIOS cleanly and writes the screen dump"
    else fail "SIGTERM stops SeaBIOS cleanly and writes the screen dump"; fi
else
    echo "SKIP: SIGTERM check (no /usr/share/seabios/bios-256k.bin)"
fi

if [ "$failures" -ne 0 ]; then
    echo "cli-check: $failures case(s) failed"
    exit 1
fi
echo "cli-check: all cases passed"

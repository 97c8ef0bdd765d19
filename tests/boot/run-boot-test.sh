#!/usr/bin/env bash
# run-boot-test.sh VX86 BOOTTEST_BIN MEDIUM: boots Debian's SeaBIOS and roms/boottest from one
# medium and checks what a user would see.
#
#   MEDIUM = floppy | disk | cdrom | snapshot (the disk with -snapshot)
#
# Checks: the boot program's own verdict on port 0xE9 (judge.sh: no 'not ok', last line PASS);
# the RTC date it read equals the -rtc base given; the text screen (--screen-dump) shows
# SeaBIOS's banner, "Booting from" and the program's PASS line; the sector the guest wrote
# reached the image file (floppy, disk) or did not (snapshot: the image is byte-identical);
# and, in deterministic mode, a second run gives byte-identical output and screen.
set -uo pipefail

vx86="$1" program="$2" medium="$3"
shift 3
# Extra vx86 options (e.g. --engine=interp) apply to the second run: in deterministic mode it
# must still match the first run (plain vx86: the default engine) byte for byte.
extra=("$@")
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*"
    for f in e9.txt screen.txt bios.txt; do
        [ -f "$tmp/$f" ] && { echo "---- $f (tail)"; tail -n 25 "$tmp/$f"; }
    done
    exit 1
}
source "$here/../asm/judge.sh"

python3 "$here/mkmedia.py" "$program" "$tmp" >/dev/null 2>&1 || fail "mkmedia.py failed"
case "$medium" in
    floppy) media=(-fda "$tmp/floppy.img" -boot a); image="$tmp/floppy.img" ;;
    disk) media=(-hda "$tmp/disk.img" -boot c); image="$tmp/disk.img" ;;
    snapshot) media=(-hda "$tmp/disk.img" -boot c -snapshot); image="$tmp/disk.img" ;;
    cdrom)
        [ -f "$tmp/cd.iso" ] || fail "no cd.iso (xorriso missing?)"
        media=(-cdrom "$tmp/cd.iso" -boot d); image="" ;;
    *) echo "unknown medium '$medium'"; exit 2 ;;
esac
[ -n "$image" ] && cp "$image" "$tmp/original.img"

run_once() {  # run_once TAG
    local t0 t1 status
    t0=$(date +%s%N)
    "$vx86" -m 32 -display none -serial none "${media[@]}" \
        -debugcon "file:$tmp/e9$1.txt" --bios-log "file:$tmp/bios$1.txt" \
        --screen-dump "$tmp/screen$1.txt" -rtc base=2024-05-06T07:08:09 --deterministic \
        --max-insns 2000000000 ${2:+"${extra[@]}"} >"$tmp/stdout$1.txt" 2>"$tmp/stderr$1.txt"
    status=$?
    t1=$(date +%s%N)
    echo "# $medium boot run$1: exit $status, $(( (t1 - t0) / 1000000 )) ms"
    [ "$status" -eq 0 ] || { cat "$tmp/stderr$1.txt"; cp "$tmp/e9$1.txt" "$tmp/e9.txt" 2>/dev/null;
                             cp "$tmp/screen$1.txt" "$tmp/screen.txt" 2>/dev/null;
                             cp "$tmp/bios$1.txt" "$tmp/bios.txt" 2>/dev/null;
                             fail "vx86 exited with $status (want 0: the program halts with interrupts off)"; }
}

run_once ""
cp "$tmp/e9.txt" "$tmp/e9.keep" 2>/dev/null
judge_output "$tmp/e9.txt"
grep -q '^rtc: 2024-05-06 07:08:' "$tmp/e9.txt" || fail "the RTC date/time is not the -rtc base"
grep -q 'SeaBIOS (version' "$tmp/screen.txt" || fail "no SeaBIOS banner on the screen"
grep -q 'Booting from' "$tmp/screen.txt" || fail "no 'Booting from' on the screen"
grep -q 'vx86 boottest: PASS' "$tmp/screen.txt" || fail "the program's PASS is not on the screen"
case "$medium" in
    floppy | disk)
        python3 - "$image" <<'PY' || fail "the guest's write did not reach the image file"
import sys
d = open(sys.argv[1], "rb").read()
sys.exit(0 if d[60 * 512:60 * 512 + 11] == b"VX86 WRITE " else 1)
PY
        ;;
    snapshot) cmp -s "$image" "$tmp/original.img" || fail "-snapshot modified the image file" ;;
esac

# Determinism: the same inputs give the same output, byte for byte.
[ -n "$image" ] && cp "$tmp/original.img" "$image"
run_once 2 with-extra
cmp -s "$tmp/e9.txt" "$tmp/e92.txt" || fail "deterministic mode: port 0xE9 output differs between two runs"
cmp -s "$tmp/screen.txt" "$tmp/screen2.txt" || fail "deterministic mode: the screen differs between two runs"
cmp -s "$tmp/bios.txt" "$tmp/bios2.txt" || fail "deterministic mode: the SeaBIOS log differs between two runs"
# A screen dump to a .png file is a picture of the screen (720x400 for 80x25 text).
if [ "$medium" = cdrom ]; then
    "$vx86" -m 32 -display none -serial none -debugcon none "${media[@]}" --deterministic \
        --screen-dump "$tmp/screen.png" --max-insns 2000000000 >/dev/null 2>&1 || fail "PNG run failed"
    python3 - "$tmp/screen.png" <<'PY' || fail "--screen-dump FILE.png is not a 720x400 PNG"
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR"
w, h = struct.unpack(">II", d[16:24])
assert (w, h) == (720, 400), (w, h)
# Inflate the image: the screen is not all one colour (text was drawn).
pos, idat = 8, b""
while pos < len(d):
    n = struct.unpack(">I", d[pos:pos + 4])[0]
    if d[pos + 4:pos + 8] == b"IDAT":
        idat += d[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
assert len(set(raw[1:w * 3 * 50])) > 1
PY
    echo "# --screen-dump screen.png: a 720x400 PNG with text on it"
fi
cat "$tmp/e9.txt"
echo "PASS: $medium boot"

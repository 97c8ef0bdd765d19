#!/usr/bin/env bash
# grub-test.sh VX86: makes a GRUB ISO with Debian's grub-mkrescue (grub-pc-bin, xorriso, mtools)
# whose grub.cfg prints a marker on the serial port, boots it on vx86 from the CD-ROM through
# SeaBIOS, and checks that the marker arrives on COM1.
# Exits 77 (meson: skipped) when grub-mkrescue or the i386-pc modules are missing, except under
# CI=true, where that is a failure.
set -uo pipefail
vx86="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

missing=""
command -v grub-mkrescue >/dev/null || missing="grub-mkrescue"
[ -d /usr/lib/grub/i386-pc ] || missing="$missing /usr/lib/grub/i386-pc (grub-pc-bin)"
command -v xorriso >/dev/null || missing="$missing xorriso"
command -v mformat >/dev/null || missing="$missing mtools"
if [ -n "$missing" ]; then
    echo "SKIP: missing $missing (tools/setup.sh installs them)"
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi

mkdir -p "$tmp/iso/boot/grub"
cat >"$tmp/iso/boot/grub/grub.cfg" <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
echo "vx86-grub-marker: GRUB on $grub_platform reads its config"
halt
CFG
grub-mkrescue -o "$tmp/grub.iso" "$tmp/iso" --directory=/usr/lib/grub/i386-pc \
    >"$tmp/mkrescue.log" 2>&1 || { cat "$tmp/mkrescue.log"; echo "FAIL: grub-mkrescue"; exit 1; }

t0=$(date +%s%N)
"$vx86" -m 64 -display none -cdrom "$tmp/grub.iso" -boot d -serial "file:$tmp/serial.txt" \
    -debugcon none --screen-dump "$tmp/screen.txt" --deterministic --max-insns 3000000000 \
    >"$tmp/stdout.txt" 2>"$tmp/stderr.txt"
status=$?
t1=$(date +%s%N)
echo "# GRUB boot: exit $status, $(( (t1 - t0) / 1000000 )) ms"
if grep -q 'vx86-grub-marker: GRUB on pc reads its config' "$tmp/serial.txt"; then
    echo "PASS: GRUB from a grub-mkrescue ISO printed its marker on COM1"
    exit 0
fi
echo "FAIL: no marker on COM1"
echo "---- serial"; tail -c 2000 "$tmp/serial.txt"
echo "---- screen"; cat "$tmp/screen.txt" 2>/dev/null
echo "---- stderr"; cat "$tmp/stderr.txt"
exit 1

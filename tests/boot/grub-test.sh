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
echo "vx86-grub-prompt"
read word
echo "vx86-grub-read: $word"
halt
CFG
grub-mkrescue -o "$tmp/grub.iso" "$tmp/iso" --directory=/usr/lib/grub/i386-pc \
    >"$tmp/mkrescue.log" 2>&1 || { cat "$tmp/mkrescue.log"; echo "FAIL: grub-mkrescue"; exit 1; }

# COM1 is stdio: GRUB's output arrives on our stdout, and a word typed once GRUB prompts
# (written into vx86's stdin) must come back. Real-time mode, as a user would run it.
mkfifo "$tmp/in"
t0=$(date +%s%N)
"$vx86" -m 64 -display none -cdrom "$tmp/grub.iso" -boot d -serial stdio \
    -debugcon none --screen-dump "$tmp/screen.txt" --max-insns 20000000000 \
    <"$tmp/in" >"$tmp/serial.txt" 2>"$tmp/stderr.txt" &
pid=$!
exec 3>"$tmp/in"
for _ in $(seq 1 600); do
    grep -q 'vx86-grub-prompt' "$tmp/serial.txt" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
printf 'vx86rx\r' >&3
wait "$pid"
status=$?
exec 3>&-
t1=$(date +%s%N)
echo "# GRUB boot: exit $status, $(( (t1 - t0) / 1000000 )) ms"
if grep -q 'vx86-grub-marker: GRUB on pc reads its config' "$tmp/serial.txt" &&
    grep -q 'vx86-grub-read: vx86rx' "$tmp/serial.txt"; then
    echo "PASS: GRUB from a grub-mkrescue ISO printed its marker on COM1 and read a word from it"
    exit 0
fi
echo "FAIL: no marker on COM1, or the typed word did not come back"
echo "---- serial"; tail -c 2000 "$tmp/serial.txt"
echo "---- screen"; cat "$tmp/screen.txt" 2>/dev/null
echo "---- stderr"; cat "$tmp/stderr.txt"
exit 1

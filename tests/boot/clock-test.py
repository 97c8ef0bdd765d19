#!/usr/bin/env python3
"""clock-test.py VX86 CLOCKTEST_BIN: in real-time mode, the guest's PIT- and RTC-driven clocks
stay within 1% of host time.

Boots roms/clocktest.asm from a floppy through SeaBIOS. The guest counts 1092 BIOS ticks (PIT
IRQ 0, 60 s) and reads the RTC at a seconds edge before and after; it prints markers as it goes
(E0 first RTC edge, T1 ticks counted, E1 next RTC edge), which this script timestamps with the
host's monotonic clock. Prints both ratios and fails when either is off by more than 1%.
"""
import os
import subprocess
import sys
import tempfile
import time

PIT_HZ = 1193182 / 65536


def main() -> int:
    vx86, program = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, "clock.img")
        data = bytearray(1474560)
        code = open(program, "rb").read()
        data[: len(code)] = code
        open(img, "wb").write(data)
        proc = subprocess.Popen([vx86, "-display", "none", "-fda", img, "-boot", "a",
                                 "-serial", "none", "-debugcon", "stdio"],
                                stdout=subprocess.PIPE, text=True)
        stamps = {}
        result = None
        for line in proc.stdout:
            line = line.strip()
            if line in ("E0", "T1", "E1"):
                stamps[line] = time.monotonic()
            elif line.startswith("clocktest:"):
                result = line
        proc.wait(timeout=30)
    if proc.returncode != 0 or result is None or len(stamps) != 3:
        print(f"FAIL: vx86 exited {proc.returncode}, output {result!r}, markers {sorted(stamps)}")
        return 1
    # clocktest: ticks T0 T1 rtc HH:MM:SS HH:MM:SS
    parts = result.split()
    t0, t1 = int(parts[2], 16), int(parts[3], 16)
    ticks = (t1 - t0) & 0xFFFF

    def secs(hms: str) -> int:
        h, m, s = (int(x) for x in hms.split(":"))
        return h * 3600 + m * 60 + s

    rtc = (secs(parts[6]) - secs(parts[5])) % 86400
    host_pit = stamps["T1"] - stamps["E0"]
    host_rtc = stamps["E1"] - stamps["E0"]
    guest_pit = ticks / PIT_HZ
    pit_err = (guest_pit - host_pit) / host_pit
    rtc_err = (rtc - host_rtc) / host_rtc
    print(f"PIT: {ticks} ticks = {guest_pit:.3f} s guest, {host_pit:.3f} s host, error {pit_err * 100:+.3f}%"
          " (one tick of sampling phase = 0.09%)")
    print(f"RTC: {rtc} s guest, {host_rtc:.3f} s host, error {rtc_err * 100:+.3f}%")
    if abs(pit_err) > 0.01 or abs(rtc_err) > 0.01:
        print("FAIL: a guest clock is off by more than 1% of host time")
        return 1
    print("PASS: PIT and RTC within 1% of host time over a minute")
    return 0


if __name__ == "__main__":
    sys.exit(main())

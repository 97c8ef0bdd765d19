#!/usr/bin/env python3
"""mkmedia.py PROGRAM OUTDIR: builds the boot media for roms/boottest.asm.

  OUTDIR/floppy.img  1.44 MB floppy: PROGRAM from sector 0, "VX86 LBA n" in every sector from
                     LBA 40 on (n in decimal, at offset 0 of the sector)
  OUTDIR/disk.img    4 MiB hard disk laid out the same way (PROGRAM is its MBR)
  OUTDIR/cd.iso      El Torito no-emulation CD (xorriso) whose boot image is PROGRAM, loaded
                     whole (16 virtual sectors)
"""
import os
import shutil
import subprocess
import sys
import tempfile

PATTERN_FIRST = 40


def image(program: bytes, size: int) -> bytes:
    data = bytearray(size)
    data[: len(program)] = program
    for lba in range(PATTERN_FIRST, size // 512):
        tag = f"VX86 LBA {lba}".encode()
        data[lba * 512 : lba * 512 + len(tag)] = tag
    return bytes(data)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    program = open(sys.argv[1], "rb").read()
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "floppy.img"), "wb") as f:
        f.write(image(program, 1474560))
    with open(os.path.join(out, "disk.img"), "wb") as f:
        f.write(image(program, 4 << 20))
    xorriso = shutil.which("xorriso")
    if xorriso:
        with tempfile.TemporaryDirectory() as root:
            shutil.copy(sys.argv[1], os.path.join(root, "boottest.bin"))
            with open(os.path.join(root, "README.TXT"), "w") as f:
                f.write("vx86 boot test CD\n")
            subprocess.run([xorriso, "-as", "mkisofs", "-quiet", "-R", "-J",
                            "-b", "boottest.bin", "-no-emul-boot", "-boot-load-size", "16",
                            "-o", os.path.join(out, "cd.iso"), root], check=True)
    else:
        print("mkmedia: xorriso not found: no cd.iso", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

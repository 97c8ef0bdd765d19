#!/usr/bin/env python3
"""linux-session.py VX86 [--mode kernel|fast|iso] [--guest DIR] [--qemu]: boots the Debian
i386 test guest (tools/mkguest) on vx86 and runs a scripted session on its serial console.

Modes: kernel  -kernel/-initrd/-append through SeaBIOS
       fast    the same with --fast-boot (no BIOS: vx86 enters the kernel itself); this mode
               also checks that `reboot -f` boots the machine again (no -no-reboot here)
       iso     -cdrom linux.iso -boot d (SeaBIOS -> GRUB from grub-mkrescue -> Linux)
vx86 runs with --deterministic -display none -serial stdio -m 256 (-no-reboot but in mode fast); its stdin and
stdout are pipes (the serial console), as a program driving it would use them.

The session, once `VX86-READY` arrives: shell arithmetic; /proc/cpuinfo reports an FPU;
/proc/interrupts shows the serial IRQ counting; the PCI functions of an i440FX/PIIX3 machine
are in /sys/bus/pci/devices; dmesg has no Oops/BUG/WARNING/soft lockup/Call Trace/bogus/unknown
line (each offending line is printed); Ctrl-C interrupts a foreground job (so the shell has a
controlling terminal and job control); /proc/uptime; and `poweroff -f` makes the emulator exit
with code 0. Boot and session times are printed as figures (host seconds), never asserted.

Every command line is wrapped in `echo __BEG''IN<n>__; ...; echo __EN''D<n>:$?__`: the
terminal's echo of what we type shows the quotes, only the shell's output shows the markers, so
the output is what lies between them, whatever the line editor does to the echo.

--qemu: EMULATOR is qemu-system-i386 (TCG, -M pc), to validate this script without vx86; mode
fast then boots like kernel (QEMU has no --fast-boot).
When the guest cannot be built here (no network, missing grub tools): prints why and exits 77
(meson: skipped), except with CI=true in the environment, where that is a failure.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MKGUEST = os.path.join(HERE, "..", "..", "tools", "mkguest")
RAM_MB = 256
BOOT_TIMEOUT = 600      # generous: CI also runs a sanitizer build
COMMAND_TIMEOUT = 180
EXIT_TIMEOUT = 120
PCI_EXPECTED = ["0000:00:00.0", "0000:00:01.0", "0000:00:01.1", "0000:00:02.0"]
DMESG_BAD = ["Oops", "BUG:", "WARNING:", "soft lockup", "Call Trace", "bogus", "unknown"]
PROMPT = re.compile(rb"vx86:[^\r\n]*# ")


class Failure(Exception):
    pass


class Console:
    """The emulator process and its serial console: a reader thread collects stdout."""

    def __init__(self, cmd, stderr_path):
        self.t0 = time.monotonic()
        self.stderr = open(stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, bufsize=0)
        self.buf = bytearray()
        self.eof = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def _reader(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.eof = True
                    self.cond.notify_all()
                    return
                self.buf += data
                self.cond.notify_all()

    def elapsed(self):
        return time.monotonic() - self.t0

    def mark(self):
        with self.cond:
            return len(self.buf)

    def wait_for(self, pattern, start, timeout, what):
        """The first match of pattern (bytes regex) at or after offset start."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = pattern.search(self.buf, start)
                if m:
                    return m
                if self.eof:
                    raise Failure(f"{what}: the emulator closed its output (exit "
                                  f"{self.proc.poll()}) before it arrived")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"{what}: not seen within {timeout} s")
                self.cond.wait(min(left, 1.0))

    def type(self, text):
        """Types text into the serial console, a few bytes at a time as a person would."""
        data = text.encode()
        try:
            for i in range(0, len(data), 8):
                self.proc.stdin.write(data[i:i + 8])
                self.proc.stdin.flush()
                time.sleep(0.01)
        except (BrokenPipeError, OSError) as e:
            raise Failure(f"typing {text!r}: {e}")

    def text(self, start=0, end=None):
        with self.cond:
            return bytes(self.buf[start:end]).decode("utf-8", "replace")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()


class Session:
    def __init__(self, console):
        self.c = console
        self.n = 0

    def run(self, cmd, timeout=COMMAND_TIMEOUT):
        """Runs cmd at the prompt: (output text with \\r removed, exit status)."""
        self.n += 1
        start = self.c.mark()
        # Markers the shell prints around the output; the quotes keep the terminal's echo of
        # what we type from matching them, however the line editor redraws that echo. `cmd`
        # still sees the previous command's $? (saved, then restored by a subshell's exit).
        self.c.type(f"__st=$?; echo __BEG''IN{self.n}__; (exit $__st); {cmd}; "
                    f"echo __EN''D{self.n}:$?__\r")
        b = self.c.wait_for(re.compile(rb"__BEGIN%d__\r?\n" % self.n), start, timeout,
                            f"the start of {cmd!r}")
        m = self.c.wait_for(re.compile(rb"__END%d:(\d+)__" % self.n), b.end(), timeout,
                            f"output of {cmd!r}")
        out = self.c.text(b.end(), m.start())
        # Wait for the next prompt, so the next command is typed at it.
        self.c.wait_for(PROMPT, m.end(), timeout, f"the prompt after {cmd!r}")
        return out.replace("\r", ""), int(m.group(1))


def build_guest(guest):
    if guest:
        return os.path.abspath(guest)
    r = subprocess.run([sys.executable, MKGUEST, "--print-dir"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode == 0:
        return r.stdout.strip()
    sys.stdout.write(r.stderr)
    if r.returncode == 2:
        print("SKIP: the Linux test guest cannot be built here (see above)")
        if os.environ.get("CI") == "true":
            print("FAIL: CI=true: the guest must be buildable in CI")
            sys.exit(1)
        sys.exit(77)
    print(f"FAIL: tools/mkguest exited {r.returncode}")
    sys.exit(1)


def emulator_command(emu, mode, guest, qemu):
    cmd = [emu]
    if qemu:
        cmd += ["-accel", "tcg", "-M", "pc"]
    else:
        cmd += ["--deterministic"]
    cmd += ["-m", str(RAM_MB), "-display", "none", "-serial", "stdio"]
    if mode != "fast":
        cmd += ["-no-reboot"]  # mode fast checks that `reboot -f` boots the machine again
    if mode == "iso":
        cmd += ["-cdrom", os.path.join(guest, "linux.iso"), "-boot", "d"]
    else:
        cmdline = open(os.path.join(guest, "cmdline")).read().strip()
        cmd += ["-kernel", os.path.join(guest, "vmlinuz"),
                "-initrd", os.path.join(guest, "initrd.gz"), "-append", cmdline]
        if mode == "fast" and not qemu:
            cmd += ["--fast-boot"]
    return cmd


def session(c, failures, reboot):
    s = Session(c)
    ready = c.wait_for(re.compile(rb"VX86-READY"), 0, BOOT_TIMEOUT, "VX86-READY")
    t_ready = c.elapsed()
    print(f"# boot to VX86-READY: {t_ready:.2f} s (host)")
    c.wait_for(PROMPT, ready.end(), COMMAND_TIMEOUT, "the first shell prompt")

    out, st = s.run("echo $((6*7))")
    if "42" not in out.split("\n"):
        failures.append(f"echo $((6*7)) printed {out!r} (status {st}), not 42")

    out, st = s.run("cat /proc/cpuinfo")
    if st != 0 or "fpu\t\t: yes" not in out:
        failures.append("/proc/cpuinfo has no 'fpu\\t\\t: yes' line")
    model = re.search(r"model name\t: (.*)", out)
    flags = re.search(r"flags\t\t: (.*)", out)
    print(f"# cpu: {model.group(1) if model else '?'}")
    print(f"# flags: {flags.group(1) if flags else '?'}")

    out, st = s.run("cat /proc/interrupts")
    print("# /proc/interrupts:")
    for line in out.strip("\n").split("\n"):
        print("#   " + line)
    serial = [line for line in out.split("\n") if "ttyS0" in line]
    counts = [int(x) for line in serial for x in line.split()[1:2] if x.isdigit()]
    if not counts or max(counts) == 0:
        failures.append("/proc/interrupts: no ttyS0 line with a nonzero count (serial IRQ)")

    out, st = s.run("ls /sys/bus/pci/devices")
    devices = out.split()
    print(f"# PCI: {' '.join(devices)}")
    for d in PCI_EXPECTED:
        if d not in devices:
            failures.append(f"/sys/bus/pci/devices has no {d}")

    out, st = s.run("dmesg")
    bad = [line for line in out.split("\n") if any(b in line for b in DMESG_BAD)]
    for line in bad:
        failures.append(f"dmesg: {line}")
    if st != 0 or "Linux version" not in out:
        failures.append(f"dmesg failed (status {st}) or has no 'Linux version' line")

    # Ctrl-C must reach the foreground job: the shell has a controlling tty and job control.
    # The job announces itself, then sleeps; 130 = killed by SIGINT (whether it was still the
    # sh or already the sleep it execs).
    start = c.mark()
    c.type("sh -c 'echo __RUN\"\"NING__; exec sleep 1000'\r")
    c.wait_for(re.compile(rb"__RUNNING__"), start, COMMAND_TIMEOUT, "the job to start")
    time.sleep(0.5)
    start = c.mark()
    c.type("\x03")
    c.wait_for(PROMPT, start, COMMAND_TIMEOUT, "the prompt after Ctrl-C")
    out, st = s.run("echo last=$?")
    if "last=130" not in out:
        failures.append(f"Ctrl-C did not interrupt the foreground job: {out.strip()!r}")

    out, st = s.run("cat /proc/uptime")
    print(f"# guest /proc/uptime: {out.strip()}  (host {c.elapsed():.2f} s since start)")

    if reboot:
        # `reboot -f` resets the machine (keyboard controller pulse): the kernel boots again.
        start = c.mark()
        t_reboot = c.elapsed()
        c.type("reboot -f\r")
        again = c.wait_for(re.compile(rb"VX86-READY"), start, BOOT_TIMEOUT,
                           "VX86-READY after reboot -f")
        print(f"# reboot -f to VX86-READY: {c.elapsed() - t_reboot:.2f} s (host)")
        c.wait_for(PROMPT, again.end(), COMMAND_TIMEOUT, "the shell prompt after the reboot")
        out, st = s.run("echo again $((6*7))")
        if "again 42" not in out:
            failures.append(f"after reboot -f the shell printed {out!r}")

    start = c.mark()
    t_off = c.elapsed()
    c.type("poweroff -f\r")
    try:
        code = c.proc.wait(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failure(f"the emulator did not exit within {EXIT_TIMEOUT} s of poweroff -f")
    print(f"# poweroff to exit: {c.elapsed() - t_off:.2f} s, exit code {code}")
    if code != 0:
        failures.append(f"exit code {code} after poweroff -f (expected 0)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("emulator", help="the vx86 binary (or qemu-system-i386 with --qemu)")
    ap.add_argument("--mode", choices=["kernel", "fast", "iso"], default="kernel")
    ap.add_argument("--guest", help="guest dir (default: build it with tools/mkguest)")
    ap.add_argument("--qemu", action="store_true", help="the emulator is qemu-system-i386")
    ap.add_argument("--vx86-arg", action="append", default=[], metavar="ARG",
                    help="an extra emulator option (repeatable), e.g. --vx86-arg=--engine=jit")
    args = ap.parse_args()

    guest = build_guest(args.guest)
    cmd = emulator_command(args.emulator, args.mode, guest, args.qemu) + args.vx86_arg
    print("# " + " ".join(f"'{a}'" if " " in a else a for a in cmd))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        c = Console(cmd, os.path.join(tmp, "stderr.txt"))
        try:
            session(c, failures, args.mode == "fast" and not args.qemu)
        except Failure as e:
            failures.append(str(e))
        finally:
            c.close()
        if failures:
            print("---- serial (last 6000 bytes)")
            print(c.text()[-6000:].replace("\r", ""))
            print("---- stderr")
            print(open(os.path.join(tmp, "stderr.txt"), errors="replace").read()[-3000:])
    for f in failures:
        print(f"FAIL: {f}")
    if failures:
        return 1
    print(f"PASS: Linux ({args.mode}) booted, ran the session and powered off")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The -serial stdio console on a terminal: raw mode while vx86 runs, the terminal restored on
every way out (Ctrl-A x, SIGTERM, a fatal signal), and the escape keys.

Usage: console-test.py VX86
Runs vx86 on a pseudo-terminal (the guest is SeaBIOS without a boot device, which runs until
stopped) and compares the terminal's settings, read on the pty's slave side, before, during and
after.
"""
import os
import pty
import select
import signal
import sys
import termios
import time

vx86 = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run_case(name, action, expect_exit=None, expect_signal=None):
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(master)
        # SeaBIOS with no boot device retries forever: a guest that runs until it is stopped.
        os.execv(vx86, [vx86, "-display", "none", "-serial", "stdio", "-debugcon", "none",
                        "--vga-bios", "none"])
    raw = False
    for _ in range(100):
        lflag = termios.tcgetattr(slave)[3]
        if not (lflag & termios.ICANON) and not (lflag & termios.ECHO):
            raw = True
            break
        time.sleep(0.05)
    check(raw, f"{name}: the terminal is raw (no ICANON, no ECHO) while vx86 runs")
    action(pid, master)
    status = None
    deadline = time.time() + 20
    while status is None and time.time() < deadline:
        if select.select([master], [], [], 0.05)[0]:
            try:
                os.read(master, 4096)  # keep the pty drained
            except OSError:
                pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        check(False, f"{name}: vx86 ended")
    elif expect_exit is not None:
        check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == expect_exit,
              f"{name}: exit status {expect_exit} (got {status:#x})")
    else:
        check(os.WIFSIGNALED(status) and os.WTERMSIG(status) == expect_signal,
              f"{name}: ended by signal {expect_signal} (got {status:#x})")
    check(termios.tcgetattr(slave) == before, f"{name}: the terminal settings are restored")
    os.close(master)
    os.close(slave)


def type_keys(keys):
    def act(pid, master):
        time.sleep(0.3)
        os.write(master, keys)
    return act


def send_signal(sig):
    def act(pid, master):
        time.sleep(0.3)
        os.kill(pid, sig)
    return act


run_case("Ctrl-A x", type_keys(b"\x01x"), expect_exit=0)
run_case("Ctrl-A Ctrl-A then Ctrl-A x", type_keys(b"\x01\x01\x01x"), expect_exit=0)
run_case("SIGTERM", send_signal(signal.SIGTERM), expect_exit=4)
run_case("SIGSEGV (a crash)", send_signal(signal.SIGSEGV), expect_signal=signal.SIGSEGV)
print(f"console: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)

// Console: the terminal side of `-serial stdio` (QEMU's -nographic console, as users know it).
//
// Design decisions:
// - When stdin is a terminal, it goes into raw mode for the run: every key, Ctrl-C included,
//   reaches the guest at once and unechoed (the guest's shell echoes). Output post-processing
//   stays on, as QEMU keeps it. When stdin is not a terminal (a pipe, a file) nothing changes.
// - The terminal is restored on every way out: the destructor (normal return, exceptions),
//   std::atexit (exit() from anywhere) and the fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
//   SIGABRT: restore, then re-raise with the default action). The saved settings live in one
//   static object because a signal handler can reach nothing else; it is the only global in the
//   program and holds host state, never machine state.
// - Escape character Ctrl-A (as QEMU): Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h
//   prints the list; any other key after Ctrl-A is dropped. The escape is honoured with pipes
//   too, so scripts can quit the same way.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace vx86::frontend {

class Console {
public:
    // `quit` is set (and `stop` with it) when the user types Ctrl-A x.
    Console(std::atomic<int>* stop, std::atomic<int>* quit) : stop_(stop), quit_(quit) {}
    ~Console() { restore(); }
    Console(const Console&) = delete;
    Console& operator=(const Console&) = delete;

    // Puts `fd` into raw mode when it is a terminal; returns whether it did.
    bool enable_raw(int fd);
    // Restores the terminal (idempotent).
    void restore();
    // Removes escape sequences from bytes read from the terminal and acts on them.
    void filter(std::vector<uint8_t>& bytes);

private:
    std::atomic<int>* stop_;
    std::atomic<int>* quit_;
    bool escape_ = false;  // the last byte was Ctrl-A
};

}  // namespace vx86::frontend

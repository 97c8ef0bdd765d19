#include "frontend/console.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace vx86::frontend {

namespace {

constexpr uint8_t kCtrlA = 0x01;

// What restore() and the signal handlers need: plain data, written before the handlers exist.
struct SavedTerminal {
    volatile sig_atomic_t active = 0;
    int fd = -1;
    termios saved{};
};
SavedTerminal g_term;

void restore_terminal() {
    if (g_term.active) {
        tcsetattr(g_term.fd, TCSANOW, &g_term.saved);  // async-signal-safe
        g_term.active = 0;
    }
}

extern "C" void on_fatal_signal(int sig) {
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

extern "C" void restore_at_exit() { restore_terminal(); }

}  // namespace

bool Console::enable_raw(int fd) {
    if (!isatty(fd) || g_term.active) return false;
    termios t{};
    if (tcgetattr(fd, &t) != 0) return false;
    g_term.fd = fd;
    g_term.saved = t;
    static bool hooks = false;
    if (!hooks) {
        hooks = true;
        std::atexit(restore_at_exit);
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) signal(sig, on_fatal_signal);
    }
    t.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~tcflag_t(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    g_term.active = 1;
    if (tcsetattr(fd, TCSANOW, &t) != 0) {
        g_term.active = 0;
        return false;
    }
    return true;
}

void Console::restore() { restore_terminal(); }

void Console::filter(std::vector<uint8_t>& bytes) {
    size_t out = 0;
    for (uint8_t b : bytes) {
        if (!escape_) {
            if (b == kCtrlA) escape_ = true;
            else bytes[out++] = b;
            continue;
        }
        escape_ = false;
        switch (b) {
            case kCtrlA: bytes[out++] = b; break;
            case 'x':
            case 'X':
                quit_->store(1);
                stop_->store(1);
                break;
            case 'h':
            case 'H':
            case '?':
                std::fputs("\r\nC-a h    print this help\r\nC-a x    exit vx86\r\n"
                           "C-a C-a  send C-a\r\n", stderr);
                break;
            default: break;
        }
    }
    bytes.resize(out);
}

}  // namespace vx86::frontend

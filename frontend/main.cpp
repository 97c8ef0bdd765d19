// vx86: the command-line entry point.
//
// Design decisions:
// - main() owns every side effect of the command line: it parses (cli.cpp), resolves the BIOS
//   file, opens host files for -serial/-debugcon, builds a core::Machine and runs it. Errors the
//   user can fix print one line, "vx86: ...", on stderr and exit with 2; the guest's own fate
//   maps to the exit codes listed in --help.
// - The default firmware is Debian's SeaBIOS (/usr/share/seabios/bios-256k.bin) with its VGA
//   BIOS (vgabios-stdvga.bin), found at run time, never copied into the repository. A bare
//   -bios name that does not exist in the current directory is also looked up in
//   /usr/share/seabios, so `-bios bios.bin` finds Debian's SeaBIOS as QEMU would. `-bios hello`
//   is vx86's own tiny ROM (roms/hello.asm), looked for next to the executable (hello.bin,
//   ../roms/hello.bin) and then at its build path, which meson writes into vx86_config.h.
// - SIGINT and SIGTERM ask the machine to stop between two slices; it then flushes the disk
//   images and writes the --screen-dump file before main() returns. SIGUSR1 writes the screen
//   dump without stopping. The handlers only store into atomics.
// - Guest output to stdout goes through stdio's buffer; it is flushed before any message on
//   stderr so that the two streams appear in order on a terminal.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "core/host_file.h"
#include "core/machine.h"
#include "frontend/cli.h"
#include "frontend/console.h"
#include "jit/jit.h"
#include "vx86_config.h"

namespace {

namespace fs = std::filesystem;
using vx86::frontend::CharBackend;

int fail(const std::string& msg) {
    std::fflush(stdout);
    std::fprintf(stderr, "vx86: %s\n", msg.c_str());
    return 2;
}

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

fs::path executable_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

constexpr const char* kSeabiosDir = "/usr/share/seabios";

// Finds one of vx86's own ROM images (roms/*.asm): next to the executable, in ../roms, then at
// the build path. Returns an empty path with `error` set when there is none.
std::string find_own_rom(const std::string& name, std::string& error) {
    std::vector<fs::path> candidates;
    fs::path dir = executable_dir();
    if (!dir.empty()) {
        candidates.push_back(dir / name);
        candidates.push_back(dir / ".." / "roms" / name);
    }
    candidates.push_back(fs::path(VX86_ROM_DIR) / name);
    for (const auto& c : candidates)
        if (is_file(c)) return c.string();
    error = "vx86's ROM '" + name + "' not found (looked next to the executable and in '" +
            std::string(VX86_ROM_DIR) + "'); build it with ninja";
    return {};
}

// Returns the BIOS path to use, or an empty string (with `error`) when it cannot be found.
std::string resolve_bios(const std::string& requested, std::string& error) {
    if (requested.empty()) {
        fs::path p = fs::path(kSeabiosDir) / "bios-256k.bin";
        if (is_file(p)) return p.string();
        error = "SeaBIOS not found at '" + p.string() +
                "' (install the seabios package, or pass -bios FILE; -bios hello runs vx86's "
                "own test ROM)";
        return {};
    }
    if (requested != "hello") {
        if (!is_file(requested) && requested.find('/') == std::string::npos) {
            for (const char* dir : {"/usr/share/seabios", "/usr/share/qemu"}) {
                fs::path p = fs::path(dir) / requested;
                if (is_file(p)) return p.string();
            }
        }
        return requested;  // the machine reports a missing or unreadable file
    }
    return find_own_rom("hello.bin", error);
}

// Host side of a character backend: owns the FILE* it opens.
class HostChar {
public:
    HostChar() = default;
    HostChar(const HostChar&) = delete;
    HostChar& operator=(const HostChar&) = delete;
    ~HostChar() {
        if (owned_) std::fclose(owned_);
    }

    // Opens the backend; returns false with `error` set.
    bool open(const CharBackend& b, const char* option, std::string& error) {
        switch (b.kind) {
            case CharBackend::Kind::kPty: {
                int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0 || !ptsname(fd)) {
                    error = std::string("cannot create a pty for ") + option + ": " +
                            std::strerror(errno);
                    if (fd >= 0) ::close(fd);
                    return false;
                }
                owned_ = fdopen(fd, "wb");
                if (!owned_) {
                    ::close(fd);
                    error = std::string("cannot open the pty for ") + option;
                    return false;
                }
                std::setvbuf(owned_, nullptr, _IONBF, 0);
                std::fprintf(stderr, "vx86: %s is redirected to %s\n", option, ptsname(fd));
                out_ = owned_;
                in_fd_ = fd;  // what a program writes to the pty reaches the guest
                return true;
            }
            case CharBackend::Kind::kNone: out_ = nullptr; return true;
            case CharBackend::Kind::kStdio:
                out_ = stdout;
                in_fd_ = STDIN_FILENO;  // raw on a terminal (frontend/console.h)
                return true;
            case CharBackend::Kind::kFile:
                owned_ = std::fopen(b.path.c_str(), "wb");
                if (!owned_) {
                    error = std::string("cannot open ") + option + " file '" + b.path +
                            "': " + std::strerror(errno);
                    return false;
                }
                out_ = owned_;
                return true;
        }
        return false;
    }

    vx86::devices::ByteSink sink() {
        if (!out_) return {};
        std::FILE* f = out_;
        return [f](uint8_t b) { std::fputc(b, f); };
    }

    // The host side of the guest's input, or -1 (files and none give no input).
    int input_fd() const { return in_fd_; }

private:
    std::FILE* out_ = nullptr;
    std::FILE* owned_ = nullptr;
    int in_fd_ = -1;
};

std::atomic<int> g_stop{0};  // set by SIGINT/SIGTERM (a signal handler needs a global)
std::atomic<int> g_dump{0};  // set by SIGUSR1
std::atomic<int> g_quit{0};  // set by the console's Ctrl-A x

extern "C" void on_stop_signal(int) { g_stop.store(1); }
extern "C" void on_dump_signal(int) { g_dump.store(1); }

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sa.sa_handler = on_dump_signal;
    sigaction(SIGUSR1, &sa, nullptr);
}

int run(int argc, char** argv) {
    // Guest output on stdout appears line by line, also through a pipe.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::vector<std::string_view> args(argv + 1, argv + argc);
    std::string error;
    auto opts = vx86::frontend::parse_cli(args, error);
    if (!opts) return fail(error);
    if (opts->help) {
        std::fputs(vx86::frontend::usage_text().c_str(), stdout);
        return 0;
    }
    if (opts->version) {
        std::printf("vx86 %s\n", VX86_VERSION);
        return 0;
    }

    vx86::core::MachineConfig cfg;
    cfg.model = opts->model;
    cfg.ram_bytes = opts->ram_mib * vx86::core::kMiB;
    cfg.bios_path = resolve_bios(opts->bios, error);
    if (cfg.bios_path.empty()) return fail(error);
    cfg.trace_path = opts->trace;
    cfg.trace_io = opts->trace_io;
    cfg.trace_io_out = stderr;
    cfg.max_insns = opts->max_insns;
    cfg.reboot_on_triple_fault = !opts->no_reboot;
    if (opts->vga_bios.empty()) {
        fs::path p = fs::path(kSeabiosDir) / "vgabios-stdvga.bin";
        if (is_file(p)) cfg.vga_bios_path = p.string();
        else if (opts->bios.empty())
            return fail("VGA BIOS not found at '" + p.string() +
                        "' (install the seabios package, or pass --vga-bios none)");
    } else if (opts->vga_bios != "none") {
        cfg.vga_bios_path = opts->vga_bios;
    }
    cfg.fda = opts->fda;
    cfg.fdb = opts->fdb;
    cfg.hda = opts->hda;
    cfg.hdb = opts->hdb;
    cfg.cdrom = opts->cdrom;
    cfg.boot_order = opts->boot;
    cfg.kernel_path = opts->kernel;
    cfg.initrd_path = opts->initrd;
    cfg.kernel_cmdline = opts->append;
    cfg.fast_boot = opts->fast_boot;
    if (!opts->kernel.empty() && !opts->fast_boot) {
        std::string rom = find_own_rom("linuxboot.bin", error);
        if (rom.empty()) return fail(error);
        try {
            cfg.linuxboot_rom = vx86::core::read_host_file(rom, "option ROM", 1 << 20);
        } catch (const std::exception& e) {
            return fail(e.what());
        }
    }
    cfg.snapshot = opts->snapshot;
    cfg.screen_dump_path = opts->screen_dump;
    cfg.time_mode = opts->deterministic ? vx86::core::TimeMode::kDeterministic
                                        : vx86::core::TimeMode::kRealTime;
    if (!opts->rtc_base.empty() && opts->rtc_base != "utc" && opts->rtc_base != "localtime")
        cfg.rtc_start = *vx86::frontend::parse_rtc_base(opts->rtc_base);

    HostChar serial, serial2, debugcon, bios_log;
    if (!serial.open(opts->serial, "-serial", error)) return fail(error);
    if (!serial2.open(opts->serial2, "the second -serial", error)) return fail(error);
    if (!debugcon.open(opts->debugcon, "-debugcon", error)) return fail(error);
    if (!bios_log.open(opts->bios_log, "--bios-log", error)) return fail(error);
    cfg.serial_out = serial.sink();
    cfg.serial_in_fd = serial.input_fd();
    cfg.serial2_out = serial2.sink();
    cfg.debugcon_out = debugcon.sink();
    cfg.bios_log_out = bios_log.sink();
    cfg.flush_outputs = [] { std::fflush(nullptr); };  // every output stream
    cfg.stop_request = &g_stop;
    cfg.dump_request = &g_dump;
    install_signal_handlers();
    // -serial stdio on a terminal: raw keys to the guest, Ctrl-A x to quit.
    vx86::frontend::Console console(&g_stop, &g_quit);
    if (opts->serial.kind == CharBackend::Kind::kStdio) {
        console.enable_raw(STDIN_FILENO);
        cfg.serial_input_filter = [&console](std::vector<uint8_t>& b) { console.filter(b); };
    }

    vx86::core::RunResult result{};
    try {
        vx86::core::Machine machine(std::move(cfg));
        // The JIT where this host has one (x86-64), else the interpreter; --engine picks.
        const std::string engine =
            !opts->engine.empty() ? opts->engine : vx86::jit::available() ? "jit" : "interp";
        vx86::jit::EngineOptions jit_opt;
        if (opts->perf_map) jit_opt.perf_map = "/tmp/perf-" + std::to_string(getpid()) + ".map";
        jit_opt.count_chains = opts->stats;  // (two host instructions per block transition)
        if (!vx86::jit::set_engine(machine.cpu(), *vx86::jit::parse_engine(engine), jit_opt))
            return fail("--engine=" + engine + " is not available on this host");
        result = machine.run();
        std::fflush(stdout);
        if (vx86::jit::divergence(machine.cpu())) {
            // The report is on stderr already; the machine stopped at the diverging block.
            result.exit_code = 5;
            result.message = "stopped: --engine=diff found the engines diverging";
        }
        if (opts->stats) {
            const auto& st = machine.cpu().stats();
            std::fprintf(stderr,
                         "vx86 stats: instructions %llu, blocks built %llu, invalidated %llu, "
                         "TLB misses %llu, exceptions %llu\n%s",
                         (unsigned long long)result.insns, (unsigned long long)st.blocks_built,
                         (unsigned long long)st.blocks_invalidated,
                         (unsigned long long)st.tlb_misses, (unsigned long long)st.exceptions,
                         vx86::jit::format_stats(machine.cpu()).c_str());
        }
        for (uint32_t phys : opts->dump_blocks)
            std::fprintf(stderr, "%s", vx86::jit::disassemble_block(machine.cpu(), phys).c_str());
    } catch (const std::bad_alloc&) {
        return fail("cannot allocate " + std::to_string(opts->ram_mib) + " MiB of guest RAM");
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    std::fflush(stdout);
    console.restore();
    if (g_quit.load()) {
        std::fprintf(stderr, "\nvx86: terminated (Ctrl-A x)\n");
        return 0;
    }
    if (!result.message.empty()) std::fprintf(stderr, "vx86: %s\n", result.message.c_str());
    return result.exit_code;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }

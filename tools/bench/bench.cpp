// vx86-bench: interpreter throughput on a few small guests (real mode; the *32 ones switch to
// flat 32-bit protected mode first).
//
// A benchmark, not a test: it prints figures and asserts nothing beyond "the guest halted".
//
// Design decisions:
// - Each guest (guests/*.asm) is a flat real-mode image loaded at 0x10000 with
//   CS=DS=ES=SS=0x1000 and IP=0. The dword at offset 4 is the outer iteration count; the guest
//   ends with HLT and leaves a checksum in EAX (printed, so two engines or two builds can be
//   compared for equal work).
// - Runs are sized by retired instructions, not by a fixed iteration count: a short calibration
//   (1 iteration, then k iterations until it takes ~0.1 s) gives instructions and time per
//   iteration, and the measured run uses as many iterations as reach --insns, capped so that no
//   guest runs much longer than --max-seconds (REP-heavy guests retire few instructions for a lot
//   of work, however the interpreter counts REP iterations). Calibration time is not counted.
// - Every run builds its own PhysMemory/IoBus/Cpu (no state shared between runs or guests), the
//   way a Machine would, and drives cpu.run() in slices until it reports kHalted.
// - Peak RSS (getrusage) minus the guest RAM size is reported as the emulator's own overhead.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/model.h"
#include "devices/io_bus.h"
#include "mmu/memory.h"

namespace {

using namespace vx86;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kRamBytes = 16u << 20;
constexpr uint32_t kLoadAddr = 0x10000;
constexpr uint16_t kLoadSeg = 0x1000;
constexpr uint32_t kItersOffset = 4;
constexpr uint64_t kSlice = 1'000'000;

struct Options {
    uint64_t insns = 300'000'000;  // target per guest
    double max_seconds = 6.0;      // cap per guest
    cpu::CpuModel model = cpu::CpuModel::kP6;
    std::vector<std::string> guests;
};

struct Guest {
    std::string name;
    std::vector<uint8_t> image;
};

struct RunResult {
    bool ok = false;
    cpu::Exit exit = cpu::Exit::kBudget;
    uint64_t insns = 0;
    double seconds = 0;
    uint32_t eax = 0;
};

void usage(const char* argv0) {
    std::printf(
        "usage: %s [--insns N] [--max-seconds S] [--model NAME] [guest.bin ...]\n"
        "  --insns N        instructions to retire per guest (default 300M; k/M/G suffixes)\n"
        "  --max-seconds S  cap per guest when its instructions are slow (default 6)\n"
        "  --model NAME     CPU model (default p6)\n"
        "  guests default to alu.bin memcopy.bin string.bin hash.bin {alu,hash,memcopy,calls}32.bin\n"
        "  and x87-{add,mul,div,sqrt,fsin}.bin\n"
        "  beside the executable\n",
        argv0);
}

std::optional<uint64_t> parse_count(std::string_view s) {
    if (s.empty()) return std::nullopt;
    uint64_t mult = 1;
    char last = s.back();
    if (last == 'k' || last == 'K') mult = 1'000;
    else if (last == 'm' || last == 'M') mult = 1'000'000;
    else if (last == 'g' || last == 'G') mult = 1'000'000'000;
    if (mult != 1) s.remove_suffix(1);
    std::string str(s);
    char* end = nullptr;
    double v = std::strtod(str.c_str(), &end);
    if (end == str.c_str() || *end != '\0' || v <= 0) return std::nullopt;
    return uint64_t(v * double(mult));
}

std::optional<Options> parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::optional<std::string_view> {
            if (i + 1 >= argc) return std::nullopt;
            return std::string_view(argv[++i]);
        };
        if (a == "-h" || a == "--help") {
            usage(argv[0]);
            std::exit(0);
        } else if (a == "--insns") {
            auto v = value();
            auto n = v ? parse_count(*v) : std::nullopt;
            if (!n) return std::nullopt;
            o.insns = *n;
        } else if (a == "--max-seconds") {
            auto v = value();
            if (!v) return std::nullopt;
            o.max_seconds = std::atof(std::string(*v).c_str());
            if (o.max_seconds <= 0) return std::nullopt;
        } else if (a == "--model") {
            auto v = value();
            auto m = v ? cpu::parse_model(*v) : std::nullopt;
            if (!m) return std::nullopt;
            o.model = *m;
        } else if (a.starts_with("-")) {
            return std::nullopt;
        } else {
            o.guests.emplace_back(a);
        }
    }
    return o;
}

std::optional<Guest> load_guest(const std::filesystem::path& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return std::nullopt;
    Guest g;
    g.name = path.stem().string();
    g.image.assign(std::istreambuf_iterator<char>(f), {});
    if (g.image.size() < kItersOffset + 4 || g.image.size() > 0x8000) return std::nullopt;
    return g;
}

std::filesystem::path exe_dir(const char* argv0) {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) p = std::filesystem::absolute(argv0, ec);
    return p.parent_path();
}

// One fresh machine, one run of `iters` outer iterations. `insn_cap` stops a runaway guest.
RunResult run_guest(const Guest& g, cpu::CpuModel model, uint32_t iters, uint64_t insn_cap) {
    RunResult r;
    std::vector<uint8_t> image = g.image;
    std::memcpy(image.data() + kItersOffset, &iters, 4);

    mmu::PhysMemory mem(kRamBytes);
    devices::IoBus io;
    cpu::Cpu cpu(model, mem, io);
    if (!mem.copy_to(kLoadAddr, image.data(), image.size())) return r;
    cpu.reset();
    for (unsigned seg : {cpu::CS, cpu::DS, cpu::ES, cpu::SS}) cpu.load_seg_real(seg, kLoadSeg);
    cpu.s.eip = 0;
    cpu.set_r32(cpu::ESP, 0xFFFE);

    const auto t0 = Clock::now();
    cpu::Exit e;
    do {
        e = cpu.run(kSlice);
    } while (e == cpu::Exit::kBudget && cpu.s.icount < insn_cap);
    const auto t1 = Clock::now();

    r.exit = e;
    r.ok = e == cpu::Exit::kHalted;
    r.insns = cpu.s.icount;
    r.seconds = std::chrono::duration<double>(t1 - t0).count();
    r.eax = cpu.r32(cpu::EAX);
    if (!r.ok) {
        std::fprintf(stderr,
                     "%s: stopped without HLT (exit %d) at %04x:%04" PRIx64
                     " after %" PRIu64 " instructions, last exception %d\n",
                     g.name.c_str(), int(e), cpu.s.seg[cpu::CS].sel, cpu.s.eip, r.insns,
                     cpu.last_exception());
    }
    return r;
}

struct Plan {
    uint32_t iters = 1;
    bool time_capped = false;
};

// Calibrates instructions and time per outer iteration and picks the iteration count.
std::optional<Plan> plan_guest(const Guest& g, const Options& o) {
    constexpr uint64_t kCalibCap = 2'000'000'000;
    RunResult one = run_guest(g, o.model, 1, kCalibCap);
    if (!one.ok) return std::nullopt;
    uint32_t k = 2;
    RunResult many;
    for (;;) {
        many = run_guest(g, o.model, k, kCalibCap);
        if (!many.ok) return std::nullopt;
        if (many.seconds >= 0.1 || many.insns >= o.insns / 4 || k >= (1u << 24)) break;
        k *= 2;
    }
    const double per_iter_insns = double(many.insns - std::min(many.insns, one.insns)) / (k - 1);
    const double per_iter_secs = std::max(1e-9, (many.seconds - one.seconds) / (k - 1));
    const double base_insns = std::max(0.0, double(one.insns) - per_iter_insns);
    Plan p;
    double by_insns = per_iter_insns > 0 ? (double(o.insns) - base_insns) / per_iter_insns : 1;
    double by_time = o.max_seconds / per_iter_secs;
    double n = by_insns;
    if (by_time < by_insns) {
        n = by_time;
        p.time_capped = true;
    }
    p.iters = uint32_t(std::clamp(n, 1.0, 4e9));
    return p;
}

double peak_rss_mib() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace

// FP operations per instruction in the inner loop of x87-<op>.bin (see guests/x87.asm): eight
// operations among 10 instructions (add) or 18 (mul, div: sixteen operations; sqrt, fsin: eight,
// each beside an FADD that keeps the operand varied); 0 for other guests.
static double x87_ops_per_insn(const std::string& name) {
    if (name == "x87-add") return 8.0 / 10.0;
    if (name == "x87-mul" || name == "x87-div") return 16.0 / 18.0;
    if (name == "x87-sqrt" || name == "x87-fsin") return 8.0 / 18.0;
    return 0;
}

int main(int argc, char** argv) {
    auto opts = parse_args(argc, argv);
    if (!opts) {
        usage(argv[0]);
        return 2;
    }
    if (opts->guests.empty()) {
        auto dir = exe_dir(argv[0]);
        for (const char* n : {"alu.bin", "memcopy.bin", "string.bin", "hash.bin", "alu32.bin",
                              "hash32.bin", "memcopy32.bin", "calls32.bin", "x87-add.bin", "x87-mul.bin",
                              "x87-div.bin", "x87-sqrt.bin", "x87-fsin.bin"})
            opts->guests.push_back((dir / n).string());
    }
    std::vector<Guest> guests;
    for (const auto& path : opts->guests) {
        auto g = load_guest(path);
        if (!g) {
            std::fprintf(stderr, "cannot load guest image %s\n", path.c_str());
            return 1;
        }
        guests.push_back(std::move(*g));
    }

    std::printf("vx86-bench: interpreter, model %s, target %" PRIu64
                " instructions per guest (cap %.1f s)\n",
                cpu::model_traits(opts->model).name, opts->insns, opts->max_seconds);
    std::printf("%-10s %10s %15s %9s %9s  %s\n", "guest", "iters", "instructions", "seconds",
                "MIPS", "checksum");

    uint64_t total_insns = 0;
    double total_secs = 0;
    bool all_ok = true;
    for (const Guest& g : guests) {
        auto plan = plan_guest(g, *opts);
        if (!plan) {
            std::printf("%-10s  failed during calibration\n", g.name.c_str());
            all_ok = false;
            continue;
        }
        RunResult r = run_guest(g, opts->model, plan->iters, UINT64_MAX);
        if (!r.ok) {
            std::printf("%-10s  failed\n", g.name.c_str());
            all_ok = false;
            continue;
        }
        total_insns += r.insns;
        total_secs += r.seconds;
        std::printf("%-10s %10u %15" PRIu64 " %9.3f %9.1f  eax=%08x%s", g.name.c_str(),
                    plan->iters, r.insns, r.seconds, double(r.insns) / r.seconds / 1e6, r.eax,
                    plan->time_capped ? "  (time-capped)" : "");
        // The x87 guests: guest FP operations per second, by the ratio of FP operations to
        // instructions their inner loop has (tools/bench/guests/x87.asm).
        if (double ratio = x87_ops_per_insn(g.name); ratio > 0)
            std::printf("  %.1f M FP ops/s", double(r.insns) * ratio / r.seconds / 1e6);
        std::printf("\n");
        std::fflush(stdout);
    }
    if (total_secs > 0)
        std::printf("%-10s %10s %15" PRIu64 " %9.3f %9.1f\n", "total", "", total_insns, total_secs,
                    double(total_insns) / total_secs / 1e6);
    const double rss = peak_rss_mib();
    std::printf("peak RSS %.1f MiB; minus %u MiB guest RAM: %.1f MiB\n", rss, kRamBytes >> 20,
                rss - double(kRamBytes >> 20));
    return all_ok ? 0 : 1;
}

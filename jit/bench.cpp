// vx86-jit-bench: interpreter versus JIT throughput on the tools/bench guests.
//
//   build/jit/vx86-jit-bench [--insns N] [--runs N] [--jit-only] [--counts] [--dump PHYS] [--perf-map] build/tools/bench/alu.bin ...
//
// Each guest runs --runs times (default 3) on each engine, the engines taking turns, and the
// median MIPS of each is shown: a host's speed drifts by some percent between runs.
// --jit-only skips the timed interpreter run (for profiling the JIT alone); --counts has the JIT
// count chained block runs (EngineOptions::count_chains, off by default as in vx86 without
// --stats: it costs two host instructions per block transition); --dump PHYS (repeatable)
// prints that translated block's guest and host code after the JIT run (the guest is at 0x10000);
// --perf-map writes /tmp/perf-PID.map naming the JIT run's blocks for `perf report`.
//
// A benchmark, not a test: prints MIPS per engine, the guest's checksum (EAX, which must match
// between engines) and the JIT's counters. Guests are loaded like tools/bench does it: flat image
// at 1000:0000, CS=DS=ES=SS=1000h, SP=FFFEh, the dword at offset 4 is the iteration count, the
// guest ends with HLT. Host time is read here only to report throughput.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include "jit/jit.h"

namespace {

using namespace vx86;

struct Result {
    bool halted = false;
    uint64_t insns = 0;
    double seconds = 0;
    uint32_t eax = 0;
    cpu::EngineStats st{};
};

Result run(const std::vector<uint8_t>& image0, uint32_t iters, cpu::Engine engine,
           const std::vector<uint32_t>& dump = {}, const jit::EngineOptions& opt = {}) {
    std::vector<uint8_t> image = image0;
    std::memcpy(image.data() + 4, &iters, 4);
    mmu::PhysMemory mem(16u << 20);
    devices::IoBus io;
    cpu::Cpu c(cpu::CpuModel::kP6, mem, io);
    jit::set_engine(c, engine, opt);
    Result r;
    if (!mem.copy_to(0x10000, image.data(), image.size())) return r;
    for (unsigned seg : {cpu::CS, cpu::DS, cpu::ES, cpu::SS}) c.load_seg_real(seg, 0x1000);
    c.s.eip = 0;
    c.set_r32(cpu::ESP, 0xFFFE);
    auto t0 = std::chrono::steady_clock::now();
    cpu::Exit e;
    do e = c.run(1'000'000);
    while (e == cpu::Exit::kBudget && c.s.icount < 20'000'000'000ull);
    auto t1 = std::chrono::steady_clock::now();
    r.halted = e == cpu::Exit::kHalted;
    r.insns = c.s.icount;
    r.seconds = std::chrono::duration<double>(t1 - t0).count();
    r.eax = c.r32(cpu::EAX);
    for (uint32_t phys : dump) std::printf("%s", jit::disassemble_block(c, phys).c_str());
    if (const cpu::EngineStats* st = c.engine_stats()) r.st = *st;
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t target = 200'000'000;
    unsigned runs = 3;
    std::vector<std::string> guests;
    bool jit_only = false;
    std::vector<uint32_t> dump;
    jit::EngineOptions opt;
    opt.count_chains = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--insns") && i + 1 < argc) target = std::strtoull(argv[++i], nullptr, 0);
        else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) runs = std::max(1u, unsigned(std::strtoul(argv[++i], nullptr, 0)));
        else if (!std::strcmp(argv[i], "--jit-only")) jit_only = true;
        else if (!std::strcmp(argv[i], "--counts")) opt.count_chains = true;
        else if (!std::strcmp(argv[i], "--perf-map")) opt.perf_map = "/tmp/perf-" + std::to_string(getpid()) + ".map";
        else if (!std::strcmp(argv[i], "--dump") && i + 1 < argc)
            dump.push_back(uint32_t(std::strtoul(argv[++i], nullptr, 0)));
        else guests.emplace_back(argv[i]);
    }
    if (guests.empty()) {
        std::printf("usage: %s [--insns N] [--runs N] [--jit-only] [--counts] [--dump PHYS] [--perf-map] guest.bin ...\n", argv[0]);
        return 2;
    }
    std::printf("%-14s %10s %10s %8s  %s\n", "guest", "interp", "jit", "speedup",
                "checksum / inline (static) / block runs: from run loop, chained (of which by direct jump), total");
    std::printf("(MIPS: medians of %u runs each)\n", runs);
    for (const std::string& path : guests) {
        std::ifstream f(path, std::ios::binary);
        std::vector<uint8_t> image{std::istreambuf_iterator<char>(f), {}};
        if (image.size() < 8) {
            std::printf("%s: cannot load\n", path.c_str());
            continue;
        }
        Result cal = run(image, 1, cpu::Engine::kInterp);
        uint32_t iters = uint32_t(std::max<uint64_t>(1, target / std::max<uint64_t>(1, cal.insns)));
        std::vector<double> mips_a, mips_b;
        Result a, b;
        for (unsigned k = 0; k < runs; ++k) {
            b = run(image, iters, cpu::Engine::kJit, k + 1 == runs ? dump : std::vector<uint32_t>{}, opt);
            mips_b.push_back(b.insns / b.seconds / 1e6);
            if (jit_only) continue;
            a = run(image, iters, cpu::Engine::kInterp);
            mips_a.push_back(a.insns / a.seconds / 1e6);
        }
        if (jit_only) a = b;
        const auto median = [](std::vector<double> v) {
            if (v.empty()) return 0.0;
            std::sort(v.begin(), v.end());
            return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
        };
        double ma = median(mips_a), mb = median(mips_b);
        std::string name = path.substr(path.find_last_of('/') + 1);
        const uint64_t chained = b.st.blocks_chained + b.st.blocks_looked_up + b.st.blocks_direct;
        std::printf("%-14s %8.1f M %8.1f M %7.2fx  %08x/%08x%s %.0f%% %" PRIu64, name.c_str(), ma, mb,
                    jit_only ? 0 : mb / ma, a.eax, b.eax,
                    (a.eax == b.eax && a.insns == b.insns && a.halted && b.halted) ? "" : " MISMATCH",
                    b.st.insns_translated ? 100.0 * b.st.insns_inline / b.st.insns_translated : 0.0,
                    b.st.blocks_run_native + b.st.blocks_run_interp);
        if (opt.count_chains)
            std::printf(" %" PRIu64 " (%" PRIu64 " direct) %" PRIu64 "\n", chained, b.st.blocks_direct,
                        b.st.blocks_run_native + b.st.blocks_run_interp + chained);
        else
            std::printf(" (chained runs: --counts)\n");
    }
    return 0;
}

// Native and vx86 executors (design in runners.h).
#include "tests/hostoracle/runners.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "cpu/cpu.h"
#include "jit/jit.h"
#include "devices/io_bus.h"
#include "mmu/memory.h"
#include "tests/hostoracle/generator.h"

extern char** environ;

namespace vx86::hostoracle {

namespace {

struct ProcResult {
    bool started = false;
    bool timed_out = false;
    int status = 0;  // waitpid status
    std::string spawn_error;
};

ProcResult run_process(const std::vector<std::string>& argv, const std::string& out_path,
                       const std::string& err_path, int timeout_s) {
    ProcResult r;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid;
    int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        r.spawn_error = std::strerror(rc);
        return r;
    }
    r.started = true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
        pid_t w = waitpid(pid, &r.status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) break;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &r.status, 0);
            r.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return r;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    return bool(f);
}

std::string describe(const ProcResult& r) {
    if (!r.started) return "could not start: " + r.spawn_error;
    if (r.timed_out) return "timed out";
    if (WIFSIGNALED(r.status)) return std::string("killed by signal ") + strsignal(WTERMSIG(r.status));
    if (WIFEXITED(r.status)) return "exit status " + std::to_string(WEXITSTATUS(r.status));
    return "unknown wait status";
}

bool succeeded(const ProcResult& r) {
    return r.started && !r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
}

// Runs a tool; on failure returns a message quoting its stderr.
std::string tool(const std::vector<std::string>& argv, const std::string& stem) {
    ProcResult r = run_process(argv, stem + ".tool.out", stem + ".tool.err", 120);
    if (succeeded(r)) return {};
    std::string err = read_file(stem + ".tool.err");
    if (err.size() > 2000) err.resize(2000);
    return argv[0] + " " + describe(r) + (err.empty() ? "" : ":\n" + err);
}

// Assemble + link an ELF32 program; returns an error or empty.
std::string build_native(const Tools& t, const std::string& source, const std::string& stem) {
    if (!write_file(stem + ".asm", source)) return "cannot write " + stem + ".asm";
    std::string e = tool({t.nasm, "-Werror", "-f", "elf32", "-o", stem + ".o", stem + ".asm"}, stem);
    if (!e.empty()) return e;
    return tool({t.ld, "-m", "elf_i386", "-o", stem, stem + ".o"}, stem);
}

}  // namespace

std::string probe_host(const Tools& t) {
#if !defined(__linux__) || !(defined(__x86_64__) || defined(__i386__))
    (void)t;
    return "not an x86 Linux host";
#else
    const std::string stem = t.workdir + "/probe";
    const std::string src =
        "bits 32\nsection .data\nmsg: db 'ok', 10\nsection .text\nglobal _start\n_start:\n"
        "mov eax, 4\nmov ebx, 1\nmov ecx, msg\nmov edx, 3\nint 0x80\nmov eax, 1\nxor ebx, ebx\n"
        "int 0x80\n";
    if (!write_file(stem + ".asm", src)) return "cannot write to the work directory " + t.workdir;
    std::string e = tool({t.nasm, "-f", "elf32", "-o", stem + ".o", stem + ".asm"}, stem);
    if (!e.empty()) return "nasm cannot build an elf32 object (" + e + ")";
    e = tool({t.ld, "-m", "elf_i386", "-o", stem, stem + ".o"}, stem);
    if (!e.empty()) return "ld cannot link elf_i386 (" + e + ")";
    ProcResult r = run_process({stem}, stem + ".out", stem + ".err", 20);
    if (!succeeded(r)) return "probe program " + describe(r);
    if (read_file(stem + ".out") != "ok\n") return "probe program printed the wrong output";
    return {};
#endif
}

RunResult run_native(const Tools& t, const std::string& source, const std::string& stem,
                     unsigned ncases) {
    RunResult res;
    std::string e = build_native(t, source, stem);
    if (!e.empty()) {
        res.error = e;
        return res;
    }
    ProcResult r = run_process({stem}, stem + ".out", stem + ".err", 60);
    if (!succeeded(r)) {
        res.error = "native program " + stem + " " + describe(r);
        return res;
    }
    std::string out = read_file(stem + ".out");
    if (out.size() != size_t(ncases) * kRecordBytes) {
        res.error = "native program wrote " + std::to_string(out.size()) + " bytes, expected " +
                    std::to_string(size_t(ncases) * kRecordBytes);
        return res;
    }
    res.records.assign(out.begin(), out.end());
    res.notes.assign(ncases, {});
    res.ok = true;
    return res;
}

namespace {

// Real mode: code and data in separate 64 KiB segments, interrupt vectors to HLT stubs.
constexpr uint16_t kCodeSeg = 0x1000, kDataSeg = 0x2000, kStubSeg = 0x0050;
constexpr uint32_t kCodePhys = uint32_t(kCodeSeg) << 4, kDataPhys = uint32_t(kDataSeg) << 4;
constexpr uint32_t kStackTop = 0xFFF0;
// Protected mode: flat segments; GDT, IDT (interrupt gate v -> HLT at kPmStubs+v) and stack in
// the first MiB, which is otherwise filled with HLT so that a stray jump stops at once.
constexpr uint32_t kPmGdt = 0x1000, kPmIdt = 0x2000, kPmStubs = 0x3000, kPmStackTop = 0x80000;
constexpr uint16_t kPmCodeSel = 0x08, kPmDataSel = 0x10;
constexpr uint32_t kPmMemBytes = 8u << 20;
static_assert(kPmCodeBase + kPmCodeMax <= kPmRecordsBase &&
              kPmRecordsBase + kPmRecordsMax <= kPmMemBytes);
// A whole program retires well under a million instructions per 400 cases; running out of
// this budget means a case is looping (or vx86 jumped somewhere wild).
constexpr uint64_t kBudgetPerCase = 10000;

std::string hex(uint32_t v, int w) {
    char b[16];
    std::snprintf(b, sizeof b, "%0*X", w, v);
    return b;
}

uint32_t dword_at(const std::string& bin, size_t off) {
    uint32_t v = 0;
    std::memcpy(&v, bin.data() + off, 4);
    return v;
}

// Descriptor bytes for base 0, limit 4 GiB (G=1), the given access byte and D/B=1.
void put_flat_descriptor(std::vector<uint8_t>& gdt, unsigned sel, uint8_t access) {
    const uint8_t d[8] = {0xFF, 0xFF, 0x00, 0x00, 0x00, access, 0xCF, 0x00};
    std::memcpy(gdt.data() + sel, d, 8);
}

}  // namespace

RunResult run_vx86(const Tools& t, const std::string& source, const std::string& stem,
                   const std::vector<uint8_t>& records, Mode mode, bool assemble_only) {
    RunResult res;
    const bool pm = mode == Mode::kProtected;
    const unsigned ncases = unsigned(records.size() / kRecordBytes);
    if (!write_file(stem + ".asm", source)) {
        res.error = "cannot write " + stem + ".asm";
        return res;
    }
    std::string e = tool({t.nasm, "-Werror", "-f", "bin", "-o", stem + ".bin", stem + ".asm"}, stem);
    if (!e.empty()) {
        res.error = e;
        return res;
    }
    std::string bin = read_file(stem + ".bin");
    const uint32_t org = pm ? kPmCodeBase : 0;
    const size_t max_bin = pm ? kPmCodeMax : 0xFF00;
    if (bin.size() < 12 || bin.size() > max_bin) {
        res.error = "vx86 binary has a bad size (" + std::to_string(bin.size()) + " bytes)";
        return res;
    }
    // Trailer: entry table address, case count, magic.
    size_t tail = bin.size() - 12;
    uint32_t table = dword_at(bin, tail) - org, count = dword_at(bin, tail + 4),
             magic = dword_at(bin, tail + 8);
    if (magic != kTrailerMagic || count != ncases || table > tail || tail - table != 4ull * count) {
        res.error = "vx86 binary trailer is malformed";
        return res;
    }
    std::vector<uint32_t> entry(count);
    for (unsigned i = 0; i < count; ++i) entry[i] = dword_at(bin, table + 4 * i);
    const uint32_t rec_bytes = ncases * kRecordBytes;
    if (pm ? rec_bytes > kPmRecordsMax : kVx86RecordsOffset + rec_bytes > kStackTop - 0x100) {
        res.error = "too many cases for the vx86 record area";
        return res;
    }
    if (assemble_only) {
        res.ok = true;
        return res;
    }
    const uint32_t rec_lin = pm ? kPmRecordsBase : kDataPhys + kVx86RecordsOffset;
    const uint32_t code_lin = pm ? kPmCodeBase : kCodePhys;

    mmu::PhysMemory mem(pm ? kPmMemBytes : 2u << 20);
    devices::IoBus io;
    if (pm) {
        std::vector<uint8_t> low(0x100000, 0xF4);  // HLT everywhere
        std::vector<uint8_t> gdt(24, 0);
        put_flat_descriptor(gdt, kPmCodeSel, 0x9B);
        put_flat_descriptor(gdt, kPmDataSel, 0x93);
        std::memcpy(low.data() + kPmGdt, gdt.data(), gdt.size());
        for (unsigned v = 0; v < 256; ++v) {
            uint32_t off = kPmStubs + v;
            const uint8_t g[8] = {uint8_t(off), uint8_t(off >> 8), uint8_t(kPmCodeSel), 0, 0, 0x8E,
                                  uint8_t(off >> 16), uint8_t(off >> 24)};
            std::memcpy(low.data() + kPmIdt + 8 * v, g, 8);
        }
        mem.copy_to(0, low.data(), low.size());
    } else {
        // IVT: vector v -> 0050:v, where a HLT waits.
        std::vector<uint8_t> ivt(0x400), stubs(256, 0xF4);
        for (unsigned v = 0; v < 256; ++v) {
            ivt[4 * v] = uint8_t(v);
            ivt[4 * v + 1] = 0;
            ivt[4 * v + 2] = uint8_t(kStubSeg);
            ivt[4 * v + 3] = uint8_t(kStubSeg >> 8);
        }
        std::vector<uint8_t> zeros(0x10000, 0);
        mem.copy_to(0, ivt.data(), ivt.size());
        mem.copy_to(uint32_t(kStubSeg) << 4, stubs.data(), stubs.size());
        mem.copy_to(kDataPhys, zeros.data(), zeros.size());
    }
    mem.copy_to(rec_lin, records.data(), records.size());
    mem.copy_to(code_lin, bin.data(), bin.size());

    cpu::Cpu cpu(cpu::CpuModel::kP6, mem, io);
    if (t.jit && !jit::set_engine(cpu, cpu::Engine::kJit)) {
        res.error = "the JIT is not available on this host";
        return res;
    }
    res.notes.assign(ncases, {});
    // Every start is from reset, so last_exception() tells whether this run took one.
    auto start_at = [&](unsigned k) {
        cpu.reset();
        if (pm) {
            cpu.s.cr[0] |= 1;  // PE
            cpu.s.gdtr = {kPmGdt, 23};
            cpu.s.idtr = {kPmIdt, 256 * 8 - 1};
            cpu.s.seg[cpu::CS] = cpu::Segment{0, 0xFFFFFFFFu, kPmCodeSel, 0xC09B};
            for (unsigned sreg : {cpu::DS, cpu::ES, cpu::SS, cpu::FS, cpu::GS})
                cpu.s.seg[sreg] = cpu::Segment{0, 0xFFFFFFFFu, kPmDataSel, 0xC093};
            cpu.s.gpr[cpu::ESP] = kPmStackTop;
        } else {
            cpu.load_seg_real(cpu::CS, kCodeSeg);
            for (unsigned sreg : {cpu::DS, cpu::ES, cpu::SS, cpu::FS, cpu::GS})
                cpu.load_seg_real(sreg, kDataSeg);
            cpu.s.gpr[cpu::ESP] = kStackTop;
        }
        cpu.set_eflags(2);
        cpu.s.halted = 0;
        if (k == 0) {
            cpu.s.eip = pm ? org : 0;  // the program's first line sets EBP up
        } else {
            cpu.s.eip = entry[k];
            cpu.s.gpr[cpu::EBP] = (pm ? kPmRecordsBase : kVx86RecordsOffset) + kHeaderBytes +
                                  (k - 1) * kRecordBytes;
        }
    };
    // The case that was running: the one after the last completed case, not before the case
    // the run was last resumed at (the failed case before it never sets its marker).
    unsigned resumed_at = 0;
    auto current_case = [&]() -> unsigned {
        for (unsigned k = ncases; k-- > resumed_at;) {
            uint32_t marker = 0;
            mem.copy_from(rec_lin + k * kRecordBytes + 4 * kMarkerWord, &marker, 4);
            if (marker == kMarkerBase + k) return k + 1;
        }
        return resumed_at;
    };

    start_at(0);
    unsigned restarts = 0;
    const uint64_t budget = kBudgetPerCase * (ncases + 16);
    for (;;) {
        cpu::Exit x = cpu.run(budget);
        uint16_t cs = cpu.s.seg[cpu::CS].sel;
        uint32_t eip = uint32_t(cpu.s.eip);
        uint32_t lin = cpu.s.seg[cpu::CS].base + eip;
        int exc = cpu.last_exception();
        bool in_code = lin > code_lin && lin <= code_lin + bin.size();
        if (x == cpu::Exit::kHalted && in_code && exc < 0) break;  // the final HLT
        std::string at = hex(cs, 4) + ":" + hex(eip, pm ? 8 : 4);
        std::string note;
        if (exc >= 0) {
            note = "vx86 raised exception " + std::to_string(exc);
            // Where it was raised, from the frame the stub's gate or vector pushed.
            uint32_t sp = uint32_t(cpu.s.gpr[cpu::ESP]);
            if (pm && x == cpu::Exit::kHalted && lin > kPmStubs && lin <= kPmStubs + 256) {
                unsigned vec = lin - kPmStubs - 1;
                bool err = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;
                uint32_t fe = 0, fcs = 0, code = 0;
                if (err) mem.copy_from(sp, &code, 4);
                mem.copy_from(sp + (err ? 4 : 0), &fe, 4);
                mem.copy_from(sp + (err ? 8 : 4), &fcs, 2);
                note += " (vector " + std::to_string(vec) + " at " + hex(fcs, 4) + ":" + hex(fe, 8) +
                        (err ? ", error code " + hex(code, 4) : std::string()) + ")";
            } else if (!pm && x == cpu::Exit::kHalted && cs == kStubSeg) {
                uint16_t ip = 0, fcs = 0;
                mem.copy_from(kDataPhys + (sp & 0xFFFF), &ip, 2);
                mem.copy_from(kDataPhys + ((sp + 2) & 0xFFFF), &fcs, 2);
                note += " (vector " + std::to_string((eip - 1) & 0xFF) + " at " + hex(fcs, 4) + ":" +
                        hex(ip, 4) + ")";
            } else {
                note += ", then stopped at " + at + " (exit " + std::to_string(int(x)) + ")";
            }
        } else if (x == cpu::Exit::kHalted) {
            note = "vx86 halted at " + at;
        } else if (x == cpu::Exit::kShutdown) {
            note = "vx86 shut down (triple fault) at " + at;
        } else if (x == cpu::Exit::kBudget) {
            note = "vx86 ran away (instruction budget exhausted) at " + at;
        } else {
            note = "vx86 stopped unexpectedly at " + at;
        }
        unsigned k = current_case();
        if (k >= ncases) {
            res.error = note + " after the last case";
            return res;
        }
        res.notes[k] = note;
        if (++restarts > ncases || k + 1 >= ncases) break;
        resumed_at = k + 1;
        start_at(k + 1);
    }
    res.records.resize(rec_bytes);
    mem.copy_from(rec_lin, res.records.data(), rec_bytes);
    res.ok = true;
    return res;
}

}  // namespace vx86::hostoracle

// The JIT's public face: engines a Cpu can run its decoded blocks with.
//
// Design decisions:
// - cpu/ defines the hook (Cpu::BlockEngine, Cpu::set_engine) and never links the code
//   generator; this library implements it. A Cpu without an engine is the interpreter, unchanged.
// - The x86-64 engine translates exactly the interpreter's decoded blocks (same decoder, same
//   boundaries, same cache and invalidation) and is judged against the interpreter by the
//   differential test (tests/unit/jit_diff_test.cpp).
// - Lockstep mode (--engine=diff, jit/diff_engine.cpp) wraps an engine and runs every block in
//   the interpreter and then in it, from the same state, and stops the CPU at the first block
//   whose results differ. Its findings are data (Divergence), printed by a replaceable sink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu.h"

namespace vx86::jit {

// True when this build can generate code for the host (x86-64).
bool available();

struct EngineOptions {
    // Generated code held at most (about): past it the whole cache is flushed and refilled.
    size_t cache_bytes = size_t(64) << 20;
    // When set: a file to append one "ADDR SIZE vx86:PHYS.BITS" line per translation to (the
    // perf-PID.map format, so `perf report` names generated code by its guest block).
    std::string perf_map;
    // Count every block entered by a link (EngineStats::blocks_chained, blocks_direct): two
    // host instructions per block transition. vx86 sets it for --stats only.
    bool count_chains = true;
    // Use the host's BMI2 instructions (RORX) where it has them; off: the plain forms (for
    // testing them on a host that has BMI2).
    bool host_bmi2 = true;
};

// A new x86-64 block engine for `cpu` (one engine per Cpu: generated code embeds its addresses).
// nullptr when !available().
std::unique_ptr<cpu::Cpu::BlockEngine> make_x64_engine(cpu::Cpu& cpu, const EngineOptions& opt = {});

// Selects the engine of `cpu`: kInterp removes any engine, kJit installs the x86-64 one, kDiff
// the lockstep checker around the x86-64 one (divergences reported on stderr). False (and the
// interpreter kept) when the JIT is not available on this host.
bool set_engine(cpu::Cpu& cpu, cpu::Engine engine, const EngineOptions& opt = {});

// The engine's counters as text (one "name value" line each; "engine interp" for the
// interpreter): what --stats prints.
std::string format_stats(const cpu::Cpu& cpu);

// The translated block at physical address `phys` (either code size, or both when both exist):
// its guest instructions and the generated host code, disassembled. Explains itself when there
// is no such block or no JIT engine.
std::string disassemble_block(cpu::Cpu& cpu, uint32_t phys);

// The first block on which the lockstep checker saw the interpreter and its inner engine
// disagree: what each left in the architectural state and in guest RAM.
struct Divergence {
    uint32_t phys = 0;              // the block's physical address
    uint32_t insns = 0;             // instructions in the block (as decoded)
    uint64_t blocks_compared = 0;   // blocks that agreed before this one
    struct Field {
        std::string name;           // "eax", "eflags", "cs.base", "cr0", "fault", ...
        uint64_t interp, inner;
    };
    std::vector<Field> fields;      // the differing state fields
    struct Byte {
        uint32_t phys;
        uint8_t interp, inner;
    };
    std::vector<Byte> memory;       // the differing bytes of guest RAM, by address
    std::string report;             // the text the default sink prints on stderr
};
using DivergenceSink = std::function<void(const Divergence&)>;

struct DiffStats {
    uint64_t blocks_compared = 0;
    uint64_t blocks_faulted = 0;       // ... of which both runs raised the same fault
    uint64_t blocks_not_compared = 0;  // touched I/O, MMIO, code pages, FERR# or the clock
    uint64_t blocks_cut = 0;       // compared one instruction long (entered right after an event)
    uint64_t blocks_retried = 0;   // the inner engine declined (code-cache flush): run again
    uint64_t divergences = 0;
};

// A lockstep checker for `cpu` around `inner` (see diff_engine.cpp). `sink` receives the first
// divergence (default: print its report on stderr); the CPU is then stopped (Exit::kStop) and
// stays stopped (every later block is refused) while this engine is installed.
std::unique_ptr<cpu::Cpu::BlockEngine> make_diff_engine(cpu::Cpu& cpu,
                                                        std::unique_ptr<cpu::Cpu::BlockEngine> inner,
                                                        DivergenceSink sink = {});
// The divergence the checker installed in `cpu` found, or nullptr (none yet, or no checker).
const Divergence* divergence(const cpu::Cpu& cpu);
// The checker's counters, or nullptr when `cpu` runs no checker.
const DiffStats* diff_stats(const cpu::Cpu& cpu);
// format_stats' lines for the checker (its header "engine diff" and counters).
std::string format_diff_stats(const cpu::Cpu& cpu);

// "interp" | "jit" | "diff" (the --engine= values).
std::optional<cpu::Engine> parse_engine(std::string_view name);

}  // namespace vx86::jit

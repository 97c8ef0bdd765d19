// The JIT's public face: engines a Cpu can run its decoded blocks with.
//
// Design decisions:
// - cpu/ defines the hook (Cpu::BlockEngine, Cpu::set_engine) and never links the code
//   generator; this library implements it. A Cpu without an engine is the interpreter, unchanged.
// - The x86-64 engine translates exactly the interpreter's decoded blocks (same decoder, same
//   boundaries, same cache and invalidation) and is judged against the interpreter by the
//   differential test (tests/unit/jit_diff_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
};

// A new x86-64 block engine for `cpu` (one engine per Cpu: generated code embeds its addresses).
// nullptr when !available().
std::unique_ptr<cpu::Cpu::BlockEngine> make_x64_engine(cpu::Cpu& cpu, const EngineOptions& opt = {});

// Selects the engine of `cpu`: kInterp removes any engine, kJit installs the x86-64 one. False
// (and the interpreter kept) when the JIT is not available on this host.
bool set_engine(cpu::Cpu& cpu, cpu::Engine engine, const EngineOptions& opt = {});

// The engine's counters as text (one "name value" line each; "engine interp" for the
// interpreter): what --stats prints.
std::string format_stats(const cpu::Cpu& cpu);

// The translated block at physical address `phys` (either code size, or both when both exist):
// its guest instructions and the generated host code, disassembled. Explains itself when there
// is no such block or no JIT engine.
std::string disassemble_block(cpu::Cpu& cpu, uint32_t phys);

// "interp" | "jit" (the --engine= values).
std::optional<cpu::Engine> parse_engine(std::string_view name);

}  // namespace vx86::jit

// The JIT's public face: engines a Cpu can run its decoded blocks with.
//
// Design decisions:
// - cpu/ defines the hook (Cpu::BlockEngine, Cpu::set_engine) and never links the code
//   generator; this library implements it. A Cpu without an engine is the interpreter, unchanged.
// - The x86-64 engine translates exactly the interpreter's decoded blocks (same decoder, same
//   boundaries, same cache and invalidation) and is judged against the interpreter by the
//   differential test (tests/unit/jit_diff_test.cpp).
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "cpu/cpu.h"

namespace vx86::jit {

// True when this build can generate code for the host (x86-64).
bool available();

// A new x86-64 block engine for `cpu` (one engine per Cpu: generated code embeds its addresses).
// nullptr when !available().
std::unique_ptr<cpu::Cpu::BlockEngine> make_x64_engine(cpu::Cpu& cpu);

// Selects the engine of `cpu`: kInterp removes any engine, kJit installs the x86-64 one. False
// (and the interpreter kept) when the JIT is not available on this host.
bool set_engine(cpu::Cpu& cpu, cpu::Engine engine);

// "interp" | "jit" (the --engine= values).
std::optional<cpu::Engine> parse_engine(std::string_view name);

}  // namespace vx86::jit

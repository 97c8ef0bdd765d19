// The two executors of a generated program: the host CPU (as a 32-bit Linux process) and vx86.
//
// Design decisions:
// - Both produce the same thing, the raw record area (kRecordBytes per case), so the comparison
//   knows nothing about how a run happened.
// - Native: nasm -f elf32, ld -m elf_i386, run with stdout to a file; every tool's stderr goes
//   to a file in the work directory and is quoted on failure. Children are waited for with a
//   timeout and killed by pid only.
// - vx86, protected mode (the default): nasm -f bin under `bits 32`, org kPmCodeBase, records at
//   kPmRecordsBase, state poked straight into CpuState: CR0.PE, flat 4 GiB CS (selector 08h,
//   32-bit) and DS/ES/SS/FS/GS (10h), with a GDT holding those descriptors and an IDT whose
//   interrupt gate v points at a HLT at kPmStubs+v. The rest of the first MiB is HLT, so even a
//   stray transfer stops at once. Every (re)start begins with Cpu::reset(), so
//   last_exception() >= 0 after run() means the run took an exception.
// - vx86, real mode: nasm -f bin under `bits 16`. Code lives in its own segment (CS=0x1000)
//   and the records and stack in another (DS=ES=SS=FS=GS=0x2000), so 64 KiB of code and 64 KiB
//   of data both fit the real-mode limit. Every interrupt vector points at its own HLT stub
//   (0050:v).
// - In both modes an exception stops the CPU at a recognisable place; the runner then notes the
//   exception against the case that was running (the first without its completion marker) and
//   resumes, from reset, at the next case through the entry table the program carries (the
//   trailer: dwords table address, case count, magic). A missing or broken instruction in vx86
//   therefore costs one case, not a whole program. Runaway cases (budget exhausted) and triple
//   faults are handled the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/hostoracle/generator.h"

namespace vx86::hostoracle {

struct Tools {
    std::string nasm;
    std::string ld = "ld";
    std::string workdir;
    bool jit = false;  // run vx86's CPU with the JIT engine (--engine jit) instead of the interpreter
};

struct RunResult {
    bool ok = false;
    std::string error;                  // why the whole run failed
    std::vector<uint8_t> records;       // ncases * kRecordBytes
    std::vector<std::string> notes;     // per case: why vx86 did not finish it (or empty)
};

// Empty when the host runs 32-bit x86 Linux programs; otherwise the reason it cannot.
std::string probe_host(const Tools& tools);

RunResult run_native(const Tools& tools, const std::string& source, const std::string& stem,
                     unsigned ncases);
// With `assemble_only`, stops after building and checking the binary (records stay empty).
// `records` is the initial record area (initial_records()), copied into the data segment.
RunResult run_vx86(const Tools& tools, const std::string& source, const std::string& stem,
                   const std::vector<uint8_t>& records, Mode mode, bool assemble_only = false);

}  // namespace vx86::hostoracle

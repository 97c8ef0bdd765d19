// The two executors of a generated program: the host CPU (as a 32-bit Linux process) and vx86.
//
// Design decisions:
// - Both produce the same thing, the raw record area (kRecordBytes per case), so the comparison
//   knows nothing about how a run happened.
// - Native: nasm -f elf32, ld -m elf_i386, run with stdout to a file; every tool's stderr goes
//   to a file in the work directory and is quoted on failure. Children are waited for with a
//   timeout and killed by pid only.
// - vx86: nasm -f bin under `bits 16`. Code lives in its own segment (CS=0x1000) and the records
//   and stack in another (DS=ES=SS=FS=GS=0x2000), so 64 KiB of code and 64 KiB of data both fit
//   the real-mode limit -- a deviation from "all segments 0x1000" that doubles the cases per
//   program. Every interrupt vector points at its own HLT stub (0050:v), so an exception stops
//   the CPU at a recognisable place; the runner then notes the exception against the case that
//   was running (the first without its completion marker) and resumes at the next case through
//   the entry table the program carries as a trailer. A missing or broken instruction in vx86
//   therefore costs one case, not a whole program. Runaway cases (budget exhausted) are handled
//   the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vx86::hostoracle {

struct Tools {
    std::string nasm;
    std::string ld = "ld";
    std::string workdir;
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
                   const std::vector<uint8_t>& records, bool assemble_only = false);

}  // namespace vx86::hostoracle

// Tracer: `--trace FILE`, one line per executed instruction:
//   f000:fff0  ea 5b e0 00 f0        ljmp 0xf000:0xe05b      ; cs=f000 eip=0000e05b
//
// Design decisions:
// - It is a cpu::InsnObserver, so the interpreter knows nothing about formatting; the CPU hands
//   over the state before the instruction, the instruction bytes and any exception vector, and
//   the tracer diffs `before` against the state after.
// - Disassembly comes from Capstone, independent of the Zydis-based decoder the CPU executes
//   with: a trace that disagrees with what the CPU did points at a decoder bug instead of hiding
//   it. The 16/32-bit mode is taken from `before` (the CS D bit the instruction was fetched
//   under), not from the CPU afterwards, so a far jump into 32-bit code is still shown as the
//   16-bit instruction it was. One handle per mode is opened up front and one cs_insn is reused
//   through cs_disasm_iter, so the per-line cost is a decode and a few snprintf calls, with no
//   allocation.
// - The note after ';' lists every general register, segment selector, EFLAGS and control
//   register whose value changed. A segment is listed when its selector or its hidden base
//   changed, so the BIOS's first far jump shows `cs=f000` even though the selector was already
//   0xF000 at reset (the base moves from 0xFFFF0000 to 0xF0000). EIP is listed only when it did not simply advance by the
//   instruction's length (jumps, calls, interrupts), so straight-line code stays readable.
//   When the instruction raised an exception the note says so first, and the registers shown
//   are those after delivery.
// - Output may be millions of lines: lines are formatted into a 1 MiB buffer written with one
//   fwrite when full and at destruction (or flush()). A trace of a guest that dies is complete
//   because Machine destroys the tracer on every exit path.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "cpu/cpu.h"

namespace vx86::core {

class Tracer final : public cpu::InsnObserver {
public:
    // Opens (truncates) `path`; throws std::runtime_error naming the file if it cannot.
    explicit Tracer(const std::string& path);
    // Writes to `out`, which the caller keeps open and closes.
    explicit Tracer(std::FILE* out);
    ~Tracer() override;
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    void on_insn(const cpu::Cpu& cpu, const cpu::CpuState& before, const uint8_t* bytes,
                 unsigned len, int vector) override;
    void flush();
    uint64_t lines() const { return lines_; }

    // Formats one line (without the newline) into `out`; exposed for tests.
    void format(const cpu::Cpu& cpu, const cpu::CpuState& before, const uint8_t* bytes,
                unsigned len, int vector, std::string& out);

private:
    void open_capstone();

    std::FILE* out_ = nullptr;
    bool owns_ = false;
    size_t cs16_ = 0;  // csh handles (size_t in Capstone 4), kept opaque to avoid the header here
    size_t cs32_ = 0;
    void* insn16_ = nullptr;  // cs_insn*, allocated once per handle with cs_malloc
    void* insn32_ = nullptr;
    std::string buf_;
    std::string line_;
    uint64_t lines_ = 0;
};

}  // namespace vx86::core

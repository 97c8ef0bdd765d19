// Random test-case generator for the host oracle.
//
// Design decisions:
// - A case is a short sequence of "units". A unit is one instruction under test plus, when the
//   instruction needs a particular operand to be well defined, the flag-neutral MOV/LEA lines that
//   set that operand up right before it (the divisor and dividend of DIV, CL of a shift by CL, a
//   nonzero BSF source, ESI/EDI/ECX of a string instruction). Setting operands up inside the unit
//   means the generator knows every value that decides definedness without simulating anything.
// - Undefined flags are tracked through the sequence rather than OR-ed blindly: each unit states
//   which flags it reads, which it writes with a defined value and which it leaves undefined.
//   The generator keeps the set U of currently undefined flags (U = (U - defined) | undefined),
//   refuses a unit that reads a flag in U (ADC after MUL would compare vendor noise), and the
//   case's compare mask is U at the end. This is both stricter and more exact than the union of
//   every instruction's undefined flags: a flag left undefined by MUL and then recomputed by ADD
//   is compared.
// - Memory operands only ever address a 64-byte scratch window at [ebp+0..63] (or the same bytes
//   by absolute address, SCR, which emit_asm defines per case and build); ENTER's unit also
//   fills record header slots below EBP, which the case's end rewrites. EBP and ESP are reserved
//   (EBP points at the current case's record, whose address differs between the native and the
//   vx86 build): units only ever use them in balanced ways. Every other general register is
//   random input. String instructions are always a case's last unit, so that ESI/EDI still hold
//   scratch addresses at the end and can be compared relative to EBP.
// - Segment registers are only ever loaded with what DS/ES/SS hold (the flat data selector on
//   both sides), and far transfers stay in the current code segment; selector values, which
//   differ between the runs, never stay in a compared register or scratch byte.
// - Initial scratch contents travel as data, not code (the native build's .data, copied into
//   the data segment by the vx86 runner).
// - Two vx86 modes. Protected mode (the default) runs the very bytes the host runs: `bits 32`,
//   flat 4 GiB segments, the program linked at a fixed linear address. Real mode assembles the
//   same text under `bits 16` (nasm adds the 66h/67h prefixes); 64 KiB of code then limits a
//   program to a few hundred cases. The text is written so that both readings mean the same:
//   `a32`/`o32` are no-ops under `bits 32` and select ESI/EDI/ECX and 32-bit stack slots under
//   `bits 16`; raw-byte forms (the SDM's multi-byte NOPs) are only generated for protected mode.
// - Values that depend on where the stack or the record lives (LEA with an EBP/ESP base, XLAT's
//   table pointer, ENTER's frame pointer) are made relative before they are compared, without
//   touching a flag: `push ebp; not ebp; lea r, [r+ebp+1]; pop ebp` subtracts EBP.
// - Stack use is balanced inside a unit (PUSH/POP in mixed sizes, PUSHAD/POPAD, ENTER/LEAVE,
//   CALL/RET); the stack itself is not compared, only what is popped from it.
// - Control-flow units (Jcc, JECXZ, LOOPcc, JMP/CALL direct and indirect, RET imm) use labels
//   local to the case and only ever branch forward or around a bounded loop.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace vx86::hostoracle {

inline constexpr uint32_t kCF = 1u << 0, kPF = 1u << 2, kAF = 1u << 4, kZF = 1u << 6,
                          kSF = 1u << 7, kDF = 1u << 10, kOF = 1u << 11;
inline constexpr uint32_t kArith = kCF | kPF | kAF | kZF | kSF | kOF;
inline constexpr uint32_t kCompareFlags = kArith | kDF;

// Output record per case: header at [ebp-32], scratch at [ebp+0..63].
inline constexpr unsigned kScratchBytes = 64;
inline constexpr unsigned kHeaderBytes = 32;
inline constexpr unsigned kRecordBytes = kHeaderBytes + kScratchBytes;
// Header layout (dwords): eax ecx edx ebx esi edi eflags marker.
inline constexpr unsigned kNumOutRegs = 6;
inline constexpr unsigned kMarkerWord = 7;               // header dword set last: case completed
inline constexpr uint32_t kMarkerBase = 0x5A000000u;     // marker = base + case index
// vx86 build: records start at this offset of the data segment (real mode) or at this linear
// address (protected mode); the program's trailer (dwords: entry table address, case count,
// magic) ends the binary.
inline constexpr unsigned kVx86RecordsOffset = 0x100;
inline constexpr uint32_t kPmCodeBase = 0x00100000u;     // org of the protected-mode binary
inline constexpr uint32_t kPmCodeMax = 0x00300000u;      // bytes available for it
inline constexpr uint32_t kPmRecordsBase = 0x00400000u;  // linear address of the records
inline constexpr uint32_t kPmRecordsMax = 0x00300000u;
inline constexpr uint32_t kTrailerMagic = 0x4F48;

enum class Mode { kReal, kProtected };
extern const char* const kOutRegNames[kNumOutRegs];

struct Case {
    unsigned index = 0;                   // within its program
    std::vector<std::string> classes;     // instruction class of every unit, in order
    std::vector<std::string> lines;       // instruction text (setup lines included)
    uint32_t init_regs[kNumOutRegs] = {}; // eax ecx edx ebx esi edi
    uint32_t init_flags = 0;
    bool init_scratch = false;  // scratch is filled with `scratch` before the case
    uint8_t scratch[kScratchBytes] = {};
    uint32_t flag_mask = 0;     // flags that are undefined at the end of the case
    uint8_t reg_mask = 0;       // bit r: output register r is undefined at the end
    bool string_case = false;   // ESI/EDI are compared relative to EBP
};

struct Program {
    std::vector<Case> cases;
};

enum class Target { kNative, kVx86 };

class Generator {
public:
    Generator(uint32_t seed, Mode mode) : rng_(seed), mode_(mode) {}
    Program make_program(unsigned ncases);

private:
    Case make_case(unsigned index);
    uint32_t rnd(uint32_t n) { return uint32_t(rng_() % n); }
    bool chance(unsigned percent) { return rnd(100) < percent; }
    uint32_t value(int bits);
    std::mt19937 rng_;
    Mode mode_;
};

// The record area before the program runs: headers zero, each memory-using case's scratch
// filled with its initial bytes. The native build carries it as .data; vx86's runner copies it
// into the data segment.
std::vector<uint8_t> initial_records(const Program& p);

// The assembly source of a program for one build. Native: an ELF32 _start that writes the
// records to stdout. vx86: a flat binary ending in HLT, followed by a table of case entry
// addresses and the trailer (see runners.h). Real mode: entered at offset 0 with CS != DS.
// Protected mode: `bits 32`, org kPmCodeBase, records at kPmRecordsBase.
std::string emit_asm(const Program& p, Target t, Mode mode);

// Pieces every emitter of runner programs shares (the x87 oracle has its own cases):
// printf into a string;
std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
// the end of the code: native, write the `n` records to stdout and exit (status 3 on a short
// write); vx86, HLT;
std::string emit_program_end(Target t, unsigned n);
// vx86 only, after the code and data: the case entry table and the trailer (runners.h).
std::string emit_case_table(unsigned n);

}  // namespace vx86::hostoracle

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
// - Memory operands only ever address a 64-byte scratch window at [ebp+0..63]. EBP and ESP are
//   reserved (EBP points at the current case's record, whose address differs between the native
//   and the vx86 build); every other general register is random input. String instructions are
//   always a case's last unit, so that ESI/EDI still hold scratch addresses at the end and can be
//   compared relative to EBP.
// - Initial scratch contents travel as data, not code (the native build's .data, copied into
//   the data segment by the vx86 runner): 400 cases fit one 64 KiB real-mode code segment.
// - The text is the same for both builds: `a32` (nasm's address-size prefix) is a no-op under
//   `bits 32` and makes the string instructions use ESI/EDI/ECX under `bits 16`.
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
// vx86 build: records start at this offset of the data segment; trailer magic ends the binary.
inline constexpr unsigned kVx86RecordsOffset = 0x100;
inline constexpr uint16_t kTrailerMagic = 0x4F48;
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
    explicit Generator(uint32_t seed) : rng_(seed) {}
    Program make_program(unsigned ncases);

private:
    Case make_case(unsigned index);
    uint32_t rnd(uint32_t n) { return uint32_t(rng_() % n); }
    bool chance(unsigned percent) { return rnd(100) < percent; }
    uint32_t value(int bits);
    std::mt19937 rng_;
};

// The record area before the program runs: headers zero, each memory-using case's scratch
// filled with its initial bytes. The native build carries it as .data; vx86's runner copies it
// into the data segment.
std::vector<uint8_t> initial_records(const Program& p);

// The assembly source of a program for one build. Native: an ELF32 _start that writes the
// records to stdout. vx86: a flat binary entered at offset 0 with CS != DS, ending in HLT,
// followed by a trailer table of case entry offsets (see runners.h).
std::string emit_asm(const Program& p, Target t);

}  // namespace vx86::hostoracle

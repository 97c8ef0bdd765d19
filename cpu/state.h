// CpuState: the architectural state of one x86 CPU, and nothing else.
//
// Design decisions:
// - Standard layout, plain data, no pointers: the whole struct can be saved, compared between
//   engines (the JIT differential test does memcmp-like comparisons through compare()) and
//   addressed by offset from generated code. Offsets the JIT relies on are pinned below.
// - General registers are 64 bits wide now so that long mode needs no layout change; legacy code
//   only ever reads and writes the low 32 bits.
// - Arithmetic flags are lazy (see flags.h): `lf` holds the last result and a packed carry vector,
//   and CF/PF/AF/ZF/SF/OF are derived only when read. `eflags` holds every other bit; its six
//   arithmetic bits are always zero.
// - Segment registers carry their hidden descriptor cache (base, limit, attributes) so that
//   unreal mode and protected mode need no new fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace vx86::cpu {

enum Reg : uint8_t { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, kRegNone = 0xFF };
enum SegReg : uint8_t { ES, CS, SS, DS, FS, GS, kSegNone = 0xFF };

// EFLAGS bits.
inline constexpr uint32_t kCF = 1u << 0, kPF = 1u << 2, kAF = 1u << 4, kZF = 1u << 6,
                          kSF = 1u << 7, kTF = 1u << 8, kIF = 1u << 9, kDF = 1u << 10,
                          kOF = 1u << 11, kIOPL = 3u << 12, kNT = 1u << 14, kRF = 1u << 16,
                          kVM = 1u << 17, kAC = 1u << 18, kVIF = 1u << 19, kVIP = 1u << 20,
                          kID = 1u << 21;
inline constexpr uint32_t kArithFlags = kCF | kPF | kAF | kZF | kSF | kOF;

// Hidden part of a segment register.
struct Segment {
    uint32_t base;
    uint32_t limit;  // byte-granular effective limit
    uint16_t sel;
    uint16_t attr;   // descriptor bits 40..47 and 52..55 as in the SDM: type|S|DPL|P<<7, AVL|L|D/B|G<<12
};
static_assert(std::is_standard_layout_v<Segment>);

inline constexpr uint16_t kAttrDB = 1u << 14;  // default operand size / big (D/B)
inline constexpr uint16_t kAttrG = 1u << 15;   // limit in 4 KiB units
inline constexpr uint16_t kAttrP = 1u << 7;    // present
inline constexpr uint16_t kAttrS = 1u << 4;    // code/data (not system)
inline constexpr uint16_t kAttrCode = 1u << 3; // type bit 3: code
inline constexpr uint16_t kAttrConforming = 1u << 2;  // code: conforming (data: expand-down)
inline constexpr uint16_t kAttrExpandDown = 1u << 2;
inline constexpr uint16_t kAttrRW = 1u << 1;   // code: readable, data: writable
inline constexpr uint16_t kAttrAccessed = 1u << 0;
inline constexpr unsigned attr_dpl(uint16_t attr) { return (attr >> 5) & 3; }

// Control register bits.
inline constexpr uint32_t kCr0PE = 1u << 0, kCr0MP = 1u << 1, kCr0EM = 1u << 2, kCr0TS = 1u << 3,
                          kCr0ET = 1u << 4, kCr0NE = 1u << 5, kCr0WP = 1u << 16,
                          kCr0AM = 1u << 18, kCr0NW = 1u << 29, kCr0CD = 1u << 30,
                          kCr0PG = 1u << 31;
inline constexpr uint32_t kCr4VME = 1u << 0, kCr4PVI = 1u << 1, kCr4TSD = 1u << 2,
                          kCr4DE = 1u << 3, kCr4PSE = 1u << 4, kCr4PAE = 1u << 5,
                          kCr4MCE = 1u << 6, kCr4PGE = 1u << 7, kCr4PCE = 1u << 8,
                          kCr4OSFXSR = 1u << 9, kCr4OSXMMEXCPT = 1u << 10;
inline constexpr uint64_t kEferSCE = 1u << 0, kEferNXE = 1u << 11;

struct DescriptorTable {
    uint32_t base;
    uint16_t limit;
};

// Lazy arithmetic flags. `res` is the result sign-extended to 32 bits; `aux` packs:
//   bit 31: CF, bit 30: CF xor OF, bit 3: AF,
//   bit 2: SF delta (SF = res bit 31 xor this), bits 8..15: parity delta byte.
struct LazyFlags {
    uint32_t res;
    uint32_t aux;
};

// Model-specific registers a kernel touches; each reads back what was written.
struct Msrs {
    uint64_t tsc_offset;  // IA32_TIME_STAMP_COUNTER = virtual time + tsc_offset
    uint64_t apic_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat;
    uint64_t mtrr_def_type;
    uint64_t mtrr_fixed[11];
    uint64_t mtrr_var[16];  // base/mask pairs 0x200..0x20F
    uint64_t misc_enable;
    uint64_t tsc_aux;  // RDTSCP's ECX
};

// x87 FPU and MMX state (SDM vol. 1, 8.1). The registers are kept by physical number (R0-R7);
// ST(i) is R((TOP + i) mod 8) with TOP in FSW bits 11-13. The tag word is kept abridged, as
// FXSAVE stores it (bit i set: Ri holds a value); the full two-bit form FSTENV/FSAVE report is
// recomputed from the register contents, which is what the P6 does as well (FLDENV/FRSTOR only
// look at empty versus non-empty). MMi aliases the significand of Ri.
struct X87Reg {
    uint64_t sig;  // significand with the explicit integer bit (MMX: the 64-bit register)
    uint16_t se;   // sign and biased exponent
    uint16_t pad[3];
};
struct X87State {
    X87Reg r[8];
    uint16_t fcw = 0x0040;  // power-up value (FNINIT gives 037Fh)
    uint16_t fsw = 0;
    uint8_t ftw = 0xFF;     // abridged tag: after RESET all registers hold +0.0 (tag word 5555h)
    uint8_t pad0 = 0;
    uint16_t fop = 0;       // last non-control instruction: opcode bits 10..0
    uint32_t fip = 0;       // ... its offset and CS selector
    uint32_t fdp = 0;       // ... its memory operand's offset and segment selector
    uint16_t fcs = 0;
    uint16_t fds = 0;
    uint32_t mxcsr = 0x1F80;  // SSE control/status (stored by FXSAVE; SSE itself comes later)
    uint32_t pad1 = 0;
};
static_assert(sizeof(X87State) == 8 * 16 + 32);

struct CpuState {
    uint64_t gpr[16];
    uint64_t eip;
    LazyFlags lf;
    uint32_t eflags;  // all bits but the six arithmetic ones (always 0 here)
    Segment seg[6];
    DescriptorTable gdtr, idtr;
    Segment ldtr, tr;
    uint32_t cr[5];
    uint32_t dr[8];
    uint64_t efer;
    uint64_t icount;  // retired instructions: the basis of virtual time in deterministic mode
    uint8_t halted;
    uint8_t inhibit_irq;  // 1 after MOV SS/POP SS/STI: no interrupt before the next instruction
    uint8_t cpl;          // current privilege level (0 in real mode, 3 in virtual-8086 mode)
    uint8_t pad_[5];
    Msrs msr;
    X87State fpu;
};
static_assert(std::is_standard_layout_v<CpuState>);
static_assert(offsetof(CpuState, gpr) == 0, "JIT addresses gpr at offset 0");
static_assert(offsetof(CpuState, eip) == 128, "JIT addresses eip at offset 128");
static_assert(offsetof(CpuState, lf) == 136, "JIT addresses lazy flags at offset 136");

}  // namespace vx86::cpu

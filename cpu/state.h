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
    uint8_t pad_[6];
};
static_assert(std::is_standard_layout_v<CpuState>);
static_assert(offsetof(CpuState, gpr) == 0, "JIT addresses gpr at offset 0");
static_assert(offsetof(CpuState, eip) == 128, "JIT addresses eip at offset 128");
static_assert(offsetof(CpuState, lf) == 136, "JIT addresses lazy flags at offset 136");

}  // namespace vx86::cpu

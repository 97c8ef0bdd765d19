// DecodedInsn: one guest instruction after decoding, in the compact form both engines consume.
//
// The decoder (decoder.cpp) turns Zydis' output into this 32-byte record once; the block cache
// keeps it, so decoding is paid once per instruction address, not per execution. `fn` is the
// interpreter handler chosen for the opcode *and* operand size, so executing an instruction is
// one indirect call with no further dispatch. The JIT emits code for the common handlers and
// calls `fn` for everything else.
#pragma once

#include <cstdint>

namespace vx86::cpu {

class Cpu;
struct DecodedInsn;
using Handler = void (*)(Cpu&, const DecodedInsn&);

enum InsnFlag : uint16_t {
    kfMem = 1u << 0,        // ModRM names a memory operand (base/index/scale/disp/seg valid)
    kfAddr32 = 1u << 1,     // 32-bit address size
    kfOp32 = 1u << 2,       // 32-bit operand size
    kfRep = 1u << 3,        // F3 prefix
    kfRepne = 1u << 4,      // F2 prefix
    kfLock = 1u << 5,
    kfEndsBlock = 1u << 6,  // control transfer or state change: last instruction of a block
    kfSegOverride = 1u << 7,
    // A conditional near branch that does not end its block (build_block): taken, it ends the
    // block there (a side exit; Cpu::end_block), not taken, the block goes on.
    kfSideExit = 1u << 8,
    // A side exit whose target is an instruction of its own block, `imm2` instructions after the
    // next one (build_block): taken, the block goes on there (a join), skipping those.
    kfSideJoin = 1u << 9,
};

struct DecodedInsn {
    Handler fn;
    uint32_t imm;    // first immediate (sign- or zero-extended as the form needs)
    uint32_t disp;   // displacement, or second immediate word for far pointers
    uint16_t imm2;   // ENTER nesting level, far-pointer selector; a side join's skip (kfSideJoin)
    uint16_t flags;  // InsnFlag
    uint8_t len;
    uint8_t opcode;  // last opcode byte (handlers shared across a row read cc or reg from it)
    uint8_t reg;     // ModRM.reg, or the register encoded in the opcode
    uint8_t rm;      // ModRM.rm when it names a register
    uint8_t base;    // kRegNone when absent
    uint8_t index;   // kRegNone when absent
    uint8_t scale;   // shift count 0..3
    uint8_t seg;     // segment of the memory operand (string ops: the DS-side segment)
};
static_assert(sizeof(DecodedInsn) == 32);

}  // namespace vx86::cpu

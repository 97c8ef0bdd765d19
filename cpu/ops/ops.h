// Shared pieces of the instruction handlers: the opcode table they register into, and small
// helpers every handler file uses.
//
// Each ops/*.cpp file owns one concern (alu, shift, muldiv, string, stack, control, system) and
// has one `register_*` function that fills the table in SDM notation, one line per opcode form:
//     t.op(0x00, alu_rm_r<8, Add>);          // ADD r/m8, r8      00 /r
// Handlers are templated on operand size (8/16/32); the table holds a 16-bit and a 32-bit
// instance per slot and the decoder picks by the effective operand size.
#pragma once

#include "cpu/cpu.h"

namespace vx86::cpu::ops {

struct OpTable {
    struct Slot {
        Handler h16 = nullptr;
        Handler h32 = nullptr;
        uint8_t ends_block = 0;
    };
    Slot slots[2][256][8];  // [map: 0 one-byte, 1 = 0F][opcode][ModRM.reg]

    // Whole opcode, any ModRM.reg.
    void op(unsigned opc, Handler h16, Handler h32 = nullptr, bool ends = false) {
        for (unsigned r = 0; r < 8; ++r) slots[0][opc][r] = Slot{h16, h32 ? h32 : h16, ends};
    }
    void grp(unsigned opc, unsigned reg, Handler h16, Handler h32 = nullptr, bool ends = false) {
        slots[0][opc][reg] = Slot{h16, h32 ? h32 : h16, ends};
    }
    void op0f(unsigned opc, Handler h16, Handler h32 = nullptr, bool ends = false) {
        for (unsigned r = 0; r < 8; ++r) slots[1][opc][r] = Slot{h16, h32 ? h32 : h16, ends};
    }
    void grp0f(unsigned opc, unsigned reg, Handler h16, Handler h32 = nullptr, bool ends = false) {
        slots[1][opc][reg] = Slot{h16, h32 ? h32 : h16, ends};
    }
};

void register_alu(OpTable& t, const ModelTraits& m);
void register_shift(OpTable& t, const ModelTraits& m);
void register_muldiv(OpTable& t, const ModelTraits& m);
void register_string(OpTable& t, const ModelTraits& m);
void register_stack(OpTable& t, const ModelTraits& m);
void register_control(OpTable& t, const ModelTraits& m);
// Whether `h` is the handler of a conditional near branch (Jcc rel8/rel16/rel32).
bool is_jcc(Handler h);
void register_system(OpTable& t, const ModelTraits& m);
void register_privileged(OpTable& t, const ModelTraits& m);
// x87 (D8-DF, WAIT, FXSAVE/FXRSTOR) when the model has an FPU; MMX when it has MMX.
void register_x87(OpTable& t, const ModelTraits& m);
void register_mmx(OpTable& t, const ModelTraits& m);

// #UD for opcodes the model does not have (the 8086 has no #UD: the decoder maps its
// undefined opcodes to what the silicon does before they reach here).
void op_ud(Cpu& c, const DecodedInsn& i);
void op_gp0(Cpu& c, const DecodedInsn& i);

// Operand-size helpers.
template <int B>
using UT = typename SizeTraits<B>::T;
template <int B>
inline constexpr uint32_t kMaskB = SizeTraits<B>::kMask;
template <int B>
inline constexpr uint32_t kSignB = SizeTraits<B>::kSign;

// Counter register for string ops and LOOP by address size.
inline uint32_t count_reg(const Cpu& c, const DecodedInsn& i) {
    return (i.flags & kfAddr32) ? c.r32(ECX) : c.r16(ECX);
}
inline void set_count_reg(Cpu& c, const DecodedInsn& i, uint32_t v) {
    if (i.flags & kfAddr32) c.set_r32(ECX, v);
    else c.set_r16(ECX, uint16_t(v));
}

}  // namespace vx86::cpu::ops

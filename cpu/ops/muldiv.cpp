// MUL, IMUL (all forms), DIV, IDIV.
//
// Products and quotients are computed in 64-bit host arithmetic, which covers every operand
// size exactly. Divide errors (#DE) are raised before any register changes. SF/ZF/AF/PF after a
// multiply are undefined; we derive them from the low half of the product (what P6-class
// silicon reports) and tests mask them.
#include "cpu/ops/ops.h"

namespace vx86::cpu::ops {

namespace {

template <int B>
void set_mul_flags(Cpu& c, uint32_t low, bool overflow) {
    set_flags_logic<B>(c.s.lf, low);
    lf_set_cf_of(c.s.lf, overflow, overflow);
}

// MUL r/m (F6 /4, F7 /4)
template <int B>
void mul_rm(Cpu& c, const DecodedInsn& i) {
    uint64_t p = uint64_t(c.read_rm<B>(i)) * c.reg<B>(EAX);
    uint32_t lo = uint32_t(p) & kMaskB<B>, hi = uint32_t(p >> B) & kMaskB<B>;
    if constexpr (B == 8) c.set_r16(EAX, uint16_t(p));
    else {
        c.set_reg<B>(EAX, lo);
        c.set_reg<B>(EDX, hi);
    }
    set_mul_flags<B>(c, lo, hi != 0);
}

// IMUL r/m (F6 /5, F7 /5)
template <int B>
void imul_rm(Cpu& c, const DecodedInsn& i) {
    int64_t p = int64_t(int32_t(sext32<B>(c.read_rm<B>(i)))) * int32_t(sext32<B>(c.reg<B>(EAX)));
    uint32_t lo = uint32_t(p) & kMaskB<B>, hi = uint32_t(uint64_t(p) >> B) & kMaskB<B>;
    if constexpr (B == 8) c.set_r16(EAX, uint16_t(p));
    else {
        c.set_reg<B>(EAX, lo);
        c.set_reg<B>(EDX, hi);
    }
    set_mul_flags<B>(c, lo, int64_t(int32_t(sext32<B>(lo))) != p);
}

template <int B>
void imul_common(Cpu& c, const DecodedInsn& i, uint32_t a, uint32_t b) {
    int64_t p = int64_t(int32_t(sext32<B>(a))) * int32_t(sext32<B>(b));
    uint32_t lo = uint32_t(p) & kMaskB<B>;
    c.set_reg<B>(i.reg, lo);
    set_mul_flags<B>(c, lo, int64_t(int32_t(sext32<B>(lo))) != p);
}
// IMUL r, r/m (0F AF)
template <int B>
void imul_r_rm(Cpu& c, const DecodedInsn& i) { imul_common<B>(c, i, c.read_rm<B>(i), c.reg<B>(i.reg)); }
// IMUL r, r/m, imm (69, 6B: the decoder sign-extends imm8)
template <int B>
void imul_r_rm_imm(Cpu& c, const DecodedInsn& i) { imul_common<B>(c, i, c.read_rm<B>(i), i.imm); }

// DIV r/m (F6 /6, F7 /6)
template <int B>
void div_rm(Cpu& c, const DecodedInsn& i) {
    uint64_t d = c.read_rm<B>(i);
    uint64_t n = B == 8 ? c.r16(EAX) : (uint64_t(c.reg<B>(EDX)) << B) | c.reg<B>(EAX);
    if (d == 0) c.fault(kDE);
    uint64_t q = n / d, r = n % d;
    if (q > kMaskB<B>) c.fault(kDE);
    if constexpr (B == 8) c.set_r16(EAX, uint16_t((r << 8) | q));
    else {
        c.set_reg<B>(EAX, uint32_t(q));
        c.set_reg<B>(EDX, uint32_t(r));
    }
}

// IDIV r/m (F6 /7, F7 /7). The 8086 also faults on the most negative quotient.
template <int B>
void idiv_rm(Cpu& c, const DecodedInsn& i) {
    int64_t d = int32_t(sext32<B>(c.read_rm<B>(i)));
    int64_t n;
    if constexpr (B == 8) n = int16_t(c.r16(EAX));
    else if constexpr (B == 16) n = int32_t((uint32_t(c.r16(EDX)) << 16) | c.r16(EAX));
    else n = int64_t((uint64_t(c.r32(EDX)) << 32) | c.r32(EAX));
    if (d == 0) c.fault(kDE);
    // INT64_MIN / -1 cannot occur: n fits in 2*B <= 64 bits only for B <= 32 and the quotient
    // check below catches the overflow; guard the host division itself.
    if (B == 32 && n == INT64_MIN && d == -1) c.fault(kDE);
    int64_t q = n / d, r = n % d;
    constexpr int64_t kMax = int64_t(kSignB<B>) - 1;
    int64_t min = c.traits().is_8086 ? -kMax : -kMax - 1;
    if (q > kMax || q < min) c.fault(kDE);
    // 8086 microcode quirk: a REP/REPNE prefix negates the quotient.
    if (c.traits().is_8086 && (i.flags & (kfRep | kfRepne))) q = -q;
    if constexpr (B == 8) c.set_r16(EAX, uint16_t((uint8_t(r) << 8) | uint8_t(q)));
    else {
        c.set_reg<B>(EAX, uint32_t(q) & kMaskB<B>);
        c.set_reg<B>(EDX, uint32_t(r) & kMaskB<B>);
    }
}

}  // namespace

void register_muldiv(OpTable& t, const ModelTraits& m) {
    t.grp(0xF6, 4, mul_rm<8>);
    t.grp(0xF7, 4, mul_rm<16>, mul_rm<32>);
    t.grp(0xF6, 5, imul_rm<8>);
    t.grp(0xF7, 5, imul_rm<16>, imul_rm<32>);
    t.grp(0xF6, 6, div_rm<8>);
    t.grp(0xF7, 6, div_rm<16>, div_rm<32>);
    t.grp(0xF6, 7, idiv_rm<8>);
    t.grp(0xF7, 7, idiv_rm<16>, idiv_rm<32>);
    if (m.has_186) {
        t.op(0x69, imul_r_rm_imm<16>, imul_r_rm_imm<32>);  // IMUL r, r/m, imm16/32
        t.op(0x6B, imul_r_rm_imm<16>, imul_r_rm_imm<32>);  // IMUL r, r/m, imm8
    }
    if (m.has_386) t.op0f(0xAF, imul_r_rm<16>, imul_r_rm<32>);  // IMUL r, r/m
}

}  // namespace vx86::cpu::ops

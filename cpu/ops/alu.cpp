// Integer ALU, data movement and BCD handlers.
//
// Every read-modify-write handler reads its operands, computes the result and the flags into a
// local LazyFlags, performs the store that can fault, and only then commits the flags: a fault on
// the store leaves the flags as they were (precise exceptions).
#include "cpu/ops/ops.h"

namespace vx86::cpu::ops {

namespace {

// ---- binary ALU operations: f(lf_out, a, b, lf_in) -> result (masked to B bits) ----
struct Add {
    static constexpr bool kWrites = true;
    template <int B>
    static uint32_t f(LazyFlags& lf, uint32_t a, uint32_t b, const LazyFlags&) {
        uint32_t r = (a + b) & kMaskB<B>;
        set_flags_add<B>(lf, a, b, r);
        return r;
    }
};
struct Adc {
    static constexpr bool kWrites = true;
    template <int B>
    static uint32_t f(LazyFlags& lf, uint32_t a, uint32_t b, const LazyFlags& in) {
        uint32_t r = (a + b + lf_cf(in)) & kMaskB<B>;
        set_flags_add<B>(lf, a, b, r);
        return r;
    }
};
struct Sub {
    static constexpr bool kWrites = true;
    template <int B>
    static uint32_t f(LazyFlags& lf, uint32_t a, uint32_t b, const LazyFlags&) {
        uint32_t r = (a - b) & kMaskB<B>;
        set_flags_sub<B>(lf, a, b, r);
        return r;
    }
};
struct Sbb {
    static constexpr bool kWrites = true;
    template <int B>
    static uint32_t f(LazyFlags& lf, uint32_t a, uint32_t b, const LazyFlags& in) {
        uint32_t r = (a - b - lf_cf(in)) & kMaskB<B>;
        set_flags_sub<B>(lf, a, b, r);
        return r;
    }
};
struct Cmp : Sub {
    static constexpr bool kWrites = false;
};
struct And {
    static constexpr bool kWrites = true;
    template <int B>
    static uint32_t f(LazyFlags& lf, uint32_t a, uint32_t b, const LazyFlags&) {
        uint32_t r = a & b;
        set_flags_logic<B>(lf, r);
        return r;
    }
};
struct Or {
    static constexpr bool kWrites = true;
    template <int B>
    static uint32_t f(LazyFlags& lf, uint32_t a, uint32_t b, const LazyFlags&) {
        uint32_t r = a | b;
        set_flags_logic<B>(lf, r);
        return r;
    }
};
struct Xor {
    static constexpr bool kWrites = true;
    template <int B>
    static uint32_t f(LazyFlags& lf, uint32_t a, uint32_t b, const LazyFlags&) {
        uint32_t r = a ^ b;
        set_flags_logic<B>(lf, r);
        return r;
    }
};
struct Test : And {
    static constexpr bool kWrites = false;
};

// OP r/m, src: the read-modify-write core shared by the register and immediate forms.
template <int B, class Op>
void alu_rm(Cpu& c, const DecodedInsn& i, uint32_t b) {
    LazyFlags lf;
    if (i.flags & kfMem) {
        uint32_t off = c.ea(i);
        uint32_t a = c.read<B>(i.seg, off);
        uint32_t r = Op::template f<B>(lf, a, b, c.s.lf);
        if constexpr (Op::kWrites) c.write<B>(i.seg, off, r);
    } else {
        uint32_t r = Op::template f<B>(lf, c.reg<B>(i.rm), b, c.s.lf);
        if constexpr (Op::kWrites) c.set_reg<B>(i.rm, r);
    }
    c.s.lf = lf;
}

// OP r/m, r
template <int B, class Op>
void alu_rm_r(Cpu& c, const DecodedInsn& i) { alu_rm<B, Op>(c, i, c.reg<B>(i.reg)); }

// OP r, r/m
template <int B, class Op>
void alu_r_rm(Cpu& c, const DecodedInsn& i) {
    uint32_t b = c.read_rm<B>(i);
    LazyFlags lf;
    uint32_t r = Op::template f<B>(lf, c.reg<B>(i.reg), b, c.s.lf);
    if constexpr (Op::kWrites) c.set_reg<B>(i.reg, r);
    c.s.lf = lf;
}

// OP AL/AX/EAX, imm
template <int B, class Op>
void alu_acc_imm(Cpu& c, const DecodedInsn& i) {
    LazyFlags lf;
    uint32_t r = Op::template f<B>(lf, c.reg<B>(EAX), i.imm & kMaskB<B>, c.s.lf);
    if constexpr (Op::kWrites) c.set_reg<B>(EAX, r);
    c.s.lf = lf;
}

// OP r/m, imm (group 1: 80, 81, 82, 83; the decoder sign-extends 83's imm8)
template <int B, class Op>
void alu_rm_imm(Cpu& c, const DecodedInsn& i) { alu_rm<B, Op>(c, i, i.imm & kMaskB<B>); }

template <class Op>
void reg_alu_row(OpTable& t, unsigned base) {
    t.op(base + 0, alu_rm_r<8, Op>);
    t.op(base + 1, alu_rm_r<16, Op>, alu_rm_r<32, Op>);
    t.op(base + 2, alu_r_rm<8, Op>);
    t.op(base + 3, alu_r_rm<16, Op>, alu_r_rm<32, Op>);
    t.op(base + 4, alu_acc_imm<8, Op>);
    t.op(base + 5, alu_acc_imm<16, Op>, alu_acc_imm<32, Op>);
}

template <class Op>
void reg_grp1(OpTable& t, unsigned reg) {
    t.grp(0x80, reg, alu_rm_imm<8, Op>);
    t.grp(0x81, reg, alu_rm_imm<16, Op>, alu_rm_imm<32, Op>);
    t.grp(0x82, reg, alu_rm_imm<8, Op>);
    t.grp(0x83, reg, alu_rm_imm<16, Op>, alu_rm_imm<32, Op>);
}

// ---- INC/DEC/NEG/NOT ----
template <int B, bool Dec>
uint32_t incdec(LazyFlags& lf, const LazyFlags& in, uint32_t a) {
    uint32_t r;
    if constexpr (Dec) {
        r = (a - 1) & kMaskB<B>;
        set_flags_sub<B>(lf, a, 1, r);
    } else {
        r = (a + 1) & kMaskB<B>;
        set_flags_add<B>(lf, a, 1, r);
    }
    lf_set_cf(lf, lf_cf(in));
    return r;
}

// INC/DEC r/m (FE /0 /1, FF /0 /1)
template <int B, bool Dec>
void incdec_rm(Cpu& c, const DecodedInsn& i) {
    LazyFlags lf;
    if (i.flags & kfMem) {
        uint32_t off = c.ea(i);
        uint32_t r = incdec<B, Dec>(lf, c.s.lf, c.read<B>(i.seg, off));
        c.write<B>(i.seg, off, r);
    } else {
        c.set_reg<B>(i.rm, incdec<B, Dec>(lf, c.s.lf, c.reg<B>(i.rm)));
    }
    c.s.lf = lf;
}

// INC/DEC r16/r32 (40+r, 48+r)
template <int B, bool Dec>
void incdec_r(Cpu& c, const DecodedInsn& i) {
    LazyFlags lf;
    c.set_reg<B>(i.reg, incdec<B, Dec>(lf, c.s.lf, c.reg<B>(i.reg)));
    c.s.lf = lf;
}

// NEG r/m (F6 /3, F7 /3)
template <int B>
void neg_rm(Cpu& c, const DecodedInsn& i) {
    uint32_t a = c.read_rm<B>(i);
    uint32_t r = (0u - a) & kMaskB<B>;
    LazyFlags lf;
    set_flags_sub<B>(lf, 0, a, r);
    c.write_rm<B>(i, r);
    c.s.lf = lf;
}

// NOT r/m (F6 /2, F7 /2)
template <int B>
void not_rm(Cpu& c, const DecodedInsn& i) {
    c.write_rm<B>(i, ~c.read_rm<B>(i) & kMaskB<B>);
}

// TEST r/m, imm (F6 /0 /1, F7 /0 /1)
template <int B>
void test_rm_imm(Cpu& c, const DecodedInsn& i) {
    set_flags_logic<B>(c.s.lf, c.read_rm<B>(i) & i.imm & kMaskB<B>);
}

// ---- moves ----
// MOV r/m, r (88, 89)
template <int B>
void mov_rm_r(Cpu& c, const DecodedInsn& i) { c.write_rm<B>(i, c.reg<B>(i.reg)); }
// MOV r, r/m (8A, 8B)
template <int B>
void mov_r_rm(Cpu& c, const DecodedInsn& i) { c.set_reg<B>(i.reg, c.read_rm<B>(i)); }
// MOV r/m, imm (C6 /0, C7 /0)
template <int B>
void mov_rm_imm(Cpu& c, const DecodedInsn& i) { c.write_rm<B>(i, i.imm & kMaskB<B>); }
// MOV r, imm (B0+r, B8+r)
template <int B>
void mov_r_imm(Cpu& c, const DecodedInsn& i) { c.set_reg<B>(i.reg, i.imm); }
// MOV AL/eAX, moffs (A0, A1) and MOV moffs, AL/eAX (A2, A3)
template <int B>
void mov_acc_moffs(Cpu& c, const DecodedInsn& i) { c.set_reg<B>(EAX, c.read<B>(i.seg, c.ea(i))); }
template <int B>
void mov_moffs_acc(Cpu& c, const DecodedInsn& i) { c.write<B>(i.seg, c.ea(i), c.reg<B>(EAX)); }

// XCHG r/m, r (86, 87)
template <int B>
void xchg_rm_r(Cpu& c, const DecodedInsn& i) {
    uint32_t a = c.read_rm<B>(i);
    c.write_rm<B>(i, c.reg<B>(i.reg));
    c.set_reg<B>(i.reg, a);
}
// XCHG eAX, r (90+r)
template <int B>
void xchg_acc_r(Cpu& c, const DecodedInsn& i) {
    uint32_t a = c.reg<B>(EAX);
    c.set_reg<B>(EAX, c.reg<B>(i.reg));
    c.set_reg<B>(i.reg, a);
}
void nop(Cpu&, const DecodedInsn&) {}

// LEA r, m (8D)
template <int B>
void lea(Cpu& c, const DecodedInsn& i) {
    if (!(i.flags & kfMem)) c.fault(kUD);
    c.set_reg<B>(i.reg, c.ea(i));
}

// MOVZX/MOVSX r, r/m8 | r/m16 (0F B6, B7, BE, BF)
template <int B, int S, bool Signed>
void movx(Cpu& c, const DecodedInsn& i) {
    uint32_t v = c.read_rm<S>(i);
    if constexpr (Signed) v = sext32<S>(v);
    c.set_reg<B>(i.reg, v & kMaskB<B>);
}

// CBW/CWDE (98), CWD/CDQ (99)
void cbw(Cpu& c, const DecodedInsn&) { c.set_r16(EAX, uint16_t(int8_t(c.r8(0)))); }
void cwde(Cpu& c, const DecodedInsn&) { c.set_r32(EAX, uint32_t(int32_t(int16_t(c.r16(EAX))))); }
void cwd(Cpu& c, const DecodedInsn&) { c.set_r16(EDX, (c.r16(EAX) & 0x8000) ? 0xFFFF : 0); }
void cdq(Cpu& c, const DecodedInsn&) { c.set_r32(EDX, (c.r32(EAX) & 0x80000000u) ? ~0u : 0); }

// SETcc r/m8 (0F 90+cc)
void setcc(Cpu& c, const DecodedInsn& i) { c.write_rm<8>(i, eval_cond(c.s.lf, i.opcode & 15)); }

// CMOVcc r, r/m (0F 40+cc): the source is read (and may fault) whether or not it moves.
template <int B>
void cmovcc(Cpu& c, const DecodedInsn& i) {
    uint32_t v = c.read_rm<B>(i);
    if (eval_cond(c.s.lf, i.opcode & 15)) c.set_reg<B>(i.reg, v);
}

// BSWAP r32 (0F C8+r); with a 16-bit operand the result is undefined: real CPUs give zero.
void bswap32(Cpu& c, const DecodedInsn& i) { c.set_r32(i.reg, __builtin_bswap32(c.r32(i.reg))); }
void bswap16(Cpu& c, const DecodedInsn& i) { c.set_r16(i.reg, 0); }

// XADD r/m, r (0F C0, C1)
template <int B>
void xadd(Cpu& c, const DecodedInsn& i) {
    uint32_t d = c.read_rm<B>(i);
    uint32_t sreg = c.reg<B>(i.reg);
    LazyFlags lf;
    uint32_t r = Add::f<B>(lf, d, sreg, c.s.lf);
    c.write_rm<B>(i, r);
    if (i.flags & kfMem || i.rm != i.reg) c.set_reg<B>(i.reg, d);
    c.s.lf = lf;
}

// CMPXCHG r/m, r (0F B0, B1)
template <int B>
void cmpxchg(Cpu& c, const DecodedInsn& i) {
    uint32_t d = c.read_rm<B>(i);
    uint32_t acc = c.reg<B>(EAX);
    LazyFlags lf;
    Sub::f<B>(lf, acc, d, c.s.lf);
    if (acc == d) {
        c.write_rm<B>(i, c.reg<B>(i.reg));
    } else {
        if (i.flags & kfMem) c.write<B>(i.seg, c.ea(i), d);  // the locked cycle always writes
        c.set_reg<B>(EAX, d);
    }
    c.s.lf = lf;
}

// CMPXCHG8B m64 (0F C7 /1)
void cmpxchg8b(Cpu& c, const DecodedInsn& i) {
    if (!(i.flags & kfMem)) c.fault(kUD);
    uint32_t off = c.ea(i);
    uint32_t lo = c.read<32>(i.seg, off), hi = c.read<32>(i.seg, off + 4);
    uint32_t eflags_z;
    if (lo == c.r32(EAX) && hi == c.r32(EDX)) {
        c.write<32>(i.seg, off, c.r32(EBX));
        c.write<32>(i.seg, off + 4, c.r32(ECX));
        eflags_z = kZF;
    } else {
        c.write<32>(i.seg, off, lo);
        c.write<32>(i.seg, off + 4, hi);
        c.set_r32(EAX, lo);
        c.set_r32(EDX, hi);
        eflags_z = 0;
    }
    uint32_t f = lf_to_eflags(c.s.lf);
    lf_from_eflags(c.s.lf, (f & ~kZF) | eflags_z);
}

// ---- BCD ----
void set_szp8(LazyFlags& lf, uint8_t v, bool cf, bool af, bool of) {
    set_flags_logic<8>(lf, v);
    lf.aux = (uint32_t(cf) << 31) | (uint32_t(cf ^ of) << 30) | (af ? kLfAF : 0);
}

// DAA (27)
void daa(Cpu& c, const DecodedInsn&) {
    uint8_t al = c.r8(0), old_al = al;
    bool old_cf = lf_cf(c.s.lf), af = lf_af(c.s.lf), cf = false;
    if ((al & 0x0F) > 9 || af) {
        cf = old_cf || al > 0xF9;
        al = uint8_t(al + 6);
        af = true;
    } else {
        af = false;
    }
    // The 8086 compares against 9F instead of 99 when AF was set on entry.
    uint8_t limit = (c.traits().is_8086 && lf_af(c.s.lf)) ? 0x9F : 0x99;
    if (old_al > limit || old_cf) {
        al = uint8_t(al + 0x60);
        cf = true;
    } else {
        cf = false;
    }
    c.set_r8(0, al);
    // OF is undefined; the silicon sets it as the signed overflow of the adjustment.
    bool of = !(old_al & 0x80) && (al & 0x80);
    set_szp8(c.s.lf, al, cf, af, of);
}

// DAS (2F)
void das(Cpu& c, const DecodedInsn&) {
    uint8_t al = c.r8(0), old_al = al;
    bool old_cf = lf_cf(c.s.lf), af = lf_af(c.s.lf), cf = false;
    if ((al & 0x0F) > 9 || af) {
        cf = old_cf || al < 6;
        al = uint8_t(al - 6);
        af = true;
    } else {
        af = false;
    }
    // DAS keeps the borrow of the low adjustment in CF (no ELSE branch, unlike DAA); the 8086
    // alone clears it and, like its DAA, compares against 9F when AF was set.
    uint8_t limit = (c.traits().is_8086 && lf_af(c.s.lf)) ? 0x9F : 0x99;
    if (old_al > limit || old_cf) {
        al = uint8_t(al - 0x60);
        cf = true;
    } else if (c.traits().is_8086) {
        cf = false;
    }
    c.set_r8(0, al);
    bool of = (old_al & 0x80) && !(al & 0x80);
    set_szp8(c.s.lf, al, cf, af, of);
}

// AAA (37), AAS (3F). The 8086 adjusts AL alone; the 286 and later adjust AX as a whole.
template <bool Sub>
void aaa_aas(Cpu& c, const DecodedInsn&) {
    bool adjust = (c.r8(0) & 0x0F) > 9 || lf_af(c.s.lf);
    uint8_t al = c.r8(0), ah = c.r8(4);
    if (adjust) {
        if (c.traits().is_8086) {
            al = uint8_t(Sub ? al - 6 : al + 6);
        } else {
            uint16_t ax = uint16_t(c.r16(EAX) + (Sub ? -6 : 6));
            al = uint8_t(ax);
            ah = uint8_t(ax >> 8);
        }
        ah = uint8_t(Sub ? ah - 1 : ah + 1);
    }
    uint8_t res = al & 0x0F;
    c.set_r8(0, res);
    c.set_r8(4, ah);
    // SF/ZF/PF/OF are undefined: the silicon reports them from the adjusted AL before masking.
    LazyFlags lf;
    set_flags_logic<8>(lf, al);
    lf.aux = (uint32_t(adjust) << 31) | (uint32_t(adjust) << 30) | (adjust ? kLfAF : 0);
    c.s.lf = lf;
}

// AAM imm8 (D4 ib): #DE when imm8 is zero.
void aam(Cpu& c, const DecodedInsn& i) {
    uint8_t base = uint8_t(i.imm), al = c.r8(0);
    if (base == 0) c.fault(kDE);
    uint8_t q = al / base, r = al % base;
    c.set_r8(4, q);
    c.set_r8(0, r);
    set_szp8(c.s.lf, r, false, false, false);
}

// AAD imm8 (D5 ib): flags as the ADD AL, AH*imm8 that the microcode performs.
void aad(Cpu& c, const DecodedInsn& i) {
    uint8_t al = c.r8(0), prod = uint8_t(c.r8(4) * uint8_t(i.imm));
    uint8_t r = uint8_t(al + prod);
    c.set_r16(EAX, r);
    set_flags_add<8>(c.s.lf, al, prod, r);
}

// SALC (D6): AL = CF ? FF : 00 (undocumented, present 8086..P6).
void salc(Cpu& c, const DecodedInsn&) { c.set_r8(0, lf_cf(c.s.lf) ? 0xFF : 0); }

// XLAT (D7): AL = seg:[eBX + AL].
void xlat(Cpu& c, const DecodedInsn& i) {
    uint32_t off = c.r32(EBX) + c.r8(0);
    if (!(i.flags & kfAddr32)) off &= 0xFFFF;
    c.set_r8(0, uint8_t(c.read<8>(i.seg, off)));
}

// ---- flag instructions ----
void clc(Cpu& c, const DecodedInsn&) { lf_set_cf(c.s.lf, false); }
void stc(Cpu& c, const DecodedInsn&) { lf_set_cf(c.s.lf, true); }
void cmc(Cpu& c, const DecodedInsn&) { lf_set_cf(c.s.lf, !lf_cf(c.s.lf)); }
void cld(Cpu& c, const DecodedInsn&) { c.s.eflags &= ~kDF; }
void std_(Cpu& c, const DecodedInsn&) { c.s.eflags |= kDF; }
// SAHF (9E): SF ZF AF PF CF from AH.
void sahf(Cpu& c, const DecodedInsn&) {
    uint32_t f = lf_to_eflags(c.s.lf);
    uint32_t low = kSF | kZF | kAF | kPF | kCF;
    lf_from_eflags(c.s.lf, (f & ~low) | (c.r8(4) & low));
}
// LAHF (9F): AH = SF ZF 0 AF 0 PF 1 CF.
void lahf(Cpu& c, const DecodedInsn&) { c.set_r8(4, uint8_t(c.eflags() & 0xD7) | 2); }

}  // namespace

void register_alu(OpTable& t, const ModelTraits& m) {
    reg_alu_row<Add>(t, 0x00);  // ADD 00-05
    reg_alu_row<Or>(t, 0x08);   // OR  08-0D
    reg_alu_row<Adc>(t, 0x10);  // ADC 10-15
    reg_alu_row<Sbb>(t, 0x18);  // SBB 18-1D
    reg_alu_row<And>(t, 0x20);  // AND 20-25
    reg_alu_row<Sub>(t, 0x28);  // SUB 28-2D
    reg_alu_row<Xor>(t, 0x30);  // XOR 30-35
    reg_alu_row<Cmp>(t, 0x38);  // CMP 38-3D
    reg_grp1<Add>(t, 0);        // 80-83 /0..7
    reg_grp1<Or>(t, 1);
    reg_grp1<Adc>(t, 2);
    reg_grp1<Sbb>(t, 3);
    reg_grp1<And>(t, 4);
    reg_grp1<Sub>(t, 5);
    reg_grp1<Xor>(t, 6);
    reg_grp1<Cmp>(t, 7);
    t.op(0x84, alu_rm_r<8, Test>);                        // TEST r/m8, r8
    t.op(0x85, alu_rm_r<16, Test>, alu_rm_r<32, Test>);   // TEST r/m, r
    t.op(0xA8, alu_acc_imm<8, Test>);                     // TEST AL, imm8
    t.op(0xA9, alu_acc_imm<16, Test>, alu_acc_imm<32, Test>);
    t.grp(0xF6, 0, test_rm_imm<8>);                       // TEST r/m8, imm8
    t.grp(0xF6, 1, test_rm_imm<8>);                       // (alias)
    t.grp(0xF7, 0, test_rm_imm<16>, test_rm_imm<32>);
    t.grp(0xF7, 1, test_rm_imm<16>, test_rm_imm<32>);
    t.grp(0xF6, 2, not_rm<8>);                            // NOT r/m8
    t.grp(0xF7, 2, not_rm<16>, not_rm<32>);
    t.grp(0xF6, 3, neg_rm<8>);                            // NEG r/m8
    t.grp(0xF7, 3, neg_rm<16>, neg_rm<32>);
    for (unsigned r = 0; r < 8; ++r) {
        t.op(0x40 + r, incdec_r<16, false>, incdec_r<32, false>);  // INC r
        t.op(0x48 + r, incdec_r<16, true>, incdec_r<32, true>);    // DEC r
        t.op(0xB0 + r, mov_r_imm<8>);                              // MOV r8, imm8
        t.op(0xB8 + r, mov_r_imm<16>, mov_r_imm<32>);              // MOV r, imm
        if (r) t.op(0x90 + r, xchg_acc_r<16>, xchg_acc_r<32>);     // XCHG eAX, r
    }
    t.op(0x90, nop);
    t.grp(0xFE, 0, incdec_rm<8, false>);                           // INC r/m8
    t.grp(0xFE, 1, incdec_rm<8, true>);                            // DEC r/m8
    t.grp(0xFF, 0, incdec_rm<16, false>, incdec_rm<32, false>);    // INC r/m
    t.grp(0xFF, 1, incdec_rm<16, true>, incdec_rm<32, true>);      // DEC r/m
    t.op(0x86, xchg_rm_r<8>);
    t.op(0x87, xchg_rm_r<16>, xchg_rm_r<32>);
    t.op(0x88, mov_rm_r<8>);
    t.op(0x89, mov_rm_r<16>, mov_rm_r<32>);
    t.op(0x8A, mov_r_rm<8>);
    t.op(0x8B, mov_r_rm<16>, mov_r_rm<32>);
    t.op(0x8D, lea<16>, lea<32>);
    t.op(0xA0, mov_acc_moffs<8>);
    t.op(0xA1, mov_acc_moffs<16>, mov_acc_moffs<32>);
    t.op(0xA2, mov_moffs_acc<8>);
    t.op(0xA3, mov_moffs_acc<16>, mov_moffs_acc<32>);
    t.grp(0xC6, 0, mov_rm_imm<8>);
    t.grp(0xC7, 0, mov_rm_imm<16>, mov_rm_imm<32>);
    if (m.is_8086) {
        for (unsigned r = 1; r < 8; ++r) {  // the 8086 ignores ModRM.reg of C6/C7
            t.grp(0xC6, r, mov_rm_imm<8>);
            t.grp(0xC7, r, mov_rm_imm<16>);
        }
    }
    t.op(0x98, cbw, cwde);
    t.op(0x99, cwd, cdq);
    t.op(0x27, daa);
    t.op(0x2F, das);
    t.op(0x37, aaa_aas<false>);
    t.op(0x3F, aaa_aas<true>);
    t.op(0xD4, aam);
    t.op(0xD5, aad);
    t.op(0xD6, salc);
    t.op(0xD7, xlat);
    t.op(0xF5, cmc);
    t.op(0xF8, clc);
    t.op(0xF9, stc);
    t.op(0xFC, cld);
    t.op(0xFD, std_);
    t.op(0x9E, sahf);
    t.op(0x9F, lahf);
    if (m.has_386) {
        t.op0f(0xB6, movx<16, 8, false>, movx<32, 8, false>);    // MOVZX r, r/m8
        t.op0f(0xB7, movx<16, 16, false>, movx<32, 16, false>);  // MOVZX r, r/m16
        t.op0f(0xBE, movx<16, 8, true>, movx<32, 8, true>);      // MOVSX r, r/m8
        t.op0f(0xBF, movx<16, 16, true>, movx<32, 16, true>);    // MOVSX r, r/m16
        for (unsigned cc = 0; cc < 16; ++cc) t.op0f(0x90 + cc, setcc);  // SETcc r/m8
    }
    if (m.has_486) {
        for (unsigned r = 0; r < 8; ++r) t.op0f(0xC8 + r, bswap16, bswap32);  // BSWAP r32
        t.op0f(0xC0, xadd<8>);
        t.op0f(0xC1, xadd<16>, xadd<32>);
        t.op0f(0xB0, cmpxchg<8>);
        t.op0f(0xB1, cmpxchg<16>, cmpxchg<32>);
    }
    if (m.has_pentium) t.grp0f(0xC7, 1, cmpxchg8b);
    if (m.has_p6) {
        for (unsigned cc = 0; cc < 16; ++cc) t.op0f(0x40 + cc, cmovcc<16>, cmovcc<32>);
        t.op0f(0x1F, nop);  // NOP r/m (0F 1F /0)
    }
}

}  // namespace vx86::cpu::ops

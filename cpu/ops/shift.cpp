// Shifts, rotates, double shifts and bit instructions.
//
// Counts: the 186 and later mask every count to 5 bits; the 8086 uses the full CL and simply
// loops, so its results for large counts follow from iterating the one-bit step. The closed
// forms below give exactly what iterating gives, for any count up to 255, so one implementation
// serves both: the model only decides whether the count is masked first.
// A masked count of zero changes nothing, not even flags.
// OF is architecturally defined only for one-bit shifts; for larger counts we produce what the
// last one-bit step would (the 8086 and most later silicon do the same), and tests mask it.
#include "cpu/ops/ops.h"

namespace vx86::cpu::ops {

namespace {

enum ShiftKind { kRol, kRor, kRcl, kRcr, kShl, kShr, kSetmo, kSar };

template <int B>
uint32_t msb(uint32_t v) { return (v >> (B - 1)) & 1; }

// Returns the result and sets lf; `count` is non-zero.
template <int B, int K>
uint32_t shift_op(LazyFlags& lf, const LazyFlags& in, uint32_t a, unsigned count) {
    constexpr uint32_t mask = kMaskB<B>;
    uint32_t r = 0;
    bool cf = false, of = false;
    switch (K) {
        case kRol: {
            unsigned n = count % B;
            r = n ? ((a << n) | (a >> (B - n))) & mask : a;
            cf = r & 1;
            of = msb<B>(r) ^ cf;
            lf_set_cf_of(lf = in, cf, of);
            return r;
        }
        case kRor: {
            unsigned n = count % B;
            r = n ? ((a >> n) | (a << (B - n))) & mask : a;
            cf = msb<B>(r);
            of = msb<B>(r) ^ ((r >> (B - 2)) & 1);
            lf_set_cf_of(lf = in, cf, of);
            return r;
        }
        case kRcl: {
            unsigned n = count % (B + 1);
            uint64_t wide = (uint64_t(lf_cf(in)) << B) | a;  // B+1 bit value: CF:a
            if (n) wide = ((wide << n) | (wide >> (B + 1 - n))) & ((uint64_t(1) << (B + 1)) - 1);
            r = uint32_t(wide) & mask;
            cf = (wide >> B) & 1;
            of = msb<B>(r) ^ cf;
            lf_set_cf_of(lf = in, cf, of);
            return r;
        }
        case kRcr: {
            unsigned n = count % (B + 1);
            uint64_t wide = (uint64_t(lf_cf(in)) << B) | a;
            if (n) wide = ((wide >> n) | (wide << (B + 1 - n))) & ((uint64_t(1) << (B + 1)) - 1);
            r = uint32_t(wide) & mask;
            cf = (wide >> B) & 1;
            of = msb<B>(r) ^ ((r >> (B - 2)) & 1);
            lf_set_cf_of(lf = in, cf, of);
            return r;
        }
        case kShl:
            r = count < 32 ? (a << count) & mask : 0;
            cf = count <= B ? (uint64_t(a) >> (B - count)) & 1 : 0;
            of = msb<B>(r) ^ cf;
            break;
        case kShr:
            r = count < 32 ? a >> count : 0;
            cf = count <= B ? (a >> (count - 1)) & 1 : 0;
            // OF is the sign of the operand before the last one-bit step.
            of = count == 1 ? msb<B>(a) : false;
            break;
        case kSar: {
            int32_t sa = int32_t(sext32<B>(a));
            unsigned n = count < B ? count : B - 1;
            r = uint32_t(sa >> n) & mask;
            cf = count < B ? (sa >> (count - 1)) & 1 : (sa < 0);
            if (count >= B) r = sa < 0 ? mask : 0;
            of = false;
            break;
        }
        case kSetmo:  // 8086 D0-D3 /6: result all ones, flags as OR with all ones
            r = mask;
            set_flags_logic<B>(lf, r);
            return r;
    }
    set_flags_logic<B>(lf, r);
    lf_set_cf_of(lf, cf, of);
    return r;
}

enum CountSrc { kOne, kCl, kImm };

template <int B, int K, int Src>
void shift_rm(Cpu& c, const DecodedInsn& i) {
    unsigned count = Src == kOne ? 1 : (Src == kCl ? c.r8(1) : uint8_t(i.imm));
    if (c.traits().shift_count_masked) count &= 31;
    if (i.flags & kfMem) {
        uint32_t off = c.ea(i);
        uint32_t a = c.read<B>(i.seg, off);
        if (count == 0) return;
        LazyFlags lf;
        uint32_t r = shift_op<B, K>(lf, c.s.lf, a, count);
        c.write<B>(i.seg, off, r);
        c.s.lf = lf;
    } else {
        if (count == 0) return;
        c.set_reg<B>(i.rm, shift_op<B, K>(c.s.lf, c.s.lf, c.reg<B>(i.rm), count));
    }
}

template <int K>
void reg_shift_kind(OpTable& t, unsigned reg) {
    t.grp(0xD0, reg, shift_rm<8, K, kOne>);
    t.grp(0xD1, reg, shift_rm<16, K, kOne>, shift_rm<32, K, kOne>);
    t.grp(0xD2, reg, shift_rm<8, K, kCl>);
    t.grp(0xD3, reg, shift_rm<16, K, kCl>, shift_rm<32, K, kCl>);
    t.grp(0xC0, reg, shift_rm<8, K, kImm>);
    t.grp(0xC1, reg, shift_rm<16, K, kImm>, shift_rm<32, K, kImm>);
}

// SHLD/SHRD r/m, r, imm8|CL (0F A4, A5, AC, AD)
template <int B, bool Left, bool Cl>
void shxd(Cpu& c, const DecodedInsn& i) {
    unsigned count = (Cl ? c.r8(1) : uint8_t(i.imm)) & 31;
    uint32_t a = c.read_rm<B>(i);
    if (count == 0) return;
    uint32_t src = c.reg<B>(i.reg);
    uint32_t r;
    bool cf;
    if constexpr (B == 32) {
        if (Left) {
            r = (a << count) | (count ? src >> (32 - count) : 0);
            cf = (a >> (32 - count)) & 1;
        } else {
            r = (a >> count) | (src << (32 - count));
            cf = (a >> (count - 1)) & 1;
        }
    } else {
        // 16-bit: shift through dest:src:dest, which is what the silicon does for counts > 16.
        if (Left) {
            uint64_t wide = (uint64_t(a) << 32) | (uint64_t(src) << 16) | a;
            wide <<= count;
            r = uint32_t(wide >> 32) & 0xFFFF;
            cf = (wide >> 48) & 1;
        } else {
            uint64_t full = (uint64_t(a)) | (uint64_t(src) << 16) | (uint64_t(a) << 32);
            r = uint32_t(full >> count) & 0xFFFF;
            cf = (full >> (count - 1)) & 1;
        }
    }
    LazyFlags lf;
    set_flags_logic<B>(lf, r);
    lf_set_cf_of(lf, cf, msb<B>(r) ^ msb<B>(a));
    c.write_rm<B>(i, r);
    c.s.lf = lf;
}

// ---- bit tests ----
enum BtKind { kBt, kBts, kBtr, kBtc };

template <int B, int K>
uint32_t bt_apply(uint32_t v, unsigned bit, bool& cf) {
    cf = (v >> bit) & 1;
    if (K == kBts) v |= 1u << bit;
    if (K == kBtr) v &= ~(1u << bit);
    if (K == kBtc) v ^= 1u << bit;
    return v;
}

// BT/BTS/BTR/BTC r/m, r (0F A3, AB, B3, BB): a register bit offset reaches outside the operand.
template <int B, int K>
void bt_rm_r(Cpu& c, const DecodedInsn& i) {
    uint32_t off = c.reg<B>(i.reg);
    bool cf;
    if (i.flags & kfMem) {
        int32_t soff = int32_t(sext32<B>(off));
        uint32_t addr = c.ea(i) + uint32_t((soff >> (B == 16 ? 4 : 5)) * (B / 8));
        if (!(i.flags & kfAddr32)) addr &= 0xFFFF;
        uint32_t v = c.read<B>(i.seg, addr);
        uint32_t r = bt_apply<B, K>(v, off & (B - 1), cf);
        if (K != kBt) c.write<B>(i.seg, addr, r);
    } else {
        uint32_t r = bt_apply<B, K>(c.reg<B>(i.rm), off & (B - 1), cf);
        if (K != kBt) c.set_reg<B>(i.rm, r);
    }
    lf_set_cf(c.s.lf, cf);
}

// BT/BTS/BTR/BTC r/m, imm8 (0F BA /4../7)
template <int B, int K>
void bt_rm_imm(Cpu& c, const DecodedInsn& i) {
    bool cf;
    uint32_t v = c.read_rm<B>(i);
    uint32_t r = bt_apply<B, K>(v, i.imm & (B - 1), cf);
    if (K != kBt) c.write_rm<B>(i, r);
    lf_set_cf(c.s.lf, cf);
}

// BSF/BSR r, r/m (0F BC, BD): a zero source sets ZF and leaves the destination alone.
template <int B, bool Reverse>
void bsf_bsr(Cpu& c, const DecodedInsn& i) {
    uint32_t v = c.read_rm<B>(i);
    uint32_t f = lf_to_eflags(c.s.lf) & ~kZF;
    if (v == 0) {
        lf_from_eflags(c.s.lf, f | kZF);
        return;
    }
    unsigned idx = Reverse ? 31 - unsigned(__builtin_clz(v)) : unsigned(__builtin_ctz(v));
    c.set_reg<B>(i.reg, idx);
    lf_from_eflags(c.s.lf, f);
}

}  // namespace

void register_shift(OpTable& t, const ModelTraits& m) {
    reg_shift_kind<kRol>(t, 0);  // D0-D3, C0-C1 /0
    reg_shift_kind<kRor>(t, 1);
    reg_shift_kind<kRcl>(t, 2);
    reg_shift_kind<kRcr>(t, 3);
    reg_shift_kind<kShl>(t, 4);
    reg_shift_kind<kShr>(t, 5);
    if (m.is_8086) reg_shift_kind<kSetmo>(t, 6);  // undocumented SETMO
    else reg_shift_kind<kShl>(t, 6);              // SAL alias
    reg_shift_kind<kSar>(t, 7);
    if (!m.has_386) return;
    t.op0f(0xA4, shxd<16, true, false>, shxd<32, true, false>);   // SHLD r/m, r, imm8
    t.op0f(0xA5, shxd<16, true, true>, shxd<32, true, true>);     // SHLD r/m, r, CL
    t.op0f(0xAC, shxd<16, false, false>, shxd<32, false, false>); // SHRD r/m, r, imm8
    t.op0f(0xAD, shxd<16, false, true>, shxd<32, false, true>);   // SHRD r/m, r, CL
    t.op0f(0xA3, bt_rm_r<16, kBt>, bt_rm_r<32, kBt>);
    t.op0f(0xAB, bt_rm_r<16, kBts>, bt_rm_r<32, kBts>);
    t.op0f(0xB3, bt_rm_r<16, kBtr>, bt_rm_r<32, kBtr>);
    t.op0f(0xBB, bt_rm_r<16, kBtc>, bt_rm_r<32, kBtc>);
    t.grp0f(0xBA, 4, bt_rm_imm<16, kBt>, bt_rm_imm<32, kBt>);
    t.grp0f(0xBA, 5, bt_rm_imm<16, kBts>, bt_rm_imm<32, kBts>);
    t.grp0f(0xBA, 6, bt_rm_imm<16, kBtr>, bt_rm_imm<32, kBtr>);
    t.grp0f(0xBA, 7, bt_rm_imm<16, kBtc>, bt_rm_imm<32, kBtc>);
    t.op0f(0xBC, bsf_bsr<16, false>, bsf_bsr<32, false>);
    t.op0f(0xBD, bsf_bsr<16, true>, bsf_bsr<32, true>);
}

}  // namespace vx86::cpu::ops

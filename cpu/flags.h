// Lazy flags: every flag-setting operation stores its result and a packed carry vector; the six
// arithmetic flags are derived only when something reads them.
//
// The carry vector of an addition a+b=r is cv = (a & b) | ((a | b) & ~r): bit i is the carry out
// of bit i. For a subtraction a-b=r the borrow vector is bv = (~a & b) | ((~a | b) & r). From it:
//   CF = carry out of the top bit, OF = carry into top xor carry out of top, AF = carry out of bit 3.
// We store CF at bit 31 and (CF xor OF) at bit 30 by shifting the vector so that the operand's top
// two carries land in bits 31..30; AF stays in bit 3. ZF/SF/PF come from the (sign-extended)
// result, with two delta fields so that any flag combination can be forced (POPF, SAHF, IRET).
// The JIT uses exactly this representation, so handlers and generated code can mix freely.
#pragma once

#include <bit>
#include <cstdint>

#include "cpu/state.h"

namespace vx86::cpu {

template <int Bits>
struct SizeTraits;
template <>
struct SizeTraits<8> {
    using T = uint8_t;
    using S = int8_t;
    static constexpr uint32_t kMask = 0xFF;
    static constexpr uint32_t kSign = 0x80;
};
template <>
struct SizeTraits<16> {
    using T = uint16_t;
    using S = int16_t;
    static constexpr uint32_t kMask = 0xFFFF;
    static constexpr uint32_t kSign = 0x8000;
};
template <>
struct SizeTraits<32> {
    using T = uint32_t;
    using S = int32_t;
    static constexpr uint32_t kMask = 0xFFFFFFFF;
    static constexpr uint32_t kSign = 0x80000000;
};

inline constexpr uint32_t kLfCF = 1u << 31, kLfPO = 1u << 30, kLfAF = 1u << 3, kLfSD = 1u << 2;
inline constexpr uint32_t kLfPDB = 0xFFu << 8;

template <int Bits>
inline uint32_t sext32(uint32_t v) {
    if constexpr (Bits == 8) return uint32_t(int32_t(int8_t(v)));
    else if constexpr (Bits == 16) return uint32_t(int32_t(int16_t(v)));
    else return v;
}

// Pack a carry/borrow vector: top two carries to bits 31 and 30 (as CF and CF^OF), AF at bit 3.
template <int Bits>
inline uint32_t pack_cv(uint32_t cv) {
    // Bit msb of cv is the carry out (CF); bit msb-1 is the carry into the msb, which equals
    // CF xor OF. Shifting both to bits 31..30 gives exactly the packed form.
    return ((cv << (32 - Bits)) & (kLfCF | kLfPO)) | (cv & kLfAF);
}

template <int Bits>
inline void set_flags_add(LazyFlags& lf, uint32_t a, uint32_t b, uint32_t r) {
    uint32_t cv = (a & b) | ((a | b) & ~r);
    lf.res = sext32<Bits>(r);
    lf.aux = pack_cv<Bits>(cv);
}

template <int Bits>
inline void set_flags_sub(LazyFlags& lf, uint32_t a, uint32_t b, uint32_t r) {
    uint32_t bv = (~a & b) | ((~a | b) & r);
    lf.res = sext32<Bits>(r);
    lf.aux = pack_cv<Bits>(bv);
}

// Logic ops: CF=OF=AF=0.
template <int Bits>
inline void set_flags_logic(LazyFlags& lf, uint32_t r) {
    lf.res = sext32<Bits>(r);
    lf.aux = 0;
}

inline bool lf_cf(const LazyFlags& lf) { return lf.aux >> 31; }
inline bool lf_of(const LazyFlags& lf) { return ((lf.aux >> 31) ^ (lf.aux >> 30)) & 1; }
inline bool lf_af(const LazyFlags& lf) { return (lf.aux >> 3) & 1; }
inline bool lf_zf(const LazyFlags& lf) { return lf.res == 0; }
inline bool lf_sf(const LazyFlags& lf) { return ((lf.res >> 31) ^ (lf.aux >> 2)) & 1; }
inline bool lf_pf(const LazyFlags& lf) {
    return !(std::popcount((lf.res ^ (lf.aux >> 8)) & 0xFFu) & 1);
}

// Replace CF keeping every other flag (INC/DEC keep the old CF; CLC/STC/CMC, shifts).
inline void lf_set_cf(LazyFlags& lf, bool cf) {
    bool of = lf_of(lf);
    lf.aux = (lf.aux & ~(kLfCF | kLfPO)) | (uint32_t(cf) << 31) | (uint32_t(cf ^ of) << 30);
}
inline void lf_set_cf_of(LazyFlags& lf, bool cf, bool of) {
    lf.aux = (lf.aux & ~(kLfCF | kLfPO)) | (uint32_t(cf) << 31) | (uint32_t(cf ^ of) << 30);
}
inline void lf_set_af(LazyFlags& lf, bool af) { lf.aux = (lf.aux & ~kLfAF) | (af ? kLfAF : 0); }

// Materialise the six arithmetic flags as EFLAGS bits.
inline uint32_t lf_to_eflags(const LazyFlags& lf) {
    return (lf_cf(lf) ? kCF : 0) | (lf_pf(lf) ? kPF : 0) | (lf_af(lf) ? kAF : 0) |
           (lf_zf(lf) ? kZF : 0) | (lf_sf(lf) ? kSF : 0) | (lf_of(lf) ? kOF : 0);
}

// Encode any combination of the six arithmetic flags.
inline void lf_from_eflags(LazyFlags& lf, uint32_t f) {
    bool cf = f & kCF, pf = f & kPF, af = f & kAF, zf = f & kZF, sf = f & kSF, of = f & kOF;
    uint32_t res = zf ? 0u : 1u;  // low byte 0 (parity even) or 1 (parity odd)
    uint32_t aux = (uint32_t(cf) << 31) | (uint32_t(cf ^ of) << 30) | (af ? kLfAF : 0);
    if (sf) aux |= kLfSD;  // res bit 31 is 0 in both cases: SF = 0 ^ delta
    bool pf_now = zf;      // parity of low byte: 0 -> even (PF=1), 1 -> odd (PF=0)
    if (pf != pf_now) aux |= 1u << 8;  // flip one bit of the parity byte
    lf.res = res;
    lf.aux = aux;
}

inline uint32_t read_eflags(const CpuState& s) { return s.eflags | lf_to_eflags(s.lf); }

// Writes every bit of `v` (callers mask what the mode allows first). Bit 1 always reads 1.
inline void write_eflags(CpuState& s, uint32_t v) {
    s.eflags = (v & ~kArithFlags) | 2u;
    lf_from_eflags(s.lf, v);
}

// Condition codes 0..15 as in Jcc/SETcc/CMOVcc (low nibble of the opcode).
inline bool eval_cond(const LazyFlags& lf, unsigned cc) {
    bool r;
    switch (cc >> 1) {
        case 0: r = lf_of(lf); break;
        case 1: r = lf_cf(lf); break;
        case 2: r = lf_zf(lf); break;
        case 3: r = lf_cf(lf) || lf_zf(lf); break;
        case 4: r = lf_sf(lf); break;
        case 5: r = lf_pf(lf); break;
        case 6: r = lf_sf(lf) != lf_of(lf); break;
        default: r = lf_zf(lf) || (lf_sf(lf) != lf_of(lf)); break;
    }
    return r ^ (cc & 1);
}

}  // namespace vx86::cpu

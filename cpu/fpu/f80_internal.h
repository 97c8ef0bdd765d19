// Pieces shared by the x87 arithmetic (f80.cpp) and the transcendentals (f80_trans.cpp): the
// 128-bit helpers, the encoding constants, and the exception and NaN rules every operation
// starts with (SDM vol. 1, 4.8.3.5 and table 4-7). Internal to cpu/fpu.
#pragma once

#include <bit>
#include <cstdint>

#include "cpu/fpu/f80.h"

namespace vx86::cpu::fpu::detail {

__extension__ typedef unsigned __int128 U128;

inline constexpr uint64_t kIntBit = 1ull << 63;
inline constexpr uint64_t kQuietBit = 1ull << 62;
inline constexpr int32_t kWrapBias = 24576;  // exponent adjustment of unmasked OE/UE results

inline int clz128(U128 v) {
    uint64_t hi = static_cast<uint64_t>(v >> 64);
    if (hi) return std::countl_zero(hi);
    return 64 + std::countl_zero(static_cast<uint64_t>(v));
}

// Right shift keeping a sticky bit (bit 0 set) for everything shifted out.
inline U128 shift_right_jam(U128 v, int64_t n) {
    if (n <= 0) return v;
    if (n >= 128) return v != 0 ? 1 : 0;
    U128 lost = v & ((U128(1) << n) - 1);
    return (v >> n) | (lost != 0 ? 1 : 0);
}

inline F80 make(bool sign, int32_t exp_field, uint64_t sig) {
    return F80{sig, static_cast<uint16_t>((sign ? 0x8000 : 0) | (exp_field & 0x7FFF))};
}

inline bool is_nan(Class c) { return c == Class::kQNaN || c == Class::kSNaN; }
inline bool is_denormal(Class c) { return c == Class::kDenormal || c == Class::kPseudoDenormal; }

// Raises `ex`; IE, ZE and DE suppress the destination write when unmasked.
inline void raise(Env& env, uint16_t ex) {
    env.flags |= ex;
    if ((ex & (kExInvalid | kExZeroDiv | kExDenormal)) & ~env.masks) env.unmasked_fault = true;
}

inline F80 invalid(Env& env) {
    raise(env, kExInvalid);
    return f80_indefinite();
}

inline F80 quieted(F80 a) {
    a.sig |= kQuietBit;
    return a;
}

// Unsupported encodings and NaNs of a one-operand instruction (`c` = classify(a)); true when
// `out` holds the result.
inline bool special_nan1(F80 a, Class c, Env& env, F80& out) {
    if (c == Class::kUnsupported) {
        out = invalid(env);
        return true;
    }
    if (!is_nan(c)) return false;
    if (c == Class::kSNaN) raise(env, kExInvalid);
    out = quieted(a);
    return true;
}

// The same for two operands: a QNaN beats an SNaN, else the larger significand, and on a tie
// the positive one.
inline bool special_nan2(F80 a, Class ca, F80 b, Class cb, Env& env, F80& out) {
    if (ca == Class::kUnsupported || cb == Class::kUnsupported) {
        out = invalid(env);
        return true;
    }
    bool na = is_nan(ca), nb = is_nan(cb);
    if (!na && !nb) return false;
    if (ca == Class::kSNaN || cb == Class::kSNaN) raise(env, kExInvalid);
    if (na && nb) {
        if (ca != cb) out = quieted(ca == Class::kQNaN ? a : b);
        else if (a.sig != b.sig) out = quieted(a.sig > b.sig ? a : b);
        else out = quieted(a.se < b.se ? a : b);
    } else {
        out = quieted(na ? a : b);
    }
    return true;
}

}  // namespace vx86::cpu::fpu::detail

// f80_trans.cpp: the x87 transcendental instructions (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1,
// FYL2X, FYL2XP1) in portable integer C++.
//
// Design decisions:
// - Every result is computed in a private 128-bit-significand floating format (Xf: sign, an
//   unbounded int32 exponent, a normalized unsigned __int128 significand; each operation
//   truncates with a sticky bit, so one operation errs by less than 2^-126 relative) and then
//   rounded once to the 64-bit register significand by the rounding control. Precision control
//   does not apply to these instructions. The series below are summed until the next term is
//   below 2^-132 of the sum, and no step cancels catastrophically (argument reduction is exact
//   integer arithmetic; the other subtractions lose at most a few bits), so the value before
//   the final rounding is within about 2^-118 relative of the exact function. The result is thus
//   the correctly rounded value except when the exact value lies within ~2^-54 ulp of a rounding
//   boundary. The host x87 this was checked against (an AMD EPYC, see f80_trans_test.cpp) is
//   itself correctly rounded in about 97-99% of cases and within 1 ulp otherwise (its FPTAN for
//   |x| < ~2^-33 returns x whatever the rounding mode, so directed modes differ by 1 ulp there);
//   that remainder, and the C1 it reports for it, is not modelled (its internal error is not
//   documented). FSINCOS reports C1 for the sine, as measured.
// - Values that are exact (log2 of a power of two, 2^+-1 - 1) are rounded without a sticky bit;
//   every other value is treated as inexact, so the directed roundings and C1 ("rounded up in
//   magnitude") behave as for the infinitely precise value.
// - Argument reduction for FSIN/FCOS/FSINCOS/FPTAN reproduces the hardware: the x87 reduces by
//   pi/2 rounded to a 66-bit constant (pi ~ 0xC90FDAA22168C234C * 2^-66, i.e. pi to 68 bits,
//   whose last two bits are zero), not by the true pi. The reduction itself is exact: |x| < 2^63
//   scaled by 2^65 fits in 128 bits, so quotient and remainder are plain integer division. For
//   large arguments the results therefore differ from the mathematical sine exactly as the
//   hardware's do (near multiples of pi/2 the difference is many ulps). |x| >= 2^63 is out of
//   range: the operand is returned unchanged with C2 = 1 and no exception.
// - Tininess is detected after rounding (a result that rounds to the smallest normal is not
//   tiny), which is what the host x87 showed for sin(smallest normal). A masked underflow
//   denormalizes and rounds at the denormal's last bit; UE is raised with PE. Unmasked UE/OE
//   deliver the result with the exponent biased by +/-24576, as for the basic arithmetic.
// - PE: the measured x87 (an AMD Zen core) raises PE for every finite nonzero result it
//   computes, even exact ones (fyl2x(8, 3) = 9, f2xm1(-1) = -0.5), and not for exact zeros
//   (fyl2x(1, y)) or the special-case infinities. This file does the same.
// - Special cases follow the SDM tables (FPATAN's signed zeros and infinities, FYL2X's and
//   FYL2XP1's invalid/divide-by-zero entries). Where the SDM says "undefined" the measured
//   hardware is followed: F2XM1 with |x| > 1 returns x with PE (+inf -> +inf, -inf -> -1 with no
//   exception); FYL2XP1 computes y*log2(1+x) for every x > -1, and for finite x <= -1 returns x
//   (PE) for finite nonzero y, -sign(y)*inf for infinite y and the zero -sign(y)*0 for zero y;
//   FYL2XP1 with x = -inf is invalid.
// - Exception priority: unsupported encodings and SNaNs (IE), QNaN propagation (two NaNs: the
//   larger significand wins, a QNaN beats an SNaN), then invalid operands and ZE, then DE on a
//   denormal operand (an unmasked DE stops the instruction), then OE/UE/PE of the result.
#include "cpu/fpu/f80.h"
#include "cpu/fpu/f80_internal.h"

#include <bit>
#include <utility>

namespace vx86::cpu::fpu {

namespace {

using namespace detail;

// ---- the 128-bit working format ----

// value = (-1)^neg * sig * 2^(exp - 127); sig has bit 127 set, or is 0 for a zero.
struct Xf {
    bool neg = false;
    int32_t exp = 0;
    U128 sig = 0;
    bool zero() const { return sig == 0; }
};

constexpr Xf xf_const(uint64_t hi, uint64_t lo, int32_t exp)
{
    return Xf{false, exp, (U128(hi) << 64) | lo};
}

// 128-bit constants (rounded to nearest), from a multiple-precision evaluation.
constexpr Xf kPi = xf_const(0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull, 1);
constexpr Xf kLog2E = xf_const(0xB8AA3B295C17F0BBull, 0xBE87FED0691D3E89ull, 0);
constexpr Xf kLn2 = xf_const(0xB17217F7D1CF79ABull, 0xC9E3B39803F2F6AFull, -1);
constexpr U128 kSqrt2Sig = (U128(0xB504F333F9DE6484ull) << 64) | 0x597D89B3754ABE9Full;
// atan(k/16), k = 1..16 (the FPATAN table points).
constexpr Xf kAtanTable[16] = {
    xf_const(0xFFAADDB967EF4E36ull, 0xCB2792DC0E2E0D51ull, -5),
    xf_const(0xFEADD4D5617B6E32ull, 0xC897989F3E888EF8ull, -4),
    xf_const(0xBDCBDA5E72D81134ull, 0x7B0B4F881C9C7488ull, -3),
    xf_const(0xFADBAFC96406EB15ull, 0x6DC79EF5F7A217E6ull, -3),
    xf_const(0x9B13B9B83F5E5E69ull, 0xC5ABB498D27AF328ull, -2),
    xf_const(0xB7B0CA0F26F78473ull, 0x8AA32122DCFE4483ull, -2),
    xf_const(0xD327761E611FE5B6ull, 0x427C95E9001E7136ull, -2),
    xf_const(0xED63382B0DDA7B45ull, 0x6FE445ECBC3A8D03ull, -2),
    xf_const(0x832BF4A6D9867E2Aull, 0x4B6A09CB61A515C1ull, -1),
    xf_const(0x8F005D5EF7F59F9Bull, 0x5C835E1665C43748ull, -1),
    xf_const(0x9A2F80E671BDDA20ull, 0x4226F8E2204FF3BDull, -1),
    xf_const(0xA4BC7D1934F70924ull, 0x19A87F2A457DAC9Full, -1),
    xf_const(0xAEAC4C38B4D8C080ull, 0x14725E2F3E52070Aull, -1),
    xf_const(0xB8053E2BC2319E73ull, 0xCB2DA55210A4443Dull, -1),
    xf_const(0xC0CE85B8AC526640ull, 0x89DD62C46E92FA25ull, -1),
    xf_const(0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull, -1),
};
// The x87's pi/2 for argument reduction, as an integer multiple of 2^-65 (66 bits, odd).
constexpr U128 kHwPiHalf = (U128(0x3ull) << 64) | 0x243F6A8885A308D3ull;

// A series stops once its next term is below 2^-kSeriesCut of the running sum.
constexpr int32_t kSeriesCut = 132;


// value = sig * 2^(exp - 127) for any sig.
Xf normalize(bool neg, int32_t exp, U128 sig)
{
    if (sig == 0) return Xf{neg, 0, 0};
    int lz = clz128(sig);
    return Xf{neg, exp - lz, sig << lz};
}

Xf xf_int(int64_t v)
{
    uint64_t m = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    return normalize(v < 0, 127, m);
}

// A finite nonzero F80 (denormals and pseudo-denormals normalized); exact.
Xf xf_from(F80 a)
{
    int32_t e = a.exp() == 0 ? 1 : a.exp();
    return normalize(a.sign(), e - kBias, U128(a.sig) << 64);
}

Xf xf_neg(Xf a)
{
    a.neg = !a.neg;
    return a;
}

Xf xf_abs(Xf a)
{
    a.neg = false;
    return a;
}

Xf xf_add(Xf a, Xf b)
{
    if (a.zero()) return b;
    if (b.zero()) return a;
    if (a.exp < b.exp || (a.exp == b.exp && a.sig < b.sig)) std::swap(a, b);  // |a| >= |b|
    U128 bs = shift_right_jam(b.sig, int64_t(a.exp) - b.exp);
    if (a.neg == b.neg) {
        U128 s = a.sig + bs;
        if (s < a.sig) return Xf{a.neg, a.exp + 1, (s >> 1) | (s & 1) | (U128(1) << 127)};
        return Xf{a.neg, a.exp, s};
    }
    return normalize(a.neg, a.exp, a.sig - bs);
}

Xf xf_sub(Xf a, Xf b) { return xf_add(a, xf_neg(b)); }

Xf xf_mul(Xf a, Xf b)
{
    bool neg = a.neg != b.neg;
    if (a.zero() || b.zero()) return Xf{neg, 0, 0};
    const U128 m64 = ~uint64_t(0);
    uint64_t ah = static_cast<uint64_t>(a.sig >> 64), al = static_cast<uint64_t>(a.sig);
    uint64_t bh = static_cast<uint64_t>(b.sig >> 64), bl = static_cast<uint64_t>(b.sig);
    U128 hh = U128(ah) * bh, hl = U128(ah) * bl, lh = U128(al) * bh, ll = U128(al) * bl;
    U128 mid = (hl & m64) + (lh & m64) + (ll >> 64);
    U128 hi = hh + (hl >> 64) + (lh >> 64) + (mid >> 64);
    U128 lo = (mid << 64) | (ll & m64);
    int32_t e = a.exp + b.exp + 1;
    if (!(hi >> 127)) {
        hi = (hi << 1) | (lo >> 127);
        lo <<= 1;
        --e;
    }
    return Xf{neg, e, hi | (lo != 0 ? 1 : 0)};
}

// Restoring division, one quotient bit per step (b nonzero).
Xf xf_div(Xf a, Xf b)
{
    bool neg = a.neg != b.neg;
    if (a.zero()) return Xf{neg, 0, 0};
    U128 rem = a.sig, d = b.sig;
    int32_t e = a.exp - b.exp;
    if (rem >= d) {
        rem -= d;
    } else {
        --e;
        rem = (rem << 1) - d;  // 2a - d < d: exact modulo 2^128
    }
    U128 q = 1;
    for (int i = 0; i < 127; ++i) {
        bool top = (rem >> 127) != 0;
        rem <<= 1;
        q <<= 1;
        if (top || rem >= d) {
            rem -= d;
            q |= 1;
        }
    }
    return Xf{neg, e, q | (rem != 0 ? 1 : 0)};
}

// a / d for a small positive integer d (< 2^63): a 192-bit quotient from three 128/64 steps.
Xf xf_div_small(Xf a, uint64_t d)
{
    if (a.zero()) return a;
    uint64_t h = static_cast<uint64_t>(a.sig >> 64), l = static_cast<uint64_t>(a.sig);
    uint64_t q2 = h / d, r = h % d;
    U128 t = (U128(r) << 64) | l;
    uint64_t q1 = static_cast<uint64_t>(t / d);
    r = static_cast<uint64_t>(t % d);
    t = U128(r) << 64;
    uint64_t q0 = static_cast<uint64_t>(t / d);
    r = static_cast<uint64_t>(t % d);
    int lz = std::countl_zero(q2);  // q2 >= 1 because h >= 2^63 > d
    U128 hi = (U128(q2) << 64) | q1;
    uint64_t rest = q0;
    if (lz) {
        hi = (hi << lz) | (q0 >> (64 - lz));
        rest = q0 << lz;
    }
    return Xf{a.neg, a.exp - lz, hi | ((rest | r) != 0 ? 1 : 0)};
}

Xf xf_scale(Xf a, int32_t n)
{
    if (!a.zero()) a.exp += n;
    return a;
}

// ---- rounding to the register format ----

// Rounds the magnitude `s` after dropping its low `drop` bits (any drop >= 1) by `rc`; `up` tells
// whether the magnitude was increased. The result may carry into one more bit.
U128 round_drop(U128 s, int64_t drop, bool neg, uint8_t rc, bool& up)
{
    U128 keep = 0;
    bool above_half = false, at_half = false, nonzero = s != 0;
    if (drop < 128) {
        keep = s >> drop;
        U128 rem = s & ((U128(1) << drop) - 1);
        U128 half = U128(1) << (drop - 1);
        above_half = rem > half;
        at_half = rem == half;
        nonzero = rem != 0;
    } else if (drop == 128) {
        above_half = s > (U128(1) << 127);
        at_half = s == (U128(1) << 127);
    }
    switch (rc & 3) {
    case kRoundNearest: up = above_half || (at_half && (keep & 1)); break;
    case kRoundDown: up = nonzero && neg; break;
    case kRoundUp: up = nonzero && !neg; break;
    default: up = false; break;
    }
    return keep + (up ? 1 : 0);
}

// Rounds `v` to 64 bits by env.rc with the x87's overflow/underflow responses, sets C1 and the
// result exceptions. PE is raised for every nonzero result (the measured hardware does so even
// for exact ones, and then also reports a tiny exact result as UE); `exact` only controls
// whether a sticky bit below the 128 bits is assumed.
F80 pack(Xf v, bool exact, Env& env)
{
    env.c1 = false;
    if (v.zero()) return f80_zero(v.neg);
    U128 sig = v.sig | (exact ? 0 : 1);
    int32_t e = v.exp + kBias;  // biased exponent of the unrounded value
    bool up = false;
    U128 m = round_drop(sig, 64, v.neg, env.rc, up);
    if (m >> 64) {
        m >>= 1;
        ++e;
    }
    env.flags |= kExPrecision;
    if (e < 1) {  // tiny after rounding
        env.flags |= kExUnderflow;
        if (!(env.masks & kExUnderflow)) {
            env.c1 = up;
            return make(v.neg, e + kWrapBias, static_cast<uint64_t>(m));
        }
        // Denormalize: the field holds value / 2^(1 - kBias - 63).
        int64_t drop = 64 + 1 - (int64_t(v.exp) + kBias);
        uint64_t field = static_cast<uint64_t>(round_drop(sig, drop, v.neg, env.rc, env.c1));
        return make(v.neg, (field & kIntBit) ? 1 : 0, field);  // may round up to the min normal
    }
    if (e > 0x7FFE) {
        env.flags |= kExOverflow;
        if (!(env.masks & kExOverflow)) {
            env.c1 = up;
            return make(v.neg, e - kWrapBias, static_cast<uint64_t>(m));
        }
        uint8_t rc = env.rc & 3;
        bool to_inf = rc == kRoundNearest || (rc == kRoundUp && !v.neg) || (rc == kRoundDown && v.neg);
        env.c1 = to_inf;
        if (to_inf) return f80_inf(v.neg);
        return make(v.neg, 0x7FFE, ~uint64_t(0));
    }
    env.c1 = up;
    return make(v.neg, e, static_cast<uint64_t>(m));
}

// ---- exceptions and NaNs ----

// DE for denormal operands; true when the unmasked exception stops the instruction.
bool denormal_stop(Env& env, Class ca, Class cb = Class::kZero)
{
    if (!is_denormal(ca) && !is_denormal(cb)) return false;
    raise(env, kExDenormal);
    return !(env.masks & kExDenormal);
}

// ---- FSIN, FCOS, FSINCOS, FPTAN ----
//
// Reduction: |x| * 2^65 is an integer X < 2^128 (|x| < 2^63 has a 64-bit significand); with the
// hardware's pi/2 = P * 2^-65 (P a 66-bit odd integer) the nearest quotient q and the remainder
// R = X - q*P are exact, |R| <= P/2, so r = R * 2^-65 is the reduced argument, |r| <= ~pi/4,
// held exactly in an Xf. (|x| < 1/2 needs no reduction.) Then sin(r) and cos(r) come from their
// Taylor series (|r| <= 0.786: about 17 terms each reach 2^-132) and are rotated by q mod 4.

struct SinCos {
    Xf s, c;
};

// sin and cos of a finite nonzero |x| < 2^63, with the x87's reduction.
SinCos sincos_core(F80 a)
{
    Xf x = xf_from(a);
    bool xneg = x.neg;
    x.neg = false;
    Xf r = x;
    unsigned quadrant = 0;
    if (x.exp >= -1) {
        uint64_t m = static_cast<uint64_t>(x.sig >> 64);  // the 64-bit significand
        U128 big = U128(m) << (x.exp + 2);              // |x| * 2^65
        U128 q = big / kHwPiHalf, rem = big % kHwPiHalf;
        bool rneg = false;
        if (rem > kHwPiHalf / 2) {  // P is odd: no ties
            ++q;
            rem = kHwPiHalf - rem;
            rneg = true;
        }
        quadrant = static_cast<unsigned>(q & 3);
        r = normalize(rneg, 127 - 65, rem);
    }
    Xf r2 = xf_mul(r, r);
    // sin r = r - r^3/3! + r^5/5! - ...
    Xf s = r, term = r;
    for (uint64_t n = 1;; ++n) {
        term = xf_neg(xf_div_small(xf_mul(term, r2), (2 * n) * (2 * n + 1)));
        s = xf_add(s, term);
        if (term.exp < s.exp - kSeriesCut) break;
    }
    // cos r = 1 - r^2/2! + r^4/4! - ...
    Xf c = xf_int(1);
    term = c;
    for (uint64_t n = 1;; ++n) {
        term = xf_neg(xf_div_small(xf_mul(term, r2), (2 * n - 1) * (2 * n)));
        c = xf_add(c, term);
        if (term.exp < c.exp - kSeriesCut) break;
    }
    SinCos out;
    switch (quadrant) {
    case 0: out = {s, c}; break;
    case 1: out = {c, xf_neg(s)}; break;
    case 2: out = {xf_neg(s), xf_neg(c)}; break;
    default: out = {xf_neg(c), s}; break;
    }
    if (xneg) out.s = xf_neg(out.s);
    return out;
}

constexpr int32_t kTrigMaxExp = kBias + 63;  // |x| >= 2^63 is out of range

// The checks shared by the four: returns true when `out` is the (special) result.
bool trig_special(F80 a, Env& env, bool& c2, F80& out, Class& c)
{
    c2 = false;
    c = classify(a);
    if (special_nan1(a, c, env, out)) return true;
    if (c == Class::kInf) {
        out = invalid(env);
        return true;
    }
    if (c == Class::kNormal && a.exp() >= kTrigMaxExp) {
        c2 = true;
        out = a;
        return true;
    }
    if (c == Class::kZero) return false;
    if (denormal_stop(env, c)) {
        out = a;
        return true;
    }
    return false;
}

// ---- F2XM1 ----
//
// 2^x - 1 = expm1(t) with t = x*ln2, |t| < ln2: the Taylor series t + t^2/2! + ... has no
// cancellation (|expm1(t)| >= 0.72|t| on this interval) and reaches 2^-132 after about 33 terms.

Xf expm1_core(Xf t)
{
    Xf sum = t, term = t;
    for (uint64_t n = 2;; ++n) {
        term = xf_div_small(xf_mul(term, t), n);
        sum = xf_add(sum, term);
        if (term.zero() || term.exp < sum.exp - kSeriesCut) break;
    }
    return sum;
}

// ---- FYL2X, FYL2XP1 ----
//
// ln(v) = 2 atanh(s), s = (v - 1)/(v + 1). For v = m * 2^E with m in [sqrt(1/2), sqrt(2)],
// |s| <= 0.1716 and the odd series s + s^3/3 + s^5/5 + ... gains 5 bits per term (about 26
// terms). log2(v) = E + ln(m) * log2(e). For log2(1 + x) with small x, s = x / (2 + x) directly,
// so a tiny x keeps its full relative precision.

Xf atanh_series(Xf s)
{
    Xf s2 = xf_mul(s, s);
    Xf sum = s, power = s;
    for (uint64_t k = 1;; ++k) {
        power = xf_mul(power, s2);
        Xf term = xf_div_small(power, 2 * k + 1);
        sum = xf_add(sum, term);
        if (term.zero() || term.exp < sum.exp - kSeriesCut) break;
    }
    return sum;
}

// log2 of a positive finite v; `exact` when v is a power of two (the result is then E).
Xf log2_core(Xf v, bool& exact)
{
    int32_t e = v.exp;
    Xf m = v;
    m.exp = 0;
    if (m.sig > kSqrt2Sig) {
        m.exp = -1;
        ++e;
    }
    Xf num = xf_sub(m, xf_int(1));
    exact = num.zero();
    Xf result = xf_int(e);
    if (exact) return result;
    Xf ln = xf_scale(atanh_series(xf_div(num, xf_add(m, xf_int(1)))), 1);
    return xf_add(result, xf_mul(ln, kLog2E));
}

// ---- FPATAN ----
//
// atan(t) for 0 <= t <= 1: with c = k/16 the nearest table point, atan(t) = atan(c) + atan(u),
// u = (t - c) / (1 + t*c), |u| <= 1/32, whose series u - u^3/3 + ... gains 10 bits per term.
// The quadrant: |y| > |x| uses pi/2 - atan(|x|/|y|), x < 0 uses pi - (...), then y's sign.

Xf atan_core(Xf t)
{
    if (t.zero()) return t;
    unsigned k = 0;
    if (t.exp >= -5) {
        unsigned k32 = static_cast<unsigned>(t.sig >> (127 - (t.exp + 5)));  // floor(32 t)
        k = (k32 + 1) >> 1;
    }
    Xf u = t, base;
    if (k) {
        Xf c = xf_scale(xf_int(k), -4);
        u = xf_div(xf_sub(t, c), xf_add(xf_int(1), xf_mul(t, c)));
        base = kAtanTable[k - 1];
    }
    Xf u2 = xf_mul(u, u);
    Xf sum = u, power = u;
    for (uint64_t n = 1;; ++n) {
        power = xf_neg(xf_mul(power, u2));
        Xf term = xf_div_small(power, 2 * n + 1);
        sum = xf_add(sum, term);
        if (term.zero() || term.exp < sum.exp - kSeriesCut) break;
    }
    return xf_add(base, sum);
}

}  // namespace

F80 fsin(F80 a, Env& env, bool& c2)
{
    F80 out;
    Class c;
    if (trig_special(a, env, c2, out, c)) return out;
    if (c == Class::kZero) return a;
    return pack(sincos_core(a).s, false, env);
}

F80 fcos(F80 a, Env& env, bool& c2)
{
    F80 out;
    Class c;
    if (trig_special(a, env, c2, out, c)) return out;
    if (c == Class::kZero) return F80{kIntBit, 0x3FFF};
    return pack(sincos_core(a).c, false, env);
}

void fsincos(F80 a, Env& env, bool& c2, F80& sin_out, F80& cos_out)
{
    F80 out;
    Class c;
    if (trig_special(a, env, c2, out, c)) {
        sin_out = cos_out = out;
        return;
    }
    if (c == Class::kZero) {
        sin_out = a;
        cos_out = F80{kIntBit, 0x3FFF};
        return;
    }
    SinCos sc = sincos_core(a);
    // C1 reports the rounding of the sine (ST(1)), as measured on the host x87.
    cos_out = pack(sc.c, false, env);
    sin_out = pack(sc.s, false, env);
}

F80 fptan(F80 a, Env& env, bool& c2)
{
    F80 out;
    Class c;
    if (trig_special(a, env, c2, out, c)) return out;
    if (c == Class::kZero) return a;
    SinCos sc = sincos_core(a);
    return pack(xf_div(sc.s, sc.c), false, env);
}

F80 fpatan(F80 y, F80 x, Env& env)
{
    env.c1 = false;
    Class cy = classify(y), cx = classify(x);
    F80 out;
    if (special_nan2(y, cy, x, cx, env, out)) return out;
    if (denormal_stop(env, cy, cx)) return y;
    bool ys = y.sign(), xs = x.sign();
    // SDM FPATAN table: the angle of (x, y) including signed zeros and infinities.
    auto angle = [&](Xf v) { return pack(ys ? xf_neg(v) : v, false, env); };
    if (cy == Class::kZero) {
        if (!xs) return f80_zero(ys);                 // +0 or +x: +-0
        return angle(kPi);                            // -0 or -x: +-pi
    }
    if (cy == Class::kInf) {
        if (cx == Class::kInf) return angle(xs ? xf_scale(xf_mul(kPi, xf_int(3)), -2)
                                               : xf_scale(kPi, -2));
        return angle(xf_scale(kPi, -1));
    }
    if (cx == Class::kZero) return angle(xf_scale(kPi, -1));
    if (cx == Class::kInf) return xs ? angle(kPi) : f80_zero(ys);
    Xf ay = xf_abs(xf_from(y)), ax = xf_abs(xf_from(x));
    bool swap = ay.exp > ax.exp || (ay.exp == ax.exp && ay.sig > ax.sig);
    Xf theta = swap ? xf_sub(xf_scale(kPi, -1), atan_core(xf_div(ax, ay)))
                    : atan_core(xf_div(ay, ax));
    if (xs) theta = xf_sub(kPi, theta);
    return angle(theta);
}

F80 f2xm1(F80 a, Env& env)
{
    env.c1 = false;
    Class c = classify(a);
    F80 out;
    if (special_nan1(a, c, env, out)) return out;
    if (c == Class::kZero) return a;
    if (c == Class::kInf) return a.sign() ? F80{kIntBit, 0xBFFF} : a;  // 2^-inf - 1 = -1
    if (denormal_stop(env, c)) return a;
    Xf x = xf_from(a);
    if (x.exp >= 0) {
        // |x| >= 1: 2^1 - 1 = 1 and 2^-1 - 1 = -1/2 exactly; beyond the documented domain
        // the measured hardware returns the operand with PE.
        bool one = x.exp == 0 && x.sig == (U128(1) << 127);
        if (!one) {
            env.flags |= kExPrecision;
            return a;
        }
        F80 r = pack(x.neg ? xf_scale(xf_neg(xf_int(1)), -1) : xf_int(1), true, env);
        if (!x.neg) env.c1 = true;  // the hardware reports 2^1 - 1 as rounded up
        return r;
    }
    return pack(expm1_core(xf_mul(x, kLn2)), false, env);
}

F80 fyl2x(F80 x, F80 y, Env& env)
{
    env.c1 = false;
    Class cx = classify(x), cy = classify(y);
    F80 out;
    if (special_nan2(x, cx, y, cy, env, out)) return out;
    bool xs = x.sign(), ys = y.sign();
    // SDM FYL2X table. Invalid: x < 0 (-0 belongs to the zero column), x = +-0 with y = +-0,
    // x = 1 with y infinite, x = +inf with y = +-0. x = +-0 with finite y is ZE (a denormal y
    // then raises no DE), with infinite y just the infinity; the result is -sign(y) * inf.
    if (xs && cx != Class::kZero) return invalid(env);
    if (cx == Class::kZero) {
        if (cy == Class::kZero) return invalid(env);
        if (cy != Class::kInf) raise(env, kExZeroDiv);
        return f80_inf(!ys);
    }
    bool x_one = cx == Class::kNormal && x.exp() == kBias && x.sig == kIntBit;
    if (cx == Class::kInf) {
        if (cy == Class::kZero) return invalid(env);
        if (denormal_stop(env, cy)) return y;
        return f80_inf(ys);
    }
    if (cy == Class::kInf) {
        if (x_one) return invalid(env);
        if (denormal_stop(env, cx)) return x;
        bool below_one = x.exp() < kBias || cx != Class::kNormal;  // 0 < x < 1
        return f80_inf(ys != below_one);
    }
    if (denormal_stop(env, cx, cy)) return x;
    bool exact = false;
    Xf l = log2_core(xf_from(x), exact);
    if (l.zero() || cy == Class::kZero) return f80_zero(ys != l.neg);
    return pack(xf_mul(xf_from(y), l), exact, env);
}

F80 fyl2xp1(F80 x, F80 y, Env& env)
{
    env.c1 = false;
    Class cx = classify(x), cy = classify(y);
    F80 out;
    if (special_nan2(x, cx, y, cy, env, out)) return out;
    bool xs = x.sign(), ys = y.sign();
    if (cx == Class::kInf) {
        if (xs || cy == Class::kZero) return invalid(env);
        if (denormal_stop(env, cy)) return y;
        return f80_inf(ys);
    }
    if (cx == Class::kZero) {
        if (cy == Class::kInf) return invalid(env);
        if (denormal_stop(env, cy)) return y;
        return f80_zero(xs != ys);
    }
    Xf xv = xf_from(x);
    bool le_minus_one = xs && xv.exp >= 0;  // x <= -1 (the hardware's out-of-domain response)
    if (cy == Class::kInf) {
        if (denormal_stop(env, cx)) return x;
        return f80_inf(ys != xs);
    }
    if (denormal_stop(env, cx, cy)) return x;
    if (cy == Class::kZero) return f80_zero(ys != xs);
    if (le_minus_one) {
        env.flags |= kExPrecision;
        return x;
    }
    Xf l;
    bool exact = false;
    // |x| < 0.29 (exponent < -2, or in [0.25, 0.29)): the direct atanh form.
    if (xv.exp < -2) {
        Xf s = xf_div(xv, xf_add(xf_int(2), xv));
        l = xf_mul(xf_scale(atanh_series(s), 1), kLog2E);
    } else {
        l = log2_core(xf_add(xf_int(1), xv), exact);
        exact = exact && xv.exp < 126;  // 1 + x was exact in 128 bits
    }
    return pack(xf_mul(xf_from(y), l), exact, env);
}

}  // namespace vx86::cpu::fpu

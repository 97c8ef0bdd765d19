// f80.cpp: the x87's 80-bit arithmetic, conversions and compares in portable integer C++.
//
// Design decisions:
// - Finite operands are unpacked to (sign, biased exponent, 64-bit significand with bit 63 set):
//   denormals and pseudo-denormals are normalized (their exponent may go below 1), so every
//   operation works on exact values. Intermediate results are exact or carry a sticky bit in a
//   128-bit significand (value = sig * 2^(e - 16383 - 127)), and one routine, round_pack(),
//   rounds them once to the destination: 24/53/64 bits for registers (precision control, with
//   the full 15-bit exponent range) or the f32/f64 formats for stores. Rounding is a single
//   rounding at the chosen width, so precision control never double-rounds.
// - Tininess is detected after rounding (the result rounded to the chosen precision with an
//   unbounded exponent is below the smallest normal), as measured on the x87: a value just
//   below 2^-16382 that rounds up to it is not tiny. A masked underflow denormalizes and then
//   rounds at the bit position of the 64-bit significand field that the precision control
//   selects, so a PC=24 denormal keeps fewer bits, as on the hardware; UE is raised only
//   together with PE. PC = 1 (reserved) rounds to 64 bits, as measured. Unmasked UE/OE to a
//   register deliver the rounded result with the exponent biased by +/-24576; to memory they
//   store nothing (Env::unmasked_fault). Where even the biased exponent is out of range (only
//   FSCALE gets there) the x87 delivers a signed infinity with C1 = 1 (OE) or a signed zero
//   with C1 = 0 (UE), with PE, under every rounding control.
// - Exceptions follow the x87 priority: unsupported encodings and SNaNs (IE), then QNaN
//   propagation, then the other invalid operations and ZE, then DE (a masked DE lets the
//   operation go on with the denormal's value), then OE/UE, then PE. An unmasked IE, ZE or DE
//   sets unmasked_fault: the caller must not write the destination.
// - Stores (FST m32/m64, FIST, FISTTP, FBSTP) raise no DE for a denormal operand; FPREM's
//   partial step (exponent difference d >= 64) reduces by 2^(d - n) with n = 32 + d mod 32 and
//   clears the quotient bits; all as measured against the x87.
// - NaN choice for two NaN operands follows SDM table 4-7: a QNaN beats an SNaN; otherwise the
//   larger significand wins, and on equal significands the operand with the smaller
//   sign/exponent word (the positive one). SNaNs are quieted by setting bit 62.
// - Everything here is integer arithmetic on unsigned __int128, so results are identical on
//   every host; nothing reads or changes the host's floating-point state.
#include "cpu/fpu/f80.h"
#include "cpu/fpu/f80_internal.h"

#include <bit>

namespace vx86::cpu::fpu {

namespace {

using namespace detail;

constexpr int32_t kMaxExp = 0x7FFE;      // largest biased exponent of a finite F80


// A finite nonzero value, normalized: value = sig * 2^(exp - kBias - 63), sig bit 63 set.
struct Unpacked {
    bool sign;
    int32_t exp;
    uint64_t sig;
};

Unpacked unpack(F80 a)
{
    int32_t e = a.exp() == 0 ? 1 : a.exp();
    uint64_t sig = a.sig;
    int lz = std::countl_zero(sig);
    return Unpacked{a.sign(), e - lz, sig << lz};
}

bool unmasked(const Env& env, uint16_t ex) { return (env.masks & ex) == 0; }

// NaN / unsupported-format handling (SDM table 4-7); true when `out` holds the result.
bool special_unary(F80 a, Env& env, F80& out) { return special_nan1(a, classify(a), env, out); }
bool special_binary(F80 a, F80 b, Env& env, F80& out)
{
    return special_nan2(a, classify(a), b, classify(b), env, out);
}

// Raises DE for denormal operands; returns true when the (unmasked) exception stops the
// operation.
bool denormal_check(Env& env, Class ca, Class cb = Class::kZero)
{
    if (is_denormal(ca) || is_denormal(cb)) {
        raise(env, kExDenormal);
        return unmasked(env, kExDenormal);
    }
    return false;
}

// ---- rounding ----

struct Rounded {
    uint64_t sig;   // the kept bits, left-aligned in 64 bits
    int32_t exp;
    bool inexact;
    bool up;        // magnitude increased
};

// Rounds a 128-bit significand (integer bit at bit 127 when normal) to its top p bits.
Rounded round_sig(bool sign, int32_t e, U128 sig, int p, uint8_t rc)
{
    int sh = 128 - p;
    U128 keep = sig >> sh;
    U128 rem = sig & ((U128(1) << sh) - 1);
    U128 half = U128(1) << (sh - 1);
    bool inexact = rem != 0;
    bool up = false;
    switch (rc & 3) {
    case kRoundNearest: up = rem > half || (rem == half && (keep & 1)); break;
    case kRoundDown: up = inexact && sign; break;
    case kRoundUp: up = inexact && !sign; break;
    default: break;
    }
    if (up) {
        ++keep;
        if (keep >> p) {
            keep >>= 1;
            ++e;
        }
    }
    return Rounded{static_cast<uint64_t>(keep) << (64 - p), e, inexact, up};
}

// A destination format in terms of F80 biased exponents.
struct Fmt {
    int p;           // significand bits
    int32_t emin;    // smallest normal exponent
    int32_t emax;    // largest finite exponent
    bool reg;        // a register (unmasked OE/UE deliver a biased result) or memory
};

constexpr Fmt kFmtF32{24, kBias - 126, kBias + 127, false};
constexpr Fmt kFmtF64{53, kBias - 1022, kBias + 1023, false};

Fmt reg_fmt(uint8_t pc)
{
    // PC = 1 is reserved; the x87 this was checked against (AMD) rounds to 64 bits there.
    int p = pc == kPrec24 ? 24 : (pc == kPrec53 ? 53 : 64);
    return Fmt{p, 1, kMaxExp, true};
}

// The rounded result: value = sig * 2^(exp - kBias - 63). sig bit 63 clear means a denormal
// (exp == fmt.emin) or zero; exp == fmt.emax + 1 means infinity.
struct Packed {
    bool sign;
    int32_t exp;
    uint64_t sig;
};

// Rounds sign * sig * 2^(e - kBias - 127) (sig != 0) to `f`, with all flags and C1.
Packed round_pack(bool sign, int32_t e, U128 sig, Fmt f, Env& env)
{
    int lz = clz128(sig);
    sig <<= lz;
    e -= lz;
    // Tininess after rounding: the result rounded to p bits with an unbounded exponent.
    if (e < f.emin && round_sig(sign, e, sig, f.p, env.rc).exp < f.emin) {
        if (unmasked(env, kExUnderflow)) {
            env.flags |= kExUnderflow;
            if (!f.reg) {
                env.unmasked_fault = true;
                return Packed{sign, 0, 0};
            }
            Rounded r = round_sig(sign, e, sig, f.p, env.rc);
            if (r.inexact) env.flags |= kExPrecision;
            env.c1 = r.up;
            int32_t ex = r.exp + kWrapBias;
            if (ex >= f.emin) return Packed{sign, ex, r.sig};
            // Still tiny after the bias (only FSCALE gets here): a signed zero with PE and
            // C1 clear, whatever the rounding control (as measured).
            env.flags |= kExPrecision;
            env.c1 = false;
            return Packed{sign, f.emin, 0};
        }
        sig = shift_right_jam(sig, f.emin - e);
        Rounded r = round_sig(sign, f.emin, sig, f.p, env.rc);
        if (r.inexact) env.flags |= kExUnderflow | kExPrecision;
        env.c1 = r.up;
        return Packed{sign, f.emin, r.sig};
    }
    // Not tiny, but possibly below emin before rounding (it rounds up to the smallest normal):
    // rounding at the denormalized position gives the same bits.
    if (e < f.emin) sig = shift_right_jam(sig, f.emin - e), e = f.emin;
    Rounded r = round_sig(sign, e, sig, f.p, env.rc);
    if (r.exp > f.emax) {
        if (unmasked(env, kExOverflow)) {
            env.flags |= kExOverflow;
            if (!f.reg) {
                env.unmasked_fault = true;
                return Packed{sign, 0, 0};
            }
            if (r.inexact) env.flags |= kExPrecision;
            env.c1 = r.up;
            int32_t ex = r.exp - kWrapBias;
            if (ex <= f.emax) return Packed{sign, ex, r.sig};
            // Still huge after the bias (only FSCALE gets here): a signed infinity with PE and
            // C1 set, whatever the rounding control (as measured).
            env.flags |= kExPrecision;
            env.c1 = true;
            return Packed{sign, f.emax + 1, kIntBit};
        }
        env.flags |= kExOverflow | kExPrecision;
        bool to_inf = (env.rc & 3) == kRoundNearest || ((env.rc & 3) == kRoundUp && !sign) ||
                      ((env.rc & 3) == kRoundDown && sign);
        env.c1 = to_inf;
        if (to_inf) return Packed{sign, f.emax + 1, kIntBit};
        return Packed{sign, f.emax, ~0ull << (64 - f.p)};
    }
    if (r.inexact) env.flags |= kExPrecision;
    env.c1 = r.up;
    return Packed{sign, r.exp, r.sig};
}

F80 to_reg(Packed p)
{
    if (p.sig == 0) return make(p.sign, 0, 0);
    if (!(p.sig & kIntBit)) return make(p.sign, 0, p.sig);  // denormal (exp == 1)
    return make(p.sign, static_cast<uint16_t>(p.exp), p.sig);
}

F80 round_reg(bool sign, int32_t e, U128 sig, Env& env, int pc = kPrec64)
{
    return to_reg(round_pack(sign, e, sig, reg_fmt(static_cast<uint8_t>(pc)), env));
}

// Round a finite value to an integer magnitude (FRNDINT, FIST, FBSTP). Needs exp <= kBias+126.
struct IntRound {
    U128 mag;
    bool inexact;
    bool up;
};

IntRound round_int(Unpacked u, uint8_t rc, bool trunc)
{
    int e = u.exp - kBias;  // value = sig * 2^(e - 63)
    if (e >= 63) return IntRound{U128(u.sig) << (e - 63), false, false};
    U128 mag, rem, half;
    if (e < -1) {
        mag = 0;
        rem = 1;   // nonzero, below one half
        half = 2;
    } else {
        int fb = 63 - e;  // 1..64
        U128 x = u.sig;
        mag = x >> fb;
        rem = x & ((U128(1) << fb) - 1);
        half = U128(1) << (fb - 1);
    }
    bool inexact = rem != 0;
    bool up = false;
    switch (trunc ? kRoundZero : (rc & 3)) {
    case kRoundNearest: up = rem > half || (rem == half && (mag & 1)); break;
    case kRoundDown: up = inexact && u.sign; break;
    case kRoundUp: up = inexact && !u.sign; break;
    default: break;
    }
    if (up) ++mag;
    return IntRound{mag, inexact, up};
}

// An exact nonnegative integer (< 2^64 + 1) as an F80.
F80 from_mag(bool sign, U128 mag)
{
    if (mag == 0) return make(sign, 0, 0);
    int lz = clz128(mag);  // >= 63
    uint64_t sig = static_cast<uint64_t>(mag << (lz - 64));
    return make(sign, static_cast<uint16_t>(kBias + 127 - lz), sig);
}

// 64-bit integer square root of a 128-bit value, with the remainder.
uint64_t isqrt128(U128 n, U128& rem)
{
    uint64_t r = 0;
    for (int bit = 63; bit >= 0; --bit) {
        uint64_t t = r | (1ull << bit);
        if (U128(t) * t <= n) r = t;
    }
    rem = n - U128(r) * r;
    return r;
}

F80 add_sub(F80 a, F80 b, bool negate_b, Env& env)
{
    env.c1 = false;
    F80 out;
    if (special_binary(a, b, env, out)) return out;
    Class ca = classify(a), cb = classify(b);
    bool sa = a.sign(), sb = b.sign() ^ negate_b;
    if (ca == Class::kInf || cb == Class::kInf) {
        if (ca == Class::kInf && cb == Class::kInf && sa != sb) return invalid(env);
        denormal_check(env, ca, cb);
        return f80_inf(ca == Class::kInf ? sa : sb);
    }
    if (denormal_check(env, ca, cb)) return a;
    bool za = ca == Class::kZero, zb = cb == Class::kZero;
    if (za && zb) return f80_zero(sa == sb ? sa : (env.rc & 3) == kRoundDown);
    Fmt f = reg_fmt(env.pc);
    if (za || zb) {
        Unpacked u = unpack(za ? b : a);
        return to_reg(round_pack(za ? sb : sa, u.exp, U128(u.sig) << 64, f, env));
    }
    Unpacked x = unpack(a), y = unpack(b);
    x.sign = sa;
    y.sign = sb;
    // Order by magnitude: x the larger.
    if (y.exp > x.exp || (y.exp == x.exp && y.sig > x.sig)) {
        Unpacked t = x;
        x = y;
        y = t;
    }
    int d = x.exp - y.exp;
    U128 mx = U128(x.sig) << 63;  // one spare bit on top for the carry
    U128 my = shift_right_jam(U128(y.sig) << 63, d);
    int32_t e = x.exp + 1;
    U128 r;
    if (x.sign == y.sign) {
        r = mx + my;
    } else {
        r = mx - my;
        if (r == 0) return f80_zero((env.rc & 3) == kRoundDown);
    }
    return to_reg(round_pack(x.sign, e, r, f, env));
}

}  // namespace

// ---- constants and classification ----

F80 f80_indefinite() { return F80{0xC000000000000000ull, 0xFFFF}; }
F80 f80_zero(bool sign) { return make(sign, 0, 0); }
F80 f80_inf(bool sign) { return make(sign, 0x7FFF, kIntBit); }

Class classify(F80 a)
{
    uint16_t e = a.exp();
    bool ib = (a.sig & kIntBit) != 0;
    if (e == 0) {
        if (a.sig == 0) return Class::kZero;
        return ib ? Class::kPseudoDenormal : Class::kDenormal;
    }
    if (!ib) return Class::kUnsupported;  // unnormal, pseudo-infinity, pseudo-NaN
    if (e == 0x7FFF) {
        if ((a.sig << 1) == 0) return Class::kInf;
        return (a.sig & kQuietBit) ? Class::kQNaN : Class::kSNaN;
    }
    return Class::kNormal;
}

uint8_t fxam_code(F80 a)
{
    // C3 C2 C0: 000 unsupported, 001 NaN, 010 normal, 011 infinity, 100 zero, 110 denormal.
    switch (classify(a)) {
    case Class::kUnsupported: return 0;
    case Class::kQNaN:
    case Class::kSNaN: return 1;
    case Class::kNormal: return 2;
    case Class::kInf: return 3;
    case Class::kZero: return 4;
    case Class::kDenormal:
    case Class::kPseudoDenormal: return 6;
    }
    return 0;
}

// ---- arithmetic ----

F80 add(F80 a, F80 b, Env& env) { return add_sub(a, b, false, env); }
F80 sub(F80 a, F80 b, Env& env) { return add_sub(a, b, true, env); }

F80 mul(F80 a, F80 b, Env& env)
{
    env.c1 = false;
    F80 out;
    if (special_binary(a, b, env, out)) return out;
    Class ca = classify(a), cb = classify(b);
    bool s = a.sign() != b.sign();
    if (ca == Class::kInf || cb == Class::kInf) {
        if (ca == Class::kZero || cb == Class::kZero) return invalid(env);
        denormal_check(env, ca, cb);
        return f80_inf(s);
    }
    if (denormal_check(env, ca, cb)) return a;
    if (ca == Class::kZero || cb == Class::kZero) return f80_zero(s);
    Unpacked x = unpack(a), y = unpack(b);
    U128 prod = U128(x.sig) * y.sig;
    return round_reg(s, x.exp + y.exp - kBias + 1, prod, env, env.pc);
}

F80 div(F80 a, F80 b, Env& env)
{
    env.c1 = false;
    F80 out;
    if (special_binary(a, b, env, out)) return out;
    Class ca = classify(a), cb = classify(b);
    bool s = a.sign() != b.sign();
    if (ca == Class::kInf) {
        if (cb == Class::kInf) return invalid(env);
        denormal_check(env, cb);
        return f80_inf(s);
    }
    if (cb == Class::kInf) {
        denormal_check(env, ca);
        return f80_zero(s);
    }
    if (cb == Class::kZero) {
        if (ca == Class::kZero) return invalid(env);
        raise(env, kExZeroDiv);
        return f80_inf(s);
    }
    if (denormal_check(env, ca, cb)) return a;
    if (ca == Class::kZero) return f80_zero(s);
    Unpacked x = unpack(a), y = unpack(b);
    U128 num = U128(x.sig) << 64;
    U128 q1 = num / y.sig;
    U128 r1 = num % y.sig;
    U128 q2 = (r1 << 64) / y.sig;
    U128 r2 = (r1 << 64) % y.sig;
    U128 sig = (q1 << 63) | (q2 >> 1) | (((q2 & 1) != 0 || r2 != 0) ? 1 : 0);
    return round_reg(s, x.exp - y.exp + kBias, sig, env, env.pc);
}

F80 sqrt(F80 a, Env& env)
{
    env.c1 = false;
    F80 out;
    if (special_unary(a, env, out)) return out;
    Class c = classify(a);
    if (c == Class::kZero) return a;
    if (a.sign()) return invalid(env);
    if (c == Class::kInf) return a;
    if (denormal_check(env, c)) return a;
    Unpacked u = unpack(a);
    int32_t k = u.exp - kBias;  // value = sig * 2^(k - 63)
    U128 n;
    int32_t half;
    if ((k & 1) == 0) {
        n = U128(u.sig) << 63;  // value = n * 2^(k - 126)
        half = (k - 126) / 2;
    } else {
        n = U128(u.sig) << 64;  // value = n * 2^(k - 127)
        half = (k - 127) / 2;
    }
    U128 rem;
    uint64_t r = isqrt128(n, rem);
    U128 sig = (U128(r) << 64) | (U128(rem > r ? 1 : 0) << 63) | (rem != 0 ? 1 : 0);
    return round_reg(false, kBias + 63 + half, sig, env, env.pc);
}

F80 prem(F80 a, F80 b, bool ieee, Env& env, uint8_t& quot, bool& c2)
{
    env.c1 = false;
    quot = 0;
    c2 = false;
    F80 out;
    if (special_binary(a, b, env, out)) return out;
    Class ca = classify(a), cb = classify(b);
    if (ca == Class::kInf || cb == Class::kZero) return invalid(env);
    if (denormal_check(env, ca, cb)) return a;
    if (cb == Class::kInf || ca == Class::kZero) {
        if (ca == Class::kZero) return a;
        Unpacked u = unpack(a);
        return round_reg(u.sign, u.exp, U128(u.sig) << 64, env);
    }
    Unpacked x = unpack(a), y = unpack(b);
    int32_t d = x.exp - y.exp;
    int32_t eb = y.exp;
    bool partial = false;
    if (d >= 64) {
        int n = 32 + d % 32;
        eb += d - n;
        d = n;
        partial = true;
    }
    bool sign = x.sign;
    U128 rmag;        // remainder magnitude: value = rmag * 2^(er - kBias - 63)
    int32_t er = eb;
    uint64_t q = 0;
    if (d < 0) {
        rmag = x.sig;
        er = x.exp;
        if (ieee && d == -1 && x.sig > y.sig) {
            // |a| > |b| / 2: the quotient rounds to 1.
            rmag = (U128(y.sig) << 1) - x.sig;
            er = x.exp;
            sign = !sign;
            q = 1;
        }
    } else {
        U128 num = U128(x.sig) << d;
        q = static_cast<uint64_t>(num / y.sig);
        rmag = num % y.sig;
        if (ieee && !partial) {
            U128 twice = rmag << 1;
            if (twice > y.sig || (twice == y.sig && (q & 1))) {
                rmag = y.sig - rmag;
                sign = !sign;
                ++q;
            }
        }
    }
    if (partial) {
        c2 = true;
    } else {
        quot = static_cast<uint8_t>(q & 7);
    }
    if (rmag == 0) return f80_zero(x.sign);
    return round_reg(sign, er, rmag << 64, env);
}

F80 round_to_int(F80 a, Env& env)
{
    env.c1 = false;
    F80 out;
    if (special_unary(a, env, out)) return out;
    Class c = classify(a);
    if (c == Class::kZero || c == Class::kInf) return a;
    if (denormal_check(env, c)) return a;
    Unpacked u = unpack(a);
    if (u.exp - kBias >= 63) return make(u.sign, static_cast<uint16_t>(u.exp), u.sig);
    IntRound r = round_int(u, env.rc, false);
    if (r.inexact) env.flags |= kExPrecision;
    env.c1 = r.up;
    return from_mag(u.sign, r.mag);
}

F80 scale(F80 a, F80 b, Env& env)
{
    env.c1 = false;
    F80 out;
    if (special_binary(a, b, env, out)) return out;
    Class ca = classify(a), cb = classify(b);
    if (cb == Class::kInf) {
        if (!b.sign()) {
            if (ca == Class::kZero) return invalid(env);
            denormal_check(env, ca);
            return f80_inf(a.sign());
        }
        if (ca == Class::kInf) return invalid(env);
        denormal_check(env, ca);
        return f80_zero(a.sign());
    }
    if (denormal_check(env, ca, cb)) return a;
    if (ca == Class::kZero || ca == Class::kInf) return a;
    Unpacked x = unpack(a);
    int64_t n = 0;
    if (cb != Class::kZero) {
        Unpacked y = unpack(b);
        int e = y.exp - kBias;
        int64_t m = 0;
        if (e >= 30) {
            m = int64_t(1) << 30;  // beyond any finite result
        } else if (e >= 0) {
            m = static_cast<int64_t>(y.sig >> (63 - e));
        }
        n = y.sign ? -m : m;
    }
    return round_reg(x.sign, static_cast<int32_t>(x.exp + n), U128(x.sig) << 64, env);
}

void xtract(F80 a, Env& env, F80& exponent, F80& significand)
{
    env.c1 = false;
    F80 out;
    if (special_unary(a, env, out)) {
        exponent = significand = out;
        return;
    }
    Class c = classify(a);
    if (c == Class::kZero) {
        raise(env, kExZeroDiv);
        exponent = f80_inf(true);
        significand = a;
        return;
    }
    if (c == Class::kInf) {
        exponent = f80_inf(false);
        significand = a;
        return;
    }
    if (denormal_check(env, c)) {
        exponent = significand = a;
        return;
    }
    Unpacked u = unpack(a);
    exponent = from_i64(u.exp - kBias);
    significand = make(u.sign, kBias, u.sig);
}

F80 abs(F80 a)
{
    a.se &= 0x7FFF;
    return a;
}

F80 chs(F80 a)
{
    a.se ^= 0x8000;
    return a;
}

// ---- compares ----

Rel compare(F80 a, F80 b, bool quiet, Env& env)
{
    env.c1 = false;
    Class ca = classify(a), cb = classify(b);
    if (ca == Class::kUnsupported || cb == Class::kUnsupported) {
        raise(env, kExInvalid);
        return Rel::kUnordered;
    }
    if (is_nan(ca) || is_nan(cb)) {
        if (!quiet || ca == Class::kSNaN || cb == Class::kSNaN) raise(env, kExInvalid);
        return Rel::kUnordered;
    }
    denormal_check(env, ca, cb);
    bool za = ca == Class::kZero, zb = cb == Class::kZero;
    if (za && zb) return Rel::kEqual;
    // Order the encodings as signed magnitudes (infinity above every finite value).
    auto key = [](F80 v, Class c, bool zero) -> U128 {
        if (zero) return 0;
        if (c == Class::kInf) return ~U128(0) >> 1;
        Unpacked u = unpack(v);
        return (U128(static_cast<uint32_t>(u.exp + 64)) << 64) | u.sig;
    };
    U128 ka = key(a, ca, za), kb = key(b, cb, zb);
    bool sa = za ? false : a.sign(), sb = zb ? false : b.sign();
    if (sa != sb) return sa ? Rel::kLess : Rel::kGreater;
    if (ka == kb) return Rel::kEqual;
    bool less = ka < kb;
    if (sa) less = !less;
    return less ? Rel::kLess : Rel::kGreater;
}

// ---- conversions ----

F80 from_f32(uint32_t v, Env& env)
{
    env.c1 = false;
    bool s = v >> 31;
    uint32_t e = (v >> 23) & 0xFF;
    uint64_t frac = v & 0x7FFFFF;
    if (e == 0xFF) {
        if (frac == 0) return f80_inf(s);
        if (!(frac & 0x400000)) raise(env, kExInvalid);
        return make(s, 0x7FFF, kIntBit | kQuietBit | (frac << 40));
    }
    if (e == 0) {
        if (frac == 0) return f80_zero(s);
        raise(env, kExDenormal);
        int lz = std::countl_zero(frac << 40);
        return make(s, static_cast<uint16_t>(kBias - 126 - lz), (frac << 40) << lz);
    }
    return make(s, static_cast<uint16_t>(e - 127 + kBias), kIntBit | (frac << 40));
}

F80 from_f64(uint64_t v, Env& env)
{
    env.c1 = false;
    bool s = v >> 63;
    uint32_t e = (v >> 52) & 0x7FF;
    uint64_t frac = v & ((1ull << 52) - 1);
    if (e == 0x7FF) {
        if (frac == 0) return f80_inf(s);
        if (!(frac & (1ull << 51))) raise(env, kExInvalid);
        return make(s, 0x7FFF, kIntBit | kQuietBit | (frac << 11));
    }
    if (e == 0) {
        if (frac == 0) return f80_zero(s);
        raise(env, kExDenormal);
        int lz = std::countl_zero(frac << 11);
        return make(s, static_cast<uint16_t>(kBias - 1022 - lz), (frac << 11) << lz);
    }
    return make(s, static_cast<uint16_t>(e - 1023 + kBias), kIntBit | (frac << 11));
}

namespace {

// FST m32/m64: `fb` fraction bits, `eb` exponent bits.
uint64_t to_ieee(F80 a, Env& env, Fmt f, int fb, int eb)
{
    env.c1 = false;
    uint64_t sign = uint64_t(a.sign()) << (fb + eb);
    uint64_t emask = (uint64_t(1) << eb) - 1;
    uint64_t qbit = uint64_t(1) << (fb - 1);
    Class c = classify(a);
    switch (c) {
    case Class::kUnsupported:
        raise(env, kExInvalid);
        return (uint64_t(1) << (fb + eb)) | (emask << fb) | qbit;
    case Class::kSNaN:
    case Class::kQNaN:
        if (c == Class::kSNaN) raise(env, kExInvalid);
        return sign | (emask << fb) | qbit | ((a.sig << 1) >> (64 - fb));
    case Class::kInf: return sign | (emask << fb);
    case Class::kZero: return sign;
    default: break;  // a denormal operand raises no DE here (stores only round)
    }
    Unpacked u = unpack(a);
    bool prior_fault = env.unmasked_fault;
    env.unmasked_fault = false;
    Packed p = round_pack(u.sign, u.exp, U128(u.sig) << 64, f, env);
    bool fault = env.unmasked_fault;
    env.unmasked_fault = fault || prior_fault;
    if (fault) return 0;
    if (p.exp > f.emax) return sign | (emask << fb);
    if (!(p.sig & kIntBit)) return sign | (p.sig >> (64 - f.p));
    uint64_t e = static_cast<uint64_t>(p.exp - f.emin + 1);
    return sign | (e << fb) | ((p.sig << 1) >> (64 - fb));
}

}  // namespace

uint32_t to_f32(F80 a, Env& env) { return static_cast<uint32_t>(to_ieee(a, env, kFmtF32, 23, 8)); }
uint64_t to_f64(F80 a, Env& env) { return to_ieee(a, env, kFmtF64, 52, 11); }

F80 from_i64(int64_t v)
{
    if (v == 0) return f80_zero(false);
    uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    return from_mag(v < 0, mag);
}

int64_t to_int(F80 a, unsigned bits, bool trunc, Env& env)
{
    env.c1 = false;
    int64_t indefinite = bits >= 64 ? INT64_MIN : -(int64_t(1) << (bits - 1));
    Class c = classify(a);
    if (c == Class::kUnsupported || is_nan(c) || c == Class::kInf) {
        raise(env, kExInvalid);
        return indefinite;
    }
    if (c == Class::kZero) return 0;  // denormals raise no DE here
    Unpacked u = unpack(a);
    if (u.exp - kBias > 64) {
        raise(env, kExInvalid);
        return indefinite;
    }
    IntRound r = round_int(u, env.rc, trunc);
    U128 limit = U128(1) << (bits - 1);  // |negative| may reach it, positive stays below
    if (r.mag > limit || (r.mag == limit && !u.sign)) {
        raise(env, kExInvalid);
        return indefinite;
    }
    if (r.inexact) env.flags |= kExPrecision;
    env.c1 = r.up;
    uint64_t m = static_cast<uint64_t>(r.mag);
    return u.sign ? static_cast<int64_t>(0 - m) : static_cast<int64_t>(m);
}

F80 from_bcd(const uint8_t bcd[10])
{
    uint64_t v = 0;
    for (int i = 8; i >= 0; --i) {
        v = v * 10 + (bcd[i] >> 4);
        v = v * 10 + (bcd[i] & 0xF);
    }
    return from_mag((bcd[9] & 0x80) != 0, v);
}

void to_bcd(F80 a, Env& env, uint8_t out[10])
{
    env.c1 = false;
    Class c = classify(a);
    bool bad = c == Class::kUnsupported || is_nan(c) || c == Class::kInf;
    uint64_t mag = 0;
    bool sign = a.sign();
    if (!bad && c != Class::kZero) {
        Unpacked u = unpack(a);  // denormals raise no DE here
        if (u.exp - kBias > 64) {
            bad = true;
        } else {
            IntRound r = round_int(u, env.rc, false);
            if (r.mag > 999999999999999999ull) {
                bad = true;
            } else {
                if (r.inexact) env.flags |= kExPrecision;
                env.c1 = r.up;
                mag = static_cast<uint64_t>(r.mag);
            }
        }
    }
    if (bad) {
        raise(env, kExInvalid);
        if (env.unmasked_fault) return;
        static constexpr uint8_t kIndef[10] = {0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF};
        for (int i = 0; i < 10; ++i) out[i] = kIndef[i];
        return;
    }
    for (int i = 0; i < 9; ++i) {
        uint8_t lo = static_cast<uint8_t>(mag % 10);
        mag /= 10;
        uint8_t hi = static_cast<uint8_t>(mag % 10);
        mag /= 10;
        out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    out[9] = sign ? 0x80 : 0;
}

// ---- constants ----

F80 load_const(Const k, uint8_t rc)
{
    // 128 bits of each constant's significand (integer bit first) and its biased exponent;
    // the 387 and later round them to 64 bits by RC.
    struct C {
        uint64_t hi, lo;
        uint16_t exp;
    };
    static constexpr C kTable[] = {
        {0x8000000000000000ull, 0, 0x3FFF},                       // 1
        {0xD49A784BCD1B8AFEull, 0x492BF6FF4DAFDB4Cull, 0x4000},   // log2(10)
        {0xB8AA3B295C17F0BBull, 0xBE87FED0691D3E88ull, 0x3FFF},   // log2(e)
        {0xC90FDAA22168C234ull, 0xC4C6628B80DC1CD1ull, 0x4000},   // pi
        {0x9A209A84FBCFF798ull, 0x8F8959AC0B7C9178ull, 0x3FFD},   // log10(2)
        {0xB17217F7D1CF79ABull, 0xC9E3B39803F2F6AFull, 0x3FFE},   // ln(2)
    };
    if (k == Const::kZero) return f80_zero(false);
    const C& c = kTable[static_cast<int>(k)];
    Env env;
    env.rc = rc;
    U128 sig = (U128(c.hi) << 64) | c.lo;
    // Every constant is irrational (or exact for 1): make the tail sticky.
    if (c.lo) sig |= 1;
    Rounded r = round_sig(false, c.exp, sig, 64, rc);
    return make(false, static_cast<uint16_t>(r.exp), r.sig);
}

}  // namespace vx86::cpu::fpu

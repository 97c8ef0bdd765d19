// f80_trans_test: the portable x87 transcendentals (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1,
// FYL2X, FYL2XP1 in cpu/fpu/f80_trans.cpp) against the host's own x87.
//
// Design decisions:
// - On an x86-64 host each instruction is also executed natively with inline asm (FNINIT, FLDCW
//   with all exceptions masked and the case's rounding mode, FLD TBYTE operands, the
//   instruction, FNSTSW, FSTP TBYTE results). The comparison is strict for everything that is
//   specified: special results (NaNs, infinities, zeros, out-of-range operands) bit for bit, C2,
//   and IE/ZE/DE/UE; for finite nonzero results the library must be within 1 ulp of the host
//   (the x87's own transcendentals are not correctly rounded, and neither are the library's in
//   the rare hard cases). PE is compared when the two results are identical, and so is C1 when
//   the result is exact; C1 of an identical inexact result is the x87's rounding direction
//   relative to its own approximation, which differs from the library's when the exact value
//   lies within the x87's error of the result: those mismatches are counted and bounded (3%).
//   The counts of exact matches, 1-ulp differences and worse are printed per instruction.
// - Inputs are seeded random (the seed is printed; VX86_FPU_SEED overrides it, VX86_FPU_CASES
//   sets the cases per instruction) and cover small, medium and large arguments, arguments near
//   multiples of the x87's pi/2 and near and beyond 2^63, denormals, zeros, infinities, NaNs,
//   unsupported encodings, powers of two, values near 1 and the domain edges, under every
//   rounding mode and precision control (which must not matter).
// - The vectors in the other test cases were captured from the host x87 (an AMD EPYC) while this
//   was written; they run on every host, together with the unmasked-exception cases, which can't
//   be observed natively without trapping.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cpu/fpu/f80.h"

namespace {

using namespace vx86::cpu::fpu;

F80 mk(uint16_t se, uint64_t sig) { return F80{sig, se}; }

Env env_rc(uint8_t rc, uint16_t masks = kExAll)
{
    Env e;
    e.rc = rc;
    e.masks = masks;
    return e;
}

const F80 kOne = mk(0x3FFF, 0x8000000000000000ull);
const F80 kThree = mk(0x4000, 0xC000000000000000ull);
const F80 kIndef = mk(0xFFFF, 0xC000000000000000ull);

// ---- captured host vectors (every host) ----

struct Vec1 {
    F80 a;
    uint8_t rc;
    F80 r;
    uint16_t flags;
    bool c1;
};

TEST_CASE("f80_trans: captured FSIN/FCOS/FPTAN vectors")
{
    bool c2 = true;
    SUBCASE("sin")
    {
        const Vec1 vs[] = {
            {kOne, kRoundNearest, mk(0x3FFE, 0xD76AA47848677021ull), kExPrecision, true},
            // 2^62: reduced by the x87's 66-bit pi/2, not the true pi.
            {mk(0x403D, 0x8000000000000000ull), kRoundNearest, mk(0xBFFE, 0xB506A9DD559CF157ull),
             kExPrecision, false},
            // sin(2^-64) rounds up to 2^-64 (C1) and down to its predecessor.
            {mk(0x3FBF, 0x8000000000000000ull), kRoundNearest, mk(0x3FBF, 0x8000000000000000ull),
             kExPrecision, true},
            {mk(0x3FBF, 0x8000000000000000ull), kRoundDown, mk(0x3FBE, 0xFFFFFFFFFFFFFFFFull),
             kExPrecision, false},
            // A denormal: DE, UE, PE.
            {mk(0x0000, 0x4000000000000000ull), kRoundNearest, mk(0x0000, 0x4000000000000000ull),
             kExDenormal | kExUnderflow | kExPrecision, true},
            // The smallest normal rounds to itself (no UE) but down to a denormal (UE).
            {mk(0x0001, 0x8000000000000000ull), kRoundNearest, mk(0x0001, 0x8000000000000000ull),
             kExPrecision, true},
            {mk(0x0001, 0x8000000000000000ull), kRoundDown, mk(0x0000, 0x7FFFFFFFFFFFFFFFull),
             kExUnderflow | kExPrecision, false},
        };
        for (const Vec1& v : vs) {
            Env e = env_rc(v.rc);
            CHECK(fsin(v.a, e, c2) == v.r);
            CHECK(e.flags == v.flags);
            CHECK(e.c1 == v.c1);
            CHECK_FALSE(c2);
        }
    }
    SUBCASE("cos and tan")
    {
        Env e;
        CHECK(fcos(kOne, e, c2) == mk(0x3FFE, 0x8A51407DA8345C92ull));
        CHECK(fptan(mk(0x3FFE, 0x8000000000000000ull), e, c2) == mk(0x3FFE, 0x8BDA7ADF9A3A5219ull));
        CHECK(fptan(mk(0x403D, 0xFFFFFFFFFFFFFFFFull), e, c2) == mk(0x3FFF, 0xEA57F75B8BFEBB70ull));
        CHECK(e.flags == kExPrecision);
        Env z;
        CHECK(fcos(f80_zero(true), z, c2) == kOne);
        CHECK(fsin(f80_zero(true), z, c2) == f80_zero(true));
        CHECK(fptan(f80_zero(false), z, c2) == f80_zero(false));
        CHECK(z.flags == 0);
        F80 s, c;
        fsincos(kOne, e, c2, s, c);
        CHECK(s == mk(0x3FFE, 0xD76AA47848677021ull));
        CHECK(c == mk(0x3FFE, 0x8A51407DA8345C92ull));
    }
    SUBCASE("out of range, infinities, NaNs")
    {
        Env e;
        const F80 big = mk(0x403E, 0x8000000000000000ull);  // 2^63
        CHECK(fsin(big, e, c2) == big);
        CHECK(c2);
        CHECK(fptan(big, e, c2) == big);
        CHECK(c2);
        F80 s, c;
        fsincos(chs(big), e, c2, s, c);
        CHECK(c2);
        CHECK(s == chs(big));
        CHECK(e.flags == 0);
        CHECK(fcos(f80_inf(false), e, c2) == kIndef);
        CHECK_FALSE(c2);
        CHECK(e.flags == kExInvalid);
        Env n;
        CHECK(fsin(mk(0x7FFF, 0x8000000000000001ull), n, c2) == mk(0x7FFF, 0xC000000000000001ull));
        CHECK(n.flags == kExInvalid);
        Env q;
        fsincos(mk(0xFFFF, 0xC000000000000005ull), q, c2, s, c);
        CHECK(s == mk(0xFFFF, 0xC000000000000005ull));
        CHECK(c == s);
        CHECK(q.flags == 0);
        Env u;
        CHECK(fptan(mk(0x3FFF, 0x4000000000000000ull), u, c2) == kIndef);  // unnormal
        CHECK(u.flags == kExInvalid);
    }
}

TEST_CASE("f80_trans: captured F2XM1/FYL2X/FYL2XP1 vectors")
{
    SUBCASE("f2xm1")
    {
        const Vec1 vs[] = {
            {mk(0x3FFE, 0x8000000000000000ull), kRoundNearest, mk(0x3FFD, 0xD413CCCFE7799211ull),
             kExPrecision, false},
            {mk(0xBFFE, 0x8000000000000000ull), kRoundNearest, mk(0xBFFD, 0x95F619980C4336F7ull),
             kExPrecision, false},
            {mk(0xBFFF, 0x8000000000000000ull), kRoundDown, mk(0xBFFE, 0x8000000000000000ull),
             kExPrecision, false},
            {mk(0x3FFF, 0x8000000000000000ull), kRoundNearest, kOne, kExPrecision, true},
            // Outside -1..+1 the measured x87 returns the operand with PE.
            {mk(0x4005, 0xC000000000000000ull), kRoundNearest, mk(0x4005, 0xC000000000000000ull),
             kExPrecision, false},
            {mk(0xFFFF, 0x8000000000000000ull), kRoundNearest, mk(0xBFFF, 0x8000000000000000ull), 0, false},
            {mk(0x0000, 0x4000000000000000ull), kRoundNearest, mk(0x0000, 0x2C5C85FDF473DE6Bull),
             kExDenormal | kExUnderflow | kExPrecision, true},
        };
        for (const Vec1& v : vs) {
            Env e = env_rc(v.rc);
            CHECK(f2xm1(v.a, e) == v.r);
            CHECK(e.flags == v.flags);
            CHECK(e.c1 == v.c1);
        }
    }
    SUBCASE("fyl2x")
    {
        Env e = env_rc(kRoundDown);
        CHECK(fyl2x(mk(0x4002, 0x8000000000000000ull), kThree, e) == mk(0x4002, 0x9000000000000000ull));
        CHECK(e.flags == kExPrecision);  // 3 * log2(8) = 9: exact, but the x87 reports PE
        Env z;
        CHECK(fyl2x(f80_zero(true), chs(kThree), z) == f80_inf(false));
        CHECK(z.flags == kExZeroDiv);
        Env i;
        CHECK(fyl2x(chs(kThree), kOne, i) == kIndef);
        CHECK(fyl2x(kOne, f80_inf(false), i) == kIndef);
        CHECK(fyl2x(f80_inf(false), f80_zero(false), i) == kIndef);
        CHECK(fyl2x(f80_zero(false), f80_zero(true), i) == kIndef);
        CHECK(i.flags == kExInvalid);
        Env o;
        CHECK(fyl2x(kOne, chs(kThree), o) == f80_zero(true));
        CHECK(fyl2x(mk(0x3FFD, 0x8000000000000000ull), f80_zero(true), o) == f80_zero(false));
        CHECK(fyl2x(mk(0x3FFD, 0x8000000000000000ull), f80_inf(false), o) == f80_inf(true));
        CHECK(o.flags == 0);
        Env d;  // log2 of a denormal: DE
        CHECK(fyl2x(mk(0, 0x4000000000000000ull), kThree, d) == mk(0xC00E, 0xBFFD000000000000ull));
        CHECK(d.flags == (kExDenormal | kExPrecision));
    }
    SUBCASE("fyl2xp1")
    {
        Env e;
        CHECK(fyl2xp1(mk(0xBFFD, 0x8000000000000000ull), chs(kThree), e) ==
              mk(0x3FFF, 0x9F5FD8A9063E3491ull));
        CHECK(e.c1);
        CHECK(fyl2xp1(mk(0x3FFD, 0x8000000000000000ull), kThree, e) == mk(0x3FFE, 0xF73DA38D9D4A83EBull));
        CHECK_FALSE(e.c1);
        CHECK(fyl2xp1(mk(0, 0x4000000000000000ull), kThree, e) == mk(0x0002, 0x8A7FAC5F0511F48Dull));
        CHECK(e.flags == (kExDenormal | kExPrecision));
        Env z;
        CHECK(fyl2xp1(f80_zero(true), kThree, z) == f80_zero(true));
        CHECK(fyl2xp1(f80_zero(true), chs(kThree), z) == f80_zero(false));
        CHECK(z.flags == 0);
        Env i;
        CHECK(fyl2xp1(f80_zero(false), f80_inf(true), i) == kIndef);
        CHECK(fyl2xp1(f80_inf(true), kThree, i) == kIndef);
        CHECK(i.flags == kExInvalid);
        Env x;  // x <= -1 (outside the domain): the measured x87 returns x
        CHECK(fyl2xp1(mk(0xC000, 0xC000000000000000ull), kThree, x) == mk(0xC000, 0xC000000000000000ull));
        CHECK(fyl2xp1(mk(0xC000, 0xC000000000000000ull), f80_inf(false), x) == f80_inf(true));
        CHECK(x.flags == kExPrecision);
    }
}

TEST_CASE("f80_trans: FPATAN quadrants and the SDM special-case table")
{
    const F80 pi = mk(0x4000, 0xC90FDAA22168C235ull), half = mk(0x3FFF, 0xC90FDAA22168C235ull);
    const F80 quarter = mk(0x3FFE, 0xC90FDAA22168C235ull), three_q = mk(0x4000, 0x96CBE3F9990E91A8ull);
    const F80 inf = f80_inf(false), zero = f80_zero(false);
    struct V {
        F80 y, x, r;
        uint16_t flags;
    };
    const V vs[] = {
        {kThree, kThree, quarter, kExPrecision},
        {kThree, chs(kThree), three_q, kExPrecision},
        {chs(kThree), chs(inf), chs(pi), kExPrecision},
        {chs(kThree), inf, chs(zero), 0},
        {inf, chs(inf), three_q, kExPrecision},
        {chs(inf), inf, chs(quarter), kExPrecision},
        {inf, kThree, half, kExPrecision},
        {zero, chs(zero), pi, kExPrecision},
        {chs(zero), zero, chs(zero), 0},
        {chs(zero), chs(kThree), chs(pi), kExPrecision},
        {kThree, chs(zero), half, kExPrecision},
        {mk(0, 0x4000000000000000ull), kThree, mk(0, 0x1555555555555555ull),
         kExDenormal | kExUnderflow | kExPrecision},
        {mk(0, 0x4000000000000000ull), inf, zero, kExDenormal},
    };
    for (const V& v : vs) {
        Env e;
        CHECK(fpatan(v.y, v.x, e) == v.r);
        CHECK(e.flags == v.flags);
    }
    Env n;  // two QNaNs: the larger significand
    CHECK(fpatan(mk(0x7FFF, 0xC000000000000005ull), mk(0xFFFF, 0xC000000000000009ull), n) ==
          mk(0xFFFF, 0xC000000000000009ull));
    CHECK(n.flags == 0);
}

TEST_CASE("f80_trans: unmasked exceptions")
{
    bool c2 = false;
    Env i = env_rc(kRoundNearest, kExAll & ~kExInvalid);
    fsin(f80_inf(true), i, c2);
    CHECK(i.unmasked_fault);
    Env z = env_rc(kRoundNearest, kExAll & ~kExZeroDiv);
    fyl2x(f80_zero(false), kThree, z);
    CHECK(z.unmasked_fault);
    CHECK(z.flags == kExZeroDiv);
    Env d = env_rc(kRoundNearest, kExAll & ~kExDenormal);
    f2xm1(mk(0, 5), d);
    CHECK(d.unmasked_fault);
    CHECK(d.flags == kExDenormal);
    // Unmasked UE to a register: the exponent biased by +24576, no fault.
    Env u = env_rc(kRoundNearest, kExAll & ~kExUnderflow);
    F80 r = fpatan(mk(0x0001, 0x8000000000000000ull), mk(0x4010, 0x8000000000000000ull), u);
    CHECK(r == mk(0x0001 - 17 + 24576, 0x8000000000000000ull));  // 2^-16382 / 2^17
    CHECK(u.flags == (kExUnderflow | kExPrecision));
    CHECK_FALSE(u.unmasked_fault);
    // Overflow: y * log2(x) beyond the range; masked RZ gives the largest finite value.
    Env o = env_rc(kRoundZero);
    F80 big = mk(0x7FFE, 0x8000000000000000ull);
    CHECK(fyl2x(mk(0x4100, 0x8000000000000000ull), big, o) == mk(0x7FFE, 0xFFFFFFFFFFFFFFFFull));
    CHECK(o.flags == (kExOverflow | kExPrecision));
    Env ou = env_rc(kRoundNearest, kExAll & ~kExOverflow);
    r = fyl2x(mk(0x4100, 0x8000000000000000ull), big, ou);  // 2^16383 * 257
    CHECK(r == mk(0x7FFE + 8 - 24576, 0x8080000000000000ull));
    CHECK_FALSE(ou.unmasked_fault);
}

// ---- the native comparison ----

#if defined(__x86_64__)

struct Rng {
    uint64_t s;
    uint64_t next()
    {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
    bool coin() { return next() & 1; }
};

uint64_t env_u64(const char* name, uint64_t dflt)
{
    const char* v = std::getenv(name);
    if (!v || !*v) return dflt;
    return std::strtoull(v, nullptr, 0);
}

enum class Op : uint8_t { kSin, kCos, kSinCos, kTan, kAtan, kF2xm1, kYl2x, kYl2xp1 };

struct Outcome {
    F80 r{}, r2{};  // r2: FSINCOS's sine
    uint16_t flags = 0;
    bool c1 = false, c2 = false;
};

struct Input {
    Op op;
    F80 a{}, b{};  // a = ST(0), b = ST(1) (y for FPATAN/FYL2X/FYL2XP1)
    uint8_t rc = 0, pc = 3;
};

Outcome native(const Input& in)
{
    uint16_t cw = static_cast<uint16_t>(0x0040 | kExAll | in.pc << 8 | in.rc << 10);
    uint16_t sw = 0;
    F80 r{}, r2{};
    // Registers after the instruction: FSIN/FCOS/F2XM1 ST(0); FSINCOS ST(0) = cos,
    // ST(1) = sin; FPTAN ST(0) = 1.0 (dropped), ST(1) = tan; the rest pop to ST(0).
    switch (in.op) {
#define X87_1(insn)                                                                               \
    asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\tfstpt %[r]\n\t" \
                 "fninit"                                                                         \
                 : [sw] "=m"(sw), [r] "=m"(r)                                                     \
                 : [cw] "m"(cw), [a] "m"(in.a))
#define X87_2(insn)                                                                                \
    asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\t" \
                 "fstpt %[r]\n\tfninit"                                                            \
                 : [sw] "=m"(sw), [r] "=m"(r)                                                      \
                 : [cw] "m"(cw), [a] "m"(in.a), [b] "m"(in.b))
    case Op::kSin: X87_1("fsin"); break;
    case Op::kCos: X87_1("fcos"); break;
    case Op::kF2xm1: X87_1("f2xm1"); break;
    case Op::kAtan: X87_2("fpatan"); break;
    case Op::kYl2x: X87_2("fyl2x"); break;
    case Op::kYl2xp1: X87_2("fyl2xp1"); break;
#undef X87_1
#undef X87_2
    case Op::kSinCos:
    case Op::kTan: {
        // With C2 set nothing is pushed: ST(0) is the operand and the second FSTP reads an empty
        // register (the indefinite), which is ignored.
        F80 st0{}, st1{};
        if (in.op == Op::kSinCos) {
            asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfsincos\n\tfnstsw %[sw]\n\t"
                         "fstpt %[r0]\n\tfstpt %[r1]\n\tfninit"
                         : [sw] "=m"(sw), [r0] "=m"(st0), [r1] "=m"(st1)
                         : [cw] "m"(cw), [a] "m"(in.a));
        } else {
            asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfptan\n\tfnstsw %[sw]\n\t"
                         "fstpt %[r0]\n\tfstpt %[r1]\n\tfninit"
                         : [sw] "=m"(sw), [r0] "=m"(st0), [r1] "=m"(st1)
                         : [cw] "m"(cw), [a] "m"(in.a));
        }
        bool pushed = ((sw >> 11) & 7) == 6;
        if (in.op == Op::kSinCos) {
            r = st0;
            r2 = pushed ? st1 : st0;
        } else {
            r = pushed ? st1 : st0;
        }
        break;
    }
    }
    Outcome o;
    o.r = r;
    o.r2 = r2;
    o.flags = sw & kExAll;
    o.c1 = (sw >> 9) & 1;
    o.c2 = (sw >> 10) & 1;
    return o;
}

Outcome library(const Input& in)
{
    Env e;
    e.rc = in.rc;
    e.pc = in.pc;
    Outcome o;
    switch (in.op) {
    case Op::kSin: o.r = fsin(in.a, e, o.c2); break;
    case Op::kCos: o.r = fcos(in.a, e, o.c2); break;
    case Op::kSinCos: fsincos(in.a, e, o.c2, o.r2, o.r); break;
    case Op::kTan: o.r = fptan(in.a, e, o.c2); break;
    case Op::kAtan: o.r = fpatan(in.b, in.a, e); break;
    case Op::kF2xm1: o.r = f2xm1(in.a, e); break;
    case Op::kYl2x: o.r = fyl2x(in.a, in.b, e); break;
    case Op::kYl2xp1: o.r = fyl2xp1(in.a, in.b, e); break;
    }
    o.flags = e.flags;
    o.c1 = e.c1;
    return o;
}

// ---- inputs ----

uint64_t random_sig(Rng& g)
{
    uint64_t s = g.next();
    switch (g.below(5)) {
    case 0: s &= ~0ull << g.below(64); break;       // trailing zeros
    case 1: s |= (1ull << g.below(64)) - 1; break;  // trailing ones
    default: break;
    }
    return s | 0x8000000000000000ull;
}

uint16_t sign_bit(Rng& g) { return g.coin() ? 0x8000 : 0; }

// A normal with the unbiased exponent in [lo, hi].
F80 with_exp(Rng& g, int lo, int hi, bool positive = false)
{
    int e = lo + static_cast<int>(g.below(static_cast<uint32_t>(hi - lo + 1)));
    return mk(static_cast<uint16_t>((positive ? 0 : sign_bit(g)) | (0x3FFF + e)), random_sig(g));
}

F80 special(Rng& g)
{
    uint16_t s = sign_bit(g);
    switch (g.below(12)) {
    case 0: return mk(s, 0);
    case 1: return mk(s, g.next() >> (1 + g.below(63)));                      // denormal
    case 2: return mk(s, random_sig(g));                                      // pseudo-denormal
    case 3: return mk(s | 0x7FFF, 0x8000000000000000ull);                     // infinity
    case 4: return mk(s | 0x7FFF, 0xC000000000000000ull | (g.next() >> 2));   // QNaN
    case 5: return mk(s | 0x7FFF, 0x8000000000000000ull | ((g.next() >> 2) | 1));  // SNaN
    case 6: return kIndef;
    case 7: return mk(s | static_cast<uint16_t>(1 + g.below(0x7FFE)), g.next() >> 1);  // unnormal
    case 8: return mk(s | 1, random_sig(g));                                  // tiny normals
    case 9: return mk(s | 0x3FFF, 0x8000000000000000ull);                     // +-1
    case 10: return mk(s | static_cast<uint16_t>(1 + g.below(0x7FFE)), random_sig(g));
    default: return mk(s | static_cast<uint16_t>(0x3FFF + g.below(64) - 32), 0x8000000000000000ull);
    }
}

// The integer k * (x87 pi/2) * 2^-65 rounded down to an F80, plus a few ulps.
F80 near_half_pi_multiple(Rng& g)
{
    __extension__ typedef unsigned __int128 U128;
    const U128 p = (U128(0x3ull) << 64) | 0x243F6A8885A308D3ull;
    uint64_t k = (g.next() >> g.below(64)) | 1;
    if (k > (1ull << 61)) k >>= 3;
    U128 v = U128(k) * p;  // < 2^127
    int lz = 0;
    while (!(v >> 127)) {
        v <<= 1;
        ++lz;
    }
    int e = 127 - lz - 65;  // value = top64 * 2^(e - 63)
    uint64_t sig = static_cast<uint64_t>(v >> 64) + g.below(5) - 2;
    return mk(static_cast<uint16_t>(sign_bit(g) | (0x3FFF + e)), sig | 0x8000000000000000ull);
}

F80 trig_input(Rng& g)
{
    switch (g.below(10)) {
    case 0: return special(g);
    case 1: return with_exp(g, -80, -1);
    case 2: return with_exp(g, 0, 20);
    case 3: return with_exp(g, 21, 62);
    case 4: return with_exp(g, 62, 66);  // near and beyond 2^63
    case 5: return mk(static_cast<uint16_t>(sign_bit(g) | 0x403D), ~0ull - g.below(3));
    case 6: case 7: return near_half_pi_multiple(g);
    default: return with_exp(g, -3, 3);
    }
}

F80 f2xm1_input(Rng& g)
{
    switch (g.below(8)) {
    case 0: return special(g);
    case 1: return with_exp(g, -16382, -60);
    case 2: return with_exp(g, -1, 3);  // around the domain edge
    default: return with_exp(g, -64, -1);
    }
}

F80 wide(Rng& g)
{
    switch (g.below(6)) {
    case 0: return special(g);
    case 1: return with_exp(g, -16382, 16383);
    default: return with_exp(g, -70, 70);
    }
}

F80 log_x(Rng& g)
{
    switch (g.below(9)) {
    case 0: case 1: return special(g);
    case 2: return with_exp(g, -16382, 16383, true);
    case 3: return mk(0x3FFF, 0x8000000000000000ull | (g.next() >> (1 + g.below(63))));  // 1 + d
    case 4: return mk(0x3FFE, ~0ull - (g.next() >> (1 + g.below(63))));               // 1 - d
    case 5: return mk(static_cast<uint16_t>(0x3FFF + g.below(200) - 100), 0x8000000000000000ull);
    default: return with_exp(g, -40, 40, true);
    }
}

F80 logp1_x(Rng& g)
{
    switch (g.below(9)) {
    case 0: return special(g);
    case 1: return with_exp(g, -16382, -60);
    case 2: return with_exp(g, -2, 4);  // the domain edge and beyond
    case 3: return mk(0xBFFE, ~0ull - g.below(1000));  // just above -1
    default: return with_exp(g, -64, -3);
    }
}

Input make_input(Op op, Rng& g)
{
    Input in{op};
    in.rc = static_cast<uint8_t>(g.below(4));
    const uint8_t pcs[] = {kPrec24, kPrec53, kPrec64, kPrec64};
    in.pc = pcs[g.below(4)];
    switch (op) {
    case Op::kSin: case Op::kCos: case Op::kSinCos: case Op::kTan: in.a = trig_input(g); break;
    case Op::kF2xm1: in.a = f2xm1_input(g); break;
    case Op::kAtan:
        in.a = wide(g);
        in.b = g.below(4) == 0 ? mk(static_cast<uint16_t>(sign_bit(g) | in.a.exp()), random_sig(g)) : wide(g);
        break;
    case Op::kYl2x: in.a = log_x(g); in.b = wide(g); break;
    case Op::kYl2xp1: in.a = logp1_x(g); in.b = wide(g); break;
    }
    return in;
}

// ---- comparison ----

bool finite_nonzero(F80 v)
{
    Class c = classify(v);
    return c == Class::kNormal || c == Class::kDenormal;
}

// Distance in ulps between two finite nonzero values of the same sign (else a large number).
uint64_t ulp_distance(F80 x, F80 y)
{
    if (x.sign() != y.sign()) return ~0ull;
    __extension__ typedef __int128 I128;
    auto ord = [](F80 v) {  // consecutive values have consecutive ordinals
        return v.exp() == 0 ? I128(v.sig)
                            : (I128(v.exp()) << 63) + I128(v.sig & ~0x8000000000000000ull);
    };
    I128 d = ord(x) - ord(y);
    if (d < 0) d = -d;
    return d > I128(~0ull) ? ~0ull : static_cast<uint64_t>(d);
}

struct Tally {
    const char* name;
    uint64_t cases = 0, exact = 0, one_ulp = 0, worse = 0, flag_mismatch = 0, c1_mismatch = 0;
};

std::string hex80(F80 v)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04X:%016llX", v.se, static_cast<unsigned long long>(v.sig));
    return buf;
}

// Compares one result pair; returns 0 exact, 1 within 1 ulp, 2 worse (or special mismatch).
int compare_value(F80 lib, F80 hw)
{
    if (lib == hw) return 0;
    if (!finite_nonzero(lib) || !finite_nonzero(hw)) return 2;
    return ulp_distance(lib, hw) <= 1 ? 1 : 2;
}

void run_native(Op op, const char* name, uint64_t seed, uint64_t cases)
{
    Rng g{seed ^ (uint64_t(op) * 0x100000001B3ull)};
    Tally t{name};
    int reported = 0;
    for (uint64_t i = 0; i < cases; ++i) {
        Input in = make_input(op, g);
        Outcome hw = native(in), lib = library(in);
        int v = compare_value(lib.r, hw.r);
        if (op == Op::kSinCos) v = std::max(v, compare_value(lib.r2, hw.r2));
        const uint16_t strict = kExInvalid | kExZeroDiv | kExDenormal | kExUnderflow;
        bool same = v == 0;
        bool inexact = (hw.flags & kExPrecision) != 0;
        bool flags_ok = (lib.flags & strict) == (hw.flags & strict) && lib.c2 == hw.c2 &&
                        (!same || lib.flags == hw.flags) && (!same || inexact || lib.c1 == hw.c1);
        // C1 of an inexact result: the x87 reports the direction from its own approximation.
        bool c1_ok = !same || !inexact || lib.c1 == hw.c1;
        ++t.cases;
        if (v == 0) ++t.exact;
        else if (v == 1) ++t.one_ulp;
        else ++t.worse;
        if (!flags_ok) ++t.flag_mismatch;
        if (!c1_ok) ++t.c1_mismatch;
        if ((v == 2 || !flags_ok || (!c1_ok && std::getenv("VX86_FPU_SHOW_C1"))) && reported < 8) {
            ++reported;
            std::printf("  %s mismatch: a=%s b=%s rc=%d: lib r=%s r2=%s fl=%02X c1=%d c2=%d | "
                        "x87 r=%s r2=%s fl=%02X c1=%d c2=%d\n",
                        name, hex80(in.a).c_str(), hex80(in.b).c_str(), in.rc, hex80(lib.r).c_str(),
                        hex80(lib.r2).c_str(), lib.flags, lib.c1, lib.c2, hex80(hw.r).c_str(),
                        hex80(hw.r2).c_str(), hw.flags, hw.c1, hw.c2);
        }
    }
    std::printf("  %-8s cases %6llu  exact %6llu  1-ulp %5llu  worse %llu  flag mismatches %llu  "
                "C1 mismatches %llu\n",
                name, static_cast<unsigned long long>(t.cases), static_cast<unsigned long long>(t.exact),
                static_cast<unsigned long long>(t.one_ulp), static_cast<unsigned long long>(t.worse),
                static_cast<unsigned long long>(t.flag_mismatch),
                static_cast<unsigned long long>(t.c1_mismatch));
    CHECK_MESSAGE(t.worse == 0, name);
    CHECK_MESSAGE(t.flag_mismatch == 0, name);
    // Identical inexact results whose C1 differs: the exact value lies within the x87's internal
    // error of the returned value (measured: 0.2-1.5% of the cases).
    CHECK_MESSAGE(t.c1_mismatch * 100 <= t.cases * 3, name);
    // The library is (almost always) correctly rounded, and so is the x87.
    CHECK_MESSAGE(t.exact * 100 >= t.cases * 92, name);
}

#endif  // __x86_64__

TEST_CASE("f80_trans: random operands against the host x87")
{
#if defined(__x86_64__)
    uint64_t seed = env_u64("VX86_FPU_SEED", 0x7A3C5E1F2B4D6981ull);
    uint64_t cases = env_u64("VX86_FPU_CASES", 200000);
    std::printf("f80_trans native comparison: VX86_FPU_SEED=0x%llx VX86_FPU_CASES=%llu\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(cases));
    run_native(Op::kSin, "fsin", seed, cases);
    run_native(Op::kCos, "fcos", seed, cases);
    run_native(Op::kSinCos, "fsincos", seed, cases);
    run_native(Op::kTan, "fptan", seed, cases);
    run_native(Op::kAtan, "fpatan", seed, cases);
    run_native(Op::kF2xm1, "f2xm1", seed, cases);
    run_native(Op::kYl2x, "fyl2x", seed, cases);
    run_native(Op::kYl2xp1, "fyl2xp1", seed, cases);
#else
    std::printf("f80_trans native comparison skipped: the host has no x87 (not x86-64); "
                "only the captured vectors run\n");
#endif
}

}  // namespace

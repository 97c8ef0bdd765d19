// f80_test: the portable x87 arithmetic (cpu/fpu/f80.h) against the host's own x87.
//
// Design decisions:
// - On an x86-64 host every operation is also executed natively with inline asm (FLDCW with all
//   exceptions masked, FNCLEX, FLD TBYTE/m32/m64/FBLD, the instruction, FNSTSW, FSTP TBYTE), and
//   the library must agree bit for bit: the 80-bit result, the six exception flags and the
//   condition codes the instruction defines (C1 for rounding, C0-C3 for compares, FPREM, FXAM).
//   Unmasked exceptions cannot be observed natively without trapping, so they are covered by
//   hand-checked SDM cases below, which run on every host together with vectors captured from
//   the host x87 while this was written.
// - Inputs are seeded random (the seed is printed; VX86_FPU_SEED overrides it, VX86_FPU_CASES the
//   cases per operation) and mix special encodings (zeros, denormals, pseudo-denormals, extreme
//   normals, infinities, NaNs, the indefinite, unnormals, pseudo-NaN/infinity) with random values
//   near rounding and integer boundaries and pairs with close exponents, under every precision
//   control and rounding mode.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "cpu/fpu/f80.h"

namespace {

using namespace vx86::cpu::fpu;

F80 mk(uint16_t se, uint64_t sig) { return F80{sig, se}; }

uint16_t make_cw(int pc, int rc, uint16_t masks = kExAll)
{
    return static_cast<uint16_t>(0x0040 | masks | pc << 8 | rc << 10);
}

// ---- hand-checked vectors (every host) ----

TEST_CASE("f80: classification and FXAM codes")
{
    CHECK(classify(mk(0, 0)) == Class::kZero);
    CHECK(classify(mk(0, 1)) == Class::kDenormal);
    CHECK(classify(mk(0, 0x8000000000000000ull)) == Class::kPseudoDenormal);
    CHECK(classify(mk(0x3FFF, 0x8000000000000000ull)) == Class::kNormal);
    CHECK(classify(mk(0x3FFF, 0x4000000000000000ull)) == Class::kUnsupported);  // unnormal
    CHECK(classify(mk(0x7FFF, 0)) == Class::kUnsupported);                      // pseudo-inf
    CHECK(classify(mk(0x7FFF, 0x4000000000000000ull)) == Class::kUnsupported);  // pseudo-NaN
    CHECK(classify(f80_inf(true)) == Class::kInf);
    CHECK(classify(f80_indefinite()) == Class::kQNaN);
    CHECK(classify(mk(0x7FFF, 0x8000000000000001ull)) == Class::kSNaN);
    // SDM FXAM: C3 C2 C0 = 000 unsupported, 001 NaN, 010 normal, 011 inf, 100 zero, 110 denormal.
    CHECK(fxam_code(mk(0x3FFF, 0x4000000000000000ull)) == 0);
    CHECK(fxam_code(f80_indefinite()) == 1);
    CHECK(fxam_code(mk(0x3FFF, 0x8000000000000000ull)) == 2);
    CHECK(fxam_code(f80_inf(false)) == 3);
    CHECK(fxam_code(f80_zero(true)) == 4);
    CHECK(fxam_code(mk(0, 5)) == 6);
}

TEST_CASE("f80: masked invalid operations give the real indefinite")
{
    const F80 one = mk(0x3FFF, 0x8000000000000000ull);
    const F80 indef = mk(0xFFFF, 0xC000000000000000ull);
    Env e;
    CHECK(sub(f80_inf(false), f80_inf(false), e) == indef);
    CHECK(mul(f80_zero(false), f80_inf(true), e) == indef);
    CHECK(div(f80_zero(false), f80_zero(true), e) == indef);
    CHECK(div(f80_inf(false), f80_inf(true), e) == indef);
    CHECK(sqrt(chs(one), e) == indef);
    uint8_t q = 0;
    bool c2 = false;
    CHECK(prem(f80_inf(false), one, false, e, q, c2) == indef);
    CHECK(prem(one, f80_zero(false), true, e, q, c2) == indef);
    CHECK(add(mk(0x3FFF, 0x4000000000000000ull), one, e) == indef);  // unnormal operand
    CHECK(e.flags == kExInvalid);
    CHECK_FALSE(e.unmasked_fault);
    // An SNaN is quieted; two QNaNs: the larger significand wins.
    Env e2;
    CHECK(add(mk(0x7FFF, 0x8000000000000001ull), one, e2) == mk(0x7FFF, 0xC000000000000001ull));
    CHECK(e2.flags == kExInvalid);
    Env e3;
    CHECK(mul(mk(0xFFFF, 0xC000000000000005ull), mk(0x7FFF, 0xC000000000000009ull), e3) ==
          mk(0x7FFF, 0xC000000000000009ull));
    CHECK(e3.flags == 0);
    // x / 0 for finite nonzero x: ZE and a signed infinity.
    Env e4;
    CHECK(div(chs(one), f80_zero(false), e4) == f80_inf(true));
    CHECK(e4.flags == kExZeroDiv);
}

TEST_CASE("f80: unmasked exceptions (SDM 8.5)")
{
    const F80 one = mk(0x3FFF, 0x8000000000000000ull);
    const F80 min_normal = mk(0x0001, 0x8000000000000000ull);
    const F80 max_normal = mk(0x7FFE, 0xFFFFFFFFFFFFFFFFull);
    SUBCASE("underflow to a register: exponent + 24576")
    {
        Env e = Env::from_fcw(make_cw(kPrec64, kRoundNearest, kExAll & ~kExUnderflow));
        // 2^-16382 * 2^-16382 = 2^-32764: biased exponent -16381 + 24576 = 0x2003, exact.
        F80 r = mul(min_normal, min_normal, e);
        CHECK(r == mk(0x2003, 0x8000000000000000ull));
        CHECK(e.flags == kExUnderflow);
        CHECK_FALSE(e.unmasked_fault);
        // The same product masked: flushed to +0 with UE and PE.
        Env m;
        CHECK(mul(min_normal, min_normal, m) == f80_zero(false));
        CHECK(m.flags == (kExUnderflow | kExPrecision));
    }
    SUBCASE("overflow to a register: exponent - 24576")
    {
        Env e = Env::from_fcw(make_cw(kPrec64, kRoundNearest, kExAll & ~kExOverflow));
        F80 two = mk(0x4000, 0x8000000000000000ull);
        F80 r = mul(max_normal, two, e);
        CHECK(r == mk(0x7FFF - 24576, 0xFFFFFFFFFFFFFFFFull));
        CHECK(e.flags == kExOverflow);
        // Masked: infinity under round-to-nearest, the largest finite under round-toward-zero.
        Env m;
        CHECK(mul(max_normal, two, m) == f80_inf(false));
        CHECK(m.flags == (kExOverflow | kExPrecision));
        CHECK(m.c1);
        Env z = Env::from_fcw(make_cw(kPrec24, kRoundZero));
        CHECK(mul(max_normal, two, z) == mk(0x7FFE, 0xFFFFFF0000000000ull));
    }
    SUBCASE("FSCALE beyond the biased range (captured from the x87)")
    {
        // 1.5 * 2^40960: 0x3FFF + 40960 - 24576 = 0x7FFF is still too large: a signed infinity
        // with C1 = 1 and PE under every rounding mode (here toward zero and down).
        const F80 x = mk(0x3FFF, 0xC000000000000001ull);
        for (uint8_t rc : {kRoundNearest, kRoundDown, kRoundUp, kRoundZero}) {
            CAPTURE(rc);
            Env o = Env::from_fcw(make_cw(kPrec64, rc, kExAll & ~kExOverflow));
            CHECK(scale(chs(x), mk(0x400E, 0xA000000000000000ull), o) == f80_inf(true));
            CHECK(o.flags == (kExOverflow | kExPrecision));
            CHECK(o.c1);
            // One below the limit (2^40959): the biased result 0x7FFE, exact.
            Env k = Env::from_fcw(make_cw(kPrec64, rc, kExAll & ~kExOverflow));
            CHECK(scale(x, mk(0x400E, 0x9FFF000000000000ull), k) == mk(0x7FFE, x.sig));
            CHECK(k.flags == kExOverflow);
            CHECK_FALSE(k.c1);
            // 1.5 * 2^-40959: 0x3FFF - 40959 + 24576 = 0 is still tiny: a signed zero, C1 = 0.
            Env u = Env::from_fcw(make_cw(kPrec64, rc, kExAll & ~kExUnderflow));
            CHECK(scale(x, mk(0xC00E, 0x9FFF000000000000ull), u) == f80_zero(false));
            CHECK(u.flags == (kExUnderflow | kExPrecision));
            CHECK_FALSE(u.c1);
            // 2^-40958 is the last one the bias brings back: exponent 1, no PE.
            Env v = Env::from_fcw(make_cw(kPrec64, rc, kExAll & ~kExUnderflow));
            CHECK(scale(chs(x), mk(0xC00E, 0x9FFE000000000000ull), v) == mk(0x8001, x.sig));
            CHECK(v.flags == kExUnderflow);
            CHECK_FALSE(u.unmasked_fault);
        }
    }
    SUBCASE("stores to memory store nothing on unmasked OE/UE")
    {
        Env e = Env::from_fcw(make_cw(kPrec64, kRoundNearest, kExAll & ~kExOverflow));
        to_f32(mk(0x4100, 0x8000000000000000ull), e);
        CHECK(e.unmasked_fault);
        CHECK((e.flags & kExOverflow) != 0);
        Env u = Env::from_fcw(make_cw(kPrec64, kRoundNearest, kExAll & ~kExUnderflow));
        to_f64(mk(0x3000, 0x8000000000000000ull), u);
        CHECK(u.unmasked_fault);
        CHECK((u.flags & kExUnderflow) != 0);
        Env ok = Env::from_fcw(make_cw(kPrec64, kRoundNearest, kExAll & ~kExUnderflow));
        CHECK(to_f64(one, ok) == 0x3FF0000000000000ull);
        CHECK_FALSE(ok.unmasked_fault);
    }
    SUBCASE("unmasked IE, ZE and DE suppress the store")
    {
        Env e = Env::from_fcw(make_cw(kPrec64, kRoundNearest, kExAll & ~kExInvalid));
        add(mk(0x7FFF, 0x8000000000000001ull), one, e);
        CHECK(e.unmasked_fault);
        Env z = Env::from_fcw(make_cw(kPrec64, kRoundNearest, kExAll & ~kExZeroDiv));
        div(one, f80_zero(false), z);
        CHECK(z.unmasked_fault);
        CHECK(z.flags == kExZeroDiv);
        Env d = Env::from_fcw(make_cw(kPrec64, kRoundNearest, kExAll & ~kExDenormal));
        add(mk(0, 1), one, d);
        CHECK(d.unmasked_fault);
        CHECK(d.flags == kExDenormal);
        Env i = Env::from_fcw(make_cw(kPrec64, kRoundNearest, kExAll & ~kExInvalid));
        CHECK(to_int(f80_inf(false), 32, false, i) == INT32_MIN);
        CHECK(i.unmasked_fault);
        Env p = Env::from_fcw(make_cw(kPrec64, kRoundNearest, kExAll & ~kExPrecision));
        div(one, mk(0x4000, 0xC000000000000000ull), p);  // 1/3: PE only, stored normally
        CHECK(p.flags == kExPrecision);
        CHECK_FALSE(p.unmasked_fault);
    }
}

// Values captured from the host x87 (AMD EPYC) while writing this file.
TEST_CASE("f80: captured x87 vectors")
{
    const F80 one = mk(0x3FFF, 0x8000000000000000ull);
    const F80 three = mk(0x4000, 0xC000000000000000ull);
    SUBCASE("1/3 under each precision control and rounding mode")
    {
        struct V {
            int pc, rc;
            F80 r;
            bool c1;
        };
        const V vs[] = {
            {kPrec64, kRoundNearest, mk(0x3FFD, 0xAAAAAAAAAAAAAAABull), true},
            {kPrec64, kRoundDown, mk(0x3FFD, 0xAAAAAAAAAAAAAAAAull), false},
            {kPrec53, kRoundNearest, mk(0x3FFD, 0xAAAAAAAAAAAAA800ull), false},
            {kPrec53, kRoundUp, mk(0x3FFD, 0xAAAAAAAAAAAAB000ull), true},
            {kPrec24, kRoundNearest, mk(0x3FFD, 0xAAAAAB0000000000ull), true},
            {kPrec24, kRoundZero, mk(0x3FFD, 0xAAAAAA0000000000ull), false},
        };
        for (const V& v : vs) {
            Env e = Env::from_fcw(make_cw(v.pc, v.rc));
            CHECK(div(one, three, e) == v.r);
            CHECK(e.c1 == v.c1);
            CHECK(e.flags == kExPrecision);
        }
    }
    SUBCASE("constants are rounded by RC")
    {
        CHECK(load_const(Const::kPi, kRoundNearest) == mk(0x4000, 0xC90FDAA22168C235ull));
        CHECK(load_const(Const::kPi, kRoundDown) == mk(0x4000, 0xC90FDAA22168C234ull));
        CHECK(load_const(Const::kL2T, kRoundNearest) == mk(0x4000, 0xD49A784BCD1B8AFEull));
        CHECK(load_const(Const::kL2T, kRoundUp) == mk(0x4000, 0xD49A784BCD1B8AFFull));
        CHECK(load_const(Const::kL2E, kRoundNearest) == mk(0x3FFF, 0xB8AA3B295C17F0BCull));
        CHECK(load_const(Const::kLg2, kRoundNearest) == mk(0x3FFD, 0x9A209A84FBCFF799ull));
        CHECK(load_const(Const::kLn2, kRoundZero) == mk(0x3FFE, 0xB17217F7D1CF79ABull));
        CHECK(load_const(Const::kOne, kRoundUp) == one);
        CHECK(load_const(Const::kZero, kRoundDown) == f80_zero(false));
    }
    SUBCASE("BCD")
    {
        const uint8_t in[10] = {0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0x80};
        CHECK(from_bcd(in) == from_i64(-123456789));
        uint8_t out[10] = {};
        Env e;
        to_bcd(mk(0x403E, 0x8000000000000000ull), e, out);  // 2^63 > 10^18 - 1
        const uint8_t indef[10] = {0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF};
        CHECK(std::memcmp(out, indef, 10) == 0);
        CHECK(e.flags == kExInvalid);
        Env r = Env::from_fcw(make_cw(kPrec64, kRoundNearest));
        to_bcd(mk(0x4000, 0xA000000000000000ull), r, out);  // 2.5 -> 2 (ties to even)
        CHECK(out[0] == 0x02);
        CHECK(r.flags == kExPrecision);
    }
}

TEST_CASE("f80: captured x87 vectors: FPREM, FSCALE, denormal results, NaN choice")
{
    const F80 one = mk(0x3FFF, 0x8000000000000000ull);
    const F80 two = mk(0x4000, 0x8000000000000000ull);
    const F80 seven = mk(0x4001, 0xE000000000000000ull);
    uint8_t q = 0;
    bool c2 = false;
    SUBCASE("FPREM / FPREM1 quotient bits")
    {
        Env e;
        CHECK(prem(seven, two, false, e, q, c2) == one);  // 7 = 3 * 2 + 1
        CHECK(q == 3);
        CHECK_FALSE(c2);
        CHECK(prem(seven, two, true, e, q, c2) == chs(one));  // 7 = 4 * 2 - 1
        CHECK(q == 4);
        CHECK(prem(mk(0xC001, 0xA000000000000000ull), two, true, e, q, c2) == chs(one));  // -5 = -2*2 - 1
        CHECK(q == 2);
        CHECK(e.flags == 0);
    }
    SUBCASE("FPREM partial remainder: exponent difference 100 reduces by 2^(100 - 36)")
    {
        Env e;
        F80 r = prem(mk(0x3FFF + 100, 0xC000000000000000ull), mk(0x3FFF, 0xA000000000000000ull), false, e, q, c2);
        CHECK(r == mk(0x403D, 0x8000000000000000ull));
        CHECK(c2);
        CHECK(q == 0);
    }
    SUBCASE("FSCALE")
    {
        Env e;
        CHECK(scale(one, f80_inf(true), e) == f80_zero(false));
        CHECK(e.flags == 0);
        CHECK(scale(f80_zero(false), f80_inf(false), e) == f80_indefinite());
        CHECK(e.flags == kExInvalid);
        Env u;  // 1.5 * 2^trunc(-16400.7) = 1.5 * 2^-16400: a denormal, exact
        CHECK(scale(mk(0x3FFF, 0xC000000000000000ull), mk(0xC00D, 0x80235999999999A0ull), u) ==
              mk(0, 0x0000180000000000ull));
        CHECK(u.flags == 0);
        Env z = Env::from_fcw(make_cw(kPrec64, kRoundZero));  // 1 * 2^(2^40): overflow, RZ
        CHECK(scale(one, mk(0x4027, 0x8000000000000000ull), z) == mk(0x7FFE, 0xFFFFFFFFFFFFFFFFull));
        CHECK(z.flags == (kExOverflow | kExPrecision));
    }
    SUBCASE("a PC=24 denormal result is rounded at bit 40 of the significand field")
    {
        Env e = Env::from_fcw(make_cw(kPrec24, kRoundNearest));
        CHECK(add(mk(0, 0x6000000000000000ull), mk(0, 0x123), e) == mk(0, 0x6000000000000000ull));
        CHECK(e.flags == (kExDenormal | kExUnderflow | kExPrecision));
    }
    SUBCASE("NaN choice")
    {
        Env e;  // equal significands: the positive one
        CHECK(add(mk(0xFFFF, 0xC000000000001234ull), mk(0x7FFF, 0xC000000000001234ull), e) ==
              mk(0x7FFF, 0xC000000000001234ull));
        CHECK(e.flags == 0);
        Env s;  // an SNaN and a QNaN: the QNaN, even with the smaller significand
        CHECK(add(mk(0x7FFF, 0x8000000000000001ull), mk(0xFFFF, 0xC000000000000000ull), s) ==
              mk(0xFFFF, 0xC000000000000000ull));
        CHECK(s.flags == kExInvalid);
    }
}

#if defined(__x86_64__)

// ---- random inputs ----

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

uint64_t random_sig(Rng& g)
{
    uint64_t s = g.next();
    switch (g.below(6)) {
    case 0: s &= ~0ull << g.below(64); break;                 // trailing zeros
    case 1: s |= (1ull << g.below(64)) - 1; break;            // trailing ones
    case 2: s = (s & (~0ull << 40)) | (g.coin() ? 1ull << 39 : (1ull << 39) - g.below(3)); break;
    case 3: s = (s & (~0ull << 11)) | (g.coin() ? 1ull << 10 : (1ull << 10) + g.below(3) - 1); break;
    default: break;
    }
    return s | 0x8000000000000000ull;
}

F80 special(Rng& g)
{
    uint16_t s = g.coin() ? 0x8000 : 0;
    switch (g.below(22)) {
    case 0: return mk(s, 0);
    case 1: return mk(s, 1);
    case 2: return mk(s, 0x7FFFFFFFFFFFFFFFull);
    case 3: return mk(s, g.next() >> (1 + g.below(63)));                     // denormal
    case 4: return mk(s, random_sig(g) | (g.coin() ? 0 : 0x7FFFFFFFFFFFFFFFull));  // pseudo-denormal
    case 5: return mk(s | 1, 0x8000000000000000ull);
    case 6: return mk(s | 0x7FFE, 0xFFFFFFFFFFFFFFFFull);
    case 7: return mk(s | 0x3FFF, 0x8000000000000000ull);
    case 8: return mk(s | 0x7FFF, 0x8000000000000000ull);
    case 9: return mk(s | 0x7FFF, 0xC000000000000000ull | (g.coin() ? 0 : g.next() >> 2));
    case 10: return mk(s | 0x7FFF, 0x8000000000000000ull | ((g.next() >> 2) | 1));
    case 11: return mk(0xFFFF, 0xC000000000000000ull);
    case 12: return mk(s | static_cast<uint16_t>(1 + g.below(0x7FFE)), g.next() >> 1);  // unnormal
    case 13: return mk(s | 0x7FFF, g.next() >> 1);                        // pseudo-NaN / -inf
    case 14: return mk(s | 0x3FFE, 0x8000000000000000ull);                // 0.5
    case 15: return mk(s | static_cast<uint16_t>(0x3FFF + g.below(64)), random_sig(g) & (~0ull << 62));
    case 16: return mk(s | static_cast<uint16_t>(1 + g.below(3)), random_sig(g));
    case 17: return mk(s | static_cast<uint16_t>(0x7FFE - g.below(3)), random_sig(g));
    case 18: return mk(s | static_cast<uint16_t>(0x3FFF + g.below(64)), random_sig(g) & (~0ull << g.below(64)));
    case 19: return mk(s | 0x7FFF, 0xC000000000000000ull | g.below(4));
    case 20: return mk(s | 0x7FFF, 0x8000000000000000ull | (1 + g.below(4)));
    default: return mk(s | static_cast<uint16_t>(0x3FFF - g.below(70)), random_sig(g));
    }
}

F80 random_f80(Rng& g)
{
    uint16_t s = g.coin() ? 0x8000 : 0;
    switch (g.below(8)) {
    case 0:
    case 1: return special(g);
    case 2: return mk(s | static_cast<uint16_t>(1 + g.below(0x7FFE)), random_sig(g));
    case 3: return mk(s | static_cast<uint16_t>(g.coin() ? 1 + g.below(200) : 0x7FFE - g.below(200)), random_sig(g));
    default: return mk(s | static_cast<uint16_t>(0x3FFF - 70 + g.below(140)), random_sig(g));
    }
}

// A second operand close to the first (cancellation, ties), or an unrelated one.
F80 partner(Rng& g, F80 a)
{
    if (g.below(3) != 0) return random_f80(g);
    uint16_t s = g.coin() ? 0x8000 : 0;
    int e = a.exp() + static_cast<int>(g.below(7)) - 3;
    if (g.below(4) == 0) e = a.exp() + static_cast<int>(g.below(140)) - 70;
    if (e < 0 || e > 0x7FFE) e = a.exp();
    uint64_t sig = a.sig;
    switch (g.below(4)) {
    case 0: break;
    case 1: sig += g.below(5) - 2; break;
    case 2: sig ^= 1ull << g.below(64); break;
    default: sig = random_sig(g); break;
    }
    if (e != 0) sig |= 0x8000000000000000ull;
    return mk(s | static_cast<uint16_t>(e), sig);
}

F80 random_int_like(Rng& g, int max_exp)
{
    uint16_t s = g.coin() ? 0x8000 : 0;
    if (g.below(5) == 0) return special(g);
    int e = static_cast<int>(g.below(static_cast<uint32_t>(max_exp) + 4)) - 3;
    uint64_t sig = random_sig(g);
    int fb = 63 - e;
    if (fb > 0 && fb < 64 && g.coin()) {  // land on or next to .0 / .5
        sig &= ~0ull << fb;
        if (g.coin()) sig |= 1ull << (fb - 1);
        if (g.coin()) sig += g.below(3) - 1;
        sig |= 0x8000000000000000ull;
    }
    return mk(s | static_cast<uint16_t>(0x3FFF + e), sig);
}

// ---- the native comparison ----

struct Outcome {
    F80 r{}, r2{};
    uint64_t bits = 0;
    uint16_t bits_hi = 0;
    uint16_t flags = 0;
    uint8_t cc = 0;  // bit 0 C0, bit 1 C1, bit 2 C2, bit 3 C3
};

struct Input {
    F80 a{}, b{};
    uint64_t bits = 0;
    uint8_t bcd[10] = {};
    uint16_t cw = 0x037F;
    unsigned width = 0;
};

std::string hex80(F80 v)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04X:%016llX", v.se, static_cast<unsigned long long>(v.sig));
    return buf;
}

std::string show(const Outcome& o)
{
    char buf[160];
    std::snprintf(buf, sizeof buf, "r=%s r2=%s bits=%04X%016llX flags=%02X cc(C3C2C1C0)=%X",
                  hex80(o.r).c_str(), hex80(o.r2).c_str(), o.bits_hi,
                  static_cast<unsigned long long>(o.bits), o.flags, o.cc);
    return buf;
}

std::string show(const Input& in)
{
    char buf[200];
    std::snprintf(buf, sizeof buf, "cw=%04X a=%s b=%s bits=%016llX width=%u", in.cw, hex80(in.a).c_str(),
                  hex80(in.b).c_str(), static_cast<unsigned long long>(in.bits), in.width);
    std::string s = buf;
    s += " bcd=";
    for (int i = 9; i >= 0; --i) {
        std::snprintf(buf, sizeof buf, "%02X", in.bcd[i]);
        s += buf;
    }
    return s;
}

Outcome lib_result(F80 r, const Env& e)
{
    Outcome o;
    o.r = r;
    o.flags = e.flags;
    o.cc = e.c1 ? 2 : 0;
    return o;
}

uint64_t env_u64(const char* name, uint64_t dflt)
{
    const char* v = std::getenv(name);
    if (!v || !*v) return dflt;
    return std::strtoull(v, nullptr, 0);
}

// ---- the x87 itself ----

#define X87_CLOBBERS "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"

uint8_t sw_cc(uint16_t sw)
{
    return static_cast<uint8_t>((sw >> 8 & 1) | (sw >> 9 & 1) << 1 | (sw >> 10 & 1) << 2 |
                                (sw >> 14 & 1) << 3);
}

Outcome hw_result(F80 r, uint16_t sw)
{
    Outcome o;
    o.r = r;
    o.flags = sw & kExAll;
    o.cc = sw_cc(sw);
    return o;
}

// ST0 = a, ST1 = b, then `insn`; the status word and ST0 are the outcome.
#define HW_BINARY(fn, insn)                                                                      \
    Outcome fn(const Input& in)                                                                  \
    {                                                                                            \
        F80 r{};                                                                                 \
        uint16_t sw = 0;                                                                         \
        asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" insn                 \
                     "\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfninit"                                  \
                     : [r] "=m"(r), [sw] "=m"(sw)                                                \
                     : [a] "m"(in.a), [b] "m"(in.b), [cw] "m"(in.cw)                             \
                     : X87_CLOBBERS);                                                            \
        return hw_result(r, sw);                                                                 \
    }

HW_BINARY(hw_add, "fadd %%st(1), %%st")
HW_BINARY(hw_sub, "fsub %%st(1), %%st")
HW_BINARY(hw_mul, "fmul %%st(1), %%st")
HW_BINARY(hw_div, "fdiv %%st(1), %%st")
HW_BINARY(hw_prem, "fprem")
HW_BINARY(hw_prem1, "fprem1")
HW_BINARY(hw_scale, "fscale")
HW_BINARY(hw_fcom, "fcom %%st(1)")
HW_BINARY(hw_fucom, "fucom %%st(1)")
HW_BINARY(hw_sqrt, "fsqrt")
HW_BINARY(hw_rndint, "frndint")
HW_BINARY(hw_fxam, "fxam")

Outcome hw_xtract(const Input& in)
{
    F80 sig{}, ex{};
    uint16_t sw = 0;
    asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfxtract\n\tfnstsw %[sw]\n\tfstpt %[s]\n\t"
                 "fstpt %[e]\n\tfninit"
                 : [s] "=m"(sig), [e] "=m"(ex), [sw] "=m"(sw)
                 : [a] "m"(in.a), [cw] "m"(in.cw)
                 : X87_CLOBBERS);
    Outcome o = hw_result(ex, sw);
    o.r2 = sig;
    return o;
}

Outcome hw_ld32(const Input& in)
{
    F80 r{};
    uint16_t sw = 0;
    uint32_t v = static_cast<uint32_t>(in.bits);
    asm volatile("fninit\n\tfldcw %[cw]\n\tflds %[v]\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfninit"
                 : [r] "=m"(r), [sw] "=m"(sw) : [v] "m"(v), [cw] "m"(in.cw) : X87_CLOBBERS);
    return hw_result(r, sw);
}

Outcome hw_ld64(const Input& in)
{
    F80 r{};
    uint16_t sw = 0;
    asm volatile("fninit\n\tfldcw %[cw]\n\tfldl %[v]\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfninit"
                 : [r] "=m"(r), [sw] "=m"(sw) : [v] "m"(in.bits), [cw] "m"(in.cw) : X87_CLOBBERS);
    return hw_result(r, sw);
}

Outcome hw_fild(const Input& in)
{
    F80 r{};
    uint16_t sw = 0;
    asm volatile("fninit\n\tfldcw %[cw]\n\tfildll %[v]\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfninit"
                 : [r] "=m"(r), [sw] "=m"(sw) : [v] "m"(in.bits), [cw] "m"(in.cw) : X87_CLOBBERS);
    return hw_result(r, sw);
}

Outcome hw_st32(const Input& in)
{
    uint32_t v = 0;
    uint16_t sw = 0;
    asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfsts %[v]\n\tfnstsw %[sw]\n\tfninit"
                 : [v] "=m"(v), [sw] "=m"(sw) : [a] "m"(in.a), [cw] "m"(in.cw) : X87_CLOBBERS);
    Outcome o = hw_result(F80{}, sw);
    o.bits = v;
    return o;
}

Outcome hw_st64(const Input& in)
{
    uint64_t v = 0;
    uint16_t sw = 0;
    asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfstl %[v]\n\tfnstsw %[sw]\n\tfninit"
                 : [v] "=m"(v), [sw] "=m"(sw) : [a] "m"(in.a), [cw] "m"(in.cw) : X87_CLOBBERS);
    Outcome o = hw_result(F80{}, sw);
    o.bits = v;
    return o;
}

#define HW_STORE_INT(fn, insn, T)                                                                \
    Outcome fn(const Input& in)                                                                  \
    {                                                                                            \
        T v = 0;                                                                                 \
        uint16_t sw = 0;                                                                         \
        asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\t" insn " %[v]\n\tfnstsw %[sw]\n\tfninit" \
                     : [v] "=m"(v), [sw] "=m"(sw)                                                \
                     : [a] "m"(in.a), [cw] "m"(in.cw)                                            \
                     : X87_CLOBBERS);                                                            \
        Outcome o = hw_result(F80{}, sw);                                                        \
        o.bits = static_cast<uint64_t>(static_cast<int64_t>(v));                                 \
        return o;                                                                                \
    }

HW_STORE_INT(hw_fist16, "fistps", int16_t)
HW_STORE_INT(hw_fist32, "fistpl", int32_t)
HW_STORE_INT(hw_fist64, "fistpll", int64_t)
HW_STORE_INT(hw_fisttp16, "fisttps", int16_t)
HW_STORE_INT(hw_fisttp32, "fisttpl", int32_t)
HW_STORE_INT(hw_fisttp64, "fisttpll", int64_t)

struct Bcd10 {
    uint8_t b[10];
};

Outcome hw_fbld(const Input& in)
{
    F80 r{};
    uint16_t sw = 0;
    Bcd10 v;
    std::memcpy(v.b, in.bcd, 10);
    asm volatile("fninit\n\tfldcw %[cw]\n\tfbld %[v]\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfninit"
                 : [r] "=m"(r), [sw] "=m"(sw) : [v] "m"(v), [cw] "m"(in.cw) : X87_CLOBBERS);
    return hw_result(r, sw);
}

Outcome hw_fbstp(const Input& in)
{
    Bcd10 v{};
    uint16_t sw = 0;
    asm volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfbstp %[v]\n\tfnstsw %[sw]\n\tfninit"
                 : [v] "=m"(v), [sw] "=m"(sw) : [a] "m"(in.a), [cw] "m"(in.cw) : X87_CLOBBERS);
    Outcome o = hw_result(F80{}, sw);
    std::memcpy(&o.bits, v.b, 8);
    std::memcpy(&o.bits_hi, v.b + 8, 2);
    return o;
}

Outcome hw_const(const Input& in)
{
    F80 r{};
    uint16_t sw = 0;
    unsigned k = in.width;
    asm volatile("fninit\n\tfldcw %[cw]\n\t"
                 "cmpl $0, %[k]\n\tjne 1f\n\tfld1\n\tjmp 9f\n"
                 "1: cmpl $1, %[k]\n\tjne 2f\n\tfldl2t\n\tjmp 9f\n"
                 "2: cmpl $2, %[k]\n\tjne 3f\n\tfldl2e\n\tjmp 9f\n"
                 "3: cmpl $3, %[k]\n\tjne 4f\n\tfldpi\n\tjmp 9f\n"
                 "4: cmpl $4, %[k]\n\tjne 5f\n\tfldlg2\n\tjmp 9f\n"
                 "5: cmpl $5, %[k]\n\tjne 6f\n\tfldln2\n\tjmp 9f\n"
                 "6: fldz\n"
                 "9: fnstsw %[sw]\n\tfstpt %[r]\n\tfninit"
                 : [r] "=m"(r), [sw] "=m"(sw) : [k] "m"(k), [cw] "m"(in.cw) : X87_CLOBBERS, "cc");
    return hw_result(r, sw);
}

struct OpCase {
    const char* name;
    uint8_t cc_mask;
    std::function<void(Rng&, Input&)> gen;
    std::function<Outcome(const Input&)> lib;
    Outcome (*hw)(const Input&);
};

bool same(const Outcome& x, const Outcome& y, uint8_t cc_mask)
{
    return x.r == y.r && x.r2 == y.r2 && x.bits == y.bits && x.bits_hi == y.bits_hi &&
           x.flags == y.flags && (x.cc & cc_mask) == (y.cc & cc_mask);
}

void gen_binary(Rng& g, Input& in)
{
    in.a = random_f80(g);
    in.b = partner(g, in.a);
}

void gen_unary(Rng& g, Input& in) { in.a = random_f80(g); }

void gen_sqrt(Rng& g, Input& in)
{
    in.a = random_f80(g);
    if (g.below(4) != 0) in.a.se &= 0x7FFF;  // mostly nonnegative
}

// Sums and products of tiny values: denormal results, underflow at every precision.
void gen_tiny_pair(Rng& g, Input& in)
{
    gen_binary(g, in);
    if (g.below(4) == 0) {
        uint16_t sa = in.a.se & 0x8000, sb = in.b.se & 0x8000;
        in.a = mk(static_cast<uint16_t>(sa | g.below(70)), random_sig(g));
        in.b = g.coin() ? partner(g, in.a) : mk(static_cast<uint16_t>(sb | g.below(70)), random_sig(g));
        if (in.a.exp() == 0 && g.coin()) in.a.sig >>= 1 + g.below(8);  // a denormal
    }
}

void gen_prem(Rng& g, Input& in)
{
    in.b = random_f80(g);
    in.a = g.below(5) == 0 ? random_f80(g) : partner(g, in.b);
    if (g.coin() && in.b.exp() > 0 && in.b.exp() < 0x7F00) {
        in.a = mk(static_cast<uint16_t>((in.a.se & 0x8000) | (in.b.exp() + g.below(200))), random_sig(g));
    }
}

void gen_scale(Rng& g, Input& in)
{
    in.a = random_f80(g);
    switch (g.below(4)) {
    case 0: in.b = random_f80(g); break;
    case 1: in.b = random_int_like(g, 16); break;
    default: {
        Env e;
        int64_t n = static_cast<int64_t>(g.below(70000)) - 35000;
        in.b = from_i64(n);
        if (g.coin()) in.b = add(in.b, mk(0x3FFE, random_sig(g)), e);  // + a fraction
        break;
    }
    }
}

F80 lib_binary(F80 (*op)(F80, F80, Env&), const Input& in, Outcome& o)
{
    Env e = Env::from_fcw(in.cw);
    F80 r = op(in.a, in.b, e);
    o = lib_result(r, e);
    return r;
}

Outcome cmp_outcome(Rel rel, const Env& e)
{
    Outcome o = lib_result(F80{}, e);
    switch (rel) {
    case Rel::kGreater: break;
    case Rel::kLess: o.cc |= 1; break;
    case Rel::kEqual: o.cc |= 8; break;
    case Rel::kUnordered: o.cc |= 1 | 4 | 8; break;
    }
    return o;
}

Outcome lib_to_int(const Input& in, unsigned bits, bool trunc)
{
    Env e = Env::from_fcw(in.cw);
    int64_t v = to_int(in.a, bits, trunc, e);
    Outcome o = lib_result(F80{}, e);
    o.bits = static_cast<uint64_t>(v);
    return o;
}

std::vector<OpCase> op_cases()
{
    std::vector<OpCase> ops;
    const uint8_t c1 = 2;
    auto bin = [&](const char* name, F80 (*op)(F80, F80, Env&), Outcome (*hw)(const Input&)) {
        ops.push_back({name, c1, gen_tiny_pair, [op](const Input& in) {
                           Outcome o;
                           lib_binary(op, in, o);
                           return o;
                       },
                       hw});
    };
    bin("fadd", add, hw_add);
    bin("fsub", sub, hw_sub);
    bin("fmul", mul, hw_mul);
    bin("fdiv", div, hw_div);
    ops.push_back({"fsqrt", c1, gen_sqrt, [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       return lib_result(sqrt(in.a, e), e);
                   },
                   hw_sqrt});
    for (bool ieee : {false, true}) {
        ops.push_back({ieee ? "fprem1" : "fprem", 0xF, gen_prem, [ieee](const Input& in) {
                           Env e = Env::from_fcw(in.cw);
                           uint8_t q = 0;
                           bool c2 = false;
                           Outcome o = lib_result(prem(in.a, in.b, ieee, e, q, c2), e);
                           // Q2 -> C0, Q1 -> C3, Q0 -> C1.
                           o.cc = static_cast<uint8_t>((q >> 2 & 1) | (q & 1) << 1 | (c2 ? 4 : 0) |
                                                       (q >> 1 & 1) << 3);
                           return o;
                       },
                       ieee ? hw_prem1 : hw_prem});
    }
    ops.push_back({"frndint", c1, [](Rng& g, Input& in) { in.a = random_int_like(g, 66); },
                   [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       return lib_result(round_to_int(in.a, e), e);
                   },
                   hw_rndint});
    ops.push_back({"fscale", c1, gen_scale, [](const Input& in) {
                       Outcome o;
                       lib_binary(scale, in, o);
                       return o;
                   },
                   hw_scale});
    ops.push_back({"fxtract", c1, gen_unary, [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       F80 ex, sig;
                       xtract(in.a, e, ex, sig);
                       Outcome o = lib_result(ex, e);
                       o.r2 = sig;
                       return o;
                   },
                   hw_xtract});
    for (bool quiet : {false, true}) {
        ops.push_back({quiet ? "fucom" : "fcom", 0xF, gen_binary, [quiet](const Input& in) {
                           Env e = Env::from_fcw(in.cw);
                           Rel rel = compare(in.a, in.b, quiet, e);
                           Outcome o = cmp_outcome(rel, e);
                           o.r = in.a;  // the stack is unchanged
                           return o;
                       },
                       quiet ? hw_fucom : hw_fcom});
    }
    ops.push_back({"fxam", 0xF, gen_unary, [](const Input& in) {
                       Outcome o;
                       o.r = in.a;
                       uint8_t code = fxam_code(in.a);
                       o.cc = static_cast<uint8_t>((code & 1) | (in.a.sign() ? 2 : 0) | (code & 2) << 1 |
                                                   (code & 4) << 1);
                       return o;
                   },
                   hw_fxam});
    auto gen_f32 = [](Rng& g, Input& in) {
        uint32_t v = static_cast<uint32_t>(g.next());
        switch (g.below(4)) {
        case 0: v &= 0x807FFFFF; break;             // zero / denormal
        case 1: v |= 0x7F800000; break;             // inf / NaN
        case 2: v &= 0xFF800000 | g.below(4); break;
        default: break;
        }
        in.bits = v;
    };
    ops.push_back({"fld m32", c1, gen_f32, [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       return lib_result(from_f32(static_cast<uint32_t>(in.bits), e), e);
                   },
                   hw_ld32});
    auto gen_f64 = [](Rng& g, Input& in) {
        uint64_t v = g.next();
        switch (g.below(4)) {
        case 0: v &= 0x800FFFFFFFFFFFFFull; break;
        case 1: v |= 0x7FF0000000000000ull; break;
        case 2: v &= 0xFFF0000000000000ull | g.below(4); break;
        default: break;
        }
        in.bits = v;
    };
    ops.push_back({"fld m64", c1, gen_f64, [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       return lib_result(from_f64(in.bits, e), e);
                   },
                   hw_ld64});
    ops.push_back({"fild m64", c1, [](Rng& g, Input& in) { in.bits = g.next() >> g.below(64); if (g.coin()) in.bits = 0 - in.bits; },
                   [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       return lib_result(from_i64(static_cast<int64_t>(in.bits)), e);
                   },
                   hw_fild});
    auto gen_store = [](int range) {
        return [range](Rng& g, Input& in) {
            in.a = random_f80(g);
            if (g.coin()) {
                uint16_t s = g.coin() ? 0x8000 : 0;
                int e = 0x3FFF + (g.coin() ? 1 : -1) * (range - 40 + static_cast<int>(g.below(100)));
                in.a = mk(static_cast<uint16_t>(s | e), random_sig(g));
            }
        };
    };
    ops.push_back({"fst m32", c1, gen_store(126), [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       uint32_t v = to_f32(in.a, e);
                       Outcome o = lib_result(F80{}, e);
                       o.bits = v;
                       return o;
                   },
                   hw_st32});
    ops.push_back({"fst m64", c1, gen_store(1022), [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       uint64_t v = to_f64(in.a, e);
                       Outcome o = lib_result(F80{}, e);
                       o.bits = v;
                       return o;
                   },
                   hw_st64});
    struct IntOp {
        const char* name;
        unsigned bits;
        bool trunc;
        Outcome (*hw)(const Input&);
    };
    static const IntOp int_ops[] = {
        {"fist m16", 16, false, hw_fist16},   {"fist m32", 32, false, hw_fist32},
        {"fist m64", 64, false, hw_fist64},   {"fisttp m16", 16, true, hw_fisttp16},
        {"fisttp m32", 32, true, hw_fisttp32}, {"fisttp m64", 64, true, hw_fisttp64},
    };
    for (const IntOp& op : int_ops) {
        unsigned bits = op.bits;
        bool trunc = op.trunc;
        ops.push_back({op.name, c1,
                       [bits](Rng& g, Input& in) { in.a = random_int_like(g, static_cast<int>(bits) + 2); },
                       [bits, trunc](const Input& in) { return lib_to_int(in, bits, trunc); }, op.hw});
    }
    ops.push_back({"fbld", c1, [](Rng& g, Input& in) {
                       for (int i = 0; i < 9; ++i) {
                           in.bcd[i] = static_cast<uint8_t>(g.below(10) << 4 | g.below(10));
                       }
                       int len = static_cast<int>(g.below(10));
                       for (int i = len; i < 9; ++i) in.bcd[i] = 0;
                       in.bcd[9] = g.coin() ? 0x80 : 0;
                   },
                   [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       return lib_result(from_bcd(in.bcd), e);
                   },
                   hw_fbld});
    ops.push_back({"fbstp", c1, [](Rng& g, Input& in) { in.a = random_int_like(g, 62); },
                   [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       uint8_t out[10] = {};
                       to_bcd(in.a, e, out);
                       Outcome o = lib_result(F80{}, e);
                       std::memcpy(&o.bits, out, 8);
                       std::memcpy(&o.bits_hi, out + 8, 2);
                       return o;
                   },
                   hw_fbstp});
    ops.push_back({"fld const", c1, [](Rng& g, Input& in) { in.width = g.below(7); },
                   [](const Input& in) {
                       Env e = Env::from_fcw(in.cw);
                       return lib_result(load_const(static_cast<Const>(in.width), e.rc), e);
                   },
                   hw_const});
    return ops;
}

TEST_CASE("f80: bit-exact against the host x87")
{
    uint64_t seed = env_u64("VX86_FPU_SEED", 0x5EED0F80ull);
    uint64_t cases = env_u64("VX86_FPU_CASES", 100000);
    std::printf("f80 oracle: seed 0x%llX (VX86_FPU_SEED), %llu cases per op (VX86_FPU_CASES)\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(cases));
    static const int kPcs[] = {kPrec24, 1, kPrec53, kPrec64};
    for (const OpCase& op : op_cases()) {
        Rng g{seed ^ std::hash<std::string>{}(op.name)};
        uint64_t bad = 0;
        uint64_t seen[7] = {};  // how often the x87 raised IE DE ZE OE UE PE, and set C2
        for (uint64_t i = 0; i < cases; ++i) {
            Input in;
            in.cw = make_cw(kPcs[i % 4], static_cast<int>(i / 4 % 4));
            op.gen(g, in);
            Outcome want = op.hw(in);
            Outcome got = op.lib(in);
            for (int f = 0; f < 6; ++f) seen[f] += want.flags >> f & 1;
            seen[6] += want.cc >> 2 & 1;
            if (!same(want, got, op.cc_mask)) {
                if (++bad <= 8) {
                    std::printf("  %s mismatch: %s\n    x87: %s\n    lib: %s\n", op.name, show(in).c_str(),
                                show(want).c_str(), show(got).c_str());
                }
            }
        }
        std::printf("%-12s %8llu cases %6llu mismatches  (x87 raised IE %llu DE %llu ZE %llu OE %llu "
                    "UE %llu PE %llu, C2 %llu)\n",
                    op.name, static_cast<unsigned long long>(cases), static_cast<unsigned long long>(bad),
                    static_cast<unsigned long long>(seen[0]), static_cast<unsigned long long>(seen[1]),
                    static_cast<unsigned long long>(seen[2]), static_cast<unsigned long long>(seen[3]),
                    static_cast<unsigned long long>(seen[4]), static_cast<unsigned long long>(seen[5]),
                    static_cast<unsigned long long>(seen[6]));
        CHECK_MESSAGE(bad == 0, op.name);
    }
}

#else

TEST_CASE("f80: bit-exact against the host x87")
{
    std::printf("f80 oracle: not an x86-64 host, native x87 comparison skipped\n");
}

#endif

}  // namespace

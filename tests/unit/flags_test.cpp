// Lazy flags (cpu/flags.h) against flags computed the plain way.
//
// The lazy representation derives CF/OF/AF from a packed carry vector and ZF/SF/PF from the
// sign-extended result plus delta fields. Here every flag is recomputed independently with the
// textbook formulas (wide arithmetic for CF, sign rules for OF, bit 4 of a^b^r for AF, a loop for
// parity), so a wrong shift or mask in the packing shows up as a mismatch. 8-bit ADD/ADC/SUB/SBB
// is exhaustive over all operand pairs and both carry-ins; 16 and 32 bits use edge values plus a
// seeded random sample. ADC/SBB go through set_flags_add/set_flags_sub with r = a+b+c / a-b-c,
// which is how handlers use them (the carry-vector identity holds for any carry-in).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cpu/flags.h"
#include "test_util.h"

using namespace vx86::cpu;
using vx86::test::hx;

namespace {

struct Flags {
    bool cf, of, af, zf, sf, pf;
    bool operator==(const Flags&) const = default;
};

doctest::String to_string(const Flags& f) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "CF%d OF%d AF%d ZF%d SF%d PF%d", f.cf, f.of, f.af, f.zf, f.sf,
                  f.pf);
    return buf;
}

}  // namespace

namespace doctest {
template <>
struct StringMaker<Flags> {
    static String convert(const Flags& f) { return to_string(f); }
};
}  // namespace doctest

namespace {

bool even_parity(uint32_t v) {
    int n = 0;
    for (int i = 0; i < 8; ++i) n += (v >> i) & 1;
    return (n % 2) == 0;
}

Flags lazy(const LazyFlags& lf) {
    return {lf_cf(lf), lf_of(lf), lf_af(lf), lf_zf(lf), lf_sf(lf), lf_pf(lf)};
}

template <int Bits>
Flags ref_add(uint32_t a, uint32_t b, uint32_t c) {
    const uint64_t mask = (uint64_t(1) << Bits) - 1, sign = uint64_t(1) << (Bits - 1);
    uint64_t wide = uint64_t(a) + uint64_t(b) + c;
    uint64_t r = wide & mask;
    // Signed overflow: both operands have the same sign and the result's differs.
    bool sa = a & sign, sb = b & sign, sr = r & sign;
    return {wide > mask, sa == sb && sr != sa, bool((a ^ b ^ r) & 0x10), r == 0, sr,
            even_parity(uint32_t(r))};
}

template <int Bits>
Flags ref_sub(uint32_t a, uint32_t b, uint32_t c) {
    const uint64_t mask = (uint64_t(1) << Bits) - 1, sign = uint64_t(1) << (Bits - 1);
    uint64_t r = (uint64_t(a) - uint64_t(b) - c) & mask;
    bool sa = a & sign, sb = b & sign, sr = r & sign;
    return {uint64_t(a) < uint64_t(b) + c, sa != sb && sr != sa, bool((a ^ b ^ r) & 0x10), r == 0,
            sr, even_parity(uint32_t(r))};
}

template <int Bits>
Flags lazy_add(uint32_t a, uint32_t b, uint32_t c) {
    LazyFlags lf{};
    uint32_t r = uint32_t((uint64_t(a) + b + c) & SizeTraits<Bits>::kMask);
    set_flags_add<Bits>(lf, a, b, r);
    return lazy(lf);
}

template <int Bits>
Flags lazy_sub(uint32_t a, uint32_t b, uint32_t c) {
    LazyFlags lf{};
    uint32_t r = uint32_t((uint64_t(a) - b - c) & SizeTraits<Bits>::kMask);
    set_flags_sub<Bits>(lf, a, b, r);
    return lazy(lf);
}

// Counts mismatches (and reports the first few) instead of one CHECK per pair, which would make
// the exhaustive loops very slow under doctest.
struct MismatchLog {
    const char* what;
    unsigned count = 0;
    void check(bool ok, uint32_t a, uint32_t b, uint32_t c, const Flags& got, const Flags& want) {
        if (ok) return;
        if (++count <= 8) {
            INFO(std::string(what), " a=", hx(a), " b=", hx(b), " c=", c, " got ", to_string(got),
                 " want ", to_string(want));
            CHECK(got == want);
        }
    }
};

template <int Bits>
void check_pair(uint32_t a, uint32_t b, MismatchLog& add_log, MismatchLog& sub_log) {
    for (uint32_t c = 0; c < 2; ++c) {
        Flags ga = lazy_add<Bits>(a, b, c), wa = ref_add<Bits>(a, b, c);
        add_log.check(ga == wa, a, b, c, ga, wa);
        Flags gs = lazy_sub<Bits>(a, b, c), ws = ref_sub<Bits>(a, b, c);
        sub_log.check(gs == ws, a, b, c, gs, ws);
    }
}

template <int Bits>
std::vector<uint32_t> edge_values() {
    const uint32_t mask = SizeTraits<Bits>::kMask, sign = SizeTraits<Bits>::kSign;
    return {0, 1, 2, 0xF, 0x10, 0x7F, 0x80, 0xFF, sign - 1, sign, sign + 1, mask - 1, mask,
            mask & 0x5555'5555u, mask & 0xAAAA'AAAAu, mask & 0x0FFF'FFF0u};
}

template <int Bits>
void check_sampled(unsigned seed) {
    MismatchLog add_log{"add"}, sub_log{"sub"};
    const uint32_t mask = SizeTraits<Bits>::kMask;
    auto edges = edge_values<Bits>();
    for (uint32_t a : edges)
        for (uint32_t b : edges) check_pair<Bits>(a & mask, b & mask, add_log, sub_log);
    std::mt19937 rng(seed);
    for (int i = 0; i < 200000; ++i) {
        uint32_t a = rng() & mask, b = rng() & mask;
        check_pair<Bits>(a, b, add_log, sub_log);
    }
    CHECK(add_log.count == 0);
    CHECK(sub_log.count == 0);
}

}  // namespace

TEST_CASE("lazy flags: 8-bit ADD/ADC/SUB/SBB, all operand pairs and carry-ins") {
    MismatchLog add_log{"add8"}, sub_log{"sub8"};
    for (uint32_t a = 0; a < 256; ++a)
        for (uint32_t b = 0; b < 256; ++b) check_pair<8>(a, b, add_log, sub_log);
    CHECK(add_log.count == 0);
    CHECK(sub_log.count == 0);
}

TEST_CASE("lazy flags: 16-bit ADD/ADC/SUB/SBB") { check_sampled<16>(16); }

TEST_CASE("lazy flags: 32-bit ADD/ADC/SUB/SBB") { check_sampled<32>(32); }

TEST_CASE("lazy flags: hand-picked results") {
    LazyFlags lf{};
    set_flags_add<8>(lf, 0x7F, 0x01, 0x80);  // signed overflow, half carry
    CHECK(lazy(lf) == Flags{false, true, true, false, true, false});
    set_flags_add<8>(lf, 0xFF, 0x01, 0x00);  // carry, zero
    CHECK(lazy(lf) == Flags{true, false, true, true, false, true});
    set_flags_sub<16>(lf, 0x0000, 0x0001, 0xFFFF);  // borrow
    CHECK(lazy(lf) == Flags{true, false, true, false, true, true});
    set_flags_sub<32>(lf, 0x80000000u, 1, 0x7FFFFFFFu);  // signed overflow, no borrow
    CHECK(lazy(lf) == Flags{false, true, true, false, false, true});
    // PF looks only at the low byte even for wide results.
    set_flags_logic<32>(lf, 0x0300);
    CHECK(lf_pf(lf));
    set_flags_logic<16>(lf, 0x0001);
    CHECK_FALSE(lf_pf(lf));
    set_flags_logic<8>(lf, 0x80);
    CHECK(lazy(lf) == Flags{false, false, false, false, true, false});
}

namespace {
// The six arithmetic flags in the order of bits 0..5 of a combination index.
constexpr uint32_t kSix[6] = {kCF, kPF, kAF, kZF, kSF, kOF};
uint32_t combo_flags(unsigned combo) {
    uint32_t f = 0;
    for (int i = 0; i < 6; ++i)
        if (combo & (1u << i)) f |= kSix[i];
    return f;
}
}  // namespace

TEST_CASE("lazy flags: lf_from_eflags / lf_to_eflags round-trip all 64 combinations") {
    for (unsigned combo = 0; combo < 64; ++combo) {
        uint32_t f = combo_flags(combo);
        LazyFlags lf{0xDEADBEEF, 0xFFFFFFFF};  // stale contents must not leak through
        lf_from_eflags(lf, f);
        INFO("flags ", hx(f));
        CHECK(lf_to_eflags(lf) == f);
        CHECK(lf_cf(lf) == bool(f & kCF));
        CHECK(lf_pf(lf) == bool(f & kPF));
        CHECK(lf_af(lf) == bool(f & kAF));
        CHECK(lf_zf(lf) == bool(f & kZF));
        CHECK(lf_sf(lf) == bool(f & kSF));
        CHECK(lf_of(lf) == bool(f & kOF));
        // Other EFLAGS bits given to lf_from_eflags are ignored by it.
        LazyFlags lf2{};
        lf_from_eflags(lf2, f | kIF | kDF | kTF | 2u);
        CHECK(lf_to_eflags(lf2) == f);
    }
}

TEST_CASE("lazy flags: write_eflags / read_eflags keep the non-arithmetic bits apart") {
    CpuState s{};
    for (unsigned combo = 0; combo < 64; ++combo) {
        uint32_t f = combo_flags(combo) | kIF | kDF | kIOPL;
        write_eflags(s, f);
        CHECK((s.eflags & kArithFlags) == 0);
        CHECK(read_eflags(s) == (f | 2u));  // bit 1 always reads 1
    }
}

TEST_CASE("lazy flags: lf_set_cf, lf_set_cf_of and lf_set_af change only their flags") {
    std::vector<LazyFlags> states;
    for (unsigned combo = 0; combo < 64; ++combo) {
        LazyFlags lf{};
        lf_from_eflags(lf, combo_flags(combo));
        states.push_back(lf);
    }
    std::mt19937 rng(7);
    for (int i = 0; i < 256; ++i) {  // states produced by arithmetic, not only by POPF
        LazyFlags lf{};
        uint32_t a = rng(), b = rng();
        if (i & 1) set_flags_add<32>(lf, a, b, a + b);
        else set_flags_sub<16>(lf, a & 0xFFFF, b & 0xFFFF, (a - b) & 0xFFFF);
        states.push_back(lf);
    }
    for (const LazyFlags& base : states) {
        const uint32_t before = lf_to_eflags(base);
        for (int v = 0; v < 2; ++v) {
            LazyFlags lf = base;
            lf_set_cf(lf, v);
            CHECK(lf_to_eflags(lf) == ((before & ~kCF) | (v ? kCF : 0)));
            lf = base;
            lf_set_af(lf, v);
            CHECK(lf_to_eflags(lf) == ((before & ~kAF) | (v ? kAF : 0)));
            for (int o = 0; o < 2; ++o) {
                lf = base;
                lf_set_cf_of(lf, v, o);
                CHECK(lf_to_eflags(lf) == ((before & ~(kCF | kOF)) | (v ? kCF : 0) | (o ? kOF : 0)));
            }
        }
    }
}

TEST_CASE("eval_cond: all 16 conditions for all 64 flag combinations (SDM Jcc table)") {
    for (unsigned combo = 0; combo < 64; ++combo) {
        uint32_t f = combo_flags(combo);
        bool cf = f & kCF, pf = f & kPF, zf = f & kZF, sf = f & kSF, of = f & kOF;
        const bool want[16] = {
            of,                    // 0 O
            !of,                   // 1 NO
            cf,                    // 2 B/C/NAE
            !cf,                   // 3 AE/NB/NC
            zf,                    // 4 E/Z
            !zf,                   // 5 NE/NZ
            cf || zf,              // 6 BE/NA
            !cf && !zf,            // 7 A/NBE
            sf,                    // 8 S
            !sf,                   // 9 NS
            pf,                    // A P/PE
            !pf,                   // B NP/PO
            sf != of,              // C L/NGE
            sf == of,              // D GE/NL
            zf || (sf != of),      // E LE/NG
            !zf && (sf == of),     // F G/NLE
        };
        LazyFlags lf{};
        lf_from_eflags(lf, f);
        for (unsigned cc = 0; cc < 16; ++cc) {
            INFO("flags ", hx(f), " cc ", cc);
            CHECK(eval_cond(lf, cc) == want[cc]);
        }
    }
}

TEST_CASE("eval_cond after CMP: unsigned and signed comparisons of every 8-bit pair") {
    unsigned bad = 0;
    for (int a = 0; a < 256; ++a) {
        for (int b = 0; b < 256; ++b) {
            LazyFlags lf{};
            set_flags_sub<8>(lf, a, b, (a - b) & 0xFF);
            int sa = int8_t(a), sb = int8_t(b);
            bool ok = eval_cond(lf, 0x2) == (a < b) && eval_cond(lf, 0x3) == (a >= b) &&
                      eval_cond(lf, 0x4) == (a == b) && eval_cond(lf, 0x5) == (a != b) &&
                      eval_cond(lf, 0x6) == (a <= b) && eval_cond(lf, 0x7) == (a > b) &&
                      eval_cond(lf, 0xC) == (sa < sb) && eval_cond(lf, 0xD) == (sa >= sb) &&
                      eval_cond(lf, 0xE) == (sa <= sb) && eval_cond(lf, 0xF) == (sa > sb);
            if (!ok && ++bad <= 8) {
                INFO("cmp ", a, ", ", b);
                CHECK(ok);
            }
        }
    }
    CHECK(bad == 0);
}

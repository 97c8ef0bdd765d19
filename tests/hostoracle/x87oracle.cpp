// vx86-x87oracle: the host's x87 and MMX as an oracle for vx86's.
//
// Design decisions:
// - Reuses the host oracle's runners (runners.h): a program is nasm text built once as an ELF32
//   process and once as a flat protected-mode binary for vx86, and each runner case leaves a
//   record of kRecordBytes (96) at EBP-32 with its completion marker at EBP-4. One x87 case
//   takes two runner records (192 bytes, two markers): the second is a stub that only advances
//   EBP and sets its marker, so a vx86 exception in a case costs that case alone.
// - A case's area holds (EBP-relative): FSW -32, FCW -30, the full tag word (from FNSAVE) -28,
//   EFLAGS -24, a 16-byte store window -20..-5, the marker -4, the eight registers
//   ST(0)..ST(7) as FNSAVE lays them out at 0..79 (so MMX registers are seen through their
//   aliases, exponent word included), and a second 16-byte store window at 80..95; the second
//   record's marker sits at 124.
// - Every case starts from a known register file: FNINIT, eight FLD m80 of random values, FNINIT
//   (tags empty, contents defined), so leftovers from the previous case (or a vx86 restart from
//   reset) never leak into a comparison. Then FLDCW with a random precision and rounding control,
//   a few loads, and 1-5 units.
// - Unmasked exceptions: a case with unmasked exceptions has exactly one unit, and everything
//   after it is no-wait (FNSTSW, FNSTCW, FNSAVE), so the host never takes SIGFPE; the pending
//   state itself (ES, B) is compared through FSW. Half of them run FXAM first (it raises
//   nothing), so the unit meets nonzero condition codes.
// - Transcendentals (FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1) only end a case and
//   only on operands in the ranges both vendors reduce identically; registers are compared within
//   one unit in the last place and C1 (the rounding direction) is not compared. Cases within
//   1 ulp but not bit-identical are counted and printed, not failed.
// - The host is whatever x86 runs the test (AMD EPYC in CI): only architecturally defined
//   results are generated (no FOP/FIP/FDP, no SSE3, no undocumented aliases).
// - Seeded (std::mt19937) and reproducible; exit codes as vx86-hostoracle's (0, 1, 2, 77).
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/hostoracle/generator.h"
#include "tests/hostoracle/runners.h"

namespace ho = vx86::hostoracle;

namespace {

// Record offsets from EBP.
constexpr int kRecFsw = -32, kRecFcw = -30, kRecFtw = -28, kRecFlags = -24, kRecMemA = -20;
constexpr int kRecRegs = 0, kRecMemB = 80;
constexpr uint32_t kArithFlags = ho::kArith;
constexpr uint16_t kFcwDm = 1u << 1;  // FCW.DM

using ho::fmt;

struct Case {
    unsigned index = 0;
    std::vector<std::string> classes;
    std::vector<std::string> lines;
    std::vector<std::pair<std::string, std::vector<uint8_t>>> consts;
    uint16_t fcw = 0x37F;
    uint32_t init_flags = 2;
    bool trans = false;  // registers compared within 1 ulp, C1 ignored
    bool c1_undefined = false;  // FFREE (C1 undefined) or FCOMI (vendors differ) in the case
};

class Gen {
public:
    explicit Gen(uint32_t seed) : rng_(seed) {}
    Case make(unsigned index);

private:
    uint32_t rnd(uint32_t n) { return uint32_t(rng_() % n); }
    bool chance(unsigned pct) { return rnd(100) < pct; }
    uint64_t r64() { return (uint64_t(rng_()) << 32) | rng_(); }
    std::string konst(Case& c, std::vector<uint8_t> bytes);
    std::vector<uint8_t> f80_value();
    std::vector<uint8_t> f64_value();
    std::vector<uint8_t> f32_value();
    std::vector<uint8_t> int_value(unsigned bytes);
    std::vector<uint8_t> bcd_value();
    std::vector<uint8_t> trans_operand(const std::string& op, bool second);
    void unit(Case& c);
    void mmx_unit(Case& c);
    void trans_unit(Case& c);
    std::mt19937 rng_;
};

std::string Gen::konst(Case& c, std::vector<uint8_t> bytes) {
    std::string name = fmt("k%u_%zu", c.index, c.consts.size());
    c.consts.emplace_back(name, std::move(bytes));
    return name;
}

std::vector<uint8_t> le(uint64_t v, unsigned n) {
    std::vector<uint8_t> b(n);
    for (unsigned k = 0; k < n; ++k) b[k] = uint8_t(v >> (8 * k));
    return b;
}
std::vector<uint8_t> f80(uint16_t se, uint64_t sig) {
    std::vector<uint8_t> b = le(sig, 8);
    b.push_back(uint8_t(se));
    b.push_back(uint8_t(se >> 8));
    return b;
}

std::vector<uint8_t> Gen::f80_value() {
    uint16_t s = chance(50) ? 0x8000 : 0;
    uint64_t sig = r64() | (1ull << 63);
    switch (rnd(20)) {
        case 0: return f80(s, 0);                                        // zero
        case 1: return f80(s | 0x3FFF, 1ull << 63);                      // one
        case 2: return f80(s | 0x7FFF, 1ull << 63);                      // infinity
        case 3: return f80(s | 0x7FFF, (3ull << 62) | (r64() >> 3));     // QNaN
        case 4: return f80(s | 0x7FFF, (1ull << 63) | (r64() >> 3) | 1);  // SNaN
        case 5: return f80(0xFFFF, 3ull << 62);                          // indefinite
        case 6: return f80(s, r64() >> (1 + rnd(63)));                   // denormal
        case 7: return f80(s, (1ull << 63) | (r64() >> 2));              // pseudo-denormal
        case 8: return f80(s | uint16_t(1 + rnd(0x7FFE)), r64() >> 1);   // unnormal
        case 9: return f80(s | 0x7FFE, ~0ull);                           // largest
        case 10: return f80(s | 1, 1ull << 63);                          // smallest normal
        case 11: return f80(s | uint16_t(0x3FFF + rnd(64)), sig & ~((1ull << (63 - rnd(64))) - 1));
        case 12: return f80(s | uint16_t(rnd(2) ? 1 + rnd(100) : 0x7FFE - rnd(100)), sig);
        default: return f80(s | uint16_t(0x3FFF - 70 + rnd(140)), sig);
    }
}
std::vector<uint8_t> Gen::f64_value() {
    uint64_t s = chance(50) ? 1ull << 63 : 0;
    switch (rnd(12)) {
        case 0: return le(s, 8);
        case 1: return le(s | 0x7FF0000000000000ull, 8);
        case 2: return le(s | 0x7FF8000000000000ull | (r64() >> 14), 8);
        case 3: return le(s | 0x7FF0000000000000ull | (r64() >> 14) | 1, 8);  // SNaN
        case 4: return le(s | (r64() >> 12), 8);                               // denormal
        default: return le(s | (uint64_t(1023 - 60 + rnd(120)) << 52) | (r64() >> 12), 8);
    }
}
std::vector<uint8_t> Gen::f32_value() {
    uint32_t s = chance(50) ? 1u << 31 : 0;
    switch (rnd(12)) {
        case 0: return le(s, 4);
        case 1: return le(s | 0x7F800000u, 4);
        case 2: return le(s | 0x7FC00000u | (rng_() >> 10), 4);
        case 3: return le(s | 0x7F800000u | (rng_() >> 11) | 1, 4);
        case 4: return le(s | (rng_() >> 9), 4);
        default: return le(s | (uint32_t(127 - 30 + rnd(60)) << 23) | (rng_() >> 9), 4);
    }
}
std::vector<uint8_t> Gen::int_value(unsigned bytes) {
    uint64_t v = r64();
    switch (rnd(5)) {
        case 0: v = 0; break;
        case 1: v = uint64_t(1) << (8 * bytes - 1); break;  // most negative
        case 2: v = rnd(200) - 100; break;
        default: v >>= rnd(8 * bytes); break;
    }
    return le(v, bytes);
}
std::vector<uint8_t> Gen::bcd_value() {
    std::vector<uint8_t> b(10, 0);
    unsigned digits = 1 + rnd(18);
    for (unsigned k = 0; k < digits; ++k) {
        unsigned d = rnd(10);
        b[k / 2] = uint8_t(b[k / 2] | (k & 1 ? d << 4 : d));
    }
    b[9] = chance(50) ? 0x80 : 0;
    return b;
}

const char* const kArith[] = {"fadd", "fsub", "fsubr", "fmul", "fdiv", "fdivr"};
const char* const kConsts[] = {"fld1", "fldl2t", "fldl2e", "fldpi", "fldlg2", "fldln2", "fldz"};
const char* const kUnary[] = {"fchs", "fabs", "fsqrt", "frndint", "fscale", "fxtract", "fprem",
                              "fprem1", "fxch", "fincstp", "fdecstp", "ftst", "fxam", "fnop"};
const char* const kCmov[] = {"fcmovb", "fcmove", "fcmovbe", "fcmovu",
                             "fcmovnb", "fcmovne", "fcmovnbe", "fcmovnu"};

// Stack operand index: mostly among the loaded ones, sometimes anywhere (stack faults).
void Gen::unit(Case& c) {
    auto sti = [&]() { return chance(85) ? rnd(3) : rnd(8); };
    std::string m;
    switch (rnd(12)) {
        case 0: case 1: {  // arithmetic on registers
            const char* op = kArith[rnd(6)];
            unsigned i = sti();
            switch (rnd(3)) {
                case 0: c.lines.push_back(fmt("%s st0, st%u", op, i)); c.classes.push_back(fmt("%s st0,st", op)); break;
                case 1: c.lines.push_back(fmt("%s st%u, st0", op, i)); c.classes.push_back(fmt("%s st,st0", op)); break;
                default: c.lines.push_back(fmt("%sp st%u, st0", op, i)); c.classes.push_back(fmt("%sp", op)); break;
            }
            break;
        }
        case 2: {  // arithmetic with memory
            const char* op = kArith[rnd(6)];
            switch (rnd(4)) {
                case 0: m = konst(c, f32_value()); c.lines.push_back(fmt("%s dword [%s]", op, m.c_str())); c.classes.push_back(fmt("%s m32", op)); break;
                case 1: m = konst(c, f64_value()); c.lines.push_back(fmt("%s qword [%s]", op, m.c_str())); c.classes.push_back(fmt("%s m64", op)); break;
                case 2: m = konst(c, int_value(2)); c.lines.push_back(fmt("fi%s word [%s]", op + 1, m.c_str())); c.classes.push_back(fmt("fi%s m16", op + 1)); break;
                default: m = konst(c, int_value(4)); c.lines.push_back(fmt("fi%s dword [%s]", op + 1, m.c_str())); c.classes.push_back(fmt("fi%s m32", op + 1)); break;
            }
            break;
        }
        case 3: {  // compares
            static const char* const kReg[] = {"fcom", "fcomp", "fucom", "fucomp"};
            static const char* const kI[] = {"fcomi", "fcomip", "fucomi", "fucomip"};
            switch (rnd(6)) {
                case 0: { const char* o = kReg[rnd(4)]; c.lines.push_back(fmt("%s st%u", o, sti())); c.classes.push_back(o); break; }
                case 1: { const char* o = kI[rnd(4)]; c.lines.push_back(fmt("%s st0, st%u", o, sti())); c.classes.push_back(o); break; }
                case 2: c.lines.push_back(chance(50) ? "fcompp" : "fucompp"); c.classes.push_back(c.lines.back()); break;
                case 3: m = konst(c, chance(50) ? f32_value() : f64_value());
                        c.lines.push_back(fmt("%s %s [%s]", chance(50) ? "fcom" : "fcomp", c.consts.back().second.size() == 4 ? "dword" : "qword", m.c_str()));
                        c.classes.push_back("fcom m"); break;
                case 4: m = konst(c, int_value(chance(50) ? 2 : 4));
                        c.lines.push_back(fmt("%s %s [%s]", chance(50) ? "ficom" : "ficomp", c.consts.back().second.size() == 2 ? "word" : "dword", m.c_str()));
                        c.classes.push_back("ficom"); break;
                default: c.lines.push_back(chance(50) ? "ftst" : "fxam"); c.classes.push_back(c.lines.back()); break;
            }
            break;
        }
        case 4: {  // loads
            switch (rnd(7)) {
                case 0: m = konst(c, f32_value()); c.lines.push_back(fmt("fld dword [%s]", m.c_str())); c.classes.push_back("fld m32"); break;
                case 1: m = konst(c, f64_value()); c.lines.push_back(fmt("fld qword [%s]", m.c_str())); c.classes.push_back("fld m64"); break;
                case 2: m = konst(c, int_value(2)); c.lines.push_back(fmt("fild word [%s]", m.c_str())); c.classes.push_back("fild m16"); break;
                case 3: m = konst(c, int_value(8)); c.lines.push_back(fmt("fild qword [%s]", m.c_str())); c.classes.push_back("fild m64"); break;
                case 4: m = konst(c, bcd_value()); c.lines.push_back(fmt("fbld tword [%s]", m.c_str())); c.classes.push_back("fbld"); break;
                case 5: c.lines.push_back(fmt("fld st%u", sti())); c.classes.push_back("fld st"); break;
                default: c.lines.push_back(kConsts[rnd(7)]); c.classes.push_back("fldconst"); break;
            }
            break;
        }
        case 5: case 6: {  // stores (into the EBP-20 window)
            switch (rnd(10)) {
                case 0: c.lines.push_back(fmt("%s dword [ebp%d]", chance(50) ? "fst" : "fstp", kRecMemA)); c.classes.push_back("fst m32"); break;
                case 1: c.lines.push_back(fmt("%s qword [ebp%d]", chance(50) ? "fst" : "fstp", kRecMemA)); c.classes.push_back("fst m64"); break;
                case 2: c.lines.push_back(fmt("fstp tword [ebp%d]", kRecMemA)); c.classes.push_back("fstp m80"); break;
                case 3: c.lines.push_back(fmt("%s word [ebp%d]", chance(50) ? "fist" : "fistp", kRecMemA)); c.classes.push_back("fist m16"); break;
                case 4: c.lines.push_back(fmt("%s dword [ebp%d]", chance(50) ? "fist" : "fistp", kRecMemA)); c.classes.push_back("fist m32"); break;
                case 5: c.lines.push_back(fmt("fistp qword [ebp%d]", kRecMemA)); c.classes.push_back("fistp m64"); break;
                case 6: c.lines.push_back(fmt("fbstp tword [ebp%d]", kRecMemA)); c.classes.push_back("fbstp"); break;
                case 7: c.lines.push_back(fmt("%s st%u", chance(50) ? "fst" : "fstp", sti())); c.classes.push_back("fst st"); break;
                case 8: c.lines.push_back(fmt("fnstsw word [ebp%d]", kRecMemA + 10)); c.classes.push_back("fnstsw m16"); break;
                default: c.lines.push_back(fmt("ffree st%u", sti())); c.classes.push_back("ffree"); break;
            }
            break;
        }
        case 7: case 8: {
            const char* op = kUnary[rnd(14)];
            if (!std::strcmp(op, "fxch")) c.lines.push_back(fmt("fxch st%u", sti()));
            else c.lines.push_back(op);
            c.classes.push_back(op);
            break;
        }
        case 9: {
            unsigned k = rnd(8);
            c.lines.push_back(fmt("%s st0, st%u", kCmov[k], sti()));
            c.classes.push_back(kCmov[k]);
            break;
        }
        default: mmx_unit(c); break;
    }
}

void Gen::mmx_unit(Case& c) {
    static const char* const kOps[] = {
        "paddb", "paddw", "paddd", "paddsb", "paddsw", "paddusb", "paddusw", "psubb", "psubw",
        "psubd", "psubsb", "psubsw", "psubusb", "psubusw", "pmullw", "pmulhw", "pmaddwd",
        "pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd", "packsswb",
        "packssdw", "packuswb", "punpckhbw", "punpckhwd", "punpckhdq", "pand", "pandn", "por",
        "pxor", "psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad"};
    static const char* const kLow[] = {"punpcklbw", "punpcklwd", "punpckldq"};
    static const char* const kImm[] = {"psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq",
                                       "psraw", "psrad"};
    unsigned a = rnd(8), b = rnd(8);
    std::string m;
    switch (rnd(8)) {
        case 0: m = konst(c, le(r64(), 8)); c.lines.push_back(fmt("movq mm%u, [%s]", a, m.c_str())); c.classes.push_back("movq mm,m"); break;
        case 1: m = konst(c, le(rng_(), 4)); c.lines.push_back(fmt("movd mm%u, [%s]", a, m.c_str())); c.classes.push_back("movd mm,m"); break;
        case 2: c.lines.push_back(fmt("movq [ebp+%d], mm%u", kRecMemB + 8 * int(rnd(2)), a)); c.classes.push_back("movq m,mm"); break;
        case 3: c.lines.push_back("emms"); c.classes.push_back("emms"); break;
        case 4: { const char* o = kImm[rnd(8)]; c.lines.push_back(fmt("%s mm%u, %u", o, a, rnd(5) ? rnd(16) : rnd(256))); c.classes.push_back(fmt("%s imm", o)); break; }
        case 5: { const char* o = kLow[rnd(3)];
                  if (chance(50)) { m = konst(c, le(rng_(), 4)); c.lines.push_back(fmt("%s mm%u, [%s]", o, a, m.c_str())); }
                  else c.lines.push_back(fmt("%s mm%u, mm%u", o, a, b));
                  c.classes.push_back(o); break; }
        default: { const char* o = kOps[rnd(sizeof kOps / sizeof *kOps)];
                   if (chance(30)) {
                       uint64_t v = r64();
                       if (o[1] == 's' && (o[2] == 'l' || o[2] == 'r') && chance(70)) v = rnd(70);  // shift counts
                       m = konst(c, le(v, 8));
                       c.lines.push_back(fmt("%s mm%u, [%s]", o, a, m.c_str()));
                   } else {
                       c.lines.push_back(fmt("%s mm%u, mm%u", o, a, b));
                   }
                   c.classes.push_back(o); break; }
    }
}

std::vector<uint8_t> Gen::trans_operand(const std::string& op, bool second) {
    // A double in a range both vendors agree on, loaded with FLD m64.
    std::uniform_real_distribution<double> d(-1.0, 1.0);
    double v = d(rng_);
    if (op == "fsin" || op == "fcos" || op == "fsincos" || op == "fptan") v *= 3.14159265358979 * (chance(50) ? 0.25 : 4.0);
    else if (op == "f2xm1") v *= 1.0;
    else if (op == "fyl2x") v = second ? v * 8 : std::ldexp(std::abs(v) + 0.01, int(rnd(40)) - 20);
    else if (op == "fyl2xp1") v = second ? v * 8 : v * 0.29;
    else if (op == "fpatan") v = std::ldexp(v, int(rnd(20)) - 10);
    if (chance(8)) v = chance(50) ? 0.0 : -0.0;
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    return le(bits, 8);
}

void Gen::trans_unit(Case& c) {
    static const char* const kOps[] = {"fsin", "fcos", "fsincos", "fptan", "fpatan", "f2xm1",
                                       "fyl2x", "fyl2xp1"};
    std::string op = kOps[rnd(8)];
    bool binary = op == "fpatan" || op == "fyl2x" || op == "fyl2xp1";
    if (binary) {
        std::string y = konst(c, trans_operand(op, true));
        c.lines.push_back(fmt("fld qword [%s]", y.c_str()));
    }
    std::string x = konst(c, trans_operand(op, false));
    c.lines.push_back(fmt("fld qword [%s]", x.c_str()));
    c.lines.push_back(op);
    c.classes.push_back(op);
    c.trans = true;
}

Case Gen::make(unsigned index) {
    Case c;
    c.index = index;
    static const uint8_t kPc[] = {0, 2, 3, 3, 3};
    unsigned pc = kPc[rnd(5)], rc = rnd(4);
    bool unmasked = chance(20);
    uint16_t masks = unmasked ? uint16_t(rng_() & 0x3F) : 0x3F;
    c.fcw = uint16_t(0x40 | masks | pc << 8 | rc << 10);
    c.init_flags = 0x2 | (rng_() & (kArithFlags));
    c.lines.push_back("fninit");
    for (unsigned k = 0; k < 8; ++k) c.lines.push_back(fmt("fld tword [%s]", konst(c, f80_value()).c_str()));
    c.lines.push_back("fninit");
    c.lines.push_back(fmt("fldcw [%s]", konst(c, le(c.fcw, 2)).c_str()));
    if (chance(12)) {
        trans_unit(c);
        return c;
    }
    unsigned loads = rnd(5);
    for (unsigned k = 0; k < loads; ++k) c.lines.push_back(fmt("fld tword [%s]", konst(c, f80_value()).c_str()));
    unsigned units = unmasked ? 1 : 1 + rnd(5);
    // FXAM raises nothing, so an unmasked case may start with it: the unit then meets
    // nonzero condition codes (what an instruction stopped by an exception keeps or clears).
    if (unmasked && chance(50)) {
        c.lines.push_back("fxam");
        c.classes.push_back("fxam");
    }
    for (unsigned k = 0; k < units; ++k) unit(c);
    // Unmasked DE on FLD m32/m64: the SDM keeps the stack unchanged, AMD hosts load anyway.
    if (unmasked && (c.classes.back() == "fld m32" || c.classes.back() == "fld m64")) {
        c.fcw |= kFcwDm;
        c.consts[8].second = le(c.fcw, 2);
    }
    for (const auto& cl : c.classes)
        if (cl == "ffree" || cl.compare(0, 5, "fcomi") == 0 || cl.compare(0, 6, "fucomi") == 0)
            c.c1_undefined = true;
    return c;
}

std::string emit(const std::vector<Case>& cases, ho::Target t) {
    std::string o;
    const unsigned n = 2 * unsigned(cases.size());  // runner records
    auto line = [&](const std::string& s) { o += "    " + s + "\n"; };
    if (t == ho::Target::kNative) {
        o += fmt("bits 32\ncpu P3\nsection .bss\nalignb 16\nrecs: resb %u\nsection .text\nglobal _start\n_start:\n",
                 n * ho::kRecordBytes);
        line(fmt("mov ebp, recs+%d", int(ho::kHeaderBytes) - int(ho::kRecordBytes)));
    } else {
        o += fmt("bits 32\ncpu P3\norg 0x%X\n", ho::kPmCodeBase);
        line(fmt("mov ebp, 0x%X", ho::kPmRecordsBase + ho::kHeaderBytes - ho::kRecordBytes));
    }
    for (const Case& c : cases) {
        o += fmt("case_%u:\n", 2 * c.index);
        line(fmt("lea ebp, [ebp+%u]", ho::kRecordBytes));
        line(fmt("push dword 0x%X", c.init_flags));
        line("popfd");
        for (const auto& l : c.lines) line(l);
        // Capture with no-wait instructions only.
        line("pushfd");
        line(fmt("pop dword [ebp%d]", kRecFlags));
        line(fmt("fnstsw [ebp%d]", kRecFsw));
        line(fmt("fnstcw [ebp%d]", kRecFcw));
        line("sub esp, 108");
        line("fnsave [esp]");
        line("mov ax, [esp+8]");
        line(fmt("mov [ebp%d], ax", kRecFtw));
        for (unsigned k = 0; k < 20; ++k) {
            line(fmt("mov eax, [esp+%u]", 28 + 4 * k));
            line(fmt("mov [ebp+%d], eax", kRecRegs + int(4 * k)));
        }
        line("add esp, 108");
        line(fmt("mov dword [ebp-4], 0x%X", ho::kMarkerBase + 2 * c.index));
        o += fmt("case_%u:\n", 2 * c.index + 1);
        line(fmt("lea ebp, [ebp+%u]", ho::kRecordBytes));
        line(fmt("mov dword [ebp-4], 0x%X", ho::kMarkerBase + 2 * c.index + 1));
    }
    o += ho::emit_program_end(t, n);
    for (const Case& c : cases)
        for (const auto& [name, bytes] : c.consts) {
            o += name + ": db ";
            for (size_t k = 0; k < bytes.size(); ++k) o += fmt(k ? ",%u" : "%u", bytes[k]);
            o += "\n";
        }
    if (t == ho::Target::kVx86) o += ho::emit_case_table(n);
    return o;
}

// ---- comparison ----

const uint8_t* rec(const std::vector<uint8_t>& r, unsigned k) {
    return r.data() + 2 * k * ho::kRecordBytes + ho::kHeaderBytes;
}
uint16_t u16(const uint8_t* p, int off) { uint16_t v; std::memcpy(&v, p + off, 2); return v; }
uint32_t u32(const uint8_t* p, int off) { uint32_t v; std::memcpy(&v, p + off, 4); return v; }

// Distance in units in the last place between two register images (huge when incomparable).
uint64_t ulps(const uint8_t* a, const uint8_t* b) {
    uint64_t sa, sb;
    std::memcpy(&sa, a, 8);
    std::memcpy(&sb, b, 8);
    uint16_t ea = u16(a, 8), eb = u16(b, 8);
    if (ea == eb && sa == sb) return 0;
    if ((ea ^ eb) & 0x8000) return ~0ull;
    // Same sign: adjacent values within a binade differ by one in the significand; across a
    // binade boundary the step goes from FFFF...F to the next exponent's 8000...0.
    unsigned xa = ea & 0x7FFF, xb = eb & 0x7FFF;
    if (xa == xb) return sa > sb ? sa - sb : sb - sa;
    if (xa + 1 == xb || xb + 1 == xa) {
        uint64_t lo = xa < xb ? sa : sb, hi = xa < xb ? sb : sa;
        uint64_t d1 = ~lo, d2 = hi - (1ull << 63);
        return d1 > 1000 || d2 > 1000 ? ~0ull : d1 + d2 + 1;
    }
    return ~0ull;
}

std::string hex(const uint8_t* p, unsigned n) {
    std::string s;
    for (unsigned i = n; i-- > 0;) s += fmt("%02X", p[i]);
    return s;
}

// Returns differences; sets `near` when the case differs only within 1 ulp (transcendentals).
std::vector<std::string> compare(const Case& c, const uint8_t* nat, const uint8_t* vx, bool& near) {
    std::vector<std::string> d;
    near = false;
    uint16_t mask = c.trans || c.c1_undefined ? 0xFDFF : 0xFFFF;  // C1: rounding direction
    if ((u16(nat, kRecFsw) ^ u16(vx, kRecFsw)) & mask)
        d.push_back(fmt("fsw: native %04X vx86 %04X", u16(nat, kRecFsw), u16(vx, kRecFsw)));
    if (u16(nat, kRecFcw) != u16(vx, kRecFcw))
        d.push_back(fmt("fcw: native %04X vx86 %04X", u16(nat, kRecFcw), u16(vx, kRecFcw)));
    if (u16(nat, kRecFtw) != u16(vx, kRecFtw))
        d.push_back(fmt("ftw: native %04X vx86 %04X", u16(nat, kRecFtw), u16(vx, kRecFtw)));
    if ((u32(nat, kRecFlags) ^ u32(vx, kRecFlags)) & kArithFlags)
        d.push_back(fmt("eflags: native %08X vx86 %08X", u32(nat, kRecFlags) & kArithFlags, u32(vx, kRecFlags) & kArithFlags));
    // The window at -20, with C1 of an FNSTSW image (at -10) masked like FSW's.
    uint8_t wn[16], wv[16];
    std::memcpy(wn, nat + kRecMemA, 16);
    std::memcpy(wv, vx + kRecMemA, 16);
    if (mask != 0xFFFF) wn[11] &= 0xFD, wv[11] &= 0xFD;
    if (std::memcmp(wn, wv, 16))
        d.push_back("mem[ebp-20]: native " + hex(nat + kRecMemA, 16) + " vx86 " + hex(vx + kRecMemA, 16));
    if (std::memcmp(nat + kRecMemB, vx + kRecMemB, 16))
        d.push_back("mem[ebp+80]: native " + hex(nat + kRecMemB, 16) + " vx86 " + hex(vx + kRecMemB, 16));
    for (unsigned r = 0; r < 8; ++r) {
        const uint8_t* a = nat + kRecRegs + 10 * r;
        const uint8_t* b = vx + kRecRegs + 10 * r;
        if (!std::memcmp(a, b, 10)) continue;
        if (c.trans && ulps(a, b) <= 1) {
            near = true;
            continue;
        }
        d.push_back(fmt("st%u: native ", r) + hex(a, 10) + " vx86 " + hex(b, 10));
    }
    return d;
}

struct Options {
    uint32_t seed = 1;
    unsigned cases = 4000;
    unsigned per_program = 500;
    unsigned show = 10;
    bool verbose = false;
    ho::Tools tools;
};

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "--verbose") o.verbose = true;
        else if (v && a == "--seed") o.seed = uint32_t(std::strtoul(argv[++i], nullptr, 0));
        else if (v && a == "--cases") o.cases = unsigned(std::strtoul(argv[++i], nullptr, 0));
        else if (v && a == "--per-program") o.per_program = unsigned(std::strtoul(argv[++i], nullptr, 0));
        else if (v && a == "--show") o.show = unsigned(std::strtoul(argv[++i], nullptr, 0));
        else if (v && a == "--nasm") o.tools.nasm = argv[++i];
        else if (v && a == "--ld") o.tools.ld = argv[++i];
        else if (v && a == "--workdir") o.tools.workdir = argv[++i];
        else if (v && a == "--engine") o.tools.jit = std::string(argv[++i]) == "jit";
        else {
            std::fprintf(stderr, "usage: vx86-x87oracle --nasm PATH --workdir DIR [--seed N] [--cases N]\n"
                                 "       [--per-program N] [--ld PATH] [--show N] [--engine interp|jit] [--verbose]\n");
            return 2;
        }
    }
    if (o.tools.nasm.empty() || o.tools.workdir.empty() || o.per_program == 0) return 2;
    if (o.per_program > 2000) o.per_program = 2000;
    std::error_code ec;
    std::filesystem::create_directories(o.tools.workdir, ec);
    std::string why = ho::probe_host(o.tools);
    if (!why.empty()) {
        std::printf("SKIP: host cannot run 32-bit x86 programs (%s)\n", why.c_str());
        return 77;
    }
    std::printf("vx86-x87oracle: seed %u, %u cases in programs of %u\n", o.seed, o.cases, o.per_program);
    Gen gen(o.seed);
    unsigned passed = 0, failed = 0, near = 0, trans = 0, shown = 0, index = 0;
    std::map<std::string, std::pair<unsigned, unsigned>> by_class;  // cases, failed
    for (unsigned p = 0; index < o.cases; ++p) {
        unsigned n = std::min(o.per_program, o.cases - index);
        std::vector<Case> cases;
        for (unsigned k = 0; k < n; ++k) cases.push_back(gen.make(k));
        index += n;
        std::string stem = o.tools.workdir + "/x87prog" + std::to_string(p);
        ho::RunResult nat = ho::run_native(o.tools, emit(cases, ho::Target::kNative), stem, 2 * n);
        if (!nat.ok) {
            std::printf("ERROR: program %u native run failed: %s\n", p, nat.error.c_str());
            return 2;
        }
        std::vector<uint8_t> zero(size_t(2 * n) * ho::kRecordBytes, 0);
        ho::RunResult vx = ho::run_vx86(o.tools, emit(cases, ho::Target::kVx86), stem + "_vx86", zero,
                                        ho::Mode::kProtected);
        if (!vx.ok) {
            std::printf("ERROR: program %u vx86 run failed: %s\n", p, vx.error.c_str());
            return 2;
        }
        for (const Case& c : cases) {
            const uint8_t* nr = rec(nat.records, c.index);
            const uint8_t* vr = rec(vx.records, c.index);
            if (u32(nr, -4) != ho::kMarkerBase + 2 * c.index) {
                std::printf("ERROR: program %u case %u: native record incomplete\n", p, c.index);
                return 2;
            }
            std::vector<std::string> diffs;
            bool is_near = false;
            const std::string& note = vx.notes[2 * c.index];
            const std::string& note2 = vx.notes[2 * c.index + 1];
            if (!note.empty() || !note2.empty()) diffs.push_back(note.empty() ? note2 : note);
            else if (u32(vr, -4) != ho::kMarkerBase + 2 * c.index) diffs.push_back("vx86 did not complete the case");
            else diffs = compare(c, nr, vr, is_near);
            bool ok = diffs.empty();
            ok ? ++passed : ++failed;
            trans += c.trans;
            near += ok && is_near;
            for (const auto& cl : c.classes) {
                auto& s = by_class[cl];
                ++s.first;
                s.second += !ok;
            }
            if ((!ok && shown < o.show) || o.verbose) {
                if (!ok) ++shown;
                std::printf("%s program %u case %u (fcw %04X, flags %02X):\n", ok ? "PASS" : "FAIL", p,
                            c.index, c.fcw, c.init_flags);
                for (const auto& l : c.lines) std::printf("      %s\n", l.c_str());
                for (const auto& [name, bytes] : c.consts)
                    std::printf("      %s = %s\n", name.c_str(), hex(bytes.data(), unsigned(bytes.size())).c_str());
                for (const auto& d : diffs) std::printf("    !! %s\n", d.c_str());
            }
        }
    }
    std::printf("\n%-16s %7s %7s\n", "class", "cases", "failed");
    for (const auto& [name, s] : by_class)
        std::printf("%-16s %7u %7u%s\n", name.c_str(), s.first, s.second, s.second ? "  <--" : "");
    std::printf("\nseed %u: %u passed, %u failed; %u transcendental cases, %u of them within 1 ulp "
                "but not bit-identical\n", o.seed, passed, failed, trans, near);
    return failed ? 1 : 0;
}

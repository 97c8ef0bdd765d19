// The x87 and MMX as the interpreter runs them: the memory images of FSTENV/FSAVE (16/32-bit,
// real and protected mode, SDM vol. 1 figures 8-9 to 8-12) and FXSAVE (vol. 2, FXSAVE table
// 3-53), the #NM rules of CR0.EM/TS/MP, pending exceptions (#MF with CR0.NE = 1, FERR# with
// NE = 0), stack overflow/underflow, FCOMI and FCMOV, MMX aliasing of the register stack, and
// MMX saturation.
//
// Guest code is hand-assembled bytes (the encodings are in the comments). Real-mode tests run at
// 1000:0000 with data at DS = 2000h; protected-mode ones run flat 32-bit code at 10000h. Every
// interrupt vector leads to a HLT, so last_exception() tells which exception a run took.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "cpu/cpu.h"
#include "tests/unit/test_util.h"

using namespace vx86;
using cpu::Cpu;

namespace {

constexpr uint32_t kCodeReal = 0x10000, kDataReal = 0x20000;
constexpr uint32_t kGdt = 0x1000, kIdt = 0x2000, kStubs = 0x3000;
constexpr uint32_t kCodePm = 0x10000, kData = 0x40000;

struct Machine {
    mmu::PhysMemory mem{4u << 20};
    devices::IoBus io;
    Cpu c;
    bool pm;

    explicit Machine(bool protected_mode = false, cpu::CpuModel model = cpu::CpuModel::kP6)
        : c(model, mem, io), pm(protected_mode) {
        std::vector<uint8_t> hlt(256, 0xF4);
        REQUIRE(mem.copy_to(kStubs, hlt.data(), hlt.size()));
        REQUIRE(mem.copy_to(0x500, hlt.data(), hlt.size()));
        if (pm) {
            // null, flat 32-bit code 08h, flat data 10h, 16-bit code 18h (base 0, limit FFFFFh).
            const uint64_t gdt[] = {0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull,
                                    0x000F9B000000FFFFull};
            REQUIRE(mem.copy_to(kGdt, gdt, sizeof gdt));
            for (uint32_t v = 0; v < 32; ++v) {
                uint32_t off = kStubs + v;
                mem.write(kIdt + 8 * v, 4, (0x08u << 16) | (off & 0xFFFF));
                mem.write(kIdt + 8 * v + 4, 4, (off & 0xFFFF0000u) | 0x8E00u);
            }
            c.s.gdtr = {kGdt, sizeof gdt - 1};
            c.s.idtr = {kIdt, 32 * 8 - 1};
            c.s.cr[0] |= cpu::kCr0PE;
            c.s.seg[cpu::CS] = cpu::Segment{0, 0xFFFFFFFFu, 0x08, 0xC09B};
            for (unsigned k : {cpu::ES, cpu::SS, cpu::DS, cpu::FS, cpu::GS})
                c.s.seg[k] = cpu::Segment{0, 0xFFFFFFFFu, 0x10, 0xC093};
            c.s.eip = kCodePm;
            c.set_r32(cpu::ESP, 0x80000);
        } else {
            // IVT: vector v -> 0050:v (a HLT).
            for (uint32_t v = 0; v < 256; ++v) mem.write(4 * v, 4, (0x0050u << 16) | v);
            c.load_seg_real(cpu::CS, 0x1000);
            for (unsigned k : {cpu::ES, cpu::SS, cpu::DS, cpu::FS, cpu::GS})
                c.load_seg_real(k, 0x2000);
            c.s.eip = 0;
            c.set_r32(cpu::ESP, 0xFFF0);
        }
    }
    uint32_t code_base() const { return pm ? kCodePm : kCodeReal; }
    uint32_t data_base() const { return pm ? 0 : kDataReal; }
    // Loads `bytes` + HLT at the start of the code and runs to a HLT; returns the exception
    // vector taken (or -1).
    int run(std::vector<uint8_t> bytes, uint64_t max = 200) {
        bytes.push_back(0xF4);
        REQUIRE(mem.copy_to(code_base(), bytes.data(), bytes.size()));
        c.flush_code_cache();
        c.run(max);
        return c.last_exception();
    }
    uint32_t rd(uint32_t addr, unsigned n) { return uint32_t(mem.read(data_base() + addr, n)); }
    uint64_t rd64(uint32_t addr) { return uint64_t(rd(addr, 4)) | uint64_t(rd(addr + 4, 4)) << 32; }
    void wr(uint32_t addr, unsigned n, uint32_t v) { mem.write(data_base() + addr, n, v); }
    // 8 bytes at a physical address.
    void w64(uint32_t phys, uint64_t v) {
        mem.write(phys, 4, uint32_t(v));
        mem.write(phys + 4, 4, uint32_t(v >> 32));
    }
    uint16_t fsw() const { return c.s.fpu.fsw; }
    unsigned top() const { return (c.s.fpu.fsw >> 11) & 7; }
    const cpu::X87Reg& st(unsigned i) const { return c.s.fpu.r[(top() + i) & 7]; }
};

constexpr uint16_t kIE = 1, kZE = 4, kSF = 0x40, kES = 0x80, kC0 = 0x100, kC1 = 0x200,
                   kC2 = 0x400, kC3 = 0x4000, kB = 0x8000;
constexpr uint64_t kOneSig = 0x8000000000000000ull;

// ---- encodings ----
std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> r;
    for (const auto& p : parts) r.insert(r.end(), p.begin(), p.end());
    return r;
}
// ModRM memory operand with a 16-bit (mod 00 rm 110) or 32-bit (mod 00 rm 101) displacement.
std::vector<uint8_t> m16(uint8_t opc, unsigned reg, uint16_t a) {
    return {opc, uint8_t(0x06 | reg << 3), uint8_t(a), uint8_t(a >> 8)};
}
std::vector<uint8_t> m32(uint8_t opc, unsigned reg, uint32_t a) {
    return {opc, uint8_t(0x05 | reg << 3), uint8_t(a), uint8_t(a >> 8), uint8_t(a >> 16),
            uint8_t(a >> 24)};
}
const std::vector<uint8_t> kFninit{0xDB, 0xE3}, kFld1{0xD9, 0xE8}, kFldz{0xD9, 0xEE},
    kFnop{0xD9, 0xD0}, kWait{0x9B}, kFnclex{0xDB, 0xE2}, kFnstswAx{0xDF, 0xE0},
    kFdiv01{0xD8, 0xF1} /* FDIV ST(0), ST(1) */, kFadd01{0xD8, 0xC1}, kEmms{0x0F, 0x77};

}  // namespace

TEST_CASE("x87 reset state and FNINIT") {
    Machine m;
    CHECK(m.c.s.fpu.fcw == 0x0040);  // power-up control word (SDM vol. 3A, table 9-1)
    CHECK(m.c.s.fpu.ftw == 0xFF);    // tag word 5555h: every register holds +0.0
    REQUIRE(m.run(cat({kFninit, kFnstswAx})) == -1);
    CHECK(m.c.s.fpu.fcw == 0x037F);
    CHECK(m.c.s.fpu.ftw == 0);
    CHECK(m.c.r16(cpu::EAX) == 0);
}

TEST_CASE("FNSTENV 16-bit real-mode layout holds linear pointers and FOP") {
    Machine m;
    m.wr(0x200, 4, 0x3F800000);  // 1.0f
    // FNINIT; FLDZ; FLD dword [0200h] (D9 06 00 02 at offset 4); FNSTENV [0100h]
    REQUIRE(m.run(cat({kFninit, kFldz, m16(0xD9, 0, 0x200), m16(0xD9, 6, 0x100)})) == -1);
    CHECK(m.rd(0x100, 2) == 0x037F);  // FCW
    CHECK(m.rd(0x102, 2) == 0x3000);  // FSW: TOP = 6
    CHECK(m.rd(0x104, 2) == 0x4FFF);  // R7 zero (01), R6 valid (00), the rest empty
    const uint32_t fip = kCodeReal + 4, fdp = kDataReal + 0x200;
    CHECK(m.rd(0x106, 2) == (fip & 0xFFFF));
    CHECK(m.rd(0x108, 2) == (((fip >> 16) << 12) | 0x106));  // FIP 19..16, FOP = D9 06 -> 106h
    CHECK(m.rd(0x10A, 2) == (fdp & 0xFFFF));
    CHECK(m.rd(0x10C, 2) == ((fdp >> 16) << 12));
    // FNSTENV masks every exception afterwards.
    CHECK(m.c.s.fpu.fcw == 0x037F);
}

TEST_CASE("FNSTENV 32-bit real-mode layout") {
    Machine m;
    m.wr(0x200, 4, 0x3F800000);
    // FNINIT; FLD dword [0200h]; o32 FNSTENV [0100h]
    REQUIRE(m.run(cat({kFninit, m16(0xD9, 0, 0x200), {0x66}, m16(0xD9, 6, 0x100)})) == -1);
    const uint32_t fip = kCodeReal + 2, fdp = kDataReal + 0x200;
    CHECK(m.rd(0x100, 2) == 0x037F);
    CHECK(m.rd(0x104, 2) == 0x3800);
    CHECK(m.rd(0x108, 2) == 0x3FFF);
    CHECK(m.rd(0x10C, 2) == (fip & 0xFFFF));
    CHECK(m.rd(0x110, 4) == (((fip >> 16) << 12) | 0x106));
    CHECK(m.rd(0x114, 2) == (fdp & 0xFFFF));
    CHECK(m.rd(0x118, 4) == ((fdp >> 16) << 12));
}

TEST_CASE("FNSTENV/FLDENV 32-bit protected-mode layout") {
    Machine m(true);
    m.w64(kData + 0x200, 0x3FF0000000000000ull);  // 1.0
    // FNINIT; FLD qword [kData+200h] (DD /0); FNSTENV [kData+100h]; then FLDENV from a
    // crafted image at kData+300h.
    auto code = cat({kFninit, m32(0xDD, 0, kData + 0x200), m32(0xD9, 6, kData + 0x100),
                     m32(0xD9, 4, kData + 0x300)});
    uint8_t img[28];
    std::memset(img, 0, sizeof img);
    const uint16_t fcw = 0x0272, fsw = 0x1800 | kZE, ftw = 0xFFFC;  // TOP = 3, ZE unmasked+set
    std::memcpy(img + 0, &fcw, 2);
    std::memcpy(img + 4, &fsw, 2);
    std::memcpy(img + 8, &ftw, 2);
    const uint32_t ip = 0x12345678, cs_op = 0x01230008, dp = 0x9ABCDEF0, ds = 0x10;
    std::memcpy(img + 12, &ip, 4);
    std::memcpy(img + 16, &cs_op, 4);
    std::memcpy(img + 20, &dp, 4);
    std::memcpy(img + 24, &ds, 4);
    REQUIRE(m.mem.copy_to(kData + 0x300, img, sizeof img));
    REQUIRE(m.run(code) == -1);
    const uint32_t e = kData + 0x100;
    CHECK(m.mem.read(e + 0, 2) == 0x037F);
    CHECK(m.mem.read(e + 4, 2) == 0x3800);
    CHECK(m.mem.read(e + 8, 2) == 0x3FFF);
    CHECK(m.mem.read(e + 12, 4) == kCodePm + 2);              // FIP offset
    CHECK(m.mem.read(e + 16, 4) == (0x0008u | 0x505u << 16));  // FCS, FOP = DD 05 -> 505h
    CHECK(m.mem.read(e + 20, 4) == kData + 0x200);            // FDP
    CHECK(m.mem.read(e + 24, 2) == 0x10);                     // FDS
    // FLDENV: the tag word only tells empty from non-empty; ES follows the unmasked ZE.
    CHECK(m.c.s.fpu.fcw == 0x0272);
    CHECK((m.fsw() & 0x7FFF & ~kES) == (fsw & 0x7FFF));
    CHECK((m.fsw() & (kES | kB)) == (kES | kB));
    CHECK(m.c.s.fpu.ftw == 0x01);
    CHECK(m.c.s.fpu.fip == ip);
    CHECK(m.c.s.fpu.fcs == 0x0008);
    CHECK(m.c.s.fpu.fop == 0x123);
    CHECK(m.c.s.fpu.fdp == dp);
}

TEST_CASE("FNSTENV 16-bit protected-mode layout (66h in 32-bit code)") {
    Machine m(true);
    REQUIRE(m.run(cat({kFninit, kFld1, {0x66}, m32(0xD9, 6, kData + 0x100)})) == -1);
    const uint32_t e = kData + 0x100;
    CHECK(m.mem.read(e + 0, 2) == 0x037F);
    CHECK(m.mem.read(e + 2, 2) == 0x3800);
    CHECK(m.mem.read(e + 4, 2) == 0x3FFF);
    CHECK(m.mem.read(e + 6, 2) == ((kCodePm + 2) & 0xFFFF));  // FIP offset (low 16 bits)
    CHECK(m.mem.read(e + 8, 2) == 0x0008);       // FCS
    CHECK(m.mem.read(e + 14, 2) == 0);           // the 14-byte image ends at 13
}

TEST_CASE("FNSAVE stores ST(0)..ST(7) after the environment, reinitializes; FRSTOR restores") {
    Machine m;
    // FNINIT; FLD1; FLDZ; FNSAVE [0100h]; FRSTOR [0100h]
    REQUIRE(m.run(cat({kFninit, kFld1, kFldz, m16(0xDD, 6, 0x100)})) == -1);
    CHECK(m.c.s.fpu.fcw == 0x037F);
    CHECK(m.c.s.fpu.ftw == 0);  // FNSAVE ends with FNINIT
    CHECK(m.fsw() == 0);
    CHECK(m.rd(0x102, 2) == 0x3000);
    CHECK(m.rd64(0x10E) == 0);  // ST(0) = +0.0
    CHECK(m.rd(0x116, 2) == 0);
    CHECK(m.rd64(0x118) == kOneSig);  // ST(1) = 1.0
    CHECK(m.rd(0x120, 2) == 0x3FFF);
    Machine n;
    std::vector<uint8_t> img(94);
    for (unsigned k = 0; k < 94; ++k) img[k] = uint8_t(m.rd(0x100 + k, 1));
    REQUIRE(n.mem.copy_to(kDataReal + 0x100, img.data(), img.size()));
    REQUIRE(n.run(cat({kFninit, m16(0xDD, 4, 0x100)})) == -1);
    CHECK(n.top() == 6);
    CHECK(n.c.s.fpu.ftw == 0xC0);
    CHECK(n.st(0).sig == 0);
    CHECK(n.st(1).sig == kOneSig);
    CHECK(n.st(1).se == 0x3FFF);
}

TEST_CASE("FXSAVE layout, FXRSTOR, and #GP on a misaligned operand") {
    // FNINIT; FLD1; FLDZ; FXSAVE [kData+200h]
    Machine f(true);
    auto fx = [](unsigned reg, uint32_t a) {
        return std::vector<uint8_t>{0x0F, 0xAE, uint8_t(0x05 | reg << 3), uint8_t(a),
                                    uint8_t(a >> 8), uint8_t(a >> 16), uint8_t(a >> 24)};
    };
    REQUIRE(f.run(cat({kFninit, kFld1, kFldz, fx(0, kData + 0x200)})) == -1);
    const uint32_t b = kData + 0x200;
    CHECK(f.mem.read(b + 0, 2) == 0x037F);
    CHECK(f.mem.read(b + 2, 2) == 0x3000);
    CHECK(f.mem.read(b + 4, 1) == 0xC0);    // abridged tag: R6, R7 valid
    CHECK(f.mem.read(b + 6, 2) == 0x1EE);   // FOP of FLDZ (D9 EE)
    CHECK(f.mem.read(b + 8, 4) == kCodePm + 4);
    CHECK(f.mem.read(b + 12, 2) == 0x08);
    CHECK(f.mem.read(b + 24, 4) == 0x1F80);  // MXCSR
    CHECK(f.rd64(b + 32) == 0);       // ST(0) = +0.0
    CHECK(f.rd64(b + 48) == kOneSig);  // ST(1) = 1.0 at 48
    CHECK(f.mem.read(b + 56, 2) == 0x3FFF);
    // FXRSTOR of that image into a fresh FPU.
    Machine g(true);
    std::vector<uint8_t> img(512);
    f.mem.copy_from(b, img.data(), img.size());
    REQUIRE(g.mem.copy_to(b, img.data(), img.size()));
    REQUIRE(g.run(cat({kFninit, fx(1, b)})) == -1);
    CHECK(g.top() == 6);
    CHECK(g.c.s.fpu.ftw == 0xC0);
    CHECK(g.st(1).sig == kOneSig);
    // Misaligned: #GP(0), nothing stored.
    Machine h(true);
    CHECK(h.run(cat({kFninit, fx(0, kData + 0x208)})) == cpu::kGP);
    CHECK(h.mem.read(kData + 0x208, 2) == 0);
    // A reserved MXCSR bit makes FXRSTOR #GP.
    img[24 + 2] = 0x01;  // bit 16
    Machine k(true);
    REQUIRE(k.mem.copy_to(b, img.data(), img.size()));
    CHECK(k.run(cat({kFninit, fx(1, b)})) == cpu::kGP);
}

TEST_CASE("#NM: CR0.EM and CR0.TS trap x87 instructions; WAIT only with TS and MP") {
    {
        Machine m;
        m.c.s.cr[0] |= cpu::kCr0EM;
        CHECK(m.run(kFld1) == cpu::kNM);
        CHECK(m.c.s.fpu.ftw == 0xFF);  // nothing happened
    }
    {
        Machine m;
        m.c.s.cr[0] |= cpu::kCr0TS;
        CHECK(m.run(kFninit) == cpu::kNM);  // the no-wait forms too
    }
    {
        Machine m;
        m.c.s.cr[0] |= cpu::kCr0TS;  // MP = 0: WAIT does not trap
        CHECK(m.run(kWait) == -1);
    }
    {
        Machine m;
        m.c.s.cr[0] |= cpu::kCr0TS | cpu::kCr0MP;
        CHECK(m.run(kWait) == cpu::kNM);
    }
    {
        Machine m;
        m.c.s.cr[0] |= cpu::kCr0EM;  // EM alone: WAIT runs
        CHECK(m.run(kWait) == -1);
    }
    {
        Machine m;
        m.c.s.cr[0] |= cpu::kCr0EM;  // MMX with EM = 1 is #UD
        CHECK(m.run({0x0F, 0x6E, 0xC0}) == cpu::kUD);
    }
    {
        Machine m;
        m.c.s.cr[0] |= cpu::kCr0TS;
        CHECK(m.run({0x0F, 0x6E, 0xC0}) == cpu::kNM);
    }
}

TEST_CASE(
    "an unmasked exception is raised as #MF by the next waiting instruction when CR0.NE = 1") {
    Machine m;
    m.c.s.cr[0] |= cpu::kCr0NE;
    m.wr(0x100, 2, 0x037B);  // ZE unmasked
    // FNINIT; FLDCW [100h]; FLDZ; FLD1; FDIV ST(0), ST(1); FNSTSW AX; FNOP
    auto code = cat({kFninit, m16(0xD9, 5, 0x100), kFldz, kFld1, kFdiv01, kFnstswAx, kFnop});
    CHECK(m.run(code) == cpu::kMF);
    CHECK(m.c.r16(cpu::EAX) == (0x3000 | kZE | kES | kB));  // FNSTSW does not wait
    // The stub's frame holds the address of the FNOP: the division itself completed.
    CHECK(m.mem.read(kDataReal + uint16_t(m.c.r16(cpu::ESP)), 2) == 14);
    CHECK(m.st(0).sig == kOneSig);  // unmasked ZE: the destination is unchanged
}

TEST_CASE("with CR0.NE = 0 a pending exception asserts FERR# and execution continues") {
    Machine m;
    std::vector<bool> ferr;
    m.c.set_ferr_callback([&](bool v) { ferr.push_back(v); });
    m.wr(0x100, 2, 0x037B);
    // FNINIT; FLDCW; FLDZ; FLD1; FDIV; FNOP; FLD1; FNCLEX
    auto code = cat({kFninit, m16(0xD9, 5, 0x100), kFldz, kFld1, kFdiv01, kFnop, kFld1, kFnclex});
    CHECK(m.run(code) == -1);
    REQUIRE(ferr.size() >= 3);
    CHECK(ferr.front() == false);  // FNINIT
    CHECK(ferr[1] == true);        // FNOP met the pending ZE
    CHECK(ferr.back() == false);   // FNCLEX
    CHECK(m.top() == 5);           // both instructions after the error ran
    CHECK((m.fsw() & (kES | kB | kZE)) == 0);
}

TEST_CASE("stack overflow and underflow: IE + SF, C1 tells which, masked response") {
    Machine m;
    std::vector<uint8_t> code = kFninit;
    for (int k = 0; k < 9; ++k) code = cat({code, kFld1});
    REQUIRE(m.run(code) == -1);
    CHECK((m.fsw() & (kIE | kSF | kC1)) == (kIE | kSF | kC1));
    CHECK(m.top() == 7);
    CHECK(m.st(0).se == 0xFFFF);  // the real indefinite was pushed
    CHECK(m.st(0).sig == 0xC000000000000000ull);

    Machine u;
    // FNINIT; FLD1; FADD ST(0), ST(1) with ST(1) empty
    REQUIRE(u.run(cat({kFninit, kFld1, kFadd01})) == -1);
    CHECK((u.fsw() & (kIE | kSF | kC1)) == (kIE | kSF));
    CHECK(u.st(0).se == 0xFFFF);
    CHECK(u.st(0).sig == 0xC000000000000000ull);

    // Unmasked IE: nothing changes but the flags, and the exception is pending.
    Machine x;
    x.wr(0x100, 2, 0x037E);
    REQUIRE(x.run(cat({kFninit, m16(0xD9, 5, 0x100), kFld1, {0xDE, 0xC1} /* FADDP */})) == -1);
    CHECK((x.fsw() & (kIE | kSF | kES)) == (kIE | kSF | kES));
    CHECK(x.top() == 7);
    CHECK(x.st(0).sig == kOneSig);
}

TEST_CASE("FPREM/FPREM1 stopped by an unmasked DE: C2 and C1 clear, C3 and C0 kept") {
    // Captured from the x87: a negative pseudo-denormal dividend (8000:F000000000000000h) by
    // 1.0 with only DE unmasked. FXAM first sets C3 C2 C1 C0 = 1110 (denormal, negative).
    for (uint8_t op : {0xF8, 0xF5}) {  // FPREM D9 F8, FPREM1 D9 F5
        CAPTURE(op);
        Machine m;
        m.wr(0x100, 2, 0x037D);  // DE unmasked
        m.wr(0x110, 4, 0);
        m.wr(0x114, 4, 0xF0000000u);
        m.wr(0x118, 2, 0x8000);
        // FNINIT; FLDCW [100h]; FLD1; FLD TBYTE [110h]; FXAM; FPREM(1)
        auto code = cat({kFninit, m16(0xD9, 5, 0x100), kFld1, m16(0xDB, 5, 0x110),
                         {0xD9, 0xE5}, {0xD9, op}});
        REQUIRE(m.run(code) == -1);
        CHECK((m.fsw() & (kC3 | kC2 | kC1 | kC0)) == kC3);
        CHECK((m.fsw() & 0xBF) == (kES | 0x02));  // DE pending, nothing else
        CHECK(m.st(0).se == 0x8000);              // the dividend is unchanged
        CHECK(m.st(0).sig == 0xF000000000000000ull);
        // Masked, the quotient bits are computed: -1.875 * 2^-16382 / 1 -> 0, remainder
        // normalized to 8001:F000000000000000h, C3 C2 C1 C0 = 0000.
        Machine k;
        k.wr(0x100, 2, 0x037F);
        k.wr(0x110, 4, 0);
        k.wr(0x114, 4, 0xF0000000u);
        k.wr(0x118, 2, 0x8000);
        REQUIRE(k.run(code) == -1);
        CHECK((k.fsw() & (kC3 | kC2 | kC1 | kC0)) == 0);
        CHECK(k.st(0).se == 0x8001);
        CHECK(k.st(0).sig == 0xF000000000000000ull);
    }
}

TEST_CASE("FCOMI/FUCOMI set ZF, PF, CF and clear OF, SF, AF; FCOMIP pops") {
    const uint32_t all = cpu::kCF | cpu::kPF | cpu::kAF | cpu::kZF | cpu::kSF | cpu::kOF;
    auto flags_after = [&](std::vector<uint8_t> loads, std::vector<uint8_t> op) {
        Machine t;
        t.wr(0x100, 4, 0x7FC00000);  // QNaN
        t.c.set_eflags(0x2 | all);
        REQUIRE(t.run(cat({kFninit, loads, op})) == -1);
        return std::pair<uint32_t, unsigned>(t.c.eflags() & all, t.top());
    };
    // ST(0) = 0, ST(1) = 1: less.
    CHECK(flags_after(cat({kFld1, kFldz}), {0xDB, 0xF1}).first == cpu::kCF);
    // ST(0) = 1, ST(1) = 0: greater.
    CHECK(flags_after(cat({kFldz, kFld1}), {0xDB, 0xF1}).first == 0);
    // equal
    CHECK(flags_after(cat({kFld1, kFld1}), {0xDB, 0xF1}).first == cpu::kZF);
    // unordered (FUCOMI with a QNaN raises nothing)
    auto r = flags_after(cat({kFld1, m16(0xD9, 0, 0x100)}), {0xDB, 0xE9});
    CHECK(r.first == (cpu::kZF | cpu::kPF | cpu::kCF));
    // FCOMIP pops once
    CHECK(flags_after(cat({kFld1, kFldz}), {0xDF, 0xF1}).second == 7);
}

TEST_CASE("FCMOVB/FCMOVNB move ST(i) to ST(0) by CF") {
    for (int cf = 0; cf < 2; ++cf) {
        CAPTURE(cf);
        Machine m;
        // FNINIT; FLD1; FLDZ; STC/CLC; FCMOVB ST(0), ST(1)
        const std::vector<uint8_t> setc{uint8_t(cf ? 0xF9 : 0xF8)};  // STC / CLC
        REQUIRE(m.run(cat({kFninit, kFld1, kFldz, setc, {0xDA, 0xC1}})) == -1);
        CHECK(m.st(0).sig == (cf ? kOneSig : 0));
        Machine n;
        REQUIRE(n.run(cat({kFninit, kFld1, kFldz, setc, {0xDB, 0xC1}})) == -1);
        CHECK(n.st(0).sig == (cf ? 0 : kOneSig));
    }
}

TEST_CASE("MMX registers alias the x87 significands; TOP = 0, tags valid; EMMS empties them") {
    Machine m;
    // FNINIT; FLD1 (TOP = 7); mov eax, 12345678h; MOVD mm1, eax; FNSTENV [100h]
    auto code = cat({kFninit, kFld1, {0x66, 0xB8, 0x78, 0x56, 0x34, 0x12}, {0x0F, 0x6E, 0xC8},
                     m16(0xD9, 6, 0x100)});
    REQUIRE(m.run(code) == -1);
    CHECK(m.top() == 0);
    CHECK(m.c.s.fpu.ftw == 0xFF);
    CHECK(m.c.s.fpu.r[1].sig == 0x12345678);
    CHECK(m.c.s.fpu.r[1].se == 0xFFFF);
    CHECK(m.c.s.fpu.r[7].sig == kOneSig);  // the FLD1 value stays in R7 (now MM7)
    CHECK((m.rd(0x102, 2) & 0x3800) == 0);
    // Tag word: R1 is special (exponent all ones), R7 valid, R0 and R2-R6 are zero.
    CHECK(m.rd(0x104, 2) == 0x1559);
    Machine e;
    REQUIRE(e.run(cat({kFninit, {0x0F, 0x6E, 0xC8}, kEmms})) == -1);
    CHECK(e.c.s.fpu.ftw == 0);
    // MOVD eax, mm1 reads the alias back.
    Machine r;
    REQUIRE(r.run(cat({kFninit, kFld1, {0x0F, 0x7E, 0xF8} /* MOVD eax, mm7 */})) == -1);
    CHECK(r.c.r32(cpu::EAX) == 0);  // low dword of 1.0's significand
}

TEST_CASE("MMX saturating arithmetic and packs") {
    Machine m;
    m.w64(kDataReal + 0x100, 0x7FFF8000FFFF0001ull);  // mm0 words: 0001 FFFF 8000 7FFF
    m.w64(kDataReal + 0x108, 0x0001FFFF00010001ull);  // mm1 words: 0001 0001 FFFF 0001
    auto movq = [](unsigned reg, uint16_t a) {
        return std::vector<uint8_t>{0x0F, 0x6F, uint8_t(0x06 | reg << 3), uint8_t(a),
                                    uint8_t(a >> 8)};
    };
    auto storeq = [](unsigned reg, uint16_t a) {
        return std::vector<uint8_t>{0x0F, 0x7F, uint8_t(0x06 | reg << 3), uint8_t(a),
                                    uint8_t(a >> 8)};
    };
    // PADDSW mm0, mm1 (0F ED C1): 0001+0001=0002, FFFF+0001=0000, 8000+FFFF=8000 (sat), 7FFF+1=7FFF
    REQUIRE(m.run(cat({movq(0, 0x100), movq(1, 0x108), {0x0F, 0xED, 0xC1}, storeq(0, 0x200)})) ==
            -1);
    CHECK(m.rd64(0x200) == 0x7FFF800000000002ull);
    // PADDUSB, PSUBUSB
    Machine u;
    u.w64(kDataReal + 0x100, 0x00FF80017F0000FFull);
    u.w64(kDataReal + 0x108, 0x0101808080010101ull);
    REQUIRE(u.run(cat({movq(0, 0x100), movq(1, 0x108), {0x0F, 0xDC, 0xC1}, storeq(0, 0x200),
                       movq(0, 0x100), {0x0F, 0xD8, 0xC1}, storeq(0, 0x208)})) == -1);
    CHECK(u.rd64(0x200) == 0x01FFFF81FF0101FFull);
    CHECK(u.rd64(0x208) == 0x00FE0000000000FEull);
    // PACKSSWB mm0, mm1: words of mm0 then mm1, each to a signed byte.
    Machine p;
    p.w64(kDataReal + 0x100, 0x8000007FFF800100ull);  // 0100 FF80 007F 8000
    p.w64(kDataReal + 0x108, 0xFFFF7FFF00000080ull);  // 0080 0000 7FFF FFFF
    REQUIRE(p.run(cat({movq(0, 0x100), movq(1, 0x108), {0x0F, 0x63, 0xC1}, storeq(0, 0x200)})) ==
            -1);
    // bytes: 7F 80 7F 80 | 7F 00 7F FF
    CHECK(p.rd64(0x200) == 0xFF7F007F807F807Full);
    // PMADDWD: (2*3 + -4*5), (8000h*8000h*2 wraps to 80000000h)
    Machine w;
    w.w64(kDataReal + 0x100, 0x80008000FFFC0002ull);
    w.w64(kDataReal + 0x108, 0x8000800000050003ull);
    REQUIRE(w.run(cat({movq(0, 0x100), movq(1, 0x108), {0x0F, 0xF5, 0xC1}, storeq(0, 0x200)})) ==
            -1);
    CHECK(w.rd64(0x200) == 0x80000000FFFFFFF2ull);
}

TEST_CASE("models: no FPU on the 286, no MMX on the 486; CPUID reports FPU, MMX, FXSR on the P6") {
    Machine a(false, cpu::CpuModel::k286);
    a.c.set_r16(cpu::EAX, 0x5A5A);
    REQUIRE(a.run(cat({kFninit, kFnstswAx})) == -1);
    CHECK(a.c.r16(cpu::EAX) == 0x5A5A);  // the classic "no coprocessor" answer
    Machine b(false, cpu::CpuModel::k486);
    REQUIRE(b.run(cat({kFninit, kFnstswAx})) == -1);
    CHECK(b.c.r16(cpu::EAX) == 0);
    Machine b2(false, cpu::CpuModel::k486);
    CHECK(b2.run({0x0F, 0x6E, 0xC0}) == cpu::kUD);
    Machine p(false, cpu::CpuModel::kP6);
    REQUIRE(p.run({0x66, 0xB8, 1, 0, 0, 0, 0x0F, 0xA2}) == -1);  // mov eax, 1; CPUID
    const uint32_t fpu_mmx_fxsr = (1u << 0) | (1u << 23) | (1u << 24);
    CHECK((p.c.r32(cpu::EDX) & fpu_mmx_fxsr) == fpu_mmx_fxsr);
}

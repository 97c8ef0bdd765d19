// Differential test of the JIT: thousands of seeded random instruction sequences, each run on two
// Cpus from the same state, one interpreting and one with the x86-64 JIT engine, comparing the
// whole architectural state (GPRs, EIP, EFLAGS through eflags(), segments, control registers,
// icount, halt state, the exception taken) and all guest memory after every slice.
//
// The generator favours what the JIT inlines (MOV, ALU, INC/DEC, LEA, PUSH/POP (register,
// r/m and immediate), BT/BTS/BTR/BTC with an immediate, Jcc/JMP, CALL/RET) and mixes in flag readers (Jcc, SETcc, ADC/SBB, PUSHF, LAHF), helper-called
// instructions (shifts, MUL/DIV, string ops, CMC/STC), operand/address-size prefixes, segment
// overrides, and operands that fault: #DE from DIV, #GP/#SS at the 64 KiB real-mode segment
// limit, #PF on not-present and read-only pages in paged protected mode, and stores into the code
// being run (self-modifying code). Budgets are sliced at random so blocks are also cut short.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <sys/time.h>

#include "cpu/cpu.h"
#include "jit/jit.h"
#include "tests/unit/test_irq.h"
#include "tests/unit/test_pm.h"
#include "tests/unit/test_util.h"

using namespace vx86;
using cpu::Cpu;

namespace {

constexpr uint32_t kRam = 1u << 20;

// Real mode: code at 1000:0000, data in the same segment at offset 0x1000, stack at 3001:xxxx,
// ES = 2001h; every interrupt vector points to a HLT at 0000:0500.
constexpr uint32_t kRmCode = 0x10000;
// Protected mode: flat 32-bit, identity-paged first MiB (with holes).
using test::kPd, test::kPt, test::kIdt, test::kGdt, test::kPmCode, test::kPmStack,
    test::kPmNotPresent;
constexpr uint32_t kPmData = 0x21000, kPmReadOnly = 0x25000;

struct Machine {
    mmu::PhysMemory mem{kRam};
    devices::IoBus io;
    Cpu c;
    Machine(cpu::CpuModel m, bool jit, const jit::EngineOptions& opt = {}) : c(m, mem, io) {
        if (jit) REQUIRE(jit::set_engine(c, cpu::Engine::kJit, opt));
    }
};

// The scenario a sequence runs in.
struct Scenario {
    cpu::CpuModel model;
    bool pm;  // 32-bit paged protected mode, else real mode
};

class Gen {
public:
    Gen(uint32_t seed, bool pm, bool has386, bool has186 = true, bool has_p6 = false)
        : rng_(seed), pm_(pm), has186_(has186), has386_(has386), has_p6_(has_p6) {}

    uint32_t r(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }
    uint32_t u32() { return uint32_t(rng_()); }
    bool p(unsigned pct) { return r(100) < pct; }

    std::vector<uint8_t> program(unsigned n_insns) {
        code_.clear();
        for (unsigned k = 0; k < n_insns; ++k) insn();
        code_.push_back(0xF4);  // HLT
        return code_;
    }

private:
    void b(uint32_t v) { code_.push_back(uint8_t(v)); }
    void w(uint32_t v) { b(v); b(v >> 8); }
    void d(uint32_t v) { w(v); w(v >> 16); }
    void imm(unsigned bytes) {
        uint32_t v = p(30) ? r(4) : p(20) ? 0x7F + r(3) : p(20) ? 0xFFFFFFFFu - r(2) : u32();
        if (bytes == 1) b(v);
        else if (bytes == 2) w(v);
        else d(v);
    }
    // A data displacement: mostly the data area, sometimes the code being run (SMC), sometimes
    // a faulting area.
    uint32_t data_disp() {
        if (pm_) {
            if (p(4)) return kPmCode + r(0x40);
            if (p(4)) return kPmNotPresent + r(0x1000);
            if (p(4)) return kPmReadOnly + r(0x1000);
            if (p(2)) return 0xFFFFFFF0u + r(16);
            return kPmData + r(0x1000);
        }
        if (p(4)) return r(0x40);            // the code itself (DS = CS)
        if (p(3)) return 0xFFFD + r(3);      // straddles the segment limit
        return 0x1000 + r(0x1000);
    }
    // ModRM (with SIB/displacement) for a reg field `reg`; register form when `regform`.
    void modrm(unsigned reg, bool addr32, int force = -1) {
        unsigned kind = force >= 0 ? unsigned(force) : r(100) < 50 ? 0 : r(100) < 70 ? 1 : 2;
        if (kind == 0) return b(0xC0 | reg << 3 | r(8));
        if (kind == 1) {  // absolute
            if (addr32) {
                b(0x05 | reg << 3);
                d(data_disp());
            } else {
                b(0x06 | reg << 3);
                w(data_disp());
            }
            return;
        }
        unsigned mod = r(3), rm = r(8);
        if (addr32) {
            if (mod == 0 && rm == 5) rm = 0;
            b(mod << 6 | reg << 3 | rm);
            if (rm == 4) {
                unsigned base = r(8);
                if (mod == 0 && base == 5) base = 3;
                b(r(4) << 6 | r(8) << 3 | base);
            }
            if (mod == 1) b(r(256));
            if (mod == 2) d(p(50) ? r(0x100) : u32());
        } else {
            if (mod == 0 && rm == 6) rm = 7;
            b(mod << 6 | reg << 3 | rm);
            if (mod == 1) b(r(256));
            if (mod == 2) w(r(0x10000));
        }
    }
    // Flags written by a rarely-read producer (shifts, multiplies) are mostly overwritten before
    // the slice ends: sometimes push them right away, so the memory compare sees every flag.
    void observe_flags() {
        if (p(35)) b(0x9C);  // PUSHF
    }
    void insn() {
        const bool o16 = !pm_;  // default operand size 16 in real mode
        bool op32 = !o16, addr32 = pm_;
        if (has386_ && p(12)) {
            b(0x66);
            op32 = !op32;
        }
        if (has386_ && p(6)) {
            b(0x67);
            addr32 = !addr32;
        }
        if (p(10)) b(0x26);  // ES:
        const unsigned isz = op32 ? 4 : 2;
        unsigned pick = r(120);
        if (pick < 22) {  // ALU r/m forms
            unsigned op = r(8), form = r(4);
            b(op * 8 + form);
            modrm(r(8), addr32);
        } else if (pick < 30) {  // ALU acc, imm / group 1
            unsigned op = r(8), f = r(4);
            if (f == 0) { b(op * 8 + 4); imm(1); }
            else if (f == 1) { b(op * 8 + 5); imm(isz); }
            else if (f == 2) { b(0x80); modrm(op, addr32); imm(1); }
            else { b(p(50) ? 0x81 : 0x83); bool full = code_.back() == 0x81; modrm(op, addr32); imm(full ? isz : 1); }
        } else if (pick < 33) {  // TEST
            unsigned f = r(4);
            if (f == 0) { b(0x84 + r(2)); modrm(r(8), addr32); }
            else if (f == 1) { b(0xA8); imm(1); }
            else if (f == 2) { b(0xA9); imm(isz); }
            else { bool wide = p(50); b(wide ? 0xF7 : 0xF6); modrm(0, addr32); imm(wide ? isz : 1); }
        } else if (pick < 45) {  // MOV
            unsigned f = r(5);
            if (f == 0) { b(0x88 + r(4)); modrm(r(8), addr32); }
            else if (f == 1) { b(0xB0 + r(8)); imm(1); }
            else if (f == 2) { b(0xB8 + r(8)); imm(isz); }
            else if (f == 3) { bool wide = p(50); b(wide ? 0xC7 : 0xC6); modrm(0, addr32); imm(wide ? isz : 1); }
            else { b(0xA0 + r(4)); if (addr32) d(data_disp()); else w(data_disp()); }
        } else if (pick < 51) {  // INC/DEC
            if (p(50)) b(0x40 + r(16));
            else { b(p(50) ? 0xFE : 0xFF); modrm(r(2), addr32); }
        } else if (pick < 54) {  // LEA
            b(0x8D);
            modrm(r(8), addr32, 1 + int(r(2)));
        } else if (pick < 62) {  // PUSH/POP
            unsigned reg = r(8);
            if (reg == 4 && p(70)) reg = 0;
            b((p(55) ? 0x50 : 0x58) + reg);
        } else if (pick < 70) {  // Jcc/JMP short, mostly forward
            b(p(80) ? 0x70 + r(16) : 0xEB);
            b(p(85) ? r(12) : uint32_t(-int(r(12))));
        } else if (pick < 72 && has386_) {  // Jcc near
            b(0x0F); b(0x80 + r(16));
            if (op32) d(r(16)); else w(r(16));
        } else if (pick < 74) {  // CALL rel / RET
            if (p(50)) { b(0xE8); if (op32) d(r(8)); else w(r(8)); }
            else if (p(70)) b(0xC3);
            else { b(0xC2); w(r(3) * 2); }
        } else if (pick < 78 && has386_) {  // SETcc
            b(0x0F); b(0x90 + r(16)); modrm(0, addr32);
        } else if (pick < 82) {  // flag readers/writers handled by helpers
            static const uint8_t k[] = {0x9C, 0x9F, 0xF5, 0xF8, 0xF9, 0x9E, 0x98, 0x99, 0x90};
            b(k[r(sizeof k)]);
            if (code_.back() == 0x9C && p(50)) b(0x58 + r(8));  // PUSHF; POP r
        } else if (pick < 88) {  // shifts and rotates
            b(0xD0 + r(4)); modrm(r(8), addr32);
            observe_flags();
        } else if (pick < 92) {  // MUL/IMUL/DIV/IDIV/NEG/NOT (#DE)
            b(p(50) ? 0xF6 : 0xF7); modrm(2 + r(6), addr32);
            observe_flags();
        } else if (pick < 95) {  // string ops, sometimes REP with a small count
            if (p(40)) { b(0xB9); if (op32) d(r(6)); else w(r(6)); if (p(50)) b(0xF3); }
            static const uint8_t k[] = {0xA4, 0xA5, 0xAA, 0xAB, 0xAC, 0xAD};
            b(k[r(sizeof k)]);
        } else if (pick < 100) {  // XCHG, MOVZX/MOVSX
            if (p(50) || !has386_) { b(0x86 + r(2)); modrm(r(8), addr32); }
            else { b(0x0F); b(0xB6 + r(2) + (p(50) ? 8 : 0)); modrm(r(8), addr32); }
        } else if (pick < 104 && has186_) {  // shifts and rotates by imm8 (C0/C1)
            b(0xC0 + r(2)); modrm(r(8), addr32);
            b(p(70) ? r(8) : p(50) ? 8 + r(25) : r(256));
            observe_flags();
        } else if (pick < 107 && has186_) {  // IMUL r, r/m (, imm)
            unsigned f = has386_ ? r(3) : 1 + r(2);
            if (f == 0) { b(0x0F); b(0xAF); modrm(r(8), addr32); }
            else if (f == 1) { b(0x69); modrm(r(8), addr32); imm(isz); }
            else { b(0x6B); modrm(r(8), addr32); imm(1); }
            observe_flags();
        } else if (pick < 109 && has_p6_) {  // CMOVcc
            b(0x0F); b(0x40 + r(16)); modrm(r(8), addr32);
        } else if (pick < 110) {  // XCHG eAX, r; CBW/CWD family
            b(p(50) ? 0x91 + r(7) : 0x98 + r(2));
        } else if (pick >= 114 && pick < 117) {  // PUSH imm, PUSH r/m
            if (p(50) && has186_) { bool wide = p(50); b(wide ? 0x68 : 0x6A); imm(wide ? isz : 1); }
            else { b(0xFF); modrm(6, addr32); }
        } else if (pick >= 117 && has386_) {  // BT/BTS/BTR/BTC r/m, imm8
            b(0x0F); b(0xBA); modrm(4 + r(4), addr32); b(p(70) ? r(32) : r(256));
            observe_flags();
        } else {  // LOOPNE/LOOPE/LOOP/JCXZ, small counts mostly
            if (p(50)) { b(0xB9); if (op32) d(r(5)); else w(r(5)); }
            b(0xE0 + r(4));
            b(p(80) ? r(12) : uint32_t(-int(r(12))));
        }
    }

    std::mt19937 rng_;
    bool pm_, has186_, has386_, has_p6_;
    std::vector<uint8_t> code_;
};

void setup_real(Machine& m, const std::vector<uint8_t>& code, Gen& g) {
    Cpu& c = m.c;
    for (uint32_t v = 0; v < 256; ++v) m.mem.write(v * 4, 4, 0x0500);  // 0000:0500
    m.mem.write(0x500, 1, 0xF4);
    REQUIRE(m.mem.copy_to(kRmCode, code.data(), code.size()));
    c.load_seg_real(cpu::CS, 0x1000);
    c.load_seg_real(cpu::DS, 0x1000);
    c.load_seg_real(cpu::ES, 0x2001);  // bases off page boundaries: limit checks matter
    c.load_seg_real(cpu::SS, 0x3001);
    c.s.eip = 0;
    for (unsigned k = 0; k < 8; ++k)
        c.s.gpr[k] = g.p(50) ? 0x1000 + g.r(0x1000) : g.p(50) ? g.r(16) : g.u32();
    if (!c.traits().has_386)
        for (unsigned k = 0; k < 8; ++k) c.s.gpr[k] &= 0xFFFF;
    c.s.gpr[cpu::ESP] = g.p(90) ? 0x8000 + 2 * g.r(0x100) : g.r(8);
    c.set_eflags(g.u32() & 0x8D5);
}

void setup_pm(Machine& m, const std::vector<uint8_t>& code, Gen& g) {
    Cpu& c = m.c;
    test::setup_paged_pm(m.mem, c, code);
    // Also: GDT 18h, a 16-bit data segment of 1 MiB; a read-only page.
    m.mem.write(kGdt + 24, 4, 0x0000FFFFu);
    m.mem.write(kGdt + 28, 4, 0x000F9300u);
    c.s.gdtr.limit = 4 * 8 - 1;
    m.mem.write(kPt + 4 * (kPmReadOnly >> 12), 4, kPmReadOnly | 1);
    // Half the time ES ends just below a page end (byte-granular limit): the limit check must
    // catch it. Otherwise DS, ES and SS may all be flat, which the JIT specialises for.
    if (g.p(50)) c.s.seg[cpu::ES] = cpu::Segment{0, 0x21FFD, 0x10, 0x4093};
    if (g.p(15)) c.s.seg[cpu::SS] = cpu::Segment{0, 0xFFFFFu, 0x18, 0x0093};  // 16-bit stack
    // A 16-bit stack in a 4 GiB segment at base 0: flat, but SP-sized.
    else if (g.p(10)) c.s.seg[cpu::SS] = cpu::Segment{0, 0xFFFFFFFFu, 0x18, 0x8093};
    for (unsigned k = 0; k < 8; ++k)
        c.s.gpr[k] = g.p(50) ? kPmData + g.r(0x1000) : g.p(50) ? g.r(16) : g.u32();
    c.s.gpr[cpu::ESP] = g.p(90) ? kPmStack - 4 * g.r(0x100) : g.u32();
    c.set_eflags(g.u32() & 0x8D5);
}

// Compares the two machines; returns the number of differences (each also a failed CHECK).
int compare(Machine& a, Machine& b) {
    const cpu::CpuState& x = a.c.s;
    const cpu::CpuState& y = b.c.s;
    int bad = 0;
    auto eq = [&](const char* what, uint64_t u, uint64_t v) {
        if (u == v) return;
        ++bad;
        FAIL_CHECK(std::string(what) << ": interp " << test::hx(u) << " jit " << test::hx(v));
    };
    static const char* kGpr[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (unsigned k = 0; k < 8; ++k) eq(kGpr[k], x.gpr[k], y.gpr[k]);
    eq("eip", x.eip, y.eip);
    eq("eflags", a.c.eflags(), b.c.eflags());
    for (unsigned k = 0; k < 6; ++k) {
        eq("seg.base", x.seg[k].base, y.seg[k].base);
        eq("seg.limit", x.seg[k].limit, y.seg[k].limit);
        eq("seg.sel", x.seg[k].sel, y.seg[k].sel);
        eq("seg.attr", x.seg[k].attr, y.seg[k].attr);
    }
    for (unsigned k = 0; k < 5; ++k) eq("cr", x.cr[k], y.cr[k]);
    eq("icount", x.icount, y.icount);
    eq("halted", x.halted, y.halted);
    eq("inhibit_irq", x.inhibit_irq, y.inhibit_irq);
    eq("cpl", x.cpl, y.cpl);
    eq("last_exception", uint64_t(int64_t(a.c.last_exception())), uint64_t(int64_t(b.c.last_exception())));
    eq("exceptions", a.c.stats().exceptions, b.c.stats().exceptions);
    eq("blocks_built", a.c.stats().blocks_built, b.c.stats().blocks_built);
    eq("tlb_misses", a.c.stats().tlb_misses, b.c.stats().tlb_misses);
    if (std::memcmp(a.mem.ram(), b.mem.ram(), kRam) != 0) {
        for (uint32_t p = 0; p < kRam; ++p)
            if (a.mem.ram()[p] != b.mem.ram()[p]) {
                eq("first differing memory byte at", p, ~uint64_t(0));
                break;
            }
    }
    return bad;
}

struct Totals {
    unsigned sequences = 0;
    uint64_t insns = 0;
    uint64_t native_blocks = 0;
    uint64_t chained = 0;  // ... of which entered from generated code (link or lookup)
    uint64_t flags_skipped = 0;  // static: flag computations the JIT dropped as dead
    uint64_t side_joins = 0;     // static: forward branches to their own block's code
    uint64_t joins_predicated = 0;  // ... over one instruction, done without a branch
    uint64_t faults = 0;
};

// One random sequence in `sc`; false when the two engines diverged.
bool run_one(const Scenario& sc, uint32_t seed, Totals& t, const jit::EngineOptions& opt = {}) {
    const cpu::ModelTraits& tr = cpu::model_traits(sc.model);
    const bool has386 = tr.has_386;
    Gen g(seed, sc.pm, has386, tr.has_186, tr.has_p6);
    std::vector<uint8_t> code = g.program(4 + g.r(40));
    Machine interp(sc.model, false), jitm(sc.model, true, opt);
    Gen g1(seed * 7 + 1, sc.pm, has386), g2(seed * 7 + 1, sc.pm, has386);
    if (sc.pm) {
        setup_pm(interp, code, g1);
        setup_pm(jitm, code, g2);
    } else {
        setup_real(interp, code, g1);
        setup_real(jitm, code, g2);
    }
    // The same slices for both: long ones, and short ones that cut blocks.
    for (unsigned slice = 0; slice < 6; ++slice) {
        uint64_t n = g.p(50) ? 1 + g.r(7) : 50 + g.r(300);
        cpu::Exit ea = interp.c.run(n);
        cpu::Exit eb = jitm.c.run(n);
        CHECK(int(ea) == int(eb));
        if (compare(interp, jitm) != 0) {
            MESSAGE("diverged: seed " << seed << " model " << int(sc.model) << " pm " << sc.pm
                                      << " slice " << slice << " code "
                                      << test::hex_bytes(code.data(), code.size()));
            return false;
        }
        if (ea != cpu::Exit::kBudget) break;
    }
    ++t.sequences;
    t.insns += interp.c.s.icount;
    t.faults += interp.c.stats().exceptions;
    if (const cpu::EngineStats* st = jitm.c.engine_stats()) {
        t.native_blocks += st->blocks_run_native + st->blocks_chained + st->blocks_direct +
                           st->blocks_looked_up;
        t.chained += st->blocks_chained + st->blocks_direct + st->blocks_looked_up;
        t.flags_skipped += st->flags_skipped;
        t.side_joins += st->side_joins;
        t.joins_predicated += st->joins_predicated;
    }
    return true;
}

}  // namespace

TEST_CASE("JIT engine selection keeps the interpreter as the default") {
    mmu::PhysMemory mem(kRam);
    devices::IoBus io;
    Cpu c(cpu::CpuModel::kP6, mem, io);
    CHECK(c.engine() == cpu::Engine::kInterp);
    CHECK(c.engine_stats() == nullptr);
    REQUIRE(jit::available());
    CHECK(jit::set_engine(c, cpu::Engine::kJit));
    CHECK(c.engine() == cpu::Engine::kJit);
    CHECK(jit::set_engine(c, cpu::Engine::kInterp));
    CHECK(c.engine() == cpu::Engine::kInterp);
    CHECK(jit::parse_engine("jit") == cpu::Engine::kJit);
    CHECK(jit::parse_engine("interp") == cpu::Engine::kInterp);
    CHECK(!jit::parse_engine("fast"));
}

TEST_CASE("JIT runs a counted loop natively with the interpreter's result") {
    // 16-bit real mode: mov cx, 1000; xor ax, ax; l: add ax, cx; adc dx, 0; dec cx; jnz l; hlt
    const uint8_t code[] = {0xB9, 0xE8, 0x03, 0x31, 0xC0, 0x01, 0xC8, 0x83, 0xD2,
                            0x00, 0x49, 0x75, 0xF8, 0xF4};
    for (bool use_jit : {false, true}) {
        Machine m(cpu::CpuModel::kP6, use_jit);
        REQUIRE(m.mem.copy_to(kRmCode, code, sizeof code));
        m.c.load_seg_real(cpu::CS, 0x1000);
        m.c.s.eip = 0;
        m.c.s.gpr[cpu::EDX] = 0;
        CHECK(m.c.run(100000) == cpu::Exit::kHalted);
        CHECK(m.c.r16(cpu::EAX) == uint16_t(1000 * 1001 / 2));
        CHECK(m.c.s.icount == 2 + 4 * 1000 + 1);
        if (use_jit) {
            const cpu::EngineStats* st = m.c.engine_stats();
            REQUIRE(st != nullptr);
            CHECK(st->insns_inline >= 4);  // add, adc, dec, jnz
            // The loop stays in generated code: its back edge is a direct link to itself, and
            // the run loop sees only the first entry and the exit.
            CHECK(st->links_made >= 1);
            CHECK(st->blocks_chained >= 990);
            CHECK(st->blocks_run_native <= 5);
        }
    }
}

TEST_CASE("a forward conditional branch is a side exit: taken it leaves the block, not taken the block goes on") {
    // Flat 32-bit: a loop whose body leaves for S (past the loop's end: not in the block) when
    // bit 0 of ECX is clear; S comes back to the loop's DEC. The body (test, jz, inc, dec,
    // jnz) is one block in both engines, and the taken jz leaves it by a direct jump.
    const std::vector<uint8_t> code = {
        0xB9, 0x64, 0x00, 0x00, 0x00,  //    mov ecx, 100
        0x31, 0xFF,                    //    xor edi, edi
        0x31, 0xF6,                    //    xor esi, esi
        0xF6, 0xC1, 0x01,              // L: test cl, 1
        0x74, 0x05,                    //    jz S (a side exit)
        0x47,                          //    inc edi
        0x49,                          // B: dec ecx
        0x75, 0xF7,                    //    jnz L (backward: ends the block)
        0xF4,                          //    hlt
        0x46,                          // S: inc esi
        0xEB, 0xF9};                   //    jmp B
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    for (Machine* m : {&a, &b}) {
        test::setup_paged_pm(m->mem, m->c, code);
        CHECK(m->c.run(100000) == cpu::Exit::kHalted);
        CHECK(m->c.r32(cpu::EDI) == 50u);
        CHECK(m->c.r32(cpu::ESI) == 50u);
        // 3 + 50 * (test, jz, inc, dec, jnz) + 50 * (test, jz, inc, jmp, dec, jnz) + HLT
        CHECK(m->c.s.icount == 3 + 250 + 300 + 1);
    }
    CHECK(compare(a, b) == 0);
    // The start's block (through the first pass to its jnz), S's, B's, the body's (from L)
    // and the HLT's: 5. Were the jz to end its block, the INC would start two more (7).
    CHECK(a.c.stats().blocks_built == 5);
    const cpu::EngineStats* st = b.c.engine_stats();
    REQUIRE(st != nullptr);
    CHECK(st->side_joins == 0);
    // The side exit's link is a direct jump like the others: the run loop is not involved.
    CHECK(st->blocks_direct >= 100);
}

TEST_CASE("a forward conditional branch to its own block's code is a join: taken the block goes on there") {
    // Flat 32-bit: a loop whose body skips an INC when bit 0 of ECX is clear (jz S, S in the
    // block: a join), then a second loop. The side joins' targets never start blocks of their
    // own, and the JIT keeps each loop in its generated code on both paths.
    const std::vector<uint8_t> code = {
        0xB9, 0x64, 0x00, 0x00, 0x00,  //     mov ecx, 100
        0x31, 0xFF,                    //     xor edi, edi
        0xF6, 0xC1, 0x01,              // L1: test cl, 1
        0x74, 0x03,                    //     jz S (a join)
        0x47,                          //     inc edi
        0x01, 0xCE,                    //     add esi, ecx
        0x49,                          // S:  dec ecx
        0x75, 0xF5,                    //     jnz L1 (backward: ends the block)
        0xB9, 0x0A, 0x00, 0x00, 0x00,  //     mov ecx, 10
        0x01, 0xCB,                    // L2: add ebx, ecx
        0x49,                          //     dec ecx
        0x75, 0xFB,                    //     jnz L2
        0xF4};                         //     hlt
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    for (Machine* m : {&a, &b}) {
        test::setup_paged_pm(m->mem, m->c, code);
        m->c.s.gpr[cpu::EBX] = m->c.s.gpr[cpu::ESI] = 0;
        CHECK(m->c.run(100000) == cpu::Exit::kHalted);
        CHECK(m->c.r32(cpu::EDI) == 50u);
        CHECK(m->c.r32(cpu::ESI) == 2500u);  // the odd ECX values: 1 + 3 + ... + 99
        CHECK(m->c.r32(cpu::EBX) == 55u);
        // 2 + 100 * (test, jz, dec, jnz) + 50 * (inc, add) + 1 + 10 * 3 + HLT
        CHECK(m->c.s.icount == 2 + 400 + 100 + 1 + 30 + 1);
    }
    CHECK(compare(a, b) == 0);
    // The start's block (through the first pass to its jnz), body 1 (from L1), the second
    // loop's start (through its first pass), body 2 and the HLT's: 5. With side exits instead,
    // S would start blocks of its own.
    // The JIT's taken paths stay in their blocks too: none is built at S.
    CHECK(a.c.stats().blocks_built == 5);
    CHECK(b.c.stats().blocks_built == 5);
    const cpu::EngineStats* st = b.c.engine_stats();
    REQUIRE(st != nullptr);
    CHECK(st->side_joins == 2);  // the start's block and body 1
    // Both loops run in their blocks' code: the run loop enters only the first blocks.
    CHECK(st->blocks_run_native <= 5);
}

// The seeded loop tests' programs: ECX = the pass count, a body the test appends, then
// DEC ECX; JNZ back to the body; HLT.
struct LoopProgram {
    std::mt19937 rng;
    std::vector<uint8_t> code;
    size_t loop = 0;
    explicit LoopProgram(uint32_t seed) : rng(seed) {}
    unsigned pick(unsigned n) { return unsigned(std::uniform_int_distribution<unsigned>(0, n - 1)(rng)); }
    void d32(uint32_t v) {
        for (int k = 0; k < 4; ++k) code.push_back(uint8_t(v >> (8 * k)));
    }
    void begin(uint32_t passes) {
        code.clear();
        code.push_back(0xB9);  // mov ecx, passes
        d32(passes);
        loop = code.size();
    }
    void end() {
        code.insert(code.end(), {0x49, 0x0F, 0x85});  // dec ecx; jnz loop (near)
        d32(uint32_t(int32_t(loop) - int32_t(code.size() + 4)));
        code.push_back(0xF4);
    }
};

TEST_CASE("JIT: a join over one instruction done by CMOV matches the interpreter on either path") {
    // Seeded loops of flat 32-bit code: a flag setter (CMP, TEST, ADD, SUB, AND, XOR, INC,
    // DEC), a Jcc of any condition over one instruction the JIT may do without a branch (INC,
    // DEC, ADD/SUB of an immediate, ADD of a register, MOV, LEA), sometimes a flag reader
    // after it (SETcc, ADC: then its flags are live and the branch stays), and a register
    // mixer. ECX counts the passes; ESP is left alone. Each loop runs in both engines from the
    // same registers, whose values make either path likely.
    constexpr unsigned kRegs[] = {cpu::EAX, cpu::EDX, cpu::EBX, cpu::EBP, cpu::ESI, cpu::EDI};
    LoopProgram g(77);
    std::vector<uint8_t>& code = g.code;
    const auto pick = [&](unsigned n) { return g.pick(n); };
    const auto reg = [&] { return kRegs[pick(6)]; };
    uint64_t predicated = 0, joins = 0;
    for (unsigned seq = 0; seq < 400; ++seq) {
        g.begin(20 + pick(20));
        for (unsigned seg = 0, n = 1 + pick(4); seg < n; ++seg) {
            const unsigned a = reg(), b = reg();
            switch (pick(8)) {  // the flag setter
                case 0: code.insert(code.end(), {0x39, uint8_t(0xC0 | b << 3 | a)}); break;  // cmp a, b
                case 1: code.insert(code.end(), {0x85, uint8_t(0xC0 | b << 3 | a)}); break;  // test a, b
                case 2: code.insert(code.end(), {0x01, uint8_t(0xC0 | b << 3 | a)}); break;  // add a, b
                case 3: code.insert(code.end(), {0x83, uint8_t(0xE8 | a), uint8_t(pick(256))}); break;  // sub a, imm8
                case 4: code.insert(code.end(), {0x83, uint8_t(0xE0 | a), uint8_t(pick(256))}); break;  // and a, imm8
                case 5: code.insert(code.end(), {0x31, uint8_t(0xC0 | b << 3 | a)}); break;  // xor a, b
                case 6: code.push_back(uint8_t(0x40 | a)); break;                              // inc a
                default: code.push_back(uint8_t(0x48 | a)); break;                             // dec a
            }
            std::vector<uint8_t> skip;
            const unsigned x = reg(), y = reg();
            switch (pick(12)) {  // the instruction the branch skips
                case 0: skip = {uint8_t(0x40 | x)}; break;                             // inc x
                case 1: skip = {uint8_t(0x48 | x)}; break;                             // dec x
                case 2: skip = {0xFF, uint8_t(0xC0 | x)}; break;                       // inc x (FF /0)
                case 3: skip = {0x83, uint8_t(0xC0 | x), uint8_t(pick(256))}; break;   // add x, imm8
                case 4: skip = {0x81, uint8_t(0xE8 | x), uint8_t(pick(256)), uint8_t(pick(256)), 0x12, 0x80}; break;  // sub x, imm32
                case 5: skip = {0x05, uint8_t(pick(256)), 0, 0, 0x40}; break;           // add eax, imm32
                case 6: skip = {0x01, uint8_t(0xC0 | y << 3 | x)}; break;               // add x, y
                case 7: skip = {0x03, uint8_t(0xC0 | x << 3 | y)}; break;               // add x, y (03)
                case 8: skip = {0x89, uint8_t(0xC0 | y << 3 | x)}; break;               // mov x, y
                case 9: skip = {0x8B, uint8_t(0xC0 | x << 3 | y)}; break;               // mov x, y (8B)
                case 10: skip = {uint8_t(0xB8 | x), uint8_t(pick(256)), 0x34, 0x12, 0}; break;  // mov x, imm32
                default:                                                                // lea x, [y + x*4 + d8]
                    skip = {0x8D, uint8_t(0x44 | x << 3), uint8_t(0x80 | x << 3 | y), uint8_t(pick(256))};
                    break;
            }
            code.push_back(uint8_t(0x70 | pick(16)));  // jcc over it
            code.push_back(uint8_t(skip.size()));
            code.insert(code.end(), skip.begin(), skip.end());
            constexpr uint8_t kBytes[] = {0, 2, 3, 6, 7};  // AL, DL, BL, DH, BH (not CL or CH)
            if (pick(4) == 0) code.insert(code.end(), {0x0F, uint8_t(0x90 | pick(16)), uint8_t(0xC0 | kBytes[pick(5)])});  // setcc
            if (pick(6) == 0) code.insert(code.end(), {0x11, uint8_t(0xC0 | reg() << 3 | reg())});  // adc
            code.insert(code.end(), {0xC1, uint8_t(0xC0 | reg()), uint8_t(1 + pick(31))});  // rol r, n
        }
        g.end();
        Machine m0(cpu::CpuModel::kP6, false), m1(cpu::CpuModel::kP6, true);
        uint32_t init[8];
        for (uint32_t& v : init) v = pick(3) == 0 ? pick(4) : uint32_t(g.rng());
        for (Machine* m : {&m0, &m1}) {
            test::setup_paged_pm(m->mem, m->c, code);
            for (unsigned r : kRegs) m->c.s.gpr[r] = init[r];
            m->c.s.gpr[cpu::ESP] = test::kPmStack;
            m->c.set_eflags(0x2 | (init[1] & 0x8D5));
            CHECK(m->c.run(100000) == cpu::Exit::kHalted);
        }
        CAPTURE(seq);
        CAPTURE(test::hex_bytes(code.data(), code.size()));
        CHECK(compare(m0, m1) == 0);
        predicated += m1.c.engine_stats()->joins_predicated;
        joins += m1.c.engine_stats()->side_joins;
    }
    MESSAGE("side joins " << joins << ", predicated " << predicated);
    CHECK(predicated > 200);
    CHECK(joins > predicated);  // (those whose skipped flags are read keep their branch)
}

TEST_CASE("JIT: a register that a CMOV'd join may move is not reused as a page slot's base") {
    // mov eax, [esi] keeps ESI's page in a slot (for mov edx, [esi+8]); INC ESI, done by
    // CMOV (on bit 0 of ECX), moves ESI on one path only, so mov edx, [esi+4] must not take
    // the slot's address plus a known change.
    const std::vector<uint8_t> code = {
        0xB9, 0x28, 0x00, 0x00, 0x00,  //    mov ecx, 40
        0xBE, 0x00, 0x10, 0x02, 0x00,  //    mov esi, 21000h
        0x8B, 0x06,                    // L: mov eax, [esi]
        0x8B, 0x56, 0x08,              //    mov edx, [esi+8] (the slot's first reuse)
        0x01, 0xD0,                    //    add eax, edx
        0xF6, 0xC1, 0x01,              //    test cl, 1
        0x74, 0x01,                    //    jz +1
        0x46,                          //    inc esi
        0x01, 0xC3,                    //    add ebx, eax (INC's flags dead before the read)
        0x8B, 0x56, 0x04,              //    mov edx, [esi+4]
        0x01, 0xD3,                    //    add ebx, edx
        0x49,                          //    dec ecx
        0x75, 0xE9,                    //    jnz L
        0xF4};                         //    hlt
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    for (Machine* m : {&a, &b}) {
        test::setup_paged_pm(m->mem, m->c, code);
        m->c.s.gpr[cpu::EBX] = 0;
        for (uint32_t k = 0; k < 256; ++k) m->mem.write(kPmData + k, 1, k * 37 + 11);
        CHECK(m->c.run(10000) == cpu::Exit::kHalted);
        CHECK(m->c.r32(cpu::ESI) == kPmData + 20);
    }
    CHECK(compare(a, b) == 0);
    CHECK(b.c.engine_stats()->joins_predicated >= 1);
    CHECK(b.c.engine_stats()->page_reuses >= 1);  // (the slot was there to be misused)
}

TEST_CASE("JIT: page slots carried around loops that walk memory match the interpreter") {
    // Seeded loops in flat 32-bit paged code: pointer registers (ESI, EDI, EBX, EBP) start near a
    // page's end and move by INC, DEC, ADD or SUB of small constants each pass, so the walks
    // cross pages (forwards and backwards); each pass reads, writes and read-modify-writes at
    // [pointer + d] for small and page-sized d. One page is read-only and one not present, so
    // some walks fault (the handler halts). More pages than slots are walked at times, so a
    // pass also fills slots the head expects carried; some moves are skipped on data (joins,
    // some by CMOV), so the slots of the register moved are dropped. Memory and state must match.
    constexpr unsigned kPtrs[] = {cpu::ESI, cpu::EDI, cpu::EBX, cpu::EBP};
    constexpr uint32_t kReadOnly = 0x23000;  // (kPmNotPresent, 24000h, follows it)
    LoopProgram g(91);
    std::vector<uint8_t>& code = g.code;
    const auto pick = [&](unsigned n) { return g.pick(n); };
    const auto d32 = [&](uint32_t v) { g.d32(v); };
    uint64_t carried = 0, faults = 0;
    for (unsigned seq = 0; seq < 300; ++seq) {
        g.begin(30 + pick(200));
        const auto disp = [&] {
            const int32_t small = int32_t(pick(33)) - 16;
            return pick(3) == 0 ? small + 0x1000 * (int32_t(pick(5)) - 2) : small;
        };
        for (unsigned n = 2 + pick(9), k = 0; k < n; ++k) {
            const unsigned p = kPtrs[pick(4)];
            const int32_t d = disp();
            const uint8_t data = uint8_t(pick(2) ? cpu::EAX : cpu::EDX);
            const auto mem = [&](uint8_t op, unsigned reg) {  // op [p + d32] with reg field
                code.insert(code.end(), {op, uint8_t(0x80 | reg << 3 | p)});
                d32(uint32_t(d));
            };
            switch (pick(7)) {
                case 0: mem(0x8B, data); break;                 // mov data, [p + d]
                case 1: mem(0x89, data); break;                 // mov [p + d], data
                case 2: mem(0x01, data); break;                 // add [p + d], data
                case 3: mem(0x00, data); break;                 // add byte [p + d], al/dl
                case 4: mem(0x8A, data); break;                 // mov al/dl, [p + d]
                case 5: mem(0xFF, 0); break;                    // inc dword [p + d]
                default: mem(0x03, data); break;                // add data, [p + d]
            }
            if (pick(3) == 0) {  // move a pointer, at times only when bit n of EAX is set
                const unsigned q = kPtrs[pick(4)];
                std::vector<uint8_t> adjust;
                switch (pick(4)) {
                    case 0: adjust = {uint8_t(0x40 | q)}; break;  // inc q
                    case 1: adjust = {uint8_t(0x48 | q)}; break;  // dec q
                    case 2: adjust = {0x83, uint8_t(0xC0 | q), uint8_t(pick(24))}; break;  // add q, imm8
                    default: adjust = {0x83, uint8_t(0xE8 | q), uint8_t(pick(24))}; break;  // sub q, imm8
                }
                if (pick(3) == 0) {  // test eax, 1 << n; jz over it (a join: by CMOV when its flags are dead)
                    code.push_back(0xA9);
                    d32(1u << pick(32));
                    code.insert(code.end(), {0x74, uint8_t(adjust.size())});
                }
                code.insert(code.end(), adjust.begin(), adjust.end());
                if (pick(2)) code.insert(code.end(), {0x01, 0xC2});  // add edx, eax (the adjust's flags dead)
            }
        }
        g.end();
        Machine m0(cpu::CpuModel::kP6, false), m1(cpu::CpuModel::kP6, true);
        uint32_t start[4];
        for (uint32_t& v : start) v = 0x25000 + 0x1000 * pick(2) + (pick(2) ? 0x1000 - 1 - pick(64) : pick(64));
        const uint32_t eax = uint32_t(g.rng()), edx = uint32_t(g.rng());
        for (Machine* m : {&m0, &m1}) {
            test::setup_paged_pm(m->mem, m->c, code);
            m->mem.write(test::kPt + 4 * (kReadOnly >> 12), 4, kReadOnly | 1);  // present, read-only
            for (uint32_t a = 0x21000; a < 0x28000; a += 4) m->mem.write(a, 4, a * 2654435761u);
            for (unsigned k = 0; k < 4; ++k) m->c.s.gpr[kPtrs[k]] = start[k];
            m->c.s.gpr[cpu::EAX] = eax;
            m->c.s.gpr[cpu::EDX] = edx;
            m->c.s.gpr[cpu::ESP] = test::kPmStack;
            CHECK(m->c.run(200000) == cpu::Exit::kHalted);
        }
        CAPTURE(seq);
        CAPTURE(test::hex_bytes(code.data(), code.size()));
        CHECK(compare(m0, m1) == 0);
        carried += m1.c.engine_stats()->slots_carried;
        faults += m0.c.stats().exceptions;
    }
    MESSAGE("slots carried " << carried << ", walks that faulted " << faults);
    CHECK(carried > 300);
    CHECK(faults > 10);
}

TEST_CASE("JIT: a carried page slot that a pass fills again is not carried into the next") {
    // Four pages through ESI take the four slots from pass to pass; EDI's page, read twice
    // per pass, then fills a slot too, overwriting one of them: the branch back must forget
    // that one (the next pass's ESI access refills it) rather than move it along.
    std::vector<uint8_t> code = {0xB9, 0x64, 0x00, 0x00, 0x00};  // mov ecx, 100
    const size_t loop = code.size();
    code.insert(code.end(), {0x8B, 0x06});  // mov eax, [esi]
    for (uint32_t d : {4u, 0x1000u, 0x1004u, 0x2000u, 0x2004u, 0x3000u, 0x3004u}) {
        code.insert(code.end(), {0x03, 0x86});  // add eax, [esi + d32]
        test::put32(code, d);
    }
    code.insert(code.end(), {0x03, 0x07, 0x03, 0x47, 0x04});  // add eax, [edi]; add eax, [edi+4]
    code.insert(code.end(), {0x01, 0xC3, 0x83, 0xC6, 0x08, 0x49, 0x75});  // add ebx, eax; add esi, 8; dec ecx; jnz
    code.push_back(uint8_t(int(loop) - int(code.size()) - 1));
    code.push_back(0xF4);
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    for (Machine* m : {&a, &b}) {
        test::setup_paged_pm(m->mem, m->c, code);
        for (uint32_t p = 0x25000; p < 0x2A000; p += 4) m->mem.write(p, 4, p * 2654435761u);
        m->c.s.gpr[cpu::ESI] = 0x25000;
        m->c.s.gpr[cpu::EDI] = 0x29000;
        m->c.s.gpr[cpu::EBX] = 0;
        CHECK(m->c.run(10000) == cpu::Exit::kHalted);
    }
    CHECK(compare(a, b) == 0);
    CHECK(b.c.engine_stats()->slots_carried == 4);
}

TEST_CASE("JIT: XOR r, r and SUB r, r give zero and a zero result's flags, branched on at once") {
    // Each zeroes a register no later instruction of the block reads (so it has no host copy)
    // right after a compare that left ZF clear; the JZ after must see ZF set. Also AND/OR/XOR
    // of AH (flags overwritten before any read) change bits 8-15 of EAX alone.
    for (uint8_t op : {uint8_t(0x31), uint8_t(0x29)}) {  // xor / sub edx, edx
        const std::vector<uint8_t> code = {
            0xB8, 0x78, 0x56, 0x34, 0x12,  // mov eax, 12345678h
            0x80, 0xE4, 0xF0,              // and ah, 0F0h
            0x80, 0xCC, 0x09,              // or ah, 09h
            0x80, 0xF4, 0x81,              // xor ah, 81h
            0x83, 0xF9, 0x01,              // cmp ecx, 1 (ECX = 5: ZF clear)
            op, 0xD2,                      // xor/sub edx, edx
            0x74, 0x03,                    // jz T (a side exit)
            0x40,                          // inc eax (not reached)
            0xEB, 0x02,                    // jmp H (ends the block: EDX unused after the XOR)
            0x40, 0x40,                    // T: inc eax; inc eax
            0xF4};                         // H: hlt
        Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
        for (Machine* m : {&a, &b}) {
            test::setup_paged_pm(m->mem, m->c, code);
            m->c.s.gpr[cpu::ECX] = 5;
            m->c.s.gpr[cpu::EDX] = 0xDEADBEEF;
            CHECK(m->c.run(100) == cpu::Exit::kHalted);
            CHECK(m->c.r32(cpu::EDX) == 0u);
            CHECK(m->c.r32(cpu::EAX) == 0x1234D878u + 2);  // ((56h & F0h) | 09h) ^ 81h = D8h
        }
        CHECK(compare(a, b) == 0);
    }
}

TEST_CASE("JIT: MOVs through a page slot around a MOV that is not") {
    // mov eax, [esi] keeps its page in a slot for mov ecx, [esi+4]; between them mov ebx,
    // [edi] (another page, no later use) looks its page up without a slot, with the registers
    // that held the first page's address; the third MOV must still reach the first page.
    const std::vector<uint8_t> code = {
        0x8B, 0x06,        // mov eax, [esi]
        0x8B, 0x1F,        // mov ebx, [edi]
        0x8B, 0x4E, 0x04,  // mov ecx, [esi+4]
        0x89, 0x4F, 0x08,  // mov [edi+8], ecx
        0xF4};             // hlt
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    for (Machine* m : {&a, &b}) {
        test::setup_paged_pm(m->mem, m->c, code);
        m->c.s.gpr[cpu::ESI] = 0x26010;
        m->c.s.gpr[cpu::EDI] = 0x27020;
        m->mem.write(0x26010, 4, 0x11111111);
        m->mem.write(0x26014, 4, 0x22222222);
        m->mem.write(0x27020, 4, 0x33333333);
        CHECK(m->c.run(100) == cpu::Exit::kHalted);
        CHECK(m->c.r32(cpu::EAX) == 0x11111111u);
        CHECK(m->c.r32(cpu::EBX) == 0x33333333u);
        CHECK(m->c.r32(cpu::ECX) == 0x22222222u);
        CHECK(m->mem.read(0x27028, 4) == 0x22222222u);
    }
    CHECK(compare(a, b) == 0);
}

TEST_CASE("JIT blocks at CPL 3 access memory through the user TLB") {
    // At CPL 0 the code reads X (a supervisor page: its entry is now in the supervisor TLB),
    // then IRETs to CPL 3, where a loop reads U (a user page) and then X, which must raise #PF
    // (U/S), as from the interpreter. The #PF gate leads to a conforming code segment, so the
    // handler runs at CPL 3 on the user stack and marks EBX.
    constexpr uint32_t kX = 0x26000, kU = 0x27000;
    const std::vector<uint8_t> code = {
        0xA1, 0x00, 0x60, 0x02, 0x00,        //    mov eax, [X]
        0x6A, 0x2B,                          //    push 2Bh (SS: user data)
        0x68, 0x00, 0x80, 0x02, 0x00,        //    push 28000h (ESP, in U's page)
        0x6A, 0x02,                          //    push 2 (EFLAGS)
        0x6A, 0x23,                          //    push 23h (CS: user code)
        0x68, 0x18, 0x00, 0x02, 0x00,        //    push 20018h
        0xCF, 0x90, 0x90,                    //    iretd
        0xB9, 0x64, 0x00, 0x00, 0x00,        //    mov ecx, 100 (20018h, CPL 3)
        0x8B, 0x05, 0x00, 0x70, 0x02, 0x00,  // L: mov eax, [U]
        0x49,                                //    dec ecx
        0x75, 0xF7,                          //    jnz L
        0x8B, 0x05, 0x00, 0x60, 0x02, 0x00,  //    mov eax, [X] (#PF)
        0xBE, 0x11, 0x11, 0x00, 0x00,        //    mov esi, 1111h
        0xF4};                               //    hlt
    const uint8_t handler[] = {0xBB, 0xAD, 0xDE, 0x00, 0x00, 0xEB, 0xFE};  // mov ebx, 0DEADh; jmp $
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    for (Machine* m : {&a, &b}) {
        test::setup_paged_pm(m->mem, m->c, code);
        // GDT: 18h a conforming ring-0 code segment, 20h ring-3 code, 28h ring-3 data.
        const uint64_t gdt[] = {0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull, 0x00CF9F000000FFFFull,
                                0x00CFFB000000FFFFull, 0x00CFF3000000FFFFull};
        REQUIRE(m->mem.copy_to(test::kGdt, gdt, sizeof gdt));
        m->c.s.gdtr = {test::kGdt, sizeof gdt - 1};
        m->mem.write(test::kIdt + 8 * 14, 4, (0x18u << 16) | (test::kHandler & 0xFFFF));
        REQUIRE(m->mem.copy_to(test::kHandler, handler, sizeof handler));
        // Every page user-accessible but X.
        m->mem.write(test::kPd, 4, test::kPt | 7);
        for (uint32_t p = 0; p < 256; ++p) m->mem.write(test::kPt + 4 * p, 4, (p << 12) | 7);
        m->mem.write(test::kPt + 4 * (kX >> 12), 4, kX | 3);
        // (DS and ES: ring-3 data already, which the IRET keeps.)
        for (unsigned k : {cpu::DS, cpu::ES}) m->c.s.seg[k] = cpu::Segment{0, 0xFFFFFFFFu, 0x2B, 0xC0F3};
        m->c.s.gpr[cpu::ESP] = test::kPmStack;
        m->c.s.gpr[cpu::EBX] = m->c.s.gpr[cpu::ESI] = 0;
        m->mem.write(kU, 4, 0x5A5A5A5Au);
        CHECK(m->c.run(20000) == cpu::Exit::kBudget);
        CHECK(m->c.r32(cpu::EAX) == 0x5A5A5A5Au);  // U was read at CPL 3
        CHECK(m->c.r32(cpu::EBX) == 0xDEADu);   // the #PF was taken
        CHECK(m->c.r32(cpu::ESI) == 0u);        // at the read of X
        CHECK(m->c.s.cr[2] == kX);
        CHECK(m->c.cpl() == 3);
        CHECK(m->mem.read(0x28000 - 16, 4) == 5u);  // error code (under EIP, CS, EFLAGS): user, read, present
    }
    CHECK(compare(a, b) == 0);
}

TEST_CASE("JIT matches the interpreter on random sequences (differential)") {
    const Scenario scenarios[] = {
        {cpu::CpuModel::kP6, false}, {cpu::CpuModel::kP6, true},   {cpu::CpuModel::k386, true},
        {cpu::CpuModel::k486, false}, {cpu::CpuModel::k286, false}, {cpu::CpuModel::k8086, false},
    };
    Totals t;
    unsigned failures = 0;
    // (JIT_DIFF_PER: sequences per scenario, for a longer run by hand.)
    const char* per_env = std::getenv("JIT_DIFF_PER");
    const unsigned per = per_env ? unsigned(std::strtoul(per_env, nullptr, 10)) : 700;
    for (unsigned s = 0; s < std::size(scenarios) && failures < 3; ++s)
        for (uint32_t k = 0; k < per && failures < 3; ++k)
            if (!run_one(scenarios[s], 1000 * s + k + 1, t)) ++failures;
    MESSAGE("sequences " << t.sequences << ", instructions retired " << t.insns << ", faults "
                         << t.faults << ", native block runs " << t.native_blocks
                         << " (chained " << t.chained << "), dead flag computations skipped "
                         << t.flags_skipped << ", side joins translated " << t.side_joins
                         << " (predicated " << t.joins_predicated << ")");
    CHECK(failures == 0);
    CHECK(t.sequences == per * std::size(scenarios));
    CHECK(t.native_blocks > t.sequences);  // the JIT really ran code
    CHECK(t.chained > t.sequences);        // and went from block to block without the run loop
    CHECK(t.flags_skipped > t.sequences / 4);  // and dropped dead flag computations
    CHECK(t.side_joins > t.sequences / 8);     // and joined forward branches inside blocks
    CHECK(t.joins_predicated > 0);             // (some over one instruction, by CMOV)
    CHECK(t.faults > 100);                 // and the faults were exercised
}

TEST_CASE("JIT without the host's BMI2 instructions matches the interpreter on random sequences") {
    // The plain forms the engine uses where the host lacks BMI2 (the TLB index: MOV and SHR
    // for RORX), forced on this host.
    jit::EngineOptions opt;
    opt.host_bmi2 = false;
    Totals t;
    unsigned failures = 0;
    for (const Scenario sc : {Scenario{cpu::CpuModel::kP6, true}, Scenario{cpu::CpuModel::k486, false}})
        for (uint32_t k = 0; k < 300 && failures < 3; ++k)
            if (!run_one(sc, 7000 + k, t, opt)) ++failures;
    CHECK(failures == 0);
    CHECK(t.native_blocks > t.sequences);
    // Either way the TLB's fast path finds the page (a wrong index would only miss: slow).
    for (bool bmi2 : {false, true}) {
        const std::vector<uint8_t> code = {
            0xB9, 0xE8, 0x03, 0x00, 0x00,  //    mov ecx, 1000
            0x8B, 0x06,                    // L: mov eax, [esi]
            0x01, 0xC3,                    //    add ebx, eax
            0x49,                          //    dec ecx
            0x75, 0xF9,                    //    jnz L
            0xF4};                         //    hlt
        opt.host_bmi2 = bmi2;
        Machine m(cpu::CpuModel::kP6, true, opt);
        test::setup_paged_pm(m.mem, m.c, code);
        m.c.s.gpr[cpu::ESI] = kPmData;
        CHECK(m.c.run(10000) == cpu::Exit::kHalted);
        CHECK(m.c.engine_stats()->mem_slow <= 2);
    }
}

TEST_CASE("JIT takes external interrupts at the interpreter's instruction") {
    // A loop of inlined instructions (inc ax; add bx, ax; inc dx) closed by a static exit
    // (jmp back) or the dynamic one (push si; ret, SI = 0).
    for (bool indirect : {false, true})
    for (uint64_t at : {1u, 5u, 17u, 40u, 77u}) {
        std::vector<uint8_t> loop = {0x40, 0x01, 0xC3, 0x42, 0xEB, 0xFA};
        if (indirect) loop = {0x40, 0x01, 0xC3, 0x42, 0x56, 0xC3};
        Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
        test::TimedIrq ia, ib;
        for (auto* m : {&a, &b}) {
            Gen gg(5, false, true);
            setup_real(*m, loop, gg);
            m->c.set_eflags(m->c.eflags() | cpu::kIF);
            m->c.s.gpr[cpu::ESI] = 0;
        }
        ia.attach(a.c, at);
        ib.attach(b.c, at);
        a.c.run(500);
        b.c.run(500);
        CAPTURE(indirect);
        CAPTURE(at);
        CHECK(a.c.s.halted == 1);
        CHECK(compare(a, b) == 0);
        // The return address pushed is the interrupted instruction's, identical in both.
        CHECK(a.mem.read(0x30010 + a.c.r16(cpu::ESP), 2) == b.mem.read(0x30010 + b.c.r16(cpu::ESP), 2));
    }
}

namespace {
// An interrupt source like the machine's PIC: a byte for its request, which a store to its MMIO
// page raises (telling the CPU, InterruptSource::notifies_rise) and the acknowledge lowers.
struct MmioIrq final : cpu::InterruptSource, mmu::MmioHandler {
    Cpu* c = nullptr;
    bool line = false;
    bool irq_pending() override { return line; }
    const bool* pending_flag() const override { return &line; }
    bool notifies_rise() const override { return true; }
    uint8_t irq_acknowledge() override {
        line = false;
        return 0x1F;
    }
    uint32_t mmio_read(uint32_t, unsigned) override { return 0; }
    void mmio_write(uint32_t, unsigned, uint32_t) override {
        line = true;
        c->irq_rose();
    }
};
}  // namespace

TEST_CASE("JIT: an interrupt request a source reports is taken after the instruction that raised it") {
    // A loop of direct jumps runs with IF set and the line low (the JIT does not test it between
    // them: the source reports each rise); then a store to the source's MMIO page raises it in
    // the middle of a block. Both engines deliver it right after the store (EIP 2000Eh pushed):
    // the INCs of EBX do not run.
    const std::vector<uint8_t> code = {
        0xB9, 0x0A, 0x00, 0x00, 0x00,        // mov ecx, 10
        0x40,                                // L: inc eax
        0x49,                                //    dec ecx
        0x75, 0xFC,                          //    jnz L
        0xA3, 0x00, 0x80, 0x02, 0x00,        // mov [28000h], eax (the source's page)
        0x43,                                // inc ebx (2000Eh)
        0x43,                                // inc ebx
        0xF4};                               // hlt
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    MmioIrq ia, ib;
    for (auto [m, src] : {std::pair{&a, &ia}, std::pair{&b, &ib}}) {
        test::setup_paged_pm(m->mem, m->c, code);
        m->c.s.gpr[cpu::ESP] = kPmStack;
        m->c.s.gpr[cpu::EBX] = 0;
        m->c.s.eflags |= cpu::kIF;
        src->c = &m->c;
        m->c.set_interrupt_source(src);
        m->mem.map_mmio(0x28000, 0x1000, src);
        CHECK(m->c.run(1000) == cpu::Exit::kHalted);
        CHECK(m->c.s.eip == test::kHandler + 1);                      // halted in the handler
        CHECK(m->mem.read(kPmStack - 12, 4) == test::kPmCode + 0xE);  // after the store
        CHECK(m->c.r32(cpu::EBX) == 0);
    }
    CHECK(compare(a, b) == 0);
    CHECK(b.c.engine_stats()->blocks_direct >= 5);  // the loop's jumps were direct
}

TEST_CASE("JIT: returns and indirect calls through the inline caches follow EIP and the mapping") {
    // With an interrupt source that reports each rise (as the PC's), a dynamic exit (RET, CALL
    // through a register) tests its own link and then the jump cache's inline. Two indirect
    // calls choose their targets by CMOV: the first F or (three passes in four) G, whose EIPs
    // share a jump-cache slot, the second H or F. F returns to three call sites by turns. Every other pass remaps F's linear page to a frame holding another
    // F (a PTE store and INVLPG), so links and the jump cache hold a block that is no longer
    // the one CS:EIP names. None of these may be entered.
    std::vector<uint8_t> code = {0xB9, 0x34, 0x00, 0x00, 0x00,  // mov ecx, 52
                                 0xEB, 0x00};                   // jmp L (L's block: every pass)
    const size_t top = code.size();
    code.insert(code.end(), {0xB8, 0x00, 0x20, 0x02, 0x00,  // L: mov eax, 22000h (F)
                             0xBF, 0x1C, 0x50, 0x02, 0x00,  // mov edi, 2501Ch (G)
                             0xF6, 0xC1, 0x03,              // test cl, 3
                             0x0F, 0x45, 0xC7,              // cmovnz eax, edi
                             0xFF, 0xD0,                    // call eax
                             0x83, 0xC3, 0x01,              // add ebx, 1
                             0xB8, 0x00, 0x58, 0x02, 0x00,  // mov eax, 25800h (H)
                             0xBF, 0x00, 0x20, 0x02, 0x00,  // mov edi, 22000h (F)
                             0xF6, 0xC1, 0x01,              // test cl, 1
                             0x0F, 0x45, 0xC7,              // cmovnz eax, edi
                             0xFF, 0xD0,                    // call eax
                             0x83, 0xC3, 0x01,              // add ebx, 1
                             0xE8});                        // call 22000h
    test::put32(code, 0x22000 - (kPmCode + uint32_t(code.size()) + 4));
    code.insert(code.end(), {0x83, 0xC3, 0x01,  // add ebx, 1
                             0xF6, 0xC1, 0x01,  // test cl, 1
                             0x74, 0x11,        // jz skip
                             0x81, 0x35});      // xor dword [F's PTE], 1000h
    test::put32(code, test::kPt + 4 * 0x22);
    test::put32(code, 0x1000);
    code.insert(code.end(), {0x0F, 0x01, 0x3D});  // invlpg [22000h]
    test::put32(code, 0x22000);
    code.push_back(0x49);  // skip: dec ecx
    code.push_back(0x75);  // jnz L
    code.push_back(uint8_t(int(top) - int(code.size() + 1)));
    code.push_back(0xF4);
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    MmioIrq ia, ib;
    for (auto [m, src] : {std::pair{&a, &ia}, std::pair{&b, &ib}}) {
        test::setup_paged_pm(m->mem, m->c, code);
        // add edx, n; ret: F (7; 9 in the other frame), G (100), H (50)
        const std::pair<uint32_t, uint8_t> fns[] = {{0x22000, 7}, {0x23000, 9}, {0x2501C, 100}, {0x25800, 50}};
        for (auto [at, n] : fns) {
            const uint8_t fn[] = {0x83, 0xC2, n, 0xC3};
            REQUIRE(m->mem.copy_to(at, fn, sizeof fn));
        }
        m->c.s.gpr[cpu::ESP] = kPmStack;
        m->c.s.gpr[cpu::EBX] = 0;
        m->c.s.gpr[cpu::EDX] = 0;
        src->c = &m->c;
        m->c.set_interrupt_source(src);
        CHECK(m->c.run(100000) == cpu::Exit::kHalted);
    }
    CHECK(compare(a, b) == 0);
    // Over ECX = 52..1: G (100) when ECX & 3, else F; F when ECX & 1, else H (50); F; F's
    // frame changes (7 <-> 9) after the calls of each odd ECX.
    uint32_t edx = 0, f = 7;
    for (uint32_t c = 52; c > 0; --c) {
        edx += (c & 3 ? 100 : f) + (c & 1 ? f : 50) + f;
        if (c & 1) f = f == 7 ? 9 : 7;
    }
    CHECK(b.c.r32(cpu::EDX) == edx);
    CHECK(b.c.r32(cpu::EBX) == 156u);
    CHECK(b.c.engine_stats()->blocks_chained >= 156);
}

TEST_CASE("JIT: a dynamic exit to EIP 0 is not mistaken for an unlinked cache entry") {
    // The inline probe of a dynamic exit enters a link whose EIP matches without testing its
    // entry: a Link that links nothing holds an EIP no target has (Link::eip) and epoch 0, which
    // no code epoch is, so it is never entered. EIP 0 is the likeliest to collide with a zeroed
    // Link: calls to a function at linear 0 (add edx, 1; ret), through a register, with a
    // source that reports rises (so the probe is inline).
    const std::vector<uint8_t> code = {0xB9, 0x05, 0x00, 0x00, 0x00,  // mov ecx, 5
                                       0x31, 0xC0,                    // L: xor eax, eax
                                       0xFF, 0xD0,                    // call eax
                                       0x49,                          // dec ecx
                                       0x75, 0xF9,                    // jnz L
                                       0xF4};                         // hlt
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    MmioIrq ia, ib;
    for (auto [m, src] : {std::pair{&a, &ia}, std::pair{&b, &ib}}) {
        test::setup_paged_pm(m->mem, m->c, code);
        const uint8_t fn[] = {0x83, 0xC2, 0x01, 0xC3};  // add edx, 1; ret
        REQUIRE(m->mem.copy_to(0, fn, sizeof fn));
        m->c.s.gpr[cpu::ESP] = kPmStack;
        m->c.s.gpr[cpu::EDX] = 0;
        src->c = &m->c;
        m->c.set_interrupt_source(src);
        CHECK(m->c.run(10000) == cpu::Exit::kHalted);
    }
    CHECK(compare(a, b) == 0);
    CHECK(b.c.r32(cpu::EDX) == 5u);
}

namespace {
Cpu* g_stop_target = nullptr;  // for the signal handler below (a test's only global)
}  // namespace

TEST_CASE("JIT: a stop requested by a signal handler ends a chain of direct jumps") {
    // `jmp $` chains to itself by a direct jump; 20 ms in, SIGALRM's handler calls
    // request_stop(), which an embedder may do from any handler on the CPU's thread. The chain
    // must notice at its next block boundary, long before the budget (seconds of guest time)
    // ends the run.
    Machine m(cpu::CpuModel::kP6, true);
    test::setup_paged_pm(m.mem, m.c, {0xEB, 0xFE});
    m.c.s.gpr[cpu::ESP] = kPmStack;
    m.c.s.eflags &= ~cpu::kIF;
    g_stop_target = &m.c;
    struct sigaction sa = {}, old = {};
    sa.sa_handler = [](int) { g_stop_target->request_stop(); };
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(SIGALRM, &sa, &old) == 0);
    itimerval t = {}, off = {};
    t.it_value.tv_usec = 20000;
    REQUIRE(setitimer(ITIMER_REAL, &t, nullptr) == 0);
    const uint64_t budget = 4'000'000'000ull;
    const cpu::Exit e = m.c.run(budget);
    setitimer(ITIMER_REAL, &off, nullptr);
    sigaction(SIGALRM, &old, nullptr);
    g_stop_target = nullptr;
    CHECK(e == cpu::Exit::kStop);
    CHECK(m.c.s.icount < budget);
    CHECK(m.c.engine_stats()->blocks_direct > 0);
}

TEST_CASE("JIT: a store into the running block ends it and the new bytes execute") {
    // mov byte [0008], 40h; nop; nop; nop; inc cx (rewritten to inc ax); hlt
    const std::vector<uint8_t> code = {0xC6, 0x06, 0x08, 0x00, 0x40, 0x90, 0x90, 0x90, 0x41, 0xF4};
    for (bool use_jit : {false, true}) {
        CAPTURE(use_jit);
        Machine m(cpu::CpuModel::kP6, use_jit);
        Gen g(3, false, true);
        setup_real(m, code, g);
        const uint16_t ax = m.c.r16(cpu::EAX), cx = m.c.r16(cpu::ECX);
        CHECK(m.c.run(100) == cpu::Exit::kHalted);
        CHECK(m.c.r16(cpu::EAX) == uint16_t(ax + 1));
        CHECK(m.c.r16(cpu::ECX) == cx);
        CHECK(m.c.s.icount == 6);
        CHECK(m.c.stats().blocks_invalidated >= 1);
        // Run the same bytes again from the start: the stale translation must not come back.
        m.mem.write(kRmCode + 8, 1, 0x41);  // through the code watcher, like a guest store
        m.c.s.eip = 0;
        m.c.s.halted = 0;
        CHECK(m.c.run(100) == cpu::Exit::kHalted);
        CHECK(m.c.r16(cpu::EAX) == uint16_t(ax + 2));
        CHECK(m.c.r16(cpu::ECX) == cx);
    }
}

TEST_CASE("JIT: a page fault in an inlined load is precise") {
    // inc ebx; inc ebx; mov eax, [kPmNotPresent + 4]; hlt
    std::vector<uint8_t> code = {0x43, 0x43, 0xA1};
    test::put32(code, kPmNotPresent + 4);
    code.push_back(0xF4);
    for (bool use_jit : {false, true}) {
        CAPTURE(use_jit);
        Machine m(cpu::CpuModel::kP6, use_jit);
        Gen g(3, true, true);
        setup_pm(m, code, g);
        m.c.s.seg[cpu::SS] = cpu::Segment{0, 0xFFFFFFFFu, 0x10, 0xC093};
        m.c.s.gpr[cpu::ESP] = kPmStack;
        const uint32_t ebx = m.c.r32(cpu::EBX), eax = m.c.r32(cpu::EAX);
        CHECK(m.c.run(100) == cpu::Exit::kHalted);
        CHECK(m.c.last_exception() == cpu::kPageFault);
        CHECK(m.c.s.cr[2] == kPmNotPresent + 4);
        CHECK(m.c.r32(cpu::EBX) == ebx + 2);
        CHECK(m.c.r32(cpu::EAX) == eax);
        CHECK(m.mem.read(kPmStack - 16, 4) == 0);                // error code: read, not present
        CHECK(m.mem.read(kPmStack - 12, 4) == kPmCode + 2);      // EIP of the load
        CHECK(m.c.s.icount == 4);  // two INCs, the faulting load, the handler's HLT
        if (use_jit) CHECK(m.c.engine_stats()->blocks_run_native >= 1);
    }
}

TEST_CASE("JIT: shifts and rotates by every immediate count match the interpreter") {
    // For each operand size, op and count: load a pattern, shift it, push the flags. The whole
    // sequence runs in both engines; registers and the pushed flags (stack memory) must agree.
    for (uint32_t pattern : {0x80000001u, 0x4000C0FFu, 0x7FFF8000u}) {
        std::vector<uint8_t> code;
        for (unsigned size : {8u, 16u, 32u})
            for (unsigned op : {0u, 1u, 4u, 5u, 7u})
                for (unsigned count = 0; count < 34; ++count) {
                    code.insert(code.end(), {0x66, 0xB8});  // mov eax, pattern
                    test::put32(code, pattern);
                    if (count == 1 && size != 8) {
                        if (size == 32) code.push_back(0x66);
                        code.insert(code.end(), {0xD1, uint8_t(0xC0 | op << 3)});
                    } else {
                        if (size == 32) code.push_back(0x66);
                        code.insert(code.end(), {uint8_t(size == 8 ? 0xC0 : 0xC1),
                                                 uint8_t(0xC0 | op << 3), uint8_t(count)});
                    }
                    code.push_back(0x9C);  // pushf
                    code.push_back(0x50);  // push ax
                }
        code.push_back(0xF4);
        Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
        for (auto* m : {&a, &b}) {
            Gen gg(9, false, true);
            setup_real(*m, code, gg);
            m->c.s.gpr[cpu::ESP] = 0xF000;
        }
        CAPTURE(pattern);
        CHECK(a.c.run(100000) == cpu::Exit::kHalted);
        CHECK(b.c.run(100000) == cpu::Exit::kHalted);
        CHECK(compare(a, b) == 0);
        CHECK(b.c.engine_stats()->insns_inline > 3 * 5 * 30);  // the shifts ran inline
    }
}

TEST_CASE("JIT: flags of a store that rewrites the next instructions are kept") {
    // add [0007h], ax turns the following "add cx, dx" (01 D1) into "pushf; nop" (9C 90): the
    // block ends at the store, and the flags PUSHF saves are those of the store's ADD, although
    // in the block as translated a later ADD overwrote them.
    const std::vector<uint8_t> code = {0x01, 0x06, 0x07, 0x00,  // add [0007h], ax
                                       0xBB, 0x01, 0x00,        // mov bx, 1
                                       0x01, 0xD1,              // add cx, dx (rewritten)
                                       0xF4};
    for (uint16_t ax : {uint16_t(0x909C - 0xD101), uint16_t(0x909C - 0xD101 + 0x10000)}) {
        Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
        for (auto* m : {&a, &b}) {
            Gen gg(11, false, true);
            setup_real(*m, code, gg);
            m->c.set_r16(cpu::EAX, ax);
            m->c.s.gpr[cpu::ESP] = 0x8000;
            m->c.set_eflags(0x2 | cpu::kZF | cpu::kOF);  // differ from the ADD's result flags
        }
        CHECK(a.c.run(100) == cpu::Exit::kHalted);
        CHECK(b.c.run(100) == cpu::Exit::kHalted);
        CHECK(a.mem.read(kRmCode + 7, 2) == 0x909C);
        CHECK(compare(a, b) == 0);
        CHECK((a.mem.read(0x30010 + 0x8000 - 2, 2) & cpu::kCF) != 0);  // D101 + BF9B carries
    }
}

TEST_CASE("JIT: inline accesses at every offset around a segment's limits fault as interpreted") {
    // One load or store of 1, 2 or 4 bytes through ES at offsets around the segment's valid
    // range, in paged protected mode: expand-up with a byte-granular limit in mid-page,
    // expand-down (valid above the limit), and read-only (stores fault). Bases off page
    // boundaries, so the TLB's page-crossing test cannot hide a wrong limit compare.
    struct Seg {
        uint32_t base, limit;
        uint16_t attr;
        uint32_t edge;  // offsets edge-6 .. edge+2 are tried
    };
    const Seg segs[] = {
        {0x10, 0x21C3D, 0x4093, 0x21C3D},   // expand-up, limit in mid-page
        {0x30, 0x21403, 0x4097, 0x21404},   // expand-down: valid from 21404h up
        {0x50, 0x21C3D, 0x4091, 0x21C3D},   // read-only expand-up
    };
    unsigned faults = 0, runs = 0;
    for (const Seg& sg : segs)
        for (unsigned size : {1u, 2u, 4u})
            for (bool store : {false, true})
                for (uint32_t off = sg.edge - 6; off <= sg.edge + 2; ++off) {
                    // First a store through the flat DS to the same linear page, so that the
                    // TLB holds it and the ES access is decided by the inline limit compare.
                    const uint32_t warm = (sg.base + sg.edge) & ~3u;
                    std::vector<uint8_t> code = {0x89, 0x0D};  // mov [warm], ecx
                    test::put32(code, warm);
                    if (size == 2) code.push_back(0x66);
                    code.push_back(0x26);  // es:
                    code.push_back(size == 1 ? (store ? 0x88 : 0x8A) : (store ? 0x89 : 0x8B));
                    code.push_back(0x05);  // modrm: eax/al, [disp32]
                    test::put32(code, off);
                    code.push_back(0xF4);
                    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
                    for (auto* m : {&a, &b}) {
                        Gen gg(5, true, true);
                        setup_pm(*m, code, gg);
                        m->c.s.seg[cpu::ES] = cpu::Segment{sg.base, sg.limit, 0x10, sg.attr};
                        m->c.s.gpr[cpu::ESP] = kPmStack;
                        m->c.s.gpr[cpu::EAX] = 0x11223344;
                    }
                    CAPTURE(sg.attr);
                    CAPTURE(size);
                    CAPTURE(store);
                    CAPTURE(off);
                    CHECK(a.c.run(100) == cpu::Exit::kHalted);
                    CHECK(b.c.run(100) == cpu::Exit::kHalted);
                    CHECK(compare(a, b) == 0);
                    faults += a.c.stats().exceptions != 0;
                    ++runs;
                }
    // Both outcomes occur for every kind of segment (the interpreter is the reference).
    CHECK(faults > 20);
    CHECK(faults < runs - 20);
}

namespace {

// The interpreter (a) and the JIT (b) each run `code` at kPmCode in test_pm.h's flat paged
// layout (`prepare` adjusts each machine first) until HLT, within `budget` instructions; checks
// that they agree.
struct FlatPair {
    Machine a{cpu::CpuModel::kP6, false}, b{cpu::CpuModel::kP6, true};
    FlatPair(const std::vector<uint8_t>& code, const std::function<void(Machine&)>& prepare = {},
             uint64_t budget = 1000) {
        for (auto* m : {&a, &b}) {
            test::setup_paged_pm(m->mem, m->c, code);
            if (prepare) prepare(*m);
        }
        CHECK(a.c.run(budget) == cpu::Exit::kHalted);
        CHECK(b.c.run(budget) == cpu::Exit::kHalted);
        CHECK(compare(a, b) == 0);
    }
};

// GDT 20h: a 32-bit data segment at base 0 with limit 21000h (so [21800h] is past it).
void add_limited_data_segment(Machine& m) {
    m.mem.write(kGdt + 32, 4, 0x00001000u);
    m.mem.write(kGdt + 36, 4, 0x00429300u);
    m.c.s.gdtr.limit = 5 * 8 - 1;
}

}  // namespace

TEST_CASE("JIT: the flat-segment specialisation ends where segments can change") {
    // With DS, ES and SS flat the JIT skips their segment checks; a store through CS (not
    // writable) must still fault, and so must a load through DS after a POP DS in the same
    // block loads a data segment whose limit (21000h) the load is past. The TLB is warmed by a
    // flat store to the same page first, so only the segment check can catch either.
    // (POP DS is used because it does not end the decoded block, unlike MOV DS.)
    const uint8_t warm[] = {0x89, 0x0D, 0x00, 0x18, 0x02, 0x00};  // mov [21800h], ecx
    const std::vector<std::vector<uint8_t>> tails = {
        {0x2E, 0x89, 0x0D, 0x00, 0x18, 0x02, 0x00},  // mov cs:[21800h], ecx
        {0x6A, 0x20,                                 // push 20h
         0x1F,                                       // pop ds (does not end the block)
         0x8B, 0x05, 0x00, 0x18, 0x02, 0x00},        // mov eax, [21800h]
    };
    for (const auto& tail : tails) {
        std::vector<uint8_t> code(std::begin(warm), std::end(warm));
        code.insert(code.end(), tail.begin(), tail.end());
        code.push_back(0xF4);
        FlatPair p(code, [](Machine& m) {
            m.c.s.gpr[cpu::ESP] = kPmStack;
            add_limited_data_segment(m);
        }, 100);
        CHECK(p.a.c.last_exception() == cpu::kGP);
        CHECK(p.b.c.engine_stats()->insns_inline >= 2);
    }
}

namespace {

// Runs `code` at kPmCode in paged protected mode on both engines (with `extra` bytes placed at
// physical addresses first), and checks they agree. Returns the JIT machine's EAX.
uint32_t run_pm_pair(const std::vector<uint8_t>& code,
                     const std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& extra,
                     bool limited_gdt_entry = false, uint64_t min_chained = 5) {
    FlatPair p(code, [&](Machine& m) {
        m.c.s.gpr[cpu::ESP] = kPmStack;
        for (const auto& [addr, bytes] : extra) REQUIRE(m.mem.copy_to(addr, bytes.data(), bytes.size()));
        if (limited_gdt_entry) add_limited_data_segment(m);
    }, 10000);
    const cpu::EngineStats* st = p.b.c.engine_stats();
    CHECK(st->blocks_chained + st->blocks_direct >= min_chained);  // links were taken
    return p.b.c.r32(cpu::EAX);
}

}  // namespace

TEST_CASE("JIT: a link is not taken once its target's page is mapped elsewhere") {
    // A loop jumps from L to virtual 26000h ("inc eax", physical 26000h) twice, so the link is
    // made and checked; then it flips the page table entry to physical 27000h ("add eax, 100h")
    // and jumps twice more. The new mapping reaches the TLB either by INVLPG or by evicting the
    // entry (a load from 1026000h, 16 MiB on, shares its slot in any soft TLB of up to 4096
    // entries); the first jump after the flip misses the TLB, the second finds the new mapping
    // in it: neither may reuse the link checked under the old mapping.
    constexpr uint32_t pte26 = kPt + 0x26 * 4;
    for (bool evict : {false, true}) {
        CAPTURE(evict);
        // First a store to the page table entry, so the flip below needs no TLB fill (a fill
        // would make the JIT check its links again, hiding a missing check after INVLPG).
        static_assert(pte26 == 0x2098);
        std::vector<uint8_t> code = {
            0x83, 0x0D, 0x98, 0x20, 0x00, 0x00, 0x00,                    // or dword [pte26], 0
            0xB9, 0x04, 0x00, 0x00, 0x00,                                // mov ecx, 4
            0x31, 0xC0,                                                  // xor eax, eax
            0xE9, 0xED, 0x5F, 0x00, 0x00,                                // L: jmp 26000h
            0x49,                                                        // back: dec ecx
            0x74, 0x18,                                                  //   jz done
            0x83, 0xF9, 0x02,                                            //   cmp ecx, 2
            0x75, 0xF3,                                                  //   jne L
            0x81, 0x35, 0x98, 0x20, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,  //   xor [pte26], 1000h
            0x0F, 0x01, 0x3D, 0x00, 0x60, 0x02, 0x00,                    //   invlpg [26000h]
            0xEB, 0xE0,                                                  //   jmp L
            0xF4};                                                       // done: hlt
        if (evict) {  // instead of INVLPG: mov ebx, [1026000h]; nop
            const uint8_t load[7] = {0x8B, 0x1D, 0x00, 0x60, 0x02, 0x01, 0x90};
            std::copy(std::begin(load), std::end(load), code.begin() + 37);
        }
        const std::vector<std::pair<uint32_t, std::vector<uint8_t>>> extra = {
            {0x26000, {0x40, 0xE9, 0x0D, 0xA0, 0xFF, 0xFF}},              // inc eax; jmp back
            {0x27000, {0x05, 0x00, 0x01, 0x00, 0x00, 0xE9, 0x09, 0xA0, 0xFF, 0xFF}},  // add; jmp back
            {kPd + 4 * 4, {0x03, 0xA0, 0x02, 0x00}},                       // PDE 4: table at 2A000h
            {0x2A000 + 0x26 * 4, {0x03, 0x80, 0x02, 0x00}},                // 1026000h -> 28000h
        };
        // (Both run at virtual 26000h: their jumps back are relative to it.)
        CHECK(run_pm_pair(code, extra, false, 3) == 2 + 2 * 0x100);
    }
}

namespace {
// The pages of the alias tests: physical 30000h ends with "jmp +0" (at 30FFEh, a jump into the
// next linear page), mapped at 40000h, followed by 31000h ("inc eax; ret"), and at 50000h,
// followed by `next_b` (31000h, or 32000h: "add eax, 100h; ret").
std::vector<std::pair<uint32_t, std::vector<uint8_t>>> alias_pages(uint32_t next_b) {
    const auto pte = [](uint32_t lin, uint32_t phys) {
        const uint32_t v = phys | 3;
        return std::pair{kPt + (lin >> 12) * 4,
                         std::vector<uint8_t>{uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), 0}};
    };
    return {{0x30FFE, {0xEB, 0x00}},                          // jmp +0
            {0x31000, {0x40, 0xC3}},                          // inc eax; ret
            {0x32000, {0x05, 0x00, 0x01, 0x00, 0x00, 0xC3}},  // add eax, 100h; ret
            pte(0x40000, 0x30000), pte(0x41000, 0x31000), pte(0x50000, 0x30000),
            pte(0x51000, next_b)};
}
// Touches both aliases' pages (so no TLB fill happens later) and clears EAX.
std::vector<uint8_t> alias_prologue() {
    return {0x8B, 0x1D, 0xFE, 0x0F, 0x04, 0x00,   // mov ebx, [40FFEh] (and 41000h)
            0x8B, 0x1D, 0xFE, 0x0F, 0x05, 0x00,   // mov ebx, [50FFEh] (and 51000h)
            0x31, 0xC0};                          // xor eax, eax
}
// "mov ecx, 3; L: mov edx, lin; call edx; dec ecx; jnz L".
std::vector<uint8_t> three_calls(uint32_t lin) {
    std::vector<uint8_t> v = {0xB9, 0x03, 0x00, 0x00, 0x00, 0xBA};
    test::put32(v, lin);
    v.insert(v.end(), {0xFF, 0xD2, 0x49, 0x75, 0xF6});
    return v;
}
std::vector<uint8_t> alias_code(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> v;
    for (const auto& p : parts) v.insert(v.end(), p.begin(), p.end());
    return v;
}
}  // namespace

TEST_CASE("JIT: a link to another page is not taken from an alias of its block's page") {
    // Physical page 30000h ends with "jmp +0" (at 30FFEh), a jump into the next linear page,
    // and is mapped twice: at 40000h, followed by physical 31000h ("inc eax; ret"), and at
    // 50000h, followed by 32000h ("add eax, 100h; ret"). All four pages are touched first, so
    // no TLB fill happens later. Three calls through the first alias link the jump's exit and
    // check it; three through the second must not take that link (the same block, the same
    // TLB, but another EIP, whose next page maps elsewhere).
    const std::vector<uint8_t> code =
        alias_code({alias_prologue(), three_calls(0x40FFE), three_calls(0x50FFE), {0xF4}});
    CHECK(run_pm_pair(code, alias_pages(0x32000), false, 3) == 3 + 3 * 0x100);
}

TEST_CASE("JIT: a link checked at one alias of its block's page is not taken from another") {
    // The same pages, but both aliases' next pages first map to 31000h ("inc eax; ret"). Three
    // calls through 40000h link the jump's exit; then 41000h is mapped to 32000h ("add eax,
    // 100h; ret"), flushed and touched again; three calls through 50000h check the link again
    // (still 31000h there); three more through 40000h must not take it on the strength of that
    // check, made at the same epoch but at another EIP.
    static_assert(kPt == 0x2000);
    const std::vector<uint8_t> remap = {
        0xC7, 0x05, 0x04, 0x21, 0x00, 0x00, 0x03, 0x20, 0x03, 0x00,  // mov dword [2104h], 32003h
        0x0F, 0x01, 0x3D, 0x00, 0x10, 0x04, 0x00,                    // invlpg [41000h]
        0x8B, 0x1D, 0x00, 0x10, 0x04, 0x00};                         // mov ebx, [41000h]
    const std::vector<uint8_t> code =
        alias_code({alias_prologue(), three_calls(0x40FFE), remap, three_calls(0x50FFE),
                    three_calls(0x40FFE), {0xF4}});
    CHECK(run_pm_pair(code, alias_pages(0x31000), false, 3) == 6 + 3 * 0x100);
}

TEST_CASE("JIT: a link is not taken into code translated for flat segments once they are not") {
    // The loop L -> M -> L runs with flat segments, so its two links are made and checked then.
    // M ends with POP DS of 10h (flat) until the last round, where it pops 20h: a data segment
    // with limit 21000h. The links must then not enter L and M as translated for flat segments
    // (which skip the DS check): M's load from 21800h must raise #GP (the handler halts).
    // The GDT and stack pages are touched first: their TLB fills in the last round would make
    // the JIT check its links again, hiding a missing check after the segment change.
    const std::vector<uint8_t> code = {
        0x8B, 0x15, 0x00, 0x40, 0x00, 0x00,  // mov edx, [4000h]
        0x50, 0x58,                          // push eax; pop eax
        0xB9, 0x04, 0x00, 0x00, 0x00,        // mov ecx, 4
        0xEB, 0x00,                          // L: jmp M
        0x8B, 0x05, 0x00, 0x18, 0x02, 0x00,  // M: mov eax, [21800h]
        0x49,                                //    dec ecx
        0x83, 0xF9, 0x02,                    //    cmp ecx, 2
        0x19, 0xDB,                          //    sbb ebx, ebx
        0x83, 0xE3, 0x10,                    //    and ebx, 10h
        0x83, 0xC3, 0x10,                    //    add ebx, 10h (20h when ECX < 2)
        0x53,                                //    push ebx
        0x1F,                                //    pop ds
        0xEB, 0xE8};                         //    jmp L
    run_pm_pair(code, {}, true, 2);
}

TEST_CASE("JIT: direct jumps are undone when their page is written, and made again") {
    // The loop "A: jmp B; B: add eax, imm; dec ecx; jnz A" links A -> B and B -> A by direct
    // jumps (one page). After five rounds the code rewrites B's immediate (1, then 10h), which
    // invalidates the page's translations; the next five rounds must run the new code, through
    // new links.
    const std::vector<uint8_t> code = {
        0xBA, 0x02, 0x00, 0x00, 0x00,              // mov edx, 2
        0x31, 0xC0,                                // xor eax, eax
        0xB9, 0x05, 0x00, 0x00, 0x00,              // O: mov ecx, 5
        0xEB, 0x00,                                // A: jmp B
        0x83, 0xC0, 0x01,                          // B: add eax, 1 (immediate at 20010h)
        0x49,                                      //    dec ecx
        0x75, 0xF8,                                //    jnz A
        0xC6, 0x05, 0x10, 0x00, 0x02, 0x00, 0x10,  // mov byte [20010h], 10h
        0x4A,                                      // dec edx
        0x75, 0xE9,                                // jnz O
        0xF4};                                     // hlt
    FlatPair p(code);
    CHECK(p.b.c.r32(cpu::EAX) == 5 * 1 + 5 * 0x10);
    const cpu::EngineStats* st = p.b.c.engine_stats();
    CHECK(st->links_direct >= 4);  // A -> B and B -> A, before and after the write
    CHECK(st->blocks_direct >= 10);
}

TEST_CASE("JIT: a store into a block entered by a link ends it") {
    // Each iteration L's MOV CR0 (the same value: no TLB flush) ends the chain, so the run loop
    // enters J, whose jump to M (on the next page but one) is linked. M stores DL to the data page, but when EDX is 2 into
    // the immediate of its own ADD, which must then add 2 at once: EAX = 2 + 2. The block the
    // run loop entered (J) is not on the page written: only the running block (M) is.
    FlatPair p({0xBA, 0x05, 0x00, 0x00, 0x00,              // mov edx, 5
                0x31, 0xC0,                                // xor eax, eax
                0xBF, 0x00, 0x10, 0x02, 0x00,              // mov edi, 21000h (data)
                0xBB, 0x0C, 0x20, 0x02, 0x00,              // mov ebx, 2200Ch (the immediate)
                0x0F, 0x20, 0xC5,                          // L: mov ebp, cr0 (20011h)
                0x0F, 0x22, 0xC5,                          //    mov cr0, ebp
                0xE9, 0xE4, 0x1F, 0x00, 0x00},             // J: jmp M (22000h)
               [](Machine& m) {
                   m.c.s.gpr[cpu::ESP] = kPmStack;
                   m.c.s.eflags &= ~cpu::kIF;  // (no interrupt source: IF would end each chain)
                   const std::vector<uint8_t> blk_m = {
                       0x89, 0xFE,                          // M: mov esi, edi
                       0x83, 0xFA, 0x02,                    //    cmp edx, 2
                       0x0F, 0x44, 0xF3,                    //    cmove esi, ebx
                       0x88, 0x16,                          //    mov [esi], dl
                       0x83, 0xC0, 0x00,                    //    add eax, 0 (imm at 2200Ch)
                       0x4A,                                //    dec edx
                       0x0F, 0x85, 0xFD, 0xDF, 0xFF, 0xFF,  //    jnz L
                       0xF4};                               //    hlt
                   REQUIRE(m.mem.copy_to(0x22000, blk_m.data(), blk_m.size()));
               });
    CHECK(p.a.c.r32(cpu::EAX) == 4);
    CHECK(p.b.c.r32(cpu::EAX) == 4);
    CHECK(p.b.c.stats().blocks_invalidated >= 1);
    const cpu::EngineStats* st = p.b.c.engine_stats();
    CHECK(st->blocks_chained + st->blocks_direct >= 2);  // J's link to M was taken
}

TEST_CASE("JIT: x87 helpers keep a block's flat accesses and direct jumps") {
    // "L: fld1; fstp dword [21000h]; mov eax, [21000h]; dec ecx; jnz L": the x87 instructions
    // run as helpers, which cannot change segments or mode, so the loop still links to itself
    // by a direct jump.
    const std::vector<uint8_t> code = {
        0xB9, 0x0A, 0x00, 0x00, 0x00,        // mov ecx, 10
        0xDB, 0xE3,                          // fninit
        0xD9, 0xE8,                          // L: fld1
        0xD9, 0x1D, 0x00, 0x10, 0x02, 0x00,  //    fstp dword [21000h]
        0xA1, 0x00, 0x10, 0x02, 0x00,        //    mov eax, [21000h]
        0x49,                                //    dec ecx
        0x75, 0xF0,                          //    jnz L
        0xF4};                               // hlt
    FlatPair p(code);
    CHECK(p.b.c.r32(cpu::EAX) == 0x3F800000u);  // 1.0f
    // Rounds 1-3 start from the run loop (a new block, then twice while the link is made).
    CHECK(p.b.c.engine_stats()->blocks_direct >= 7);
}

namespace {

// The flag writers the JIT defers (jit/x64/engine.cpp, lf_kind): ADD, SUB, CMP, NEG, INC, DEC of
// AL/AX/EAX with BL/BX/EBX, by operand size.
std::vector<uint8_t> deferred_writer(unsigned op, int bits) {
    static const uint8_t k32[][2] = {{0x01, 0xD8}, {0x29, 0xD8}, {0x39, 0xD8},
                                     {0xF7, 0xD8}, {0x40, 0x00}, {0x48, 0x00}};
    static const uint8_t k8[][2] = {{0x00, 0xD8}, {0x28, 0xD8}, {0x38, 0xD8},
                                    {0xF6, 0xD8}, {0xFE, 0xC0}, {0xFE, 0xC8}};
    std::vector<uint8_t> v;
    if (bits == 16) v.push_back(0x66);
    const uint8_t* e = bits == 8 ? k8[op] : k32[op];
    v.push_back(e[0]);
    if (e[1] || bits == 8) v.push_back(e[1]);
    return v;
}

}  // namespace

TEST_CASE("JIT: deferred flags reach every kind of reader as the interpreter's") {
    // Each writer the JIT defers, at each size, on operands that do and do not carry, borrow,
    // overflow or give zero, with CF set and clear before it (INC and DEC keep it), is followed
    // by a reader of its flags in the same block and, after a JMP, at the start of the next one
    // (where the JIT does not know the kind): ADC, SBB, SETcc, Jcc, CMOV, INC/DEC then ADC,
    // SETcc or Jcc, a rotate and BT (they keep some flags), and PUSHF, LAHF, FCMOVB and FCOMI
    // (helpers; the x87 ones that touch no flags run with them still deferred). Each
    // case then stores EFLAGS and ECX, and runs three times (blocks are linked from the second
    // time on, so the kind crosses from block to block); the runs must agree. Then each writer
    // is followed by a store or an x87 load that page-faults, whose handler entry pushes EFLAGS.
    const std::vector<std::vector<uint8_t>> readers = {
        {0x83, 0xD1, 0x00},              // adc ecx, 0
        {0x83, 0xD9, 0x00},              // sbb ecx, 0
        {0x0F, 0x92, 0xC1},              // setc cl
        {0x0F, 0x97, 0xC1},              // seta cl
        {0x0F, 0x9C, 0xC1},              // setl cl
        {0x0F, 0x9F, 0xC1},              // setg cl
        {0x0F, 0x90, 0xC1},              // seto cl
        {0x0F, 0x9A, 0xC1},              // setp cl
        {0x0F, 0x98, 0xC1},              // sets cl
        {0x72, 0x01, 0x41},              // jc $+3; inc ecx
        {0x7E, 0x01, 0x41},              // jle $+3; inc ecx
        {0x0F, 0x42, 0xCE},              // cmovb ecx, esi
        {0x0F, 0x4A, 0xCE},              // cmovp ecx, esi
        {0x0F, 0x4F, 0xCE},              // cmovg ecx, esi
        {0x47, 0x83, 0xD1, 0x00},        // inc edi; adc ecx, 0
        {0x4F, 0x0F, 0x96, 0xC1},        // dec edi; setbe cl
        {0x47, 0x7C, 0x01, 0x41},        // inc edi; jl $+3; inc ecx
        {0x47, 0x0F, 0x9A, 0xC1},        // inc edi; setp cl
        {0xD1, 0xC6},                    // rol esi, 1
        {0x0F, 0xBA, 0xE6, 0x03},        // bt esi, 3
        {0x9F, 0x0F, 0xB6, 0xCC},        // lahf; movzx ecx, ah
        {0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xEE,        // fninit; fld1; fldz
         0xDA, 0xC1,                                // fcmovb st0, st1 (reads CF)
         0xDB, 0x1D, 0x00, 0xA0, 0x02, 0x00,        // fistp dword [2A000h]
         0x8B, 0x0D, 0x00, 0xA0, 0x02, 0x00},       // mov ecx, [2A000h]
        {0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xEE,        // fninit; fld1; fldz
         0xDB, 0xF1},                               // fcomi st0, st1 (writes ZF, PF, CF)
        {},                              // (the PUSHF below)
    };
    const uint32_t values[][2] = {{0xFFFFFFFF, 1}, {0x7FFFFFFF, 1}, {5, 7}, {0x80, 0x80},
                                  {0x8000, 0xFFFF}, {0, 0}, {0x7F, 0xFF}};
    constexpr uint32_t kRecords = 0x28000;
    uint64_t deferred = 0, resolved = 0;
    for (unsigned op = 0; op < 6; ++op) {
        for (int bits : {8, 16, 32}) {
            CAPTURE(op);
            CAPTURE(bits);
            for (const auto& v : values) {
                std::vector<uint8_t> code;
                uint32_t rec = kRecords;
                for (uint8_t carry : {0xF8, 0xF9}) {  // clc, stc
                    for (bool boundary : {false, true}) {
                        for (const auto& reader : readers) {
                            // Three rounds, so that the later ones go from block to block
                            // through links, with the kind left by the block before.
                            code.insert(code.end(), {0xBD, 3, 0, 0, 0});  // mov ebp, 3
                            const size_t top = code.size();
                            code.push_back(0xB8);  // mov eax, v0
                            test::put32(code, v[0]);
                            code.push_back(0xBB);  // mov ebx, v1
                            test::put32(code, v[1]);
                            code.push_back(0xBE);  // mov esi, v0 ^ v1
                            test::put32(code, v[0] ^ v[1]);
                            code.push_back(carry);
                            const auto w = deferred_writer(op, bits);
                            code.insert(code.end(), w.begin(), w.end());
                            if (boundary) code.insert(code.end(), {0xEB, 0x00});  // jmp $+2
                            code.insert(code.end(), reader.begin(), reader.end());
                            code.insert(code.end(), {0x9C, 0x5A});  // pushf; pop edx
                            code.insert(code.end(), {0x89, 0x15});  // mov [rec], edx
                            test::put32(code, rec);
                            code.insert(code.end(), {0x89, 0x0D});  // mov [rec + 4], ecx
                            test::put32(code, rec + 4);
                            code.push_back(0x4D);  // dec ebp
                            code.insert(code.end(), {0x75, uint8_t(top - (code.size() + 2))});
                            rec += 8;
                        }
                    }
                }
                code.push_back(0xF4);
                REQUIRE(kPmCode + code.size() < kPmNotPresent);
                FlatPair p(code, [](Machine& m) { m.c.s.gpr[cpu::ESP] = kPmStack; }, 100000);
                CHECK(p.a.c.last_exception() == -1);
                deferred += p.b.c.engine_stats()->flags_deferred;
                resolved += p.b.c.engine_stats()->flags_resolved;
            }

            // A page fault after the writer, in an inline store or an x87 helper (which the
            // JIT calls without resolving the flags): the handler's frame holds EFLAGS.
            for (const auto& v : values) {
                for (int faulting : {0, 1, 2, 3}) {
                    const bool boundary = faulting & 1, x87 = faulting & 2;
                    std::vector<uint8_t> f = {0xB8};
                    test::put32(f, v[0]);
                    f.push_back(0xBB);
                    test::put32(f, v[1]);
                    f.push_back(0xF9);  // stc
                    const auto w = deferred_writer(op, bits);
                    f.insert(f.end(), w.begin(), w.end());
                    if (boundary) f.insert(f.end(), {0xEB, 0x00});
                    if (x87) f.insert(f.end(), {0xD9, 0x05});  // fld dword [not present]
                    else f.insert(f.end(), {0x89, 0x0D});     // mov [not present], ecx
                    test::put32(f, kPmNotPresent);
                    f.push_back(0xF4);
                    FlatPair q(f, [](Machine& m) { m.c.s.gpr[cpu::ESP] = kPmStack; }, 100);
                    CHECK(q.a.c.last_exception() == cpu::kPageFault);
                }
            }
        }
    }
    CHECK(deferred > 6 * 3 * 2);  // the writers were deferred
    CHECK(resolved > 0);           // and some were resolved by the stub
}

TEST_CASE("JIT: helpers that keep the mode keep a block's direct jumps") {
    // "L: mov eax, 1000; xor edx, edx; div ebx; shl eax, cl; rep stosb; dec esi; jnz L": DIV,
    // the shift by CL and REP STOSB run as helpers, but ones that cannot load a segment or
    // change TF, the shadow or halt, so the loop still links to itself by a direct jump; a
    // MOV from CR0 in the loop (a helper not known to keep the mode) ends that.
    for (bool other : {false, true}) {
        CAPTURE(other);
        std::vector<uint8_t> code = {
            0xBE, 0x0A, 0x00, 0x00, 0x00,        // mov esi, 10
            0xBB, 0x07, 0x00, 0x00, 0x00,        // mov ebx, 7
            0xBF, 0x00, 0x10, 0x02, 0x00,        // mov edi, 21000h
            0x0F, 0x20, 0xC0,                    // L: mov eax, cr0 (or 3 NOPs)
            0xB8, 0xE8, 0x03, 0x00, 0x00,        //    mov eax, 1000
            0x31, 0xD2,                          //    xor edx, edx
            0xF7, 0xF3,                          //    div ebx
            0xB9, 0x03, 0x00, 0x00, 0x00,        //    mov ecx, 3
            0xD3, 0xE0,                          //    shl eax, cl
            0xF3, 0xAA,                          //    rep stosb
        };
        if (!other) std::fill(code.begin() + 15, code.begin() + 18, 0x90);
        code.insert(code.end(), {0x4E, 0x75});  // dec esi; jnz L
        code.push_back(uint8_t(15 - int(code.size() + 1)));
        code.push_back(0xF4);
        FlatPair p(code, [](Machine& m) { m.c.s.gpr[cpu::ESP] = kPmStack; });
        CHECK(p.b.c.r32(cpu::EAX) == (1000u / 7) << 3);
        CHECK(p.b.c.r32(cpu::EDI) == 0x21000u + 30);
        if (other) CHECK(p.b.c.engine_stats()->blocks_direct == 0);
        else CHECK(p.b.c.engine_stats()->blocks_direct >= 7);
    }
}

TEST_CASE("JIT: a linked exit after a helper that arms a breakpoint leaves for the run loop") {
    // "B: mov dr7, eax; jmp T" runs three times, T on the next page (so its exit is a guarded
    // link, made in the second round). The third round arms an instruction breakpoint on T:
    // generated code must not run on into T through the link, but leave for the run loop,
    // which raises #DB at T as the interpreter does, before T's INC.
    std::vector<uint8_t> code = {
        0xBE, 0x03, 0x00, 0x00, 0x00,  // mov esi, 3
        0x31, 0xDB,                    // xor ebx, ebx
        0xB8, 0x00, 0x10, 0x02, 0x00,  // mov eax, 21000h (T)
        0x0F, 0x23, 0xC0,              // mov dr0, eax
        0x31, 0xC0,                    // top: xor eax, eax
        0x83, 0xFE, 0x01,              //      cmp esi, 1
        0x75, 0x05,                    //      jne B
        0xB8, 0x01, 0x00, 0x00, 0x00,  //      mov eax, 1 (L0)
        0x0F, 0x23, 0xF8,              // B:   mov dr7, eax
        0xE9,                          //      jmp T
    };
    const uint32_t top = 15, t = 0x1000;
    const uint32_t rel = t - uint32_t(code.size() + 4);
    test::put32(code, rel);
    code.resize(t, 0x90);
    code.insert(code.end(), {0x43, 0x4E, 0x0F, 0x85});  // T: inc ebx; dec esi; jnz top
    const uint32_t back = top - uint32_t(code.size() + 4);
    test::put32(code, back);
    code.push_back(0xF4);
    FlatPair p(code, [](Machine& m) { m.c.s.gpr[cpu::ESP] = kPmStack; });
    CHECK(p.a.c.last_exception() == 1);  // #DB
    CHECK(p.b.c.r32(cpu::EBX) == 2);
    CHECK(p.b.c.engine_stats()->blocks_chained >= 1);
}

TEST_CASE("JIT: jumps between two pages become direct jumps") {
    // "L: inc eax; jmp M" on one page and "M: dec ecx; jnz L" on the next: both exits cross a
    // page, and once the guard has checked their links they jump directly while nothing that
    // maps CS:EIP changes.
    std::vector<uint8_t> code = {0xB9, 0x64, 0x00, 0x00, 0x00,  // mov ecx, 100
                                 0x40, 0xE9};                   // L: inc eax; jmp M
    const uint32_t l = 5, m = 0x1000;
    const uint32_t rel = m - uint32_t(code.size() + 4);
    test::put32(code, rel);
    code.resize(m, 0x90);
    code.insert(code.end(), {0x49, 0x0F, 0x85});  // M: dec ecx; jnz L
    const uint32_t back = l - uint32_t(code.size() + 4);
    test::put32(code, back);
    code.push_back(0xF4);
    FlatPair p(code, {}, 10000);
    CHECK(p.b.c.r32(cpu::EAX) == 100);
    CHECK(p.b.c.engine_stats()->blocks_direct > 150);
}

TEST_CASE("JIT: a direct jump leaves the block when the budget ends") {
    // "L: inc eax; jmp L" links to itself by a direct jump. Budgets that end inside and between
    // iterations must stop it exactly where the interpreter stops.
    const std::vector<uint8_t> code = {0x40, 0xEB, 0xFD};  // L: inc eax; jmp L
    for (uint64_t n : {1000u, 1001u, 7u, 2u}) {
        CAPTURE(n);
        Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
        for (auto* m : {&a, &b}) test::setup_paged_pm(m->mem, m->c, code);
        CHECK(a.c.run(n) == cpu::Exit::kBudget);
        CHECK(b.c.run(n) == cpu::Exit::kBudget);
        CHECK(b.c.s.icount == n);
        CHECK(compare(a, b) == 0);
        CHECK(b.c.run(n) == cpu::Exit::kBudget);  // and again from there, relinked or not
        CHECK(a.c.run(n) == cpu::Exit::kBudget);
        CHECK(compare(a, b) == 0);
        if (n >= 1000) CHECK(b.c.engine_stats()->blocks_direct > 400);
    }
}

namespace {
// The loop "L: jmp M; M: inc eax; dec ecx; jnz L" three times under the flat code segment (so
// L's exit becomes a direct jump to M), then `tail`, run with GDT entry 18h = {lo, hi}: both
// engines, to the HLT.
FlatPair far_loop_pair(const std::vector<uint8_t>& tail, uint32_t lo, uint32_t hi) {
    std::vector<uint8_t> code = {
        0xB9, 0x03, 0x00, 0x00, 0x00,        // mov ecx, 3
        0xEB, 0x00,                          // L: jmp M (20005h)
        0x40,                                // M: inc eax (20007h)
        0x49,                                //    dec ecx
        0x75, 0xFA};                         //    jnz L
    code.insert(code.end(), tail.begin(), tail.end());
    return FlatPair(code, [lo, hi](Machine& m) {
        m.c.s.gpr[cpu::ESP] = kPmStack;
        m.mem.write(kGdt + 24, 4, lo);
        m.mem.write(kGdt + 28, 4, hi);
        m.c.s.gdtr.limit = 4 * 8 - 1;
    });
}
}  // namespace

TEST_CASE("JIT: a direct jump into code past a lowered CS limit faults like the interpreter") {
    // After the loop (ECX = 0) a far jump loads CS 18h: the same base, limit 20007h, which
    // still covers L (20005h) but not all of M (20007h..2000Ah). The far jump lands on L, whose
    // jump to M must not enter M's translation: the interpreter runs M's INC and raises #GP
    // (to the handler's HLT) at its DEC, past the limit.
    // GDT 18h: code, base 0, byte-granular limit 20007h (just past L's JMP), 32-bit.
    FlatPair p = far_loop_pair({0xEA, 0x05, 0x00, 0x02, 0x00, 0x18, 0x00,  // jmp far 18h:20005h
                                0xF4},
                               0x00000007u, 0x00429B00u);
    CHECK(p.a.c.last_exception() == cpu::kGP);
    CHECK(p.b.c.last_exception() == cpu::kGP);
    CHECK(p.b.c.r32(cpu::EAX) == 3 + 1);
    CHECK(p.b.c.engine_stats()->blocks_direct >= 1);
}

TEST_CASE("JIT: code that wraps past EIP 4 GiB is not entered by a direct jump") {
    // After the loop a far jump loads CS 18h: limit 4 GiB, base 2000Ah, so L (20005h) is at
    // EIP FFFFFFFBh and M at FFFFFFFDh, whose JNZ (FFFFFFFFh) wraps EIP to 1. The interpreter
    // fetches across the wrap (no limit fault with 4 GiB), but its run loop does not reuse a
    // block whose span passes 4 GiB (it decodes it again): L's direct jump must not enter M's
    // translation either, so the statistics stay the interpreter's.
    // GDT 18h: code, base 2000Ah, limit FFFFFh pages (4 GiB), 32-bit.
    FlatPair p = far_loop_pair({0x85, 0xDB,                    // test ebx, ebx (EIP 1 under 18h)
                                0x75, 0x0D,                    // jnz done
                                0x43,                          // inc ebx
                                0xB9, 0x03, 0x00, 0x00, 0x00,  // mov ecx, 3
                                0xEA, 0xFB, 0xFF, 0xFF, 0xFF, 0x18, 0x00,  // jmp far 18h:FFFFFFFBh
                                0xF4},                         // done: hlt
                               0x000AFFFFu, 0x00CF9B02u);
    CHECK(p.b.c.last_exception() == -1);
    CHECK(p.b.c.r32(cpu::EAX) == 6);
    CHECK(p.b.c.s.seg[cpu::CS].sel == 0x18);
    CHECK(p.b.c.engine_stats()->blocks_direct >= 1);
}

TEST_CASE("JIT: a block translated for a flat CS is not entered through the guard under a limited one") {
    // S's RETF goes to K twice: first under the flat CS 08h, where K's indirect jump to M and
    // the RETF's own exit get linked to blocks translated for a flat CS (M's JNZ then skips
    // its limit check); then under CS 18h (base 0, limit 2001Bh: S, K and M but not L). The
    // links must not enter those translations: the interpreter raises #GP at M's JNZ, whose
    // target L is past the limit.
    FlatPair p({0xB9, 0x05, 0x00, 0x00, 0x00,        // mov ecx, 5
                0xBB, 0x18, 0x00, 0x02, 0x00,        // mov ebx, M (20018h)
                0xBE, 0x08, 0x00, 0x00, 0x00,        // mov esi, 8
                0x56,                                // S: push esi (2000Fh)
                0x68, 0x16, 0x00, 0x02, 0x00,        //    push K
                0xCB,                                //    retf
                0xFF, 0xE3,                          // K: jmp ebx (20016h)
                0x40,                                // M: inc eax
                0x49,                                //    dec ecx
                0x75, 0x0D,                          //    jnz L (20029h)
                0xBE, 0x18, 0x00, 0x00, 0x00,        // mov esi, 18h
                0xB9, 0x02, 0x00, 0x00, 0x00,        // mov ecx, 2
                0xEB, 0xE7,                          // jmp S
                0xF4,                                // hlt
                0xEB, 0xEB},                         // L: jmp K
               [](Machine& m) {
                   m.c.s.gpr[cpu::ESP] = kPmStack;
                   // GDT 18h: code, base 0, byte-granular limit 2001Bh, 32-bit.
                   m.mem.write(kGdt + 24, 4, 0x0000001Bu);
                   m.mem.write(kGdt + 28, 4, 0x00429B00u);
                   m.c.s.gdtr.limit = 4 * 8 - 1;
               });
    CHECK(p.a.c.last_exception() == cpu::kGP);
    CHECK(p.b.c.last_exception() == cpu::kGP);
    CHECK(p.b.c.r32(cpu::EAX) == 5 + 1);
    CHECK(p.b.c.memory().read(kPmStack - 12, 4) == 0x2001Au);  // the #GP's EIP: M's JNZ
    CHECK(p.b.c.memory().read(kPmStack - 8, 4) == 0x18u);      // ... under CS 18h
    CHECK(p.b.c.engine_stats()->blocks_chained >= 2);  // links were taken under CS 08h
}

TEST_CASE("JIT: after an interrupt through a trap gate the next one waits one instruction") {
    // Vector 40h is a trap gate (IF stays set), and the IRQ is raised twice back to back: the
    // interpreter runs the handler's first instruction before the run loop takes the second
    // one, which the nested frame's return address shows. The JIT must not run more of the
    // handler's block first.
    const std::vector<uint8_t> code = {0x40, 0xEB, 0xFD,              // L: inc eax; jmp L
                                       0x90, 0x90, 0x90, 0x90, 0x90,  // (padding)
                                       0x46, 0x46, 0x46, 0xCF};       // handler: inc esi x3; iretd
    for (uint64_t at : {2u, 7u}) {
        Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
        test::TimedIrq ia, ib;
        ia.times = ib.times = 2;
        for (auto* m : {&a, &b}) {
            Gen gg(5, true, true);
            setup_pm(*m, code, gg);
            m->c.s.seg[cpu::SS] = cpu::Segment{0, 0xFFFFFFFFu, 0x10, 0xC093};
            m->c.s.gpr[cpu::ESP] = kPmStack;
            const uint32_t h = kPmCode + 8;
            m->mem.write(kIdt + 8 * 0x40, 4, (0x08u << 16) | (h & 0xFFFF));
            m->mem.write(kIdt + 8 * 0x40 + 4, 4, (h & 0xFFFF0000u) | 0x8F00u);  // trap gate
            m->c.s.idtr.limit = 0x41 * 8 - 1;
            m->c.set_eflags(m->c.eflags() | cpu::kIF);
        }
        ia.attach(a.c, at);
        ib.attach(b.c, at);
        a.c.run(200);
        b.c.run(200);
        CAPTURE(at);
        CHECK(ia.taken == 2);
        CHECK(compare(a, b) == 0);
        // The second frame's return address (below the first frame) is handler + 1.
        CHECK(a.mem.read(kPmStack - 24, 4) == kPmCode + 9);
    }
}

namespace {

// Linear pages 26000h and 27000h mapped to physical 60000h and 50000h (not adjacent, and not
// in their host order), both filled with a byte pattern, and 28000h mapped to a physical page
// with no memory behind it (reads give all ones).
void map_scattered_pages(Machine& m) {
    m.mem.write(kPt + 4 * 0x26, 4, 0x60000 | 3);
    m.mem.write(kPt + 4 * 0x27, 4, 0x50000 | 3);
    m.mem.write(kPt + 4 * 0x28, 4, 0x0F000000 | 3);
    for (uint32_t a : {0x50000u, 0x60000u})
        for (uint32_t k = 0; k < 0x1000; ++k) m.mem.write(a + k, 1, (k * 7 + (a >> 12)) & 0xFF);
    m.c.s.gpr[cpu::ESP] = kPmStack;
}

}  // namespace

TEST_CASE("JIT: accesses through a kept page address stay on their page") {
    // A loop whose body reads around EBP (MOV, ALU, MOVZX, IMUL, CMP forms, below and above
    // the first read, byte to dword), then stores around it, while EBP walks across the
    // boundary of two linear pages whose physical pages are not adjacent: every access that
    // leaves the first one's page must find the other one.
    std::vector<uint8_t> code = {0xBD, 0xF0, 0x6F, 0x02, 0x00,  // mov ebp, 26FF0h
                                 0xB9, 0x20, 0x00, 0x00, 0x00,  // mov ecx, 32
                                 0x31, 0xF6};                   // xor esi, esi
    const std::vector<uint8_t> body = {
        0x8B, 0x45, 0x00,        // L: mov eax, [ebp]     (keeps the page)
        0x8B, 0x55, 0x08,        // mov edx, [ebp+8]
        0x01, 0xD0,              // add eax, edx
        0x03, 0x45, 0xFA,        // add eax, [ebp-6]
        0x0F, 0xB7, 0x55, 0x02,  // movzx edx, word [ebp+2]
        0x01, 0xD6,              // add esi, edx
        0x0F, 0xB6, 0x55, 0x03,  // movzx edx, byte [ebp+3]
        0x01, 0xD6,              // add esi, edx
        0x0F, 0xAF, 0x45, 0xFF,  // imul eax, [ebp-1]
        0x3B, 0x45, 0x01,        // cmp eax, [ebp+1]
        0x83, 0xD6, 0x00,        // adc esi, 0
        0x8A, 0x55, 0x0B,        // mov dl, [ebp+11]
        0x01, 0xD6,              // add esi, edx
        0x01, 0xC6,              // add esi, eax
        0x89, 0x75, 0x0C,        // mov [ebp+12], esi   (keeps the page for stores)
        0x89, 0x55, 0x10,        // mov [ebp+16], edx   (from EDX's host register)
        0x03, 0x75, 0x10,        // add esi, [ebp+16]
        0x88, 0x55, 0xFD,        // mov [ebp-3], dl
        0x66, 0x89, 0x75, 0x0E,  // mov [ebp+14], si
        0xC7, 0x45, 0x07, 0x78, 0x56, 0x34, 0x12,  // mov dword [ebp+7], 12345678h
        0x03, 0x75, 0xFD,        // add esi, [ebp-3]
        0x45,                    // inc ebp
        0x49,                    // dec ecx
    };
    code.insert(code.end(), body.begin(), body.end());
    code.push_back(0x75);
    code.push_back(uint8_t(-int(body.size()) - 2));  // jnz L
    code.push_back(0xF4);
    FlatPair p(code, map_scattered_pages, 10000);
    CHECK(p.b.c.engine_stats()->page_reuses >= 12);
    CHECK(p.b.c.r32(cpu::EBP) == 0x27010);
}

TEST_CASE("JIT: a block's last instruction loading a register from memory through the slow path") {
    // MOV r32, [m] loads into the register's host copy on the fast path; on the slow path (a
    // page not in the TLB yet) the value comes back in eax and must reach the copy, also when
    // the load is the block's last instruction (here the last one on its page, so it has no
    // stop test of its own). EBX is in a host register from the ADD before it.
    std::vector<uint8_t> code = {0xE9};  // jmp to the load's block, the last bytes of the page
    const uint32_t at = kPmCode + 0x1000 - 9;
    test::put32(code, at - (kPmCode + 5));
    code.resize(at - kPmCode);
    code.insert(code.end(), {0x83, 0xC3, 0x05,  // add ebx, 5
                             0x8B, 0x1D});      // mov ebx, [28004h] (ends the page)
    test::put32(code, 0x28004);
    code.insert(code.end(), {0x01, 0xD8, 0xF4});  // add eax, ebx; hlt (the next page)
    Machine a{cpu::CpuModel::kP6, false}, b{cpu::CpuModel::kP6, true};
    for (Machine* m : {&a, &b}) {
        test::setup_paged_pm(m->mem, m->c, code);
        m->mem.write(0x28004, 4, 0x13572468);
        m->c.s.gpr[cpu::EAX] = 0x1000;
        m->c.s.gpr[cpu::EBX] = 7;
        m->c.s.gpr[cpu::ESP] = kPmStack;
        CHECK(m->c.run(1000) == cpu::Exit::kHalted);
    }
    CHECK(compare(a, b) == 0);
    CHECK(b.c.r32(cpu::EAX) == 0x13572468u + 0x1000u);
    CHECK(b.c.engine_stats()->mem_slow >= 1);
}

TEST_CASE("JIT: a kept page address is dropped when its base register changes") {
    // [ebp] is read (26FF8h, page 26000h), then EBP is changed by each kind of write, and
    // [ebp+4] read again: it must come from EBP's new page (27000h or 28000h).
    const std::vector<std::vector<uint8_t>> changes = {
        {0xBD, 0x00, 0x70, 0x02, 0x00},  // mov ebp, 27000h
        {0x8D, 0xAD, 0x08, 0x10, 0x00, 0x00},  // lea ebp, [ebp+1008h]
        {0x81, 0xC5, 0x08, 0x10, 0x00, 0x00},  // add ebp, 1008h
        {0x87, 0xEB},                    // xchg ebx, ebp
        {0x93, 0x95},                    // xchg ebx, eax; xchg ebp, eax
        {0x5D},                          // pop ebp
        {0x66, 0xBD, 0x00, 0x80},        // mov bp, 8000h
        {0x8B, 0x6D, 0x10},              // mov ebp, [ebp+10h]
        {0x0F, 0xB7, 0xEB},              // movzx ebp, bx
        {0x45, 0x45, 0x45, 0x45, 0x45, 0x45, 0x45, 0x45},  // inc ebp (x8)
    };
    for (const auto& change : changes) {
        CAPTURE(change.size());
        CAPTURE(int(change[0]));
        std::vector<uint8_t> code = {0xBD, 0xF8, 0x6F, 0x02, 0x00,  // mov ebp, 26FF8h
                                     0xBB, 0x00, 0x70, 0x02, 0x00,  // mov ebx, 27000h
                                     0x68, 0x04, 0x80, 0x02, 0x00,  // push 28004h
                                     0x8B, 0x45, 0x00};             // mov eax, [ebp]
        code.insert(code.end(), change.begin(), change.end());
        const uint8_t tail[] = {0x8B, 0x55, 0x04,  // mov edx, [ebp+4]
                                0x8B, 0x4D, 0x00,  // mov ecx, [ebp]
                                0xF4};
        code.insert(code.end(), std::begin(tail), std::end(tail));
        FlatPair p(code, [](Machine& m) {
            map_scattered_pages(m);
            m.mem.write(0x60000 + 0xFF8 + 0x10, 4, 0x27004);  // [26FF8h + 10h], for mov ebp, [ebp+10h]
        });
        CHECK(p.b.c.r32(cpu::EBP) != 0x26FF8);
        CHECK(p.b.c.engine_stats()->insns_inline >= 6);
    }
}

TEST_CASE("JIT: a kept page address is not used when the read that kept it had no fast path") {
    // The first read of [ebp] lands on a page without memory behind it (all ones, the slow
    // path every time), or its bytes cross a page boundary: reads after it in the same block,
    // and the loop around them, must still give what the interpreter gives.
    for (uint32_t ebp : {0x28010u, 0x27FFEu, 0x26FFEu}) {
        CAPTURE(ebp);
        std::vector<uint8_t> code = {0xBD};
        test::put32(code, ebp);                        // mov ebp, ...
        const uint8_t rest[] = {0xB9, 0x03, 0x00, 0x00, 0x00,  // mov ecx, 3
                                0x8B, 0x45, 0x00,              // L: mov eax, [ebp]
                                0x8B, 0x55, 0x04,              // mov edx, [ebp+4]
                                0x03, 0x45, 0xFC,              // add eax, [ebp-4]
                                0x01, 0xC6,                    // add esi, eax
                                0x01, 0xD7,                    // add edi, edx
                                0x49,                          // dec ecx
                                0x75, 0xF0,                    // jnz L
                                0xF4};
        code.insert(code.end(), std::begin(rest), std::end(rest));
        FlatPair p(code, map_scattered_pages);
        CHECK(p.b.c.engine_stats()->page_reuses >= 2);
    }
}

TEST_CASE("JIT: a kept page address is dropped at a helper that remaps the page") {
    // [ebp] is read (page 26000h, physical 60000h); the page table entry is changed to
    // physical 50000h and the page's translation invalidated; [ebp+4] must come from there.
    const std::vector<uint8_t> code = {
        0xBD, 0xF8, 0x6F, 0x02, 0x00,                                // mov ebp, 26FF8h
        0x8B, 0x45, 0x00,                                            // mov eax, [ebp]
        0xC7, 0x05, 0x98, 0x20, 0x00, 0x00, 0x03, 0x00, 0x05, 0x00,  // mov dword [2098h], 50003h
        0x0F, 0x01, 0x7D, 0x00,                                      // invlpg [ebp]
        0x8B, 0x55, 0x04,                                            // mov edx, [ebp+4]
        0xF4};
    FlatPair p(code, map_scattered_pages);
    CHECK(p.b.c.r32(cpu::EDX) == p.b.mem.read(0x50FFC, 4));
    CHECK(p.b.c.r32(cpu::EAX) == p.b.mem.read(0x60FF8, 4));
}

TEST_CASE("JIT: flags that partial writers keep reach later readers (per-flag liveness)") {
    // Three register-only flag writers (full ones, and INC, DEC and rotates, which keep some
    // flags) then a reader of some flags, then HLT (where every flag is compared): each flag a
    // writer skips or does not merge must really be overwritten before it is read.
    const std::vector<std::vector<uint8_t>> writers = {
        {0x43}, {0x49}, {0x01, 0xDA}, {0xC1, 0xC3, 0x07}, {0xD1, 0xC9}, {0xC1, 0xE2, 0x03}, {0x29, 0xCB},
    };
    const std::vector<std::vector<uint8_t>> readers = {
        {}, {0x0F, 0x92, 0xC0}, {0x0F, 0x90, 0xC0}, {0x0F, 0x98, 0xC0}, {0x0F, 0x94, 0xC0},
        {0x0F, 0x9A, 0xC0}, {0x0F, 0x97, 0xC0}, {0x0F, 0x9C, 0xC0}, {0x83, 0xD0, 0x00},
    };
    const uint32_t values[][3] = {{0x7FFFFFFF, 1, 0x80000000}, {0xFFFFFFFF, 0, 0x40000001}};
    int runs = 0;
    for (const auto& w1 : writers)
        for (const auto& w2 : writers)
            for (const auto& w3 : writers)
                for (const auto& r : readers)
                    for (const auto& v : values) {
                        std::vector<uint8_t> code;
                        for (const auto* part : {&w1, &w2, &w3, &r}) code.insert(code.end(), part->begin(), part->end());
                        code.push_back(0xF4);
                        FlatPair p(code, [&](Machine& m) {
                            m.c.s.gpr[cpu::EBX] = v[0];
                            m.c.s.gpr[cpu::ECX] = v[1];
                            m.c.s.gpr[cpu::EDX] = v[2];
                            m.c.set_eflags(m.c.eflags() | cpu::kCF);
                        });
                        ++runs;
                        if (compare(p.a, p.b)) {
                            CAPTURE(test::hx(v[0]));
                            FAIL_CHECK("sequence " << runs);
                            return;
                        }
                    }
}

TEST_CASE("JIT: a page address kept by a read is not used for a store") {
    // Page 29000h is read-only: reads of [ebp] and [ebp+8] keep its address, and the store to
    // [ebp+4] must still fault (#PF, write to a read-only page).
    const std::vector<uint8_t> code = {
        0xBD, 0x10, 0x90, 0x02, 0x00,  // mov ebp, 29010h
        0x8B, 0x45, 0x00,              // mov eax, [ebp]
        0x8B, 0x55, 0x08,              // mov edx, [ebp+8]
        0x89, 0x4D, 0x04,              // mov [ebp+4], ecx
        0xF4};
    FlatPair p(code, [](Machine& m) {
        map_scattered_pages(m);
        m.mem.write(kPt + 4 * 0x29, 4, 0x29000 | 1);
    });
    CHECK(p.b.c.last_exception() == cpu::kPageFault);
    CHECK(p.b.c.s.cr[2] == 0x29014);
}

TEST_CASE("JIT: CALL and JMP through a register or memory agree with the interpreter, faults included") {
    // At kPmCode + 0x100: a function (inc esi; ret); at 21000h a table pointing at it. Each
    // case ends in HLT, or the fault handler's, or (JMP) the one at kPmCode + FFh, whose
    // address is on the stack for the function's RET.
    const uint32_t fn = kPmCode + 0x100;
    const std::vector<std::vector<uint8_t>> cases = {
        {0xFF, 0xD0},                          // call eax
        {0xFF, 0x13},                          // call [ebx]
        {0xFF, 0x54, 0x8B, 0xFC},              // call [ebx+ecx*4-4]
        {0xFF, 0x15, 0x04, 0x40, 0x02, 0x00},  // call [kPmNotPresent + 4]: #PF reading the target
        {0x89, 0xDC, 0xFF, 0xD0},              // mov esp, ebx; call eax (a push on another page)
        {0x66, 0xFF, 0xD2},                    // call dx (o16: the target is DX, 6000h)
        {0xFF, 0xE0},                          // jmp eax
        {0xFF, 0x23},                          // jmp [ebx]
        {0xFF, 0x25, 0x00, 0x40, 0x02, 0x00},  // jmp [kPmNotPresent]: #PF
    };
    for (const auto& c : cases) {
        CAPTURE(c.size());
        CAPTURE(int(c[0]));
        std::vector<uint8_t> code(0x102, 0x90);
        code[0] = 0x46;  // inc esi (the block has more than the branch)
        std::copy(c.begin(), c.end(), code.begin() + 1);
        code[1 + c.size()] = 0xF4;
        code[0xFF] = 0xF4;   // hlt
        code[0x100] = 0x46;  // fn: inc esi
        code[0x101] = 0xC3;  // ret
        FlatPair p(code, [&](Machine& m) {
            m.c.s.gpr[cpu::ESP] = kPmStack - 4;
            m.mem.write(kPmStack - 4, 4, kPmCode + 0xFF);
            m.c.s.gpr[cpu::EAX] = fn;
            m.c.s.gpr[cpu::EBX] = 0x21000;
            m.c.s.gpr[cpu::ECX] = 1;
            m.c.s.gpr[cpu::EDX] = 0x55556000;
            m.c.s.gpr[cpu::ESI] = 0;
            m.mem.write(0x21000, 4, fn);
            m.mem.write(0x6000, 1, 0xF4);
        });
        CHECK(p.b.c.engine_stats()->insns_inline >= 2);
    }
    // The push of the return address faults (ESP at the top of the not-present page; so does
    // the exception's own frame, then the double fault's: a shutdown), after the target read:
    // both engines end in the same state.
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    for (auto* m : {&a, &b}) {
        test::setup_paged_pm(m->mem, m->c, {0x46, 0xFF, 0x13, 0xF4});  // inc esi; call [ebx]; hlt
        m->c.s.gpr[cpu::ESP] = kPmNotPresent + 0x1000;
        m->c.s.gpr[cpu::EBX] = 0x21000;
        m->mem.write(0x21000, 4, kPmCode + 3);
    }
    const cpu::Exit ea = a.c.run(100), eb = b.c.run(100);
    CHECK(ea == eb);
    CHECK(compare(a, b) == 0);
    CHECK(b.c.engine_stats()->insns_inline >= 2);
}

TEST_CASE("JIT: stack operations through a kept page address follow ESP") {
    // A loop of pushes, pops, ESP-based reads and stores and ADD/SUB ESP (which move the kept
    // address along), with ESP walking down one byte per iteration across the boundary of two
    // linear pages whose physical pages are not adjacent.
    std::vector<uint8_t> code = {0xBC, 0x10, 0x70, 0x02, 0x00,  // mov esp, 27010h
                                 0xBF, 0x20, 0x00, 0x00, 0x00,  // mov edi, 32
                                 0x31, 0xF6};                   // xor esi, esi
    const std::vector<uint8_t> body = {
        0x50,                          // L: push eax
        0x53,                          // push ebx
        0x68, 0x44, 0x33, 0x22, 0x11,  // push 11223344h
        0x8B, 0x4C, 0x24, 0x04,        // mov ecx, [esp+4]
        0x01, 0xCE,                    // add esi, ecx
        0xFF, 0x74, 0x24, 0x08,        // push dword [esp+8]
        0x5A,                          // pop edx
        0x01, 0xD6,                    // add esi, edx
        0x66, 0x50,                    // push ax
        0x66, 0x5A,                    // pop dx
        0x01, 0xD6,                    // add esi, edx
        0x83, 0xEC, 0x08,              // sub esp, 8
        0x89, 0x34, 0x24,              // mov [esp], esi
        0x83, 0xC4, 0x08,              // add esp, 8
        0x5A, 0x5A, 0x5A,              // pop edx (x3)
        0x01, 0xD6,                    // add esi, edx
        0x8B, 0x54, 0x24, 0xF0,        // mov edx, [esp-16]
        0x01, 0xD6,                    // add esi, edx
        0x54,                          // push esp
        0x5A,                          // pop edx
        0x01, 0xD6,                    // add esi, edx
        0xC1, 0xC0, 0x03,              // rol eax, 3
        0x83, 0xEC, 0x01,              // sub esp, 1
        0x4F,                          // dec edi
    };
    code.insert(code.end(), body.begin(), body.end());
    code.push_back(0x75);
    code.push_back(uint8_t(-int(body.size()) - 2));  // jnz L
    code.push_back(0xF4);
    FlatPair p(code, [](Machine& m) {
        map_scattered_pages(m);
        m.c.s.gpr[cpu::EAX] = 0x89ABCDEF;
        m.c.s.gpr[cpu::EBX] = 0x01234567;
    }, 10000);
    CHECK(p.b.c.engine_stats()->page_reuses >= 10);
    CHECK(p.b.c.r32(cpu::ESP) == 0x27010 - 32);
}

TEST_CASE("JIT: branches, SETcc and CMOVcc right after an ALU operation agree with the interpreter") {
    // The JIT may branch on the host's flags of the operation just before; every condition
    // after each operation (register and memory source, and INC, whose host CF is not the
    // guest's), on operand values around the signed and unsigned boundaries. Each program runs
    // the operation and the reader once per pair of values and stores what it saw.
    const std::vector<std::vector<uint8_t>> ops = {
        {0x39, 0xD8}, {0x01, 0xD8}, {0x29, 0xD8}, {0x21, 0xD8}, {0x09, 0xD8}, {0x31, 0xD8},
        {0x85, 0xD8}, {0x83, 0xF8, 0x05}, {0x3B, 0x05, 0x00, 0x10, 0x02, 0x00},  // cmp eax, [21000h]
        {0x03, 0x05, 0x00, 0x10, 0x02, 0x00}, {0xF9, 0x40},                       // add eax, [..]; stc; inc eax
        {0x29, 0xD8, 0x40}, {0x29, 0xD8, 0xEB, 0x00, 0x48},  // sub eax, ebx; [jmp $+2;] inc/dec eax
    };
    const uint32_t xs[] = {0, 1, 5, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x80000005};
    const uint32_t ys[] = {0, 5, 0x80000000, 0xFFFFFFFF};
    for (const auto& op : ops)
        for (unsigned cc = 0; cc < 16; ++cc)
            for (int form = 0; form < 3; ++form) {
                std::vector<uint8_t> code;
                uint32_t out = 0x22000;
                for (uint32_t x : xs)
                    for (uint32_t y : ys) {
                        code.push_back(0xB8);  // mov eax, x
                        test::put32(code, x);
                        code.push_back(0xBB);  // mov ebx, y
                        test::put32(code, y);
                        code.insert(code.end(), {0x89, 0x1D, 0x00, 0x10, 0x02, 0x00});  // mov [21000h], ebx
                        code.insert(code.end(), {0x31, 0xF6});                          // xor esi, esi
                        code.insert(code.end(), op.begin(), op.end());
                        if (form == 0) code.insert(code.end(), {uint8_t(0x70 + cc), 0x01, 0x46});  // jcc +1; inc esi
                        else if (form == 1) code.insert(code.end(), {0x0F, uint8_t(0x90 + cc), 0xC1});  // setcc cl
                        else code.insert(code.end(), {0x0F, uint8_t(0x40 + cc), 0xCA});  // cmovcc ecx, edx
                        code.insert(code.end(), {0x89, 0x0D});  // mov [out], ecx
                        test::put32(code, out);
                        code.insert(code.end(), {0x89, 0x35});  // mov [out + 4], esi
                        test::put32(code, out + 4);
                        out += 8;
                    }
                code.push_back(0xF4);
                FlatPair p(code, [&](Machine& m) {
                    m.c.s.gpr[cpu::ECX] = 0;
                    m.c.s.gpr[cpu::EDX] = 0x12345678;
                }, 10000);
                if (p.a.c.s.icount != p.b.c.s.icount || std::memcmp(p.a.mem.ram(), p.b.mem.ram(), kRam)) {
                    FAIL_CHECK("op " << int(op[0]) << " cc " << cc << " form " << form);
                    return;
                }
            }
}

TEST_CASE("JIT: flags left for a later writer are the interpreter's where an access faults or stops") {
    // A register-only ALU operation (the producer) whose flags the next flag writer (the
    // killer) overwrites, with an access in between that faults (#PF: the handler's frame holds
    // EFLAGS) or stops the block (a store into the killer's bytes, which become SETB DL and
    // read CF): the JIT stores the producer's flags only there (flags_sunk), and they must be
    // the interpreter's. Producers of each operation and size, AH included.
    const std::vector<std::vector<uint8_t>> producers = {
        {0x01, 0xD8},              // add eax, ebx
        {0x29, 0xD8},              // sub eax, ebx
        {0x39, 0xD8},              // cmp eax, ebx
        {0x21, 0xD8},              // and eax, ebx
        {0x09, 0xD8},              // or eax, ebx
        {0x31, 0xD8},              // xor eax, ebx
        {0x85, 0xD8},              // test eax, ebx
        {0x83, 0xC0, 0x7F},        // add eax, 7Fh
        {0x83, 0xF8, 0x81},        // cmp eax, -7Fh
        {0x3D, 0x00, 0x00, 0x00, 0x80},  // cmp eax, 80000000h
        {0x66, 0x01, 0xD8},        // add ax, bx
        {0x66, 0x39, 0xD8},        // cmp ax, bx
        {0x00, 0xE0},              // add al, ah
        {0x28, 0xDC},              // sub ah, bl
        {0x38, 0xFC},              // cmp ah, bh
        {0x84, 0xE3},              // test bl, ah
        {0x2A, 0xC3},              // sub al, bl (the r, r/m form)
    };
    const uint32_t values[][2] = {{0x7FFFFFFF, 1}, {0x80008080, 0x80008080}, {5, 7}, {0, 0x80000000}};
    uint64_t sunk = 0;
    for (const auto& prod : producers)
    for (const auto& v : values)
    for (bool stop : {false, true}) {
        std::vector<uint8_t> code = prod;
        if (stop) {
            // mov dword [killer], 0F4C2920Fh (setb dl; hlt); sub edx, 1 (the killer); hlt
            code.insert(code.end(), {0xC7, 0x05});
            test::put32(code, kPmCode + uint32_t(prod.size()) + 10);
            test::put32(code, 0xF4C2920F);
            code.insert(code.end(), {0x83, 0xEA, 0x01});
        } else {
            // mov ecx, [kPmNotPresent]; sub edx, esi (the killer); hlt
            code.insert(code.end(), {0x8B, 0x0D});
            test::put32(code, kPmNotPresent);
            code.insert(code.end(), {0x29, 0xF2});
        }
        code.push_back(0xF4);
        CAPTURE(test::hex_bytes(code.data(), code.size()));
        FlatPair p(code, [&](Machine& m) {
            m.c.s.gpr[cpu::EAX] = v[0];
            m.c.s.gpr[cpu::EBX] = v[1];
            m.c.s.gpr[cpu::EDX] = 0x11111111;
            m.c.s.gpr[cpu::ESI] = 0x22222222;
            m.c.s.gpr[cpu::ESP] = kPmStack;
            m.c.set_eflags(0x2 | cpu::kCF);  // (a stale CF the producer's must replace)
        });
        if (!stop) CHECK(p.a.c.last_exception() == cpu::kPageFault);
        sunk += p.b.c.engine_stats()->flags_sunk;
    }
    CHECK(sunk >= 2 * std::size(producers) * std::size(values));
}

namespace {
// MMIO whose reads return a constant and ask the CPU to stop (as a device read with a side
// effect may).
struct StoppingMmio final : mmu::MmioHandler {
    Cpu* c = nullptr;
    uint32_t mmio_read(uint32_t, unsigned) override {
        c->request_stop();
        return 0x00C0FFEE;
    }
    void mmio_write(uint32_t, unsigned, uint32_t) override {}
};
constexpr uint32_t kStoppingMmio = 0x28000;

// A machine of a test with StoppingMmio: `code` in the paged layout, register r = mul * (r + 1),
// ESP the stack, the MMIO page mapped.
void setup_stopping(Machine& m, StoppingMmio& mmio, const std::vector<uint8_t>& code, uint32_t mul) {
    test::setup_paged_pm(m.mem, m.c, code);
    for (unsigned r = 0; r < 8; ++r) m.c.s.gpr[r] = mul * (r + 1);
    m.c.s.gpr[cpu::ESP] = kPmStack;
    mmio.c = &m.c;
    m.mem.map_mmio(kStoppingMmio, 0x1000, &mmio);
}
}  // namespace

TEST_CASE("JIT: registers held in host registers are in the state at a fault, a stop and the end") {
    // Every register written in one block (more than the JIT keeps in host registers, so
    // written copies are evicted), the byte registers of cached ones read and written (AH
    // through the whole register), then an access that faults (#PF: the handler's frame and
    // the registers at the fault) or a store into the block's own later bytes (a stop), or
    // neither: the state must be the interpreter's each time.
    const std::vector<uint8_t> body = {
        0xB8, 0x78, 0x56, 0x34, 0x12,  // mov eax, 12345678h
        0x01, 0xC3,                    // add ebx, eax
        0x01, 0xD9,                    // add ecx, ebx
        0x01, 0xCA,                    // add edx, ecx
        0x01, 0xD6,                    // add esi, edx
        0x01, 0xF7,                    // add edi, esi
        0x01, 0xFD,                    // add ebp, edi
        0xB4, 0x55,                    // mov ah, 55h
        0x00, 0xE0,                    // add al, ah
        0x86, 0xE9,                    // xchg cl, ch
        0x66, 0x01, 0xF3,              // add bx, si
        0x8D, 0x44, 0x3D, 0x03,        // lea eax, [ebp+edi+3]
        0x88, 0xF4,                    // mov ah, dh
        0x50,                          // push eax
        0x5A,                          // pop edx
        0x31, 0xC6,                    // xor esi, eax
    };
    for (int end : {0, 1, 2, 3}) {
        std::vector<uint8_t> code = body;
        if (end == 3) {
            // add eax, [kStoppingMmio]: the read stops; EAX is written after it
            code.insert(code.end(), {0x03, 0x05});
            test::put32(code, kStoppingMmio);
        }
        if (end == 0) {
            code.insert(code.end(), {0x89, 0x05});  // mov [kPmNotPresent], eax
            test::put32(code, kPmNotPresent);
        } else if (end == 1) {
            // add byte [next insn], 0B0h: the NOP becomes INC EAX (the stop is tested after
            // the instruction, which has no register write left to finish)
            code.insert(code.end(), {0x80, 0x05});
            test::put32(code, kPmCode + uint32_t(code.size()) + 5);
            code.push_back(0xB0);
            code.push_back(0x90);
        }
        code.insert(code.end(), {0x01, 0xC3, 0x01, 0xE9, 0xF4});  // add ebx, eax; add ecx, ebp; hlt
        CAPTURE(end);
        StoppingMmio mmio[2];
        Machine a{cpu::CpuModel::kP6, false}, b{cpu::CpuModel::kP6, true};
        int n = 0;
        for (Machine* m : {&a, &b}) {
            setup_stopping(*m, mmio[n++], code, 0x01010101u);
            // Stopped (end 3: once, at the MMIO read), then on to the HLT.
            cpu::Exit e = m->c.run(1000);
            if (end == 3) {
                CHECK(e == cpu::Exit::kStop);
                CHECK(m->c.s.eip == kPmCode + body.size() + 6);
                e = m->c.run(1000);
            }
            CHECK(e == cpu::Exit::kHalted);
        }
        CHECK(compare(a, b) == 0);
        if (end == 0) CHECK(a.c.last_exception() == cpu::kPageFault);
        CHECK(b.c.engine_stats()->insns_inline >= body.size() / 2);
    }
}

TEST_CASE("JIT: an ALU or MOVZX read that stops in its slow path finishes the instruction first") {
    // CMP, TEST, the ALU ops into a register and MOVZX/MOVSX from memory test the stop request
    // only in their read's slow path, which then finishes the instruction (result and flags) in
    // cold code and leaves. Each form reads MMIO whose read requests a stop, addressed three
    // ways: an absolute address (the plain lookup), [ESI+4] alone (a page slot filled), and
    // [ESI+4] after a read of RAM through ESI that filled the slot with another page (its
    // cold path). At the stop the state, flags included, must be the interpreter's, and again
    // at the HLT after.
    struct Form {
        std::vector<uint8_t> op;   // prefixes and opcode, up to the ModRM byte
        uint8_t reg;               // ModRM reg field
        std::vector<uint8_t> imm;  // after the address
    };
    const std::vector<Form> forms = {
        {{0x3B}, 0, {}},            // cmp eax, [m]
        {{0x39}, 3, {}},            // cmp [m], ebx
        {{0x83}, 7, {0x05}},        // cmp dword [m], 5
        {{0x80}, 7, {0xEF}},        // cmp byte [m], 0EFh
        {{0x85}, 1, {}},            // test [m], ecx
        {{0xF6}, 0, {0x80}},        // test byte [m], 80h
        {{0x66, 0xF7}, 0, {0x00, 0x80}},  // test word [m], 8000h
        {{0x38}, 4, {}},            // cmp [m], ah
        {{0x3A}, 7, {}},            // cmp bh, [m]
        {{0x03}, 1, {}},            // add ecx, [m]
        {{0x66, 0x2B}, 1, {}},      // sub cx, [m]
        {{0x22}, 2, {}},            // and dl, [m]
        {{0x0A}, 4, {}},            // or ah, [m]
        {{0x33}, 2, {}},            // xor edx, [m]
        {{0x2B}, 3, {}},            // sub ebx, [m]
        {{0x0F, 0xB6}, 1, {}},      // movzx ecx, byte [m]
        {{0x0F, 0xBF}, 2, {}},      // movsx edx, word [m]
        {{0x66, 0x0F, 0xB6}, 1, {}},  // movzx cx, byte [m]
        {{0x0F, 0xBE}, 7, {}},      // movsx edi, byte [m]
    };
    for (const Form& f : forms)
    for (int how : {0, 1, 2}) {
        // esi = kStoppingMmio; add ebx, ebp (flags a later reader would see)
        std::vector<uint8_t> code = {0xBE};
        test::put32(code, kStoppingMmio);
        code.insert(code.end(), {0x01, 0xEB});
        if (how == 2) code.insert(code.end(), {0x8B, 0xBE, 0x00, 0xFF, 0xFF, 0xFF});  // mov edi, [esi-100h]
        const size_t at = code.size();
        code.insert(code.end(), f.op.begin(), f.op.end());
        if (how == 0) {
            code.push_back(uint8_t(f.reg << 3 | 5));
            test::put32(code, kStoppingMmio + 4);
        } else {
            code.push_back(uint8_t(0x40 | f.reg << 3 | 6));
            code.push_back(4);
        }
        code.insert(code.end(), f.imm.begin(), f.imm.end());
        const size_t after = code.size();
        // setb al; add ebx, [esi+8] (ESI's slot again); adc ecx, edx; hlt
        code.insert(code.end(), {0x0F, 0x92, 0xC0, 0x03, 0x5E, 0x08, 0x11, 0xD1, 0xF4});
        CAPTURE(test::hex_bytes(code.data() + at, after - at));
        CAPTURE(how);
        StoppingMmio mmio[2];
        Machine a{cpu::CpuModel::kP6, false}, b{cpu::CpuModel::kP6, true};
        int n = 0;
        for (Machine* m : {&a, &b}) {
            setup_stopping(*m, mmio[n++], code, 0x7F01F081u);
            m->c.set_eflags(0x2 | cpu::kCF);
            // The first run builds and runs the block: it stops right after the read.
            CHECK(m->c.run(1000) == cpu::Exit::kStop);
            CHECK(m->c.s.eip == kPmCode + after);
        }
        CHECK(compare(a, b) == 0);
        for (Machine* m : {&a, &b}) {
            CHECK(m->c.run(1000) == cpu::Exit::kStop);  // (the second MMIO read)
            CHECK(m->c.run(1000) == cpu::Exit::kHalted);
        }
        CHECK(compare(a, b) == 0);
        CHECK(b.c.engine_stats()->insns_inline >= 3);
    }
}

TEST_CASE("JIT: a block that branches to its own start agrees with the interpreter pass by pass") {
    // The loop body is one block whose Jcc (or LOOP) targets its own start: the JIT keeps its
    // registers in host registers from pass to pass. Each variant is compared with the
    // interpreter: run to the end; in short budget slices (compared after each); with an
    // external interrupt requested at several points; with the walk running into a
    // not-present page (#PF mid-loop).
    for (bool use_loop_insn : {false, true})
    for (int variant = 0; variant < 4; ++variant)
    for (uint64_t at : {3u, 10u, 29u, 64u}) {
        if (variant != 2 && at != 3) continue;
        const uint32_t start_esi = variant == 3 ? kPmNotPresent - 40 : 0x21F80;
        std::vector<uint8_t> code = {0xB9, 0x28, 0x00, 0x00, 0x00,  // mov ecx, 40
                                     0xBE};                          // mov esi, start_esi
        test::put32(code, start_esi);
        code.insert(code.end(), {0xB8, 0x01, 0x00, 0x00, 0x00,   // mov eax, 1
                                 0xBA, 0x07, 0x00, 0x00, 0x00}); // mov edx, 7
        const std::vector<uint8_t> body = {
            0x03, 0x06,                          // L: add eax, [esi]
            0x31, 0xC2,                          // xor edx, eax
            0x6B, 0xD2, 0x05,                    // imul edx, edx, 5
            0x89, 0x96, 0x00, 0x01, 0x00, 0x00,  // mov [esi+100h], edx
            0x83, 0xC6, 0x04,                    // add esi, 4
            0x50, 0x5B,                          // push eax; pop ebx
            0x01, 0xFB,                          // add ebx, edi
            0x88, 0xE7,                          // mov bh, ah
            0x0F, 0xB6, 0xEB,                    // movzx ebp, bl
        };
        code.insert(code.end(), body.begin(), body.end());
        if (use_loop_insn) {
            code.push_back(0xE2);  // loop L
            code.push_back(uint8_t(-int(body.size()) - 2));
        } else {
            code.push_back(0x49);  // dec ecx
            code.push_back(0x75);  // jnz L
            code.push_back(uint8_t(-int(body.size()) - 3));
        }
        code.push_back(0xF4);
        CAPTURE(use_loop_insn);
        CAPTURE(variant);
        CAPTURE(at);
        Machine a{cpu::CpuModel::kP6, false}, b{cpu::CpuModel::kP6, true};
        test::TimedIrq ia, ib;
        for (Machine* m : {&a, &b}) {
            test::setup_paged_pm(m->mem, m->c, code);
            m->c.s.gpr[cpu::ESP] = kPmStack;
            m->c.s.gpr[cpu::EDI] = 0x9E3779B9;
            for (uint32_t k = 0; k < 0x200; k += 4) m->mem.write(0x21F80 + k, 4, k * 0x01000193u);
            if (variant == 2) {
                m->c.set_eflags(m->c.eflags() | cpu::kIF);
                test::TimedIrq& irq = m == &a ? ia : ib;
                irq.vector = 0x10;  // (the test IDT's HLT handler)
                irq.attach(m->c, at);
            }
        }
        if (variant == 1) {
            for (int slice = 0; slice < 100; ++slice) {
                const uint64_t n = slice % 2 ? 7 : 45;  // (45: several passes, the budget ends one)
                const cpu::Exit ea = a.c.run(n), eb = b.c.run(n);
                CHECK(int(ea) == int(eb));
                REQUIRE(compare(a, b) == 0);
                if (ea != cpu::Exit::kBudget) break;
            }
        } else {
            CHECK(a.c.run(5000) == cpu::Exit::kHalted);
            CHECK(b.c.run(5000) == cpu::Exit::kHalted);
            CHECK(compare(a, b) == 0);
        }
        CHECK(a.c.s.halted == 1);
        if (variant == 3) CHECK(a.c.last_exception() == cpu::kPageFault);
        if (variant == 2) CHECK(ia.taken == 1);
        if (variant == 0) CHECK(b.c.engine_stats()->blocks_direct >= 30);  // (the passes)
    }
}

TEST_CASE("JIT: SHL, SHR and SAR by CL at every count match the interpreter") {
    // add eax, 7FFFFFFFh (deferred flags: a count of 0 must keep them); mov ecx, count;
    // shift eax, cl; pushf; push eax: for counts 0 to 40 (masked to 5 bits), in 32-bit code,
    // with the register the JIT keeps in a host register or not. The pushed flags and the
    // registers must agree.
    for (uint32_t pattern : {0x80000001u, 0x4000C0FFu, 0x7FFF8000u, 0u}) {
        std::vector<uint8_t> code;
        for (unsigned op : {4u, 5u, 7u})
            for (unsigned count = 0; count <= 40; ++count) {
                code.push_back(0xB8);  // mov eax, pattern
                test::put32(code, pattern);
                code.push_back(0x05);  // add eax, 7FFFFFFFh
                test::put32(code, 0x7FFFFFFF);
                code.push_back(0xB9);  // mov ecx, count (above: CH set, masked away)
                test::put32(code, count | 0x4400);
                code.insert(code.end(), {0xD3, uint8_t(0xC0 | op << 3)});  // shift eax, cl
                code.push_back(0x9C);  // pushf
                code.push_back(0x50);  // push eax
                if (count % 3 == 0) code.insert(code.end(), {0xD3, uint8_t(0xC3 | op << 3)});  // shift ebx, cl
            }
        code.push_back(0xF4);
        FlatPair p(code, [](Machine& m) {
            m.c.s.gpr[cpu::ESP] = kPmStack;
            m.c.s.gpr[cpu::EBX] = 0xC3A55A3C;
        }, 100000);
        CAPTURE(pattern);
        CHECK(p.b.c.engine_stats()->insns_inline > 3 * 41 * 5);  // the shifts ran inline
    }
}

TEST_CASE("JIT: an instruction across two pages is linked to, and left when its second page is remapped") {
    // A loop whose block falls through into MOV EAX, imm32 at 20FFCh, whose immediate's last
    // byte is on the next page; the loop remaps that page to another frame (whose copy of the
    // byte differs) and invalidates it with INVLPG. Entered through links and direct jumps,
    // the crossing block must see the new frame as the interpreter does.
    std::vector<uint8_t> code(0x1010, 0x90);
    const uint8_t head[] = {0xB9, 0x04, 0x00, 0x00, 0x00,  // mov ecx, 4
                            0xE9};                          // jmp L (rel32 below)
    std::copy(std::begin(head), std::end(head), code.begin());
    for (int k = 0; k < 4; ++k) code[6 + k] = uint8_t((0xFF0 - 10) >> (8 * k));
    const uint8_t loop[] = {0x01, 0xC3,  // L: add ebx, eax
                            0x46};       // inc esi (then NOPs up to 20FFCh)
    std::copy(std::begin(loop), std::end(loop), code.begin() + 0xFF0);
    code[0xFFC] = 0xB8;  // mov eax, 11223344h (44 33 22 | 11 on the next page)
    code[0xFFD] = 0x44, code[0xFFE] = 0x33, code[0xFFF] = 0x22, code[0x1000] = 0x11;
    std::vector<uint8_t> tail = {0x49,         // dec ecx
                                 0x74, 0x00};  // jz done (patched below)
    tail.insert(tail.end(), {0xC7, 0x05});  // mov dword [PTE of 21000h], 22003h
    test::put32(tail, test::kPt + 4 * 0x21);
    test::put32(tail, 0x22003);
    tail.insert(tail.end(), {0x0F, 0x01, 0x3D});  // invlpg [21000h]
    test::put32(tail, 0x21000);
    tail.push_back(0xE9);  // jmp L
    test::put32(tail, uint32_t(int32_t(0xFF0) - int32_t(0x1001 + tail.size() + 4)));
    tail[2] = uint8_t(tail.size() - 3);  // done: right after the jmp
    tail.push_back(0xF4);                // done: hlt
    code.resize(0x1001);
    code.insert(code.end(), tail.begin(), tail.end());
    FlatPair p(code, [&](Machine& m) {
        // Frame 22000h: the second page again, but the immediate's last byte is 99h.
        std::vector<uint8_t> copy(code.begin() + 0x1000, code.end());
        copy[0] = 0x99;
        REQUIRE(m.mem.copy_to(0x22000, copy.data(), copy.size()));
        m.c.s.gpr[cpu::ESP] = kPmStack;
    });
    CHECK(p.a.c.r32(cpu::EBX) == 0x11223344u + 2 * 0x99223344u);
    CHECK(p.b.c.engine_stats()->links_made >= 2);
}

TEST_CASE("JIT: POPF ends the block only when it sets IF or changes more than the arithmetic flags") {
    // Real mode, IF clear, an interrupt requested from the start: PUSHF/POPF pairs that keep
    // IF clear go on; the POPF that sets IF lets the interrupt in right after it (its return
    // address is the next instruction's) in both engines.
    const std::vector<uint8_t> code = {
        0x9C, 0x9D,                    // pushf; popf            (IF stays clear)
        0x40,                          // inc ax
        0x9C, 0x9D,                    // pushf; popf
        0x43,                          // inc bx
        0x9C,                          // pushf
        0x58,                          // pop ax
        0x0D, 0x00, 0x02,              // or ax, 200h
        0x50,                          // push ax
        0x9D,                          // popf                   (sets IF: the interrupt)
        0x41,                          // inc cx                 (not reached)
        0xF4,
    };
    Machine a(cpu::CpuModel::kP6, false), b(cpu::CpuModel::kP6, true);
    test::TimedIrq ia, ib;
    for (auto* m : {&a, &b}) {
        Gen gg(5, false, true);
        setup_real(*m, code, gg);
        m->c.set_eflags(m->c.eflags() & ~cpu::kIF);
        m->c.s.gpr[cpu::ECX] = 0;
    }
    ia.attach(a.c, 0);
    ib.attach(b.c, 0);
    CHECK(a.c.run(100) == cpu::Exit::kHalted);
    CHECK(b.c.run(100) == cpu::Exit::kHalted);
    CHECK(compare(a, b) == 0);
    CHECK(ia.taken == 1);
    CHECK(a.c.r16(cpu::ECX) == 0);
    // The handler's frame: IP of INC CX.
    CHECK(a.mem.read(0x30010 + a.c.r16(cpu::ESP), 2) == 13);
}

TEST_CASE("JIT: OUT ends the block when a device claims the port, not otherwise") {
    // mov ecx, 100; L: out dx, al; dec ecx; jnz L; hlt. With DX = 80h (the POST port, which
    // nothing claims: Linux's I/O delay) the loop stays in generated code; with a device on the
    // port each OUT ends its block (the device may have raised an interrupt or changed memory),
    // so the run loop enters a block about every pass. Both agree with the interpreter.
    struct Sink final : devices::IoDevice {
        unsigned writes = 0;
        uint32_t io_read(uint16_t, unsigned) override { return 0; }
        void io_write(uint16_t, unsigned, uint32_t) override { ++writes; }
    };
    const std::vector<uint8_t> code = {0xB9, 0x64, 0x00, 0x00, 0x00,  // mov ecx, 100
                                       0xEE,                          // L: out dx, al
                                       0x49,                          // dec ecx
                                       0x75, 0xFC,                    // jnz L
                                       0xF4};
    for (bool claimed : {false, true}) {
        Sink sink[2];
        int n = 0;
        FlatPair p(code, [&](Machine& m) {
            m.c.s.gpr[cpu::EDX] = 0x80;
            if (claimed) m.io.attach(0x80, 1, &sink[n], devices::kIoSize8);
            ++n;
        }, 10000);
        CAPTURE(claimed);
        const uint64_t entries = p.b.c.engine_stats()->blocks_run_native + p.b.c.engine_stats()->blocks_run_interp;
        if (claimed) {
            CHECK(sink[0].writes == 100);
            CHECK(sink[1].writes == 100);
            CHECK(entries >= 100);
        } else {
            CHECK(entries < 10);
        }
    }
}

namespace {
// Counts reads and keeps every write (size, value), answering reads from the last write.
struct RecordingMmio final : mmu::MmioHandler {
    uint32_t value = 0x80FF7F01;
    int reads = 0;
    std::vector<std::pair<unsigned, uint32_t>> writes;
    uint32_t mmio_read(uint32_t, unsigned size) override {
        ++reads;
        return size == 4 ? value : value & ((1u << (8 * size)) - 1);
    }
    void mmio_write(uint32_t, unsigned size, uint32_t v) override {
        writes.emplace_back(size, v);
        value = v;
    }
};
}  // namespace

TEST_CASE("JIT: a read-modify-write of memory agrees with the interpreter wherever it lands") {
    // ALU operations and INC/DEC on memory look the page up once, through the TLB's write
    // tag, and store through the address found; when that misses, the read takes the slow
    // path and the store makes its own whole access. A loop of two passes (the first fills
    // the TLB) reads the target (its read tag is then valid), runs the operation on a
    // writable page (whose fast path keeps its address), then twice on the target: a
    // writable page; bytes across two pages whose frames are apart; a read-only page (#PF on
    // the store, after the read); a page not present (#PF on the read); MMIO (one read and
    // one write each time).
    // (The opcode up to the ModRM byte, then the immediate after the address.)
    const std::vector<std::pair<std::vector<uint8_t>, std::vector<uint8_t>>> ops = {
        {{0x01, 0x0D}, {}},                       // add [m], ecx
        {{0x66, 0xFF, 0x05}, {}},                 // inc word [m]
        {{0x80, 0x35}, {0x5A}},                   // xor byte [m], 5Ah
        {{0x81, 0x2D}, {0x44, 0x33, 0x22, 0x11}}, // sub dword [m], 11223344h
        {{0xFE, 0x0D}, {}},                       // dec byte [m]
        {{0x66, 0x11, 0x15}, {}},                 // adc word [m], dx
        {{0x83, 0x25}, {0xFD}},                   // and dword [m], -3
        {{0xF7, 0x15}, {}},                       // not dword [m]
        {{0xF6, 0x1D}, {}},                       // neg byte [m]
        {{0xC1, 0x25}, {0x03}},                   // shl dword [m], 3
        {{0xD0, 0x05}, {}},                       // rol byte [m], 1
        {{0x0F, 0xBA, 0x2D}, {0x05}},             // bts dword [m], 5
        {{0x0F, 0xBA, 0x25}, {0x04}},             // bt dword [m], 4 (reads only)
    };
    const uint32_t where[] = {0x26804, 0x26FFE, 0x29010, kPmNotPresent + 8, 0x2A000};
    for (const auto& op : ops) {
        for (uint32_t m : where) {
            CAPTURE(op.first[0]);
            CAPTURE(op.first[1]);
            CAPTURE(m);
            std::vector<uint8_t> code = {0xBB, 0x02, 0x00, 0x00, 0x00};  // mov ebx, 2
            const size_t top = code.size();
            code.push_back(0xF9);  // stc (for ADC)
            if (m != kPmNotPresent + 8) {
                code.push_back(0xA1);  // mov eax, [m]
                test::put32(code, m);
            }
            for (uint32_t t : {0x26A00u, m, m}) {
                code.insert(code.end(), op.first.begin(), op.first.end());
                test::put32(code, t);
                code.insert(code.end(), op.second.begin(), op.second.end());
                code.push_back(0x41);  // inc ecx
            }
            code.insert(code.end(), {0x4B, 0x75});  // dec ebx; jnz top
            code.push_back(uint8_t(int(top) - int(code.size() + 1)));
            code.push_back(0xF4);
            RecordingMmio mmio[2];
            Machine a{cpu::CpuModel::kP6, false}, b{cpu::CpuModel::kP6, true};
            int n = 0;
            for (Machine* mc : {&a, &b}) {
                test::setup_paged_pm(mc->mem, mc->c, code);
                map_scattered_pages(*mc);
                mc->mem.write(kPt + 4 * 0x29, 4, 0x29000 | 1);  // read-only
                mc->mem.write(0x29010, 4, 0xFEDCBA98);
                mc->mem.map_mmio(0x2A000, 0x1000, &mmio[n++]);
                mc->c.s.gpr[cpu::ECX] = 0x81828384;
                mc->c.s.gpr[cpu::EDX] = 0x0000FFFF;
                CHECK(mc->c.run(1000) == cpu::Exit::kHalted);
            }
            CHECK(compare(a, b) == 0);
            for (uint32_t at : {0x60A00u, 0x60804u, 0x60FFCu, 0x50000u, 0x29010u})
                CHECK(a.mem.read(at, 4) == b.mem.read(at, 4));
            CHECK(mmio[0].reads == mmio[1].reads);
            CHECK(mmio[0].writes == mmio[1].writes);
            const bool reads_only = op.first[1] == 0xBA && op.first[2] == 0x25;
            if (m == 0x2A000) CHECK(mmio[1].writes.size() == (reads_only ? 0u : 4u));
            if (m == kPmNotPresent + 8 || (m == 0x29010 && !reads_only))
                CHECK(b.c.last_exception() == cpu::kPageFault);
            else CHECK(b.c.r32(cpu::EBX) == 0);
            CHECK(b.c.engine_stats()->insns_inline >= 2);
        }
    }
}

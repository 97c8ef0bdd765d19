// The lockstep checker (--engine=diff, jit/diff_engine.cpp): small programs in real mode and in
// paged protected mode run under the checker wrapping the real x86-64 engine and must end
// exactly as under the interpreter with every block compared and no divergence; wrapped around
// deliberately wrong engines (a flipped EAX bit, a wrong stored byte) it must stop at the first
// block and name the field or address with both values; a block doing port I/O runs once and is
// not compared; blocks that fault (#PF, #GP, #DE) are compared like any other; an interrupt
// taken between blocks leaves the next block cut to one instruction in both runs.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "jit/jit.h"
#include "jit/x64/access.h"
#include "tests/unit/test_irq.h"
#include "tests/unit/test_pm.h"
#include "tests/unit/test_util.h"

using namespace vx86;
using cpu::Cpu;

namespace {

constexpr uint32_t kRam = 1u << 20;
constexpr uint32_t kRmCode = 0x10000;  // 1000:0000
using test::kPd, test::kPt, test::kPmCode, test::kPmStack, test::kPmNotPresent;

// A deliberately wrong engine: the real JIT, then one perturbation of its result.
class WrongEngine final : public Cpu::BlockEngine {
public:
    enum class Bug { kEaxBit, kStoredByte, kFault };
    WrongEngine(Cpu& c, Bug bug) : inner_(jit::make_x64_engine(c)), bug_(bug) {}
    void execute(Cpu& c, jit::CpuAccess::Block& b, uint64_t limit) override {
        inner_->execute(c, b, limit);
        if (bug_ == Bug::kEaxBit) c.s.gpr[cpu::EAX] ^= 1;
        else if (bug_ == Bug::kFault) c.fault(cpu::kGP, 0x18);
        else c.write<8>(cpu::DS, 0x1000, c.read<8>(cpu::DS, 0x1000) ^ 0x40);  // a store, as a JIT makes it
    }
    cpu::Engine kind() const override { return cpu::Engine::kJit; }
    const cpu::EngineStats& stats() const override { return inner_->stats(); }

private:
    std::unique_ptr<Cpu::BlockEngine> inner_;
    Bug bug_;
};

enum class Mode { kInterp, kDiff, kWrongEax, kWrongByte, kWrongFault };

struct Machine {
    mmu::PhysMemory mem{kRam};
    devices::IoBus io;
    Cpu c;
    std::vector<jit::Divergence> seen;  // what the sink received
    Machine(Mode mode, cpu::CpuModel model = cpu::CpuModel::kP6) : c(model, mem, io) {
        auto sink = [this](const jit::Divergence& d) { seen.push_back(d); };
        switch (mode) {
            case Mode::kInterp: break;
            case Mode::kDiff: c.set_engine(jit::make_diff_engine(c, jit::make_x64_engine(c), sink)); break;
            case Mode::kWrongEax:
            case Mode::kWrongByte:
            case Mode::kWrongFault: {
                auto bug = mode == Mode::kWrongEax    ? WrongEngine::Bug::kEaxBit
                           : mode == Mode::kWrongByte ? WrongEngine::Bug::kStoredByte
                                                      : WrongEngine::Bug::kFault;
                c.set_engine(jit::make_diff_engine(c, std::make_unique<WrongEngine>(c, bug), sink));
                break;
            }
        }
    }
};

void setup_real(Machine& m, const std::vector<uint8_t>& code) {
    for (uint32_t v = 0; v < 256; ++v) m.mem.write(v * 4, 4, 0x0500);  // every vector: 0000:0500
    m.mem.write(0x500, 1, 0xF4);                                        // HLT
    REQUIRE(m.mem.copy_to(kRmCode, code.data(), code.size()));
    m.c.load_seg_real(cpu::CS, 0x1000);
    m.c.load_seg_real(cpu::DS, 0x1000);
    m.c.load_seg_real(cpu::ES, 0x1000);
    m.c.load_seg_real(cpu::SS, 0x3000);
    m.c.s.eip = 0;
    m.c.s.gpr[cpu::ESP] = 0x8000;
    m.c.s.gpr[cpu::EAX] = 0x1234;
}

// Flat 32-bit protected mode, the first MiB identity-paged but for one not-present page; every
// exception goes to a HLT.
void setup_pm(Machine& m, const std::vector<uint8_t>& code) {
    Cpu& c = m.c;
    test::setup_paged_pm(m.mem, c, code);
    c.s.gpr[cpu::ESP] = kPmStack;
    c.s.gpr[cpu::EAX] = 0x12345678;
}

// Number of differences between two machines' architectural state and RAM.
int differences(Machine& a, Machine& b) {
    int bad = 0;
    auto eq = [&](const char* what, uint64_t u, uint64_t v) {
        if (u == v) return;
        ++bad;
        FAIL_CHECK(std::string(what) << ": " << test::hx(u) << " vs " << test::hx(v));
    };
    for (unsigned k = 0; k < 8; ++k) eq("gpr", a.c.s.gpr[k], b.c.s.gpr[k]);
    eq("eip", a.c.s.eip, b.c.s.eip);
    eq("eflags", a.c.eflags(), b.c.eflags());
    for (unsigned k = 0; k < 6; ++k) eq("seg.sel", a.c.s.seg[k].sel, b.c.s.seg[k].sel);
    for (unsigned k = 0; k < 5; ++k) eq("cr", a.c.s.cr[k], b.c.s.cr[k]);
    eq("icount", a.c.s.icount, b.c.s.icount);
    eq("halted", a.c.s.halted, b.c.s.halted);
    eq("last_exception", uint64_t(int64_t(a.c.last_exception())), uint64_t(int64_t(b.c.last_exception())));
    if (std::memcmp(a.mem.ram(), b.mem.ram(), kRam) != 0)
        for (uint32_t p = 0; p < kRam; ++p)
            if (a.mem.ram()[p] != b.mem.ram()[p]) {
                eq("first differing RAM byte at", p, ~uint64_t(0));
                break;
            }
    return bad;
}

// A port that counts what the CPU does to it.
struct CountingPort : devices::IoDevice {
    unsigned reads = 0, writes = 0;
    uint32_t last = 0;
    uint32_t io_read(uint16_t, unsigned) override {
        ++reads;
        return 0x5A;
    }
    void io_write(uint16_t, unsigned, uint32_t v) override {
        ++writes;
        last = v;
    }
};

// nasm -f bin: mov cx,300; xor bx,bx; l: mov [bx+1000h],ax; add ax,cx; push ax; pop dx;
// add bx,2; and bx,3FEh; call f; loop l; mov si,1000h; mov di,2000h; mov cx,64; cld;
// rep movsb; hlt; f: xor si,ax; adc [1800h],si; ret
const std::vector<uint8_t> kRealProgram = {
    0xb9, 0x2c, 0x01, 0x31, 0xdb, 0x89, 0x87, 0x00, 0x10, 0x01, 0xc8, 0x50, 0x5a, 0x83, 0xc3,
    0x02, 0x81, 0xe3, 0xfe, 0x03, 0xe8, 0x0f, 0x00, 0xe2, 0xec, 0xbe, 0x00, 0x10, 0xbf, 0x00,
    0x20, 0xb9, 0x40, 0x00, 0xfc, 0xf3, 0xa4, 0xf4, 0x31, 0xc6, 0x11, 0x36, 0x00, 0x18, 0xc3};
// The same in 32-bit code: stores to 21000h.., rep movsd to 22000h, adc [21800h], esi.
const std::vector<uint8_t> kPmProgram = {
    0xb9, 0xc8, 0x00, 0x00, 0x00, 0xbb, 0x00, 0x10, 0x02, 0x00, 0x89, 0x03, 0x01, 0xc8,
    0x50, 0x5a, 0x83, 0xc3, 0x04, 0xe8, 0x15, 0x00, 0x00, 0x00, 0xe2, 0xf0, 0xbe, 0x00,
    0x10, 0x02, 0x00, 0xbf, 0x00, 0x20, 0x02, 0x00, 0xb9, 0x64, 0x00, 0x00, 0x00, 0xfc,
    0xf3, 0xa5, 0xf4, 0x31, 0xc6, 0x11, 0x35, 0x00, 0x18, 0x02, 0x00, 0xc3};

}  // namespace

TEST_CASE("diff engine: selection, parsing and stats text") {
    mmu::PhysMemory mem(kRam);
    devices::IoBus io;
    Cpu c(cpu::CpuModel::kP6, mem, io);
    CHECK(jit::parse_engine("diff") == cpu::Engine::kDiff);
    REQUIRE(jit::set_engine(c, cpu::Engine::kDiff));
    CHECK(c.engine() == cpu::Engine::kDiff);
    REQUIRE(jit::diff_stats(c) != nullptr);
    CHECK(jit::divergence(c) == nullptr);
    const std::string st = jit::format_stats(c);
    CHECK(st.rfind("engine diff\n", 0) == 0);
    CHECK(st.find("diff.blocks_compared") != std::string::npos);
    CHECK(st.find("diff.divergences") != std::string::npos);
    CHECK(st.find("jit.blocks_translated") != std::string::npos);  // the inner engine's counters
    CHECK(jit::set_engine(c, cpu::Engine::kInterp));
    CHECK(jit::diff_stats(c) == nullptr);
}

TEST_CASE("diff engine around the JIT: no divergence, the interpreter's result") {
    for (bool pm : {false, true}) {
        CAPTURE(pm);
        Machine ref(Mode::kInterp), m(Mode::kDiff);
        for (Machine* x : {&ref, &m}) {
            if (pm) setup_pm(*x, kPmProgram);
            else setup_real(*x, kRealProgram);
        }
        CHECK(ref.c.run(100000) == cpu::Exit::kHalted);
        CHECK(m.c.run(100000) == cpu::Exit::kHalted);
        CHECK(differences(ref, m) == 0);
        CHECK(m.seen.empty());
        CHECK(jit::divergence(m.c) == nullptr);
        const jit::DiffStats* st = jit::diff_stats(m.c);
        REQUIRE(st != nullptr);
        MESSAGE(std::string(pm ? "protected mode" : "real mode") << ": blocks compared " << st->blocks_compared
                << ", not compared " << st->blocks_not_compared << ", instructions "
                << m.c.s.icount);
        CHECK(st->blocks_compared > 250);  // every loop iteration's blocks
        CHECK(st->blocks_not_compared == 0);
        CHECK(st->divergences == 0);
        CHECK(m.c.engine_stats()->blocks_run_native > 250);  // the JIT really ran them
        CHECK(m.c.engine_stats()->blocks_chained == 0);       // one block at a time
    }
}

namespace {

// Runs `prog` (protected mode) to its HLT in the interpreter (`ref`) and under the lockstep
// checker (`m`), which must agree, with no divergence found: the checker's counters.
const jit::DiffStats& run_in_lockstep(Machine& ref, Machine& m, const std::vector<uint8_t>& prog) {
    for (Machine* x : {&ref, &m}) setup_pm(*x, prog);
    CHECK(ref.c.run(100000) == cpu::Exit::kHalted);
    CHECK(m.c.run(100000) == cpu::Exit::kHalted);
    CHECK(differences(ref, m) == 0);
    CHECK(jit::divergence(m.c) == nullptr);
    const jit::DiffStats* st = jit::diff_stats(m.c);
    REQUIRE(st != nullptr);
    CHECK(st->divergences == 0);
    return *st;
}

}  // namespace

TEST_CASE("diff engine: a side exit does not chain into the block it leaves for") {
    // L's block: test cl, 1; jz S (a side exit: S is past the block); inc edi; inc edi; dec
    // ecx; jnz L. Taken after two instructions, the side exit leads to S's block (dec ecx;
    // jnz L), which would fit in what is left of L's budget: the lockstep run must still
    // compare L's block alone.
    const std::vector<uint8_t> prog = {0xB9, 0x32, 0x00, 0x00, 0x00,  //    mov ecx, 50
                                       0xF6, 0xC1, 0x01,              // L: test cl, 1
                                       0x74, 0x06,                    //    jz S
                                       0x47, 0x47,                    //    inc edi; inc edi
                                       0x49,                          //    dec ecx
                                       0x75, 0xF6,                    //    jnz L
                                       0xF4,                          //    hlt
                                       0x49,                          // S: dec ecx
                                       0x75, 0xF2,                    //    jnz L
                                       0xF4};                         //    hlt
    Machine ref(Mode::kInterp), m(Mode::kDiff);
    const jit::DiffStats& st = run_in_lockstep(ref, m, prog);
    CHECK(m.c.r32(cpu::EDI) == 50u);
    CHECK(st.blocks_compared >= 75);  // 50 passes of L's block and 25 of S's
    CHECK(m.c.engine_stats()->blocks_chained == 0);
    CHECK(m.c.engine_stats()->blocks_direct == 0);
}

TEST_CASE("diff engine: a side join runs alike in both engines, on either path") {
    // L's block: test cl, 1; jz S (S is in the block: a join); inc edi; inc edi; S: dec ecx;
    // jnz L. Each pass is one block in both engines, whichever way the jz goes.
    const std::vector<uint8_t> prog = {0xB9, 0x32, 0x00, 0x00, 0x00,  //    mov ecx, 50
                                       0xF6, 0xC1, 0x01,              // L: test cl, 1
                                       0x74, 0x02,                    //    jz S
                                       0x47, 0x47,                    //    inc edi; inc edi
                                       0x49,                          // S: dec ecx
                                       0x75, 0xF6,                    //    jnz L
                                       0xF4};                         //    hlt
    Machine ref(Mode::kInterp), m(Mode::kDiff);
    const jit::DiffStats& st = run_in_lockstep(ref, m, prog);
    CHECK(m.c.r32(cpu::EDI) == 50u);
    CHECK(m.c.s.icount == 1 + 25 * 6 + 25 * 4 + 1);
    CHECK(st.blocks_compared >= 50);  // the start's and 49 passes of L's block
    CHECK(st.blocks_compared <= 52);  // (no block of S's own)
    CHECK(m.c.engine_stats()->side_joins >= 1);
}

TEST_CASE("diff engine: a block that joined ends by a dynamic exit without chaining") {
    // L's block: test cl, 1; jz S (a join); inc edi; inc edi; S: dec ecx; jmp ebx (to M: jnz
    // L). Taken, the jz retires 2 instructions fewer than the block has, so M's block would
    // fit in the block's own budget: the lookup behind the dynamic exit must still not chain.
    const std::vector<uint8_t> prog = {0xB9, 0x32, 0x00, 0x00, 0x00,  //    mov ecx, 50
                                       0xE8, 0x00, 0x00, 0x00, 0x00,  //    call N
                                       0x5B,                          // N: pop ebx
                                       0x83, 0xC3, 0x0E,              //    add ebx, M - N
                                       0xF6, 0xC1, 0x01,              // L: test cl, 1
                                       0x74, 0x02,                    //    jz S
                                       0x47, 0x47,                    //    inc edi; inc edi
                                       0x49,                          // S: dec ecx
                                       0xFF, 0xE3,                    //    jmp ebx
                                       0x75, 0xF4,                    // M: jnz L
                                       0xF4};                         //    hlt
    Machine ref(Mode::kInterp), m(Mode::kDiff);
    const jit::DiffStats& st = run_in_lockstep(ref, m, prog);
    CHECK(m.c.r32(cpu::EDI) == 50u);
    CHECK(m.c.s.icount == 4 + 25 * 7 + 25 * 5 + 1);
    CHECK(st.blocks_compared >= 100);  // L's and M's, 50 passes each
    CHECK(m.c.engine_stats()->blocks_chained == 0);
    CHECK(m.c.engine_stats()->blocks_looked_up == 0);
}

TEST_CASE("diff engine stops at the first block when the inner engine flips an EAX bit") {
    Machine m(Mode::kWrongEax);
    setup_real(m, kRealProgram);
    CHECK(m.c.run(100000) == cpu::Exit::kStop);
    const jit::Divergence* d = jit::divergence(m.c);
    REQUIRE(d != nullptr);
    REQUIRE(m.seen.size() == 1);
    CHECK(d->phys == kRmCode);
    CHECK(d->blocks_compared == 0);
    CHECK(d->insns >= 2);
    REQUIRE(d->fields.size() == 1);
    CHECK(d->fields[0].name == "eax");
    CHECK(d->fields[0].interp == 0x1234 + 300);  // the first block runs up to CALL: one ADD
    CHECK(d->fields[0].inner == 0x1234 + 300 + 1);
    CHECK(d->memory.empty());
    CHECK(d->report.find("vx86: engines diverged at block phys 00010000") == 0);
    CHECK(d->report.find("after 0 blocks compared") != std::string::npos);
    CHECK(d->report.find("<<< differs") != std::string::npos);
    CHECK(d->report.find("guest:") != std::string::npos);  // the block's disassembly
    CHECK(d->report.find("host:") != std::string::npos);   // and the JIT's code
    CHECK(jit::diff_stats(m.c)->divergences == 1);
    // Stopped for good: a new run refuses to execute anything.
    const uint64_t icount = m.c.s.icount;
    CHECK(m.c.run(100) == cpu::Exit::kStop);
    CHECK(m.c.s.icount == icount);
    CHECK(m.seen.size() == 1);
}

TEST_CASE("diff engine names the address and both bytes when the inner engine stores wrong") {
    Machine m(Mode::kWrongByte);
    setup_real(m, kRealProgram);
    CHECK(m.c.run(100000) == cpu::Exit::kStop);
    const jit::Divergence* d = jit::divergence(m.c);
    REQUIRE(d != nullptr);
    CHECK(d->phys == kRmCode);
    CHECK(d->fields.empty());
    REQUIRE(d->memory.size() == 1);
    CHECK(d->memory[0].phys == kRmCode + 0x1000);
    CHECK(d->memory[0].interp == 0x34);  // the block stored AX = 1234h there
    CHECK(d->memory[0].inner == 0x74);
    CHECK(d->report.find("00011000  34      74") != std::string::npos);
}

TEST_CASE("diff engine reports a fault only the inner engine raised, and delivers none") {
    Machine m(Mode::kWrongFault);
    setup_real(m, kRealProgram);
    CHECK(m.c.run(100000) == cpu::Exit::kStop);
    const jit::Divergence* d = jit::divergence(m.c);
    REQUIRE(d != nullptr);
    REQUIRE(!d->fields.empty());
    CHECK(d->fields.back().name == "fault");
    CHECK(d->fields.back().interp == ~uint64_t(0));  // none
    CHECK(d->fields.back().inner == cpu::kGP);
    CHECK(d->report.find("#13 err 24") != std::string::npos);
    CHECK(m.c.stats().exceptions == 0);  // stopped before the run loop could deliver it
}

TEST_CASE("diff engine: a block doing port I/O runs once and is not compared") {
    // mov al, 5; out 80h, al; in al, 80h; inc ax; jmp $+2; inc bx; hlt
    const std::vector<uint8_t> code = {0xB0, 0x05, 0xE6, 0x80, 0xE4, 0x80, 0x40, 0xEB, 0x00, 0x43, 0xF4};
    for (Mode mode : {Mode::kInterp, Mode::kDiff}) {
        Machine m(mode);
        CountingPort port;
        m.io.attach(0x80, 1, &port);
        setup_real(m, code);
        CHECK(m.c.run(100) == cpu::Exit::kHalted);
        CHECK(port.writes == 1);
        CHECK(port.last == 5);
        CHECK(port.reads == 1);
        CHECK(m.c.r16(cpu::EAX) == 0x125B);
        CHECK(m.c.s.icount == 7);
        if (mode == Mode::kDiff) {
            const jit::DiffStats* st = jit::diff_stats(m.c);
            CHECK(st->blocks_not_compared == 2);  // [mov; out] and [in; inc; jmp]
            CHECK(st->blocks_compared == 1);      // [inc bx; hlt]
            CHECK(st->divergences == 0);
        }
    }
}

TEST_CASE("diff engine: blocks that fault are compared and the fault is delivered once") {
    SUBCASE("#PF in a 32-bit block") {
        // inc ebx; inc ebx; mov eax, [kPmNotPresent + 4]; hlt
        std::vector<uint8_t> code = {0x43, 0x43, 0xA1};
        test::put32(code, kPmNotPresent + 4);
        code.push_back(0xF4);
        Machine ref(Mode::kInterp), m(Mode::kDiff);
        for (Machine* x : {&ref, &m}) setup_pm(*x, code);
        CHECK(ref.c.run(100) == cpu::Exit::kHalted);
        CHECK(m.c.run(100) == cpu::Exit::kHalted);
        CHECK(differences(ref, m) == 0);
        CHECK(m.c.last_exception() == cpu::kPageFault);
        CHECK(m.c.s.cr[2] == kPmNotPresent + 4);
        CHECK(m.c.stats().exceptions == 1);
        CHECK(m.mem.read(kPmStack - 12, 4) == kPmCode + 2);  // EIP of the load
        const jit::DiffStats* st = jit::diff_stats(m.c);
        CHECK(st->divergences == 0);
        CHECK(st->blocks_faulted == 1);
        CHECK(st->blocks_compared == 2);  // the faulting block and the handler's HLT
    }
    SUBCASE("#GP at the real-mode segment limit, and #DE") {
        // inc bx; mov ax, [0FFFFh] (#GP: the word passes the limit); then the same with DIV
        for (std::vector<uint8_t> code : {std::vector<uint8_t>{0x43, 0x8B, 0x06, 0xFF, 0xFF, 0xF4},
                                          std::vector<uint8_t>{0x43, 0x31, 0xC9, 0xF7, 0xF1, 0xF4}}) {
            Machine ref(Mode::kInterp), m(Mode::kDiff);
            for (Machine* x : {&ref, &m}) setup_real(*x, code);
            CHECK(ref.c.run(100) == cpu::Exit::kHalted);
            CHECK(m.c.run(100) == cpu::Exit::kHalted);
            CHECK(differences(ref, m) == 0);
            CHECK((m.c.last_exception() == cpu::kGP || m.c.last_exception() == cpu::kDE));
            CHECK(m.c.stats().exceptions == 1);
            CHECK(jit::diff_stats(m.c)->divergences == 0);
            CHECK(jit::diff_stats(m.c)->blocks_faulted == 1);
        }
    }
}

TEST_CASE("diff engine: an interrupt between blocks, a store into the running block") {
    SUBCASE("external interrupt") {
        // inc ax; add bx, ax; inc dx; jmp back — the IRQ handler (0000:0500) is a HLT.
        const std::vector<uint8_t> loop = {0x40, 0x01, 0xC3, 0x42, 0xEB, 0xFA};
        for (uint64_t at : {3u, 17u}) {
            Machine ref(Mode::kInterp), m(Mode::kDiff);
            test::TimedIrq ia, ib;
            for (Machine* x : {&ref, &m}) {
                setup_real(*x, loop);
                x->c.set_eflags(x->c.eflags() | cpu::kIF);
            }
            // The handler runs a few instructions before its HLT, so the block after the
            // delivery is longer than one instruction.
            const std::vector<uint8_t> handler = {0x41, 0x41, 0x41, 0xF4};  // inc cx x3; hlt
            for (Machine* x : {&ref, &m}) REQUIRE(x->mem.copy_to(0x500, handler.data(), handler.size()));
            ia.attach(ref.c, at);
            ib.attach(m.c, at);
            CHECK(ref.c.run(500) == cpu::Exit::kHalted);
            CHECK(m.c.run(500) == cpu::Exit::kHalted);
            CAPTURE(at);
            CHECK(differences(ref, m) == 0);
            CHECK(jit::diff_stats(m.c)->divergences == 0);
            CHECK(jit::diff_stats(m.c)->blocks_cut == 1);
        }
    }
    SUBCASE("self-modifying store") {
        // mov byte [0008], 40h; nop; nop; nop; inc cx (rewritten to inc ax); hlt
        const std::vector<uint8_t> code = {0xC6, 0x06, 0x08, 0x00, 0x40, 0x90, 0x90, 0x90, 0x41, 0xF4};
        Machine ref(Mode::kInterp), m(Mode::kDiff);
        for (Machine* x : {&ref, &m}) setup_real(*x, code);
        CHECK(ref.c.run(100) == cpu::Exit::kHalted);
        CHECK(m.c.run(100) == cpu::Exit::kHalted);
        CHECK(differences(ref, m) == 0);
        CHECK(m.c.r16(cpu::EAX) == 0x1235);
        const jit::DiffStats* st = jit::diff_stats(m.c);
        CHECK(st->blocks_not_compared == 1);  // the store invalidated decoded code
        CHECK(st->blocks_compared >= 1);
        CHECK(st->divergences == 0);
    }
}

TEST_CASE("diff engine: both runs start from the same soft TLB") {
    // mov eax, [21000h]; remap linear 21000h to 22000h in the page table (no INVLPG);
    // mov ebx, [1021000h] (16 MiB on: the same slot of any soft TLB of up to 4096 entries, so
    // it evicts 21000h); mov ecx, [21000h] (walks again); hlt.
    // The interpreter reads the old frame first and the new one after the eviction; the inner
    // run must start with the TLB as the first run found it, not as it left it.
    const std::vector<uint8_t> code = {0xa1, 0x00, 0x10, 0x02, 0x00, 0xc7, 0x05, 0x84, 0x20, 0x00,
                                       0x00, 0x03, 0x20, 0x02, 0x00, 0x8b, 0x1d, 0x00, 0x10, 0x02,
                                       0x01, 0x8b, 0x0d, 0x00, 0x10, 0x02, 0x00, 0xf4};
    Machine ref(Mode::kInterp), m(Mode::kDiff);
    for (Machine* x : {&ref, &m}) {
        setup_pm(*x, code);
        x->mem.write(kPd + 4 * 4, 4, 0x2A003);      // 1000000h-13FFFFFh: page table at 2A000h
        x->mem.write(0x2A000 + 4 * 0x21, 4, 0x23003);  // 1021000h -> 23000h
        x->mem.write(0x21000, 4, 0x11111111);
        x->mem.write(0x22000, 4, 0x22222222);
    }
    CHECK(ref.c.run(100) == cpu::Exit::kHalted);
    CHECK(m.c.run(100) == cpu::Exit::kHalted);
    CHECK(ref.c.r32(cpu::EAX) == 0x11111111);
    CHECK(ref.c.r32(cpu::ECX) == 0x22222222);
    CHECK(differences(ref, m) == 0);
    CHECK(m.seen.empty());
    CHECK(jit::diff_stats(m.c)->blocks_compared == 1);
}

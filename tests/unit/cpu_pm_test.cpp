// Protected-mode and paging internals that guest programs observe only indirectly: a store
// crossing into a page that faults writes nothing, an instruction crossing into a missing page
// faults on the right address, the supervisor and user TLBs stay apart, the double-fault class
// table, and decoded code follows a remapped page.
//
// Each test builds flat 32-bit protected-mode state directly in CpuState (run() re-derives the
// caches from it) with identity-mapped 4 KiB pages, then runs a few instruction bytes.
#include <doctest/doctest.h>

#include <cstring>

#include "cpu/cpu.h"
#include "tests/unit/test_util.h"

using namespace vx86;
using cpu::Cpu;

namespace {

constexpr uint32_t kPd = 0x10000;        // page directory
constexpr uint32_t kPt = 0x11000;        // page table for 0-4 MiB
constexpr uint32_t kIdt = 0x12000;
constexpr uint32_t kGdt = 0x13000;
constexpr uint32_t kCode = 0x20000;      // test code
constexpr uint32_t kHandler = 0x21000;   // every IDT gate points here: HLT
constexpr uint32_t kStack = 0x30000;     // ESP at start

struct PmFixture {
    mmu::PhysMemory mem{4u << 20};
    devices::IoBus io;
    Cpu c{cpu::CpuModel::kP6, mem, io};

    PmFixture() {
        // GDT: null, flat code 0x08, flat data 0x10, flat code DPL3 0x18, flat data DPL3 0x20,
        // (0x28 unused), 16-bit data (B=0, limit 0xFFFFF) 0x30.
        const uint64_t gdt[] = {0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull,
                                0x00CFFB000000FFFFull, 0x00CFF3000000FFFFull, 0,
                                0x000F93000000FFFFull};
        REQUIRE(mem.copy_to(kGdt, gdt, sizeof gdt));
        c.s.gdtr = {kGdt, sizeof gdt - 1};
        // IDT: 32-bit interrupt gates to kHandler for vectors 0-31.
        for (uint32_t v = 0; v < 32; ++v) set_gate(v, true);
        c.s.idtr = {kIdt, 32 * 8 - 1};
        const uint8_t hlt = 0xF4;
        REQUIRE(mem.copy_to(kHandler, &hlt, 1));
        // Identity map 0-4 MiB, supervisor, writable.
        mem.write(kPd, 4, kPt | 0x3);
        for (uint32_t p = 0; p < 1024; ++p) mem.write(kPt + 4 * p, 4, (p << 12) | 0x3);
        c.s.cr[3] = kPd;
        c.s.cr[0] = 0x80000011u;  // PG | ET | PE
        flat(0);
        c.s.eip = kCode;
        c.set_r32(cpu::ESP, kStack);
    }
    void set_gate(uint32_t v, bool present) {
        uint32_t lo = (0x08u << 16) | (kHandler & 0xFFFF);
        uint32_t hi = (kHandler & 0xFFFF0000u) | (present ? 0x8E00u : 0x0E00u);
        mem.write(kIdt + 8 * v, 4, lo);
        mem.write(kIdt + 8 * v + 4, 4, hi);
    }
    void flat(unsigned cpl) {
        const uint16_t cs = cpl ? 0x1B : 0x08, ds = cpl ? 0x23 : 0x10;
        const uint16_t dpl = uint16_t(cpl << 5);
        c.s.seg[cpu::CS] = cpu::Segment{0, 0xFFFFFFFFu, cs, uint16_t(0xC09B | dpl)};
        for (unsigned k : {cpu::ES, cpu::SS, cpu::DS, cpu::FS, cpu::GS})
            c.s.seg[k] = cpu::Segment{0, 0xFFFFFFFFu, ds, uint16_t(0xC093 | dpl)};
        c.s.cpl = uint8_t(cpl);
    }
    // Ring 3 with a TSS whose ring-0 stack is at 0x38000.
    void enter_ring3() {
        flat(3);
        mem.write(0x14004, 4, 0x38000);  // ESP0
        mem.write(0x14008, 4, 0x10);     // SS0
        c.s.tr = cpu::Segment{0x14000, 0x67, 0x28, 0x8B};
        mem.write(kPd, 4, kPt | 0x7);
        for (uint32_t p = 0; p < 1024; ++p) pte(p << 12, (p << 12) | 0x7);
    }
    void pte(uint32_t lin, uint32_t value) { mem.write(kPt + 4 * (lin >> 12), 4, value); }
    void code(const std::vector<uint8_t>& bytes, uint32_t at = kCode) {
        REQUIRE(mem.copy_to(at, bytes.data(), bytes.size()));
        c.flush_code_cache();
    }
    // Runs until the handler's HLT (or `n` instructions); returns the vector taken or -1.
    int run(uint64_t n = 16) {
        c.run(n);
        return c.last_exception();
    }
    uint32_t stack_dword(unsigned k) { return mem.read(uint32_t(c.r32(cpu::ESP)) + 4 * k, 4); }
};

}  // namespace

TEST_CASE("a dword store crossing into a not-present page writes nothing and reports CR2") {
    PmFixture f;
    f.pte(0x41000, 0);  // page 0x41000 not present; 0x40000 present and writable
    f.mem.write(0x40FFC, 4, 0x11223344);
    // mov dword [0x40FFE], 0xAABBCCDD
    f.code({0xC7, 0x05, 0xFE, 0x0F, 0x04, 0x00, 0xDD, 0xCC, 0xBB, 0xAA});
    CHECK(f.run() == cpu::kPageFault);
    CHECK(f.c.s.cr[2] == 0x41000);
    CHECK(f.stack_dword(0) == 0x2);       // error code: write, not present, supervisor
    CHECK(f.stack_dword(1) == kCode);     // EIP of the faulting store
    CHECK(f.mem.read(0x40FFC, 4) == 0x11223344);  // the first page's bytes are untouched
}

TEST_CASE("an instruction whose bytes run into a not-present page faults at that page") {
    PmFixture f;
    f.pte(0x51000, 0);
    // mov eax, imm32 at 0x50FFD: opcode and two immediate bytes in the present page.
    f.c.s.eip = 0x50FFD;
    f.code({0xB8, 0x78, 0x56}, 0x50FFD);
    CHECK(f.run() == cpu::kPageFault);
    CHECK(f.c.s.cr[2] == 0x51000);
    CHECK(f.stack_dword(0) == 0x0);   // read (fetch without NX), not present, supervisor
    CHECK(f.stack_dword(1) == 0x50FFD);
    // Mapped now: the same instruction executes from both pages.
    f.pte(0x51000, 0x51000 | 3);
    f.mem.write(0x51000, 1, 0x34);
    f.mem.write(0x51001, 1, 0x12);
    f.mem.write(0x51002, 1, 0xF4);  // hlt
    f.c.s.eip = 0x50FFD;
    f.c.s.halted = 0;
    f.c.set_r32(cpu::ESP, kStack);
    f.c.flush_tlb();
    f.run();
    CHECK(f.c.s.halted == 1);
    CHECK(f.c.s.eip == 0x51003);  // past the HLT, not in the handler
    CHECK(f.c.r32(cpu::EAX) == 0x12345678);
}

TEST_CASE("supervisor and user accesses use separate TLBs") {
    PmFixture f;
    // Page 0x60000: supervisor only. Page for code/stack: user.
    f.mem.write(kPd, 4, kPt | 0x7);
    for (uint32_t p = 0; p < 1024; ++p) f.pte(p << 12, (p << 12) | 0x7);
    f.pte(0x60000, 0x60000 | 0x3);
    f.mem.write(0x60000, 4, 0xCAFEF00D);
    f.mem.write(0x61000, 4, 0x0BADC0DE);
    // CPL0 reads the supervisor page (filling the supervisor TLB), then at CPL3 the same read
    // must fault even though the translation is cached for CPL0.
    f.code({0xA1, 0x00, 0x00, 0x06, 0x00, 0xF4});  // mov eax, [0x60000]; hlt
    CHECK(f.run() == -1);
    CHECK(f.c.r32(cpu::EAX) == 0xCAFEF00D);
    f.c.s.halted = 0;
    f.flat(3);
    f.c.s.eip = kCode;
    f.c.set_r32(cpu::ESP, kStack);
    // The ring-0 stack for the fault comes from a TSS: a 32-bit TSS at 0x14000.
    f.mem.write(0x14004, 4, 0x38000);  // ESP0
    f.mem.write(0x14008, 4, 0x10);     // SS0
    f.c.s.tr = cpu::Segment{0x14000, 0x67, 0x28, 0x8B};
    CHECK(f.run() == cpu::kPageFault);
    CHECK(f.c.s.cr[2] == 0x60000);
    CHECK(f.stack_dword(0) == 0x5);  // protection violation, read, user
    CHECK(f.c.cpl() == 0);
}

TEST_CASE("double-fault classes: contributory pairs give #DF, benign ones are serial") {
    SUBCASE("#GP while delivering #GP -> #DF") {
        PmFixture f;
        f.set_gate(cpu::kGP, false);  // the #GP gate itself is not present -> #NP (contributory)
        f.code({0x8E, 0xD8});         // mov ds, ax with AX = 0x7F8 (beyond the GDT) -> #GP
        f.c.set_r32(cpu::EAX, 0x7F8);
        CHECK(f.run() == cpu::kDoubleFault);
        CHECK(f.stack_dword(0) == 0);
    }
    SUBCASE("#UD whose gate is not present -> #NP with the IDT error code") {
        PmFixture f;
        f.set_gate(cpu::kUD, false);
        f.code({0x0F, 0x0B});  // ud2
        CHECK(f.run() == cpu::kNP);
        CHECK(f.stack_dword(0) == cpu::kUD * 8 + 2 + 1);  // IDT, EXT (during an exception)
    }
    SUBCASE("#PF while delivering #PF -> #DF; a fault delivering #DF shuts down") {
        PmFixture f;
        f.pte(0x70000, 0);
        f.pte(kStack - 4, 0);  // the stack page is gone too: delivering #PF faults again
        f.code({0xA1, 0x00, 0x00, 0x07, 0x00});  // mov eax, [0x70000]
        CHECK(f.c.run(16) == cpu::Exit::kShutdown);
    }
}

TEST_CASE("decoded code follows a page remapped by INVLPG") {
    PmFixture f;
    // Linear 0x80000 maps to frame 0x90000 (mov eax, 1; hlt), later to 0xA0000 (mov eax, 2).
    f.pte(0x80000, 0x90000 | 3);
    f.code({0xB8, 0x01, 0x00, 0x00, 0x00, 0xF4}, 0x90000);
    f.code({0xB8, 0x02, 0x00, 0x00, 0x00, 0xF4}, 0xA0000);
    f.c.s.eip = 0x80000;
    CHECK(f.run() == -1);
    CHECK(f.c.r32(cpu::EAX) == 1);
    // Remap without telling anyone but the TLB (INVLPG via the CPU's own entry point).
    f.pte(0x80000, 0xA0000 | 3);
    f.c.invlpg(0x80000);
    f.c.s.halted = 0;
    f.c.s.eip = 0x80000;
    CHECK(f.run() == -1);
    CHECK(f.c.r32(cpu::EAX) == 2);
}

TEST_CASE("expand-down data segments accept only offsets above the limit") {
    PmFixture f;
    // DS: expand-down, writable, 32-bit (B=1), limit 0xFFF: valid offsets 0x1000-0xFFFFFFFF.
    f.c.s.seg[cpu::DS] = cpu::Segment{0x100000, 0xFFF, 0x10, 0xC097};
    f.code({0x8B, 0x00, 0xF4});  // mov eax, [eax]; hlt
    f.c.set_r32(cpu::EAX, 0x1000);
    f.mem.write(0x101000, 4, 0x5555AAAA);
    CHECK(f.run() == -1);
    CHECK(f.c.r32(cpu::EAX) == 0x5555AAAA);
    f.c.s.halted = 0;
    f.c.s.eip = kCode;
    f.c.set_r32(cpu::EAX, 0xFFE);  // 0xFFE..0x1001 straddles the limit
    CHECK(f.run() == cpu::kGP);
    CHECK(f.stack_dword(0) == 0);
}

TEST_CASE("a fault while delivering INT n is an ordinary fault, whatever the vector") {
    // INT 0Dh and INT 08h from ring 3 through DPL-0 gates: #GP(vector*8+2), not #DF or a
    // shutdown (INT n is benign in the double-fault table, SDM vol. 3A, table 6-4).
    for (uint8_t vec : {uint8_t(0x0D), uint8_t(0x08), uint8_t(0x0E)}) {
        CAPTURE(int(vec));
        PmFixture f;
        f.enter_ring3();
        f.code({0xCD, vec});
        CHECK(f.c.run(16) == cpu::Exit::kHalted);
        CHECK(f.c.last_exception() == cpu::kGP);
        CHECK(f.stack_dword(0) == vec * 8u + 2);
        CHECK(f.stack_dword(1) == kCode);
    }
}

TEST_CASE("POP SS sizes ESP by the stack it pops from") {
    // A 32-bit POP SS on a 16-bit stack loading a 32-bit SS: only SP moves (0xFFFC + 4 wraps to
    // 0), ESP's upper half stays.
    PmFixture f;
    f.c.s.seg[cpu::SS] = cpu::Segment{0, 0xFFFFF, 0x30, 0x0093};
    f.c.set_r32(cpu::ESP, 0x2FFFC);
    f.mem.write(0xFFFC, 4, 0x10);
    f.code({0x17, 0xF4});  // pop ss; hlt
    f.run();
    CHECK(f.c.last_exception() == -1);
    CHECK(f.c.s.seg[cpu::SS].sel == 0x10);
    CHECK(f.c.r32(cpu::ESP) == 0x20000);
}

TEST_CASE("ENTER with a 32-bit operand on a 16-bit stack keeps ESP's upper half in EBP") {
    PmFixture f;
    f.c.s.seg[cpu::SS] = cpu::Segment{0, 0xFFFFF, 0x30, 0x0093};
    f.c.set_r32(cpu::ESP, 0x2FF00);
    f.c.set_r32(cpu::EBP, 0x12345678);
    f.code({0xC8, 0x08, 0x00, 0x00, 0xF4});  // enter 8, 0; hlt
    f.run();
    CHECK(f.c.last_exception() == -1);
    CHECK(f.mem.read(0xFEFC, 4) == 0x12345678);
    CHECK(f.c.r32(cpu::EBP) == 0x2FEFC);
    CHECK(f.c.r32(cpu::ESP) == 0x2FEF4);
}

TEST_CASE("a task switch to a TSS with the T bit set traps with DR6.BT before the new task runs") {
    PmFixture f;
    // Current TSS at 0x14000 (selector 0x28 in TR), new 32-bit TSS at 0x15000 behind selector
    // 0x38 (GDT slot 7, added here with the GDT limit raised).
    f.c.s.tr = cpu::Segment{0x14000, 0x67, 0x28, 0x8B};
    const uint64_t tss_desc = 0x0000890150000067ull;  // base 0x15000, limit 0x67, available
    f.mem.write(kGdt + 0x38, 4, uint32_t(tss_desc));
    f.mem.write(kGdt + 0x3C, 4, uint32_t(tss_desc >> 32));
    f.c.s.gdtr.limit = 0x3F;
    const uint32_t t = 0x15000;
    f.mem.write(t + 0x1C, 4, kPd);      // CR3
    f.mem.write(t + 0x20, 4, 0x22000);  // EIP
    f.mem.write(t + 0x24, 4, 0x2);      // EFLAGS
    f.mem.write(t + 0x38, 4, 0x37000);  // ESP
    f.mem.write(t + 0x4C, 2, 0x08);     // CS
    for (uint32_t off : {0x48u, 0x50u, 0x54u, 0x58u, 0x5Cu}) f.mem.write(t + off, 2, 0x10);
    f.mem.write(t + 0x64, 2, 1);        // T
    f.code({0xEA, 0x00, 0x00, 0x00, 0x00, 0x38, 0x00});  // jmp 0x38:0
    f.code({0xF4}, 0x22000);
    f.run();
    CHECK(f.c.last_exception() == cpu::kDB);
    CHECK((f.c.s.dr[6] & 0x8000) != 0);
    CHECK(f.c.s.tr.sel == 0x38);
    CHECK(f.stack_dword(0) == 0x22000);  // the new task's first instruction, not yet run
    CHECK(f.c.r32(cpu::ESP) == 0x37000 - 12);
}

TEST_CASE("INVLPG of any address in a 4 MiB page drops the page's translations") {
    PmFixture f;
    // CR4.PSE; PDE 1 maps linear 400000h-7FFFFFh as one 4 MiB page at physical 0. The code
    // reads 523000h, remaps the page to 400000h (no memory there: reads give all ones), INVLPGs
    // an address of the page in another TLB slot than 523000h's, and reads 523000h again.
    static_assert(kPd + 4 == 0x10004);
    f.c.s.cr[4] |= 0x10;
    f.mem.write(kPd + 4, 4, 0x00000083);  // P | RW | PS, frame 0
    f.mem.write(0x123000, 4, 0x12345678);
    f.code({0xA1, 0x00, 0x30, 0x52, 0x00,                                // mov eax, [523000h]
            0xC7, 0x05, 0x04, 0x00, 0x01, 0x00, 0x83, 0x00, 0x40, 0x00,  // mov [kPd+4], 400083h
            0x0F, 0x01, 0x3D, 0x00, 0x50, 0x40, 0x00,                    // invlpg [405000h]
            0x8B, 0x1D, 0x00, 0x30, 0x52, 0x00,                          // mov ebx, [523000h]
            0xF4});
    CHECK(f.run() == -1);
    CHECK(f.c.r32(cpu::EAX) == 0x12345678);
    CHECK(f.c.r32(cpu::EBX) == 0xFFFFFFFFu);
}

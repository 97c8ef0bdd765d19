// REP STOS and REP MOVS against their element-by-element definition (SDM vol. 2, MOVS/STOS and
// REP): runs that cross pages, overlap, span several 4096-element chunks (the instruction then
// re-executes itself), wrap a 16-bit index, end at a segment limit, and copy into the code being
// run. The interpreter moves runs of elements at once where it can (Cpu::host_span); these cases
// check that nothing a guest can see depends on it.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "cpu/cpu.h"

using namespace vx86;

namespace {

constexpr uint32_t kRam = 1u << 20;
constexpr uint32_t kCode = 0x1000, kGdt = 0x500, kIdt = 0x600, kHandler = 0x800;

// Flat 32-bit protected mode without paging; ES may be given a byte-granular limit. Every
// exception vector leads to a HLT.
struct Pm {
    mmu::PhysMemory mem{kRam};
    devices::IoBus io;
    cpu::Cpu c{cpu::CpuModel::kP6, mem, io};
    explicit Pm(const std::vector<uint8_t>& code, uint32_t es_limit = 0xFFFFFFFFu) {
        const uint64_t gdt[] = {0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull};
        REQUIRE(mem.copy_to(kGdt, gdt, sizeof gdt));
        c.s.gdtr = {kGdt, sizeof gdt - 1};
        for (uint32_t v = 0; v < 32; ++v) {
            mem.write(kIdt + 8 * v, 4, (0x08u << 16) | kHandler);
            mem.write(kIdt + 8 * v + 4, 4, 0x8E00u);
        }
        c.s.idtr = {kIdt, 32 * 8 - 1};
        mem.write(kHandler, 1, 0xF4);
        c.s.cr[0] = 0x11;  // PE | ET
        c.s.seg[cpu::CS] = cpu::Segment{0, 0xFFFFFFFFu, 0x08, 0xC09B};
        for (unsigned k : {cpu::ES, cpu::SS, cpu::DS, cpu::FS, cpu::GS})
            c.s.seg[k] = cpu::Segment{0, 0xFFFFFFFFu, 0x10, 0xC093};
        if (es_limit != 0xFFFFFFFFu) c.s.seg[cpu::ES] = cpu::Segment{0, es_limit, 0x10, 0x4093};
        REQUIRE(mem.copy_to(kCode, code.data(), code.size()));
        c.s.eip = kCode;
        c.set_r32(cpu::ESP, 0x900);
    }
};

// The element-by-element result of REP MOVS (movs) or REP STOS of `n` elements of `size`
// bytes, forward, on a copy of memory.
void reference(std::vector<uint8_t>& m, bool movs, unsigned size, uint32_t esi, uint32_t edi,
               uint32_t eax, uint32_t n) {
    for (uint32_t k = 0; k < n; ++k) {
        uint8_t e[4];
        for (unsigned b = 0; b < size; ++b) e[b] = movs ? m[esi + k * size + b] : uint8_t(eax >> (8 * b));
        for (unsigned b = 0; b < size; ++b) m[edi + k * size + b] = e[b];
    }
}

}  // namespace

TEST_CASE("REP MOVS and REP STOS across pages, overlaps and chunks act element by element") {
    unsigned runs = 0;
    for (bool movs : {false, true})
        for (unsigned size : {1u, 2u, 4u})
            for (uint32_t n : {0u, 1u, 7u, 1500u, 4096u, 4097u, 9000u})
                for (int layout = 0; layout < 4; ++layout) {
                    // Destination at a page's start, just before a page end, or overlapping the
                    // source one byte ahead or behind.
                    uint32_t edi = 0x40000 + (layout == 1 ? 0xFFE : 0);
                    uint32_t esi = 0x60000 + 0x7FF;
                    if (layout == 2) esi = edi - 1;
                    if (layout == 3) esi = edi + 1;
                    const std::vector<uint8_t> code = {
                        uint8_t(size == 2 ? 0x66 : 0x90), 0xF3,
                        uint8_t((movs ? 0xA4 : 0xAA) | (size > 1 ? 1 : 0)), 0xF4};
                    Pm pm(code);
                    for (uint32_t a = 0x3F000; a < 0x70000; ++a) pm.mem.write(a, 1, (a * 2654435761u) >> 24);
                    pm.c.set_r32(cpu::ESI, esi);
                    pm.c.set_r32(cpu::EDI, edi);
                    pm.c.set_r32(cpu::ECX, n);
                    pm.c.set_r32(cpu::EAX, 0xA1B2C3D4u);
                    std::vector<uint8_t> want(pm.mem.ram(), pm.mem.ram() + kRam);
                    reference(want, movs, size, esi, edi, 0xA1B2C3D4u, n);
                    CAPTURE(movs);
                    CAPTURE(size);
                    CAPTURE(n);
                    CAPTURE(layout);
                    REQUIRE(pm.c.run(100000) == cpu::Exit::kHalted);
                    CHECK(pm.c.last_exception() == -1);
                    CHECK(pm.c.r32(cpu::ECX) == 0);
                    CHECK(pm.c.r32(cpu::EDI) == edi + n * size);
                    if (movs) CHECK(pm.c.r32(cpu::ESI) == esi + n * size);
                    // One execution per started chunk of 4096 elements (at least one), the HLT,
                    // and the NOP in front unless that byte is the operand-size prefix.
                    const uint64_t execs = n == 0 ? 1 : (n + 4095) / 4096;
                    CHECK(pm.c.s.icount == execs + 1 + (size == 2 ? 0 : 1));
                    CHECK(std::memcmp(pm.mem.ram(), want.data(), kRam) == 0);
                    ++runs;
                }
    CHECK(runs == 2 * 3 * 7 * 4);
}

TEST_CASE("REP STOSB with 16-bit addressing wraps DI within the segment") {
    // Real mode, ES = 2000h, DI = FFF0h, CX = 20h: bytes FFF0h..FFFFh, then 0000h..000Fh.
    mmu::PhysMemory mem(kRam);
    devices::IoBus io;
    cpu::Cpu c(cpu::CpuModel::kP6, mem, io);
    const uint8_t code[] = {0xF3, 0xAA, 0xF4};
    REQUIRE(mem.copy_to(0x10000, code, sizeof code));
    c.load_seg_real(cpu::CS, 0x1000);
    c.load_seg_real(cpu::ES, 0x2000);
    c.s.eip = 0;
    c.set_r16(cpu::EDI, 0xFFF0);
    c.set_r16(cpu::ECX, 0x20);
    c.set_r16(cpu::EAX, 0x5A);
    REQUIRE(c.run(1000) == cpu::Exit::kHalted);
    CHECK(c.r16(cpu::EDI) == 0x0010);
    CHECK(c.r16(cpu::ECX) == 0);
    for (uint32_t off = 0; off < 0x10000; ++off) {
        const bool filled = off >= 0xFFF0 || off < 0x10;
        if ((mem.read(0x20000 + off, 1) == 0x5A) != filled) {
            FAIL_CHECK("byte at ES:" << off << " is " << mem.read(0x20000 + off, 1));
            break;
        }
    }
    CHECK(mem.read(0x30000, 1) == 0);  // nothing past the segment's 64 KiB
}

TEST_CASE("REP STOSD stops with #GP at the first element past ES's limit") {
    // ES limit 20FFFh: elements at 20F00h + 4k fit up to 20FFCh; the one at 21000h faults with
    // EDI and ECX as after the 64 elements stored, and nothing at 21000h is written.
    Pm pm({0xF3, 0xAB, 0xF4}, 0x20FFF);
    pm.c.set_r32(cpu::EDI, 0x20F00);
    pm.c.set_r32(cpu::ECX, 0x100);
    pm.c.set_r32(cpu::EAX, 0x11223344);
    REQUIRE(pm.c.run(1000) == cpu::Exit::kHalted);
    CHECK(pm.c.last_exception() == cpu::kGP);
    CHECK(pm.c.r32(cpu::EDI) == 0x21000);
    CHECK(pm.c.r32(cpu::ECX) == 0x100 - 0x40);
    CHECK(pm.mem.read(0x20FFC, 4) == 0x11223344);
    CHECK(pm.mem.read(0x21000, 4) == 0);
}

TEST_CASE("REP MOVSB into the code being run changes the instructions that follow") {
    // The copy turns the NOP after it into INC EAX before it executes.
    Pm pm({0xF3, 0xA4,   // rep movsb
           0x90,         // nop -> inc eax
           0xF4});
    pm.mem.write(0x3000, 1, 0x40);
    pm.c.set_r32(cpu::ESI, 0x3000);
    pm.c.set_r32(cpu::EDI, kCode + 2);
    pm.c.set_r32(cpu::ECX, 1);
    pm.c.set_r32(cpu::EAX, 0);
    REQUIRE(pm.c.run(100) == cpu::Exit::kHalted);
    CHECK(pm.c.r32(cpu::EAX) == 1);
}

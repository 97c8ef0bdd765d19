// The paged protected-mode machine layout the JIT's differential and lockstep tests share: flat
// 32-bit code and data segments, every exception vector to a HLT, the first MiB identity-paged
// except for one not-present page, and code at kPmCode.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "cpu/cpu.h"

namespace vx86::test {

constexpr uint32_t kPd = 0x1000, kPt = 0x2000, kIdt = 0x3000, kGdt = 0x4000, kHandler = 0x5000;
constexpr uint32_t kPmCode = 0x20000, kPmStack = 0x30000, kPmNotPresent = 0x24000;

// Puts `mem`/`c` in that layout with `code` at kPmCode and EIP on it (registers are the
// caller's). GDT: null, 08h flat code, 10h flat data.
inline void setup_paged_pm(mmu::PhysMemory& mem, cpu::Cpu& c, const std::vector<uint8_t>& code) {
    const uint64_t gdt[] = {0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull};
    REQUIRE(mem.copy_to(kGdt, gdt, sizeof gdt));
    c.s.gdtr = {kGdt, sizeof gdt - 1};
    for (uint32_t v = 0; v < 32; ++v) {
        mem.write(kIdt + 8 * v, 4, (0x08u << 16) | (kHandler & 0xFFFF));
        mem.write(kIdt + 8 * v + 4, 4, (kHandler & 0xFFFF0000u) | 0x8E00u);
    }
    c.s.idtr = {kIdt, 32 * 8 - 1};
    mem.write(kHandler, 1, 0xF4);
    mem.write(kPd, 4, kPt | 3);
    for (uint32_t p = 0; p < 256; ++p) mem.write(kPt + 4 * p, 4, (p << 12) | 3);
    mem.write(kPt + 4 * (kPmNotPresent >> 12), 4, 0);
    c.s.cr[3] = kPd;
    c.s.cr[0] = 0x80010011u;  // PG | WP | ET | PE
    c.s.seg[cpu::CS] = cpu::Segment{0, 0xFFFFFFFFu, 0x08, 0xC09B};
    for (unsigned k : {cpu::ES, cpu::SS, cpu::DS, cpu::FS, cpu::GS})
        c.s.seg[k] = cpu::Segment{0, 0xFFFFFFFFu, 0x10, 0xC093};
    REQUIRE(mem.copy_to(kPmCode, code.data(), code.size()));
    c.s.eip = kPmCode;
}

}  // namespace vx86::test

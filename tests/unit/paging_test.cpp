// The page-table walker (mmu/paging.h) against the Intel SDM vol. 3A chapter 4.
//
// The tables are built by hand in a 16 MiB PhysMemory and each case checks what the manual
// fixes: the physical address and page size for 4 KiB, 4 MiB (PSE) and 2 MiB (PAE) pages, that
// PS means nothing under 32-bit paging without CR4.PSE, the reserved bits of each entry format
// (and that a not-present entry is never checked for them), the access-rights rules of 4.6 for
// every U/S and R/W combination with CR0.WP on and off, execute-disable with and without
// EFER.NXE, the exact page-fault error code of 4.7, the Accessed/Dirty updates of 4.8 (only on
// success, only when a bit changes, 4-byte writes, never in a PAE PDPTE), the global bit, PAE
// leaf addresses above 4 GiB, and that tables placed past RAM or at the top of the 32-bit space
// are read as all ones instead of reaching outside the guest's memory.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "mmu/memory.h"
#include "mmu/paging.h"
#include "test_util.h"

using namespace vx86::mmu;
using vx86::test::hx;

namespace {

constexpr uint32_t kMiB = 1u << 20;

// Entry bits.
constexpr uint32_t P = 1u << 0, RW = 1u << 1, US = 1u << 2, PWT = 1u << 3, PCD = 1u << 4,
                   A = 1u << 5, D = 1u << 6, PS = 1u << 7, G = 1u << 8;
constexpr uint64_t XD = uint64_t(1) << 63;

// Error code bits.
constexpr uint32_t kErrP = 1, kErrW = 2, kErrU = 4, kErrRsvd = 8, kErrI = 16;

// 32-bit paging layout: the page directory at 0x10000, the page table for PDE i at
// 0x100000 + i * 4 KiB (all inside the 16 MiB of RAM).
constexpr uint32_t kPd32 = 0x10000;
uint32_t pt32(uint32_t lin) { return 0x100000 + (lin >> 22) * 0x1000; }
uint32_t pde32_addr(uint32_t lin) { return kPd32 + (lin >> 22) * 4; }
uint32_t pte32_addr(uint32_t lin) { return pt32(lin) + ((lin >> 12) & 0x3FF) * 4; }

// PAE layout: the PDPT at 0x20000 (or wherever CR3 says), the page directory for PDPTE i at
// 0x30000 + i * 4 KiB, the page table for (PDPTE i, PDE j) at 0x600000 + (i*512 + j) * 4 KiB.
constexpr uint32_t kPdpt = 0x20000;
uint32_t pd_pae(uint32_t lin) { return 0x30000 + (lin >> 30) * 0x1000; }
uint32_t pt_pae(uint32_t lin) { return 0x600000 + (lin >> 21) * 0x1000; }
uint32_t pdpte_addr(uint32_t lin, uint32_t pdpt = kPdpt) { return pdpt + (lin >> 30) * 8; }
uint32_t pde_pae_addr(uint32_t lin) { return pd_pae(lin) + ((lin >> 21) & 0x1FF) * 8; }
uint32_t pte_pae_addr(uint32_t lin) { return pt_pae(lin) + ((lin >> 12) & 0x1FF) * 8; }

struct Fixture {
    PhysMemory mem{16 * kMiB};

    void w32(uint32_t a, uint32_t v) { mem.write(a, 4, v); }
    void w64(uint32_t a, uint64_t v) {
        mem.write(a, 4, uint32_t(v));
        mem.write(a + 4, 4, uint32_t(v >> 32));
    }
    uint32_t r32(uint32_t a) { return mem.read(a, 4); }
    uint64_t r64(uint32_t a) { return mem.read(a, 4) | (uint64_t(mem.read(a + 4, 4)) << 32); }

    // 32-bit paging: `lin` -> `phys` through the standard layout.
    void map32(uint32_t lin, uint32_t phys, uint32_t pde_flags, uint32_t pte_flags) {
        w32(pde32_addr(lin), pt32(lin) | pde_flags);
        w32(pte32_addr(lin), (phys & ~0xFFFu) | pte_flags);
    }
    // PAE paging, 4 KiB page.
    void map_pae(uint32_t lin, uint64_t phys, uint64_t pde_flags, uint64_t pte_flags,
                 uint64_t pdpte_flags = P, uint32_t pdpt = kPdpt) {
        w64(pdpte_addr(lin, pdpt), pd_pae(lin) | pdpte_flags);
        w64(pde_pae_addr(lin), pt_pae(lin) | pde_flags);
        w64(pte_pae_addr(lin), (phys & ~uint64_t(0xFFF)) | pte_flags);
    }
    // PAE paging, 2 MiB page (`pde_flags` should include PS).
    void map_pae_2m(uint32_t lin, uint64_t phys, uint64_t pde_flags, uint64_t pdpte_flags = P) {
        w64(pdpte_addr(lin), pd_pae(lin) | pdpte_flags);
        w64(pde_pae_addr(lin), (phys & ~uint64_t(0x1FFFFF)) | pde_flags);
    }
};

PagingRegs regs32(uint32_t cr4 = 0, uint32_t cr0 = 0, uint32_t cr3 = kPd32) {
    return PagingRegs{kCr0Pg | cr0, cr3, cr4, 0};
}
PagingRegs regs_pae(bool nxe = false, uint32_t cr4 = 0, uint32_t cr0 = 0, uint32_t cr3 = kPdpt) {
    return PagingRegs{kCr0Pg | cr0, cr3, kCr4Pae | cr4, nxe ? kEferNxe : 0};
}

const char* acc_name(Access a) {
    return a == Access::kRead ? "read" : a == Access::kWrite ? "write" : "fetch";
}

// A RAM snapshot, to prove a walk wrote nothing.
std::vector<uint8_t> snapshot(PhysMemory& mem) {
    return std::vector<uint8_t>(mem.ram(), mem.ram() + mem.ram_size());
}
bool unchanged(PhysMemory& mem, const std::vector<uint8_t>& snap) {
    return std::memcmp(mem.ram(), snap.data(), snap.size()) == 0;
}

// Page tables living in an MMIO window, so every access the walker makes is seen with its size.
struct TableMmio final : MmioHandler {
    std::vector<uint8_t> bytes = std::vector<uint8_t>(0x4000, 0);
    uint32_t base = 0;
    struct Write {
        uint32_t addr;
        unsigned size;
        uint32_t value;
    };
    std::vector<Write> writes;
    uint32_t mmio_read(uint32_t addr, unsigned size) override {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; ++i) v |= uint32_t(bytes[addr - base + i]) << (8 * i);
        return v;
    }
    void mmio_write(uint32_t addr, unsigned size, uint32_t value) override {
        writes.push_back({addr, size, value});
        for (unsigned i = 0; i < size; ++i) bytes[addr - base + i] = uint8_t(value >> (8 * i));
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// 32-bit paging

TEST_CASE("paging: 32-bit 4 KiB page translates and sets A in PDE and PTE") {
    Fixture f;
    const uint32_t lin = 0x00C01ABC;  // PDE 3, PTE 1
    f.map32(lin, 0x00345000, P | RW, P | RW);
    // CR3 bits 11:0 (PWT, PCD and ignored bits) do not move the page directory.
    WalkResult w = walk(f.mem, regs32(0, 0, kPd32 | 0xFFF), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00345ABC);
    CHECK(w.page_size == 4096);
    CHECK(w.writable);
    CHECK_FALSE(w.user);
    CHECK_FALSE(w.nx);
    CHECK_FALSE(w.global);
    CHECK_FALSE(w.dirty);
    CHECK(f.r32(pde32_addr(lin)) == (pt32(lin) | P | RW | A));
    CHECK(f.r32(pte32_addr(lin)) == (0x00345000u | P | RW | A));

    // Neighbouring linear addresses use neighbouring entries.
    f.map32(lin + 0x1000, 0x00777000, P | RW, P);
    w = walk(f.mem, regs32(), lin + 0x1000, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00777ABC);
}

TEST_CASE("paging: 32-bit write sets D in the PTE only, and reports dirty") {
    Fixture f;
    const uint32_t lin = 0x00401000;
    f.map32(lin, 0x00200000, P | RW, P | RW);
    WalkResult w = walk(f.mem, regs32(), lin, Access::kWrite, false);
    REQUIRE(w.ok);
    CHECK(w.dirty);
    CHECK(f.r32(pte32_addr(lin)) == (0x00200000u | P | RW | A | D));
    // Bit 6 of a PDE that references a page table is ignored: the walk must not set it.
    CHECK(f.r32(pde32_addr(lin)) == (pt32(lin) | P | RW | A));

    // A read reports the D bit as it stands.
    f.map32(lin, 0x00200000, P | RW, P | RW);
    w = walk(f.mem, regs32(), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK_FALSE(w.dirty);
    f.map32(lin, 0x00200000, P | RW, P | RW | D);
    w = walk(f.mem, regs32(), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.dirty);
    CHECK(f.r32(pte32_addr(lin)) == (0x00200000u | P | RW | A | D));
}

TEST_CASE("paging: 32-bit PTE has no reserved bits; PDE bits 6 and 8 are ignored") {
    Fixture f;
    const uint32_t lin = 0x00403000;
    // PTE bit 7 is PAT, bits 11:9 are ignored; PDE bit 6 and bit 8 are ignored, bits 11:9 too.
    f.w32(pde32_addr(lin), pt32(lin) | 0xE00 | G | D | P | RW);
    f.w32(pte32_addr(lin), 0x00ABC000u | 0xE00 | PS | PCD | PWT | P);
    for (uint32_t cr4 : {0u, kCr4Pse, kCr4Pse | kCr4Pge}) {
        CAPTURE(cr4);
        WalkResult w = walk(f.mem, regs32(cr4), lin | 0x123, Access::kRead, false);
        REQUIRE(w.ok);
        CHECK(w.phys == 0x00ABC123);
        CHECK(w.page_size == 4096);
        CHECK_FALSE(w.global);  // G in a PDE that references a page table is ignored
    }
}

TEST_CASE("paging: 32-bit not-present PDE or PTE faults with P=0 and writes nothing") {
    Fixture f;
    const uint32_t lin = 0x00801000;
    // Not-present PDE whose other bits would be nonsense if they were looked at.
    f.w32(pde32_addr(lin), 0xFFFFFFFEu);
    auto snap = snapshot(f.mem);
    WalkResult w = walk(f.mem, regs32(kCr4Pse), lin, Access::kRead, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == 0);
    CHECK(unchanged(f.mem, snap));

    // Present PDE, not-present PTE: the PDE's A bit must not be set by the failed walk.
    f.map32(lin, 0x00300000, P | RW | US, 0x00300000 | RW | US);
    snap = snapshot(f.mem);
    w = walk(f.mem, regs32(), lin, Access::kRead, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == 0);
    CHECK(unchanged(f.mem, snap));
    CHECK((f.r32(pde32_addr(lin)) & A) == 0);
}

TEST_CASE("paging: error code W/R and U/S describe the access, I/D stays 0 in 32-bit paging") {
    Fixture f;
    const uint32_t lin = 0x00801000;  // no tables: PDE is zero
    struct Case {
        Access acc;
        bool user;
        uint32_t error;
    };
    // EFER.NXE has no effect without CR4.PAE: fetches report I/D=0 (SDM 4.7).
    for (const Case& c : {Case{Access::kRead, false, 0}, Case{Access::kWrite, false, kErrW},
                          Case{Access::kRead, true, kErrU},
                          Case{Access::kWrite, true, kErrW | kErrU}, Case{Access::kFetch, false, 0},
                          Case{Access::kFetch, true, kErrU}}) {
        CAPTURE(acc_name(c.acc));
        CAPTURE(c.user);
        PagingRegs r = regs32();
        r.efer = kEferNxe;
        WalkResult w = walk(f.mem, r, lin, c.acc, c.user);
        CHECK_FALSE(w.ok);
        CHECK(w.error == c.error);
    }
    // The same bits accompany a protection violation: user write to a read-only supervisor page.
    f.map32(lin, 0x00300000, P, P);
    WalkResult w = walk(f.mem, regs32(), lin, Access::kWrite, true);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrW | kErrU));
    w = walk(f.mem, regs32(), lin, Access::kFetch, true);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrU));
}

// ---------------------------------------------------------------------------------------------
// PSE 4 MiB pages

TEST_CASE("paging: PSE 4 MiB page with CR4.PSE=1") {
    Fixture f;
    const uint32_t lin = 0x00D2B456;  // PDE 3, offset 0x12B456 in the 4 MiB page
    f.w32(pde32_addr(lin), 0x00800000u | PS | P | RW | US);
    WalkResult w = walk(f.mem, regs32(kCr4Pse), lin, Access::kRead, true);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x0092B456);
    CHECK(w.page_size == 4 * kMiB);
    CHECK(w.user);
    CHECK(w.writable);
    CHECK_FALSE(w.dirty);
    CHECK(f.r32(pde32_addr(lin)) == (0x00800000u | PS | P | RW | US | A));

    // A write sets D in the 4 MiB PDE, which is the leaf.
    w = walk(f.mem, regs32(kCr4Pse), lin, Access::kWrite, true);
    REQUIRE(w.ok);
    CHECK(w.dirty);
    CHECK(f.r32(pde32_addr(lin)) == (0x00800000u | PS | P | RW | US | A | D));

    // Bit 12 is PAT, not an address bit; a page near the top of the 32-bit space.
    f.w32(pde32_addr(0xFFC00000u), 0xFFC00000u | 0x1000u | PS | P);
    w = walk(f.mem, regs32(kCr4Pse), 0xFFC12345u, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0xFFC12345u);
}

TEST_CASE("paging: PS is ignored when CR4.PSE=0 (the PDE references a page table)") {
    Fixture f;
    const uint32_t lin = 0x00C05123;  // PDE 3, PTE 5
    // Read as a 4 MiB page this PDE maps 0x00400000; read as a table pointer it locates a page
    // table at 0x00400000 whose PTE 5 maps 0x00300000.
    f.w32(pde32_addr(lin), 0x00400000u | PS | P | RW);
    f.w32(0x00400000 + 5 * 4, 0x00300000u | P | RW);

    WalkResult w = walk(f.mem, regs32(0), lin, Access::kWrite, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00300123);
    CHECK(w.page_size == 4096);
    // The PDE is not the leaf: A only; D went to the PTE.
    CHECK(f.r32(pde32_addr(lin)) == (0x00400000u | PS | P | RW | A));
    CHECK(f.r32(0x00400000 + 5 * 4) == (0x00300000u | P | RW | A | D));

    w = walk(f.mem, regs32(kCr4Pse), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00405123);  // 0x00400000 | (lin & 0x3FFFFF)
    CHECK(w.page_size == 4 * kMiB);

    // Without PSE, bits 21:13 are plain address bits of the page table, not reserved bits.
    f.w32(pde32_addr(lin), 0x00402000u | PS | P);
    f.w32(0x00402000 + 5 * 4, 0x00500000u | P);
    w = walk(f.mem, regs32(0), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00500123);
}

TEST_CASE("paging: PSE 4 MiB PDE bits 21:13 are reserved (no PSE-36), bit 12 is not") {
    Fixture f;
    const uint32_t lin = 0x00C00000;
    for (unsigned bit = 13; bit <= 21; ++bit) {
        CAPTURE(bit);
        f.w32(pde32_addr(lin), 0x00800000u | (1u << bit) | PS | P | RW | US);
        auto snap = snapshot(f.mem);
        WalkResult w = walk(f.mem, regs32(kCr4Pse), lin, Access::kRead, false);
        CHECK_FALSE(w.ok);
        CHECK(w.error == (kErrP | kErrRsvd));
        w = walk(f.mem, regs32(kCr4Pse), lin, Access::kWrite, true);
        CHECK_FALSE(w.ok);
        CHECK(w.error == (kErrP | kErrW | kErrU | kErrRsvd));
        CHECK(unchanged(f.mem, snap));  // no A bit on a reserved-bit fault
    }
    // Reserved bits are not looked at in a not-present entry.
    f.w32(pde32_addr(lin), 0x00800000u | 0x3FE000u | PS);
    WalkResult w = walk(f.mem, regs32(kCr4Pse), lin, Access::kRead, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == 0);
    // Bit 12 (PAT) is allowed.
    f.w32(pde32_addr(lin), 0x00800000u | 0x1000u | PS | P);
    w = walk(f.mem, regs32(kCr4Pse), lin | 0x1234, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00801234);
}

// ---------------------------------------------------------------------------------------------
// PAE paging

TEST_CASE("paging: PAE 4 KiB page; CR3 bits 31:5 locate the PDPT; the PDPTE is never written") {
    Fixture f;
    const uint32_t pdpt = kPdpt + 0x20;  // 32-byte aligned, not page aligned
    const uint32_t lin = 0x8060'5ABCu;   // PDPTE 2, PDE 3, PTE 5
    f.map_pae(lin, 0x00345000, P | RW, P | RW, P, pdpt);
    // CR3 bits 4:0 are ignored under PAE; 4:3 are PWT/PCD.
    WalkResult w = walk(f.mem, regs_pae(false, 0, 0, pdpt | 0x1F), lin, Access::kWrite, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00345ABC);
    CHECK(w.page_size == 4096);
    CHECK(w.dirty);
    CHECK(w.writable);
    CHECK(f.r64(pdpte_addr(lin, pdpt)) == (pd_pae(lin) | P));  // bit 5 is reserved there: no A
    CHECK(f.r64(pde_pae_addr(lin)) == (pt_pae(lin) | P | RW | A));
    CHECK(f.r64(pte_pae_addr(lin)) == (0x00345000u | P | RW | A | D));

    // The PDPT at a page-aligned CR3 is a different table: PDPTE 2 there is empty.
    w = walk(f.mem, regs_pae(false, 0, 0, kPdpt), lin, Access::kRead, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == 0);
}

TEST_CASE("paging: PAE 2 MiB page, whatever CR4.PSE says; bit 12 is PAT") {
    Fixture f;
    const uint32_t lin = 0x4031'2345u;  // PDPTE 1, PDE 1, offset 0x112345
    f.map_pae_2m(lin, 0x00600000, PS | P | RW | US);
    for (uint32_t cr4 : {0u, kCr4Pse}) {
        CAPTURE(cr4);
        WalkResult w = walk(f.mem, regs_pae(false, cr4), lin, Access::kRead, true);
        REQUIRE(w.ok);
        CHECK(w.phys == 0x00712345);
        CHECK(w.page_size == 2 * kMiB);
        CHECK(w.user);
        CHECK_FALSE(w.dirty);
    }
    CHECK(f.r64(pde_pae_addr(lin)) == (0x00600000u | PS | P | RW | US | A));
    WalkResult w = walk(f.mem, regs_pae(), lin, Access::kWrite, true);
    REQUIRE(w.ok);
    CHECK(w.dirty);
    CHECK(f.r64(pde_pae_addr(lin)) == (0x00600000u | PS | P | RW | US | A | D));

    f.w64(pde_pae_addr(lin), 0x00600000u | 0x1000u | PS | P);
    w = walk(f.mem, regs_pae(), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00712345);
}

TEST_CASE("paging: PAE PDE without PS references a page table; its bit 6 is not set on write") {
    Fixture f;
    const uint32_t lin = 0x0020'3000u;
    f.map_pae(lin, 0x00ABC000, P | RW, P | RW);
    WalkResult w = walk(f.mem, regs_pae(), lin | 0x10, Access::kWrite, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00ABC010);
    CHECK(f.r64(pde_pae_addr(lin)) == (pt_pae(lin) | P | RW | A));
}

TEST_CASE("paging: PAE 2 MiB PDE bits 20:13 are reserved") {
    Fixture f;
    const uint32_t lin = 0x0040'0000u;
    for (unsigned bit = 13; bit <= 20; ++bit) {
        CAPTURE(bit);
        f.w64(pdpte_addr(lin), pd_pae(lin) | P);
        f.w64(pde_pae_addr(lin), 0x00600000u | (1u << bit) | PS | P | RW);
        auto snap = snapshot(f.mem);
        WalkResult w = walk(f.mem, regs_pae(), lin, Access::kRead, false);
        CHECK_FALSE(w.ok);
        CHECK(w.error == (kErrP | kErrRsvd));
        CHECK(unchanged(f.mem, snap));
    }
    // The same bits are address bits in a PDE that references a page table.
    f.w64(pde_pae_addr(lin), 0x007FE000u | P | RW);
    f.w64(0x007FE000u, 0x00123000u | P);
    WalkResult w = walk(f.mem, regs_pae(), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00123000);
}

TEST_CASE("paging: PAE PDPTE reserved bits 2:1, 8:5 and 63:36 fault with RSVD") {
    Fixture f;
    const uint32_t lin = 0xC000'1000u;
    std::vector<unsigned> bits = {1, 2, 5, 6, 7, 8, 36, 40, 51, 52, 62, 63};
    for (unsigned bit : bits) {
        for (bool nxe : {false, true}) {  // bit 63 of a PAE PDPTE is reserved even with NXE
            CAPTURE(bit);
            CAPTURE(nxe);
            f.map_pae(lin, 0x00300000, P | RW | US, P | RW | US, P | (uint64_t(1) << bit));
            auto snap = snapshot(f.mem);
            WalkResult w = walk(f.mem, regs_pae(nxe), lin, Access::kRead, true);
            CHECK_FALSE(w.ok);
            CHECK(w.error == (kErrP | kErrU | kErrRsvd));
            CHECK(unchanged(f.mem, snap));
        }
    }
    // PWT, PCD and the ignored bits 11:9 are allowed.
    f.map_pae(lin, 0x00300000, P | RW, P | RW, P | PWT | PCD | 0xE00);
    WalkResult w = walk(f.mem, regs_pae(), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00300000);
    // A not-present PDPTE is P=0 whatever else it holds.
    f.w64(pdpte_addr(lin), ~uint64_t(1));
    w = walk(f.mem, regs_pae(), lin, Access::kWrite, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == kErrW);
}

TEST_CASE("paging: PAE PDPTE takes no part in access rights (no R/W, U/S bits)") {
    Fixture f;
    const uint32_t lin = 0x4000'2000u;
    f.map_pae(lin, 0x00300000, P | RW | US, P | RW | US, P);  // PDPTE: just P
    WalkResult w = walk(f.mem, regs_pae(), lin, Access::kWrite, true);
    REQUIRE(w.ok);
    CHECK(w.user);
    CHECK(w.writable);
}

TEST_CASE("paging: PAE PDE/PTE reserved bits 62:36, bit 63 without NXE; not checked when P=0") {
    Fixture f;
    const uint32_t lin = 0x0080'4000u;
    struct Level {
        const char* name;
        bool pde;
    };
    for (Level lv : {Level{"PDE", true}, Level{"PTE", false}}) {
        for (unsigned bit : {36u, 40u, 51u, 52u, 62u}) {
            for (bool nxe : {false, true}) {
                CAPTURE(lv.name);
                CAPTURE(bit);
                CAPTURE(nxe);
                const uint64_t b = uint64_t(1) << bit;
                f.map_pae(lin, 0x00300000, (lv.pde ? b : 0) | P | RW, (lv.pde ? 0 : b) | P | RW);
                auto snap = snapshot(f.mem);
                WalkResult w = walk(f.mem, regs_pae(nxe), lin, Access::kWrite, false);
                CHECK_FALSE(w.ok);
                CHECK(w.error == (kErrP | kErrW | kErrRsvd));
                CHECK(unchanged(f.mem, snap));
            }
        }
        // Bit 63 is reserved without NXE, XD with it.
        f.map_pae(lin, 0x00300000, (lv.pde ? XD : 0) | P | RW, (lv.pde ? 0 : XD) | P | RW);
        WalkResult w = walk(f.mem, regs_pae(false), lin, Access::kRead, false);
        CHECK_FALSE(w.ok);
        CHECK(w.error == (kErrP | kErrRsvd));
        w = walk(f.mem, regs_pae(true), lin, Access::kRead, false);
        CHECK(w.ok);
        // Not present: P=0 even though reserved bits are set.
        f.map_pae(lin, 0x00300000, (lv.pde ? ~uint64_t(1) : P | RW), (lv.pde ? 0 : ~uint64_t(1)));
        w = walk(f.mem, regs_pae(false), lin, Access::kRead, false);
        CHECK_FALSE(w.ok);
        CHECK(w.error == 0);
    }
    // A 2 MiB PDE: bit 36 and bit 63 (without NXE) too.
    f.map_pae_2m(lin, 0x00600000, (uint64_t(1) << 36) | PS | P);
    WalkResult w = walk(f.mem, regs_pae(), lin, Access::kRead, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrRsvd));
    f.map_pae_2m(lin, 0x00600000, XD | PS | P);
    w = walk(f.mem, regs_pae(false), lin, Access::kRead, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrRsvd));
}

TEST_CASE("paging: PAE leaf addresses above 4 GiB (MAXPHYADDR 36)") {
    Fixture f;
    const uint32_t lin = 0x0010'5678u;
    f.map_pae(lin, 0xF'FFFF'F000ull, P | RW, P | RW);
    WalkResult w = walk(f.mem, regs_pae(), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0xF'FFFF'F678ull);

    f.map_pae(lin, 0x8'0000'0000ull, P | RW, P | RW);  // bit 35: the highest address bit
    w = walk(f.mem, regs_pae(), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x8'0000'0678ull);

    const uint32_t big = 0x4060'1234u;
    f.map_pae_2m(big, 0x8'0020'0000ull, PS | P | RW);
    w = walk(f.mem, regs_pae(), big, Access::kRead, false);
    REQUIRE(w.ok);
    INFO("phys ", hx(w.phys));
    CHECK(w.phys == 0x8'0020'1234ull);
    CHECK(w.page_size == 2 * kMiB);
}

// ---------------------------------------------------------------------------------------------
// Execute-disable

TEST_CASE("paging: XD in PTE or PDE blocks fetches with PAE and NXE, error code has I/D") {
    Fixture f;
    const uint32_t lin = 0x0000'7000u;
    struct Case {
        const char* name;
        uint64_t pde_xd, pte_xd;
    };
    for (const Case& c : {Case{"PTE", 0, XD}, Case{"PDE", XD, 0}, Case{"both", XD, XD}}) {
        CAPTURE(c.name);
        f.map_pae(lin, 0x00300000, c.pde_xd | P | RW | US, c.pte_xd | P | RW | US);
        auto snap = snapshot(f.mem);
        WalkResult w = walk(f.mem, regs_pae(true), lin, Access::kFetch, false);
        CHECK_FALSE(w.ok);
        CHECK(w.error == (kErrP | kErrI));
        w = walk(f.mem, regs_pae(true), lin, Access::kFetch, true);
        CHECK_FALSE(w.ok);
        CHECK(w.error == (kErrP | kErrU | kErrI));
        CHECK(unchanged(f.mem, snap));
        // Data accesses are fine and report nx so the TLB can refuse fetches.
        for (Access acc : {Access::kRead, Access::kWrite}) {
            w = walk(f.mem, regs_pae(true), lin, acc, true);
            REQUIRE(w.ok);
            CHECK(w.nx);
        }
    }
    // A 2 MiB page with XD.
    f.map_pae_2m(lin, 0x00600000, XD | PS | P | RW);
    WalkResult w = walk(f.mem, regs_pae(true), lin, Access::kFetch, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrI));
    // No XD anywhere: fetch allowed, nx false.
    f.map_pae(lin, 0x00300000, P | RW, P | RW);
    w = walk(f.mem, regs_pae(true), lin, Access::kFetch, false);
    REQUIRE(w.ok);
    CHECK_FALSE(w.nx);
    // Without NXE nothing is ever execute-disabled.
    w = walk(f.mem, regs_pae(false), lin, Access::kFetch, false);
    REQUIRE(w.ok);
    CHECK_FALSE(w.nx);
}

TEST_CASE("paging: I/D is set for every fetch fault with PAE+NXE, and only then") {
    Fixture f;
    const uint32_t lin = 0x0000'9000u;
    // Not present.
    WalkResult w = walk(f.mem, regs_pae(true), lin, Access::kFetch, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == kErrI);
    w = walk(f.mem, regs_pae(false), lin, Access::kFetch, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == 0);
    w = walk(f.mem, regs_pae(true), lin, Access::kRead, false);
    CHECK(w.error == 0);
    // Reserved bit.
    f.map_pae(lin, 0x00300000, P | RW, (uint64_t(1) << 40) | P | RW);
    w = walk(f.mem, regs_pae(true), lin, Access::kFetch, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrRsvd | kErrI));
    // User fetch from a supervisor page.
    f.map_pae(lin, 0x00300000, P | RW, P | RW);
    w = walk(f.mem, regs_pae(true), lin, Access::kFetch, true);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrU | kErrI));
    w = walk(f.mem, regs_pae(false), lin, Access::kFetch, true);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrU));
}

// ---------------------------------------------------------------------------------------------
// Access rights (SDM 4.6)

TEST_CASE("paging: U/S and R/W at both levels, CR0.WP on and off, every access kind") {
    // The rule of 4.6 without SMEP/SMAP/NX, stated independently of the walker.
    auto allowed = [](bool user, bool wp, Access acc, bool us, bool rw) {
        if (user && !us) return false;                   // user needs U/S=1 everywhere
        if (acc == Access::kWrite && !rw && (user || wp)) return false;
        return true;                                     // supervisor reads/fetches anything
    };
    for (bool pae : {false, true}) {
        Fixture f;
        for (unsigned bits = 0; bits < 16; ++bits) {
            const bool pde_rw = bits & 1, pde_us = bits & 2, pte_rw = bits & 4, pte_us = bits & 8;
            for (bool user : {false, true}) {
                for (bool wp : {false, true}) {
                    for (Access acc : {Access::kRead, Access::kWrite, Access::kFetch}) {
                        CAPTURE(pae);
                        CAPTURE(pde_rw);
                        CAPTURE(pde_us);
                        CAPTURE(pte_rw);
                        CAPTURE(pte_us);
                        CAPTURE(user);
                        CAPTURE(wp);
                        CAPTURE(acc_name(acc));
                        const uint32_t lin = 0x4050'6000u;
                        const uint32_t pde_f = P | (pde_rw ? RW : 0) | (pde_us ? US : 0);
                        const uint32_t pte_f = P | (pte_rw ? RW : 0) | (pte_us ? US : 0);
                        PagingRegs r;
                        if (pae) {
                            f.map_pae(lin, 0x00300000, pde_f, pte_f);
                            r = regs_pae(true, 0, wp ? kCr0Wp : 0);
                        } else {
                            f.map32(lin, 0x00300000, pde_f, pte_f);
                            r = regs32(0, wp ? kCr0Wp : 0);
                        }
                        const uint32_t pde_at = pae ? pde_pae_addr(lin) : pde32_addr(lin);
                        const uint32_t pte_at = pae ? pte_pae_addr(lin) : pte32_addr(lin);
                        const uint32_t pde_before = f.r32(pde_at), pte_before = f.r32(pte_at);
                        const bool us = pde_us && pte_us, rw = pde_rw && pte_rw;
                        WalkResult w = walk(f.mem, r, lin, acc, user);
                        if (allowed(user, wp, acc, us, rw)) {
                            REQUIRE(w.ok);
                            CHECK(w.phys == 0x00300000);
                            CHECK(w.user == us);
                            CHECK(w.writable == (rw || (!user && !wp)));
                        } else {
                            CHECK_FALSE(w.ok);
                            const uint32_t expect = kErrP | (acc == Access::kWrite ? kErrW : 0) |
                                                    (user ? kErrU : 0) |
                                                    (pae && acc == Access::kFetch ? kErrI : 0);
                            CHECK(w.error == expect);
                            // No A on a protection fault.
                            CHECK(f.r32(pde_at) == pde_before);
                            CHECK(f.r32(pte_at) == pte_before);
                        }
                    }
                }
            }
        }
    }
}

TEST_CASE("paging: access-rights spot checks") {
    Fixture f;
    const uint32_t lin = 0x0040'0000u;
    // Supervisor write to a read-only user page: allowed with WP=0, #PF(P|W) with WP=1.
    f.map32(lin, 0x00300000, P | US, P | US);
    CHECK(walk(f.mem, regs32(), lin, Access::kWrite, false).ok);
    WalkResult w = walk(f.mem, regs32(0, kCr0Wp), lin, Access::kWrite, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrW));
    // With WP=1 a supervisor read of the same page reports writable=false for the TLB.
    w = walk(f.mem, regs32(0, kCr0Wp), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK_FALSE(w.writable);
    // A user write to a read-only page faults whatever WP says.
    w = walk(f.mem, regs32(), lin, Access::kWrite, true);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrW | kErrU));
    // R/W=0 in the PDE alone is enough to make the page read-only for the user.
    f.map32(lin, 0x00300000, P | US, P | US | RW);
    w = walk(f.mem, regs32(), lin, Access::kWrite, true);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrW | kErrU));
    // U/S=0 in the PDE alone makes the page supervisor-only.
    f.map32(lin, 0x00300000, P | RW, P | RW | US);
    w = walk(f.mem, regs32(), lin, Access::kRead, true);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrU));
    // The supervisor may execute from a user page (no SMEP).
    f.map_pae(lin, 0x00300000, P | US, P | US);
    w = walk(f.mem, regs_pae(true), lin, Access::kFetch, false);
    REQUIRE(w.ok);
    CHECK(w.user);
}

// ---------------------------------------------------------------------------------------------
// Accessed and dirty flags (SDM 4.8)

TEST_CASE("paging: A/D updates are 4-byte writes, made only when a bit changes") {
    // Tables in MMIO beyond RAM so that every store the walker makes is recorded.
    PhysMemory mem(16 * kMiB);
    TableMmio dev;
    dev.base = 0x02000000;
    mem.map_mmio(dev.base, uint32_t(dev.bytes.size()), &dev);
    auto put32 = [&](uint32_t a, uint32_t v) {
        for (unsigned i = 0; i < 4; ++i) dev.bytes[a - dev.base + i] = uint8_t(v >> (8 * i));
    };
    auto get32 = [&](uint32_t a) { return dev.mmio_read(a, 4); };

    SUBCASE("32-bit paging") {
        const uint32_t pd = dev.base, pt = dev.base + 0x1000, lin = 0x00C05000u;
        put32(pd + 3 * 4, pt | P | RW);
        put32(pt + 5 * 4, 0x00300000u | P | RW);
        const PagingRegs r = regs32(0, 0, pd);
        REQUIRE(walk(mem, r, lin, Access::kRead, false).ok);
        REQUIRE(dev.writes.size() == 2);
        CHECK(dev.writes[0].addr == pd + 3 * 4);  // top-down
        CHECK(dev.writes[0].size == 4);
        CHECK(dev.writes[0].value == (pt | P | RW | A));
        CHECK(dev.writes[1].addr == pt + 5 * 4);
        CHECK(dev.writes[1].size == 4);
        CHECK(dev.writes[1].value == (0x00300000u | P | RW | A));
        dev.writes.clear();
        // Everything already set: no stores at all.
        REQUIRE(walk(mem, r, lin, Access::kRead, false).ok);
        CHECK(dev.writes.empty());
        // A write needs only D in the PTE.
        REQUIRE(walk(mem, r, lin, Access::kWrite, false).ok);
        REQUIRE(dev.writes.size() == 1);
        CHECK(dev.writes[0].addr == pt + 5 * 4);
        CHECK(dev.writes[0].size == 4);
        CHECK(dev.writes[0].value == (0x00300000u | P | RW | A | D));
        dev.writes.clear();
        REQUIRE(walk(mem, r, lin, Access::kWrite, false).ok);
        CHECK(dev.writes.empty());
        // A failed walk stores nothing.
        put32(pt + 5 * 4, 0x00300000u | P);  // read-only, A clear
        CHECK_FALSE(walk(mem, regs32(0, kCr0Wp, pd), lin, Access::kWrite, false).ok);
        CHECK(dev.writes.empty());
        CHECK(get32(pt + 5 * 4) == (0x00300000u | P));
    }
    SUBCASE("PAE: low dword of each 8-byte entry, PDPTE untouched") {
        const uint32_t pdpt = dev.base, pd = dev.base + 0x1000, pt = dev.base + 0x2000;
        const uint32_t lin = 0x4060'7000u;  // PDPTE 1, PDE 3, PTE 7
        put32(pdpt + 1 * 8, pd | P);
        put32(pd + 3 * 8, pt | P | RW);
        put32(pd + 3 * 8 + 4, 0);
        put32(pt + 7 * 8, 0x00300000u | P | RW);
        put32(pt + 7 * 8 + 4, 0x8u);  // physical address bit 35
        const PagingRegs r = regs_pae(false, 0, 0, pdpt);
        WalkResult w = walk(mem, r, lin, Access::kWrite, false);
        REQUIRE(w.ok);
        CHECK(w.phys == 0x8'0030'0000ull);
        REQUIRE(dev.writes.size() == 2);
        CHECK(dev.writes[0].addr == pd + 3 * 8);
        CHECK(dev.writes[0].size == 4);
        CHECK(dev.writes[0].value == (pt | P | RW | A));
        CHECK(dev.writes[1].addr == pt + 7 * 8);
        CHECK(dev.writes[1].size == 4);
        CHECK(dev.writes[1].value == (0x00300000u | P | RW | A | D));
        CHECK(get32(pt + 7 * 8 + 4) == 0x8u);
        CHECK(get32(pdpt + 1 * 8) == (pd | P));
    }
}

TEST_CASE("paging: A/D bits are not set when the walk faults") {
    Fixture f;
    const uint32_t lin = 0x0040'0000u;
    struct Case {
        const char* name;
        uint32_t pde, pte;
        Access acc;
        bool user;
    };
    for (const Case& c : {Case{"user read of supervisor page", P | RW, P | RW, Access::kRead, true},
                          Case{"user write to read-only page", P | RW | US, P | US, Access::kWrite,
                               true},
                          Case{"WP write to read-only page", P | RW, P, Access::kWrite, false}}) {
        CAPTURE(c.name);
        f.map32(lin, 0x00300000, c.pde, c.pte);
        WalkResult w = walk(f.mem, regs32(0, kCr0Wp), lin, c.acc, c.user);
        CHECK_FALSE(w.ok);
        CHECK(f.r32(pde32_addr(lin)) == (pt32(lin) | c.pde));
        CHECK(f.r32(pte32_addr(lin)) == (0x00300000u | c.pte));
    }
}

TEST_CASE("paging: setting A and D goes through the code-page watcher") {
    // The entries are ordinary guest memory: a page table on a page marked as holding code must
    // be written through PhysMemory::write so the watcher hears of it.
    struct Watcher final : CodeWatcher {
        std::vector<uint32_t> pages;
        void code_page_written(uint32_t p) override { pages.push_back(p); }
    } watcher;
    Fixture f;
    f.mem.set_code_watcher(&watcher);
    const uint32_t lin = 0x0040'0000u;
    f.map32(lin, 0x00300000, P | RW, P | RW);
    f.mem.mark_code(pt32(lin));
    REQUIRE(walk(f.mem, regs32(), lin, Access::kWrite, false).ok);
    REQUIRE(watcher.pages.size() == 1);
    CHECK(watcher.pages[0] == (pt32(lin) >> 12));
    REQUIRE(walk(f.mem, regs32(), lin, Access::kWrite, false).ok);
    CHECK(watcher.pages.size() == 1);  // nothing changed, nothing written
}

// ---------------------------------------------------------------------------------------------
// Global pages

TEST_CASE("paging: global needs the leaf's G bit and CR4.PGE") {
    Fixture f;
    const uint32_t lin = 0x0040'0000u;
    f.map32(lin, 0x00300000, P | RW, P | RW | G);
    CHECK(walk(f.mem, regs32(kCr4Pge), lin, Access::kRead, false).global);
    CHECK_FALSE(walk(f.mem, regs32(0), lin, Access::kRead, false).global);
    // G in the PDE that references the page table does not count.
    f.map32(lin, 0x00300000, P | RW | G, P | RW);
    WalkResult w = walk(f.mem, regs32(kCr4Pge), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK_FALSE(w.global);
    // 4 MiB page.
    f.w32(pde32_addr(lin), 0x00800000u | PS | G | P);
    CHECK(walk(f.mem, regs32(kCr4Pse | kCr4Pge), lin, Access::kRead, false).global);
    CHECK_FALSE(walk(f.mem, regs32(kCr4Pse), lin, Access::kRead, false).global);
    // PAE 4 KiB and 2 MiB.
    f.map_pae(lin, 0x00300000, P | RW, P | RW | G);
    CHECK(walk(f.mem, regs_pae(false, kCr4Pge), lin, Access::kRead, false).global);
    CHECK_FALSE(walk(f.mem, regs_pae(false, 0), lin, Access::kRead, false).global);
    f.map_pae(lin, 0x00300000, P | RW | G, P | RW);
    CHECK_FALSE(walk(f.mem, regs_pae(false, kCr4Pge), lin, Access::kRead, false).global);
    f.map_pae_2m(lin, 0x00600000, PS | G | P);
    CHECK(walk(f.mem, regs_pae(false, kCr4Pge), lin, Access::kRead, false).global);
}

// ---------------------------------------------------------------------------------------------
// Tables outside RAM

TEST_CASE("paging: 32-bit tables past RAM and at 0xFFFFF000 read as all ones") {
    Fixture f;
    auto snap = snapshot(f.mem);
    // CR3 past the end of RAM: the PDE reads 0xFFFFFFFF. Without PSE it references a page table
    // at 0xFFFFF000, whose PTE also reads all ones: a present, writable, user, accessed, dirty
    // page at 0xFFFFF000. Nothing is written (A and D are already set, and there is no RAM).
    const uint32_t lin = 0x1234'5678u;
    WalkResult w = walk(f.mem, regs32(0, 0, 0x4000'0000u), lin, Access::kWrite, true);
    REQUIRE(w.ok);
    CHECK(w.phys == 0xFFFFF678u);
    CHECK(w.dirty);
    CHECK(w.user);
    CHECK(w.global == false);
    CHECK(unchanged(f.mem, snap));
    // With PSE the all-ones PDE is a 4 MiB page with reserved bits set.
    w = walk(f.mem, regs32(kCr4Pse, 0, 0x4000'0000u), lin, Access::kRead, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrRsvd));
    // CR3 at the very top of the 32-bit space: PDE 1023 is the last dword.
    w = walk(f.mem, regs32(0, 0, 0xFFFFF000u), 0xFFFFFFFFu, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0xFFFFFFFFu);
    // A PDE inside RAM referencing a page table at 0xFFFFF000.
    f.w32(pde32_addr(lin), 0xFFFFF000u | P | RW | US);
    snap = snapshot(f.mem);
    w = walk(f.mem, regs32(), lin, Access::kRead, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0xFFFFF678u);
    // Only the PDE (in RAM) gained A.
    CHECK(f.r32(pde32_addr(lin)) == (0xFFFFF000u | P | RW | US | A));
    std::memcpy(snap.data() + pde32_addr(lin), f.mem.ram() + pde32_addr(lin), 4);
    CHECK(unchanged(f.mem, snap));
}

TEST_CASE("paging: a page table in ROM at 0xFFFFF000 is read, and A updates are dropped") {
    Fixture f;
    std::vector<uint8_t> rom(4096, 0);
    const uint32_t lin = 0x0000'3000u;  // PTE 3
    const uint32_t pte = 0x00300000u | P | RW;  // A clear: the walk will try to set it
    std::memcpy(rom.data() + 3 * 4, &pte, 4);
    f.mem.map_rom(0xFFFFF000u, rom);
    f.w32(pde32_addr(lin), 0xFFFFF000u | P | RW);
    WalkResult w = walk(f.mem, regs32(), lin, Access::kWrite, false);
    REQUIRE(w.ok);
    CHECK(w.phys == 0x00300000u);
    CHECK(f.r32(0xFFFFF000u + 3 * 4) == pte);  // ROM ignores the store
}

TEST_CASE("paging: PAE tables past RAM, at the top of 4 GiB and above 4 GiB fault with RSVD") {
    Fixture f;
    auto snap = snapshot(f.mem);
    // CR3 past RAM, and CR3 at the last 32 bytes of the 32-bit space: the PDPTE reads all ones,
    // which is present with reserved bits set.
    for (uint32_t cr3 : {0x4000'0000u, 0xFFFFFFE0u}) {
        CAPTURE(cr3);
        for (uint32_t lin : {0x0000'0000u, 0xFFFF'F000u}) {
            WalkResult w = walk(f.mem, regs_pae(true, 0, 0, cr3), lin, Access::kRead, false);
            CHECK_FALSE(w.ok);
            CHECK(w.error == (kErrP | kErrRsvd));
        }
    }
    // A PDPTE referencing a page directory above 4 GiB (legal with MAXPHYADDR 36): nothing is
    // there, the PDE reads all ones, and bits 62:36 are reserved.
    const uint32_t lin = 0x0000'5000u;
    f.w64(pdpte_addr(lin), 0xF'0000'0000ull | P);
    WalkResult w = walk(f.mem, regs_pae(true), lin, Access::kRead, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrRsvd));
    // A PDE referencing a page table above 4 GiB, and one at 0xFFFFF000.
    f.w64(pdpte_addr(lin), pd_pae(lin) | P);
    f.w64(pde_pae_addr(lin), 0x1'0000'0000ull | P | RW);
    w = walk(f.mem, regs_pae(true), lin, Access::kRead, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrRsvd));
    f.w64(pde_pae_addr(lin), 0xFFFFF000ull | P | RW);
    w = walk(f.mem, regs_pae(true), lin, Access::kRead, false);
    CHECK_FALSE(w.ok);
    CHECK(w.error == (kErrP | kErrRsvd));
    // Nothing but the two entries written by the test changed.
    std::memcpy(snap.data() + pdpte_addr(lin), f.mem.ram() + pdpte_addr(lin), 8);
    std::memcpy(snap.data() + pde_pae_addr(lin), f.mem.ram() + pde_pae_addr(lin), 8);
    CHECK(unchanged(f.mem, snap));
}

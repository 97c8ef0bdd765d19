// The x86 page-table walker: 32-bit paging (with PSE 4 MiB pages) and PAE paging (Intel SDM
// vol. 3A chapter 4).
//
// Design decisions:
// - One pure function, `walk`, translates one linear address for one access. It keeps no state:
//   the CPU's soft TLB caches what it returns (`writable`, `dirty`, `user`, `nx`, `global` exist so
//   that a TLB entry can be filled from one walk and re-checked without walking again).
// - Every table entry is read through PhysMemory's bounds-checked `read`, so a guest CR3 or entry
//   pointing at MMIO, ROM or nowhere can never reach host memory outside the guest's buffers.
//   PhysMemory covers 32 bits; a PAE table address at or above 4 GiB reads as all ones, like
//   any other unmapped physical address.
// - Accessed/Dirty updates happen only when the whole walk succeeds, as 4-byte OR-style
//   read-modify-writes of the entry's low dword, and only when a bit really changes.
// - MAXPHYADDR is 36 (what the CPU reports in CPUID), PSE-36 is not supported, PAT is supported
//   (bit 7 of a 4 KiB PTE and bit 12 of a large-page PDE are PAT bits, not reserved bits).
//   No SMEP, SMAP or protection keys. Long mode (4-level paging) is not handled yet.
#pragma once

#include <cstdint>

#include "mmu/memory.h"

namespace vx86::mmu {

// The control state the walk depends on. CR0.PG=bit31, WP=bit16; CR4.PSE=bit4, PAE=bit5,
// PGE=bit7; EFER.NXE=bit11.
struct PagingRegs {
    uint32_t cr0, cr3, cr4;
    uint64_t efer;
};

inline constexpr uint32_t kCr0Wp = 1u << 16;
inline constexpr uint32_t kCr0Pg = 1u << 31;
inline constexpr uint32_t kCr4Pse = 1u << 4;
inline constexpr uint32_t kCr4Pae = 1u << 5;
inline constexpr uint32_t kCr4Pge = 1u << 7;
inline constexpr uint64_t kEferNxe = 1u << 11;

// Page-fault error code bits (SDM 4.7).
inline constexpr uint32_t kPfPresent = 1u << 0;  // 1: protection violation, 0: not present
inline constexpr uint32_t kPfWrite = 1u << 1;
inline constexpr uint32_t kPfUser = 1u << 2;
inline constexpr uint32_t kPfRsvd = 1u << 3;
inline constexpr uint32_t kPfFetch = 1u << 4;    // only with CR4.PAE and EFER.NXE

enum class Access : uint8_t { kRead, kWrite, kFetch };

struct WalkResult {
    bool ok;             // translation succeeded
    uint32_t error;      // #PF error code when !ok: bit0 P (protection violation vs not-present),
                         // bit1 W/R, bit2 U/S, bit3 RSVD, bit4 I/D
    uint64_t phys;       // physical address of `lin` when ok (PAE can yield addresses >= 4 GiB)
    uint32_t page_size;  // 4096, 2 MiB or 4 MiB
    bool writable;       // a write at this privilege (user/supervisor, CR0.WP) would be allowed
    bool user;           // U/S=1 at every level
    bool nx;             // execute-disable applies (PAE with EFER.NXE, XD at any level)
    bool global;         // leaf G bit and CR4.PGE
    bool dirty;          // leaf D bit after the walk (the walk sets it on a successful write)
};

// Walks the tables for linear address `lin` for an access of kind `acc` made at user privilege
// (`user`: CPL 3 and not an implicit supervisor access). Requires CR0.PG set (callers handle
// paging-off). On success sets the Accessed bit in every entry used, and the Dirty bit of the
// leaf for kWrite (entries are only written when a bit actually changes, with a 4-byte
// locked-style write through PhysMemory::write). On failure writes nothing and returns
// ok=false with the error code.
WalkResult walk(PhysMemory& mem, const PagingRegs& r, uint32_t lin, Access acc, bool user);

}  // namespace vx86::mmu

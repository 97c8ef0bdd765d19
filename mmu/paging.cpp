// The x86 page-table walker (see paging.h). Section numbers refer to the Intel SDM vol. 3A,
// chapter 4 ("Paging"): 4.3 32-bit paging, 4.4 PAE paging, 4.6 access rights, 4.7 page-fault
// error codes, 4.8 accessed and dirty flags.
#include "mmu/paging.h"

namespace vx86::mmu {

namespace {

// Bits common to every paging-structure entry format used here.
constexpr uint64_t kP = 1u << 0;     // present
constexpr uint64_t kRw = 1u << 1;    // read/write
constexpr uint64_t kUs = 1u << 2;    // user/supervisor
constexpr uint64_t kA = 1u << 5;     // accessed
constexpr uint64_t kD = 1u << 6;     // dirty (leaf entries only)
constexpr uint64_t kPs = 1u << 7;    // page size (PDEs only)
constexpr uint64_t kG = 1u << 8;     // global (leaf entries only)
constexpr uint64_t kXd = uint64_t(1) << 63;

constexpr unsigned kMaxPhyAddr = 36;  // M in the SDM's tables
// Bits M-1:12: the physical address of a 4 KiB table or page in a PAE entry.
constexpr uint64_t kPaeAddr4K = ((uint64_t(1) << kMaxPhyAddr) - 1) & ~uint64_t(0xFFF);
// Bits M-1:21: the physical address of a 2 MiB page in a PAE PDE.
constexpr uint64_t kPaeAddr2M = ((uint64_t(1) << kMaxPhyAddr) - 1) & ~uint64_t(0x1FFFFF);
// Bits 62:M, reserved in every PAE entry (table 4-8 to 4-11); bit 63 is added when it is not XD.
constexpr uint64_t kPaeRsvdHigh = ~((uint64_t(1) << kMaxPhyAddr) - 1) & ~kXd;

// Table 4-8: a present PDPTE has reserved bits 2:1 (no R/W, U/S), 8:5 (no A, D, PS, G) and
// 63:M (so no XD either). PDPTEs therefore take no part in access rights and have no A bit.
constexpr uint64_t kPdpteRsvd = 0x6u | 0x1E0u | ~((uint64_t(1) << kMaxPhyAddr) - 1);
// Table 4-9: bits 20:13 of a PDE mapping a 2 MiB page (bit 12 is PAT).
constexpr uint64_t kPde2MRsvd = 0x1FE000u;
// Table 4-4: bits 21:13 of a 32-bit PDE mapping a 4 MiB page. With PSE-36 bits (M-19):13 would
// hold physical address bits (M-1):32; we do not support PSE-36, so they are all reserved
// (bit 12 is PAT).
constexpr uint32_t kPde4MRsvd = 0x3FE000u;

// Reads a 64-bit PAE entry. PhysMemory spans 32 bits of physical address space: anything at or
// above 4 GiB is unmapped and reads as all ones, exactly as an unmapped address below 4 GiB does.
// Entries are 8-byte aligned, so the two halves never straddle the top of the 32-bit space.
uint64_t read_entry64(PhysMemory& mem, uint64_t addr) {
    if (addr >= (uint64_t(1) << 32)) return ~uint64_t(0);
    uint32_t a = uint32_t(addr);
    return uint64_t(mem.read(a, 4)) | (uint64_t(mem.read(a + 4, 4)) << 32);
}

// Sets `bits` (A and/or D, all in the low dword) in the entry at `addr` the way the processor's
// locked read-modify-write does (4.8): re-read the dword, OR the bits in, and store 4 bytes only
// when something changes, so an entry that already has them is never written (no spurious
// code-page notifications, no MMIO writes, no writes to ROM).
void set_entry_bits(PhysMemory& mem, uint64_t addr, uint32_t bits) {
    if (addr >= (uint64_t(1) << 32)) return;  // nothing there to update
    uint32_t a = uint32_t(addr);
    uint32_t cur = mem.read(a, 4);
    if ((cur | bits) != cur) mem.write(a, 4, cur | bits);
}

// An entry used by the walk, remembered so A/D can be set once the walk is known to succeed.
struct Used {
    uint64_t addr;
    uint32_t set;  // bits to set in it: A, plus D for the leaf of a write
};

}  // namespace

WalkResult walk(PhysMemory& mem, const PagingRegs& r, uint32_t lin, Access acc, bool user) {
    const bool pae = (r.cr4 & kCr4Pae) != 0;
    const bool nxe = pae && (r.efer & kEferNxe) != 0;  // XD only exists in PAE entries
    const bool write = acc == Access::kWrite;

    WalkResult res{};
    // 4.7: W/R and U/S describe the access, not the rights of the page; I/D is reported for
    // fetches only when CR4.PAE=1 and EFER.NXE=1 (we have no SMEP), and is otherwise 0 - for
    // every kind of page fault, not just execute-disable ones.
    const uint32_t access_bits = (write ? kPfWrite : 0) | (user ? kPfUser : 0) |
                                 (acc == Access::kFetch && nxe ? kPfFetch : 0);
    auto not_present = [&] {
        res.error = access_bits;
        return res;
    };
    // Reserved bits are checked only in present entries (4.7: RSVD implies P), and stop the
    // walk: there is no translation, so no rights check follows.
    auto reserved = [&] {
        res.error = access_bits | kPfPresent | kPfRsvd;
        return res;
    };
    auto protection = [&] {
        res.error = access_bits | kPfPresent;
        return res;
    };

    Used used[2];
    unsigned n_used = 0;
    uint64_t leaf = 0;        // the entry that maps the page
    uint64_t leaf_addr = 0;
    bool rw_all = true;       // R/W=1 in every entry that controls access rights
    bool us_all = true;       // U/S=1 in every such entry
    bool xd_any = false;      // XD=1 in any such entry (PAE with NXE only)

    if (!pae) {
        // 4.3, 32-bit paging. CR3 bits 31:12 locate the page directory; a PDE is selected by
        // linear address bits 31:22.
        const uint32_t pde_addr = (r.cr3 & ~kPageMask) + ((lin >> 22) << 2);
        const uint32_t pde = mem.read(pde_addr, 4);
        if (!(pde & kP)) return not_present();
        if ((r.cr4 & kCr4Pse) && (pde & kPs)) {
            // A 4 MiB page (table 4-4). PS is only honoured with CR4.PSE=1; otherwise the PDE
            // references a page table whatever bit 7 says (table 4-5: bit 7 "ignored" then).
            if (pde & kPde4MRsvd) return reserved();
            leaf = pde;
            leaf_addr = pde_addr;
            res.phys = (pde & 0xFFC00000u) | (lin & 0x003FFFFFu);
            res.page_size = 4u << 20;
        } else {
            // The PDE references a page table (table 4-5): 32-bit paging has no reserved bits
            // in such a PDE or in a PTE (bit 7 of a PTE is PAT, which we support).
            rw_all = pde & kRw;
            us_all = pde & kUs;
            used[n_used++] = {pde_addr, uint32_t(kA)};  // bit 6 of this PDE is ignored: no D
            const uint32_t pte_addr = (pde & ~kPageMask) + (((lin >> 12) & 0x3FF) << 2);
            const uint32_t pte = mem.read(pte_addr, 4);
            if (!(pte & kP)) return not_present();
            leaf = pte;
            leaf_addr = pte_addr;
            res.phys = (pte & ~kPageMask) | (lin & kPageMask);
            res.page_size = kPageSize;
        }
    } else {
        // 4.4, PAE paging. CR3 bits 31:5 locate the 32-byte page-directory-pointer table; a
        // PDPTE is selected by linear address bits 31:30.
        //
        // Real hardware loads the four PDPTEs into internal registers when CR3 is written (and
        // when CR0/CR4 paging bits change), checks their reserved bits then (#GP on a violation,
        // not #PF), and does not re-read them on a TLB miss (4.4.1). We read the PDPTE at walk
        // time instead, which differs only for a guest that edits its PDPT without reloading CR3,
        // and report a reserved-bit violation as a #PF with RSVD.
        const uint32_t pdpte_addr = (r.cr3 & ~0x1Fu) + ((lin >> 30) << 3);
        const uint64_t pdpte = read_entry64(mem, pdpte_addr);
        if (!(pdpte & kP)) return not_present();
        if (pdpte & kPdpteRsvd) return reserved();
        // The PDPTE has no R/W, U/S, XD or A bits (table 4-8): it is neither checked for rights
        // nor updated.

        // Bits 62:M are reserved in every PDE and PTE; bit 63 is XD with EFER.NXE=1 and reserved
        // otherwise (tables 4-9 to 4-11).
        const uint64_t rsvd = kPaeRsvdHigh | (nxe ? 0 : kXd);

        const uint64_t pde_addr = (pdpte & kPaeAddr4K) + (((lin >> 21) & 0x1FF) << 3);
        const uint64_t pde = read_entry64(mem, pde_addr);
        if (!(pde & kP)) return not_present();
        if (pde & kPs) {
            // A 2 MiB page (table 4-9); CR4.PSE does not matter under PAE.
            if (pde & (rsvd | kPde2MRsvd)) return reserved();
            leaf = pde;
            leaf_addr = pde_addr;
            res.phys = (pde & kPaeAddr2M) | (lin & 0x1FFFFFu);
            res.page_size = 2u << 20;
        } else {
            if (pde & rsvd) return reserved();
            rw_all = pde & kRw;
            us_all = pde & kUs;
            xd_any = nxe && (pde & kXd);
            used[n_used++] = {pde_addr, uint32_t(kA)};  // bit 6 of this PDE is ignored: no D
            const uint64_t pte_addr = (pde & kPaeAddr4K) + (((lin >> 12) & 0x1FF) << 3);
            const uint64_t pte = read_entry64(mem, pte_addr);
            if (!(pte & kP)) return not_present();
            if (pte & rsvd) return reserved();
            leaf = pte;
            leaf_addr = pte_addr;
            res.phys = (pte & kPaeAddr4K) | (lin & kPageMask);
            res.page_size = kPageSize;
        }
    }

    // The leaf's rights combine with those of the entries above it.
    rw_all = rw_all && (leaf & kRw);
    us_all = us_all && (leaf & kUs);
    xd_any = xd_any || (nxe && (leaf & kXd));

    // 4.6 access rights (no SMEP, SMAP or protection keys):
    // - user-mode accesses need U/S=1 in every paging-structure entry;
    // - user-mode writes need R/W=1 in every entry;
    // - supervisor-mode writes need R/W=1 in every entry only when CR0.WP=1 (with WP=0 the
    //   supervisor may write any page, user or supervisor, read-only or not);
    // - supervisor-mode reads and fetches are allowed from user pages too;
    // - with EFER.NXE=1 no fetch, at any privilege, is allowed when XD=1 in any entry.
    const bool writable = rw_all || (!user && !(r.cr0 & kCr0Wp));
    if (user && !us_all) return protection();
    if (write && !writable) return protection();
    if (acc == Access::kFetch && xd_any) return protection();

    // 4.8: the walk succeeded, so set A in every entry used (top-down, as the processor does) and
    // D in the leaf for a write. PDPTEs are not updated: under PAE bit 5 of a PDPTE is reserved.
    used[n_used++] = {leaf_addr, uint32_t(kA | (write ? kD : 0))};
    for (unsigned i = 0; i < n_used; ++i) set_entry_bits(mem, used[i].addr, used[i].set);

    res.ok = true;
    res.writable = writable;
    res.user = us_all;
    res.nx = xd_any;
    // G is meaningful only in a leaf (a PDE that references a page table ignores bit 8).
    res.global = (leaf & kG) && (r.cr4 & kCr4Pge);
    res.dirty = (leaf & kD) || write;
    return res;
}

}  // namespace vx86::mmu

// PhysMemory: the guest's physical address space.
//
// Design decisions:
// - The 4 GiB physical space is described per 4 KiB page by one byte (`PageKind` plus a code bit):
//   1 MiB of table buys O(1) classification with no search on any path.
// - RAM is one host allocation of exactly the configured size. ROM images live in their own
//   buffers and shadow whatever is below them (a PC's BIOS at 0xF0000 and below 4 GiB).
//   MMIO regions call a handler. Unmapped addresses read as all ones and ignore writes.
//   ROM and MMIO regions form one list in mapping order (the newest covering a page wins), so
//   unmap() (a PCI BAR moving) restores whatever was below.
// - The chipset's shadow-RAM control (the i440FX PAM registers) decides per 16 KiB of
//   0xC0000-0xFFFFF whether reads and writes go to RAM or to the ROM/PCI side. Until set_shadow
//   is called the area is plain RAM under any ROM (machines without such a chipset).
// - The A20 gate is a mask applied when a linear address becomes physical (CPU side) and when
//   DMA addresses are checked here. Toggling it, like any mapping change, is told to the
//   CodeWatcher at once (memory_map_changed), which is how the CPU knows to flush its TLB.
// - Every access from outside the CPU's fast path is bounds-checked: a guest-controlled address
//   can never make the host read or write outside RAM/ROM buffers.
// - Pages holding translated or pre-decoded code are marked; writes to them go through
//   `write_slow`, which tells the registered CodeWatcher before storing, so stale decoded
//   blocks never run (self-modifying code, DMA into code).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <vector>

namespace vx86::mmu {

inline constexpr uint32_t kPageBits = 12;
inline constexpr uint32_t kPageSize = 1u << kPageBits;
inline constexpr uint32_t kPageMask = kPageSize - 1;

enum class PageKind : uint8_t { kUnmapped = 0, kRam = 1, kRom = 2, kMmio = 3 };
inline constexpr uint8_t kPageKindMask = 0x3;
inline constexpr uint8_t kPageCode = 0x80;  // page holds decoded/translated code

class MmioHandler {
public:
    virtual ~MmioHandler() = default;
    virtual uint32_t mmio_read(uint32_t addr, unsigned size) = 0;
    virtual void mmio_write(uint32_t addr, unsigned size, uint32_t value) = 0;
};

// Told before a store lands on a page marked as holding code, and when the memory map changes
// (a ROM or MMIO region mapped or unmapped, shadow RAM switched, the A20 gate): the CPU must
// drop cached host pointers at once, even in the middle of a block, because an unmapped ROM's
// buffer is freed. Pages holding code whose mapping changed are reported as written first.
class CodeWatcher {
public:
    virtual ~CodeWatcher() = default;
    virtual void code_page_written(uint32_t page_index) = 0;
    virtual void memory_map_changed() {}
};

class PhysMemory {
public:
    explicit PhysMemory(uint32_t ram_bytes);

    uint32_t ram_size() const { return ram_size_; }
    uint8_t* ram() { return ram_.get(); }

    // Maps a ROM image (a copy is kept) at `base`; size is rounded up to whole pages.
    void map_rom(uint32_t base, std::span<const uint8_t> image);
    void map_mmio(uint32_t base, uint32_t size, MmioHandler* handler);
    // Removes the newest ROM or MMIO region mapped exactly at `base` with `size` (rounded up to
    // pages); the pages fall back to older regions, RAM or unmapped. No-op when none matches.
    void unmap(uint32_t base, uint32_t size);
    // Shadow RAM control for [base, base+size) inside 0xC0000-0xFFFFF (page granular): reads
    // from RAM or from the ROM/PCI side, writes to RAM or dropped/forwarded.
    void set_shadow(uint32_t base, uint32_t size, bool read_ram, bool write_ram);

    void set_a20(bool enabled);
    bool a20() const { return a20_mask_ == 0xFFFFFFFFu; }
    uint32_t a20_mask() const { return a20_mask_; }

    PageKind kind(uint32_t phys) const {
        return PageKind(pages_[phys >> kPageBits] & kPageKindMask);
    }
    // Host pointer to the start of the page holding `phys` if it is readable memory (RAM or
    // ROM), else nullptr.
    uint8_t* read_page(uint32_t phys);
    // Host pointer if the page is RAM and holds no code (so a store needs no bookkeeping).
    uint8_t* write_page(uint32_t phys);

    // General accessors (any page kind, any alignment within one page handled bytewise above).
    uint32_t read(uint32_t phys, unsigned size);
    void write(uint32_t phys, unsigned size, uint32_t value);
    uint8_t read8(uint32_t phys) { return uint8_t(read(phys, 1)); }
    void write8(uint32_t phys, uint8_t v) { write(phys, 1, v); }

    // Bulk copies for loaders and DMA; false when any byte is outside RAM (nothing is copied).
    bool copy_to(uint32_t phys, const void* src, size_t n);
    bool copy_from(uint32_t phys, void* dst, size_t n);

    // Code page tracking.
    void set_code_watcher(CodeWatcher* w) { watcher_ = w; }
    void mark_code(uint32_t phys) { pages_[phys >> kPageBits] |= kPageCode; }
    bool is_code(uint32_t phys) const { return pages_[phys >> kPageBits] & kPageCode; }
    void clear_code(uint32_t page_index) { pages_[page_index] &= uint8_t(~kPageCode); }

private:
    // Page-aligned host memory for RAM and ROM images: a guest page is then a host page, which
    // the JIT relies on (a host pointer's page offset is the guest address's).
    // (Anonymous mappings: pages the guest never touches cost nothing, and the host zeroes the
    // others on first touch.)
    struct PageFree {
        size_t bytes;
        void operator()(uint8_t* p) const;
    };
    using PageBuffer = std::unique_ptr<uint8_t[], PageFree>;
    static PageBuffer alloc_pages(size_t bytes, uint8_t fill);
    struct Region {
        uint32_t base, size;
        PageKind kind;               // kRom or kMmio
        PageBuffer data;             // ROM image (size bytes)
        MmioHandler* handler = nullptr;
    };
    static constexpr uint32_t kShadowFirst = 0xC0000 >> kPageBits, kShadowPages = 64;
    static constexpr uint8_t kShadowSet = 0x80, kShadowRead = 1, kShadowWrite = 2;
    void notify_write(uint32_t phys, size_t n);
    bool ram_range(uint32_t phys, size_t n) const;
    const Region* find_region(uint32_t phys) const;
    // ROM data for `phys` (nullptr when none covers it).
    const uint8_t* rom_byte_ptr(uint32_t phys) const;
    const Region* find_mmio(uint32_t phys) const;
    uint8_t shadow(uint32_t phys) const {
        uint32_t p = (phys >> kPageBits) - kShadowFirst;
        return p < kShadowPages ? shadow_[p] : 0;
    }
    void refresh_pages(uint64_t first_page, uint64_t end_page);

    uint32_t ram_size_;
    PageBuffer ram_;
    std::vector<uint8_t> pages_;  // one byte per 4 KiB page of the 4 GiB space
    std::vector<Region> regions_;  // mapping order; newest last
    uint8_t shadow_[kShadowPages] = {};
    uint32_t a20_mask_ = 0xFFFFFFFFu;
    CodeWatcher* watcher_ = nullptr;
};

}  // namespace vx86::mmu

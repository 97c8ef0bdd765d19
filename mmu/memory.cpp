#include "mmu/memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

namespace vx86::mmu {

namespace {
constexpr size_t kNumPages = size_t(1) << (32 - kPageBits);
}

PhysMemory::PhysMemory(uint32_t ram_bytes)
    : ram_size_(ram_bytes & ~kPageMask),
      ram_(alloc_pages(ram_bytes & ~kPageMask, 0)),
      pages_(kNumPages, uint8_t(PageKind::kUnmapped)) {
    for (uint32_t p = 0; p < (ram_size_ >> kPageBits); ++p) pages_[p] = uint8_t(PageKind::kRam);
}

PhysMemory::PageBuffer PhysMemory::alloc_pages(size_t bytes, uint8_t fill) {
    const size_t size = bytes ? bytes : 1;
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    PageBuffer b(static_cast<uint8_t*>(p), PageFree{size});
    if (fill) std::memset(b.get(), fill, bytes);  // (the mapping reads as zeros)
    return b;
}

void PhysMemory::PageFree::operator()(uint8_t* p) const { munmap(p, bytes); }

void PhysMemory::refresh_pages(uint64_t first, uint64_t end) {
    for (uint64_t p = first; p < end && p < kNumPages; ++p) {
        uint32_t a = uint32_t(p << kPageBits);
        PageKind k = p < (ram_size_ >> kPageBits) ? PageKind::kRam : PageKind::kUnmapped;
        if (const Region* r = find_region(a)) k = r->kind;
        uint8_t sh = shadow(a);
        if (sh && k != PageKind::kMmio && a < ram_size_) {
            // PAM: RAM for reads and writes is plain RAM; any other mix takes the slow paths,
            // which consult shadow() (reads from RAM when kShadowRead, writes when kShadowWrite).
            if ((sh & kShadowRead) && (sh & kShadowWrite)) k = PageKind::kRam;
            else if (sh & kShadowRead) k = PageKind::kRom;
            else if (k == PageKind::kRam) k = (sh & kShadowWrite) ? PageKind::kRom : PageKind::kUnmapped;
            else if (k == PageKind::kUnmapped && (sh & kShadowWrite)) k = PageKind::kRom;
        }
        const bool code = pages_[p] & kPageCode;
        pages_[p] = uint8_t((pages_[p] & kPageCode) | uint8_t(k));
        if (code && watcher_) watcher_->code_page_written(uint32_t(p));
    }
    if (watcher_) watcher_->memory_map_changed();
}

void PhysMemory::map_rom(uint32_t base, std::span<const uint8_t> image) {
    if ((base & kPageMask) != 0 || image.empty()) throw std::invalid_argument("ROM base must be page aligned");
    uint64_t end = uint64_t(base) + ((image.size() + kPageMask) & ~uint64_t(kPageMask));
    if (end > (uint64_t(1) << 32)) throw std::invalid_argument("ROM extends past 4 GiB");
    Region r{base, uint32_t(end - base), PageKind::kRom, alloc_pages(size_t(end - base), 0xFF), nullptr};
    std::memcpy(r.data.get(), image.data(), image.size());
    regions_.push_back(std::move(r));
    refresh_pages(base >> kPageBits, end >> kPageBits);
}

void PhysMemory::map_mmio(uint32_t base, uint32_t size, MmioHandler* handler) {
    if ((base & kPageMask) != 0 || size == 0) throw std::invalid_argument("MMIO base must be page aligned");
    uint64_t end = uint64_t(base) + ((uint64_t(size) + kPageMask) & ~uint64_t(kPageMask));
    if (end > (uint64_t(1) << 32)) throw std::invalid_argument("MMIO extends past 4 GiB");
    regions_.push_back(Region{base, uint32_t(end - base), PageKind::kMmio, PageBuffer(nullptr, PageFree{0}), handler});
    refresh_pages(base >> kPageBits, end >> kPageBits);
}

void PhysMemory::unmap(uint32_t base, uint32_t size) {
    uint64_t end = uint64_t(base) + ((uint64_t(size) + kPageMask) & ~uint64_t(kPageMask));
    for (auto it = regions_.rbegin(); it != regions_.rend(); ++it) {
        if (it->base == base && uint64_t(it->base) + it->size == end) {
            regions_.erase(std::next(it).base());
            refresh_pages(base >> kPageBits, end >> kPageBits);
            return;
        }
    }
}

void PhysMemory::set_shadow(uint32_t base, uint32_t size, bool read_ram, bool write_ram) {
    uint8_t v = uint8_t(kShadowSet | (read_ram ? kShadowRead : 0) | (write_ram ? kShadowWrite : 0));
    uint64_t first = base >> kPageBits, end = (uint64_t(base) + size + kPageMask) >> kPageBits;
    for (uint64_t p = first; p < end; ++p)
        if (p >= kShadowFirst && p < kShadowFirst + kShadowPages) shadow_[p - kShadowFirst] = v;
    refresh_pages(first, end);
}

void PhysMemory::set_a20(bool enabled) {
    uint32_t m = enabled ? 0xFFFFFFFFu : ~(1u << 20);
    if (m != a20_mask_) {
        a20_mask_ = m;
        if (watcher_) watcher_->memory_map_changed();
    }
}

const PhysMemory::Region* PhysMemory::find_region(uint32_t phys) const {
    // Newest mapping wins, so a later image can shadow an earlier one.
    for (auto it = regions_.rbegin(); it != regions_.rend(); ++it)
        if (phys >= it->base && phys - it->base < it->size) return &*it;
    return nullptr;
}

const uint8_t* PhysMemory::rom_byte_ptr(uint32_t phys) const {
    const Region* r = find_region(phys);
    return (r && r->kind == PageKind::kRom) ? r->data.get() + (phys - r->base) : nullptr;
}

const PhysMemory::Region* PhysMemory::find_mmio(uint32_t phys) const {
    const Region* r = find_region(phys);
    return (r && r->kind == PageKind::kMmio) ? r : nullptr;
}

uint8_t* PhysMemory::read_page(uint32_t phys) {
    uint32_t page = phys & ~kPageMask;
    switch (kind(phys)) {
        case PageKind::kRam: return ram_.get() + page;
        case PageKind::kRom:
            if (shadow(page) & kShadowRead) return ram_.get() + page;
            return const_cast<uint8_t*>(rom_byte_ptr(page));
        default: return nullptr;
    }
}

uint8_t* PhysMemory::write_page(uint32_t phys) {
    uint8_t k = pages_[phys >> kPageBits];
    if (k != uint8_t(PageKind::kRam)) return nullptr;  // ROM, MMIO, unmapped, or code
    return ram_.get() + (phys & ~kPageMask);
}

void PhysMemory::notify_write(uint32_t phys, size_t n) {
    if (!watcher_ || n == 0) return;
    uint32_t first = phys >> kPageBits;
    uint32_t last = uint32_t((uint64_t(phys) + n - 1) >> kPageBits);
    for (uint32_t p = first; p <= last && p < kNumPages; ++p)
        if (pages_[p] & kPageCode) watcher_->code_page_written(p);
}

uint32_t PhysMemory::read(uint32_t phys, unsigned size) {
    uint32_t v = 0;
    if (size <= 4 && (phys & kPageMask) + size <= kPageSize && kind(phys) == PageKind::kRam) [[likely]] {
        // Within one RAM page (page-table walks, descriptor reads): one copy.
        std::memcpy(&v, &ram_[phys], size);  // little-endian host (x86-64, AArch64)
        return v;
    }
    for (unsigned i = 0; i < size; ++i) {
        uint32_t a = phys + i;
        uint8_t b = 0xFF;
        switch (kind(a)) {
            case PageKind::kRam: b = ram_[a]; break;
            case PageKind::kRom:
                if (shadow(a) & kShadowRead) b = ram_[a];
                else if (const uint8_t* r = rom_byte_ptr(a)) b = *r;
                break;
            case PageKind::kMmio:
                if (const Region* m = find_mmio(a)) {
                    // Hand the device the whole access when it does not straddle pages.
                    if (i == 0 && ((phys & kPageMask) + size) <= kPageSize)
                        return m->handler->mmio_read(phys, size);
                    b = uint8_t(m->handler->mmio_read(a, 1));
                }
                break;
            case PageKind::kUnmapped: break;
        }
        v |= uint32_t(b) << (8 * i);
    }
    return v;
}

void PhysMemory::write(uint32_t phys, unsigned size, uint32_t value) {
    notify_write(phys, size);
    for (unsigned i = 0; i < size; ++i) {
        uint32_t a = phys + i;
        switch (kind(a)) {
            case PageKind::kRam: ram_[a] = uint8_t(value >> (8 * i)); break;
            case PageKind::kMmio:
                if (const Region* m = find_mmio(a)) {
                    if (i == 0 && ((phys & kPageMask) + size) <= kPageSize) {
                        m->handler->mmio_write(phys, size, value);
                        return;
                    }
                    m->handler->mmio_write(a, 1, (value >> (8 * i)) & 0xFF);
                }
                break;
            default:  // ROM and unmapped ignore writes, unless shadow RAM takes them
                if ((shadow(a) & kShadowWrite) && a < ram_size_) ram_[a] = uint8_t(value >> (8 * i));
                break;
        }
    }
}

// True when [phys, phys+n) lies inside RAM and every page of it is plain RAM (no ROM or MMIO
// shadowing it). Written so that no sum can wrap, whatever n a guest asks for.
bool PhysMemory::ram_range(uint32_t phys, size_t n) const {
    if (n > ram_size_ || phys > ram_size_ - n) return false;
    for (uint64_t a = phys & ~kPageMask; a < uint64_t(phys) + n; a += kPageSize)
        if (kind(uint32_t(a)) != PageKind::kRam) return false;
    return true;
}

bool PhysMemory::copy_to(uint32_t phys, const void* src, size_t n) {
    if (!ram_range(phys, n)) return false;
    notify_write(phys, n);
    std::memcpy(ram_.get() + phys, src, n);
    return true;
}

bool PhysMemory::copy_from(uint32_t phys, void* dst, size_t n) {
    if (!ram_range(phys, n)) return false;
    std::memcpy(dst, ram_.get() + phys, n);
    return true;
}

}  // namespace vx86::mmu

#include "mmu/memory.h"

#include <algorithm>
#include <stdexcept>

namespace vx86::mmu {

namespace {
constexpr size_t kNumPages = size_t(1) << (32 - kPageBits);
}

PhysMemory::PhysMemory(uint32_t ram_bytes)
    : ram_size_(ram_bytes & ~kPageMask),
      ram_(new uint8_t[ram_bytes & ~kPageMask]()),
      pages_(kNumPages, uint8_t(PageKind::kUnmapped)) {
    for (uint32_t p = 0; p < (ram_size_ >> kPageBits); ++p) pages_[p] = uint8_t(PageKind::kRam);
}

void PhysMemory::map_rom(uint32_t base, std::span<const uint8_t> image) {
    if ((base & kPageMask) != 0 || image.empty()) throw std::invalid_argument("ROM base must be page aligned");
    uint64_t end = uint64_t(base) + ((image.size() + kPageMask) & ~uint64_t(kPageMask));
    if (end > (uint64_t(1) << 32)) throw std::invalid_argument("ROM extends past 4 GiB");
    Rom r{base, std::vector<uint8_t>(image.begin(), image.end())};
    r.data.resize(size_t(end - base), 0xFF);
    roms_.push_back(std::move(r));
    for (uint64_t a = base; a < end; a += kPageSize) pages_[a >> kPageBits] = uint8_t(PageKind::kRom);
    ++generation_;
}

void PhysMemory::map_mmio(uint32_t base, uint32_t size, MmioHandler* handler) {
    if ((base & kPageMask) != 0 || size == 0) throw std::invalid_argument("MMIO base must be page aligned");
    uint64_t end = uint64_t(base) + ((uint64_t(size) + kPageMask) & ~uint64_t(kPageMask));
    mmio_.push_back(Mmio{base, uint32_t(end - base), handler});
    for (uint64_t a = base; a < end; a += kPageSize) pages_[a >> kPageBits] = uint8_t(PageKind::kMmio);
    ++generation_;
}

void PhysMemory::set_a20(bool enabled) {
    uint32_t m = enabled ? 0xFFFFFFFFu : ~(1u << 20);
    if (m != a20_mask_) {
        a20_mask_ = m;
        ++generation_;
    }
}

const PhysMemory::Rom* PhysMemory::find_rom(uint32_t phys) const {
    // Newest mapping wins, so a later image can shadow an earlier one.
    for (auto it = roms_.rbegin(); it != roms_.rend(); ++it)
        if (phys >= it->base && phys - it->base < it->data.size()) return &*it;
    return nullptr;
}

const PhysMemory::Mmio* PhysMemory::find_mmio(uint32_t phys) const {
    for (const auto& m : mmio_)
        if (phys >= m.base && phys - m.base < m.size) return &m;
    return nullptr;
}

uint8_t* PhysMemory::read_page(uint32_t phys) {
    uint32_t page = phys & ~kPageMask;
    switch (kind(phys)) {
        case PageKind::kRam: return ram_.get() + page;
        case PageKind::kRom: {
            const Rom* r = find_rom(page);
            return r ? const_cast<uint8_t*>(r->data.data()) + (page - r->base) : nullptr;
        }
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
    for (unsigned i = 0; i < size; ++i) {
        uint32_t a = phys + i;
        uint8_t b = 0xFF;
        switch (kind(a)) {
            case PageKind::kRam: b = ram_[a]; break;
            case PageKind::kRom:
                if (const Rom* r = find_rom(a)) b = r->data[a - r->base];
                break;
            case PageKind::kMmio:
                if (const Mmio* m = find_mmio(a)) {
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
                if (const Mmio* m = find_mmio(a)) {
                    if (i == 0 && ((phys & kPageMask) + size) <= kPageSize) {
                        m->handler->mmio_write(phys, size, value);
                        return;
                    }
                    m->handler->mmio_write(a, 1, (value >> (8 * i)) & 0xFF);
                }
                break;
            default: break;  // ROM and unmapped ignore writes
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

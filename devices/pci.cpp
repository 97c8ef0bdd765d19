// PCI configuration mechanism #1 and the standard type-0 header (see pci.h for the design).
//
// Register behaviour (PCI Local Bus Specification 2.x, chapter 6):
// - 0xCF8 is the CONFIG_ADDRESS register, accessed as a dword only: bit 31 enables
//   configuration cycles, bits 23:16 bus, 15:11 device, 10:8 function, 7:2 register. Bits 30:24
//   and 1:0 are reserved and read as 0. 0xCFC-0xCFF is CONFIG_DATA: a byte, word or dword at
//   0xCFC + n reaches register (CONFIG_ADDRESS & 0xFC) + n. With bit 31 clear (or a bus other
//   than 0, or no function there) reads return all ones and writes are dropped (a master abort).
// - The command register's writable bits are I/O space, memory space, bus master, parity error
//   response, SERR# enable and interrupt disable; the status register's error bits are write-1-
//   to-clear and bit 3 (interrupt status) follows the function's INTx# input regardless of the
//   interrupt disable bit.
// - A BAR's low bits are hardwired: bit 0 = 1 for I/O (bit 1 reserved 0), bits 3:0 = type and
//   prefetchable for memory. The address bits below the size are read-only 0, so writing all
//   ones and reading back gives ~(size-1) | type bits. The expansion ROM BAR (0x30) has its
//   enable at bit 0 and the address at bits 31:11.
#include "devices/pci.h"

namespace vx86::devices {

namespace {

constexpr uint8_t kCmdWmaskLo = 0x47;  // I/O, memory, master, parity error response
constexpr uint8_t kCmdWmaskHi = 0x05;  // SERR# enable, interrupt disable
constexpr uint8_t kStatusW1cHi =
    0xF9;  // data parity, sig/rcv target abort, master abort, SERR, parity

bool overlaps(unsigned off, unsigned size, unsigned lo, unsigned hi) {  // [lo, hi)
    return off < hi && off + size > lo;
}

uint32_t round_pow2(uint32_t v) {
    uint32_t p = 1;
    while (p < v && p < 0x80000000u) p <<= 1;
    return p;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PciDevice

PciDevice::PciDevice(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code,
                     uint8_t header_type) {
    set_cfg16(kPciVendor, vendor);
    set_cfg16(kPciDevice, device);
    set_cfg8(kPciRevision, revision);
    set_cfg8(kPciProgIf, uint8_t(class_code));
    set_cfg8(kPciSubclass, uint8_t(class_code >> 8));
    set_cfg8(kPciClass, uint8_t(class_code >> 16));
    set_cfg8(kPciHeaderType, header_type);
    wmask_[kPciCommand] = kCmdWmaskLo;
    wmask_[kPciCommand + 1] = kCmdWmaskHi;
    wmask_[kPciCacheLine] = 0xFF;
    wmask_[kPciLatency] = 0xFF;
    wmask_[kPciIntLine] = 0xFF;
    w1c_[kPciStatus + 1] = kStatusW1cHi;
}

void PciDevice::set_cfg8(uint8_t off, uint8_t v) {
    cfg_[off] = v;
    power_on_[off] = v;
}

void PciDevice::set_cfg16(uint8_t off, uint16_t v) {
    set_cfg8(off, uint8_t(v));
    set_cfg8(uint8_t(off + 1), uint8_t(v >> 8));
}

void PciDevice::set_cfg32(uint8_t off, uint32_t v) {
    set_cfg16(off, uint16_t(v));
    set_cfg16(uint8_t(off + 2), uint16_t(v >> 16));
}

void PciDevice::declare_io_bar(unsigned i, uint32_t size, IoDevice* dev, uint8_t io_sizes) {
    if (i >= 6) return;
    size = round_pow2(size < 4 ? 4 : size);
    bars_[i] = Bar{BarKind::kIo, size, dev, io_sizes, nullptr, 0};
    uint8_t off = uint8_t(kPciBar0 + 4 * i);
    set_cfg32(off, 0x1);
    uint32_t mask = ~(size - 1) & 0xFFFFFFFCu;
    for (unsigned b = 0; b < 4; ++b) wmask_[off + b] = uint8_t(mask >> (8 * b));
}

void PciDevice::declare_mem_bar(unsigned i, uint32_t size, mmu::MmioHandler* h, bool prefetch) {
    if (i >= 6) return;
    size = round_pow2(size < mmu::kPageSize ? mmu::kPageSize : size);
    bars_[i] =
        Bar{prefetch ? BarKind::kMem32Prefetch : BarKind::kMem32, size, nullptr, kIoSize8, h, 0};
    uint8_t off = uint8_t(kPciBar0 + 4 * i);
    set_cfg32(off, prefetch ? 0x8 : 0x0);  // type 00 (32-bit, anywhere), bit 3 prefetchable
    uint32_t mask = ~(size - 1) & 0xFFFFFFF0u;
    for (unsigned b = 0; b < 4; ++b) wmask_[off + b] = uint8_t(mask >> (8 * b));
}

void PciDevice::declare_rom(std::vector<uint8_t> image) {
    if (image.empty()) return;
    uint32_t size =
        round_pow2(uint32_t(image.size() < mmu::kPageSize ? mmu::kPageSize : image.size()));
    image.resize(size, 0xFF);
    rom_ = std::move(image);
    set_cfg32(kPciRomBar, 0);
    uint32_t mask = (~(size - 1) & 0xFFFFF800u) | 1u;
    for (unsigned b = 0; b < 4; ++b) wmask_[kPciRomBar + b] = uint8_t(mask >> (8 * b));
}

uint32_t PciDevice::config_read(uint8_t off, unsigned size) {
    uint32_t v = 0;
    for (unsigned i = 0; i < size && off + i < 256; ++i) v |= uint32_t(cfg_[off + i]) << (8 * i);
    return v;
}

void PciDevice::config_write(uint8_t off, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size && off + i < 256; ++i) {
        unsigned o = off + i;
        uint8_t b = uint8_t(value >> (8 * i));
        cfg_[o] = uint8_t((cfg_[o] & ~wmask_[o]) | (b & wmask_[o]));
        cfg_[o] = uint8_t(cfg_[o] & ~(b & w1c_[o]));
    }
    if (!bus_) return;
    if (overlaps(off, size, kPciCommand, kPciCommand + 2) || overlaps(off, size, kPciBar0, 0x28) ||
        overlaps(off, size, kPciRomBar, kPciRomBar + 4))
        bus_->remap(*this);
    if (overlaps(off, size, kPciCommand + 1, kPciCommand + 2)) bus_->route(*this, intx_level_);
}

void PciDevice::pci_reset() {
    if (intx_level_) set_intx(false);
    cfg_ = power_on_;
    if (bus_) {
        bus_->remap(*this);
        bus_->route(*this, false);
    }
}

uint32_t PciDevice::bar_base(unsigned i) const {
    if (i < 6) return bars_[i].mapped;
    if (i == 6) return rom_mapped_;
    return 0;
}

void PciDevice::set_intx(bool level) {
    intx_level_ = level;
    if (level)
        cfg_[kPciStatus] |= kPciStatusIntx;
    else
        cfg_[kPciStatus] &= uint8_t(~kPciStatusIntx);
    if (bus_) bus_->route(*this, level);
}

// ---------------------------------------------------------------------------------------------
// PciBus

PciBus::PciBus(IoBus& io, mmu::PhysMemory& mem) : io_(io), mem_(mem) {}

// Mappings are left in place: the IoBus and PhysMemory that hold them belong to the machine,
// which tears everything down together.
PciBus::~PciBus() = default;

void PciBus::attach() { io_.attach(0xCF8, 8, this, kIoSize8 | kIoSize16 | kIoSize32); }

void PciBus::add(unsigned devfn, PciDevice* dev) {
    if (devfn >= 256 || !dev) return;
    devs_[devfn] = dev;
    dev->bus_ = this;
    dev->devfn_ = uint8_t(devfn);
    remap(*dev);
}

void PciBus::reset() {
    address_ = 0;
    reset_control_ = 0;
    for (PciDevice* d : devs_)
        if (d) d->pci_reset();
}

uint32_t PciBus::config_read(unsigned devfn, uint8_t off, unsigned size) {
    PciDevice* d = find(devfn);
    if (!d || (size != 1 && size != 2 && size != 4))
        return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    if (off % size != 0 || off + size > 256) {  // misaligned: byte by byte
        uint32_t v = 0;
        for (unsigned i = 0; i < size; ++i)
            v |= (off + i < 256 ? d->config_read(uint8_t(off + i), 1) & 0xFF : 0xFF) << (8 * i);
        return v;
    }
    return d->config_read(off, size);
}

void PciBus::config_write(unsigned devfn, uint8_t off, unsigned size, uint32_t value) {
    PciDevice* d = find(devfn);
    if (!d || (size != 1 && size != 2 && size != 4)) return;
    if (off % size != 0 || off + size > 256) {
        for (unsigned i = 0; i < size && off + i < 256; ++i)
            d->config_write(uint8_t(off + i), 1, (value >> (8 * i)) & 0xFF);
        return;
    }
    d->config_write(off, size, value);
}

uint32_t PciBus::io_read(uint16_t port, unsigned size) {
    uint32_t ones = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    if (port >= 0xCFC) {
        if (!(address_ & 0x80000000u) || ((address_ >> 16) & 0xFF) != 0) return ones;
        unsigned n = port & 3;
        if (n + size > 4) size = 4 - n;  // a wide access past 0xCFF: the rest floats
        uint32_t v = config_read((address_ >> 8) & 0xFF, uint8_t((address_ & 0xFC) | n), size);
        return size >= 4 ? v : (v | (ones & ~((1u << (8 * size)) - 1)));
    }
    if (port == 0xCF8 && size == 4) return address_;
    if (port == 0xCF9 && size == 1) return reset_control_;
    return ones;
}

void PciBus::io_write(uint16_t port, unsigned size, uint32_t value) {
    if (port >= 0xCFC) {
        if (!(address_ & 0x80000000u) || ((address_ >> 16) & 0xFF) != 0) return;
        unsigned n = port & 3;
        if (n + size > 4) size = 4 - n;
        config_write((address_ >> 8) & 0xFF, uint8_t((address_ & 0xFC) | n), size, value);
        return;
    }
    if (port == 0xCF8 && size == 4) {
        address_ = value & 0x80FFFFFCu;
        return;
    }
    if (port == 0xCF9 && size == 1) {
        // PIIX3 RC: bit 1 selects hard reset, a 0->1 transition of bit 2 starts the reset.
        bool start = (value & 0x04) && !(reset_control_ & 0x04);
        reset_control_ = uint8_t(value & 0x02);  // RCPU is not kept set
        if (start && reset_request_) reset_request_((value & 0x02) != 0);
    }
}

void PciBus::remap(PciDevice& dev) {
    uint16_t cmd = dev.command();
    // Where each BAR should be now (0: nowhere).
    std::array<uint32_t, 6> want{};
    for (unsigned i = 0; i < 6; ++i) {
        const PciDevice::Bar& b = dev.bars_[i];
        uint32_t reg = dev.cfg32(uint8_t(kPciBar0 + 4 * i));
        if (b.kind == BarKind::kIo) {
            uint32_t base = reg & ~(b.size - 1) & 0xFFFFFFFCu;
            if ((cmd & kPciCmdIo) && base != 0 && uint64_t(base) + b.size <= 0xFFFFu && b.io)
                want[i] = base;
        } else if (b.kind != BarKind::kNone) {
            uint32_t base = reg & ~(b.size - 1) & 0xFFFFFFF0u;
            if ((cmd & kPciCmdMem) && base != 0 && uint64_t(base) + b.size <= 0xFFFFFFFFull &&
                b.mmio)
                want[i] = base;
        }
    }
    uint32_t rom_want = 0;
    if (!dev.rom_.empty()) {
        uint32_t reg = dev.cfg32(kPciRomBar);
        uint32_t size = uint32_t(dev.rom_.size());
        uint32_t base = reg & ~(size - 1) & 0xFFFFF800u;
        if ((reg & 1) && (cmd & kPciCmdMem) && base != 0 && uint64_t(base) + size <= 0xFFFFFFFFull)
            rom_want = base;
    }
    // Unmap everything that moves first, then map, so a BAR moving onto another's old place is
    // not undone by the other's detach.
    for (unsigned i = 0; i < 6; ++i) {
        PciDevice::Bar& b = dev.bars_[i];
        if (b.mapped == want[i] || b.mapped == 0) continue;
        if (b.kind == BarKind::kIo)
            io_.detach(uint16_t(b.mapped), b.size);
        else
            mem_.unmap(b.mapped, b.size);
        b.mapped = 0;
    }
    if (dev.rom_mapped_ != rom_want && dev.rom_mapped_ != 0) {
        mem_.unmap(dev.rom_mapped_, uint32_t(dev.rom_.size()));
        dev.rom_mapped_ = 0;
    }
    for (unsigned i = 0; i < 6; ++i) {
        PciDevice::Bar& b = dev.bars_[i];
        if (b.mapped == want[i]) continue;
        if (b.kind == BarKind::kIo)
            io_.attach(uint16_t(want[i]), b.size, b.io, b.io_sizes);
        else
            mem_.map_mmio(want[i], b.size, b.mmio);
        b.mapped = want[i];
    }
    if (dev.rom_mapped_ != rom_want) {
        mem_.map_rom(rom_want, dev.rom_);
        dev.rom_mapped_ = rom_want;
    }
}

void PciBus::route(PciDevice& dev, bool level) {
    bool eff = level && !(dev.command() & kPciCmdIntxDisable);
    if (eff == dev.intx_routed_) return;
    dev.intx_routed_ = eff;
    unsigned pin = dev.cfg8(kPciIntPin);
    if (pin < 1 || pin > 4 || !router_) return;
    router_->route_intx(dev.devfn() >> 3, pin, eff);
}

}  // namespace vx86::devices

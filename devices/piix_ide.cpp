// PiixIde: configuration registers, legacy port decoding and the bus-master DMA engines (see
// piix_ide.h for the design).
//
// Facts used (82371SB PIIX3 datasheet, IDE function; SFF-8038i bus master programming):
// - PCICMD (0x04): only I/O space enable (bit 0) and bus master enable (bit 2) are writable.
//   PCISTS (0x06) reads 0280h (fast back-to-back capable, medium DEVSEL timing).
// - BMIBA (0x20): 16 bytes of I/O, bit 0 hardwired 1. The datasheet has bits 31:16 reserved 0,
//   but like QEMU we let them read back as written: SeaBIOS sizes an I/O BAR with 32-bit
//   arithmetic and takes 0x0000FFF1 for a BAR of almost 4 GiB ("out of I/O address space").
// - IDETIM (0x40 primary, 0x42 secondary): bit 15 enables decoding of that channel's
//   compatibility ports; the timing fields are stored only. SIDETIM (0x44) is stored only.
// - BMICx (+0): bit 0 SSBM start/stop, bit 3 RWCON (1 = bus master writes memory).
//   BMISx (+2): bit 0 active (RO), 1 error (R/WC), 2 interrupt (R/WC, set on the rising edge of
//   the channel's interrupt line), 5/6 drive 0/1 DMA capable (R/W). BMIDTPx (+4): PRD table
//   address, bits 1:0 read as 0. Each PRD: dword base address (bit 0 = 0), word byte count
//   (bit 0 = 0, 0 means 64 KiB), word with bit 15 EOT.
// - A master abort during a transfer sets error and clears active without an interrupt.
#include "devices/piix_ide.h"

#include <algorithm>

namespace vx86::devices {

namespace {
constexpr uint16_t kPiixVendor = 0x8086, kPiixIdeDevice = 0x7010;
constexpr uint32_t kClassIdeCompatBm = 0x010180;
constexpr uint8_t kBarBmiba = 4;
}  // namespace

PiixIde::PiixIde(IrqLine primary_irq, IrqLine secondary_irq, mmu::PhysMemory& mem)
    : PciDevice(kPiixVendor, kPiixIdeDevice, 0x00, kClassIdeCompatBm),
      lines_{primary_irq, secondary_irq},
      mem_(mem),
      primary_(kIdePrimaryBase, kIdePrimaryCtl, IrqLine{static_cast<IrqSink*>(this), 0}),
      secondary_(kIdeSecondaryBase, kIdeSecondaryCtl, IrqLine{static_cast<IrqSink*>(this), 1}) {
    set_cfg16(kPciStatus, 0x0280);
    set_wmask8(kPciCommand, kPciCmdIo | kPciCmdMaster);
    set_wmask8(kPciCommand + 1, 0);
    declare_io_bar(kBarBmiba, 16, this, kIoSize8 | kIoSize16 | kIoSize32);
    for (uint8_t off = kPiixIdetimPrimary; off <= 0x44; ++off) set_wmask8(off, 0xFF);
    for (unsigned i = 0; i < 2; ++i) {
        engines_[i].owner = this;
        engines_[i].index = i;
        channel(i).set_dma_engine(&engines_[i]);
    }
}

void PiixIde::attach(IoBus& bus) {
    io_ = &bus;
    update_decode();
}

void PiixIde::update_decode() {
    for (unsigned i = 0; i < 2; ++i) {
        uint16_t idetim = cfg16(i ? kPiixIdetimSecondary : kPiixIdetimPrimary);
        bool want = io_ && (command() & kPciCmdIo) && (idetim & kPiixIdetimDecode);
        if (want == decoded_[i]) continue;
        if (want) channel(i).attach(*io_);
        else channel(i).detach(*io_);
        decoded_[i] = want;
    }
}

void PiixIde::config_write(uint8_t off, unsigned size, uint32_t value) {
    PciDevice::config_write(off, size, value);
    update_decode();
    for (Engine& e : engines_) e.run();  // bus master enable may have just been set
}

void PiixIde::pci_reset() {
    PciDevice::pci_reset();
    for (Engine& e : engines_) {
        e.cmd = e.status = 0;
        e.prd = e.next_entry = e.addr = e.left = 0;
        e.eot = false;
    }
    primary_.reset();
    secondary_.reset();
    update_decode();
}

void PiixIde::set_irq(unsigned irq, bool level) {
    unsigned i = irq & 1;
    if (level && !level_[i]) engines_[i].status |= kBmStIrq;
    level_[i] = level;
    lines_[i].set_level(level);
}

// ---------------------------------------------------------------------------------------------
// Bus-master registers

uint32_t PiixIde::io_read(uint16_t port, unsigned size) {
    uint32_t v = 0;
    for (unsigned i = 0; i < size && i < 4; ++i) v |= uint32_t(bm_read8((port + i) & 0x0F)) << (8 * i);
    return v;
}

void PiixIde::io_write(uint16_t port, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size && i < 4; ++i) bm_write8((port + i) & 0x0F, uint8_t(value >> (8 * i)));
}

uint8_t PiixIde::bm_read8(unsigned off) {
    const Engine& e = engines_[(off >> 3) & 1];
    unsigned r = off & 7;
    if (r == kBmCommand) return e.cmd;
    if (r == kBmStatus) return e.status;
    if (r >= kBmPrd) return uint8_t(e.prd >> (8 * (r - kBmPrd)));
    return 0;
}

void PiixIde::bm_write8(unsigned off, uint8_t v) {
    Engine& e = engines_[(off >> 3) & 1];
    unsigned r = off & 7;
    if (r == kBmCommand) {
        bool was = e.cmd & kBmCmdStart, start = v & kBmCmdStart;
        // The direction must not change while active: keep it then.
        uint8_t dir = (e.status & kBmStActive) ? uint8_t(e.cmd & kBmCmdWrite) : uint8_t(v & kBmCmdWrite);
        e.cmd = uint8_t(dir | (v & kBmCmdStart));
        if (start && !was) {
            e.status |= kBmStActive;
            e.next_entry = e.prd;
            e.left = 0;
            e.eot = false;
            e.run();
        } else if (!start && was) {
            e.status &= uint8_t(~kBmStActive);  // stop: the PRD walk is forgotten
        }
    } else if (r == kBmStatus) {
        e.status = uint8_t((e.status & ~(kBmStDma0 | kBmStDma1)) | (v & (kBmStDma0 | kBmStDma1)));
        e.status &= uint8_t(~(v & (kBmStError | kBmStIrq)));
    } else if (r >= kBmPrd) {
        unsigned sh = 8 * (r - kBmPrd);
        e.prd = (e.prd & ~(0xFFu << sh)) | uint32_t(v) << sh;
        e.prd &= ~3u;
    }
}

// ---------------------------------------------------------------------------------------------
// DMA engine

void PiixIde::Engine::run() {
    IdeChannel& ch = owner->channel(index);
    if (!(status & kBmStActive) || !ch.dma_pending() || !owner->bus_master()) return;
    ch.dma_service();
    // Done with the table used up exactly: active drops (interrupt already set by INTRQ).
    if (!ch.dma_pending() && left == 0 && eot) status &= uint8_t(~kBmStActive);
}

void PiixIde::Engine::dma_requested() { run(); }

size_t PiixIde::Engine::dma_move(uint8_t* buf, size_t len, bool to_memory) {
    if (!(status & kBmStActive) || !owner->bus_master()) return 0;
    mmu::PhysMemory& mem = owner->mem_;
    size_t moved = 0;
    while (moved < len) {
        if (left == 0) {
            if (eot) {  // PRD table shorter than the transfer
                status &= uint8_t(~kBmStActive);
                return moved;
            }
            uint8_t e[8];
            if (!mem.copy_from(next_entry, e, sizeof e)) {
                status = uint8_t((status | kBmStError) & ~kBmStActive);
                return moved;
            }
            addr = (uint32_t(e[0]) | uint32_t(e[1]) << 8 | uint32_t(e[2]) << 16 |
                    uint32_t(e[3]) << 24) & ~1u;
            uint32_t count = (uint32_t(e[4]) | uint32_t(e[5]) << 8) & 0xFFFEu;
            left = count ? count : 0x10000;
            eot = e[7] & 0x80;
            next_entry += 8;
        }
        size_t n = std::min<size_t>(left, len - moved);
        bool ok = to_memory ? mem.copy_to(addr, buf + moved, n) : mem.copy_from(addr, buf + moved, n);
        if (!ok) {
            status = uint8_t((status | kBmStError) & ~kBmStActive);
            return moved;
        }
        addr += uint32_t(n);
        left -= uint32_t(n);
        moved += n;
    }
    return moved;
}

}  // namespace vx86::devices

// Piix3: ISA bridge registers and PIRQ routing (see piix3.h).
#include "devices/piix3.h"

namespace vx86::devices {

Piix3::Piix3(IrqSink* pic) : PciDevice(0x8086, 0x7000, 0x00, 0x060100, 0x80), pic_(pic) {
    set_cfg16(kPciCommand, 0x0007);  // I/O, memory, bus master (datasheet default)
    set_cfg16(kPciStatus, 0x0200);   // DEVSEL# medium
    set_cfg16(kPciSubsysVendor, 0x1AF4);
    set_cfg16(kPciSubsysId, 0x1100);
    for (unsigned o = 0x40; o < 0x100; ++o) set_wmask8(uint8_t(o), 0xFF);
    set_cfg8(0x4C, 0x4D);     // IORT: ISA I/O recovery timer
    set_cfg16(0x4E, 0x0003);  // XBCS: RTC and keyboard controller address decode
    for (unsigned i = 0; i < 4; ++i) {
        set_cfg8(uint8_t(kPiix3Pirqrc + i), 0x80);
        set_wmask8(uint8_t(kPiix3Pirqrc + i), 0x8F);
    }
    set_cfg8(0x69, 0x02);     // TOM: top of memory 1 MiB
    set_cfg8(0x70, 0x80);     // MBIRQ0 disabled
    set_cfg8(0x71, 0x80);     // MBIRQ1 disabled
    set_cfg8(0x76, 0x0C);     // MBDMA0 disabled
    set_cfg8(0x77, 0x0C);     // MBDMA1 disabled
    set_cfg16(0x78, 0x0002);  // PCSC
    set_cfg8(0xA0, 0x08);     // SMICNTL
    set_cfg8(0xA8, 0x0F);     // FTMR
    set_cfg8(0xCB, 0x21);     // RTC configuration: RTC and upper 128 bytes enabled
}

void Piix3::config_write(uint8_t off, unsigned size, uint32_t value) {
    PciDevice::config_write(off, size, value);
    if (off < kPiix3Pirqrc + 4 && off + size > kPiix3Pirqrc) update_outputs();
}

void Piix3::pci_reset() {
    PciDevice::pci_reset();
    update_outputs();
}

int Piix3::pirq_irq(unsigned n) const {
    if (n >= 4) return -1;
    uint8_t r = cfg8(uint8_t(kPiix3Pirqrc + n));
    if (r & 0x80) return -1;
    unsigned irq = r & 0x0F;
    if (irq < 3 || irq == 8 || irq == 13) return -1;
    return int(irq);
}

void Piix3::route_intx(unsigned device, unsigned pin, bool level) {
    if (pin < 1 || pin > 4) return;
    unsigned pirq = (pin - 1 + device - 1) & 3;
    if (level)
        ++count_[pirq];
    else if (count_[pirq] > 0)
        --count_[pirq];
    update_outputs();
}

void Piix3::update_outputs() {
    std::array<bool, 16> want{};
    for (unsigned p = 0; p < 4; ++p) {
        int irq = pirq_irq(p);
        if (irq >= 0 && count_[p] > 0) want[unsigned(irq)] = true;
    }
    for (unsigned i = 0; i < 16; ++i) {
        if (want[i] == out_[i]) continue;
        out_[i] = want[i];
        if (pic_) pic_->set_irq(i, want[i]);
    }
}

}  // namespace vx86::devices

// Piix3: the 82371SB PIIX3's PCI-to-ISA bridge (function 0 of device 1) and its PIRQ router.
//
// Design decisions:
// - Identity as QEMU's `pc` machine: 8086:7000, class 0601 (ISA bridge), header type 0x80 (the
//   PIIX3 is multi-function: IDE is function 1), subsystem 1AF4:1100.
// - PIRQRC[A:D] (0x60-0x63): bit 7 disables routing, bits 3:0 pick the ISA IRQ; 3-7, 9-12, 14
//   and 15 are valid, the other values are reserved and route nowhere. Power-on 0x80.
// - The router: a device's INTx# pin (1..4 = INTA#..INTD#) on device number d reaches PIRQ
//   (pin - 1 + d - 1) & 3, the rotation the PC boards wire and SeaBIOS's piix_pci_slot_get_irq
//   (and QEMU's ACPI _PRT) assume: device 1 INTA# -> PIRQA, device 2 INTA# -> PIRQB,
//   device 3 INTA# -> PIRQC, device 1 INTB# -> PIRQB, ... PCI interrupt lines are shared
//   open-drain, so each PIRQ keeps a count of the INTx# inputs asserting it (wired-OR); an
//   ISA IRQ is driven high while any enabled PIRQ routed to it has a nonzero count. The counts are
//   the devices' state, so pci_reset() keeps them (devices lower their own pins on reset) and only
//   re-evaluates the outputs.
// - Outputs go to an IrqSink (the PIC pair) as levels; the ELCR must make those inputs level
//   triggered (SeaBIOS does). An IRQ this router never drove is never touched, so sharing a
//   number with an ISA device is only a problem when the guest routes a PIRQ onto it.
// - The other registers SeaBIOS and Linux touch (0x4C IORT, 0x4E XBCS, 0x69 TOM, 0x6A MSTAT,
//   0x70/0x71 MBIRQ, 0x76/0x77 MBDMA, 0x80 APICBASE, 0xA0-0xAE SMI, plus the PIIX4-style 0xB0/
//   0xB1 and 0xCB RTC configuration) are plain storage with the datasheet's power-on values;
//   0x40-0xFF is writable as in QEMU.
#pragma once

#include <array>
#include <cstdint>

#include "devices/irq.h"
#include "devices/pci.h"

namespace vx86::devices {

inline constexpr uint8_t kPiix3Pirqrc = 0x60;

class Piix3 final : public PciDevice, public IntxRouter {
public:
    explicit Piix3(IrqSink* pic);

    void config_write(uint8_t off, unsigned size, uint32_t value) override;
    void pci_reset() override;
    void route_intx(unsigned device, unsigned pin, bool level) override;

    // The ISA IRQ PIRQ `n` (0..3 = A..D) is routed to, or -1 when disabled or reserved.
    int pirq_irq(unsigned n) const;
    unsigned pirq_count(unsigned n) const { return n < 4 ? count_[n] : 0; }

private:
    void update_outputs();

    IrqSink* pic_;
    std::array<uint16_t, 4> count_{};  // asserted INTx# inputs per PIRQ
    std::array<bool, 16> out_{};       // level last driven on each ISA IRQ
};

}  // namespace vx86::devices

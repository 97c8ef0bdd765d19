// I440fx: the 82441FX PCI and memory controller (PMC), the host bridge at device 0 function 0.
//
// Design decisions:
// - Identity as QEMU's `pc` machine presents it: 8086:1237 revision 02, class 0600 (host
//   bridge), subsystem 1AF4:1100. SeaBIOS identifies "QEMU (i440fx)" by that subsystem pair
//   and finds the PAM registers by the 8086:1237 ID.
// - PAM0-PAM6 (0x59-0x5F) control shadow RAM in 0xC0000-0xFFFFF. In each register bit 0/4 is
//   "read enable" (reads go to DRAM) and bit 1/5 "write enable" (writes go to DRAM) for the low/
//   high nibble's segment; the other bits are reserved and read 0. PAM0's high nibble covers
//   0xF0000-0xFFFFF (its low nibble is reserved); PAM1-PAM6 cover 0xC0000-0xEFFFF in 16 KiB
//   halves, low nibble first. The memory side is not ours: every change of a segment's two bits
//   calls `set_shadow(base, size, read_ram, write_ram)`, and so does pci_reset() for every
//   segment with the power-on value (all to the ROM/PCI side).
// - SMRAM (0x72) is stored with the datasheet's write rules: bits 2:0 (C_BASE_SEG) are
//   hardwired to 010 (0xA0000), setting D_LCK clears D_OPEN and makes D_LCK, D_OPEN and
//   G_SMRAME read-only until reset. There is no SMM yet, so nothing is mapped from it.
// - The other device-specific registers (0x40-0xFF: DRAM control/timing, DRB, error command,
//   ...) are plain read/write storage powering on as 0, as QEMU has them.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/pci.h"

namespace vx86::devices {

inline constexpr uint8_t kI440fxPam0 = 0x59;
inline constexpr uint8_t kI440fxSmram = 0x72;
inline constexpr uint8_t kSmramDOpen = 0x40, kSmramDCls = 0x20, kSmramDLck = 0x10,
                         kSmramGSmrame = 0x08;

class I440fx final : public PciDevice {
public:
    using ShadowFn =
        std::function<void(uint32_t base, uint32_t size, bool read_ram, bool write_ram)>;
    explicit I440fx(ShadowFn set_shadow);

    void config_write(uint8_t off, unsigned size, uint32_t value) override;
    void pci_reset() override;

    uint8_t pam(unsigned i) const { return cfg8(uint8_t(kI440fxPam0 + i)); }
    uint8_t smram() const { return cfg8(kI440fxSmram); }

private:
    void apply_pam(unsigned reg, uint8_t old_value, bool all);
    ShadowFn set_shadow_;
};

}  // namespace vx86::devices

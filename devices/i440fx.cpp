// I440fx: the host bridge's PAM and SMRAM registers (see i440fx.h).
#include "devices/i440fx.h"

namespace vx86::devices {

namespace {
constexpr uint8_t kSmramPowerOn = 0x02;  // C_BASE_SEG = 010b
}

I440fx::I440fx(ShadowFn set_shadow)
    : PciDevice(0x8086, 0x1237, 0x02, 0x060000), set_shadow_(std::move(set_shadow)) {
    set_cfg16(kPciCommand, 0x0006);  // memory and bus master enabled (datasheet default)
    set_cfg16(kPciStatus, 0x0280);   // fast back-to-back capable, DEVSEL# medium
    set_cfg16(kPciSubsysVendor, 0x1AF4);
    set_cfg16(kPciSubsysId, 0x1100);
    for (unsigned o = 0x40; o < 0x100; ++o) set_wmask8(uint8_t(o), 0xFF);
    set_wmask8(kI440fxPam0, 0x30);
    for (unsigned i = 1; i < 7; ++i) set_wmask8(uint8_t(kI440fxPam0 + i), 0x33);
    set_cfg8(kI440fxSmram, kSmramPowerOn);
    set_wmask8(kI440fxSmram, 0);  // handled in config_write
}

void I440fx::config_write(uint8_t off, unsigned size, uint32_t value) {
    std::array<uint8_t, 7> old{};
    for (unsigned i = 0; i < 7; ++i) old[i] = pam(i);
    uint8_t smram_old = smram();
    PciDevice::config_write(off, size, value);
    if (off <= kI440fxSmram && off + size > kI440fxSmram) {
        uint8_t v = uint8_t(value >> (8 * (kI440fxSmram - off)));
        uint8_t n;
        if (smram_old & kSmramDLck) {
            n = uint8_t((smram_old & ~kSmramDCls) | (v & kSmramDCls));  // only D_CLS stays writable
        } else {
            n = uint8_t((v & (kSmramDOpen | kSmramDCls | kSmramDLck | kSmramGSmrame)) |
                        kSmramPowerOn);
            if (n & kSmramDLck) n &= uint8_t(~kSmramDOpen);
        }
        set_wmask8(kI440fxSmram, 0xFF);
        PciDevice::config_write(kI440fxSmram, 1, n);
        set_wmask8(kI440fxSmram, 0);
    }
    for (unsigned i = 0; i < 7; ++i)
        if (pam(i) != old[i]) apply_pam(i, old[i], false);
}

void I440fx::pci_reset() {
    PciDevice::pci_reset();
    for (unsigned i = 0; i < 7; ++i) apply_pam(i, 0, true);
}

// Calls set_shadow for the segments of PAM register `reg` whose bits differ from `old_value`
// (all of them when `all`).
void I440fx::apply_pam(unsigned reg, uint8_t old_value, bool all) {
    if (!set_shadow_) return;
    uint8_t v = pam(reg);
    for (unsigned half = 0; half < 2; ++half) {
        if (reg == 0 && half == 0) continue;  // PAM0 low nibble is reserved
        unsigned shift = 4 * half;
        uint8_t bits = (v >> shift) & 3, old_bits = (old_value >> shift) & 3;
        if (!all && bits == old_bits) continue;
        uint32_t base, size;
        if (reg == 0) {
            base = 0xF0000;
            size = 0x10000;
        } else {
            base = 0xC0000 + (reg - 1) * 0x8000 + half * 0x4000;
            size = 0x4000;
        }
        set_shadow_(base, size, bits & 1, (bits & 2) != 0);
    }
}

}  // namespace vx86::devices

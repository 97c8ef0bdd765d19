// Piix4Pm: the 82371AB PIIX4's power-management function (ACPI hardware), as QEMU's `pc`
// machine places it at 00:01.3 next to a PIIX3.
//
// Design decisions (Intel 82371AB PIIX4 datasheet, function 3; ACPI 1.0 fixed hardware):
// - Identity 8086:7113 revision 03, class 0680 (other bridge), subsystem 1AF4:1100, interrupt
//   pin INTA# in 0x3D as QEMU reports it. The SCI does not use that pin: it is wired straight to
//   ISA IRQ 9 (an IrqLine), which is what the FADT's SCI_INT says.
// - Configuration: PMBA (0x40) holds the PM I/O base in bits 15:6 (64 ports, bit 0 hardwired to
//   1 = I/O space); the block is decoded while PMREGMISC (0x80) bit 0 (PMIOSE) is set and the
//   base is not 0 (a base of 0 would sit on the DMA controller and the PIC). Every change of
//   either register re-maps the block on the IoBus (detach the old range, attach the new one).
//   SMBBA (0x90, bit 0 hardwired to 1) and SMBHSTCFG (0xD2) are plain storage: SeaBIOS programs
//   them, but there is no SMBus host controller behind them (no SPD EEPROMs to read). The other
//   device registers 0x44-0xFF (CNTA/CNTB, GENCFG, DEVACTx/DEVRESx, ...) are plain storage too.
// - No SMM: the machine has no SMRAM and the CPU no SMI. DEVACTB (0x58) therefore powers up with
//   APMC_EN (bit 25) set, as QEMU does when SMM is off: SeaBIOS takes that bit as "SMM already
//   initialised" and skips its SMM setup, which would otherwise write 1 to port 0xB3 and wait
//   forever for an SMI handler to clear it. In its place the APM control port 0xB2 does in
//   hardware what SeaBIOS's tiny SMI handler would: writing the FADT's ACPI_ENABLE value (0xF1)
//   sets SCI_EN, ACPI_DISABLE (0xF0) clears it. 0xB3 (APMS) is a scratch byte.
// - PM I/O block (offsets from PMBA), byte-wide on the bus (word and dword accesses are split by
//   the IoBus, low byte first, which gives the same result for every register here):
//     0x00 PMSTS  (PM1a_STS): write-1-to-clear. TMROF_STS bit 0, BM_STS 4, GBL_STS 5,
//                 PWRBTN_STS 8, RTC_STS 10, PWRBTNOR_STS 11, RSM_STS (WAK_STS) 15.
//     0x02 PMEN   (PM1a_EN): TMROF_EN 0, GBL_EN 5, PWRBTN_EN 8, RTC_EN 10; other bits read 0.
//     0x04 PMCNTRL (PM1a_CNT): SCI_EN 0, BRLD_EN_BM 1, SUS_TYP 12:10 read/write; GBL_RLS 2 and
//                 SUS_EN 13 are write-only (read 0). Writing SUS_EN enters the state SUS_TYP
//                 names; the datasheet's encoding is 000 = soft off (S5), 001 = suspend to RAM,
//                 010 = POSCL, 011 = POSCCL, 100 = POS, 101 = working (clock control). Soft off
//                 calls `power_off`; any other type "sleeps" and wakes at once: WAK_STS is set
//                 and nothing else happens (there is no suspend to emulate yet).
//     0x08 PMTMR: the 24-bit ACPI PM timer at 3.579545 MHz (bits 31:24 read 0), computed from
//                 the Clock's virtual nanoseconds (no host time, no ticking). TMROF_STS is set
//                 each time bit 23 of the count toggles. The status is brought up to date
//                 lazily whenever it is read; a Clock timer is armed at the next toggle only
//                 while TMROF_EN is set, so the SCI comes on time.
//     0x0C-0x3F (GPSTS/GPEN, PCNTRL, GLBSTS/GLBEN/GLBCTL, DEVSTS/DEVCTL, GPIREG/GPOREG): the SMI
//                 and legacy power-management machinery; not emulated, reads 0, writes dropped.
// - GPE0 as QEMU's PIIX4 exposes it, a fixed block at 0xAFE0, 4 bytes: two status bytes
//   (write-1-to-clear) then two enable bytes (read/write). There are no general-purpose event
//   sources yet, so the status always reads 0.
// - SCI (level, IRQ 9): asserted while SCI_EN is set and an enabled event is pending, i.e.
//   (PM1_STS & PM1_EN) != 0 or (GPE0_STS & GPE0_EN) != 0. With SCI_EN clear the PIIX4 would
//   route those events to SMI, which does not exist here, so they stay pending silently.
// - press_power_button() sets PWRBTN_STS (an SCI when PWRBTN_EN and SCI_EN are set), for the
//   frontend's "power button" later.
// - Reset: pci_reset() (called by PciBus::reset) returns the configuration space and all PM
//   registers to their power-on values (PMBA 1, PMIOSE 0, SCI_EN 0, statuses 0), unmaps the PM
//   block and lowers the SCI; reset() is the same for callers without a bus. The PM timer is a
//   function of virtual time and keeps counting.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "devices/clock.h"
#include "devices/io_bus.h"
#include "devices/irq.h"
#include "devices/pci.h"

namespace vx86::devices {

// Configuration registers.
inline constexpr uint8_t kPiix4Pmba = 0x40, kPiix4Devactb = 0x58, kPiix4Pmregmisc = 0x80,
                         kPiix4Smbba = 0x90, kPiix4Smbhstcfg = 0xD2;
// PM I/O block offsets and bits.
inline constexpr uint16_t kPiix4PmSize = 64;
inline constexpr uint8_t kPmSts = 0x00, kPmEn = 0x02, kPmCntrl = 0x04, kPmTmr = 0x08;
inline constexpr uint16_t kPmTmrSts = 1u << 0, kPmBmSts = 1u << 4, kPmGblSts = 1u << 5,
                          kPmPwrbtnSts = 1u << 8, kPmRtcSts = 1u << 10,
                          kPmPwrbtnOrSts = 1u << 11, kPmWakSts = 1u << 15;
inline constexpr uint16_t kPmTmrEn = 1u << 0, kPmGblEn = 1u << 5, kPmPwrbtnEn = 1u << 8,
                          kPmRtcEn = 1u << 10;
inline constexpr uint16_t kPmSciEn = 1u << 0, kPmBrldEnBm = 1u << 1, kPmGblRls = 1u << 2,
                          kPmSlpTypShift = 10, kPmSlpTypMask = 7u << 10, kPmSlpEn = 1u << 13;
// SUS_TYP values (datasheet PMCNTRL): the DSDT's \_S5 must name kPiix4SlpTypSoftOff.
inline constexpr uint8_t kPiix4SlpTypSoftOff = 0, kPiix4SlpTypStr = 1;
inline constexpr uint32_t kPmTimerHz = 3'579'545;
// Fixed ports.
inline constexpr uint16_t kApmCntPort = 0xB2, kApmStsPort = 0xB3;
inline constexpr uint8_t kAcpiEnableCmd = 0xF1, kAcpiDisableCmd = 0xF0;
inline constexpr uint16_t kPiix4Gpe0Base = 0xAFE0, kPiix4Gpe0Size = 4;
inline constexpr unsigned kPiix4SciIrq = 9;

class Piix4Pm final : public PciDevice, public IoDevice {
public:
    // `io` is where the PM block, 0xB2/0xB3 and GPE0 live; `sci` is ISA IRQ 9 on the PIC.
    Piix4Pm(IoBus& io, Clock& clock, IrqLine sci);

    // Claims 0xB2-0xB3 and GPE0 (0xAFE0-0xAFE3). The PM block follows PMBA/PMREGMISC.
    void attach();
    // Power-on state (see the essay); the same as pci_reset().
    void reset() { pci_reset(); }
    void pci_reset() override;
    void config_write(uint8_t off, unsigned size, uint32_t value) override;

    // Called when the guest enters S5 (SUS_EN with SUS_TYP = soft off).
    std::function<void()> power_off;
    // The power button was pressed (sets PWRBTN_STS).
    void press_power_button();

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

    // Where the PM block is decoded now (0: not decoded).
    uint16_t pm_base() const { return mapped_base_; }
    bool sci_enabled() const { return pm1_cnt_ & kPmSciEn; }
    bool sci_level() const { return sci_level_; }
    // The 24-bit PM timer count now.
    uint32_t pm_timer() const;

private:
    uint64_t ticks() const;  // PM timer ticks since virtual time 0 (not truncated)
    void sync_timer_status();
    void arm_timer();
    void on_timer();
    void remap_pm();
    void update_sci();
    void reset_pm_registers();
    // Byte `off` of the PM block; `tmr`: the PM timer as this access samples it (once per
    // access, taken at its first PMTMR byte).
    uint8_t pm_read8(unsigned off, std::optional<uint32_t>& tmr);
    void pm_write8(unsigned off, uint8_t v);
    void sleep(unsigned slp_typ);

    IoBus& io_;
    Clock& clock_;
    IrqLine sci_;
    TimerId timer_;
    uint16_t mapped_base_ = 0;
    uint16_t pm1_sts_ = 0;
    uint16_t pm1_en_ = 0;
    uint16_t pm1_cnt_ = 0;           // SCI_EN, BRLD_EN_BM and SUS_TYP (the stored bits)
    uint64_t tmr_period_seen_ = 0;   // ticks >> 23 when TMROF_STS was last brought up to date
    uint16_t gpe0_sts_ = 0;
    uint16_t gpe0_en_ = 0;
    uint8_t apmc_ = 0;
    uint8_t apms_ = 0;
    bool sci_level_ = false;
};

}  // namespace vx86::devices

// ACPI tables for the vx86 PC (i440FX + PIIX3 + PIIX4 PM at 00:01.3, legacy PIC only), in two
// forms: QEMU's fw_cfg "BIOS linker/loader" files for SeaBIOS, and the same tables placed at a
// fixed physical address for the direct-boot path that has no BIOS.
//
// Design decisions:
// - ACPI 1.0-level tables, as small and truthful as the hardware: RSDP revision 0 (20 bytes,
//   RSDT only), RSDT, FADT revision 1 (116 bytes), FACS and a DSDT. No MADT (there is no local
//   APIC or IO-APIC: the OS stays in PIC mode), no HPET, no SSDT. OEM ID "VX86  ", OEM table ID
//   "VX86PC  ", creator "VX86". Every table carries a correct checksum.
// - One builder lays the tables out for a base address: "etc/acpi/tables" is FACS (offset 0,
//   64 bytes, so the 64-byte alignment ACPI requires of it is the allocation's), DSDT, FADT,
//   RSDT, each 8-byte aligned. The fw_cfg form is the layout at base 0, so every pointer holds
//   its target's offset inside its file, and the loader's ADD_POINTER commands add where
//   SeaBIOS put the file; ADD_CHECKSUM commands (issued after all pointers) recompute the
//   checksums that relocation changed. place_acpi() is the layout at the caller's address.
//   Applying the loader at address A therefore gives byte for byte what place_acpi(A) gives
//   (the tests check that with their own loader interpreter).
// - Linker/loader format (QEMU hw/acpi/bios-linker-loader.c, SeaBIOS src/fw/romfile_loader.c):
//   128-byte little-endian entries, u32 command then a union: ALLOCATE (1) {char file[56];
//   u32 align; u8 zone: 1 = high memory, 2 = F segment}, ADD_POINTER (2) {char dest[56];
//   char src[56]; u32 offset; u8 size}, ADD_CHECKSUM (3) {char file[56]; u32 offset; u32 start;
//   u32 length}. The RSDP is allocated in the F segment with 16-byte alignment (where the OS
//   scans for "RSD PTR "), the tables in high memory with 64-byte alignment.
// - FADT (rev 1): SCI_INT 9, SMI_CMD 0xB2 with ACPI_ENABLE 0xF1 / ACPI_DISABLE 0xF0 (the PIIX4
//   model turns those into SCI_EN), PM1a_EVT_BLK = pm_base (4 bytes), PM1a_CNT_BLK = pm_base+4
//   (2), PM_TMR_BLK = pm_base+8 (4, 24-bit: TMR_VAL_EXT clear), GPE0_BLK 0xAFE0 (4), no C2/C3
//   (latencies above the ACPI limits), CENTURY = CMOS 0x32, INT_MODEL 0 (dual 8259), flags
//   WBINVD | PROC_C1 | SLP_BUTTON (no fixed sleep button; the power button is the fixed one).
//   IAPC_BOOT_ARCH is reserved in a revision-1 FADT, so OSes assume an 8042; the DSDT names it.
//   No RESET_REG (revision 1 has none): Linux falls back to the keyboard controller and 0xCF9.
// - DSDT (revision 1: 32-bit integers), written with a small AML encoder of our own:
//     \_S5_  Package {SLP_TYP, SLP_TYP, 0, 0} with the PIIX4's soft-off SUS_TYP (000).
//     \_SB_.PCI0  PNP0A03, _UID 0, _BBN 0 (no _ADR: a device has a _HID or an _ADR, not
//         both); _CRS: bus 0-0xFF, I/O 0xCF8/8 (consumed), I/O windows 0x0000-0x0CF7 and
//         0x0D00-0xFFFF, memory 0xA0000-0xBFFFF (VGA) and RAM top to 0xFEBFFFFF (the PCI
//         hole below the BIOS/APIC area); _PRT: slots 1-31, pins A-D, static GSIs (source
//         0): slot s pin p (0 = INTA#) -> pirq_irq[(s + p - 1) & 3], the PIIX3's PIRQ
//         rotation (devices/piix3.h: device 1 INTA# -> PIRQA). The IRQs must be the ones
//         the PIIX3's PIRQRC registers are programmed with (SeaBIOS: 10, 10, 11, 11).
//     \_SB_.PCI0.ISA_ (_ADR 0x00010000) with the legacy devices and their real resources:
//         PNP0303 keyboard (0x60, 0x64, IRQ 1), PNP0F13 PS/2 mouse (IRQ 12), PNP0B00 RTC (0x70/2,
//         IRQ 8), PNP0501 COM1 (0x3F8/8, IRQ 4) and COM2 (0x2F8/8, IRQ 3), PNP0700 floppy
//         (0x3F0/6, 0x3F7, IRQ 6, DMA 2), PNP0000 PIC (0x20/2, 0xA0/2, 0x4D0/2 ELCR, IRQ 2),
//         PNP0100 PIT (0x40/4, IRQ 0), PNP0800 speaker (0x61), PNP0200 DMA controller (0x00/16,
//         the page registers it decodes, 0xC0/32, DMA 4), PNP0C04 FPU (0xF0-0xFF, the
//         range PCs reserve for the coprocessor; IRQ 13).
//   Only Name/Scope/Device/Package/Buffer/integer/string objects are used, no methods, so
//   SeaBIOS's DSDT scanner (which finds devices by a DWord-encoded EisaId _HID) walks it too.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "devices/piix4_pm.h"

namespace vx86::devices {

inline constexpr const char* kAcpiRsdpFile = "etc/acpi/rsdp";
inline constexpr const char* kAcpiTablesFile = "etc/acpi/tables";
inline constexpr const char* kAcpiLoaderFile = "etc/table-loader";

// Linker/loader commands and zones.
inline constexpr uint32_t kLoaderAllocate = 1, kLoaderAddPointer = 2, kLoaderAddChecksum = 3;
inline constexpr uint8_t kLoaderZoneHigh = 1, kLoaderZoneFseg = 2;
inline constexpr size_t kLoaderEntrySize = 128, kLoaderFileNameSize = 56;
// place_acpi()'s placement rules.
inline constexpr uint32_t kAcpiTablesAlign = 64, kAcpiRsdpAlign = 16;

struct AcpiConfig {
    uint32_t ram_bytes = 0;  // RAM below 4 GiB: the PCI memory window starts here
    uint16_t pm_base = 0x600;  // where the firmware puts the PIIX4 PM block (PMBA)
    uint16_t gpe0_base = kPiix4Gpe0Base;
    uint8_t sci_irq = kPiix4SciIrq;
    uint16_t smi_cmd = kApmCntPort;
    uint8_t acpi_enable = kAcpiEnableCmd, acpi_disable = kAcpiDisableCmd;
    uint8_t s5_slp_typ = kPiix4SlpTypSoftOff;
    uint8_t century_cmos = 0x32;
    std::array<uint8_t, 4> pirq_irq = {10, 10, 11, 11};  // PIRQA..D as the PIIX3 routes them
};

struct AcpiBlobs {
    std::vector<uint8_t> rsdp;    // "etc/acpi/rsdp"
    std::vector<uint8_t> tables;  // "etc/acpi/tables"
    std::vector<uint8_t> loader;  // "etc/table-loader"
};

// The three fw_cfg files SeaBIOS installs (add them with FwCfg::add_file under the k*File names).
AcpiBlobs build_acpi(const AcpiConfig& cfg);

// The same tables for a BIOS-less boot: `tables_out` is to be copied to physical `tables_addr`
// (64-byte aligned, in RAM the e820 map reports as ACPI type 3), `rsdp_out` (20 bytes) to a
// 16-byte aligned address in 0xE0000-0xFFFFF. The RSDP points at tables_addr + RSDT offset.
void place_acpi(const AcpiConfig& cfg, uint32_t tables_addr, std::vector<uint8_t>& tables_out,
                std::vector<uint8_t>& rsdp_out);

// The DSDT's AML body alone (without the table header), for tests and dumps.
std::vector<uint8_t> build_dsdt_aml(const AcpiConfig& cfg);

}  // namespace vx86::devices

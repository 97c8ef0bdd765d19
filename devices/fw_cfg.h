// FwCfg: QEMU's firmware configuration device (fw_cfg) as an x86 `pc` machine has it, and the
// items SeaBIOS needs (fill_pc_fw_cfg).
//
// Design decisions (QEMU docs/specs/fw_cfg.rst; SeaBIOS src/fw/paravirt.c is the consumer):
// - Ports: 0x510 is the 16-bit selector (write only), 0x511 the 8-bit data port, 0x514-0x51B
//   the 64-bit big-endian DMA address register. Selecting an item resets its offset; each data
//   read returns the next byte, and 0 past the end (or for an item that does not exist). Data
//   port writes are ignored (QEMU >= 2.4). Selector bit 14 (the old write flag) is ignored;
//   bit 15 picks the architecture-specific items (0x8000-).
// - DMA: writing the high dword at 0x514 stores it, writing the low dword at 0x518 starts the
//   transfer and clears the register again. Each dword is the big-endian half of the address,
//   so the value an `outl` carries is byte-swapped (SeaBIOS does outl(cpu_to_be32(addr), 0x518)).
//   The FWCfgDmaAccess {be32 control; be32 length; be64 address} is read from guest RAM;
//   control bit 3 selects the item in bits 31:16, then bit 1 reads `length` bytes into
//   `address` (zeros past the end), else bit 4 writes them (only into a file added as
//   writable, and only inside its current size: anything else is refused), else bit 2 skips.
//   The control field is then written back as 0 (done) or 1 (error: a refused write or a
//   guest address outside RAM). A descriptor that is not in RAM is ignored: there is nowhere
//   to report the error. Reading the DMA register returns "QEMU CFG".
// - Everything is synchronous: a transfer is complete when the triggering OUT returns.
// - Guest memory only through PhysMemory::copy_to/copy_from (bounds-checked); long transfers
//   go in chunks, so a guest-chosen length never makes the host allocate gigabytes.
// - Items: numeric keys hold byte blobs (add_bytes and the little-endian add_u16/32/64 helpers).
//   Files (add_file) get the directory at key 0x0019 (be32 count, then 64-byte entries
//   {be32 size; be16 select; be16 reserved; char name[56]}) sorted by name, with selectors
//   0x0020 + their index in that order (QEMU's layout); a selector therefore changes when a
//   file sorting before it is added, so look it up with file_selector() after adding all.
// - Signature (0x0000, "QEMU") and ID (0x0001, le32 3: traditional interface + DMA) are set by
//   the constructor. The machine sets the rest through the same API (RAM size, CPUs, the
//   kernel/initrd/cmdline keys 0x0007-0x0018 for direct Linux boot, ...).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "devices/io_bus.h"
#include "mmu/memory.h"

namespace vx86::devices {

inline constexpr uint16_t kFwCfgPortSelector = 0x510, kFwCfgPortData = 0x511, kFwCfgPortDma = 0x514;

// Item keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h names).
enum FwCfgKey : uint16_t {
    kFwCfgSignature = 0x00,
    kFwCfgId = 0x01,
    kFwCfgUuid = 0x02,
    kFwCfgRamSize = 0x03,
    kFwCfgNoGraphic = 0x04,
    kFwCfgNbCpus = 0x05,
    kFwCfgMachineId = 0x06,
    kFwCfgKernelAddr = 0x07,
    kFwCfgKernelSize = 0x08,
    kFwCfgKernelCmdline = 0x09,
    kFwCfgInitrdAddr = 0x0A,
    kFwCfgInitrdSize = 0x0B,
    kFwCfgBootDevice = 0x0C,
    kFwCfgNuma = 0x0D,
    kFwCfgBootMenu = 0x0E,
    kFwCfgMaxCpus = 0x0F,
    kFwCfgKernelEntry = 0x10,
    kFwCfgKernelData = 0x11,
    kFwCfgInitrdData = 0x12,
    kFwCfgCmdlineAddr = 0x13,
    kFwCfgCmdlineSize = 0x14,
    kFwCfgCmdlineData = 0x15,
    kFwCfgSetupAddr = 0x16,
    kFwCfgSetupSize = 0x17,
    kFwCfgSetupData = 0x18,
    kFwCfgFileDir = 0x19,
    kFwCfgFileFirst = 0x20,
};
inline constexpr uint32_t kFwCfgDmaError = 0x01, kFwCfgDmaRead = 0x02, kFwCfgDmaSkip = 0x04,
                          kFwCfgDmaSelect = 0x08, kFwCfgDmaWrite = 0x10;
inline constexpr size_t kFwCfgMaxName = 56;  // including the NUL

class FwCfg final : public IoDevice {
public:
    explicit FwCfg(mmu::PhysMemory& mem);

    // Claims 0x510-0x511 and 0x514-0x51B.
    void attach(IoBus& bus);
    // Machine reset: selects the signature, clears the DMA address register. Items stay.
    void reset();

    void add_bytes(uint16_t key, std::vector<uint8_t> data);
    void add_u16(uint16_t key, uint16_t v);
    void add_u32(uint16_t key, uint32_t v);
    void add_u64(uint16_t key, uint64_t v);
    // Adds a file (or replaces the contents of one with that name). Names longer than 55 bytes
    // are cut. A writable file accepts DMA writes within its size.
    void add_file(std::string name, std::vector<uint8_t> data, bool writable = false);
    // The selector of a file, or 0 when there is no such file.
    uint16_t file_selector(std::string_view name) const;
    const std::vector<uint8_t>* file_data(std::string_view name) const;

    uint32_t io_read(uint16_t port, unsigned size) override;
    void io_write(uint16_t port, unsigned size, uint32_t value) override;

private:
    struct File {
        std::string name;
        std::vector<uint8_t> data;
        bool writable = false;
    };
    // The item behind `key` (nullptr when none); `writable` says whether DMA may write it.
    std::vector<uint8_t>* item(uint16_t key, bool* writable = nullptr);
    void select(uint16_t key);
    uint8_t read_byte();
    void dma(uint64_t desc_addr);
    void rebuild_directory();

    mmu::PhysMemory& mem_;
    std::map<uint16_t, std::vector<uint8_t>> items_;
    std::vector<File> files_;  // sorted by name; selector = kFwCfgFileFirst + index
    uint16_t selector_ = 0;
    uint64_t offset_ = 0;
    uint32_t dma_high_ = 0;
};

// What SeaBIOS needs to boot a QEMU-like `pc` machine.
struct PcFwCfg {
    uint64_t ram_bytes = 0;  // all RAM, below 4 GiB
    uint16_t cpus = 1;
    uint16_t max_cpus = 1;
    // QEMU -boot letters in priority order: a = floppy A, c = first hard disk, d = CD-ROM.
    // Other letters are ignored. Written as the "bootorder" file of OpenFirmware paths.
    std::string boot_order = "cad";
    // A "genroms/..." fw_cfg file that SeaBIOS runs as an option ROM and boots before the
    // drives (the linuxboot ROM of direct kernel boot); empty: none.
    std::string boot_rom;
    // Where the disks sit on the PIIX3 IDE function (00:01.1): channel 0/1, master 0/slave 1.
    unsigned hd_channel = 0, hd_unit = 0;
    unsigned cd_channel = 1, cd_unit = 0;
    bool boot_menu = false;
    uint32_t boot_fail_wait_ms = 0xFFFFFFFFu;  // after a failed boot: reboot after ms; ~0 = never
    std::array<uint8_t, 16> uuid{};
    std::string smbios_manufacturer = "vx86";
    std::string smbios_product = "vx86 PC (i440FX + PIIX3)";
    std::string smbios_version = "1.0";
    uint32_t cpuid_signature = 0;  // CPUID.1:EAX, for the SMBIOS processor ID
    uint32_t cpuid_features = 0;   // CPUID.1:EDX
    uint16_t cpu_mhz = 0;          // 0: unknown
};

// The OpenFirmware device paths SeaBIOS matches (src/boot.c) for the pc machine's floppy and
// PIIX3 IDE drives.
std::string pc_boot_path_floppy(unsigned unit);
std::string pc_boot_path_ide(unsigned channel, unsigned unit);
// The SMBIOS 2.4 structure table (types 1, 3, 4, 16, 17, 19, 32, 127) and its 31-byte "_SM_"
// entry point, as the "etc/smbios/smbios-tables" / "-anchor" files carry them. No type 0:
// SeaBIOS adds its own BIOS information (its name, version and date) when the tables lack one.
void build_pc_smbios(const PcFwCfg& cfg, std::vector<uint8_t>& tables,
                     std::vector<uint8_t>& anchor);
// The byte that makes the 8-bit sum of `p[0..n)` zero (with the checksum byte itself still 0
// among them): the checksum of option ROMs, SMBIOS entry points and ACPI tables.
uint8_t checksum_fix(const uint8_t* p, size_t n);
// Points an entry point from build_pc_smbios at its structure table at `addr` and fixes its two
// checksums: what a BIOS does when it installs the tables.
void set_smbios_table_address(std::vector<uint8_t>& anchor, uint32_t addr);
// Sets RAM size, CPU counts, NUMA (none), boot menu, "etc/e820", "bootorder",
// "etc/boot-fail-wait" and the SMBIOS files.
void fill_pc_fw_cfg(FwCfg& fw, const PcFwCfg& cfg);

}  // namespace vx86::devices

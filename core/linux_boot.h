// Direct Linux boot (-kernel/-initrd/-append): the x86 boot protocol
// (Documentation/arch/x86/boot.rst), the two ways vx86 follows it.
//
// Design decisions:
// - One parser (parse_bzimage) reads and checks the kernel's setup header, and one layout
//   (plan_linux_load) decides where setup, kernel, command line and initrd go, so the two paths
//   below differ only in who copies the bytes and who jumps.
// - Through the firmware (the default, as QEMU does it): the machine puts the pieces into the
//   fw_cfg kernel keys (0x07-0x18) with the setup header already filled in, and adds
//   roms/linuxboot.bin as "genroms/linuxboot.bin", first in the boot order. SeaBIOS runs it as
//   a boot device; it copies the pieces with fw_cfg DMA and jumps to the real-mode setup code,
//   which asks the BIOS for the memory map (INT 15h E820) like any boot loader's kernel.
// - The fast path (--fast-boot) skips the BIOS: the machine copies the pieces into RAM itself,
//   writes the "zero page" (struct boot_params) with an E820 map, programs what firmware would
//   (PIIX3 PIRQ routing, the PIIX4 PM base, ACPI tables in high RAM with the RSDP also in the
//   EBDA, where every kernel looks) and starts the CPU in the 32-bit protocol's state: flat
//   4 GiB segments 0x10/0x18 from a GDT in RAM, paging off, interrupts off, ESI = zero page,
//   EIP = code32_start. No video mode is set (no VGA BIOS ran), so the zero page says "no
//   VGA console": Linux then uses the serial console and the dummy console.
// - Memory layout (both paths, protocol >= 2.02 as every bzImage since 2.4 is): setup at
//   0x10000, command line at 0x20000, zero page at 0x10000 (the fast path's copy), protected-mode
//   kernel at 1 MiB, initrd page-aligned at the top of RAM below initrd_addr_max and below the
//   last 128 KiB, which stays free for the ACPI tables (SeaBIOS puts its own there too).
// - A malformed or truncated kernel, a kernel too large for the RAM, a too-old boot protocol
//   (< 2.02) or a command line longer than the kernel takes are errors with one-line messages
//   (std::runtime_error), never a guest that crashes later.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vx86::core {

struct BzImage {
    std::vector<uint8_t> setup;   // real-mode part: (setup_sects + 1) * 512 bytes
    std::vector<uint8_t> kernel;  // protected-mode part, loaded at 1 MiB
    uint16_t protocol = 0;        // boot protocol version, e.g. 0x20f
    uint32_t code32_start = 0;
    uint32_t initrd_addr_max = 0;
    uint32_t cmdline_size = 0;    // longest command line the kernel takes (without the NUL)
    uint32_t init_size = 0;       // memory the kernel needs from 1 MiB while it decompresses
};

// Parses a bzImage; throws std::runtime_error naming `what` on any inconsistency.
BzImage parse_bzimage(std::vector<uint8_t> image, const std::string& what);

struct LinuxLoad {
    uint32_t setup_addr = 0x10000;
    uint32_t cmdline_addr = 0x20000;
    uint32_t kernel_addr = 0x100000;
    uint32_t initrd_addr = 0;
    uint32_t initrd_size = 0;
    std::vector<uint8_t> setup;  // the setup code with its header filled in for this load
    std::vector<uint8_t> cmdline;  // NUL-terminated
};

inline constexpr uint32_t kAcpiReserve = 128 * 1024;  // top of RAM kept for ACPI tables

// Places the pieces in `ram_bytes` of RAM and fills the setup header (loader type, heap,
// command line and initrd fields). Throws when they do not fit.
LinuxLoad plan_linux_load(const BzImage& k, uint32_t ram_bytes, const std::string& cmdline,
                          uint32_t initrd_size);

// The zero page of the 32-bit protocol for the fast path: the setup header from `load`, the E820
// map of a PC with `ram_bytes` of RAM (top kAcpiReserve reserved for ACPI), extended memory
// sizes, and the RSDP address.
std::vector<uint8_t> build_zero_page(const LinuxLoad& load, uint32_t ram_bytes, uint32_t rsdp_addr);

}  // namespace vx86::core

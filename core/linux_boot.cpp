#include "core/linux_boot.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace vx86::core {

namespace {

// Offsets in the image's first sector and in the zero page (Documentation/arch/x86/boot.rst,
// arch/x86/include/uapi/asm/bootparam.h).
constexpr size_t kSetupSects = 0x1F1, kBootFlag = 0x1FE, kHeaderMagic = 0x202,
                 kVersion = 0x206, kTypeOfLoader = 0x210, kLoadFlags = 0x211,
                 kCode32Start = 0x214, kRamdiskImage = 0x218, kRamdiskSize = 0x21C,
                 kHeapEndPtr = 0x224, kCmdLinePtr = 0x228, kInitrdAddrMax = 0x22C,
                 kCmdlineSize = 0x238, kInitSize = 0x260;
constexpr size_t kZpExtMemK = 0x002, kZpAcpiRsdp = 0x070, kZpAltMemK = 0x1E0,
                 kZpE820Entries = 0x1E8, kZpE820Table = 0x2D0, kZpSize = 4096;
constexpr uint8_t kLoadedHigh = 0x01, kCanUseHeap = 0x80;
constexpr uint8_t kLoaderUndefined = 0xFF;  // "no assigned boot loader ID"
constexpr uint32_t kOneMiB = 0x100000;

uint16_t get16(const std::vector<uint8_t>& b, size_t o) { return uint16_t(b[o] | b[o + 1] << 8); }
uint32_t get32(const std::vector<uint8_t>& b, size_t o) {
    return uint32_t(get16(b, o)) | uint32_t(get16(b, o + 2)) << 16;
}
void put16(std::vector<uint8_t>& b, size_t o, uint16_t v) {
    b[o] = uint8_t(v);
    b[o + 1] = uint8_t(v >> 8);
}
void put32(std::vector<uint8_t>& b, size_t o, uint32_t v) {
    put16(b, o, uint16_t(v));
    put16(b, o + 2, uint16_t(v >> 16));
}
void put64(std::vector<uint8_t>& b, size_t o, uint64_t v) {
    put32(b, o, uint32_t(v));
    put32(b, o + 4, uint32_t(v >> 32));
}

std::string hex(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", v);
    return buf;
}

}  // namespace

BzImage parse_bzimage(std::vector<uint8_t> image, const std::string& what) {
    auto bad = [&](const std::string& why) {
        return std::runtime_error("kernel '" + what + "' " + why);
    };
    if (image.size() < 1024 || get16(image, kBootFlag) != 0xAA55 ||
        std::memcmp(&image[kHeaderMagic], "HdrS", 4) != 0)
        throw bad("is not a Linux x86 bzImage (no boot sector flag or \"HdrS\" header)");
    BzImage k;
    k.protocol = get16(image, kVersion);
    if (k.protocol < 0x202)
        throw bad("uses boot protocol " + hex(k.protocol) + "; vx86 needs 2.02 or later");
    if (!(image[kLoadFlags] & kLoadedHigh))
        throw bad("is a zImage (loaded low); vx86 boots bzImages only");
    unsigned sects = image[kSetupSects] ? image[kSetupSects] : 4;
    size_t setup_bytes = size_t(sects + 1) * 512;
    if (setup_bytes >= image.size() || setup_bytes > 0x8000)
        throw bad("has an impossible setup size (" + std::to_string(sects) + " sectors)");
    k.code32_start = get32(image, kCode32Start);
    k.initrd_addr_max = k.protocol >= 0x203 ? get32(image, kInitrdAddrMax) : 0x37FFFFFF;
    k.cmdline_size = k.protocol >= 0x206 ? get32(image, kCmdlineSize) : 255;
    k.init_size = k.protocol >= 0x20A ? get32(image, kInitSize) : 0;
    k.setup.assign(image.begin(), image.begin() + long(setup_bytes));
    k.kernel.assign(image.begin() + long(setup_bytes), image.end());
    return k;
}

LinuxLoad plan_linux_load(const BzImage& k, uint32_t ram_bytes, const std::string& cmdline,
                          uint32_t initrd_size) {
    LinuxLoad l;
    if (cmdline.size() > k.cmdline_size)
        throw std::runtime_error("the kernel command line is " + std::to_string(cmdline.size()) +
                                 " bytes; this kernel takes at most " +
                                 std::to_string(k.cmdline_size));
    const uint32_t usable_top = ram_bytes - kAcpiReserve;
    const uint64_t kernel_end =
        uint64_t(l.kernel_addr) + std::max<uint64_t>(k.kernel.size(), k.init_size);
    if (kernel_end > usable_top)
        throw std::runtime_error("the kernel needs " + std::to_string((kernel_end >> 20) + 1) +
                                 " MiB of RAM to decompress; give the guest more with -m");
    if (initrd_size) {
        uint32_t max = std::min(k.initrd_addr_max, usable_top - 1);
        if (initrd_size > max || ((max + 1 - initrd_size) & ~4095u) < kernel_end)
            throw std::runtime_error("the initrd (" + std::to_string(initrd_size >> 10) +
                                     " KiB) does not fit in RAM above the kernel; give the "
                                     "guest more with -m");
        l.initrd_addr = (max + 1 - initrd_size) & ~4095u;
        l.initrd_size = initrd_size;
    }
    l.cmdline.assign(cmdline.begin(), cmdline.end());
    l.cmdline.push_back(0);
    l.setup = k.setup;
    std::vector<uint8_t>& h = l.setup;
    h[kTypeOfLoader] = kLoaderUndefined;
    h[kLoadFlags] |= kCanUseHeap;
    put16(h, kHeapEndPtr, uint16_t(l.cmdline_addr - l.setup_addr - 0x200));
    put32(h, kCmdLinePtr, l.cmdline_addr);
    put32(h, kRamdiskImage, l.initrd_addr);
    put32(h, kRamdiskSize, l.initrd_size);
    return l;
}

std::vector<uint8_t> build_zero_page(const LinuxLoad& load, uint32_t ram_bytes,
                                     uint32_t rsdp_addr) {
    std::vector<uint8_t> zp(kZpSize, 0);
    // The setup header: from 0x1F1 to its end, which the jump at 0x200 gives.
    const std::vector<uint8_t>& s = load.setup;
    size_t end = std::min<size_t>(0x202 + s[0x201], kZpE820Table);
    std::copy(s.begin() + long(kSetupSects), s.begin() + long(end), zp.begin() + long(kSetupSects));
    const uint32_t ext_k = (ram_bytes - kOneMiB) / 1024;
    put16(zp, kZpExtMemK, uint16_t(std::min<uint32_t>(ext_k, 0xFC00)));
    put32(zp, kZpAltMemK, ext_k);
    put64(zp, kZpAcpiRsdp, rsdp_addr);
    struct Range { uint64_t base, size; uint32_t type; };
    const Range map[] = {
        {0, 0x9FC00, 1},                       // conventional memory
        {0x9FC00, 0x400, 2},                   // EBDA (the RSDP)
        {0xF0000, 0x10000, 2},                 // system BIOS area
        {kOneMiB, ram_bytes - kAcpiReserve - kOneMiB, 1},
        {ram_bytes - kAcpiReserve, kAcpiReserve, 2},  // ACPI tables
        {0xFFFC0000, 0x40000, 2},              // BIOS flash
    };
    size_t n = 0;
    for (const Range& r : map) {
        size_t o = kZpE820Table + n++ * 20;
        put64(zp, o, r.base);
        put64(zp, o + 8, r.size);
        put32(zp, o + 16, r.type);
    }
    zp[kZpE820Entries] = uint8_t(n);
    return zp;
}

}  // namespace vx86::core

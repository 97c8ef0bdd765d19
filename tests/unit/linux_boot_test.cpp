// Direct Linux boot: the bzImage parser, the load layout and the zero page, checked against the
// x86 boot protocol (Documentation/arch/x86/boot.rst) on synthetic images.
#include <doctest/doctest.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/linux_boot.h"

using namespace vx86::core;

namespace {

uint32_t le32(const std::vector<uint8_t>& b, size_t o) {
    return uint32_t(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | uint32_t(b[o + 3]) << 24);
}
void put32(std::vector<uint8_t>& b, size_t o, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[o + i] = uint8_t(v >> (8 * i));
}

// A bzImage with `sects` setup sectors, protocol `version` and `payload` bytes of kernel.
std::vector<uint8_t> image(uint8_t sects, uint16_t version, size_t payload) {
    const size_t setup = size_t((sects ? sects : 4) + 1) * 512;  // 0 sectors means 4
    std::vector<uint8_t> b(setup + payload, 0xCC);
    std::memset(b.data(), 0, 1024);
    b[0x1F1] = sects;
    b[0x1FE] = 0x55;
    b[0x1FF] = 0xAA;
    b[0x200] = 0xEB;
    b[0x201] = 0x66;  // jmp: the header ends at 0x202 + 0x66 = 0x268
    std::memcpy(&b[0x202], "HdrS", 4);
    b[0x206] = uint8_t(version);
    b[0x207] = uint8_t(version >> 8);
    b[0x211] = 0x01;  // LOADED_HIGH
    put32(b, 0x214, 0x100000);
    put32(b, 0x22C, 0x7FFFFFFF);  // initrd_addr_max
    put32(b, 0x238, 2047);        // cmdline_size
    put32(b, 0x260, 0x800000);    // init_size: 8 MiB
    return b;
}

}  // namespace

TEST_CASE("linux boot: the setup and protected-mode parts split at (setup_sects + 1) * 512") {
    BzImage k = parse_bzimage(image(30, 0x20F, 5000), "k");
    CHECK(k.setup.size() == 31 * 512);
    CHECK(k.kernel.size() == 5000);
    CHECK(k.kernel[0] == 0xCC);
    CHECK(k.protocol == 0x20F);
    CHECK(k.cmdline_size == 2047);
    CHECK(k.init_size == 0x800000);
    // setup_sects 0 means 4.
    CHECK(parse_bzimage(image(0, 0x20F, 100), "k").setup.size() == 5 * 512);
}

TEST_CASE("linux boot: malformed images are refused with a reason") {
    CHECK_THROWS_AS(parse_bzimage(std::vector<uint8_t>(100, 0), "k"), std::runtime_error);
    auto no_magic = image(4, 0x20F, 100);
    no_magic[0x202] = 'X';
    CHECK_THROWS_AS(parse_bzimage(no_magic, "k"), std::runtime_error);
    CHECK_THROWS_AS(parse_bzimage(image(4, 0x201, 100), "k"), std::runtime_error);  // too old
    auto low = image(4, 0x20F, 100);
    low[0x211] = 0;  // a zImage
    CHECK_THROWS_AS(parse_bzimage(low, "k"), std::runtime_error);
    auto truncated = image(4, 0x20F, 100);
    truncated.resize(3 * 512);  // setup says 5 sectors
    CHECK_THROWS_AS(parse_bzimage(truncated, "k"), std::runtime_error);
}

TEST_CASE("linux boot: layout and the filled-in setup header") {
    const uint32_t ram = 64u << 20;
    BzImage k = parse_bzimage(image(30, 0x20F, 3u << 20), "k");
    LinuxLoad l = plan_linux_load(k, ram, "console=ttyS0", 1000000);
    CHECK(l.kernel_addr == 0x100000);
    CHECK(l.cmdline == std::vector<uint8_t>({'c', 'o', 'n', 's', 'o', 'l', 'e', '=', 't', 't', 'y',
                                             'S', '0', 0}));
    // The initrd: page aligned, as high as possible below the ACPI reserve.
    CHECK(l.initrd_addr % 4096 == 0);
    CHECK(l.initrd_addr + l.initrd_size <= ram - kAcpiReserve);
    CHECK(l.initrd_addr + l.initrd_size > ram - kAcpiReserve - 4096);
    const auto& h = l.setup;
    CHECK(h[0x210] == 0xFF);                       // type_of_loader: undefined
    CHECK((h[0x211] & 0x80) != 0);                 // CAN_USE_HEAP
    CHECK((h[0x224] | h[0x225] << 8) == 0xFE00);   // heap_end_ptr: up to the command line
    CHECK(le32(h, 0x228) == l.cmdline_addr);
    CHECK(le32(h, 0x218) == l.initrd_addr);
    CHECK(le32(h, 0x21C) == 1000000);

    // Too little RAM for init_size, a command line longer than the kernel takes, an initrd that
    // does not fit above the kernel.
    CHECK_THROWS_AS(plan_linux_load(k, 8u << 20, "", 0), std::runtime_error);
    CHECK_THROWS_AS(plan_linux_load(k, ram, std::string(2048, 'x'), 0), std::runtime_error);
    CHECK_THROWS_AS(plan_linux_load(k, 16u << 20, "", 8u << 20), std::runtime_error);
}

TEST_CASE("linux boot: the zero page carries the header, the E820 map and the RSDP") {
    const uint32_t ram = 64u << 20;
    BzImage k = parse_bzimage(image(30, 0x20F, 1u << 20), "k");
    LinuxLoad l = plan_linux_load(k, ram, "x", 0);
    std::vector<uint8_t> zp = build_zero_page(l, ram, 0x9FC00);
    REQUIRE(zp.size() == 4096);
    CHECK(std::memcmp(&zp[0x202], "HdrS", 4) == 0);
    CHECK(le32(zp, 0x228) == l.cmdline_addr);
    CHECK(zp[0x268] == 0);  // nothing past the header's end (0x202 + jump offset 0x66)
    CHECK(le32(zp, 0x070) == 0x9FC00);                // acpi_rsdp_addr
    CHECK(le32(zp, 0x1E0) == (ram - 0x100000) / 1024);  // alt_mem_k
    const unsigned n = zp[0x1E8];
    REQUIRE(n >= 3);
    uint64_t usable = 0;
    bool covers_kernel = false;
    for (unsigned i = 0; i < n; ++i) {
        size_t o = 0x2D0 + 20 * i;
        uint64_t base = le32(zp, o) | uint64_t(le32(zp, o + 4)) << 32;
        uint64_t size = le32(zp, o + 8) | uint64_t(le32(zp, o + 12)) << 32;
        uint32_t type = le32(zp, o + 16);
        if (type == 1) {
            usable += size;
            CHECK(base + size <= ram - kAcpiReserve);
            if (base <= 0x100000 && base + size >= 0x100000 + (1u << 20)) covers_kernel = true;
            CHECK((base + size <= 0xA0000 || base >= 0x100000));  // no RAM claimed in the hole
        }
    }
    CHECK(covers_kernel);
    CHECK(usable == 0x9FC00 + (ram - kAcpiReserve - 0x100000));
}

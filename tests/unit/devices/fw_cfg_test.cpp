// fw_cfg: the selector/data ports, the file directory, the DMA interface into PhysMemory, and
// the pc machine's items as SeaBIOS reads them (QEMU docs/specs/fw_cfg.rst, SeaBIOS paravirt.c).
#include "devices/fw_cfg.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "devices/io_bus.h"
#include "mmu/memory.h"

using namespace vx86;
using namespace vx86::devices;

namespace {

constexpr uint32_t kRam = 4u << 20;
constexpr uint32_t kDesc = 0x1000, kBuf = 0x2000;

uint32_t bswap(uint32_t v) {
    return (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
}

struct Rig {
    IoBus io;
    mmu::PhysMemory mem{kRam};
    FwCfg fw{mem};
    Rig() { fw.attach(io); }

    std::vector<uint8_t> read_item(uint16_t key, size_t n) {
        io.write(0x510, 2, key);
        std::vector<uint8_t> v;
        for (size_t i = 0; i < n; ++i) v.push_back(uint8_t(io.read(0x511, 1)));
        return v;
    }
    // Writes an FWCfgDmaAccess at kDesc and triggers it the way SeaBIOS does (one outl of the
    // big-endian low half at 0x518); returns the control field afterwards.
    uint32_t dma(uint32_t control, uint32_t length, uint64_t address, uint32_t desc = kDesc) {
        uint8_t d[16];
        for (int i = 0; i < 4; ++i) d[i] = uint8_t(control >> (24 - 8 * i));
        for (int i = 0; i < 4; ++i) d[4 + i] = uint8_t(length >> (24 - 8 * i));
        for (int i = 0; i < 8; ++i) d[8 + i] = uint8_t(address >> (56 - 8 * i));
        mem.copy_to(desc, d, 16);
        io.write(0x518, 4, bswap(desc));
        uint8_t c[4];
        mem.copy_from(desc, c, 4);
        return uint32_t(c[0]) << 24 | uint32_t(c[1]) << 16 | uint32_t(c[2]) << 8 | c[3];
    }
    std::vector<uint8_t> ram(uint32_t addr, size_t n) {
        std::vector<uint8_t> v(n);
        mem.copy_from(addr, v.data(), n);
        return v;
    }
};

uint32_t be32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
uint64_t le(const uint8_t* p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
}
std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("fw_cfg: signature, ID and reads past the end through the ports") {
    Rig r;
    CHECK(r.read_item(kFwCfgSignature, 4) == bytes("QEMU"));
    auto id = r.read_item(kFwCfgId, 4);
    CHECK(le(id.data(), 4) == 3);  // traditional + DMA
    auto sig = r.read_item(kFwCfgSignature, 6);
    CHECK(sig[4] == 0);
    CHECK(sig[5] == 0);
    CHECK(r.read_item(0x1234, 2) == std::vector<uint8_t>{0, 0});  // no such item
    // Selecting again restarts at offset 0; data-port writes are ignored.
    r.io.write(0x510, 2, kFwCfgSignature);
    CHECK(r.io.read(0x511, 1) == 'Q');
    r.io.write(0x511, 1, 'X');
    CHECK(r.io.read(0x511, 1) == 'E');
    r.io.write(0x510, 2, kFwCfgSignature | 0x4000);  // old write flag does not change the item
    CHECK(r.io.read(0x511, 1) == 'Q');
}

TEST_CASE("fw_cfg: the DMA address register reads \"QEMU CFG\"") {
    Rig r;
    uint32_t hi = r.io.read(0x514, 4), lo = r.io.read(0x518, 4);
    char s[9] = {};
    for (int i = 0; i < 4; ++i) s[i] = char(hi >> (8 * i)), s[4 + i] = char(lo >> (8 * i));
    CHECK(std::string(s) == "QEMU CFG");
}

TEST_CASE("fw_cfg: numeric items are little-endian") {
    Rig r;
    r.fw.add_u16(kFwCfgNbCpus, 0x0102);
    r.fw.add_u32(0x8002, 0x01020304);
    r.fw.add_u64(kFwCfgRamSize, 0x0102030405060708ull);
    CHECK(r.read_item(kFwCfgNbCpus, 2) == std::vector<uint8_t>{2, 1});
    CHECK(r.read_item(0x8002, 4) == std::vector<uint8_t>{4, 3, 2, 1});
    CHECK(r.read_item(kFwCfgRamSize, 8) == std::vector<uint8_t>{8, 7, 6, 5, 4, 3, 2, 1});
}

TEST_CASE("fw_cfg: the file directory is sorted by name with selectors from 0x20") {
    Rig r;
    r.fw.add_file("zeta", bytes("zz"));
    r.fw.add_file("etc/e820", bytes("0123456789"));
    r.fw.add_file("bootorder", bytes("/x"));
    auto count = r.read_item(kFwCfgFileDir, 4);
    REQUIRE(be32(count.data()) == 3);
    auto dir = r.read_item(kFwCfgFileDir, 4 + 3 * 64);
    const char* names[] = {"bootorder", "etc/e820", "zeta"};
    uint32_t sizes[] = {2, 10, 2};
    for (int i = 0; i < 3; ++i) {
        const uint8_t* e = dir.data() + 4 + 64 * i;
        CHECK(be32(e) == sizes[i]);
        CHECK((e[4] << 8 | e[5]) == 0x20 + i);
        CHECK(e[6] == 0);
        CHECK(e[7] == 0);
        CHECK(std::string(reinterpret_cast<const char*>(e + 8)) == names[i]);
        CHECK(e[8 + 55] == 0);
    }
    CHECK(r.fw.file_selector("etc/e820") == 0x21);
    CHECK(r.read_item(0x21, 10) == bytes("0123456789"));
    CHECK(r.read_item(0x22, 3) == std::vector<uint8_t>{'z', 'z', 0});
    CHECK(r.fw.file_selector("nope") == 0);
}

TEST_CASE("fw_cfg: DMA select + read copies into guest RAM and completes with control 0") {
    Rig r;
    r.fw.add_file("etc/test", bytes("hello, world"));
    uint16_t sel = r.fw.file_selector("etc/test");
    uint32_t c = r.dma(uint32_t(sel) << 16 | kFwCfgDmaSelect | kFwCfgDmaRead, 5, kBuf);
    CHECK(c == 0);
    CHECK(r.ram(kBuf, 5) == bytes("hello"));
    // The offset carries on from where the transfer stopped; past the end reads zeros.
    std::vector<uint8_t> junk(10, 0xEE);
    r.mem.copy_to(kBuf, junk.data(), junk.size());
    CHECK(r.dma(kFwCfgDmaRead, 10, kBuf) == 0);
    auto got = r.ram(kBuf, 10);
    CHECK(got == std::vector<uint8_t>{',', ' ', 'w', 'o', 'r', 'l', 'd', 0, 0, 0});
    // The port interface sees the same offset.
    r.io.write(0x510, 2, sel);
    CHECK(r.dma(kFwCfgDmaSkip, 7, 0) == 0);
    CHECK(r.io.read(0x511, 1) == 'w');
}

TEST_CASE("fw_cfg: DMA skip, then read, and the 64-bit two-write trigger") {
    Rig r;
    r.fw.add_file("f", bytes("abcdefgh"));
    uint16_t sel = r.fw.file_selector("f");
    CHECK(r.dma(uint32_t(sel) << 16 | kFwCfgDmaSelect | kFwCfgDmaSkip, 3, 0) == 0);
    CHECK(r.dma(kFwCfgDmaRead, 2, kBuf) == 0);
    CHECK(r.ram(kBuf, 2) == bytes("de"));

    // High half first (0 here), then the low half triggers.
    uint8_t d[16] = {};
    d[0] = uint8_t(sel >> 8);
    d[1] = uint8_t(sel);
    d[3] = kFwCfgDmaSelect | kFwCfgDmaRead;
    d[7] = 4;  // length
    d[14] = uint8_t(kBuf >> 8);
    r.mem.copy_to(0x3000, d, 16);
    r.io.write(0x514, 4, 0);
    r.io.write(0x518, 4, bswap(0x3000));
    CHECK(r.ram(kBuf, 4) == bytes("abcd"));
    CHECK(r.ram(0x3000, 4) == std::vector<uint8_t>{0, 0, 0, 0});

    // A nonzero high half: the descriptor is above 4 GiB, nothing happens.
    r.mem.copy_to(0x3000, d, 16);
    r.io.write(0x514, 4, bswap(1));
    r.io.write(0x518, 4, bswap(0x3000));
    CHECK(r.ram(0x3000, 4) == std::vector<uint8_t>{d[0], d[1], d[2], d[3]});
    // ... and the high half was consumed: the next low write alone works.
    r.io.write(0x518, 4, bswap(0x3000));
    CHECK(r.ram(0x3000, 4) == std::vector<uint8_t>{0, 0, 0, 0});
}

TEST_CASE("fw_cfg: a DMA target outside RAM sets the error bit") {
    Rig r;
    r.fw.add_file("f", bytes("abcdefgh"));
    uint16_t sel = r.fw.file_selector("f");
    uint32_t c = r.dma(uint32_t(sel) << 16 | kFwCfgDmaSelect | kFwCfgDmaRead, 8, kRam - 4);
    CHECK(c == kFwCfgDmaError);
    c = r.dma(uint32_t(sel) << 16 | kFwCfgDmaSelect | kFwCfgDmaRead, 8, 0x1'0000'0000ull);
    CHECK(c == kFwCfgDmaError);
    c = r.dma(uint32_t(sel) << 16 | kFwCfgDmaSelect | kFwCfgDmaRead, 0xFFFFFFFFu, kBuf);
    CHECK(c == kFwCfgDmaError);
    // A descriptor outside RAM is ignored (nowhere to report); nothing breaks.
    r.io.write(0x518, 4, bswap(0xFFFFFFF8u));
    CHECK(r.dma(uint32_t(sel) << 16 | kFwCfgDmaSelect | kFwCfgDmaRead, 1, kBuf) == 0);
}

TEST_CASE("fw_cfg: DMA writes only land in writable files, inside their size") {
    Rig r;
    r.fw.add_file("ro", bytes("1234"));
    r.fw.add_file("rw", bytes("abcd"), true);
    r.mem.copy_to(kBuf, "WXYZ", 4);

    uint16_t ro = r.fw.file_selector("ro"), rw = r.fw.file_selector("rw");
    CHECK(r.dma(uint32_t(ro) << 16 | kFwCfgDmaSelect | kFwCfgDmaWrite, 2, kBuf) == kFwCfgDmaError);
    CHECK(*r.fw.file_data("ro") == bytes("1234"));
    CHECK(r.dma(kFwCfgSignature << 16 | kFwCfgDmaSelect | kFwCfgDmaWrite, 1, kBuf) ==
          kFwCfgDmaError);
    CHECK(r.read_item(kFwCfgSignature, 4) == bytes("QEMU"));

    CHECK(r.dma(uint32_t(rw) << 16 | kFwCfgDmaSelect | kFwCfgDmaSkip, 1, 0) == 0);
    CHECK(r.dma(kFwCfgDmaWrite, 2, kBuf) == 0);
    CHECK(*r.fw.file_data("rw") == bytes("aWXd"));
    CHECK(r.dma(kFwCfgDmaWrite, 2, kBuf) == kFwCfgDmaError);  // would run past the end
    CHECK(*r.fw.file_data("rw") == bytes("aWXd"));
}

TEST_CASE("fw_cfg: fill_pc_fw_cfg gives SeaBIOS RAM, CPUs, e820, boot order") {
    Rig r;
    PcFwCfg cfg;
    cfg.ram_bytes = 64u << 20;
    cfg.cpus = 1;
    cfg.max_cpus = 2;
    cfg.boot_order = "dca";
    fill_pc_fw_cfg(r.fw, cfg);

    auto ram = r.read_item(kFwCfgRamSize, 8);
    CHECK(le(ram.data(), 8) == (64u << 20));
    CHECK(le(r.read_item(kFwCfgNbCpus, 2).data(), 2) == 1);
    CHECK(le(r.read_item(kFwCfgMaxCpus, 2).data(), 2) == 2);
    CHECK(le(r.read_item(kFwCfgNuma, 8).data(), 8) == 0);
    CHECK(le(r.read_item(kFwCfgBootMenu, 2).data(), 2) == 0);

    // etc/e820 through DMA, as SeaBIOS reads files.
    uint16_t sel = r.fw.file_selector("etc/e820");
    REQUIRE(sel >= 0x20);
    REQUIRE(r.fw.file_data("etc/e820")->size() == 20);
    CHECK(r.dma(uint32_t(sel) << 16 | kFwCfgDmaSelect | kFwCfgDmaRead, 20, kBuf) == 0);
    auto e = r.ram(kBuf, 20);
    CHECK(le(e.data(), 8) == 0);
    CHECK(le(e.data() + 8, 8) == (64u << 20));
    CHECK(le(e.data() + 16, 4) == 1);  // E820_RAM

    const auto* bo = r.fw.file_data("bootorder");
    REQUIRE(bo != nullptr);
    std::string order(reinterpret_cast<const char*>(bo->data()));
    CHECK(order ==
          "/pci@i0cf8/ide@1,1/drive@1/disk@0\n"
          "/pci@i0cf8/ide@1,1/drive@0/disk@0\n"
          "/pci@i0cf8/isa@1/fdc@03f0/floppy@0");

    const auto* wait = r.fw.file_data("etc/boot-fail-wait");
    REQUIRE(wait != nullptr);
    CHECK(wait->size() == 4);
    CHECK(le(wait->data(), 4) == 0xFFFFFFFFu);
    CHECK(r.fw.file_data("etc/show-boot-menu") == nullptr);
}

TEST_CASE("fw_cfg: SMBIOS anchor and tables are what SeaBIOS accepts") {
    PcFwCfg cfg;
    cfg.ram_bytes = 128u << 20;
    cfg.cpus = 2;
    std::vector<uint8_t> t, a;
    build_pc_smbios(cfg, t, a);

    REQUIRE(a.size() == 0x1F);  // SeaBIOS requires sizeof(struct smbios_entry_point)
    CHECK(std::string(a.begin(), a.begin() + 4) == "_SM_");
    CHECK(a[5] == 0x1F);
    CHECK(std::string(a.begin() + 0x10, a.begin() + 0x15) == "_DMI_");
    uint8_t sum = 0, isum = 0;
    for (size_t i = 0; i < 0x1F; ++i) sum = uint8_t(sum + a[i]);
    for (size_t i = 0x10; i < 0x1F; ++i) isum = uint8_t(isum + a[i]);
    CHECK(sum == 0);
    CHECK(isum == 0);
    CHECK(le(&a[0x16], 2) == t.size());  // structure table length must equal the file size

    // Installed at an address (the --fast-boot path does what the BIOS does): the address is
    // in the entry point and both checksums still hold.
    std::vector<uint8_t> placed = a;
    set_smbios_table_address(placed, 0xF0100);
    CHECK(le(&placed[0x18], 4) == 0xF0100);
    uint8_t psum = 0, pisum = 0;
    for (size_t i = 0; i < 0x1F; ++i) psum = uint8_t(psum + placed[i]);
    for (size_t i = 0x10; i < 0x1F; ++i) pisum = uint8_t(pisum + placed[i]);
    CHECK(psum == 0);
    CHECK(pisum == 0);

    // Walk the structures: formatted area, then strings up to a double NUL.
    std::vector<int> types;
    size_t p = 0, max = 0;
    std::string manufacturer;
    unsigned mem_kb_end = 0, type17_mb = 0;
    while (p + 4 <= t.size()) {
        size_t start = p;
        uint8_t type = t[p], len = t[p + 1];
        types.push_back(type);
        if (type == 1) {
            size_t s = p + len;  // string 1 (manufacturer is string #t[p+4])
            CHECK(t[p + 4] == 1);
            manufacturer = reinterpret_cast<const char*>(&t[s]);
        }
        if (type == 19) mem_kb_end = unsigned(le(&t[p + 8], 4));
        if (type == 17) type17_mb = unsigned(le(&t[p + 0x0C], 2));
        p += len;
        while (p + 1 < t.size() && !(t[p] == 0 && t[p + 1] == 0)) ++p;
        p += 2;
        max = std::max(max, p - start);
        if (type == 127) break;
    }
    CHECK(p == t.size());
    CHECK(types == std::vector<int>{1, 3, 4, 4, 16, 17, 19, 32, 127});
    CHECK(le(&a[0x1C], 2) == types.size());
    CHECK(le(&a[0x08], 2) == max);
    CHECK(manufacturer == "vx86");
    CHECK(mem_kb_end == 128u * 1024 - 1);
    CHECK(type17_mb == 128);
}

TEST_CASE("fw_cfg: the pc items are files in the directory SeaBIOS walks") {
    Rig r;
    PcFwCfg cfg;
    cfg.ram_bytes = 16u << 20;
    fill_pc_fw_cfg(r.fw, cfg);
    auto count = r.read_item(kFwCfgFileDir, 4);
    uint32_t n = be32(count.data());
    std::vector<std::string> names;
    for (uint32_t i = 0; i < n; ++i) {
        std::vector<uint8_t> e(64);
        for (auto& b : e) b = uint8_t(r.io.read(0x511, 1));
        names.emplace_back(reinterpret_cast<const char*>(e.data() + 8));
    }
    CHECK(names == std::vector<std::string>{"bootorder", "etc/boot-fail-wait", "etc/e820",
                                            "etc/smbios/smbios-anchor",
                                            "etc/smbios/smbios-tables"});
}

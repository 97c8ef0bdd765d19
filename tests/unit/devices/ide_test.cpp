// IDE (devices/ide.h, devices/piix_ide.h): ATA and ATAPI drives on a channel, and the PIIX3 IDE
// function's bus-master DMA.
//
// The tests drive the channel the way a guest driver does, through ports on an IoBus: task file
// writes, the command register, status polling and 16/32-bit data port accesses. Images are
// memory BlockDevices filled with a pattern that depends on the byte offset, so a transfer of
// the wrong sector (or a byte-swapped word) shows. IRQ lines end in a recorder that counts
// rising edges, the way the 8259 sees IRQ14/15 in edge mode. DMA runs against a real
// mmu::PhysMemory with PRD tables written into guest RAM. Expected values come from ATA/ATAPI-6,
// SPC/MMC and the PIIX3/SFF-8038i bus master description, not from the implementation.
#include <doctest/doctest.h>

#include "test_irq.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "devices/block.h"
#include "devices/ide.h"
#include "devices/io_bus.h"
#include "devices/piix_ide.h"
#include "mmu/memory.h"

using namespace vx86::devices;

namespace {

uint8_t pat(uint64_t off) {
    uint64_t x = off * 0x9E3779B97F4A7C15ull;
    return uint8_t(x >> 56);
}

std::vector<uint8_t> image(uint64_t bytes) {
    std::vector<uint8_t> v(bytes);
    for (uint64_t i = 0; i < bytes; ++i) v[i] = pat(i);
    return v;
}

bool matches(const std::vector<uint8_t>& got, uint64_t offset) {
    for (size_t i = 0; i < got.size(); ++i)
        if (got[i] != pat(offset + i)) return false;
    return true;
}

using vx86::test::IrqRecorder;

// Port offsets of the command block.
enum : uint16_t { kData = 0, kErr = 1, kFeat = 1, kCount = 2, kLbaL = 3, kLbaM = 4, kLbaH = 5,
                  kDev = 6, kStat = 7, kCmd = 7 };

struct Ports {
    IoBus& bus;
    uint16_t base, ctl;
    void out(uint16_t reg, uint8_t v) { bus.write(uint16_t(base + reg), 1, v); }
    uint8_t in(uint16_t reg) { return uint8_t(bus.read(uint16_t(base + reg), 1)); }
    uint8_t alt() { return uint8_t(bus.read(ctl, 1)); }
    void devctl(uint8_t v) { bus.write(ctl, 1, v); }
    uint16_t in16() { return uint16_t(bus.read(base, 2)); }
    void out16(uint16_t v) { bus.write(base, 2, v); }
    // Reads `n` bytes through the data port, one word at a time.
    std::vector<uint8_t> read_bytes(size_t n) {
        std::vector<uint8_t> v;
        for (size_t i = 0; i < n; i += 2) {
            uint16_t w = in16();
            v.push_back(uint8_t(w));
            v.push_back(uint8_t(w >> 8));
        }
        v.resize(n);
        return v;
    }
    void write_bytes(const std::vector<uint8_t>& b) {
        for (size_t i = 0; i < b.size(); i += 2) out16(uint16_t(b[i] | b[i + 1] << 8));
    }
    void lba28(uint32_t lba, uint8_t count, unsigned unit = 0) {
        out(kCount, count);
        out(kLbaL, uint8_t(lba));
        out(kLbaM, uint8_t(lba >> 8));
        out(kLbaH, uint8_t(lba >> 16));
        out(kDev, uint8_t(0xE0 | unit << 4 | ((lba >> 24) & 0x0F)));
    }
    void lba48(uint64_t lba, uint16_t count, unsigned unit = 0) {
        out(kCount, uint8_t(count >> 8));
        out(kLbaL, uint8_t(lba >> 24));
        out(kLbaM, uint8_t(lba >> 32));
        out(kLbaH, uint8_t(lba >> 40));
        out(kCount, uint8_t(count));
        out(kLbaL, uint8_t(lba));
        out(kLbaM, uint8_t(lba >> 8));
        out(kLbaH, uint8_t(lba >> 16));
        out(kDev, uint8_t(0x40 | unit << 4));
    }
    void chs(uint16_t cyl, uint8_t head, uint8_t sector, uint8_t count, unsigned unit = 0) {
        out(kCount, count);
        out(kLbaL, sector);
        out(kLbaM, uint8_t(cyl));
        out(kLbaH, uint8_t(cyl >> 8));
        out(kDev, uint8_t(0xA0 | unit << 4 | (head & 0x0F)));
    }
    // IDENTIFY-style 256-word block.
    std::array<uint16_t, 256> words() {
        std::array<uint16_t, 256> w{};
        for (auto& x : w) x = in16();
        return w;
    }
    // ATAPI: PACKET with a 12-byte command.
    void packet(std::array<uint8_t, 12> cdb, uint16_t limit, bool dma = false, unsigned unit = 0) {
        out(kDev, uint8_t(0xA0 | unit << 4));
        out(kFeat, dma ? 1 : 0);
        out(kLbaM, uint8_t(limit));
        out(kLbaH, uint8_t(limit >> 8));
        out(kCmd, 0xA0);
        for (size_t i = 0; i < 12; i += 2) out16(uint16_t(cdb[i] | cdb[i + 1] << 8));
    }
    // ATAPI: collects every data-in DRQ block (byte count from LBA mid/high).
    std::vector<uint8_t> packet_data(std::vector<uint16_t>* chunks = nullptr) {
        std::vector<uint8_t> all;
        while ((alt() & 0x88) == 0x08) {
            uint16_t n = uint16_t(in(kLbaM) | in(kLbaH) << 8);
            if (chunks) chunks->push_back(n);
            in(kStat);  // acknowledge the DRQ interrupt
            auto b = read_bytes(n);
            all.insert(all.end(), b.begin(), b.end());
        }
        return all;
    }
};

std::string ata_string(const std::array<uint16_t, 256>& w, unsigned first, unsigned words) {
    std::string s;
    for (unsigned i = 0; i < words; ++i) {
        s.push_back(char(w[first + i] >> 8));
        s.push_back(char(w[first + i] & 0xFF));
    }
    return s;
}

// A channel on the primary ports with an IRQ recorder and whatever drives a test attaches.
struct Rig {
    IoBus bus;
    IrqRecorder pic;
    IdeChannel ch{kIdePrimaryBase, kIdePrimaryCtl, IrqLine{&pic, kIdePrimaryIrq}};
    Ports p{bus, kIdePrimaryBase, kIdePrimaryCtl};
    Rig() { ch.attach(bus); }
    int irqs() const { return pic.rises[kIdePrimaryIrq]; }
};

constexpr uint32_t kSectors = 4 * 1008;  // 4 cylinders of 16 heads x 63 sectors

// A temporary file, removed at scope exit.
struct TempFile {
    std::string path;
    TempFile() {
        char name[] = "/tmp/vx86-ide-test-XXXXXX";
        int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
    }
    ~TempFile() { ::unlink(path.c_str()); }
};

}  // namespace

TEST_CASE("IDE: signatures after power-on, SRST and EXECUTE DEVICE DIAGNOSTIC") {
    Rig r;
    auto disk = BlockDevice::from_memory(image(kSectors * 512));
    auto cd = BlockDevice::from_memory(image(16 * 2048), true);
    r.ch.attach_disk(0, disk.get());
    r.ch.attach_cdrom(1, cd.get());
    r.ch.reset();

    auto check_disk = [&] {
        r.p.out(kDev, 0xA0);
        CHECK(r.p.in(kCount) == 0x01);
        CHECK(r.p.in(kLbaL) == 0x01);
        CHECK(r.p.in(kLbaM) == 0x00);
        CHECK(r.p.in(kLbaH) == 0x00);
        CHECK(r.p.in(kErr) == 0x01);
        CHECK(r.p.in(kStat) == 0x50);
    };
    auto check_cd = [&] {
        r.p.out(kDev, 0xB0);
        CHECK(r.p.in(kCount) == 0x01);
        CHECK(r.p.in(kLbaL) == 0x01);
        CHECK(r.p.in(kLbaM) == 0x14);
        CHECK(r.p.in(kLbaH) == 0xEB);
        CHECK(r.p.in(kErr) == 0x01);
        CHECK(r.p.in(kStat) == 0x00);  // a PACKET device clears DRDY after reset
    };
    check_disk();
    check_cd();

    // Dirty the registers, then pulse SRST: BSY while asserted, signatures after.
    r.p.out(kCount, 0x55);
    r.p.out(kLbaM, 0x66);
    r.p.devctl(kAtaCtlSrst);
    CHECK(r.p.alt() == kAtaStBsy);
    r.p.devctl(0);
    CHECK(r.p.in(kDev) == 0x00);  // device 0 is selected after a reset
    check_disk();
    check_cd();
    CHECK(r.irqs() == 0);  // a software reset raises no interrupt

    // EXECUTE DEVICE DIAGNOSTIC, issued with device 1 selected, runs on both and interrupts.
    r.p.out(kDev, 0xB0);
    r.p.out(kLbaM, 0x77);
    r.p.out(kCmd, 0x90);
    CHECK(r.irqs() == 1);
    check_disk();
    check_cd();
}

TEST_CASE("IDE: absent drives") {
    Rig r;
    CHECK(r.p.in(kStat) == 0xFF);  // nothing on the cable: floating bus
    auto disk = BlockDevice::from_memory(image(kSectors * 512));
    r.ch.attach_disk(0, disk.get());
    r.p.out(kDev, 0xB0);
    CHECK(r.p.in(kStat) == 0x00);  // device 0 answers for a missing device 1
    r.p.out(kCmd, 0xEC);
    CHECK(r.p.alt() == 0x00);
    CHECK(r.irqs() == 0);
    r.p.out(kDev, 0xA0);
    CHECK(r.p.in(kStat) == 0x50);
}

TEST_CASE("IDE: IDENTIFY DEVICE words") {
    Rig r;
    auto disk = BlockDevice::from_memory(image(kSectors * 512));
    r.ch.attach_disk(0, disk.get());
    r.p.out(kDev, 0xA0);
    r.p.out(kCmd, 0xEC);
    CHECK(r.irqs() == 1);
    CHECK(r.p.alt() == 0x58);  // DRDY DSC DRQ
    auto w = r.p.words();
    CHECK(r.p.in(kStat) == 0x50);  // DRQ drops after the last word
    CHECK(r.irqs() == 1);          // and no interrupt follows a data-in command

    CHECK(w[0] == 0x0040);
    CHECK(w[1] == 4);   // cylinders = 4032 / (16 * 63)
    CHECK(w[3] == 16);  // heads
    CHECK(w[6] == 63);  // sectors per track
    CHECK(ata_string(w, 27, 20) == "VX86 HARDDISK                           ");
    CHECK(w[27] == ('V' << 8 | 'X'));  // first character in the high byte
    CHECK(ata_string(w, 10, 10).find_first_not_of(' ') != std::string::npos);
    CHECK(ata_string(w, 23, 4).find_first_not_of(' ') != std::string::npos);
    CHECK((w[49] & 0x0300) == 0x0300);  // LBA and DMA supported
    CHECK((w[53] & 0x0007) == 0x0007);
    CHECK(w[54] == 4);
    CHECK(w[55] == 16);
    CHECK(w[56] == 63);
    CHECK((uint32_t(w[58]) << 16 | w[57]) == kSectors);
    CHECK((uint32_t(w[61]) << 16 | w[60]) == kSectors);
    CHECK((w[63] & 0x0007) == 0x0007);            // multiword DMA 0-2 supported
    CHECK((w[83] & 0xC400) == 0x4400);            // 48-bit address feature set, word valid
    CHECK((w[86] & 0x0400) == 0x0400);            // and enabled
    CHECK((uint64_t(w[103]) << 48 | uint64_t(w[102]) << 32 | uint64_t(w[101]) << 16 | w[100]) ==
          kSectors);
    CHECK((w[88] & 0x003F) == 0x003F);
    CHECK((w[255] & 0xFF) == 0xA5);
    uint8_t sum = 0;
    for (uint16_t x : w) sum = uint8_t(sum + (x & 0xFF) + (x >> 8));
    CHECK(sum == 0);  // integrity word: all 512 bytes sum to 0

    // The same block through 32-bit data port reads.
    r.p.out(kCmd, 0xEC);
    bool same = true;
    for (unsigned i = 0; i < 128; ++i) {
        uint32_t d = r.bus.read(kIdePrimaryBase, 4);
        same = same && uint16_t(d) == w[2 * i] && uint16_t(d >> 16) == w[2 * i + 1];
    }
    CHECK(same);
    CHECK(r.p.alt() == 0x50);
}

TEST_CASE("IDE: IDENTIFY DEVICE of a disk past the LBA28 and CHS limits, LBA48 reads") {
    TempFile f;
    const uint64_t sectors = (1ull << 28) + 4096;  // 128 GiB + 2 MiB, sparse
    REQUIRE(::truncate(f.path.c_str(), off_t(sectors * 512)) == 0);
    const uint64_t far_lba = (1ull << 28) + 17;
    {
        FILE* fp = std::fopen(f.path.c_str(), "r+b");
        REQUIRE(fp);
        std::vector<uint8_t> s(512);
        for (unsigned i = 0; i < 512; ++i) s[i] = pat(far_lba * 512 + i);
        REQUIRE(fseeko(fp, off_t(far_lba * 512), SEEK_SET) == 0);
        REQUIRE(std::fwrite(s.data(), 1, 512, fp) == 512);
        std::fclose(fp);
    }
    auto disk = BlockDevice::open(f.path, BlockDevice::Mode::kReadOnly);
    Rig r;
    r.ch.attach_disk(0, disk.get());
    r.p.out(kDev, 0xA0);
    r.p.out(kCmd, 0xEC);
    auto w = r.p.words();
    CHECK(w[1] == 16383);  // capped
    CHECK((uint32_t(w[61]) << 16 | w[60]) == 0x0FFFFFFF);
    CHECK((uint64_t(w[103]) << 48 | uint64_t(w[102]) << 32 | uint64_t(w[101]) << 16 | w[100]) ==
          sectors);

    // READ SECTORS EXT at an address that needs the HOB bytes.
    r.p.lba48(far_lba, 1);
    r.p.devctl(kAtaCtlHob);  // HOB reads return the previous (high) bytes
    CHECK(r.p.in(kLbaL) == uint8_t(far_lba >> 24));
    CHECK(r.p.in(kLbaM) == uint8_t(far_lba >> 32));
    r.p.devctl(0);
    CHECK(r.p.in(kLbaL) == uint8_t(far_lba));
    r.p.out(kCmd, 0x24);
    CHECK(r.p.alt() == 0x58);
    CHECK(matches(r.p.read_bytes(512), far_lba * 512));
    CHECK(r.p.in(kStat) == 0x50);
}

TEST_CASE("IDE: PIO reads by CHS, LBA28 and LBA48") {
    Rig r;
    auto disk = BlockDevice::from_memory(image(kSectors * 512));
    r.ch.attach_disk(0, disk.get());

    SUBCASE("CHS") {
        r.p.chs(1, 2, 5, 1);  // (1 * 16 + 2) * 63 + 4
        r.p.out(kCmd, 0x20);
        CHECK(r.irqs() == 1);
        CHECK(r.p.in(kStat) == 0x58);
        CHECK(matches(r.p.read_bytes(512), 1138ull * 512));
        CHECK(r.p.alt() == 0x50);
    }
    SUBCASE("LBA28, two sectors, an interrupt before each") {
        r.p.lba28(3000, 2);
        r.p.out(kCmd, 0x20);
        CHECK(r.irqs() == 1);
        CHECK(r.p.in(kStat) == 0x58);
        CHECK(matches(r.p.read_bytes(512), 3000ull * 512));
        CHECK(r.irqs() == 2);
        CHECK(r.p.in(kStat) == 0x58);
        CHECK(matches(r.p.read_bytes(512), 3001ull * 512));
        CHECK(r.irqs() == 2);
        CHECK(r.p.in(kStat) == 0x50);
    }
    SUBCASE("LBA48") {
        r.p.lba48(kSectors - 3, 3);
        r.p.out(kCmd, 0x24);
        for (unsigned i = 0; i < 3; ++i) {
            CHECK(r.p.in(kStat) == 0x58);
            CHECK(matches(r.p.read_bytes(512), (kSectors - 3 + i) * 512ull));
        }
        CHECK(r.irqs() == 3);
        CHECK(r.p.in(kStat) == 0x50);
    }
    SUBCASE("sector count 0 means 256") {
        r.p.lba28(10, 0);
        r.p.out(kCmd, 0x20);
        unsigned n = 0;
        bool ok = true;
        while (r.p.in(kStat) & kAtaStDrq) {
            ok = ok && matches(r.p.read_bytes(512), (10ull + n) * 512);
            ++n;
        }
        CHECK(ok);
        CHECK(n == 256);
    }
}

TEST_CASE("IDE: PIO writes") {
    Rig r;
    auto disk = BlockDevice::from_memory(std::vector<uint8_t>(kSectors * 512, 0));
    r.ch.attach_disk(0, disk.get());
    std::vector<uint8_t> a(512), b(512);
    for (unsigned i = 0; i < 512; ++i) {
        a[i] = pat(100 * 512 + i);
        b[i] = pat(101 * 512 + i);
    }
    r.p.lba28(100, 2);
    r.p.out(kCmd, 0x30);
    CHECK(r.irqs() == 0);  // the first block is requested without an interrupt
    CHECK(r.p.alt() == 0x58);
    r.p.write_bytes(a);
    CHECK(r.irqs() == 1);
    CHECK(r.p.in(kStat) == 0x58);
    r.p.write_bytes(b);
    CHECK(r.irqs() == 2);  // completion
    CHECK(r.p.in(kStat) == 0x50);
    std::vector<uint8_t> got(1024);
    REQUIRE(disk->read(100 * 512, got.data(), got.size()));
    CHECK(matches(got, 100 * 512));
    // CHS write through the translation: (0, 1, 1) is LBA 63.
    r.p.chs(0, 1, 1, 1);
    r.p.out(kCmd, 0x30);
    r.p.write_bytes(a);
    CHECK(r.p.in(kStat) == 0x50);
    std::vector<uint8_t> s(512);
    REQUIRE(disk->read(63 * 512, s.data(), 512));
    CHECK(s == a);
}

TEST_CASE("IDE: READ/WRITE MULTIPLE after SET MULTIPLE MODE") {
    Rig r;
    auto disk = BlockDevice::from_memory(image(kSectors * 512));
    r.ch.attach_disk(0, disk.get());
    r.p.lba28(0, 4);
    r.p.out(kCmd, 0xC4);  // multiple mode not yet enabled
    CHECK(r.p.in(kStat) == 0x51);
    CHECK(r.p.in(kErr) == kAtaErAbrt);

    r.p.out(kCount, 3);  // not a power of two
    r.p.out(kCmd, 0xC6);
    CHECK(r.p.in(kStat) == 0x51);
    r.p.out(kCount, 4);
    r.p.out(kCmd, 0xC6);
    CHECK(r.p.in(kStat) == 0x50);
    r.p.out(kCmd, 0xEC);
    auto w = r.p.words();
    CHECK(w[59] == 0x0104);

    int before = r.irqs();
    r.p.lba28(200, 10);
    r.p.out(kCmd, 0xC4);
    std::vector<size_t> blocks;
    std::vector<uint8_t> all;
    while (r.p.in(kStat) & kAtaStDrq) {  // the status read acknowledges the block's interrupt
        int at = r.irqs();
        size_t n = 0;
        do {  // a block ends when DRQ drops or the next block's interrupt arrives
            auto s = r.p.read_bytes(512);
            all.insert(all.end(), s.begin(), s.end());
            ++n;
        } while ((r.p.alt() & kAtaStDrq) && r.irqs() == at);
        blocks.push_back(n);
    }
    CHECK(blocks == std::vector<size_t>{4, 4, 2});
    CHECK(r.irqs() - before == 3);
    CHECK(matches(all, 200 * 512));

    // WRITE MULTIPLE EXT: interrupts after each block of 4 and at the end.
    before = r.irqs();
    r.p.lba48(300, 8);
    r.p.out(kCmd, 0x39);
    std::vector<uint8_t> data(8 * 512, 0x5A);
    for (int block = 0; block < 2; ++block) {
        CHECK(r.p.in(kStat) == 0x58);
        for (size_t i = 0; i < 4 * 512; i += 2) r.p.out16(0x5A5A);
        CHECK(r.irqs() - before == block + 1);  // after each block, the last one at completion
    }
    CHECK(r.p.in(kStat) == 0x50);
    std::vector<uint8_t> got(8 * 512);
    REQUIRE(disk->read(300 * 512, got.data(), got.size()));
    CHECK(got == data);
}

TEST_CASE("IDE: errors: IDNF past the end, ABRT on read-only, unknown commands") {
    Rig r;
    auto disk = BlockDevice::from_memory(image(kSectors * 512), true);
    r.ch.attach_disk(0, disk.get());

    r.p.lba28(kSectors - 1, 2);  // the second sector does not exist
    r.p.out(kCmd, 0x20);
    CHECK(r.irqs() == 1);
    CHECK(r.p.in(kStat) == 0x51);
    CHECK(r.p.in(kErr) == kAtaErIdnf);

    r.p.lba48(kSectors, 1);
    r.p.out(kCmd, 0x25);  // READ DMA EXT: rejected before any DMA
    CHECK(r.p.in(kStat) == 0x51);
    CHECK(r.p.in(kErr) == kAtaErIdnf);

    r.p.chs(0, 0, 0, 1);  // sector numbers start at 1
    r.p.out(kCmd, 0x20);
    CHECK(r.p.in(kErr) == kAtaErIdnf);
    r.p.chs(0, 0, 64, 1);  // past 63 sectors per track
    r.p.out(kCmd, 0x20);
    CHECK(r.p.in(kErr) == kAtaErIdnf);
    r.p.chs(4, 0, 1, 1);  // cylinder 4 of 4
    r.p.out(kCmd, 0x20);
    CHECK(r.p.in(kErr) == kAtaErIdnf);
    r.p.chs(3, 15, 63, 1);  // the last CHS sector is fine
    r.p.out(kCmd, 0x20);
    CHECK(r.p.in(kStat) == 0x58);
    CHECK(matches(r.p.read_bytes(512), (kSectors - 1) * 512ull));

    r.p.lba28(5, 1);
    r.p.out(kCmd, 0x30);  // write to a read-only image
    CHECK(r.p.in(kStat) == 0x51);
    CHECK(r.p.in(kErr) == kAtaErAbrt);
    std::vector<uint8_t> s(512);
    REQUIRE(disk->read(5 * 512, s.data(), 512));
    CHECK(matches(s, 5 * 512));

    r.p.out(kCmd, 0xFD);  // no such command
    CHECK(r.p.in(kStat) == 0x51);
    CHECK(r.p.in(kErr) == kAtaErAbrt);
    r.p.out(kCmd, 0xA0);  // PACKET on an ATA disk
    CHECK(r.p.in(kErr) == kAtaErAbrt);

    r.p.lba28(kSectors, 1);
    r.p.out(kCmd, 0x70);  // SEEK to a missing sector
    CHECK(r.p.in(kErr) == kAtaErIdnf);
    r.p.lba28(kSectors - 1, 1);
    r.p.out(kCmd, 0x40);  // READ VERIFY
    CHECK(r.p.in(kStat) == 0x50);
}

TEST_CASE("IDE: FLUSH CACHE makes file writes durable; power and feature commands") {
    TempFile f;
    REQUIRE(::truncate(f.path.c_str(), kSectors * 512) == 0);
    auto disk = BlockDevice::open(f.path, BlockDevice::Mode::kReadWrite);
    Rig r;
    r.ch.attach_disk(0, disk.get());
    r.p.lba28(1, 1);
    r.p.out(kCmd, 0x30);
    r.p.write_bytes(std::vector<uint8_t>(512, 0xAB));
    CHECK(r.p.in(kStat) == 0x50);
    CHECK(disk->dirty());
    r.p.out(kCmd, 0xE7);
    CHECK(r.p.in(kStat) == 0x50);
    CHECK_FALSE(disk->dirty());
    r.p.lba28(2, 1);
    r.p.out(kCmd, 0x30);
    r.p.write_bytes(std::vector<uint8_t>(512, 0xCD));
    r.p.out(kCmd, 0xEA);  // FLUSH CACHE EXT
    CHECK(r.p.in(kStat) == 0x50);
    CHECK_FALSE(disk->dirty());

    r.p.out(kCmd, 0xE0);  // STANDBY IMMEDIATE
    r.p.out(kCmd, 0xE5);  // CHECK POWER MODE
    CHECK(r.p.in(kCount) == 0x00);
    r.p.out(kCmd, 0xE1);  // IDLE IMMEDIATE
    r.p.out(kCmd, 0xE5);
    CHECK(r.p.in(kCount) == 0xFF);

    r.p.out(kFeat, 0x82);  // write cache off: IDENTIFY word 85 bit 5 follows
    r.p.out(kCmd, 0xEF);
    CHECK(r.p.in(kStat) == 0x50);
    r.p.out(kFeat, 0x03);
    r.p.out(kCount, 0x42);  // Ultra DMA mode 2
    r.p.out(kCmd, 0xEF);
    CHECK(r.p.in(kStat) == 0x50);
    r.p.out(kCmd, 0xEC);
    auto w = r.p.words();
    CHECK((w[85] & 0x0020) == 0);
    CHECK((w[88] >> 8) == 0x04);
    CHECK((w[63] >> 8) == 0x00);  // selecting Ultra DMA deselects multiword DMA
    r.p.out(kFeat, 0x03);
    r.p.out(kCount, 0x23);  // multiword DMA 3 does not exist
    r.p.out(kCmd, 0xEF);
    CHECK(r.p.in(kStat) == 0x51);
    r.p.out(kFeat, 0x77);  // unknown subcommand
    r.p.out(kCmd, 0xEF);
    CHECK(r.p.in(kErr) == kAtaErAbrt);
}

TEST_CASE("IDE: INITIALIZE DEVICE PARAMETERS sets the CHS translation") {
    Rig r;
    auto disk = BlockDevice::from_memory(image(kSectors * 512));
    r.ch.attach_disk(0, disk.get());
    r.p.out(kCount, 32);
    r.p.out(kDev, 0xA3);  // 4 heads
    r.p.out(kCmd, 0x91);
    CHECK(r.p.in(kStat) == 0x50);
    r.p.out(kCmd, 0xEC);
    auto w = r.p.words();
    CHECK(w[54] == kSectors / (4 * 32));
    CHECK(w[55] == 4);
    CHECK(w[56] == 32);
    r.p.chs(2, 3, 7, 1);  // (2 * 4 + 3) * 32 + 6
    r.p.out(kCmd, 0x20);
    CHECK(matches(r.p.read_bytes(512), 358ull * 512));
    r.p.chs(0, 4, 1, 1);  // head 4 of 4
    r.p.out(kCmd, 0x20);
    CHECK(r.p.in(kErr) == kAtaErIdnf);
    // A hardware reset restores the default translation.
    r.ch.reset();
    r.p.chs(0, 1, 1, 1);
    r.p.out(kCmd, 0x20);
    CHECK(matches(r.p.read_bytes(512), 63ull * 512));
}

TEST_CASE("IDE: nIEN masks the interrupt line; a status read acknowledges it") {
    Rig r;
    auto disk = BlockDevice::from_memory(image(kSectors * 512));
    r.ch.attach_disk(0, disk.get());
    r.p.devctl(kAtaCtlNien);
    r.p.out(kCmd, 0xE1);
    CHECK(r.irqs() == 0);
    CHECK_FALSE(r.pic.level[14]);
    r.p.devctl(0);  // still pending: the line rises now
    CHECK(r.irqs() == 1);
    CHECK(r.pic.level[14]);
    CHECK(r.p.alt() == 0x50);  // alternate status does not acknowledge
    CHECK(r.pic.level[14]);
    r.p.in(kStat);
    CHECK_FALSE(r.pic.level[14]);
    r.p.devctl(kAtaCtlNien);
    r.p.out(kCmd, 0xE1);
    r.p.in(kStat);  // acknowledged while masked
    r.p.devctl(0);
    CHECK(r.irqs() == 1);
}

// ---------------------------------------------------------------------------------------------
// ATAPI

namespace {

struct CdRig : Rig {
    std::unique_ptr<BlockDevice> cd = BlockDevice::from_memory(image(100 * 2048), true);
    CdRig() {
        ch.attach_cdrom(0, cd.get());
        ch.reset();
    }
    // Runs a packet command; returns its data-in bytes.
    std::vector<uint8_t> run(std::array<uint8_t, 12> cdb, uint16_t limit = 0xFFFE,
                             std::vector<uint16_t>* chunks = nullptr) {
        p.packet(cdb, limit);
        return p.packet_data(chunks);
    }
    // Status and sense after a command: ERR bit, then REQUEST SENSE's key/ASC/ASCQ.
    std::array<uint8_t, 3> sense() {
        auto s = run({0x03, 0, 0, 0, 18});
        REQUIRE(s.size() == 18);
        CHECK(s[0] == 0x70);
        return {uint8_t(s[2] & 0x0F), s[12], s[13]};
    }
};

}  // namespace

TEST_CASE("ATAPI: IDENTIFY PACKET DEVICE, and IDENTIFY DEVICE aborts with the signature") {
    CdRig r;
    r.p.out(kDev, 0xA0);
    r.p.out(kCmd, 0xEC);
    CHECK(r.irqs() == 1);
    CHECK((r.p.in(kStat) & (kAtaStErr | kAtaStDrq)) == kAtaStErr);
    CHECK((r.p.in(kErr) & kAtaErAbrt) != 0);
    CHECK(r.p.in(kLbaM) == 0x14);
    CHECK(r.p.in(kLbaH) == 0xEB);

    r.p.out(kCmd, 0xA1);
    CHECK((r.p.in(kStat) & kAtaStDrq) != 0);
    auto w = r.p.words();
    CHECK(w[0] == 0x85C0);
    CHECK(ata_string(w, 27, 20) == "VX86 CD-ROM                             ");
    CHECK((w[49] & 0x0300) == 0x0300);
    CHECK((w[82] & 0x0010) == 0x0010);  // PACKET feature set
    uint8_t sum = 0;
    for (uint16_t x : w) sum = uint8_t(sum + (x & 0xFF) + (x >> 8));
    CHECK(sum == 0);
}

TEST_CASE("ATAPI: packet protocol, INQUIRY, READ CAPACITY") {
    CdRig r;
    r.p.out(kDev, 0xA0);
    r.p.out(kFeat, 0);
    r.p.out(kLbaM, 0xFE);
    r.p.out(kLbaH, 0xFF);
    r.p.out(kCmd, 0xA0);
    CHECK(r.irqs() == 0);                       // the packet is requested without an interrupt
    CHECK((r.p.alt() & 0x88) == 0x08);          // DRQ, not BSY
    CHECK((r.p.in(kCount) & 0x03) == 0x01);     // CoD=1 IO=0: send the command
    std::array<uint8_t, 12> inq{0x12, 0, 0, 0, 36};
    for (size_t i = 0; i < 12; i += 2) r.p.out16(uint16_t(inq[i] | inq[i + 1] << 8));
    CHECK(r.irqs() == 1);
    CHECK((r.p.in(kCount) & 0x03) == 0x02);     // IO=1 CoD=0: data to the host
    CHECK((r.p.in(kLbaM) | r.p.in(kLbaH) << 8) == 36);
    auto d = r.p.packet_data();
    CHECK(r.irqs() == 2);                       // completion interrupt
    CHECK((r.p.in(kCount) & 0x03) == 0x03);     // IO=1 CoD=1: status
    CHECK(r.p.in(kStat) == 0x50);
    REQUIRE(d.size() == 36);
    CHECK(d[0] == 0x05);  // CD/DVD device
    CHECK(d[1] == 0x80);  // removable
    CHECK(std::string(d.begin() + 8, d.begin() + 12) == "VX86");

    // Allocation length truncates.
    CHECK(r.run({0x12, 0, 0, 0, 5}).size() == 5);

    auto cap = r.run({0x25});
    REQUIRE(cap.size() == 8);
    CHECK((cap[0] << 24 | cap[1] << 16 | cap[2] << 8 | cap[3]) == 99);  // last LBA
    CHECK((cap[4] << 24 | cap[5] << 16 | cap[6] << 8 | cap[7]) == 2048);
}

TEST_CASE("ATAPI: READ(10) through PIO, bounded by the byte count limit") {
    CdRig r;
    std::vector<uint16_t> chunks;
    auto d = r.run({0x28, 0, 0, 0, 0, 7, 0, 0, 1}, 1024, &chunks);
    CHECK(chunks == std::vector<uint16_t>{1024, 1024});
    CHECK(r.irqs() == 3);  // two DRQ blocks and the completion
    CHECK(d.size() == 2048);
    CHECK(matches(d, 7 * 2048));
    CHECK(r.p.in(kStat) == 0x50);

    chunks.clear();
    d = r.run({0xA8, 0, 0, 0, 0, 10, 0, 0, 0, 3}, 0xFFFE, &chunks);  // READ(12), 3 blocks
    CHECK(chunks == std::vector<uint16_t>{6144});
    CHECK(matches(d, 10 * 2048));

    chunks.clear();
    d = r.run({0x28, 0, 0, 0, 0, 20, 0, 0, 3}, 5000, &chunks);  // whole sectors per block
    CHECK(chunks == std::vector<uint16_t>{4096, 2048});
    CHECK(matches(d, 20 * 2048));
}

TEST_CASE("ATAPI: errors, REQUEST SENSE, UNIT ATTENTION after insert") {
    CdRig r;
    auto d = r.run({0x28, 0, 0, 0, 0, 99, 0, 0, 2});  // runs past the last block
    CHECK(d.empty());
    CHECK((r.p.in(kStat) & kAtaStErr) != 0);
    CHECK((r.p.in(kErr) >> 4) == 0x05);  // sense key in the error register
    CHECK(r.sense() == std::array<uint8_t, 3>{0x05, 0x21, 0x00});
    CHECK(r.sense() == std::array<uint8_t, 3>{0x00, 0x00, 0x00});  // reported once

    r.run({0xFF});
    CHECK(r.sense() == std::array<uint8_t, 3>{0x05, 0x20, 0x00});

    r.ch.eject(0);
    r.run({0x00});  // TEST UNIT READY
    CHECK((r.p.in(kStat) & kAtaStErr) != 0);
    CHECK(r.sense() == std::array<uint8_t, 3>{0x02, 0x3A, 0x00});
    r.run({0x25});
    CHECK(r.sense() == std::array<uint8_t, 3>{0x02, 0x3A, 0x00});

    auto other = BlockDevice::from_memory(image(50 * 2048), true);
    r.ch.insert_medium(0, other.get());
    auto inq = r.run({0x12, 0, 0, 0, 36});  // INQUIRY does not report the unit attention
    CHECK(inq.size() == 36);
    r.run({0x00});
    CHECK((r.p.in(kStat) & kAtaStErr) != 0);
    CHECK((r.p.in(kErr) >> 4) == 0x06);
    CHECK(r.sense() == std::array<uint8_t, 3>{0x06, 0x28, 0x00});
    r.run({0x00});  // once only
    CHECK(r.p.in(kStat) == 0x50);
    auto cap = r.run({0x25});
    REQUIRE(cap.size() == 8);
    CHECK(cap[3] == 49);

    // The command that reports the unit attention consumes it, even without REQUEST SENSE.
    r.ch.insert_medium(0, r.cd.get());
    r.run({0x25});
    CHECK((r.p.in(kErr) >> 4) == 0x06);
    cap = r.run({0x25});
    REQUIRE(cap.size() == 8);
    CHECK(cap[3] == 99);
}

TEST_CASE("ATAPI: READ TOC formats 0 and 1, LBA and MSF") {
    CdRig r;
    auto t = r.run({0x43, 0, 0, 0, 0, 0, 0, 0, 100});
    REQUIRE(t.size() == 20);
    CHECK((t[0] << 8 | t[1]) == 18);
    CHECK(t[2] == 1);  // first track
    CHECK(t[3] == 1);  // last track
    CHECK(t[5] == 0x14);  // ADR 1, data track
    CHECK(t[6] == 1);
    CHECK((t[8] << 24 | t[9] << 16 | t[10] << 8 | t[11]) == 0);
    CHECK(t[14] == 0xAA);  // lead-out
    CHECK((t[16] << 24 | t[17] << 16 | t[18] << 8 | t[19]) == 100);

    t = r.run({0x43, 0x02, 0, 0, 0, 0, 0, 0, 100});  // MSF
    REQUIRE(t.size() == 20);
    CHECK(t[9] == 0);  // track 1 at 00:02:00
    CHECK(t[10] == 2);
    CHECK(t[11] == 0);
    CHECK(t[17] == 0);  // lead-out at 100 + 150 frames = 00:03:25
    CHECK(t[18] == 3);
    CHECK(t[19] == 25);

    t = r.run({0x43, 0, 0x01, 0, 0, 0, 0, 0, 12});  // session info
    REQUIRE(t.size() == 12);
    CHECK((t[0] << 8 | t[1]) == 10);
    CHECK(t[6] == 1);

    r.run({0x43, 0, 0, 0, 0, 0, 5, 0, 100});  // no track 5
    CHECK(r.sense() == std::array<uint8_t, 3>{0x05, 0x24, 0x00});
}

TEST_CASE("ATAPI: MODE SENSE, GET CONFIGURATION, GET EVENT STATUS, tray and lock") {
    CdRig r;
    auto m = r.run({0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 255});
    REQUIRE(m.size() == 28);
    CHECK((m[0] << 8 | m[1]) == 26);
    CHECK((m[8] & 0x3F) == 0x2A);
    m = r.run({0x1A, 0, 0x3F, 0, 255});  // all pages, 6-byte form
    REQUIRE(m.size() == 4 + 8 + 20);
    CHECK(m[0] == 31);
    CHECK(m[4] == 0x01);
    CHECK(m[12] == 0x2A);
    r.run({0x1A, 0, 0x05, 0, 255});
    CHECK(r.sense() == std::array<uint8_t, 3>{0x05, 0x24, 0x00});

    auto c = r.run({0x46, 0, 0, 0, 0, 0, 0, 0, 64});
    REQUIRE(c.size() >= 8);
    CHECK((c[6] << 8 | c[7]) == 0x0008);  // current profile CD-ROM

    auto e = r.run({0x4A, 0x01, 0, 0, 0x10, 0, 0, 0, 8});
    REQUIRE(e.size() == 8);
    CHECK((e[2] & 0x07) == 4);  // media class
    CHECK(e[4] == 0);           // no change
    CHECK(e[5] == 0x02);        // medium present, tray closed
    r.run({0x4A, 0x00, 0, 0, 0x10, 0, 0, 0, 8});  // asynchronous: not supported
    CHECK(r.sense() == std::array<uint8_t, 3>{0x05, 0x24, 0x00});

    r.run({0x1E, 0, 0, 0, 1});  // PREVENT MEDIUM REMOVAL
    r.run({0x1B, 0, 0, 0, 0x02});  // eject refused
    CHECK(r.sense() == std::array<uint8_t, 3>{0x05, 0x53, 0x02});
    r.run({0x1E, 0, 0, 0, 0});
    r.run({0x1B, 0, 0, 0, 0x02});
    CHECK(r.p.in(kStat) == 0x50);
    e = r.run({0x4A, 0x01, 0, 0, 0x10, 0, 0, 0, 8});
    CHECK(e[4] == 3);     // MediaRemoval
    CHECK(e[5] == 0x01);  // tray open, no medium
    r.run({0x00});
    CHECK(r.sense() == std::array<uint8_t, 3>{0x02, 0x3A, 0x00});
    r.run({0x1B, 0, 0, 0, 0x03});  // load
    r.run({0x00});
    CHECK(r.sense() == std::array<uint8_t, 3>{0x06, 0x28, 0x00});

    auto di = r.run({0x51, 0, 0, 0, 0, 0, 0, 0, 34});
    REQUIRE(di.size() == 34);
    CHECK(di[2] == 0x0E);
    r.run({0xBB});
    CHECK(r.p.in(kStat) == 0x50);
    r.run({0x2B, 0, 0, 0, 0, 100});  // SEEK past the end
    CHECK(r.sense() == std::array<uint8_t, 3>{0x05, 0x21, 0x00});
}

// ---------------------------------------------------------------------------------------------
// PIIX3 IDE function and bus-master DMA

namespace {

constexpr uint16_t kBmBase = 0xC000;

struct PiixRig {
    IoBus bus;
    IrqRecorder pic;
    vx86::mmu::PhysMemory mem{1u << 20};
    PiixIde ide{IrqLine{&pic, 14}, IrqLine{&pic, 15}, mem};
    Ports p{bus, kIdePrimaryBase, kIdePrimaryCtl};
    Ports s{bus, kIdeSecondaryBase, kIdeSecondaryCtl};
    std::unique_ptr<BlockDevice> disk = BlockDevice::from_memory(image(kSectors * 512));
    std::unique_ptr<BlockDevice> cd = BlockDevice::from_memory(image(100 * 2048), true);

    PiixRig() {
        ide.channel(0).attach_disk(0, disk.get());
        ide.channel(1).attach_cdrom(0, cd.get());
        ide.attach(bus);
    }
    void enable() {
        ide.config_write(kPciBar0 + 16, 4, kBmBase);
        ide.config_write(kPciCommand, 2, kPciCmdIo | kPciCmdMaster);
        ide.config_write(0x40, 2, 0x8000);
        ide.config_write(0x42, 2, 0x8000);
    }
    uint8_t bm_in(uint8_t off) { return uint8_t(ide.io_read(uint16_t(kBmBase + off), 1)); }
    void bm_out(uint8_t off, uint8_t v) { ide.io_write(uint16_t(kBmBase + off), 1, v); }
    void prd(uint32_t table, std::vector<std::pair<uint32_t, uint32_t>> entries) {
        for (size_t i = 0; i < entries.size(); ++i) {
            uint8_t e[8];
            uint32_t a = entries[i].first, n = entries[i].second;
            for (int b = 0; b < 4; ++b) e[b] = uint8_t(a >> (8 * b));
            e[4] = uint8_t(n);
            e[5] = uint8_t(n >> 8);
            e[6] = 0;
            e[7] = i + 1 == entries.size() ? 0x80 : 0x00;
            REQUIRE(mem.copy_to(uint32_t(table + 8 * i), e, 8));
        }
    }
    // Programs channel `ch`'s engine: table, direction (true: device to memory), clear status.
    void setup(unsigned ch, uint32_t table, bool to_memory) {
        uint8_t o = uint8_t(ch * 8);
        ide.io_write(uint16_t(kBmBase + o + 4), 4, table);
        bm_out(o, to_memory ? kBmCmdWrite : 0);
        bm_out(uint8_t(o + 2), kBmStError | kBmStIrq);
    }
    std::vector<uint8_t> ram(uint32_t addr, size_t n) {
        std::vector<uint8_t> v(n);
        REQUIRE(mem.copy_from(addr, v.data(), n));
        return v;
    }
};

}  // namespace

TEST_CASE("PIIX IDE: configuration space and legacy decode enables") {
    PiixRig r;
    CHECK(r.ide.config_read(kPciVendor, 2) == 0x8086);
    CHECK(r.ide.config_read(kPciDevice, 2) == 0x7010);
    CHECK((r.ide.config_read(kPciRevision, 4) >> 8) == 0x010180);
    CHECK(r.ide.config_read(kPciHeaderType, 1) == 0x00);
    CHECK(r.ide.config_read(kPciBar0 + 16, 4) == 0x00000001);
    r.ide.config_write(kPciBar0 + 16, 4, 0xFFFFFFFF);
    // 16 bytes of I/O; the upper bits read back as written, as on QEMU, because SeaBIOS sizes
    // I/O BARs with 32-bit arithmetic.
    CHECK(r.ide.config_read(kPciBar0 + 16, 4) == 0xFFFFFFF1);
    CHECK(r.ide.config_read(0x40, 4) == 0);

    // Nothing decoded at power-on: the ports float.
    CHECK(r.p.in(kStat) == 0xFF);
    r.ide.config_write(kPciCommand, 2, kPciCmdIo);
    CHECK(r.p.in(kStat) == 0xFF);
    r.ide.config_write(0x40, 2, 0x8000);
    CHECK(r.p.in(kStat) == 0x50);
    CHECK(r.s.in(kStat) == 0xFF);  // secondary still off
    r.ide.config_write(0x42, 2, 0x8000);
    CHECK(r.s.in(kLbaM) == 0x14);
    r.ide.config_write(0x40, 2, 0x0000);
    CHECK(r.p.in(kStat) == 0xFF);
}

TEST_CASE("PIIX IDE: READ DMA and WRITE DMA through a PRD table") {
    PiixRig r;
    r.enable();
    r.prd(0x1000, {{0x10000, 512}, {0x20000, 1024}});
    r.setup(0, 0x1000, true);
    r.p.lba28(40, 3);
    r.p.out(kCmd, 0xC8);  // READ DMA before the engine starts: the drive waits
    CHECK(r.pic.rises[14] == 0);
    CHECK((r.p.alt() & (kAtaStBsy | kAtaStDrq)) != 0);
    r.bm_out(0, kBmCmdWrite | kBmCmdStart);
    CHECK(r.pic.rises[14] == 1);
    CHECK((r.bm_in(2) & (kBmStIrq | kBmStActive | kBmStError)) == kBmStIrq);  // exact fit
    CHECK(r.p.in(kStat) == 0x50);
    CHECK(matches(r.ram(0x10000, 512), 40 * 512));
    CHECK(matches(r.ram(0x20000, 1024), 41 * 512));
    r.bm_out(0, kBmCmdWrite);
    r.bm_out(2, kBmStIrq);  // write 1 to clear
    CHECK((r.bm_in(2) & kBmStIrq) == 0);

    // WRITE DMA EXT: memory -> disk, started before the command this time.
    std::vector<uint8_t> src(1024);
    for (size_t i = 0; i < src.size(); ++i) src[i] = uint8_t(i * 7 + 3);
    REQUIRE(r.mem.copy_to(0x30000, src.data(), src.size()));
    r.prd(0x1100, {{0x30000, 1024}});
    r.setup(0, 0x1100, false);
    r.bm_out(0, kBmCmdStart);
    r.p.lba48(500, 2);
    r.p.out(kCmd, 0x35);
    CHECK(r.pic.rises[14] == 2);
    CHECK((r.bm_in(2) & (kBmStIrq | kBmStActive)) == kBmStIrq);
    CHECK(r.p.in(kStat) == 0x50);
    std::vector<uint8_t> got(1024);
    REQUIRE(r.disk->read(500 * 512, got.data(), got.size()));
    CHECK(got == src);
}

TEST_CASE("PIIX IDE: PRD table longer, shorter, or outside memory") {
    PiixRig r;
    r.enable();
    SUBCASE("larger than the transfer: interrupt with active still set") {
        r.prd(0x1000, {{0x10000, 4096}});
        r.setup(0, 0x1000, true);
        r.p.lba28(0, 1);
        r.p.out(kCmd, 0xC8);
        r.bm_out(0, kBmCmdWrite | kBmCmdStart);
        CHECK((r.bm_in(2) & (kBmStIrq | kBmStActive)) == (kBmStIrq | kBmStActive));
        CHECK(r.pic.rises[14] == 1);
        r.bm_out(0, 0);
        CHECK((r.bm_in(2) & kBmStActive) == 0);
    }
    SUBCASE("transfer ends on an entry boundary before EOT: active still set") {
        r.prd(0x1000, {{0x10000, 512}, {0x20000, 512}});
        r.setup(0, 0x1000, true);
        r.p.lba28(0, 1);
        r.p.out(kCmd, 0xC8);
        r.bm_out(0, kBmCmdWrite | kBmCmdStart);
        CHECK((r.bm_in(2) & (kBmStIrq | kBmStActive)) == (kBmStIrq | kBmStActive));
    }
    SUBCASE("too short: active and interrupt clear, no error, no IRQ") {
        r.prd(0x1000, {{0x10000, 512}});
        r.setup(0, 0x1000, true);
        r.p.lba28(0, 2);
        r.p.out(kCmd, 0xC8);
        r.bm_out(0, kBmCmdWrite | kBmCmdStart);
        CHECK((r.bm_in(2) & (kBmStIrq | kBmStActive | kBmStError)) == 0);
        CHECK(r.pic.rises[14] == 0);
        CHECK((r.p.alt() & kAtaStDrq) != 0);  // the drive still wants to transfer
        CHECK(matches(r.ram(0x10000, 512), 0));
    }
    SUBCASE("64 KiB entry (count 0) and a buffer beyond RAM: error, no IRQ") {
        r.prd(0x1000, {{0x10000, 0}, {0xFFF00000, 512}});
        r.setup(0, 0x1000, true);
        r.p.lba28(0, 129);
        r.p.out(kCmd, 0xC8);
        r.bm_out(0, kBmCmdWrite | kBmCmdStart);
        CHECK((r.bm_in(2) & (kBmStIrq | kBmStActive | kBmStError)) == kBmStError);
        CHECK(r.pic.rises[14] == 0);
        CHECK(matches(r.ram(0x10000, 0x10000), 0));
        r.bm_out(2, kBmStError);
        CHECK((r.bm_in(2) & kBmStError) == 0);
    }
    SUBCASE("PRD table itself outside RAM") {
        r.setup(0, 0xFFFF0000, true);
        r.p.lba28(0, 1);
        r.p.out(kCmd, 0xC8);
        r.bm_out(0, kBmCmdWrite | kBmCmdStart);
        CHECK((r.bm_in(2) & (kBmStActive | kBmStError)) == kBmStError);
    }
    SUBCASE("bus master disabled in PCI command: nothing moves") {
        r.ide.config_write(kPciCommand, 2, kPciCmdIo);
        r.prd(0x1000, {{0x10000, 512}});
        r.setup(0, 0x1000, true);
        r.p.lba28(0, 1);
        r.p.out(kCmd, 0xC8);
        r.bm_out(0, kBmCmdWrite | kBmCmdStart);
        CHECK(r.pic.rises[14] == 0);
        CHECK(r.ram(0x10000, 512) == std::vector<uint8_t>(512, 0));
        r.ide.config_write(kPciCommand, 2, kPciCmdIo | kPciCmdMaster);  // transfer proceeds
        CHECK(r.pic.rises[14] == 1);
        CHECK(matches(r.ram(0x10000, 512), 0));
    }
}

TEST_CASE("PIIX IDE: ATAPI READ(10) with the DMA feature bit on the secondary channel") {
    PiixRig r;
    r.enable();
    r.prd(0x2000, {{0x40000, 4096}});
    r.setup(1, 0x2000, true);
    r.bm_out(8, kBmCmdWrite | kBmCmdStart);
    r.s.packet({0x28, 0, 0, 0, 0, 3, 0, 0, 2}, 0, true);
    CHECK(r.pic.rises[15] == 1);
    CHECK(r.pic.rises[14] == 0);
    CHECK((r.bm_in(10) & (kBmStIrq | kBmStActive | kBmStError)) == kBmStIrq);
    CHECK(r.s.in(kStat) == 0x50);
    CHECK((r.s.in(kCount) & 0x03) == 0x03);
    CHECK(matches(r.ram(0x40000, 4096), 3 * 2048));
}

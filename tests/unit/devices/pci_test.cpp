// PCI bus (configuration mechanism #1, standard header, BAR mapping), the i440FX host bridge's
// PAM/SMRAM registers and the PIIX3's PIRQ routing, driven through the I/O ports the way a BIOS
// does.
#include "devices/pci.h"

#include <doctest/doctest.h>

#include <tuple>
#include <vector>

#include "devices/i440fx.h"
#include "devices/io_bus.h"
#include "devices/piix3.h"
#include "mmu/memory.h"

using namespace vx86;
using namespace vx86::devices;

namespace {

constexpr uint32_t kRam = 4u << 20;

// A small function with an I/O BAR (16 ports), a memory BAR (4 KiB), a prefetchable memory
// BAR (64 KiB), an expansion ROM and INTA#.
class FakeDev final : public PciDevice, public IoDevice, public mmu::MmioHandler {
public:
    explicit FakeDev(uint8_t pin = 1) : PciDevice(0x1234, 0x5678, 0x01, 0xFF0000) {
        declare_io_bar(0, 16, this, kIoSize8 | kIoSize16 | kIoSize32);
        declare_mem_bar(1, 4096, this);
        declare_mem_bar(2, 65536, this, true);
        std::vector<uint8_t> rom(3000, 0);
        rom[0] = 0x55;
        rom[1] = 0xAA;
        rom[2999] = 0x77;
        declare_rom(rom);
        set_cfg8(kPciIntPin, pin);
        set_cfg16(kPciStatus, 0x2000);  // "received master abort" pending at power-on
    }
    uint32_t io_read(uint16_t port, unsigned) override {
        ++io_reads;
        last_port = port;
        return 0xA5;
    }
    void io_write(uint16_t port, unsigned, uint32_t) override { last_port = port; }
    uint32_t mmio_read(uint32_t addr, unsigned) override {
        last_addr = addr;
        return 0xCAFEF00D;
    }
    void mmio_write(uint32_t addr, unsigned, uint32_t) override { last_addr = addr; }
    using PciDevice::set_intx;

    int io_reads = 0;
    uint16_t last_port = 0;
    uint32_t last_addr = 0;
};

struct Router final : IntxRouter {
    std::vector<std::tuple<unsigned, unsigned, bool>> calls;
    void route_intx(unsigned device, unsigned pin, bool level) override {
        calls.emplace_back(device, pin, level);
    }
};

struct Pic final : IrqSink {
    std::array<bool, 16> level{};
    int calls = 0;
    void set_irq(unsigned irq, bool l) override {
        level[irq] = l;
        ++calls;
    }
};

struct Rig {
    IoBus io;
    mmu::PhysMemory mem{kRam};
    PciBus bus{io, mem};
    Rig() { bus.attach(); }

    void addr(unsigned devfn, uint8_t off) {
        io.write(0xCF8, 4, 0x80000000u | devfn << 8 | (off & 0xFC));
    }
    uint32_t rd(unsigned devfn, uint8_t off, unsigned size) {
        addr(devfn, off);
        return io.read(uint16_t(0xCFC + (off & 3)), size);
    }
    void wr(unsigned devfn, uint8_t off, unsigned size, uint32_t v) {
        addr(devfn, off);
        io.write(uint16_t(0xCFC + (off & 3)), size, v);
    }
};

constexpr unsigned kDev = 3 << 3;  // 00:03.0

}  // namespace

TEST_CASE("pci: CONFIG_ADDRESS is a dword register with reserved bits reading 0") {
    Rig r;
    r.io.write(0xCF8, 4, 0x80001234);
    CHECK(r.io.read(0xCF8, 4) == 0x80001234);
    r.io.write(0xCF8, 4, 0xFFFFFFFF);
    CHECK(r.io.read(0xCF8, 4) == 0x80FFFFFC);  // bits 30:24 and 1:0 reserved
    r.io.write(0xCF8, 1, 0x00);                // byte writes are not config address writes
    CHECK(r.io.read(0xCF8, 4) == 0x80FFFFFC);
}

TEST_CASE("pci: the enable bit, byte/word access at 0xCFC+n and absent functions") {
    Rig r;
    FakeDev d;
    r.bus.add(kDev, &d);

    r.io.write(0xCF8, 4, kDev << 8);  // enable bit clear
    CHECK(r.io.read(0xCFC, 4) == 0xFFFFFFFF);

    CHECK(r.rd(kDev, 0x00, 4) == 0x56781234);
    CHECK(r.rd(kDev, 0x00, 2) == 0x1234);
    CHECK(r.rd(kDev, 0x02, 2) == 0x5678);
    CHECK(r.rd(kDev, 0x01, 1) == 0x12);
    CHECK(r.rd(kDev, 0x03, 1) == 0x56);
    CHECK(r.rd(kDev, 0x08, 4) == 0xFF000001);  // class FF, subclass 0, prog-if 0, revision 1

    CHECK(r.rd(4 << 3, 0x00, 4) == 0xFFFFFFFF);  // no device 4
    CHECK(r.rd(4 << 3, 0x00, 2) == 0xFFFF);
    CHECK(r.rd(kDev | 1, 0x00, 4) == 0xFFFFFFFF);   // no function 1
    r.io.write(0xCF8, 4, 0x80010000u | kDev << 8);  // bus 1
    CHECK(r.io.read(0xCFC, 4) == 0xFFFFFFFF);
}

TEST_CASE("pci: functions of a multi-function device are found only where they exist") {
    Rig r;
    Piix3 isa(nullptr);
    FakeDev f1;
    r.bus.add(1 << 3, &isa);
    r.bus.add((1 << 3) | 1, &f1);
    CHECK((r.rd(1 << 3, 0x0E, 1) & 0x80) != 0);
    CHECK(r.rd((1 << 3) | 1, 0x00, 4) == 0x56781234);
    CHECK(r.rd((1 << 3) | 2, 0x00, 4) == 0xFFFFFFFF);
}

TEST_CASE("pci: IDs are read-only, command masks, status bits are write-1-to-clear") {
    Rig r;
    FakeDev d;
    r.bus.add(kDev, &d);
    r.wr(kDev, 0x00, 4, 0);
    CHECK(r.rd(kDev, 0x00, 4) == 0x56781234);
    r.wr(kDev, 0x0E, 1, 0x80);
    CHECK(r.rd(kDev, 0x0E, 1) == 0x00);

    r.wr(kDev, 0x04, 2, 0xFFFF);
    CHECK(r.rd(kDev, 0x04, 2) == 0x0547);  // I/O, mem, master, parity, SERR, INTx disable
    r.wr(kDev, 0x04, 2, 0);

    CHECK(r.rd(kDev, 0x06, 2) == 0x2000);
    r.wr(kDev, 0x06, 2, 0x0000);  // writing 0 keeps it
    CHECK(r.rd(kDev, 0x06, 2) == 0x2000);
    r.wr(kDev, 0x04, 4, 0x20000000);  // dword write: command 0, status bit 13 cleared
    CHECK(r.rd(kDev, 0x06, 2) == 0x0000);

    r.wr(kDev, 0x3C, 1, 11);  // interrupt line is plain storage
    CHECK(r.rd(kDev, 0x3C, 1) == 11);
    CHECK(r.rd(kDev, 0x3D, 1) == 1);
}

TEST_CASE("pci: BAR sizing reads back ~(size-1) with the type bits") {
    Rig r;
    FakeDev d;
    r.bus.add(kDev, &d);
    CHECK(r.rd(kDev, 0x10, 4) == 0x00000001);  // I/O BAR bit 0
    for (uint8_t off : {0x10, 0x14, 0x18, 0x1C, 0x30}) r.wr(kDev, off, 4, 0xFFFFFFFF);
    CHECK(r.rd(kDev, 0x10, 4) == 0xFFFFFFF1);
    CHECK(r.rd(kDev, 0x14, 4) == 0xFFFFF000);
    CHECK(r.rd(kDev, 0x18, 4) == 0xFFFF0008);  // prefetchable
    CHECK(r.rd(kDev, 0x1C, 4) == 0x00000000);  // unimplemented BAR
    CHECK(r.rd(kDev, 0x30, 4) == 0xFFFFF001);  // 3000-byte ROM: a 4 KiB BAR, enable bit
    // A byte write to a BAR only changes that byte.
    r.wr(kDev, 0x10, 4, 0);
    r.wr(kDev, 0x11, 1, 0xC0);
    CHECK(r.rd(kDev, 0x10, 4) == 0x0000C001);
}

TEST_CASE("pci: I/O BARs are attached to the IoBus while I/O decoding is on") {
    Rig r;
    FakeDev d;
    r.bus.add(kDev, &d);
    r.wr(kDev, 0x10, 4, 0xC000);
    CHECK(r.io.read(0xC004, 1) == 0xFF);  // decoding off
    CHECK(d.io_reads == 0);
    CHECK(d.bar_base(0) == 0);

    r.wr(kDev, 0x04, 2, kPciCmdIo);
    CHECK(r.io.read(0xC004, 1) == 0xA5);
    CHECK(d.last_port == 0xC004);  // absolute port
    CHECK(r.io.read(0xC00F, 1) == 0xA5);
    CHECK(r.io.read(0xC010, 1) == 0xFF);
    CHECK(d.bar_base(0) == 0xC000);

    r.wr(kDev, 0x10, 4, 0xC100);  // moving it frees the old ports
    CHECK(r.io.read(0xC004, 1) == 0xFF);
    CHECK(r.io.read(0xC104, 1) == 0xA5);
    CHECK(d.bar_base(0) == 0xC100);

    r.wr(kDev, 0x10, 4, 0xFFFFFFFF);  // sizing with decoding on maps nothing
    CHECK(d.bar_base(0) == 0);
    CHECK(r.io.read(0xC104, 1) == 0xFF);
    r.wr(kDev, 0x10, 4, 0);  // base 0 is never mapped
    CHECK(d.bar_base(0) == 0);
    CHECK(r.io.read(0x0000, 1) == 0xFF);

    r.wr(kDev, 0x10, 4, 0xC200);
    CHECK(d.bar_base(0) == 0xC200);
    r.wr(kDev, 0x04, 2, 0);  // decoding off unmaps
    CHECK(d.bar_base(0) == 0);
    CHECK(r.io.read(0xC200, 1) == 0xFF);
}

TEST_CASE("pci: memory BARs are mapped in PhysMemory while memory decoding is on") {
    Rig r;
    FakeDev d;
    r.bus.add(kDev, &d);
    r.mem.write(0x200000, 4, 0x11223344);
    r.wr(kDev, 0x14, 4, 0x200000);
    CHECK(r.mem.read(0x200000, 4) == 0x11223344);  // decoding off: RAM

    r.wr(kDev, 0x04, 2, kPciCmdMem);
    CHECK(r.mem.kind(0x200000) == mmu::PageKind::kMmio);
    CHECK(r.mem.read(0x200010, 4) == 0xCAFEF00D);
    CHECK(d.last_addr == 0x200010);  // absolute address
    CHECK(r.mem.kind(0x201000) == mmu::PageKind::kRam);
    CHECK(d.bar_base(1) == 0x200000);

    r.wr(kDev, 0x14, 4, 0x300000);  // move: RAM comes back below the old place
    CHECK(r.mem.kind(0x200000) == mmu::PageKind::kRam);
    CHECK(r.mem.read(0x200000, 4) == 0x11223344);
    CHECK(r.mem.kind(0x300000) == mmu::PageKind::kMmio);

    // Above RAM (an address in the PCI hole).
    r.wr(kDev, 0x18, 4, 0xE0000000);
    CHECK(r.mem.kind(0xE0000000) == mmu::PageKind::kMmio);
    CHECK(r.mem.kind(0xE000F000) == mmu::PageKind::kMmio);
    CHECK(r.mem.kind(0xE0010000) == mmu::PageKind::kUnmapped);
    CHECK(d.bar_base(2) == 0xE0000000);

    // Sizing with decoding on: the all-ones BAR touches 0xFFFFFFFF and is not mapped.
    r.wr(kDev, 0x18, 4, 0xFFFFFFFF);
    CHECK(d.bar_base(2) == 0);
    CHECK(r.mem.kind(0xE0000000) == mmu::PageKind::kUnmapped);
    CHECK(r.mem.kind(0xFFFF0000) == mmu::PageKind::kUnmapped);

    r.wr(kDev, 0x04, 2, 0);
    CHECK(r.mem.kind(0x300000) == mmu::PageKind::kRam);
    CHECK(d.bar_base(1) == 0);
}

TEST_CASE("pci: the expansion ROM is mapped read-only when enabled and memory decoding is on") {
    Rig r;
    FakeDev d;
    r.bus.add(kDev, &d);
    r.wr(kDev, 0x30, 4, 0x380000);  // enable bit clear
    r.wr(kDev, 0x04, 2, kPciCmdMem);
    CHECK(r.mem.kind(0x380000) == mmu::PageKind::kRam);
    CHECK(d.bar_base(6) == 0);

    r.wr(kDev, 0x30, 4, 0x380001);
    CHECK(r.rd(kDev, 0x30, 4) == 0x380001);
    CHECK(d.bar_base(6) == 0x380000);
    CHECK(r.mem.read(0x380000, 2) == 0xAA55);
    CHECK(r.mem.read8(0x380000 + 2999) == 0x77);
    CHECK(r.mem.read8(0x380000 + 3000) == 0xFF);  // past the image, inside the BAR
    r.mem.write8(0x380000, 0);
    CHECK(r.mem.read8(0x380000) == 0x55);  // read-only

    r.wr(kDev, 0x04, 2, 0);  // memory decoding off
    CHECK(r.mem.kind(0x380000) == mmu::PageKind::kRam);
    r.wr(kDev, 0x04, 2, kPciCmdMem);
    CHECK(r.mem.read8(0x380000) == 0x55);
    r.wr(kDev, 0x30, 4, 0x380000);  // ROM enable off
    CHECK(r.mem.kind(0x380000) == mmu::PageKind::kRam);
}

TEST_CASE("pci: bus reset restores the header and unmaps every BAR") {
    Rig r;
    FakeDev d;
    r.bus.add(kDev, &d);
    r.wr(kDev, 0x10, 4, 0xC000);
    r.wr(kDev, 0x14, 4, 0x200000);
    r.wr(kDev, 0x04, 2, kPciCmdIo | kPciCmdMem);
    REQUIRE(r.mem.kind(0x200000) == mmu::PageKind::kMmio);
    r.bus.reset();
    CHECK(r.rd(kDev, 0x04, 2) == 0);
    CHECK(r.rd(kDev, 0x10, 4) == 1);
    CHECK(r.rd(kDev, 0x14, 4) == 0);
    CHECK(r.rd(kDev, 0x06, 2) == 0x2000);
    CHECK(r.mem.kind(0x200000) == mmu::PageKind::kRam);
    CHECK(r.io.read(0xC000, 1) == 0xFF);
    CHECK(d.bar_base(0) == 0);
}

TEST_CASE("pci: INTx goes to the router by device and pin, gated by the interrupt disable bit") {
    Rig r;
    Router router;
    r.bus.set_intx_router(&router);
    FakeDev d(2);  // INTB#
    r.bus.add(kDev, &d);

    d.set_intx(true);
    REQUIRE(router.calls.size() == 1);
    CHECK(router.calls[0] == std::make_tuple(3u, 2u, true));
    CHECK((r.rd(kDev, 0x06, 2) & kPciStatusIntx) != 0);
    d.set_intx(true);  // no change, no call
    CHECK(router.calls.size() == 1);

    r.wr(kDev, 0x04, 2, kPciCmdIntxDisable);
    REQUIRE(router.calls.size() == 2);
    CHECK(router.calls[1] == std::make_tuple(3u, 2u, false));
    CHECK((r.rd(kDev, 0x06, 2) & kPciStatusIntx) != 0);  // status still shows the request
    d.set_intx(false);
    CHECK(router.calls.size() == 2);
    CHECK((r.rd(kDev, 0x06, 2) & kPciStatusIntx) == 0);
    d.set_intx(true);
    CHECK(router.calls.size() == 2);
    r.wr(kDev, 0x04, 2, 0);  // re-enabled while asserted
    REQUIRE(router.calls.size() == 3);
    CHECK(router.calls[2] == std::make_tuple(3u, 2u, true));

    r.bus.reset();  // reset lowers the pin
    REQUIRE(router.calls.size() == 4);
    CHECK(router.calls[3] == std::make_tuple(3u, 2u, false));
}

TEST_CASE("pci: 0xCF9 reset control starts a reset on RCPU 0->1") {
    Rig r;
    std::vector<bool> resets;
    r.bus.set_reset_request([&](bool hard) { resets.push_back(hard); });
    r.io.write(0xCF9, 1, 0x02);
    CHECK(resets.empty());
    CHECK(r.io.read(0xCF9, 1) == 0x02);
    r.io.write(0xCF9, 1, 0x06);
    REQUIRE(resets.size() == 1);
    CHECK(resets[0]);
    r.io.write(0xCF9, 1, 0x04);
    REQUIRE(resets.size() == 2);
    CHECK_FALSE(resets[1]);
}

// ---------------------------------------------------------------------------------------------
// PIIX3

TEST_CASE("piix3: identity and power-on register values") {
    Rig r;
    Piix3 isa(nullptr);
    r.bus.add(1 << 3, &isa);
    CHECK(r.rd(1 << 3, 0x00, 4) == 0x70008086);
    CHECK(r.rd(1 << 3, 0x0A, 2) == 0x0601);
    CHECK(r.rd(1 << 3, 0x0E, 1) == 0x80);
    CHECK(r.rd(1 << 3, 0x60, 4) == 0x80808080);
    CHECK(r.rd(1 << 3, 0x4C, 1) == 0x4D);
    CHECK(r.rd(1 << 3, 0x4E, 1) == 0x03);
    CHECK(r.rd(1 << 3, 0x69, 1) == 0x02);
    CHECK(r.rd(1 << 3, 0x70, 1) == 0x80);
    r.wr(1 << 3, 0x60, 1, 0xFF);
    CHECK(r.rd(1 << 3, 0x60, 1) == 0x8F);  // bits 6:4 reserved
    r.wr(1 << 3, 0xB0, 1, 0x12);
    CHECK(r.rd(1 << 3, 0xB0, 1) == 0x12);
}

TEST_CASE("piix3: INTx is swizzled onto PIRQA-D and routed by PIRQRC") {
    Rig r;
    Pic pic;
    Piix3 isa(&pic);
    r.bus.add(1 << 3, &isa);
    r.bus.set_intx_router(&isa);
    FakeDev d3(1);  // 00:03.0 INTA# -> PIRQC
    r.bus.add(kDev, &d3);

    d3.set_intx(true);
    CHECK(isa.pirq_count(2) == 1);
    CHECK(pic.calls == 0);  // PIRQC routing disabled at power-on

    r.wr(1 << 3, 0x62, 1, 11);
    CHECK(pic.level[11]);
    CHECK(isa.pirq_irq(2) == 11);

    r.wr(1 << 3, 0x62, 1, 10);  // re-route while asserted
    CHECK_FALSE(pic.level[11]);
    CHECK(pic.level[10]);

    r.wr(1 << 3, 0x62, 1, 0x8A);  // disable
    CHECK_FALSE(pic.level[10]);
    r.wr(1 << 3, 0x62, 1, 0x02);  // reserved IRQ value: routes nowhere
    CHECK(isa.pirq_irq(2) == -1);
    for (bool l : pic.level) CHECK_FALSE(l);

    r.wr(1 << 3, 0x62, 1, 5);
    CHECK(pic.level[5]);
    d3.set_intx(false);
    CHECK_FALSE(pic.level[5]);
    CHECK(isa.pirq_count(2) == 0);
}

TEST_CASE("piix3: the swizzle matches SeaBIOS's (pin - 1 + device - 1) & 3") {
    Piix3 isa(nullptr);
    isa.route_intx(1, 1, true);  // 00:01 INTA# -> PIRQA
    CHECK(isa.pirq_count(0) == 1);
    isa.route_intx(2, 1, true);  // 00:02 INTA# -> PIRQB
    CHECK(isa.pirq_count(1) == 1);
    isa.route_intx(1, 2, true);  // 00:01 INTB# -> PIRQB
    CHECK(isa.pirq_count(1) == 2);
    isa.route_intx(5, 1, true);  // 00:05 INTA# -> PIRQA
    CHECK(isa.pirq_count(0) == 2);
    isa.route_intx(4, 4, true);  // 00:04 INTD# -> PIRQC
    CHECK(isa.pirq_count(2) == 1);
    CHECK(isa.pirq_count(3) == 0);
}

TEST_CASE("piix3: lines sharing a PIRQ or an IRQ are wired-OR") {
    Rig r;
    Pic pic;
    Piix3 isa(&pic);
    r.bus.add(1 << 3, &isa);
    r.bus.set_intx_router(&isa);
    FakeDev a(1), b(2), c(1);
    r.bus.add(3 << 3, &a);              // INTA# -> PIRQC
    r.bus.add(2 << 3, &b);              // INTB# -> PIRQC
    r.bus.add(4 << 3, &c);              // INTA# -> PIRQD
    r.wr(1 << 3, 0x60, 4, 0x0B0B0A0A);  // A,B -> 10; C,D -> 11 (SeaBIOS's choice)

    a.set_intx(true);
    b.set_intx(true);
    CHECK(pic.level[11]);
    a.set_intx(false);
    CHECK(pic.level[11]);  // b still asserts PIRQC
    c.set_intx(true);
    b.set_intx(false);
    CHECK(pic.level[11]);  // PIRQD on the same IRQ
    c.set_intx(false);
    CHECK_FALSE(pic.level[11]);
    CHECK_FALSE(pic.level[10]);
}

// ---------------------------------------------------------------------------------------------
// i440FX

TEST_CASE("i440fx: identity") {
    Rig r;
    I440fx nb(nullptr);
    r.bus.add(0, &nb);
    CHECK(r.rd(0, 0x00, 4) == 0x12378086);
    CHECK(r.rd(0, 0x08, 4) == 0x06000002);
    CHECK(r.rd(0, 0x2C, 4) == 0x11001AF4);
    CHECK(r.rd(0, 0x0E, 1) == 0x00);
}

TEST_CASE("i440fx: PAM registers report shadow changes per segment") {
    struct Call {
        uint32_t base, size;
        bool r, w;
    };
    std::vector<Call> calls;
    Rig r;
    I440fx nb([&](uint32_t base, uint32_t size, bool rd, bool wr) {
        calls.push_back({base, size, rd, wr});
    });
    r.bus.add(0, &nb);

    r.bus.reset();  // power-on: every segment to the ROM/PCI side
    REQUIRE(calls.size() == 13);
    uint32_t covered = 0;
    for (const Call& c : calls) {
        CHECK_FALSE(c.r);
        CHECK_FALSE(c.w);
        CHECK(c.base >= 0xC0000);
        CHECK(c.base + c.size <= 0x100000);
        covered += c.size;
    }
    CHECK(covered == 0x40000);

    // SeaBIOS make_bios_writable: dwords at 0x58 and 0x5C, PAM0 = 0x30, PAM1-6 = 0x33.
    calls.clear();
    r.wr(0, 0x58, 4, 0x33333000u | r.rd(0, 0x58, 1));
    r.wr(0, 0x5C, 4, 0x33333333);
    CHECK(calls.size() == 13);
    for (const Call& c : calls) {
        CHECK(c.r);
        CHECK(c.w);
    }
    CHECK(r.rd(0, 0x59, 1) == 0x30);

    // Read-only BIOS, write-protected C0000-C7FFF: only PAM0 and PAM1 change.
    calls.clear();
    r.wr(0, 0x59, 2, 0x1110);
    REQUIRE(calls.size() == 3);
    CHECK(calls[0].base == 0xF0000);
    CHECK(calls[0].size == 0x10000);
    CHECK(calls[0].r);
    CHECK_FALSE(calls[0].w);
    CHECK(calls[1].base == 0xC0000);
    CHECK(calls[2].base == 0xC4000);
    CHECK(calls[2].size == 0x4000);

    calls.clear();
    r.wr(0, 0x5F, 1, 0x03);  // PAM6 high nibble off: 0xEC000 only
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].base == 0xEC000);
    CHECK_FALSE(calls[0].r);

    r.wr(0, 0x59, 1, 0xFF);  // reserved bits read 0
    CHECK(r.rd(0, 0x59, 1) == 0x30);
    r.wr(0, 0x5A, 1, 0xFF);
    CHECK(r.rd(0, 0x5A, 1) == 0x33);
}

TEST_CASE("i440fx: SMRAM register write rules") {
    Rig r;
    I440fx nb(nullptr);
    r.bus.add(0, &nb);
    CHECK(r.rd(0, 0x72, 1) == 0x02);
    r.wr(0, 0x72, 1, 0x4F);  // D_OPEN | G_SMRAME, C_BASE_SEG is hardwired
    CHECK(r.rd(0, 0x72, 1) == 0x4A);
    r.wr(0, 0x72, 1, 0x58);  // D_LCK clears D_OPEN
    CHECK(r.rd(0, 0x72, 1) == 0x1A);
    r.wr(0, 0x72, 1, 0x40);  // locked: D_OPEN, D_LCK, G_SMRAME read-only
    CHECK(r.rd(0, 0x72, 1) == 0x1A);
    r.wr(0, 0x70, 4, 0x00200000);  // D_CLS stays writable, also inside a dword
    CHECK(r.rd(0, 0x72, 1) == 0x3A);
    r.bus.reset();
    CHECK(nb.smram() == 0x02);
}

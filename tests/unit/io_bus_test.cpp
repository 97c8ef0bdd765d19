// IoBus (devices/io_bus.h): port I/O routing and the ISA-style splitting of wide accesses.
//
// A recording device logs every call it receives, so the tests see exactly how the bus cut an
// access up (order, ports, sizes, values) rather than only the combined result. The observer is
// checked to see each CPU-level access exactly once, with the value the CPU got or gave.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "devices/io_bus.h"

using namespace vx86::devices;

namespace {

struct Call {
    uint16_t port;
    unsigned size;
    uint32_t value;
    bool write;
    bool operator==(const Call&) const = default;
};

struct RecordingDevice final : IoDevice {
    uint32_t tag;  // distinguishes devices in read values
    std::vector<Call> log;
    explicit RecordingDevice(uint32_t t = 0) : tag(t) {}
    // Each byte of a read carries its port's low byte plus the tag, so splits are visible.
    uint32_t value_for(uint16_t port, unsigned size) const {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; ++i) v |= uint32_t(uint8_t(port + i + tag)) << (8 * i);
        return v;
    }
    uint32_t io_read(uint16_t port, unsigned size) override {
        log.push_back({port, size, 0, false});
        return value_for(port, size);
    }
    void io_write(uint16_t port, unsigned size, uint32_t value) override {
        log.push_back({port, size, value, true});
    }
};

}  // namespace

namespace doctest {
template <>
struct StringMaker<Call> {
    static String convert(const Call& c) {
        char buf[80];
        std::snprintf(buf, sizeof buf, "{%s port 0x%x size %u value 0x%x}",
                      c.write ? "out" : "in", c.port, c.size, c.value);
        return buf;
    }
};
}  // namespace doctest

TEST_CASE("io bus: unclaimed ports read all ones and swallow writes") {
    IoBus io;
    CHECK(io.read(0x1234, 1) == 0xFFu);
    CHECK(io.read(0x1234, 2) == 0xFFFFu);
    CHECK(io.read(0x1234, 4) == 0xFFFFFFFFu);
    CHECK(io.read(0xFFFF, 2) == 0xFFFFu);  // wraps to port 0, also unclaimed
    io.write(0x1234, 4, 0);
    CHECK(io.read(0x1234, 4) == 0xFFFFFFFFu);
}

TEST_CASE("io bus: a byte-only device sees wide accesses as bytes, low port first") {
    IoBus io;
    RecordingDevice dev;
    io.attach(0x60, 8, &dev);  // default: 8-bit only

    CHECK(io.read(0x60, 1) == 0x60u);
    REQUIRE(dev.log.size() == 1);
    CHECK(dev.log[0] == Call{0x60, 1, 0, false});

    dev.log.clear();
    CHECK(io.read(0x61, 2) == 0x6261u);
    REQUIRE(dev.log.size() == 2);
    CHECK(dev.log[0] == Call{0x61, 1, 0, false});
    CHECK(dev.log[1] == Call{0x62, 1, 0, false});

    dev.log.clear();
    CHECK(io.read(0x62, 4) == 0x65646362u);
    REQUIRE(dev.log.size() == 4);
    for (unsigned i = 0; i < 4; ++i) CHECK(dev.log[i] == Call{uint16_t(0x62 + i), 1, 0, false});

    dev.log.clear();
    io.write(0x60, 2, 0xABCD);
    REQUIRE(dev.log.size() == 2);
    CHECK(dev.log[0] == Call{0x60, 1, 0xCD, true});
    CHECK(dev.log[1] == Call{0x61, 1, 0xAB, true});

    dev.log.clear();
    io.write(0x64, 4, 0x11223344u);
    REQUIRE(dev.log.size() == 4);
    CHECK(dev.log[0] == Call{0x64, 1, 0x44, true});
    CHECK(dev.log[1] == Call{0x65, 1, 0x33, true});
    CHECK(dev.log[2] == Call{0x66, 1, 0x22, true});
    CHECK(dev.log[3] == Call{0x67, 1, 0x11, true});

    // A byte write carries only the low byte of whatever the CPU had in the register.
    dev.log.clear();
    io.write(0x60, 1, 0xFFFFFF12u);
    REQUIRE(dev.log.size() == 1);
    CHECK(dev.log[0] == Call{0x60, 1, 0x12, true});
}

TEST_CASE("io bus: a 16-bit device gets whole words; dwords become two words") {
    IoBus io;
    RecordingDevice dev;
    io.attach(0x1F0, 8, &dev, kIoSize8 | kIoSize16);

    CHECK(io.read(0x1F0, 2) == 0xF1F0u);
    REQUIRE(dev.log.size() == 1);
    CHECK(dev.log[0] == Call{0x1F0, 2, 0, false});

    dev.log.clear();
    CHECK(io.read(0x1F0, 4) == dev.value_for(0x1F0, 4));
    REQUIRE(dev.log.size() == 2);
    CHECK(dev.log[0] == Call{0x1F0, 2, 0, false});
    CHECK(dev.log[1] == Call{0x1F2, 2, 0, false});

    dev.log.clear();
    io.write(0x1F0, 2, 0xBEEF);
    io.write(0x1F0, 4, 0x12345678u);
    io.write(0x1F7, 1, 0xEC);
    REQUIRE(dev.log.size() == 4);
    CHECK(dev.log[0] == Call{0x1F0, 2, 0xBEEF, true});
    CHECK(dev.log[1] == Call{0x1F0, 2, 0x5678, true});
    CHECK(dev.log[2] == Call{0x1F2, 2, 0x1234, true});
    CHECK(dev.log[3] == Call{0x1F7, 1, 0xEC, true});
}

TEST_CASE("io bus: a 32-bit device gets whole dwords") {
    IoBus io;
    RecordingDevice dev;
    io.attach(0xCF8, 4, &dev, kIoSize8 | kIoSize16 | kIoSize32);
    CHECK(io.read(0xCF8, 4) == dev.value_for(0xCF8, 4));
    io.write(0xCF8, 4, 0x80000000u);
    REQUIRE(dev.log.size() == 2);
    CHECK(dev.log[0] == Call{0xCF8, 4, 0, false});
    CHECK(dev.log[1] == Call{0xCF8, 4, 0x80000000u, true});
}

TEST_CASE("io bus: a wide access spanning a device and unclaimed ports") {
    IoBus io;
    RecordingDevice dev;
    io.attach(0x70, 2, &dev);  // 0x70, 0x71 claimed; 0x72, 0x73 free
    CHECK(io.read(0x71, 2) == 0xFF71u);
    CHECK(io.read(0x70, 4) == 0xFFFF7170u);
    CHECK(io.read(0x6F, 2) == 0x70FFu);
    REQUIRE(dev.log.size() == 4);
    CHECK(dev.log[3] == Call{0x70, 1, 0, false});
    dev.log.clear();
    io.write(0x71, 2, 0x1234);
    REQUIRE(dev.log.size() == 1);
    CHECK(dev.log[0] == Call{0x71, 1, 0x34, true});
}

TEST_CASE("io bus: the observer sees each access once with its value") {
    IoBus io;
    RecordingDevice dev;
    io.attach(0x60, 8, &dev);
    std::vector<Call> seen;
    io.set_observer([&](uint16_t port, unsigned size, uint32_t value, bool write) {
        seen.push_back({port, size, value, write});
    });
    uint32_t v = io.read(0x60, 4);
    io.write(0x62, 2, 0x1234);
    uint32_t u = io.read(0x3F8, 2);
    io.write(0x80, 1, 0x55);
    io.write(0x80, 1, 0x1AA);  // masked to the access size
    REQUIRE(seen.size() == 5);
    CHECK(seen[0] == Call{0x60, 4, v, false});
    CHECK(v == 0x63626160u);
    CHECK(seen[1] == Call{0x62, 2, 0x1234, true});
    CHECK(seen[2] == Call{0x3F8, 2, u, false});
    CHECK(u == 0xFFFFu);
    CHECK(seen[3] == Call{0x80, 1, 0x55, true});
    CHECK(seen[4] == Call{0x80, 1, 0xAA, true});
}

TEST_CASE("io bus: attach replaces, detach frees") {
    IoBus io;
    RecordingDevice a(0x00), b(0x40);
    io.attach(0x80, 16, &a);
    io.attach(0x84, 4, &b);
    CHECK(io.read(0x80, 1) == a.value_for(0x80, 1));
    CHECK(io.read(0x84, 1) == b.value_for(0x84, 1));
    CHECK(io.read(0x87, 1) == b.value_for(0x87, 1));
    CHECK(io.read(0x88, 1) == a.value_for(0x88, 1));
    CHECK(a.log.size() == 2);
    CHECK(b.log.size() == 2);

    io.detach(0x80, 16);
    a.log.clear();
    b.log.clear();
    for (uint16_t p = 0x80; p < 0x90; ++p) CHECK(io.read(p, 1) == 0xFFu);
    io.write(0x84, 1, 0);
    CHECK(a.log.empty());
    CHECK(b.log.empty());

    // Re-attaching after a detach works, and a range running off the top of the port space is
    // clamped rather than wrapping onto port 0.
    io.attach(0xFFFE, 8, &a);
    CHECK(io.read(0xFFFF, 1) == a.value_for(0xFFFF, 1));
    CHECK(io.read(0x0000, 1) == 0xFFu);
    CHECK(io.read(0x0001, 1) == 0xFFu);
}

TEST_CASE("io bus: two buses are independent") {
    IoBus x, y;
    RecordingDevice dev;
    x.attach(0x60, 1, &dev);
    CHECK(y.read(0x60, 1) == 0xFFu);
    CHECK(dev.log.empty());
}

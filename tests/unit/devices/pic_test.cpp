// Pic: the 8259A pair as the PC BIOS programs it, checked against the 8259A datasheet's
// priority, EOI, AEOI, rotation, special mask, poll and spurious-interrupt rules and the PIIX
// ELCR's edge/level behaviour.
#include <doctest/doctest.h>

#include <vector>

#include "devices/io_bus.h"
#include "devices/pic.h"

using namespace vx86::devices;

namespace {

struct PicRig {
    Pic pic;
    IoBus bus;
    PicRig() { pic.attach(bus); }

    void out(uint16_t port, uint8_t v) { bus.write(port, 1, v); }
    uint8_t in(uint16_t port) { return uint8_t(bus.read(port, 1)); }

    // The sequence SeaBIOS and the AT BIOS use: ICW1 edge/cascade/ICW4, ICW2 vector base,
    // ICW3 cascade wiring (master: slave on IR2; slave: identity 2), ICW4 8086 mode.
    void bios_init(uint8_t master_icw4 = 0x01, uint8_t slave_icw4 = 0x01) {
        out(0x20, 0x11);
        out(0x21, 0x08);
        out(0x21, 0x04);
        out(0x21, master_icw4);
        out(0xA0, 0x11);
        out(0xA1, 0x70);
        out(0xA1, 0x02);
        out(0xA1, slave_icw4);
        out(0x21, 0x00);  // everything unmasked
        out(0xA1, 0x00);
    }
    uint8_t master_isr() {
        out(0x20, 0x0B);
        return in(0x20);
    }
    uint8_t master_irr() {
        out(0x20, 0x0A);
        return in(0x20);
    }
    uint8_t slave_isr() {
        out(0xA0, 0x0B);
        return in(0xA0);
    }
    void eoi_master() { out(0x20, 0x20); }
    void eoi_slave() { out(0xA0, 0x20); }
    void pulse(unsigned irq) {
        pic.set_irq(irq, true);
        pic.set_irq(irq, false);
    }
};

}  // namespace

TEST_CASE("PIC: BIOS init sequence, masks, IRR and ISR reads") {
    PicRig r;
    r.bios_init();
    r.out(0x21, 0xFF);
    r.out(0xA1, 0xFF);
    CHECK(r.in(0x21) == 0xFF);
    CHECK(r.in(0xA1) == 0xFF);

    r.pic.set_irq(0, true);
    CHECK(r.master_irr() == 0x01);  // requested but masked
    CHECK_FALSE(r.pic.int_output());
    r.out(0x21, 0xFE);
    CHECK(r.pic.int_output());
    CHECK(r.pic.acknowledge() == 0x08);
    CHECK(r.master_isr() == 0x01);
    CHECK(r.master_irr() == 0x00);  // edge request consumed by INTA
    CHECK_FALSE(r.pic.int_output());
    r.eoi_master();
    CHECK(r.master_isr() == 0x00);
    // The input is still high: an edge input needs a new rising edge.
    CHECK_FALSE(r.pic.int_output());
    r.pic.set_irq(0, false);
    r.pic.set_irq(0, true);
    CHECK(r.pic.int_output());
}

TEST_CASE("PIC: fixed priority and nesting") {
    PicRig r;
    r.bios_init();
    r.pulse(3);
    r.pulse(1);
    CHECK(r.pic.acknowledge() == 0x09);  // IR1 beats IR3
    CHECK_FALSE(r.pic.int_output());     // IR3 waits behind IR1 in service
    r.pulse(0);
    CHECK(r.pic.int_output());            // a higher level nests
    CHECK(r.pic.acknowledge() == 0x08);
    CHECK(r.master_isr() == 0x03);
    r.eoi_master();                       // non-specific EOI ends the highest (IR0)
    CHECK(r.master_isr() == 0x02);
    CHECK_FALSE(r.pic.int_output());
    r.eoi_master();
    CHECK(r.pic.int_output());
    CHECK(r.pic.acknowledge() == 0x0B);
}

TEST_CASE("PIC: cascade through master IR2") {
    PicRig r;
    r.bios_init();
    r.pulse(12);
    CHECK(r.pic.int_output());
    CHECK((r.master_irr() & 0x04) != 0);
    CHECK(r.pic.acknowledge() == 0x74);
    CHECK(r.master_isr() == 0x04);
    CHECK(r.slave_isr() == 0x10);

    // Slave levels rank between IR1 and IR3 of the master.
    r.eoi_slave();
    r.eoi_master();
    r.pulse(3);
    r.pulse(8);
    CHECK(r.pic.acknowledge() == 0x70);
    r.eoi_slave();
    r.eoi_master();
    CHECK(r.pic.acknowledge() == 0x0B);
    r.eoi_master();

    // Without SFNM a higher slave request waits while the master has IR2 in service.
    r.pulse(12);
    CHECK(r.pic.acknowledge() == 0x74);
    r.pulse(8);
    CHECK_FALSE(r.pic.int_output());
    r.eoi_slave();
    r.eoi_master();
    CHECK(r.pic.acknowledge() == 0x70);
}

TEST_CASE("PIC: special fully nested mode lets the slave nest") {
    PicRig r;
    r.bios_init(0x11, 0x01);  // master ICW4: SFNM + 8086
    r.pulse(12);
    CHECK(r.pic.acknowledge() == 0x74);
    r.pulse(8);
    CHECK(r.pic.int_output());
    CHECK(r.pic.acknowledge() == 0x70);
    CHECK(r.slave_isr() == 0x11);
    r.pulse(13);  // lower than IR4 in service on the slave: still blocked by the slave
    CHECK_FALSE(r.pic.int_output());
}

TEST_CASE("PIC: specific EOI, rotate on EOI, set priority") {
    PicRig r;
    r.bios_init();
    r.pulse(1);
    CHECK(r.pic.acknowledge() == 0x09);
    r.pulse(0);
    CHECK(r.pic.acknowledge() == 0x08);
    r.out(0x20, 0x61);  // specific EOI for IR1
    CHECK(r.master_isr() == 0x01);
    r.out(0x20, 0x60);
    CHECK(r.master_isr() == 0x00);

    // Rotate on non-specific EOI: the serviced level becomes the lowest.
    r.pulse(0);
    CHECK(r.pic.acknowledge() == 0x08);
    r.out(0x20, 0xA0);
    r.pulse(0);
    r.pulse(5);
    CHECK(r.pic.acknowledge() == 0x0D);  // IR5 now outranks IR0
    r.out(0x20, 0xE5);                   // rotate on specific EOI: IR5 lowest, IR6 highest
    CHECK(r.master_isr() == 0x00);
    CHECK(r.pic.acknowledge() == 0x08);
    r.eoi_master();

    // Set priority: IR4 lowest, so IR5 is the highest and IR3 ranks below IR6.
    r.out(0x20, 0xC4);
    r.pulse(3);
    r.pulse(6);
    CHECK(r.pic.acknowledge() == 0x0E);
    r.eoi_master();
    CHECK(r.pic.acknowledge() == 0x0B);
}

TEST_CASE("PIC: automatic EOI and rotate in AEOI mode") {
    PicRig r;
    r.bios_init(0x03);  // master: AEOI + 8086
    r.pulse(3);
    CHECK(r.pic.acknowledge() == 0x0B);
    CHECK(r.master_isr() == 0x00);  // no ISR bit: nothing blocks
    r.pulse(4);
    CHECK(r.pic.int_output());
    CHECK(r.pic.acknowledge() == 0x0C);

    r.out(0x20, 0x80);  // set rotate in AEOI mode
    r.pulse(3);
    CHECK(r.pic.acknowledge() == 0x0B);  // IR3 serviced and made the lowest
    r.pulse(3);
    r.pulse(7);
    CHECK(r.pic.acknowledge() == 0x0F);  // IR7 outranks IR3 now; IR7 becomes the lowest
    r.out(0x20, 0x00);                   // clear rotate in AEOI mode
    r.pulse(7);
    CHECK(r.pic.acknowledge() == 0x0B);  // IR3 ranks above IR7 again
    CHECK(r.pic.acknowledge() == 0x0F);
    r.pulse(7);
    r.pulse(0);
    CHECK(r.pic.acknowledge() == 0x08);  // no rotation happened: IR7 is still the lowest
}

TEST_CASE("PIC: special mask mode enables lower levels") {
    PicRig r;
    r.bios_init();
    r.pulse(3);
    CHECK(r.pic.acknowledge() == 0x0B);
    r.pulse(5);
    CHECK_FALSE(r.pic.int_output());
    r.out(0x20, 0x68);  // OCW3: set special mask mode
    r.out(0x21, 0x08);  // mask the level in service
    CHECK(r.pic.int_output());
    CHECK(r.pic.acknowledge() == 0x0D);
    CHECK(r.master_isr() == 0x28);
    r.out(0x20, 0x65);  // specific EOI for IR5
    r.out(0x20, 0x48);  // reset special mask mode
    r.out(0x21, 0x00);
    r.pulse(6);
    CHECK_FALSE(r.pic.int_output());  // IR3 in service blocks IR6 again
}

TEST_CASE("PIC: poll command") {
    PicRig r;
    r.bios_init();
    r.out(0x20, 0x0C);
    CHECK(r.in(0x20) == 0x00);  // nothing pending
    r.pulse(6);
    r.pulse(4);
    r.out(0x20, 0x0C);
    CHECK(r.in(0x20) == 0x84);
    CHECK(r.master_isr() == 0x10);
    CHECK(r.in(0x21) == 0x00);  // the poll applies to one read only: IMR reads normally
    r.eoi_master();
    r.out(0x20, 0x0C);
    CHECK(r.in(0x21) == 0x86);  // either port address reads the poll word
}

TEST_CASE("PIC: spurious IRQ 7 when the request goes away") {
    PicRig r;
    r.bios_init();
    r.out(0x4D0, 0x20);  // IRQ5 level triggered
    r.pic.set_irq(5, true);
    CHECK(r.pic.int_output());
    r.pic.set_irq(5, false);
    CHECK_FALSE(r.pic.int_output());
    CHECK(r.pic.acknowledge() == 0x0F);  // the CPU sampled INT too late: IR7 vector
    CHECK(r.master_isr() == 0x00);       // and no in-service bit to EOI

    // A request masked between INT and INTA is spurious too, but stays latched.
    r.pulse(4);
    r.out(0x21, 0x10);
    CHECK(r.pic.acknowledge() == 0x0F);
    CHECK(r.master_irr() == 0x10);
    r.out(0x21, 0x00);
    CHECK(r.pic.acknowledge() == 0x0C);
}

TEST_CASE("PIC: ELCR read-only bits and level-triggered inputs") {
    PicRig r;
    r.bios_init();
    r.out(0x4D0, 0xFF);
    r.out(0x4D1, 0xFF);
    CHECK(r.in(0x4D0) == 0xF8);  // IRQ 0, 1, 2 always edge
    CHECK(r.in(0x4D1) == 0xDE);  // IRQ 8, 13 always edge
    r.out(0x4D0, 0x00);
    r.out(0x4D1, 0x08);  // IRQ11 level

    r.pic.set_irq(11, true);
    CHECK(r.pic.acknowledge() == 0x73);
    r.eoi_slave();
    r.eoi_master();
    CHECK(r.pic.int_output());  // still asserted: requests again after EOI
    CHECK(r.pic.acknowledge() == 0x73);
    r.pic.set_irq(11, false);
    r.eoi_slave();
    r.eoi_master();
    CHECK_FALSE(r.pic.int_output());
    CHECK(r.pic.irr() == 0);

    // The same held-high input in edge mode interrupts once.
    r.pic.set_irq(10, true);
    CHECK(r.pic.acknowledge() == 0x72);
    r.eoi_slave();
    r.eoi_master();
    CHECK_FALSE(r.pic.int_output());
    // Switching it to level while high makes IRR follow the level at once.
    r.out(0x4D1, 0x04);
    CHECK(r.pic.int_output());
    // IRQ13 (the FERR path) is an ordinary edge input.
    r.pic.set_irq(10, false);
    CHECK_FALSE(r.pic.int_output());
    r.out(0x4D1, 0x00);
    r.pic.set_irq(13, true);
    CHECK(r.pic.acknowledge() == 0x75);
}

TEST_CASE("PIC: ICW1 resets masks, in-service and the edge latches") {
    PicRig r;
    r.bios_init();
    r.pic.set_irq(1, true);
    CHECK(r.pic.acknowledge() == 0x09);
    r.pulse(3);
    r.out(0x21, 0x55);
    r.out(0x20, 0x11);
    r.out(0x21, 0x20);  // new vector base
    r.out(0x21, 0x04);
    r.out(0x21, 0x01);
    CHECK(r.in(0x21) == 0x00);
    CHECK(r.master_isr() == 0x00);
    CHECK(r.master_irr() == 0x00);  // IR3's latched edge is gone, IR1 (still high) needs an edge
    CHECK_FALSE(r.pic.int_output());
    r.pic.set_irq(1, false);
    r.pic.set_irq(1, true);
    CHECK(r.pic.acknowledge() == 0x21);
}

TEST_CASE("PIC: single mode and optional ICW4") {
    PicRig r;
    r.bios_init();
    // Single mode with ICW4: no ICW3, so the third byte is OCW1.
    r.out(0x20, 0x13);
    r.out(0x21, 0x40);
    r.out(0x21, 0x01);
    r.out(0x21, 0xF0);
    CHECK(r.in(0x21) == 0xF0);
    // Single mode: the slave's requests no longer reach the CPU.
    r.pulse(9);
    CHECK_FALSE(r.pic.int_output());

    // Cascade without ICW4: ICW1, ICW2, ICW3, then OCW1; AEOI is off.
    r.out(0x20, 0x10);
    r.out(0x21, 0x08);
    r.out(0x21, 0x04);
    r.out(0x21, 0x38);
    CHECK(r.in(0x21) == 0x38);
    CHECK(r.pic.int_output());  // the slave's pending IRQ9 reaches the master again
    CHECK(r.pic.acknowledge() == 0x71);
    CHECK(r.master_isr() == 0x04);
}

TEST_CASE("PIC: output callback follows INT") {
    PicRig r;
    std::vector<bool> seen;
    r.pic.set_output_callback([&](bool level) { seen.push_back(level); });
    r.bios_init();
    r.pulse(0);
    r.pulse(1);  // INT already high: no second call
    CHECK(r.pic.acknowledge() == 0x08);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == true);
    CHECK(seen[1] == false);
    r.eoi_master();
    REQUIRE(seen.size() == 3);
    CHECK(seen[2] == true);
}

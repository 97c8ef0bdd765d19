// I8042 + PS/2 keyboard and mouse (devices/i8042.h, devices/ps2.h) and SystemPorts (0x92, 0x80).
//
// The tests talk to the controller only through ports 0x60/0x64 on an IoBus, the way SeaBIOS
// and Linux's i8042/atkbd/psmouse drivers do, and check the bytes and status bits the 8042 and
// PS/2 device documentation specify (self test 0x55, ACK 0xFA, BAT 0xAA, keyboard ID AB 83,
// mouse ID 00/03, set 1 codes for translated set 2 input, ...).
#include <doctest/doctest.h>

#include "test_irq.h"

#include <cstdint>
#include <vector>

#include "devices/i8042.h"
#include "devices/io_bus.h"
#include "devices/system_ports.h"

using namespace vx86::devices;

namespace {

using vx86::test::IrqRecorder;

struct Kbc {
    IoBus bus;
    I8042 kbc;
    IrqRecorder pic;
    std::vector<bool> a20_calls;
    int resets = 0;
    Kbc() {
        kbc.attach(bus);
        kbc.set_irqs(IrqLine{&pic, 1}, IrqLine{&pic, 12});
        kbc.set_a20 = [this](bool on) { a20_calls.push_back(on); };
        kbc.request_reset = [this] { ++resets; };
    }
    uint8_t status() { return uint8_t(bus.read(0x64, 1)); }
    void cmd(uint8_t c) { bus.write(0x64, 1, c); }
    void data(uint8_t d) { bus.write(0x60, 1, d); }
    uint8_t read() { return uint8_t(bus.read(0x60, 1)); }
    // Reads every byte the controller has, as a driver's flush loop does.
    std::vector<uint8_t> drain() {
        std::vector<uint8_t> v;
        for (int i = 0; i < 64 && (status() & 0x01); ++i) v.push_back(read());
        return v;
    }
    void set_ctr(uint8_t v) {
        cmd(0x60);
        data(v);
    }
    uint8_t get_ctr() {
        cmd(0x20);
        return read();
    }
    void mouse_cmd(uint8_t b) {
        cmd(0xD4);
        data(b);
    }
};

using Bytes = std::vector<uint8_t>;

}  // namespace

TEST_CASE("i8042: controller self test, interface tests and the command byte") {
    Kbc k;
    CHECK((k.status() & 0x01) == 0);
    CHECK((k.status() & 0x10) != 0);  // keyboard not inhibited by the keylock
    k.cmd(0xAA);
    CHECK((k.status() & 0x08) != 0);  // A2: last write was a command
    REQUIRE((k.status() & 0x01) != 0);
    CHECK(k.read() == 0x55);
    CHECK((k.status() & 0x01) == 0);
    CHECK((k.status() & 0x04) != 0);  // SYS flag after a successful self test
    k.cmd(0xAB);
    CHECK(k.read() == 0x00);
    k.cmd(0xA9);
    CHECK(k.read() == 0x00);

    k.set_ctr(0x74);  // SYS | kbd disabled | aux disabled | XLAT, no IRQs
    CHECK((k.status() & 0x08) == 0);  // A2: last write was data
    CHECK(k.get_ctr() == 0x74);
    k.cmd(0xAE);
    CHECK(k.get_ctr() == 0x64);
    k.cmd(0xA8);
    CHECK(k.get_ctr() == 0x44);
    k.cmd(0xA7);
    CHECK((k.get_ctr() & 0x20) != 0);  // Linux's aux toggle check
    k.cmd(0xAD);
    CHECK((k.get_ctr() & 0x10) != 0);
    // Controller RAM beyond the command byte reads back what was written.
    k.cmd(0x65);
    k.data(0x5A);
    k.cmd(0x25);
    CHECK(k.read() == 0x5A);
}

TEST_CASE("i8042: keyboard reset and identify, with and without translation") {
    Kbc k;
    k.set_ctr(0x00);  // no translation, interfaces enabled, no IRQs
    k.data(0xFF);
    CHECK(k.drain() == Bytes{0xFA, 0xAA});
    k.data(0xF2);
    CHECK(k.drain() == Bytes{0xFA, 0xAB, 0x83});
    k.data(0xF5);
    CHECK(k.drain() == Bytes{0xFA});
    k.data(0xEE);
    CHECK(k.drain() == Bytes{0xEE});
    k.data(0xED);
    CHECK(k.drain() == Bytes{0xFA});
    k.data(0x07);
    CHECK(k.drain() == Bytes{0xFA});
    CHECK(k.kbc.keyboard().leds() == 0x07);
    k.data(0xF3);
    k.data(0x20);
    CHECK(k.drain() == Bytes{0xFA, 0xFA});
    CHECK(k.kbc.keyboard().typematic() == 0x20);
    k.data(0x12);  // not a command
    CHECK(k.drain() == Bytes{0xFE});
    k.data(0xF4);
    CHECK(k.drain() == Bytes{0xFA});
    k.data(0xFE);  // resend repeats the last byte sent
    CHECK(k.drain() == Bytes{0xFA});
    // Scan code set: query returns the current set; 4 is rejected.
    k.data(0xF0);
    k.data(0x00);
    CHECK(k.drain() == Bytes{0xFA, 0xFA, 0x02});
    k.data(0xF0);
    k.data(0x04);
    CHECK(k.drain() == Bytes{0xFA, 0xFE});

    // With XLAT the keyboard's ID bytes come out translated, as Linux's atkbd expects (AB 41).
    k.set_ctr(0x40);
    k.data(0xF2);
    CHECK(k.drain() == Bytes{0xFA, 0xAB, 0x41});
}

TEST_CASE("i8042: key press and release are translated from set 2 to set 1") {
    Kbc k;
    k.set_ctr(0x40);
    k.kbc.key(kKeyA, true);
    k.kbc.key(kKeyA, false);
    CHECK(k.drain() == Bytes{0x1E, 0x9E});
    k.kbc.key(kKeyEnter, true);
    k.kbc.key(kKeyEnter, false);
    k.kbc.key(kKeyEscape, true);
    k.kbc.key(kKeyF1, true);
    k.kbc.key(kKeyF12, true);
    k.kbc.key(kKeyLeftShift, true);
    CHECK(k.drain() == Bytes{0x1C, 0x9C, 0x01, 0x3B, 0x58, 0x2A});
    k.kbc.key(kKeyUp, true);
    k.kbc.key(kKeyUp, false);
    k.kbc.key(kKeyRightCtrl, false);
    CHECK(k.drain() == Bytes{0xE0, 0x48, 0xE0, 0xC8, 0xE0, 0x9D});

    // Untranslated: the keyboard's own set 2 codes with the F0 break prefix.
    k.set_ctr(0x00);
    k.kbc.key(kKeyA, true);
    k.kbc.key(kKeyA, false);
    k.kbc.key(kKeyLeft, false);
    CHECK(k.drain() == Bytes{0x1C, 0xF0, 0x1C, 0xE0, 0xF0, 0x6B});

    // Set 1 selected in the keyboard itself, translation off.
    k.data(0xF0);
    k.data(0x01);
    CHECK(k.drain() == Bytes{0xFA, 0xFA});
    k.kbc.key(kKeySpace, true);
    k.kbc.key(kKeySpace, false);
    CHECK(k.drain() == Bytes{0x39, 0xB9});
}

TEST_CASE("i8042: the output buffer holds one byte; the next appears after a read of 0x60") {
    Kbc k;
    k.set_ctr(0x01);
    k.kbc.key(kKeyDown, true);  // E0 72
    CHECK((k.status() & 0x01) != 0);
    CHECK(k.pic.rises[1] == 1);
    // Reading the status does not advance; only the data port does.
    CHECK((k.status() & 0x01) != 0);
    CHECK(k.read() == 0xE0);
    CHECK(k.pic.rises[1] == 2);  // the second byte is a new edge
    CHECK(k.read() == 0x72);
    CHECK((k.status() & 0x01) == 0);
    CHECK_FALSE(k.pic.level[1]);
    CHECK(k.read() == 0x72);  // an empty buffer reads the last byte again
}

TEST_CASE("i8042: IRQ1 and IRQ12 follow the command byte enables") {
    Kbc k;
    k.set_ctr(0x00);
    k.kbc.key(kKeyB, true);
    CHECK((k.status() & 0x01) != 0);
    CHECK_FALSE(k.pic.level[1]);
    k.set_ctr(0x01);  // enabling IRQ1 with data waiting raises it
    CHECK(k.pic.level[1]);
    CHECK_FALSE(k.pic.level[12]);
    k.read();
    CHECK_FALSE(k.pic.level[1]);

    // Mouse data goes to IRQ12 with the AUX bit in the status register.
    k.set_ctr(0x03);
    k.mouse_cmd(0xF4);
    CHECK((k.status() & 0x21) == 0x21);
    CHECK(k.pic.level[12]);
    CHECK_FALSE(k.pic.level[1]);
    CHECK(k.read() == 0xFA);
    CHECK_FALSE(k.pic.level[12]);
    k.set_ctr(0x01);  // IRQ12 off: mouse data sets OBF but no interrupt
    k.kbc.mouse_move(1, 0, 0, 0);
    CHECK((k.status() & 0x21) == 0x21);
    CHECK_FALSE(k.pic.level[12]);
    k.drain();

    // A disabled keyboard interface holds the keyboard's bytes until it is enabled again.
    k.cmd(0xAD);
    k.kbc.key(kKeyC, true);
    CHECK((k.status() & 0x01) == 0);
    k.cmd(0xAE);
    CHECK((k.status() & 0x01) != 0);
    CHECK(k.read() == 0x21);
}

TEST_CASE("i8042: mouse detection, IntelliMouse knock and packets") {
    Kbc k;
    k.set_ctr(0x02);  // IRQ12, both interfaces enabled, no XLAT
    k.mouse_cmd(0xFF);
    CHECK(k.drain() == Bytes{0xFA, 0xAA, 0x00});
    k.mouse_cmd(0xF2);
    CHECK(k.drain() == Bytes{0xFA, 0x00});
    for (uint8_t rate : {200, 100, 80}) {
        k.mouse_cmd(0xF3);
        k.mouse_cmd(rate);
    }
    CHECK(k.drain() == Bytes{0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA});
    k.mouse_cmd(0xF2);
    CHECK(k.drain() == Bytes{0xFA, 0x03});

    // Status request: stream mode, disabled, 1:1, resolution 2 (reset default), rate 80.
    k.mouse_cmd(0xE9);
    CHECK(k.drain() == Bytes{0xFA, 0x00, 0x02, 80});
    k.mouse_cmd(0xE8);
    k.mouse_cmd(0x03);
    k.mouse_cmd(0xE7);
    CHECK(k.drain() == Bytes{0xFA, 0xFA, 0xFA});

    // Nothing is reported until data reporting is enabled.
    k.kbc.mouse_move(5, 5, 0, 0);
    CHECK((k.status() & 0x01) == 0);
    k.mouse_cmd(0xE6);
    k.mouse_cmd(0xF4);
    CHECK(k.drain() == Bytes{0xFA, 0xFA});
    // Right 10, up 3 (screen dy -3), wheel 1 towards the user, left button: 4-byte packet.
    k.kbc.mouse_move(10, -3, 1, kMouseLeft);
    CHECK(k.pic.level[12]);
    CHECK(k.drain() == Bytes{0x09, 10, 3, 0x01});
    // Left 2, down 4: sign bits 4 and 5, two's complement deltas.
    k.kbc.mouse_move(-2, 4, 0, 0);
    CHECK(k.drain() == Bytes{0x38, 0xFE, 0xFC, 0x00});

    // Remote mode: no stream packets; 0xEB reads the accumulated movement.
    k.mouse_cmd(0xF0);
    CHECK(k.drain() == Bytes{0xFA});
    k.kbc.mouse_move(7, 0, 0, kMouseRight);
    CHECK((k.status() & 0x01) == 0);
    k.mouse_cmd(0xEB);
    CHECK(k.drain() == Bytes{0xFA, 0x0A, 7, 0, 0});
    k.mouse_cmd(0xE9);
    CHECK(k.drain() == Bytes{0xFA, 0x61, 0x03, 80});  // remote, enabled, right button
}

TEST_CASE("i8042: 0xD2/0xD3 write the output buffer; 0xD3 is mouse data on IRQ12") {
    Kbc k;
    k.set_ctr(0x73);  // both interfaces disabled, as during Linux's aux loop check
    k.cmd(0xD3);
    k.data(0x5A);
    CHECK((k.status() & 0x21) == 0x21);
    CHECK(k.pic.level[12]);
    CHECK(k.read() == 0x5A);
    k.cmd(0xD2);
    k.data(0xA5);
    CHECK((k.status() & 0x21) == 0x01);
    CHECK(k.pic.level[1]);
    CHECK(k.read() == 0xA5);  // not translated although XLAT is set
}

TEST_CASE("i8042: A20 and reset through the output port, 0xDD/0xDF and 0xFE") {
    Kbc k;
    k.cmd(0xD0);
    CHECK((k.read() & 0x03) == 0x03);  // not in reset, A20 enabled
    k.cmd(0xD1);
    k.data(0xDD);  // bit 1 clear: A20 off
    CHECK(k.a20_calls == std::vector<bool>{false});
    CHECK(k.resets == 0);
    k.cmd(0xD0);
    CHECK((k.read() & 0x02) == 0);
    k.cmd(0xD1);
    k.data(0xDF);
    CHECK(k.a20_calls == std::vector<bool>{false, true});
    k.cmd(0xDD);
    k.cmd(0xDF);
    CHECK(k.a20_calls == std::vector<bool>{false, true, false, true});
    k.cmd(0xD1);
    k.data(0xDE);  // bit 0 clear: system reset
    CHECK(k.resets == 1);
    k.cmd(0xFF);  // pulses nothing
    CHECK(k.resets == 1);
    k.cmd(0xFE);  // pulses bit 0
    CHECK(k.resets == 2);
    k.cmd(0xF0);
    CHECK(k.resets == 3);

    // With a20_state, 0xD0 reports the machine's A20 (changed elsewhere, e.g. port 0x92).
    bool machine_a20 = false;
    k.kbc.a20_state = [&] { return machine_a20; };
    k.cmd(0xD0);
    CHECK((k.read() & 0x02) == 0);
    machine_a20 = true;
    k.cmd(0xD0);
    CHECK((k.read() & 0x02) != 0);
}

TEST_CASE("i8042: absent mouse times out; keyboard overrun code") {
    Kbc k;
    k.set_ctr(0x40);
    k.kbc.set_aux_present(false);
    k.mouse_cmd(0xF2);
    CHECK((k.status() & 0x61) == 0x61);  // timeout, aux data, full
    CHECK(k.read() == 0xFE);
    k.kbc.set_aux_present(true);
    k.mouse_cmd(0xF2);
    CHECK((k.status() & 0x40) == 0);
    k.drain();

    // 20 presses into the keyboard's 16-byte buffer while its interface is disabled: 16 codes,
    // then the overrun code (set 2 0x00, which translation turns into set 1's 0xFF).
    k.cmd(0xAD);
    for (int i = 0; i < 20; ++i) k.kbc.key(kKeyQ, true);
    k.cmd(0xAE);
    Bytes got = k.drain();
    REQUIRE(got.size() == 17);
    CHECK(got[15] == 0x10);
    CHECK(got[16] == 0xFF);
}

TEST_CASE("SystemPorts: port 0x92 fast A20 and fast reset, port 0x80 POST code") {
    IoBus bus;
    SystemPorts sp;
    sp.attach(bus);
    std::vector<bool> a20;
    int resets = 0;
    sp.set_a20 = [&](bool on) { a20.push_back(on); };
    sp.request_reset = [&] { ++resets; };

    CHECK((bus.read(0x92, 1) & 0x03) == 0x02);  // A20 on after reset, reset bit clear
    bus.write(0x92, 1, 0x00);
    CHECK(a20 == std::vector<bool>{false});
    CHECK((bus.read(0x92, 1) & 0x02) == 0);
    bus.write(0x92, 1, 0x02);
    CHECK(a20 == std::vector<bool>{false, true});
    bus.write(0x92, 1, 0x02);  // no change, no call
    CHECK(a20.size() == 2);
    CHECK(resets == 0);
    bus.write(0x92, 1, 0x03);  // 0 -> 1 on bit 0: reset
    CHECK(resets == 1);
    bus.write(0x92, 1, bus.read(0x92, 1) | 0x02);  // read-modify-write does not reset again
    CHECK(resets == 1);
    sp.reset();
    CHECK((bus.read(0x92, 1) & 0x01) == 0);
    bus.write(0x92, 1, 0x03);
    CHECK(resets == 2);

    bool machine_a20 = false;
    sp.a20_state = [&] { return machine_a20; };
    CHECK((bus.read(0x92, 1) & 0x02) == 0);  // A20 turned off elsewhere (the 8042)
    machine_a20 = true;
    CHECK((bus.read(0x92, 1) & 0x02) != 0);

    bus.write(0x80, 1, 0x42);
    bus.write(0x80, 1, 0x13);
    CHECK(sp.last_post() == 0x13);
    CHECK(sp.post_writes() == 2);
    CHECK(bus.read(0x80, 1) == 0x13);
}

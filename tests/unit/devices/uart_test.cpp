// Uart (devices/uart.h): the 16550A as the National/TI datasheets describe it, driven through
// an IoBus at COM1's ports: the divisor latch, FIFOs and trigger levels, interrupt identification
// and its clearing rules, the character timeout (with a ManualClock), loopback, the PC's OUT2
// gating of the IRQ line, overrun and the LSR bits.
#include <doctest/doctest.h>

#include "test_irq.h"

#include <cstdint>
#include <string>

#include "devices/io_bus.h"
#include "devices/uart.h"
#include "test_clock.h"

using namespace vx86::devices;

namespace {

constexpr uint16_t B = kCom1Base;
constexpr uint16_t RBR = B + 0, IER = B + 1, IIR = B + 2, FCR = B + 2, LCR = B + 3, MCR = B + 4,
                   LSR = B + 5, MSR = B + 6, SCR = B + 7;

using vx86::test::IrqRecorder;

struct Com {
    IoBus bus;
    std::string out;
    Uart uart{[this](uint8_t b) { out.push_back(char(b)); }};
    IrqRecorder pic;
    vx86::test::ManualClock clock;
    explicit Com(bool with_clock = true) {
        uart.attach(bus);
        uart.set_irq(IrqLine{&pic, kCom1Irq});
        if (with_clock) uart.set_clock(&clock);
    }
    uint8_t rd(uint16_t p) { return uint8_t(bus.read(p, 1)); }
    void wr(uint16_t p, uint8_t v) { bus.write(p, 1, v); }
    bool irq() const { return pic.level[kCom1Irq]; }
    // 115200 baud, 8N1.
    void setup_115200() {
        wr(LCR, 0x83);
        wr(B + 0, 0x01);
        wr(B + 1, 0x00);
        wr(LCR, 0x03);
    }
};

}  // namespace

TEST_CASE("uart: reset values") {
    Com c;
    CHECK(c.rd(IIR) == 0x01);
    CHECK(c.rd(LSR) == 0x60);
    CHECK(c.rd(MSR) == 0xB0);  // CTS, DSR, DCD asserted, no deltas
    CHECK(c.rd(IER) == 0x00);
    CHECK(c.rd(MCR) == 0x00);
    CHECK(c.rd(LCR) == 0x00);
    CHECK_FALSE(c.irq());
}

TEST_CASE("uart: divisor latch behind LCR.DLAB and the character time") {
    Com c;
    c.wr(IER, 0x05);
    c.wr(LCR, 0x80);
    c.wr(B + 0, 0x34);
    c.wr(B + 1, 0x12);
    CHECK(c.rd(B + 0) == 0x34);
    CHECK(c.rd(B + 1) == 0x12);
    CHECK(c.uart.divisor() == 0x1234);
    c.wr(LCR, 0x03);
    CHECK(c.rd(IER) == 0x05);  // IER was not overwritten by the DLM write
    CHECK(c.out.empty());       // nor did the DLL write transmit
    c.wr(SCR, 0xA5);
    CHECK(c.rd(SCR) == 0xA5);

    c.setup_115200();
    // 10 bits (start, 8 data, stop) at 115200 baud = 86.8 us.
    CHECK(c.uart.char_time_ns() == 86805);
    c.wr(LCR, 0x0F);  // 8 data, parity, 2 stop bits: 12 bits
    CHECK(c.uart.char_time_ns() == 104166);
    c.wr(LCR, 0x80);
    c.wr(B + 0, 12);  // 9600 baud
    c.wr(LCR, 0x03);
    CHECK(c.uart.char_time_ns() == 1041666);
}

TEST_CASE("uart: transmission goes to the sink at once; LSR keeps THRE and TEMT") {
    Com c;
    for (char ch : std::string("hi\n")) c.wr(B, uint8_t(ch));
    CHECK(c.out == "hi\n");
    CHECK(c.uart.bytes_transmitted() == 3);
    CHECK((c.rd(LSR) & 0x60) == 0x60);
}

TEST_CASE("uart: THRE interrupt and its clearing rules") {
    Com c;
    c.wr(MCR, 0x08);  // OUT2
    c.wr(IER, 0x02);  // enabling ETBEI with THR empty raises THRE
    CHECK(c.irq());
    CHECK(c.rd(IIR) == 0x02);
    CHECK_FALSE(c.irq());         // reading IIR cleared it
    CHECK(c.rd(IIR) == 0x01);
    c.wr(B, 'x');                 // writing THR: the byte leaves, THR is empty again
    CHECK(c.irq());
    CHECK(c.rd(IIR) == 0x02);
    c.wr(IER, 0x02);              // rewriting the same IER value does not re-arm
    CHECK(c.rd(IIR) == 0x01);
    c.wr(IER, 0x00);
    c.wr(IER, 0x02);              // a new 0 -> 1 transition does (Linux's UART_BUG_THRE test)
    CHECK(c.rd(IIR) == 0x02);

    // RDA outranks THRE: IIR reports RDA and reading it does not clear the THRE source.
    c.wr(B, 'y');
    c.wr(IER, 0x03);
    CHECK(c.uart.receive('a'));
    CHECK(c.rd(IIR) == 0x04);
    CHECK(c.rd(RBR) == 'a');
    CHECK(c.rd(IIR) == 0x02);
    CHECK(c.rd(IIR) == 0x01);
}

TEST_CASE("uart: FIFO trigger levels and the RDA interrupt") {
    const uint8_t fcr_bits[4] = {0x00, 0x40, 0x80, 0xC0};
    const unsigned levels[4] = {1, 4, 8, 14};
    for (int i = 0; i < 4; ++i) {
        CAPTURE(levels[i]);
        Com c;
        c.setup_115200();
        c.wr(FCR, uint8_t(0x07 | fcr_bits[i]));  // enable, reset both FIFOs, trigger
        c.wr(IER, 0x01);
        c.wr(MCR, 0x08);
        for (unsigned n = 0; n + 1 < levels[i]; ++n) CHECK(c.uart.receive(uint8_t('0' + n)));
        CHECK(c.rd(IIR) == 0xC1);  // below the trigger, timeout not yet elapsed
        CHECK_FALSE(c.irq());
        if (levels[i] > 1) {
            CHECK((c.rd(LSR) & 0x01) != 0);
        }
        CHECK(c.uart.receive('T'));
        CHECK(c.rd(IIR) == 0xC4);
        CHECK(c.irq());
        c.rd(RBR);  // one below the trigger again: RDA clears
        CHECK((c.rd(IIR) & 0x0F) != 0x04);
        CHECK_FALSE(c.irq());
    }
}

TEST_CASE("uart: the RX FIFO keeps 16 bytes in order; the 17th is an overrun") {
    Com c;
    c.wr(FCR, 0x01);
    for (int i = 0; i < 16; ++i) CHECK(c.uart.receive(uint8_t(i)));
    CHECK_FALSE(c.uart.can_receive());
    CHECK_FALSE(c.uart.receive(0xEE));
    uint8_t lsr = c.rd(LSR);
    CHECK((lsr & 0x03) == 0x03);  // data ready and overrun
    CHECK((c.rd(LSR) & 0x02) == 0);  // reading LSR cleared OE
    for (int i = 0; i < 16; ++i) CHECK(c.rd(RBR) == i);  // the 17th byte was lost
    CHECK((c.rd(LSR) & 0x01) == 0);
    CHECK(c.uart.can_receive());

    // FCR bit 1 empties the RX FIFO.
    c.uart.receive(1);
    c.uart.receive(2);
    c.wr(FCR, 0x03);
    CHECK((c.rd(LSR) & 0x01) == 0);
    // IIR bits 6-7 report the FIFOs; turning them off empties them too.
    CHECK((c.rd(IIR) & 0xC0) == 0xC0);
    c.uart.receive(3);
    c.wr(FCR, 0x00);
    CHECK((c.rd(IIR) & 0xC0) == 0x00);
    CHECK((c.rd(LSR) & 0x01) == 0);
}

TEST_CASE("uart: 16450 mode overrun and the receiver line status interrupt") {
    Com c;
    c.wr(MCR, 0x08);
    c.wr(IER, 0x05);  // RDA + RLS
    CHECK(c.uart.receive('a'));
    CHECK(c.rd(IIR) == 0x04);
    CHECK_FALSE(c.uart.receive('b'));  // RBR still full: overrun, 'b' replaces 'a'
    CHECK(c.rd(IIR) == 0x06);          // RLS outranks RDA
    CHECK(c.irq());
    CHECK((c.rd(LSR) & 0x03) == 0x03);
    CHECK(c.rd(IIR) == 0x04);  // reading LSR cleared RLS; data still there
    CHECK(c.rd(RBR) == 'b');
    CHECK(c.rd(IIR) == 0x01);
    CHECK_FALSE(c.irq());
}

TEST_CASE("uart: character timeout after four character times (FIFO mode)") {
    Com c;
    c.setup_115200();
    c.wr(FCR, 0x81);  // FIFO, trigger 8
    c.wr(IER, 0x01);
    c.wr(MCR, 0x0B);
    const uint64_t four = 4 * c.uart.char_time_ns();
    c.uart.receive('a');
    c.clock.advance(four / 2);
    c.uart.receive('b');  // a new character restarts the timer
    c.clock.advance(four - 1);
    CHECK(c.rd(IIR) == 0xC1);
    CHECK_FALSE(c.irq());
    c.clock.advance(1);
    CHECK(c.rd(IIR) == 0xCC);
    CHECK(c.irq());
    CHECK(c.rd(RBR) == 'a');  // reading a character clears the timeout and restarts the timer
    CHECK(c.rd(IIR) == 0xC1);
    CHECK_FALSE(c.irq());
    c.clock.advance(four);
    CHECK(c.rd(IIR) == 0xCC);
    CHECK(c.rd(RBR) == 'b');
    CHECK(c.rd(IIR) == 0xC1);
    c.clock.advance(10 * four);  // FIFO empty: no timeout
    CHECK(c.rd(IIR) == 0xC1);
    CHECK_FALSE(c.irq());

    // With ERBFI clear the timeout is still pending inside but not reported.
    c.wr(IER, 0x00);
    c.uart.receive('c');
    c.clock.advance(four);
    CHECK(c.rd(IIR) == 0xC1);
    c.wr(IER, 0x01);
    CHECK(c.rd(IIR) == 0xCC);
}

TEST_CASE("uart: without a Clock the character timeout counts as elapsed") {
    Com c(false);
    c.wr(FCR, 0xC1);  // trigger 14
    c.wr(IER, 0x01);
    c.wr(MCR, 0x08);
    c.uart.receive('z');
    CHECK(c.rd(IIR) == 0xCC);
    CHECK(c.irq());
    CHECK(c.rd(RBR) == 'z');
    CHECK(c.rd(IIR) == 0xC1);
}

TEST_CASE("uart: the IRQ line is gated by MCR.OUT2") {
    Com c;
    c.wr(IER, 0x01);
    c.uart.receive('q');
    CHECK(c.rd(IIR) == 0x04);  // pending inside the chip
    CHECK_FALSE(c.irq());      // but OUT2 = 0 keeps the PC's IRQ buffer off
    c.wr(MCR, 0x03);           // DTR, RTS only
    CHECK_FALSE(c.irq());
    c.wr(MCR, 0x0B);
    CHECK(c.irq());
    CHECK(c.pic.rises[kCom1Irq] == 1);
    c.wr(MCR, 0x03);
    CHECK_FALSE(c.irq());
}

TEST_CASE("uart: loopback mode") {
    Com c;
    c.wr(MCR, 0x10);  // loopback, all outputs off
    CHECK((c.rd(MSR) & 0xF0) == 0x00);
    c.wr(MCR, 0x1F);  // loopback, DTR, RTS, OUT1, OUT2
    CHECK((c.rd(MSR) & 0xF0) == 0xF0);
    c.wr(MCR, 0x1A);  // RTS, OUT2: CTS and DCD
    CHECK((c.rd(MSR) & 0xF0) == 0x90);
    c.wr(MCR, 0x15);  // DTR, OUT1: DSR and RI
    CHECK((c.rd(MSR) & 0xF0) == 0x60);

    c.wr(B, 0x5A);
    CHECK(c.out.empty());  // looped back, not transmitted
    CHECK((c.rd(LSR) & 0x61) == 0x61);
    CHECK(c.rd(RBR) == 0x5A);
    CHECK_FALSE(c.uart.can_receive());  // the serial input is disconnected
    CHECK_FALSE(c.uart.receive('x'));

    // Interrupts work inside the chip, but the OUT2 pin is inactive in loopback: no IRQ.
    c.wr(MCR, 0x18);
    c.wr(IER, 0x01);
    c.wr(B, 0x11);
    CHECK(c.rd(IIR) == 0x04);
    CHECK_FALSE(c.irq());
    c.rd(RBR);

    c.wr(MCR, 0x00);
    c.uart.receive('y');
    c.wr(B, 'z');
    CHECK(c.out == "z");
    CHECK(c.rd(RBR) == 'y');
}

TEST_CASE("uart: modem status deltas and the MSR interrupt") {
    Com c;
    c.wr(MCR, 0x1B);  // loopback with DTR, RTS, OUT2: CTS, DSR, DCD - same as normal mode
    CHECK(c.rd(MSR) == 0xB0);
    c.wr(IER, 0x08);
    c.wr(MCR, 0x14);  // OUT1 only: CTS, DSR, DCD drop; RI rises
    CHECK(c.rd(IIR) == 0x00);  // modem status interrupt
    CHECK(c.rd(MSR) == 0x4B);  // RI, with DCTS, DDSR, DDCD (no TERI on a rising RI)
    CHECK(c.rd(MSR) == 0x40);  // deltas cleared by the read
    CHECK(c.rd(IIR) == 0x01);
    c.wr(MCR, 0x10);           // RI falls: trailing edge
    CHECK(c.rd(MSR) == 0x04);
    c.wr(MCR, 0x0B);           // back to normal mode with OUT2: inputs become CTS/DSR/DCD
    CHECK(c.rd(IIR) == 0x00);
    CHECK(c.irq());
    CHECK(c.rd(MSR) == 0xBB);
    CHECK_FALSE(c.irq());
}

TEST_CASE("uart: reset() returns to the datasheet reset state") {
    Com c;
    c.wr(IER, 0x0F);
    c.wr(FCR, 0x01);
    c.wr(MCR, 0x0B);
    c.uart.receive('a');
    CHECK(c.irq());
    c.uart.reset();
    CHECK_FALSE(c.irq());
    CHECK(c.rd(IIR) == 0x01);
    CHECK(c.rd(LSR) == 0x60);
    CHECK(c.rd(IER) == 0x00);
    CHECK(c.rd(MCR) == 0x00);
}

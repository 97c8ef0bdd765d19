// Interpreter behaviour that the conformance vectors do not reach: interrupt delivery whose
// pushes wrap a 16-bit stack through offset 0 (legal: each push is inside the segment).
#include <doctest/doctest.h>

#include <vector>

#include "cpu/cpu.h"

using namespace vx86;

namespace {
void run_int_with_sp(cpu::CpuModel model, uint16_t sp) {
    mmu::PhysMemory mem(1u << 20);
    devices::IoBus io;
    cpu::Cpu c(model, mem, io);
    const uint8_t code[] = {0xCD, 0x20};  // INT 20h at 1000:0000
    REQUIRE(mem.copy_to(0x10000, code, sizeof code));
    const uint8_t vec[] = {0x00, 0x30, 0x00, 0x20};  // IVT[20h] = 2000:3000
    REQUIRE(mem.copy_to(0x80, vec, sizeof vec));
    c.load_seg_real(cpu::CS, 0x1000);
    c.load_seg_real(cpu::SS, 0x5000);
    c.s.eip = 0;
    c.set_r16(cpu::ESP, sp);
    c.step();
    CHECK(c.last_exception() == -1);
    CHECK(c.s.seg[cpu::CS].sel == 0x2000);
    CHECK(c.s.eip == 0x3000);
    CHECK(c.r16(cpu::ESP) == uint16_t(sp - 6));
    // Return IP, CS, FLAGS at SP-6, SP-4, SP-2 (mod 64 KiB) of SS.
    CHECK(mem.read(0x50000 + uint16_t(sp - 6), 2) == 0x0002);
    CHECK(mem.read(0x50000 + uint16_t(sp - 4), 2) == 0x1000);
}
}  // namespace

TEST_CASE("real-mode INT with SP=2 or 4 wraps its pushes through offset 0") {
    for (auto model : {cpu::CpuModel::k286, cpu::CpuModel::k386, cpu::CpuModel::kP6}) {
        CAPTURE(int(model));
        run_int_with_sp(model, 2);
        run_int_with_sp(model, 4);
        run_int_with_sp(model, 0x100);
    }
}

namespace {
struct PendingIrq final : cpu::InterruptSource {
    bool pending = true;
    bool irq_pending() override { return pending; }
    uint8_t irq_acknowledge() override {
        pending = false;
        return 0x20;
    }
};

// Runs `code` at 1000:0000 with IF=0 and an interrupt pending from the start; returns the IP
// the interrupt pushed (the instruction it interrupted), or -1 when it was not taken.
int irq_return_ip(const std::vector<uint8_t>& code, uint64_t insns) {
    mmu::PhysMemory mem(1u << 20);
    devices::IoBus io;
    cpu::Cpu c(cpu::CpuModel::kP6, mem, io);
    PendingIrq irq;
    c.set_interrupt_source(&irq);
    REQUIRE(mem.copy_to(0x10000, code.data(), code.size()));
    const uint8_t vec[] = {0x00, 0x30, 0x00, 0x20};  // IVT[20h] = 2000:3000
    REQUIRE(mem.copy_to(0x80, vec, sizeof vec));
    const uint8_t hlt = 0xF4;
    REQUIRE(mem.copy_to(0x23000, &hlt, 1));
    c.load_seg_real(cpu::CS, 0x1000);
    c.load_seg_real(cpu::SS, 0x5000);
    c.s.eip = 0;
    c.set_r16(cpu::ESP, 0x100);
    c.set_eflags(0x2);  // IF = 0
    c.run(insns);
    if (irq.pending) return -1;
    return int(mem.read(0x50000 + 0x100 - 6, 2));
}
}  // namespace

// SDM vol. 3A 6.8.3: after STI, an interrupt is recognised once the next instruction completes.
// SeaBIOS polls for interrupts with `sti; nop; rep nop; cli` (inside one decoded block); the
// interrupt must land after the NOP, not be skipped until the next HLT.
TEST_CASE("STI opens the interrupt window after exactly one instruction, inside a block") {
    // sti; nop; pause; cli; jmp $
    const std::vector<uint8_t> code = {0xFB, 0x90, 0xF3, 0x90, 0xFA, 0xEB, 0xFE};
    CHECK(irq_return_ip(code, 20) == 2);  // taken before PAUSE (offset 2)
    // Without the STI the interrupt stays pending: IF is still 0 (cli; nop; nop; jmp $).
    CHECK(irq_return_ip({0xFA, 0x90, 0x90, 0xEB, 0xFE}, 20) == -1);
}

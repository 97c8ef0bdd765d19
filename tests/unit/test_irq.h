// An external interrupt source for CPU tests: requests vector `vector` once the CPU's icount
// reaches `at`, `times` times (each acknowledge takes one). Shared by the JIT's differential and
// lockstep tests.
#pragma once

#include <cstdint>

#include "cpu/cpu.h"

namespace vx86::test {

struct TimedIrq : cpu::InterruptSource {
    const cpu::Cpu* c = nullptr;
    uint64_t at = 0;
    unsigned times = 1;
    unsigned taken = 0;
    uint8_t vector = 0x40;
    // Becomes `cpu`'s interrupt source, raising from icount `at_icount` on.
    void attach(cpu::Cpu& cpu, uint64_t at_icount) {
        c = &cpu;
        at = at_icount;
        cpu.set_interrupt_source(this);
    }
    bool irq_pending() override { return taken < times && c->s.icount >= at; }
    uint8_t irq_acknowledge() override {
        ++taken;
        return vector;
    }
};

}  // namespace vx86::test

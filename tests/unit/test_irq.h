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
    bool irq_pending() override { return taken < times && c->s.icount >= at; }
    uint8_t irq_acknowledge() override {
        ++taken;
        return vector;
    }
};

}  // namespace vx86::test

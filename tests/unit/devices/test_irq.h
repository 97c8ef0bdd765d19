// IrqRecorder: an IrqSink for device unit tests: the level of every line and how many rising
// edges each saw.
#pragma once

#include <array>

#include "devices/irq.h"

namespace vx86::test {

struct IrqRecorder final : devices::IrqSink {
    std::array<bool, 16> level{};
    std::array<int, 16> rises{};
    void set_irq(unsigned irq, bool l) override {
        if (l && !level[irq]) ++rises[irq];
        level[irq] = l;
    }
};

}  // namespace vx86::test

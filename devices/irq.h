// IRQ lines: how a device tells an interrupt controller that it wants attention.
//
// Design decisions:
// - A device holds an IrqLine (a sink and a line number), never a pointer to the PIC class, so
//   devices/ stays free of controller details and an APIC can take over the same lines later.
// - Lines carry levels, not events: set_level(true) raises the line, set_level(false) lowers it.
//   The controller decides what an edge is (an 8259 input in edge mode latches a rising edge; in
//   level mode, set by the ELCR, it follows the level). A device that wants "one interrupt" on an
//   edge-triggered input calls pulse(), which is a raise followed by a lower.
// - An unconnected line (sink == nullptr) drops everything, so unit tests can build a device
//   without a controller.
#pragma once

namespace vx86::devices {

class IrqSink {
public:
    virtual ~IrqSink() = default;
    // Sets the level of input `irq` (0..15 on the PC's PIC pair).
    virtual void set_irq(unsigned irq, bool level) = 0;
};

struct IrqLine {
    IrqSink* sink = nullptr;
    unsigned irq = 0;

    void set_level(bool level) const {
        if (sink) sink->set_irq(irq, level);
    }
    void raise() const { set_level(true); }
    void lower() const { set_level(false); }
    void pulse() const {
        set_level(true);
        set_level(false);
    }
};

}  // namespace vx86::devices

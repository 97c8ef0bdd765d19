// Clock: virtual time and timers, as devices see them.
//
// Design decisions:
// - Devices never read host time. They ask the Clock for the current virtual time (nanoseconds
//   since machine reset) and arm timers at virtual deadlines. core::Scheduler implements this;
//   devices/ only knows the interface, so the layering of the map holds (core owns devices).
// - A timer is registered once, at construction, with its callback; arming and cancelling it later
//   only moves its deadline. The scheduler's queue therefore holds (deadline, sequence, timer id)
//   and no pointers, so it can be saved and replayed; the callbacks are rebuilt by constructing
//   the same machine.
// - Devices catch up lazily: a PIT read computes the counter from now_ns() instead of being
//   ticked. Timers are for things the guest sees without asking (IRQs, status changes).
// - Callbacks run between guest instructions (at block boundaries), never in the middle of one;
//   a callback may arm or cancel any timer, including its own.
// - In deterministic mode now_ns() is a pure function of the retired-instruction count; in
//   real-time mode it follows the host clock. Devices cannot tell the difference.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace vx86::devices {

using TimerId = uint32_t;
inline constexpr uint64_t kNsPerSec = 1'000'000'000ull;

class Clock {
public:
    virtual ~Clock() = default;
    // Virtual nanoseconds since the machine was built. Never goes backwards.
    virtual uint64_t now_ns() const = 0;
    // Registers a timer (unarmed). `name` shows in traces and snapshots.
    virtual TimerId add_timer(std::string name, std::function<void()> callback) = 0;
    // Arms (or re-arms) a timer to fire once at virtual time `when_ns` (fires at once, at the
    // next instruction boundary, when that is already past).
    virtual void arm(TimerId id, uint64_t when_ns) = 0;
    virtual void cancel(TimerId id) = 0;
    virtual bool armed(TimerId id) const = 0;
};

}  // namespace vx86::devices

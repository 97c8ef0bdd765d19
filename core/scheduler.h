// Scheduler: the machine's virtual time and its device timers (devices::Clock).
//
// Design decisions:
// - Virtual time is in nanoseconds since the machine was built. The run loop asks for the next
//   deadline, runs the CPU up to it, then fires what is due; devices never see host time.
// - Two modes. Deterministic: time is a pure function of the retired-instruction count
//   (kNsPerInsn per instruction) plus the time skipped while the CPU halts, so identical inputs
//   give identical runs. Real-time: time follows the host's monotonic clock, sampled whenever a
//   device or the run loop asks; a halted CPU sleeps on the host until the next deadline.
// - The queue holds (deadline, sequence, timer id) and no pointers: it can be saved and
//   restored; the callbacks belong to the devices that registered them at construction.
//   Ties fire in arming order (the sequence), so runs are reproducible.
// - Arming a timer earlier than the deadline the CPU is running towards calls the
//   `on_earlier_deadline` hook, which ends the CPU's slice so the timer fires on time.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "devices/clock.h"

namespace vx86::core {

enum class TimeMode : uint8_t { kRealTime, kDeterministic };

class Scheduler final : public devices::Clock {
public:
    // Virtual nanoseconds per retired instruction in deterministic mode (100 MIPS).
    static constexpr uint64_t kNsPerInsn = 10;

    // `icount` is the CPU's retired-instruction counter (read in deterministic mode).
    Scheduler(TimeMode mode, const uint64_t* icount);

    TimeMode mode() const { return mode_; }

    // ---- devices::Clock ----
    uint64_t now_ns() const override;
    devices::TimerId add_timer(std::string name, std::function<void()> callback) override;
    void arm(devices::TimerId id, uint64_t when_ns) override;
    void cancel(devices::TimerId id) override;
    bool armed(devices::TimerId id) const override { return timers_[id].armed; }

    // ---- the run loop ----
    // Earliest armed deadline, or UINT64_MAX.
    uint64_t next_deadline() const;
    // Fires every timer due at now_ns(), in (deadline, sequence) order. Returns how many fired.
    unsigned run_due();
    // Instructions the CPU may run before the next deadline in deterministic mode (>= 1), or
    // `cap` when nothing is due sooner.
    uint64_t insns_until_deadline(uint64_t cap) const;
    // A halted CPU waits: deterministic mode jumps virtual time to the next deadline; real-time
    // mode sleeps on the host until it (at most `max_sleep_ns`). Returns false when no timer is
    // armed (nothing can ever wake the CPU).
    bool wait_for_deadline(uint64_t max_sleep_ns);
    // Told when a timer is armed before the deadline the run loop was working towards.
    void set_earlier_deadline_hook(std::function<void()> hook) { on_earlier_ = std::move(hook); }
    // The deadline the run loop is running towards (set before each CPU slice).
    void set_horizon(uint64_t t) { horizon_ = t; }
    // Machine reset: time goes on, timers are left to the devices' own reset.

    const std::string& timer_name(devices::TimerId id) const { return timers_[id].name; }

private:
    struct Timer {
        std::string name;
        std::function<void()> callback;
        bool armed = false;
        uint64_t when = 0;
        uint64_t seq = 0;
    };
    struct Entry {
        uint64_t when, seq;
        devices::TimerId id;
        bool operator<(const Entry& o) const { return when != o.when ? when < o.when : seq < o.seq; }
    };
    uint64_t host_ns() const;

    TimeMode mode_;
    const uint64_t* icount_;
    uint64_t skipped_ns_ = 0;       // deterministic: time jumped over while halted
    uint64_t host_start_ = 0;       // real-time: host clock at construction
    mutable uint64_t last_now_ = 0; // real-time: never go backwards
    uint64_t horizon_ = UINT64_MAX;
    uint64_t seq_ = 0;
    std::vector<Timer> timers_;
    std::set<Entry> queue_;
    std::function<void()> on_earlier_;
};

}  // namespace vx86::core

// ManualClock: a devices::Clock for unit tests. Time moves only when the test calls advance(),
// which fires due timers in deadline order (ties in arming order), as core::Scheduler does.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "devices/clock.h"

namespace vx86::test {

class ManualClock final : public devices::Clock {
public:
    uint64_t now_ns() const override { return now_; }
    devices::TimerId add_timer(std::string name, std::function<void()> cb) override {
        timers_.push_back(T{std::move(name), std::move(cb), false, 0, 0});
        return devices::TimerId(timers_.size() - 1);
    }
    void arm(devices::TimerId id, uint64_t when) override {
        timers_[id].armed = true;
        timers_[id].when = when;
        timers_[id].seq = ++seq_;
    }
    void cancel(devices::TimerId id) override { timers_[id].armed = false; }
    bool armed(devices::TimerId id) const override { return timers_[id].armed; }

    // Moves time forward by `ns`, firing every timer that falls due on the way (each at its
    // own deadline, so a callback sees now_ns() == its deadline).
    void advance(uint64_t ns) { advance_to(now_ + ns); }
    void advance_to(uint64_t t) {
        for (;;) {
            int best = -1;
            for (size_t i = 0; i < timers_.size(); ++i) {
                const T& x = timers_[i];
                if (!x.armed || x.when > t) continue;
                if (best < 0 || x.when < timers_[best].when ||
                    (x.when == timers_[best].when && x.seq < timers_[best].seq))
                    best = int(i);
            }
            if (best < 0) break;
            T& x = timers_[best];
            if (x.when > now_) now_ = x.when;
            x.armed = false;
            x.cb();
        }
        if (t > now_) now_ = t;
    }

private:
    struct T {
        std::string name;
        std::function<void()> cb;
        bool armed;
        uint64_t when;
        uint64_t seq;
    };
    std::vector<T> timers_;
    uint64_t now_ = 0;
    uint64_t seq_ = 0;
};

}  // namespace vx86::test

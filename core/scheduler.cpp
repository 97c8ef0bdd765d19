#include "core/scheduler.h"

#include <time.h>

#include <algorithm>

namespace vx86::core {

Scheduler::Scheduler(TimeMode mode, const uint64_t* icount) : mode_(mode), icount_(icount) {
    if (mode_ == TimeMode::kRealTime) host_start_ = host_ns();
}

uint64_t Scheduler::host_ns() const {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * devices::kNsPerSec + uint64_t(ts.tv_nsec);
}

uint64_t Scheduler::now_ns() const {
    if (mode_ == TimeMode::kDeterministic) return *icount_ * kNsPerInsn + skipped_ns_;
    uint64_t t = host_ns() - host_start_;
    if (t > last_now_) last_now_ = t;
    return last_now_;
}

devices::TimerId Scheduler::add_timer(std::string name, std::function<void()> callback) {
    timers_.push_back(Timer{std::move(name), std::move(callback)});
    return devices::TimerId(timers_.size() - 1);
}

void Scheduler::arm(devices::TimerId id, uint64_t when_ns) {
    Timer& t = timers_[id];
    if (t.armed) queue_.erase(Entry{t.when, t.seq, id});
    t.armed = true;
    t.when = when_ns;
    t.seq = ++seq_;
    queue_.insert(Entry{t.when, t.seq, id});
    if (when_ns < horizon_ && on_earlier_) on_earlier_();
}

void Scheduler::cancel(devices::TimerId id) {
    Timer& t = timers_[id];
    if (!t.armed) return;
    queue_.erase(Entry{t.when, t.seq, id});
    t.armed = false;
}

uint64_t Scheduler::next_deadline() const {
    return queue_.empty() ? UINT64_MAX : queue_.begin()->when;
}

unsigned Scheduler::run_due() {
    unsigned fired = 0;
    const uint64_t now = now_ns();
    while (!queue_.empty() && queue_.begin()->when <= now) {
        Entry e = *queue_.begin();
        queue_.erase(queue_.begin());
        timers_[e.id].armed = false;
        timers_[e.id].callback();  // may re-arm itself or others
        ++fired;
    }
    return fired;
}

uint64_t Scheduler::insns_until_deadline(uint64_t cap) const {
    uint64_t d = next_deadline();
    uint64_t now = now_ns();
    if (d == UINT64_MAX) return cap;
    if (d <= now) return 1;
    if (mode_ == TimeMode::kDeterministic) {
        uint64_t n = (d - now + kNsPerInsn - 1) / kNsPerInsn;
        return std::clamp<uint64_t>(n, 1, cap);
    }
    return cap;
}

bool Scheduler::wait_for_deadline(uint64_t max_sleep_ns) {
    uint64_t d = next_deadline();
    if (d == UINT64_MAX) return false;
    uint64_t now = now_ns();
    if (d <= now) return true;
    if (mode_ == TimeMode::kDeterministic) {
        skipped_ns_ += d - now;
        return true;
    }
    uint64_t wait = std::min(d - now, max_sleep_ns);
    timespec ts{time_t(wait / devices::kNsPerSec), long(wait % devices::kNsPerSec)};
    nanosleep(&ts, nullptr);
    return true;
}

}  // namespace vx86::core

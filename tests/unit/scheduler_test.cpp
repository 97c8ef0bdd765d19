// core::Scheduler: virtual time, timer order, deterministic time from the instruction count.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/scheduler.h"

using vx86::core::Scheduler;
using vx86::core::TimeMode;

TEST_CASE("scheduler: deterministic time is the instruction count times kNsPerInsn") {
    uint64_t icount = 0;
    Scheduler s(TimeMode::kDeterministic, &icount);
    CHECK(s.now_ns() == 0);
    icount = 1000;
    CHECK(s.now_ns() == 1000 * Scheduler::kNsPerInsn);
    CHECK(s.next_deadline() == UINT64_MAX);
    CHECK(s.insns_until_deadline(4096) == 4096);
    CHECK_FALSE(s.wait_for_deadline(1));  // nothing armed: nothing can wake a halted CPU
}

TEST_CASE("scheduler: timers fire in deadline order, ties in arming order") {
    uint64_t icount = 0;
    Scheduler s(TimeMode::kDeterministic, &icount);
    std::string order;
    auto a = s.add_timer("a", [&] { order += 'a'; });
    auto b = s.add_timer("b", [&] { order += 'b'; });
    auto c = s.add_timer("c", [&] { order += 'c'; });
    s.arm(a, 500);
    s.arm(b, 300);
    s.arm(c, 500);
    CHECK(s.next_deadline() == 300);
    CHECK(s.insns_until_deadline(1u << 20) == 30);
    icount = 29;
    CHECK(s.run_due() == 0);
    icount = 30;
    CHECK(s.run_due() == 1);
    CHECK(order == "b");
    CHECK_FALSE(s.armed(b));
    icount = 100;
    CHECK(s.run_due() == 2);
    CHECK(order == "bac");
}

TEST_CASE("scheduler: re-arming moves a timer, cancel removes it, callbacks may re-arm") {
    uint64_t icount = 0;
    Scheduler s(TimeMode::kDeterministic, &icount);
    int ticks = 0;
    vx86::devices::TimerId t = 0;
    t = s.add_timer("periodic", [&] {
        ++ticks;
        s.arm(t, s.now_ns() + 100);
    });
    s.arm(t, 1000);
    s.arm(t, 100);  // moved earlier: one queue entry
    icount = 10;
    CHECK(s.run_due() == 1);
    CHECK(ticks == 1);
    CHECK(s.next_deadline() == 200);
    s.cancel(t);
    CHECK(s.next_deadline() == UINT64_MAX);
    icount = 1000;
    CHECK(s.run_due() == 0);
}

TEST_CASE("scheduler: a halted CPU skips virtual time to the next deadline") {
    uint64_t icount = 5;
    Scheduler s(TimeMode::kDeterministic, &icount);
    bool fired = false;
    auto t = s.add_timer("t", [&] { fired = true; });
    s.arm(t, 1'000'000);
    CHECK(s.wait_for_deadline(0));
    CHECK(s.now_ns() == 1'000'000);
    CHECK(s.run_due() == 1);
    CHECK(fired);
    icount = 6;  // time goes on from there
    CHECK(s.now_ns() == 1'000'000 + Scheduler::kNsPerInsn);
}

TEST_CASE("scheduler: arming before the horizon calls the hook that ends the CPU's slice") {
    uint64_t icount = 0;
    Scheduler s(TimeMode::kDeterministic, &icount);
    int calls = 0;
    s.set_earlier_deadline_hook([&] { ++calls; });
    auto t = s.add_timer("t", [] {});
    s.set_horizon(1000);
    s.arm(t, 2000);
    CHECK(calls == 0);
    s.arm(t, 500);
    CHECK(calls == 1);
}

TEST_CASE("scheduler: real-time mode follows the host clock and never goes backwards") {
    uint64_t icount = 0;
    Scheduler s(TimeMode::kRealTime, &icount);
    uint64_t a = s.now_ns();
    uint64_t b = s.now_ns();
    CHECK(b >= a);
    icount = 1'000'000'000;  // the instruction count does not drive real time
    CHECK(s.now_ns() < 60ull * 1'000'000'000);
}

// Pit: see pit.h for the design. Mode behaviour follows the Intel 8254 datasheet: the count is
// loaded into the counting element on the CLK edge after it is written (modes 0, 2, 3, 4) or
// after a gate trigger (modes 1, 5); OUT timing per mode is written next to out_at().
#include "devices/pit.h"

#include <algorithm>
#include <limits>

namespace vx86::devices {

namespace {
__extension__ typedef unsigned __int128 U128;

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr uint32_t kRefreshTicks = 18;  // DRAM refresh request period (channel 1 on a PC)

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }
uint32_t half_high(uint32_t n) { return (n + 1) / 2; }  // mode 3: ticks OUT stays high
}  // namespace

int64_t Pit::tick_at(uint64_t ns) { return int64_t(U128(ns) * kPitHz / kNsPerSec); }

uint64_t Pit::time_of_tick(int64_t tick) {
    if (tick <= 0) return 0;
    return uint64_t((U128(uint64_t(tick)) * kNsPerSec + kPitHz - 1) / kPitHz);
}

Pit::Pit(Clock& clock, IrqLine irq0) : clock_(clock), irq0_(irq0) {
    timer_ = clock_.add_timer("pit-irq0", [this] { on_irq0_timer(); });
    reset();
}

void Pit::attach(IoBus& bus) {
    bus.attach(kPitBase, 4, this, kIoSize8);
    bus.attach(kPort61, 1, this, kIoSize8);
}

void Pit::reset() {
    for (unsigned i = 0; i < 3; ++i) {
        ch_[i] = Channel{};
        ch_[i].gate = i != 2;
        ch_[i].null_until = kNever;
    }
    port61_ = 0;
    irq0_edge_ = -1;
    clock_.cancel(timer_);
}

uint32_t Pit::cr_count(const Channel& ch) const {
    uint32_t v = ch.cr;
    if (ch.bcd) {
        v = ((ch.cr >> 12) & 15) * 1000 + ((ch.cr >> 8) & 15) * 100 + ((ch.cr >> 4) & 15) * 10 +
            (ch.cr & 15);
    }
    v %= span(ch);
    return v == 0 ? span(ch) : v;
}

uint16_t Pit::present(const Channel& ch, uint32_t v) const {
    v %= span(ch);
    if (!ch.bcd) return uint16_t(v);
    return uint16_t((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10));
}

Pit::Seq Pit::seq_at(const Channel& ch, int64_t t) const {
    if (ch.pending && t >= ch.pending_at) return ch.pending_seq;
    return Seq{ch.load, ch.n};
}

// OUT per mode, with e = ticks since the count was loaded and N the count:
//   0: low until e == N (terminal count), then high until reprogrammed.
//   1: low from the load (the CLK after the trigger) for N ticks.
//   2: low for one tick when the count reaches 1 (e mod N == N-1), high otherwise.
//   3: high for ceil(N/2) ticks, low for floor(N/2) ticks.
//   4, 5: low for one tick when the count reaches 0 (e == N).
bool Pit::out_at(const Channel& ch, int64_t t) const {
    switch (ch.mode) {
    case 0: {
        if (!ch.counting) return false;
        int64_t e = (ch.paused ? ch.pause_at : t) - ch.load;
        return e >= int64_t(ch.n);
    }
    case 1: {
        if (!ch.triggered) return true;
        int64_t e = t - ch.load;
        return e < 0 || e >= int64_t(ch.n);
    }
    case 2:
    case 3: {
        if (!ch.counting || ch.paused) return true;
        Seq s = seq_at(ch, t);
        int64_t e = t - s.load;
        if (e < 0 || s.n < 2) return true;
        int64_t p = e % s.n;
        return ch.mode == 2 ? p != int64_t(s.n) - 1 : p < int64_t(half_high(s.n));
    }
    case 4: {
        if (!ch.counting) return true;
        int64_t e = (ch.paused ? ch.pause_at : t) - ch.load;
        return e != int64_t(ch.n);
    }
    case 5:
        return !ch.triggered || t - ch.load != int64_t(ch.n);
    }
    return true;
}

uint32_t Pit::count_at(const Channel& ch, int64_t t) const {
    const int64_t sp = span(ch);
    auto down = [&](int64_t e, uint32_t n) { return uint32_t(floor_mod(int64_t(n) - e, sp)); };
    switch (ch.mode) {
    case 0:
    case 4: {
        if (!ch.counting) return ch.frozen;
        int64_t e = (ch.paused ? ch.pause_at : t) - ch.load;
        return e < 0 ? ch.n % sp : down(e, ch.n);  // before the loading CLK: see pit.h
    }
    case 1:
    case 5: {
        if (!ch.triggered) return ch.frozen;
        int64_t e = t - ch.load;
        return e < 0 ? ch.frozen : down(e, ch.n);
    }
    default: {
        if (!ch.counting || ch.paused) return ch.frozen;
        Seq s = seq_at(ch, t);
        int64_t e = t - s.load;
        if (e < 0) return s.n % sp;  // before the loading CLK: see pit.h
        uint32_t p = uint32_t(e % s.n);
        if (ch.mode == 2) return uint32_t((s.n - p) % sp);
        // Mode 3 counts down by two: N, N-2, .. 2 per half for even N; N-1, .., 0 for the
        // high half and N-1, .., 2 for the low half with odd N.
        uint32_t hi = half_high(s.n);
        uint32_t q = p < hi ? p : p - hi;
        uint32_t start = (s.n & 1) ? s.n - 1 : s.n;
        return uint32_t((start - 2 * q) % sp);
    }
    }
}

int64_t Pit::next_rising(const Channel& ch, int64_t t) const {
    auto after = [&](int64_t r) { return r > t ? r : -1; };
    switch (ch.mode) {
    case 0: return ch.counting && !ch.paused ? after(ch.load + ch.n) : -1;
    case 4: return ch.counting && !ch.paused ? after(ch.load + ch.n + 1) : -1;
    case 1: return ch.triggered ? after(ch.load + ch.n) : -1;
    case 5: return ch.triggered ? after(ch.load + ch.n + 1) : -1;
    default: break;
    }
    if (!ch.counting || ch.paused) return -1;
    // Modes 2 and 3: OUT rises at load + k*N, k >= 1.
    auto periodic = [](Seq s, int64_t from) -> int64_t {
        if (s.n < 2) return -1;
        int64_t k = std::max<int64_t>(floor_div(from - s.load, s.n) + 1, 1);
        return s.load + k * s.n;
    };
    if (ch.pending && t < ch.pending_at) {
        int64_t r = periodic(Seq{ch.load, ch.n}, t);
        if (r >= 0 && r <= ch.pending_at) return r;
        return periodic(ch.pending_seq, ch.pending_at - 1);
    }
    return periodic(seq_at(ch, t), t);
}

uint8_t Pit::status_at(const Channel& ch, int64_t t) const {
    return uint8_t((out_at(ch, t) ? 0x80 : 0) | (t < ch.null_until ? 0x40 : 0) | ch.access << 4 |
                   ch.mode << 1 | (ch.bcd ? 1 : 0));
}

void Pit::commit(Channel& ch, int64_t t) {
    if (ch.pending && t >= ch.pending_at) {
        ch.load = ch.pending_seq.load;
        ch.n = ch.pending_seq.n;
        ch.pending = false;
    }
}

void Pit::write_control(uint8_t v, int64_t t) {
    unsigned sc = v >> 6;
    if (sc == 3) {  // read-back: bit 5 = !COUNT, bit 4 = !STATUS, bits 3..1 select counters
        for (unsigned i = 0; i < 3; ++i) {
            if (!(v & (2u << i))) continue;
            Channel& c = ch_[i];
            commit(c, t);
            if (!(v & 0x20) && !c.count_latched) {
                c.count_latched = true;
                c.latch_msb_next = false;
                c.latch = present(c, count_at(c, t));
            }
            if (!(v & 0x10) && !c.status_latched) {
                c.status_latched = true;
                c.status = status_at(c, t);
            }
        }
        return;
    }
    Channel& c = ch_[sc];
    commit(c, t);
    unsigned rw = (v >> 4) & 3;
    if (rw == 0) {  // counter latch command
        if (!c.count_latched) {
            c.count_latched = true;
            c.latch_msb_next = false;
            c.latch = present(c, count_at(c, t));
        }
        return;
    }
    c.frozen = count_at(c, t);
    c.access = uint8_t(rw);
    c.mode = uint8_t((v >> 1) & 7);
    if (c.mode > 5) c.mode -= 4;  // x10 = mode 2, x11 = mode 3
    c.bcd = v & 1;
    c.frozen %= span(c);
    c.write_msb_next = c.read_msb_next = false;
    c.count_latched = c.status_latched = false;
    c.has_cr = c.counting = c.triggered = c.pending = c.paused = false;
    c.null_until = kNever;
    if (sc == 0) schedule_irq0();
}

void Pit::write_count(Channel& ch, uint8_t v, int64_t t) {
    commit(ch, t);
    switch (ch.access) {
    case 1: ch.cr = v; break;
    case 2: ch.cr = uint16_t(v << 8); break;
    default:
        if (!ch.write_msb_next) {
            ch.write_lsb = v;
            ch.write_msb_next = true;
            if (ch.mode == 0 && ch.counting) {  // the first byte stops mode 0, OUT goes low
                ch.frozen = count_at(ch, t);
                ch.counting = false;
                if (&ch == &ch_[0]) schedule_irq0();
            }
            return;
        }
        ch.cr = uint16_t(ch.write_lsb | v << 8);
        ch.write_msb_next = false;
        break;
    }
    load_count(ch, t);
}

void Pit::load_count(Channel& ch, int64_t t) {
    const uint32_t n = cr_count(ch);
    ch.has_cr = true;
    switch (ch.mode) {
    case 0:
    case 4:
        ch.counting = true;
        ch.load = t + 1;
        ch.n = n;
        ch.null_until = t + 1;
        ch.paused = !ch.gate;
        ch.pause_at = ch.load;
        break;
    case 1:
    case 5:
        ch.null_until = kNever;  // transferred at the next trigger
        break;
    default:
        if (!ch.counting || ch.paused || t < ch.load) {
            // Not running yet (or stopped by the gate): the new count starts the sequence on the
            // next CLK, or on the next gate rising edge.
            bool was_running = ch.counting && !ch.paused;
            ch.counting = true;
            ch.n = n;
            if (!ch.gate) {
                ch.paused = true;
            } else if (!was_running) {
                ch.load = t + 1;
                ch.paused = false;
            }
            ch.null_until = ch.gate ? std::max(t + 1, ch.load) : kNever;
        } else {
            // Running: the new count waits for the end of the period (mode 2) or of the
            // current half-cycle (mode 3).
            int64_t p = (t - ch.load) % ch.n;
            int64_t at;
            Seq next{0, n};
            if (ch.mode == 2) {
                at = t + (ch.n - p);
                next.load = at;
            } else if (p < int64_t(half_high(ch.n))) {
                at = t + (half_high(ch.n) - p);  // end of the high half: continue low
                next.load = at - half_high(n);
            } else {
                at = t + (ch.n - p);
                next.load = at;
            }
            ch.pending = true;
            ch.pending_at = at;
            ch.pending_seq = next;
            ch.null_until = at;
        }
        break;
    }
    if (&ch == &ch_[0]) schedule_irq0();
}

uint8_t Pit::read_counter(Channel& ch, int64_t t) {
    commit(ch, t);
    if (ch.status_latched) {
        ch.status_latched = false;
        return ch.status;
    }
    uint16_t v;
    bool msb;
    if (ch.count_latched) {
        v = ch.latch;
        if (ch.access == 3) {
            msb = ch.latch_msb_next;
            ch.latch_msb_next = !msb;
            if (msb) ch.count_latched = false;
        } else {
            msb = ch.access == 2;
            ch.count_latched = false;
        }
    } else {
        v = present(ch, count_at(ch, t));
        if (ch.access == 3) {
            msb = ch.read_msb_next;
            ch.read_msb_next = !msb;
        } else {
            msb = ch.access == 2;
        }
    }
    return uint8_t(msb ? v >> 8 : v);
}

void Pit::set_gate(Channel& ch, bool level, int64_t t) {
    commit(ch, t);
    if (level == ch.gate) return;
    ch.gate = level;
    switch (ch.mode) {
    case 0:
    case 4:
        if (!ch.counting) break;
        if (!level) {
            ch.paused = true;
            ch.pause_at = std::max(t, ch.load);
        } else if (ch.paused) {
            ch.load += std::max<int64_t>(0, t - ch.pause_at);
            ch.paused = false;
        }
        break;
    case 1:
    case 5:
        if (level && ch.has_cr) {  // trigger: load on the next CLK
            ch.triggered = true;
            ch.load = t + 1;
            ch.n = cr_count(ch);
            if (ch.null_until > t) ch.null_until = t + 1;
        }
        break;
    default:
        if (!ch.counting) break;
        if (!level) {
            ch.frozen = count_at(ch, t);
            ch.paused = true;
            ch.pending = false;
        } else {
            ch.paused = false;
            ch.load = t + 1;
            ch.n = cr_count(ch);
            if (ch.null_until > t) ch.null_until = t + 1;
        }
        break;
    }
}

void Pit::schedule_irq0() {
    int64_t r = next_rising(ch_[0], now_tick());
    irq0_edge_ = r;
    if (r < 0) {
        clock_.cancel(timer_);
    } else {
        clock_.arm(timer_, time_of_tick(r));
    }
}

void Pit::on_irq0_timer() {
    int64_t t = now_tick();
    if (irq0_edge_ >= 0 && t >= irq0_edge_) {
        commit(ch_[0], t);
        irq0_.pulse();
    }
    schedule_irq0();
}

uint32_t Pit::io_read(uint16_t port, unsigned) {
    int64_t t = now_tick();
    if (port == kPort61) {
        return uint32_t((port61_ & 0x0F) | ((t / kRefreshTicks) & 1) << 4 |
                        (out_at(ch_[2], t) ? 0x20 : 0));
    }
    unsigned i = port - kPitBase;
    if (i >= 3) return 0xFF;  // the control word register is write-only
    return read_counter(ch_[i], t);
}

void Pit::io_write(uint16_t port, unsigned, uint32_t value) {
    int64_t t = now_tick();
    uint8_t v = uint8_t(value);
    if (port == kPort61) {
        port61_ = v & 0x0F;
        set_gate(ch_[2], v & 1, t);
        return;
    }
    unsigned i = port - kPitBase;
    if (i == 3) {
        write_control(v, t);
    } else if (i < 3) {
        write_count(ch_[i], v, t);
    }
}

bool Pit::out(unsigned ch) const { return ch < 3 && out_at(ch_[ch], now_tick()); }

uint16_t Pit::counter(unsigned ch) const {
    if (ch >= 3) return 0;
    return present(ch_[ch], count_at(ch_[ch], now_tick()));
}

SpeakerState Pit::speaker_state() const {
    const Channel& c = ch_[2];
    int64_t t = now_tick();
    SpeakerState s;
    s.gate = port61_ & 1;
    s.data = port61_ & 2;
    s.mode = c.mode;
    s.out = out_at(c, t);
    bool running = (c.mode == 1 || c.mode == 5) ? c.triggered : (c.counting && !c.paused);
    if (running) {
        s.divisor = (c.mode == 1 || c.mode == 5) ? c.n : seq_at(c, t).n;
        s.frequency_hz = double(kPitHz) / s.divisor;
        s.period_ns = (uint64_t(s.divisor) * kNsPerSec + kPitHz / 2) / kPitHz;
    }
    s.enabled = s.gate && s.data && running;
    return s;
}

}  // namespace vx86::devices

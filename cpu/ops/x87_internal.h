// x87_internal.h: what the x87 handler files (x87.cpp: arithmetic, loads, stores, the opcode
// slots and the registration; x87_env.cpp: the control and state instructions) share.
//
// Design decisions:
// - Internal to cpu/ops: nothing outside the two files includes it. Everything lives in
//   namespace vx86::cpu::ops::x87 so the short helper names (get, put, push, ...) cannot meet
//   other handler files' names.
// - The register-stack, entry-check and memory-operand helpers are small and inline here; the
//   control/state handlers are defined once in x87_env.cpp and declared below, so the opcode
//   slots in x87.cpp dispatch to them and register_x87() stays the one registration point.
#pragma once

#include <cstring>

#include "cpu/fpu/f80.h"
#include "cpu/ops/ops.h"

namespace vx86::cpu::ops::x87 {

using fpu::Env;
using fpu::F80;

constexpr uint16_t kC0 = 1u << 8, kC1 = 1u << 9, kC2 = 1u << 10, kC3 = 1u << 14;
constexpr uint16_t kCc = kC0 | kC1 | kC2 | kC3;
constexpr uint16_t kSFault = 1u << 6, kES = 1u << 7, kBusy = 1u << 15;
constexpr uint16_t kIE = fpu::kExInvalid;

// ---- the register stack ----

inline unsigned top(const X87State& f) { return (f.fsw >> 11) & 7; }
inline void set_top(X87State& f, unsigned t) {
    f.fsw = uint16_t((f.fsw & ~(7u << 11)) | ((t & 7) << 11));
}
inline unsigned phys(const X87State& f, unsigned i) { return (top(f) + i) & 7; }
inline bool empty(const X87State& f, unsigned i) { return !((f.ftw >> phys(f, i)) & 1); }
inline F80 get(const X87State& f, unsigned i) {
    const X87Reg& r = f.r[phys(f, i)];
    return F80{r.sig, r.se};
}
inline void put(X87State& f, unsigned i, F80 v) {
    unsigned p = phys(f, i);
    f.r[p].sig = v.sig;
    f.r[p].se = v.se;
    f.ftw = uint8_t(f.ftw | (1u << p));
}
inline void push(X87State& f, F80 v) {
    set_top(f, top(f) - 1);
    put(f, 0, v);
}
inline void pop(X87State& f) {
    f.ftw = uint8_t(f.ftw & ~(1u << phys(f, 0)));
    set_top(f, top(f) + 1);
}
inline void set_cc(X87State& f, uint16_t bits) { f.fsw = uint16_t((f.fsw & ~kCc) | bits); }
inline void set_c1(X87State& f, bool v) { f.fsw = uint16_t((f.fsw & ~kC1) | (v ? kC1 : 0)); }
inline void update_es(X87State& f) {
    if (f.fsw & ~f.fcw & fpu::kExAll) f.fsw |= kES | kBusy;
    else f.fsw &= uint16_t(~(kES | kBusy));
}
// Exceptions and C1 of an operation into FSW.
inline void apply(X87State& f, const Env& e) {
    f.fsw |= e.flags & fpu::kExAll;
    set_c1(f, e.c1);
}
inline bool im_masked(const X87State& f) { return f.fcw & kIE; }
// Stack faults: IE + SF with C1 telling overflow (1) from underflow (0). True when masked (the
// caller then writes the indefinite).
inline bool underflow(X87State& f) {
    f.fsw |= kIE | kSFault;
    set_c1(f, false);
    return im_masked(f);
}
inline bool overflow(X87State& f) {
    f.fsw |= kIE | kSFault;
    set_c1(f, true);
    return im_masked(f);
}
inline Env env_of(const X87State& f) { return Env::from_fcw(f.fcw); }

// ---- entry checks ----

inline void check_nm(Cpu& c) {
    if (c.s.cr[0] & (kCr0EM | kCr0TS)) c.fault(kNM);
}
// A waiting instruction meets a pending unmasked exception.
inline void check_pending(Cpu& c) {
    if (!(c.s.fpu.fsw & kES)) return;
    if (c.s.cr[0] & kCr0NE) c.fault(kMF);
    c.set_ferr(true);
    c.end_block();  // let the IRQ13 the machine raises in at the next boundary
}
inline void enter_wait(Cpu& c) {
    check_nm(c);
    check_pending(c);
}
// Records the instruction (and operand) pointers of a non-control instruction.
inline void record(Cpu& c, const DecodedInsn& i) {
    X87State& f = c.s.fpu;
    f.fip = uint32_t(c.s.eip);
    f.fcs = c.s.seg[CS].sel;
    f.fop = uint16_t(((i.opcode & 7u) << 8) | (i.imm & 0xFF));
    if (i.flags & kfMem) {
        f.fdp = c.ea(i);
        f.fds = c.s.seg[i.seg].sel;
    }
}

// ---- memory operands ----

inline uint32_t off_at(const DecodedInsn& i, uint32_t base, unsigned k) {
    uint32_t a = base + k;
    return (i.flags & kfAddr32) ? a : (a & 0xFFFF);
}
inline void read_bytes(Cpu& c, const DecodedInsn& i, uint32_t off, uint8_t* out, unsigned n) {
    c.check_read(i.seg, off, n);
    unsigned k = 0;
    for (; k + 4 <= n; k += 4) {
        uint32_t v = c.read<32>(i.seg, off_at(i, off, k));
        std::memcpy(out + k, &v, 4);
    }
    for (; k + 2 <= n; k += 2) {
        uint16_t v = uint16_t(c.read<16>(i.seg, off_at(i, off, k)));
        std::memcpy(out + k, &v, 2);
    }
}
// An operand of n = 2, 4 or 8 bytes as a little-endian integer, read as read_bytes() does (in
// the same accesses), but composed in registers: a byte buffer read back as one 64-bit load
// after two 32-bit stores stalls the host's store forwarding.
inline uint64_t read_le(Cpu& c, const DecodedInsn& i, uint32_t off, unsigned n) {
    c.check_read(i.seg, off, n);
    if (n == 2) return uint16_t(c.read<16>(i.seg, off));
    const uint64_t lo = uint32_t(c.read<32>(i.seg, off));
    if (n == 4) return lo;
    return lo | uint64_t(uint32_t(c.read<32>(i.seg, off_at(i, off, 4)))) << 32;
}
// Segment and page checks for a store of n bytes, before anything is committed.
inline void check_store(Cpu& c, const DecodedInsn& i, uint32_t off, unsigned n) {
    c.check_write(i.seg, off, n);
    if (c.paging()) c.probe_write_lin(c.s.seg[i.seg].base + off, n);
}
inline void write_bytes(Cpu& c, const DecodedInsn& i, uint32_t off, const uint8_t* in, unsigned n) {
    unsigned k = 0;
    for (; k + 4 <= n; k += 4) {
        uint32_t v;
        std::memcpy(&v, in + k, 4);
        c.write<32>(i.seg, off_at(i, off, k), v);
    }
    for (; k + 2 <= n; k += 2) {
        uint16_t v;
        std::memcpy(&v, in + k, 2);
        c.write<16>(i.seg, off_at(i, off, k), v);
    }
}
inline void put_f80(uint8_t* p, F80 v) {
    std::memcpy(p, &v.sig, 8);
    std::memcpy(p + 8, &v.se, 2);
}
inline F80 get_f80(const uint8_t* p) {
    F80 v;
    std::memcpy(&v.sig, p, 8);
    std::memcpy(&v.se, p + 8, 2);
    return v;
}
template <typename T>
T load_le(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <typename T>
inline void store_le(uint8_t* p, T v) { std::memcpy(p, &v, sizeof v); }

// ---- control and state instructions (x87_env.cpp) ----

void fnclex(Cpu& c);                              // FNCLEX      DB E2
void fninit(Cpu& c);                              // FNINIT      DB E3
void fldcw(Cpu& c, const DecodedInsn& i);         // FLDCW m16   D9 /5
void fnstcw(Cpu& c, const DecodedInsn& i);        // FNSTCW m16  D9 /7
void fnstsw_m(Cpu& c, const DecodedInsn& i);      // FNSTSW m16  DD /7
void fnstsw_ax(Cpu& c);                           // FNSTSW AX   DF E0
void fldenv(Cpu& c, const DecodedInsn& i);        // FLDENV      D9 /4
void fnstenv(Cpu& c, const DecodedInsn& i);       // FNSTENV     D9 /6
void frstor(Cpu& c, const DecodedInsn& i);        // FRSTOR      DD /4
void fnsave(Cpu& c, const DecodedInsn& i);        // FNSAVE      DD /6
void fxsave(Cpu& c, const DecodedInsn& i);        // FXSAVE      0F AE /0
void fxrstor(Cpu& c, const DecodedInsn& i);       // FXRSTOR     0F AE /1

}  // namespace vx86::cpu::ops::x87

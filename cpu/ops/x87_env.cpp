// x87_env.cpp: the x87 control and state instructions: FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW,
// FNSTENV/FLDENV and FNSAVE/FRSTOR in their four memory layouts, and FXSAVE/FXRSTOR.
//
// Design decisions:
// - Split from x87.cpp by concern (x87.cpp keeps the arithmetic, loads, stores, the opcode slots
//   and the one registration, register_x87()); the shared helpers are in x87_internal.h.
// - These are the "control" instructions of the SDM: they record no FIP/FCS/FOP/FDP/FDS, and
//   the no-wait forms (FN...) skip the pending-exception check; FLDCW, FLDENV and FRSTOR wait.
// - Every memory read and every store check (segment and page) happens before any FPU state
//   changes, so a fault leaves the instruction undone. FNSAVE writes the whole image and only
//   then reinitializes.
// - The environment image is 14 bytes (16-bit operand size) or 28; protected mode stores the
//   selector:offset pointers, real and virtual-8086 mode the linear ones (CS * 16 + offset) with
//   FOP, as in SDM vol. 1 figures 8-9 to 8-12. Tags go out as the full two-bit tag word,
//   computed from the register contents, and come back abridged (empty or not), as on hardware.
// - FLDCW, FLDENV, FRSTOR and FXRSTOR recompute ES/B from the new FSW and FCW (unmasking a set
//   exception makes it pending) and drop FERR# when nothing is pending any more.
#include <cstring>

#include "cpu/ops/x87_internal.h"

namespace vx86::cpu::ops::x87 {

namespace {

// Full two-bit tag of physical register p: 00 valid, 01 zero, 10 special, 11 empty.
unsigned full_tag(const X87State& f, unsigned p) {
    if (!((f.ftw >> p) & 1)) return 3;
    const X87Reg& r = f.r[p];
    unsigned e = r.se & 0x7FFF;
    if (e == 0x7FFF) return 2;
    if (e == 0) return r.sig == 0 ? 1 : 2;
    return (r.sig >> 63) ? 0 : 2;
}
uint16_t tag_word(const X87State& f) {
    uint16_t t = 0;
    for (unsigned p = 0; p < 8; ++p) t = uint16_t(t | (full_tag(f, p) << (2 * p)));
    return t;
}
uint8_t abridged_from_full(uint16_t tw) {
    uint8_t a = 0;
    for (unsigned p = 0; p < 8; ++p)
        if (((tw >> (2 * p)) & 3) != 3) a = uint8_t(a | (1u << p));
    return a;
}

void init_fpu(X87State& f) {
    f.fcw = 0x037F;
    f.fsw = 0;
    f.ftw = 0;
    f.fop = 0;
    f.fip = f.fdp = 0;
    f.fcs = f.fds = 0;
}
// The FSTENV/FLDENV image: 14 bytes (16-bit operand size) or 28; protected-mode layout in
// protected mode, the real-mode one (linear pointers, FOP) in real and virtual-8086 mode.
unsigned env_bytes(const DecodedInsn& i) { return (i.flags & kfOp32) ? 28 : 14; }

void store_env(Cpu& c, const DecodedInsn& i, uint8_t* b) {
    const X87State& f = c.s.fpu;
    const bool op32 = i.flags & kfOp32, real = !c.pm();
    const uint16_t tw = tag_word(f);
    const uint32_t ip_lin = (uint32_t(f.fcs) << 4) + f.fip, dp_lin = (uint32_t(f.fds) << 4) + f.fdp;
    if (op32) {
        std::memset(b, 0xFF, 28);
        store_le<uint16_t>(b + 0, f.fcw);
        store_le<uint16_t>(b + 4, f.fsw);
        store_le<uint16_t>(b + 8, tw);
        if (real) {
            store_le<uint16_t>(b + 12, uint16_t(ip_lin));
            store_le<uint32_t>(b + 16, ((ip_lin >> 16) << 12) | (f.fop & 0x7FF));
            store_le<uint16_t>(b + 20, uint16_t(dp_lin));
            store_le<uint32_t>(b + 24, (dp_lin >> 16) << 12);
        } else {
            store_le<uint32_t>(b + 12, f.fip);
            store_le<uint32_t>(b + 16, f.fcs | (uint32_t(f.fop & 0x7FF) << 16));
            store_le<uint32_t>(b + 20, f.fdp);
            store_le<uint16_t>(b + 24, f.fds);
        }
    } else {
        store_le<uint16_t>(b + 0, f.fcw);
        store_le<uint16_t>(b + 2, f.fsw);
        store_le<uint16_t>(b + 4, tw);
        if (real) {
            store_le<uint16_t>(b + 6, uint16_t(ip_lin));
            store_le<uint16_t>(b + 8, uint16_t(((ip_lin >> 16) & 0xF) << 12 | (f.fop & 0x7FF)));
            store_le<uint16_t>(b + 10, uint16_t(dp_lin));
            store_le<uint16_t>(b + 12, uint16_t(((dp_lin >> 16) & 0xF) << 12));
        } else {
            store_le<uint16_t>(b + 6, uint16_t(f.fip));
            store_le<uint16_t>(b + 8, f.fcs);
            store_le<uint16_t>(b + 10, uint16_t(f.fdp));
            store_le<uint16_t>(b + 12, f.fds);
        }
    }
}

void load_env(Cpu& c, const DecodedInsn& i, const uint8_t* b) {
    X87State& f = c.s.fpu;
    const bool op32 = i.flags & kfOp32, real = !c.pm();
    const unsigned w = op32 ? 4 : 2;
    f.fcw = uint16_t((load_le<uint16_t>(b) & 0x1F3F) | 0x40);
    f.fsw = load_le<uint16_t>(b + w);
    f.ftw = abridged_from_full(load_le<uint16_t>(b + 2 * w));
    if (op32) {
        if (real) {
            uint32_t hi = load_le<uint32_t>(b + 16);
            f.fip = load_le<uint16_t>(b + 12) | ((hi >> 12) & 0xFFFF) << 16;
            f.fop = uint16_t(hi & 0x7FF);
            f.fdp = load_le<uint16_t>(b + 20) | ((load_le<uint32_t>(b + 24) >> 12) & 0xFFFF) << 16;
            f.fcs = f.fds = 0;
        } else {
            f.fip = load_le<uint32_t>(b + 12);
            uint32_t cs = load_le<uint32_t>(b + 16);
            f.fcs = uint16_t(cs);
            f.fop = uint16_t((cs >> 16) & 0x7FF);
            f.fdp = load_le<uint32_t>(b + 20);
            f.fds = load_le<uint16_t>(b + 24);
        }
    } else {
        if (real) {
            uint16_t hi = load_le<uint16_t>(b + 8);
            f.fip = load_le<uint16_t>(b + 6) | uint32_t(hi >> 12) << 16;
            f.fop = uint16_t(hi & 0x7FF);
            f.fdp = load_le<uint16_t>(b + 10) | uint32_t(load_le<uint16_t>(b + 12) >> 12) << 16;
            f.fcs = f.fds = 0;
        } else {
            f.fip = load_le<uint16_t>(b + 6);
            f.fcs = load_le<uint16_t>(b + 8);
            f.fdp = load_le<uint16_t>(b + 10);
            f.fds = load_le<uint16_t>(b + 12);
        }
    }
    update_es(f);
    if (!(f.fsw & kES)) c.set_ferr(false);
}

constexpr uint32_t kMxcsrMask = 0x0000FFBF;
constexpr unsigned kFxWritten = 288;  // legacy header, ST0-ST7, XMM0-XMM7; the rest is untouched

void fx_prologue(Cpu& c, const DecodedInsn& i) {
    if (!(i.flags & kfMem)) c.fault(kUD);
    check_nm(c);
    if ((c.s.seg[i.seg].base + c.ea(i)) & 15) c.fault(kGP, 0);
}

}  // namespace

// ---- control ----

void fnclex(Cpu& c) {
    c.s.fpu.fsw &= uint16_t(~(0xFFu | kBusy));
    c.set_ferr(false);
}
void fninit(Cpu& c) {
    init_fpu(c.s.fpu);
    c.set_ferr(false);
}

// FLDCW m16 (D9 /5). Bit 6 reads as 1, bits 13-15 as 0.
void fldcw(Cpu& c, const DecodedInsn& i) {
    enter_wait(c);
    uint16_t v = uint16_t(c.read<16>(i.seg, c.ea(i)));
    X87State& f = c.s.fpu;
    f.fcw = uint16_t((v & 0x1F3F) | 0x40);
    update_es(f);
}

// FNSTENV (D9 /6): stores the environment, then masks every exception.
void fnstenv(Cpu& c, const DecodedInsn& i) {
    check_nm(c);
    const unsigned n = env_bytes(i);
    const uint32_t off = c.ea(i);
    check_store(c, i, off, n);
    uint8_t b[28];
    store_env(c, i, b);
    write_bytes(c, i, off, b, n);
    c.s.fpu.fcw |= fpu::kExAll;
    update_es(c.s.fpu);
}
// FLDENV (D9 /4).
void fldenv(Cpu& c, const DecodedInsn& i) {
    enter_wait(c);
    const unsigned n = env_bytes(i);
    uint8_t b[28];
    read_bytes(c, i, c.ea(i), b, n);
    load_env(c, i, b);
}
// FNSAVE (DD /6): environment plus ST(0)..ST(7), then FNINIT.
void fnsave(Cpu& c, const DecodedInsn& i) {
    check_nm(c);
    const unsigned n = env_bytes(i);
    const uint32_t off = c.ea(i);
    check_store(c, i, off, n + 80);
    uint8_t b[108];
    store_env(c, i, b);
    for (unsigned k = 0; k < 8; ++k) put_f80(b + n + 10 * k, get(c.s.fpu, k));
    write_bytes(c, i, off, b, n + 80);
    fninit(c);
}
// FRSTOR (DD /4).
void frstor(Cpu& c, const DecodedInsn& i) {
    enter_wait(c);
    const unsigned n = env_bytes(i);
    uint8_t b[108];
    read_bytes(c, i, c.ea(i), b, n + 80);
    load_env(c, i, b);
    X87State& f = c.s.fpu;
    for (unsigned k = 0; k < 8; ++k) {
        F80 v = get_f80(b + n + 10 * k);
        X87Reg& r = f.r[phys(f, k)];
        r.sig = v.sig;
        r.se = v.se;
    }
}

// FNSTSW m16 (DD /7), FNSTCW m16 (D9 /7).
void fnstsw_m(Cpu& c, const DecodedInsn& i) {
    check_nm(c);
    c.write<16>(i.seg, c.ea(i), c.s.fpu.fsw);
}
void fnstcw(Cpu& c, const DecodedInsn& i) {
    check_nm(c);
    c.write<16>(i.seg, c.ea(i), c.s.fpu.fcw);
}
// FNSTSW AX (DF E0).
void fnstsw_ax(Cpu& c) {
    check_nm(c);
    c.set_r16(EAX, c.s.fpu.fsw);
}

// ---- FXSAVE/FXRSTOR (0F AE /0, /1): the 512-byte image ----

void fxsave(Cpu& c, const DecodedInsn& i) {
    fx_prologue(c, i);
    const uint32_t off = c.ea(i);
    c.check_write(i.seg, off, 512);
    if (c.paging()) c.probe_write_lin(c.s.seg[i.seg].base + off, kFxWritten);
    const X87State& f = c.s.fpu;
    uint8_t b[kFxWritten] = {};
    store_le<uint16_t>(b + 0, f.fcw);
    store_le<uint16_t>(b + 2, f.fsw);
    b[4] = f.ftw;
    store_le<uint16_t>(b + 6, f.fop);
    store_le<uint32_t>(b + 8, f.fip);
    store_le<uint16_t>(b + 12, f.fcs);
    store_le<uint32_t>(b + 16, f.fdp);
    store_le<uint16_t>(b + 20, f.fds);
    store_le<uint32_t>(b + 24, f.mxcsr);
    store_le<uint32_t>(b + 28, kMxcsrMask);
    for (unsigned k = 0; k < 8; ++k) put_f80(b + 32 + 16 * k, get(f, k));
    // 160-287: XMM0-XMM7, zero until the SSE state exists.
    write_bytes(c, i, off, b, kFxWritten);
}

void fxrstor(Cpu& c, const DecodedInsn& i) {
    fx_prologue(c, i);
    const uint32_t off = c.ea(i);
    c.check_read(i.seg, off, 512);
    uint8_t b[160];
    read_bytes(c, i, off, b, sizeof b);
    uint32_t mxcsr = load_le<uint32_t>(b + 24);
    if (mxcsr & ~kMxcsrMask) c.fault(kGP, 0);
    X87State& f = c.s.fpu;
    f.fcw = uint16_t((load_le<uint16_t>(b) & 0x1F3F) | 0x40);
    f.fsw = load_le<uint16_t>(b + 2);
    f.ftw = b[4];
    f.fop = uint16_t(load_le<uint16_t>(b + 6) & 0x7FF);
    f.fip = load_le<uint32_t>(b + 8);
    f.fcs = load_le<uint16_t>(b + 12);
    f.fdp = load_le<uint32_t>(b + 16);
    f.fds = load_le<uint16_t>(b + 20);
    f.mxcsr = mxcsr;
    for (unsigned k = 0; k < 8; ++k) {
        F80 v = get_f80(b + 32 + 16 * k);
        X87Reg& r = f.r[phys(f, k)];
        r.sig = v.sig;
        r.se = v.se;
    }
    update_es(f);
    if (!(f.fsw & kES)) c.set_ferr(false);
}

}  // namespace vx86::cpu::ops::x87

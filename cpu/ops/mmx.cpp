// MMX (Pentium MMX / Pentium II): 0F 60-7F, 0F D1-FE and EMMS.
//
// Design decisions:
// - MMi is the significand of x87 physical register Ri (CpuState::fpu). Every MMX instruction
//   but EMMS sets TOP = 0 and tags all eight registers valid; a written MMi also gets its
//   sign/exponent word set to all ones (SDM vol. 1, 9.5). EMMS tags all eight empty (and also
//   sets TOP = 0).
// - Order: CR0.EM -> #UD, CR0.TS -> #NM, a pending unmasked x87 exception -> #MF (or FERR#
//   with CR0.NE = 0), then the source operand read (or the store checks), then state changes.
// - A handler is a lane-wise function over two 64-bit values; the lane loops are written once
//   (template on lane width and an operation), so each instruction is one table line.
// - 66h/F2h/F3h are ignored as the Pentium II ignores them: the SSE2 forms they select on later
//   CPUs do not exist on these models.
#include <cstring>
#include <type_traits>

#include "cpu/ops/ops.h"

namespace vx86::cpu::ops {

namespace {

void mmx_enter(Cpu& c) {
    if (c.s.cr[0] & kCr0EM) c.fault(kUD);
    if (c.s.cr[0] & kCr0TS) c.fault(kNM);
    if (c.s.fpu.fsw & (1u << 7)) {  // ES: a pending unmasked x87 exception
        if (c.s.cr[0] & kCr0NE) c.fault(kMF);
        c.set_ferr(true);
        c.end_block();
    }
}
// The architectural side effect of every MMX instruction: TOP = 0, all tags valid.
void mmx_touch(Cpu& c) {
    c.s.fpu.fsw &= uint16_t(~(7u << 11));
    c.s.fpu.ftw = 0xFF;
}
uint64_t mm(const Cpu& c, unsigned r) { return c.s.fpu.r[r & 7].sig; }
void set_mm(Cpu& c, unsigned r, uint64_t v) {
    c.s.fpu.r[r & 7].sig = v;
    c.s.fpu.r[r & 7].se = 0xFFFF;
}
uint64_t read64(Cpu& c, const DecodedInsn& i) {
    uint32_t a = c.ea(i);
    uint32_t a2 = (i.flags & kfAddr32) ? a + 4 : ((a + 4) & 0xFFFF);
    c.check_read(i.seg, a, 8);
    uint64_t lo = c.read<32>(i.seg, a);
    uint64_t hi = c.read<32>(i.seg, a2);
    return lo | hi << 32;
}
// Source operand mm/m64 (or mm/m32 for the low-half unpacks, zero-extended).
template <bool Half = false>
uint64_t src_rm(Cpu& c, const DecodedInsn& i) {
    if (!(i.flags & kfMem)) return mm(c, i.rm);
    if constexpr (Half) return c.read<32>(i.seg, c.ea(i));
    else return read64(c, i);
}

// ---- lanes ----

template <int W>
using Lane = std::conditional_t<W == 8, uint8_t, std::conditional_t<W == 16, uint16_t, uint32_t>>;
template <int W>
using SLane = std::make_signed_t<Lane<W>>;

template <int W>
uint64_t lane(uint64_t v, unsigned k) { return (v >> (k * W)) & ((uint64_t(1) << W) - 1); }

template <int W, typename F>
uint64_t lanes(uint64_t a, uint64_t b, F fn) {
    uint64_t r = 0;
    for (unsigned k = 0; k < 64 / W; ++k) {
        uint64_t x = fn(Lane<W>(lane<W>(a, k)), Lane<W>(lane<W>(b, k)));
        r |= (x & ((uint64_t(1) << W) - 1)) << (k * W);
    }
    return r;
}

template <int W>
int64_t sat_s(int64_t v) {
    constexpr int64_t lo = -(int64_t(1) << (W - 1)), hi = (int64_t(1) << (W - 1)) - 1;
    return v < lo ? lo : v > hi ? hi : v;
}
template <int W>
int64_t sat_u(int64_t v) {
    constexpr int64_t hi = (int64_t(1) << W) - 1;
    return v < 0 ? 0 : v > hi ? hi : v;
}

enum class A : uint8_t { kAdd, kAdds, kAddus, kSub, kSubs, kSubus, kCmpeq, kCmpgt };

template <int W, A Op>
uint64_t arith(uint64_t a, uint64_t b) {
    return lanes<W>(a, b, [](Lane<W> x, Lane<W> y) -> uint64_t {
        int64_t sx = SLane<W>(x), sy = SLane<W>(y);
        switch (Op) {
            case A::kAdd: return uint64_t(x) + y;
            case A::kAdds: return uint64_t(sat_s<W>(sx + sy));
            case A::kAddus: return uint64_t(sat_u<W>(int64_t(x) + y));
            case A::kSub: return uint64_t(x) - y;
            case A::kSubs: return uint64_t(sat_s<W>(sx - sy));
            case A::kSubus: return uint64_t(sat_u<W>(int64_t(x) - y));
            case A::kCmpeq: return x == y ? ~uint64_t(0) : 0;
            default: return sx > sy ? ~uint64_t(0) : 0;
        }
    });
}

uint64_t pand(uint64_t a, uint64_t b) { return a & b; }
uint64_t pandn(uint64_t a, uint64_t b) { return ~a & b; }
uint64_t por(uint64_t a, uint64_t b) { return a | b; }
uint64_t pxor(uint64_t a, uint64_t b) { return a ^ b; }

uint64_t pmullw(uint64_t a, uint64_t b) {
    return lanes<16>(a, b, [](uint16_t x, uint16_t y) -> uint64_t {
        return uint64_t(int32_t(int16_t(x)) * int16_t(y));
    });
}
uint64_t pmulhw(uint64_t a, uint64_t b) {
    return lanes<16>(a, b, [](uint16_t x, uint16_t y) -> uint64_t {
        return uint64_t(uint32_t(int32_t(int16_t(x)) * int16_t(y)) >> 16);
    });
}
uint64_t pmaddwd(uint64_t a, uint64_t b) {
    uint64_t r = 0;
    for (unsigned k = 0; k < 2; ++k) {
        int32_t p0 = int32_t(int16_t(lane<16>(a, 2 * k))) * int16_t(lane<16>(b, 2 * k));
        int32_t p1 = int32_t(int16_t(lane<16>(a, 2 * k + 1))) * int16_t(lane<16>(b, 2 * k + 1));
        // 8000h*8000h twice is the one overflowing case: it wraps to 80000000h, as on hardware.
        r |= uint64_t(uint32_t(uint32_t(p0) + uint32_t(p1))) << (32 * k);
    }
    return r;
}

// Packs: destination lanes first (low half), then source lanes.
template <int W, bool Signed>
uint64_t pack(uint64_t a, uint64_t b) {
    constexpr unsigned n = 64 / W;  // source lanes per operand
    uint64_t r = 0;
    for (unsigned k = 0; k < 2 * n; ++k) {
        uint64_t v = k < n ? a : b;
        int64_t x = SLane<W>(Lane<W>(lane<W>(v, k % n)));
        int64_t s = Signed ? sat_s<W / 2>(x) : sat_u<W / 2>(x);
        r |= (uint64_t(s) & ((uint64_t(1) << (W / 2)) - 1)) << (k * (W / 2));
    }
    return r;
}
// Unpacks: interleave the low (High = false) or high halves' lanes, destination first.
template <int W, bool High>
uint64_t unpack(uint64_t a, uint64_t b) {
    constexpr unsigned n = 32 / W;
    uint64_t r = 0;
    for (unsigned k = 0; k < n; ++k) {
        unsigned src = High ? k + n : k;
        r |= lane<W>(a, src) << (2 * k * W);
        r |= lane<W>(b, src) << ((2 * k + 1) * W);
    }
    return r;
}

enum class Sh : uint8_t { kLeft, kRight, kArith };
// By a 64-bit count: logical shifts past the lane width give 0, arithmetic ones the sign.
template <int W, Sh Kind>
uint64_t shift(uint64_t a, uint64_t count) {
    if constexpr (W == 64) {
        if (count > 63) return 0;
        return Kind == Sh::kLeft ? a << count : a >> count;
    } else {
        if (count > uint64_t(W - 1)) {
            if (Kind != Sh::kArith) return 0;
            count = W - 1;
        }
        uint64_t r = 0;
        for (unsigned k = 0; k < 64 / W; ++k) {
            uint64_t x = lane<W>(a, k), v;
            if (Kind == Sh::kLeft) v = x << count;
            else if (Kind == Sh::kRight) v = x >> count;
            else v = uint64_t(int64_t(SLane<W>(Lane<W>(x))) >> count);
            r |= (v & ((uint64_t(1) << W) - 1)) << (k * W);
        }
        return r;
    }
}

// ---- handlers ----

// op mm, mm/m64 (or mm/m32 for the low unpacks).
template <uint64_t (*Fn)(uint64_t, uint64_t), bool Half = false>
void binop(Cpu& c, const DecodedInsn& i) {
    mmx_enter(c);
    uint64_t b = src_rm<Half>(c, i);
    mmx_touch(c);
    set_mm(c, i.reg, Fn(mm(c, i.reg), b));
}

// PSRLW/PSRAW/PSLLW, D and Q forms by imm8 (0F 71/72/73 /2 /4 /6 ib; register operand only).
template <int W>
void shift_imm(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) c.fault(kUD);
    mmx_enter(c);
    uint64_t a = mm(c, i.rm), n = i.imm & 0xFF, r;
    switch (i.reg) {
        case 2: r = shift<W, Sh::kRight>(a, n); break;
        case 4: r = shift<W, Sh::kArith>(a, n); break;
        default: r = shift<W, Sh::kLeft>(a, n); break;
    }
    mmx_touch(c);
    set_mm(c, i.rm, r);
}

// MOVD mm, r/m32 (0F 6E); MOVD r/m32, mm (0F 7E); MOVQ mm, mm/m64 (0F 6F); MOVQ mm/m64, mm (0F 7F)
void movd_load(Cpu& c, const DecodedInsn& i) {
    mmx_enter(c);
    uint32_t v = c.read_rm<32>(i);
    mmx_touch(c);
    set_mm(c, i.reg, v);
}
void movd_store(Cpu& c, const DecodedInsn& i) {
    mmx_enter(c);
    uint32_t v = uint32_t(mm(c, i.reg));
    c.write_rm<32>(i, v);
    mmx_touch(c);
}
void movq_load(Cpu& c, const DecodedInsn& i) {
    mmx_enter(c);
    uint64_t v = src_rm(c, i);
    mmx_touch(c);
    set_mm(c, i.reg, v);
}
void movq_store(Cpu& c, const DecodedInsn& i) {
    mmx_enter(c);
    uint64_t v = mm(c, i.reg);
    if (i.flags & kfMem) {
        uint32_t a = c.ea(i);
        uint32_t a2 = (i.flags & kfAddr32) ? a + 4 : ((a + 4) & 0xFFFF);
        c.check_write(i.seg, a, 8);
        if (c.paging()) c.probe_write_lin(c.s.seg[i.seg].base + a, 8);
        c.write<32>(i.seg, a, uint32_t(v));
        c.write<32>(i.seg, a2, uint32_t(v >> 32));
        mmx_touch(c);
    } else {
        mmx_touch(c);
        set_mm(c, i.rm, v);
    }
}
// EMMS (0F 77): every tag empty, TOP = 0 (SDM vol. 1, table 9-3).
void emms(Cpu& c, const DecodedInsn&) {
    mmx_enter(c);
    c.s.fpu.fsw &= uint16_t(~(7u << 11));
    c.s.fpu.ftw = 0;
}

}  // namespace

void register_mmx(OpTable& t, const ModelTraits& m) {
    if (!m.has_mmx) return;
    t.op0f(0x60, binop<unpack<8, false>, true>);   // PUNPCKLBW mm, mm/m32   0F 60 /r
    t.op0f(0x61, binop<unpack<16, false>, true>);  // PUNPCKLWD mm, mm/m32   0F 61 /r
    t.op0f(0x62, binop<unpack<32, false>, true>);  // PUNPCKLDQ mm, mm/m32   0F 62 /r
    t.op0f(0x63, binop<pack<16, true>>);           // PACKSSWB mm, mm/m64    0F 63 /r
    t.op0f(0x64, binop<arith<8, A::kCmpgt>>);      // PCMPGTB                0F 64 /r
    t.op0f(0x65, binop<arith<16, A::kCmpgt>>);     // PCMPGTW                0F 65 /r
    t.op0f(0x66, binop<arith<32, A::kCmpgt>>);     // PCMPGTD                0F 66 /r
    t.op0f(0x67, binop<pack<16, false>>);          // PACKUSWB               0F 67 /r
    t.op0f(0x68, binop<unpack<8, true>>);          // PUNPCKHBW mm, mm/m64   0F 68 /r
    t.op0f(0x69, binop<unpack<16, true>>);         // PUNPCKHWD              0F 69 /r
    t.op0f(0x6A, binop<unpack<32, true>>);         // PUNPCKHDQ              0F 6A /r
    t.op0f(0x6B, binop<pack<32, true>>);           // PACKSSDW               0F 6B /r
    t.op0f(0x6E, movd_load);                       // MOVD mm, r/m32         0F 6E /r
    t.op0f(0x6F, movq_load);                       // MOVQ mm, mm/m64        0F 6F /r
    for (unsigned r : {2u, 4u, 6u}) {
        t.grp0f(0x71, r, shift_imm<16>);           // PSRLW/PSRAW/PSLLW mm, imm8  0F 71 /2 /4 /6 ib
        t.grp0f(0x72, r, shift_imm<32>);           // PSRLD/PSRAD/PSLLD mm, imm8  0F 72 /2 /4 /6 ib
    }
    t.grp0f(0x73, 2, shift_imm<64>);               // PSRLQ mm, imm8         0F 73 /2 ib
    t.grp0f(0x73, 6, shift_imm<64>);               // PSLLQ mm, imm8         0F 73 /6 ib
    t.op0f(0x74, binop<arith<8, A::kCmpeq>>);      // PCMPEQB                0F 74 /r
    t.op0f(0x75, binop<arith<16, A::kCmpeq>>);     // PCMPEQW                0F 75 /r
    t.op0f(0x76, binop<arith<32, A::kCmpeq>>);     // PCMPEQD                0F 76 /r
    t.op0f(0x77, emms);                            // EMMS                   0F 77
    t.op0f(0x7E, movd_store);                      // MOVD r/m32, mm         0F 7E /r
    t.op0f(0x7F, movq_store);                      // MOVQ mm/m64, mm        0F 7F /r
    t.op0f(0xD1, binop<shift<16, Sh::kRight>>);    // PSRLW mm, mm/m64       0F D1 /r
    t.op0f(0xD2, binop<shift<32, Sh::kRight>>);    // PSRLD                  0F D2 /r
    t.op0f(0xD3, binop<shift<64, Sh::kRight>>);    // PSRLQ                  0F D3 /r
    t.op0f(0xD5, binop<pmullw>);                   // PMULLW                 0F D5 /r
    t.op0f(0xD8, binop<arith<8, A::kSubus>>);      // PSUBUSB                0F D8 /r
    t.op0f(0xD9, binop<arith<16, A::kSubus>>);     // PSUBUSW                0F D9 /r
    t.op0f(0xDB, binop<pand>);                     // PAND                   0F DB /r
    t.op0f(0xDC, binop<arith<8, A::kAddus>>);      // PADDUSB                0F DC /r
    t.op0f(0xDD, binop<arith<16, A::kAddus>>);     // PADDUSW                0F DD /r
    t.op0f(0xDF, binop<pandn>);                    // PANDN                  0F DF /r
    t.op0f(0xE1, binop<shift<16, Sh::kArith>>);    // PSRAW                  0F E1 /r
    t.op0f(0xE2, binop<shift<32, Sh::kArith>>);    // PSRAD                  0F E2 /r
    t.op0f(0xE5, binop<pmulhw>);                   // PMULHW                 0F E5 /r
    t.op0f(0xE8, binop<arith<8, A::kSubs>>);       // PSUBSB                 0F E8 /r
    t.op0f(0xE9, binop<arith<16, A::kSubs>>);      // PSUBSW                 0F E9 /r
    t.op0f(0xEB, binop<por>);                      // POR                    0F EB /r
    t.op0f(0xEC, binop<arith<8, A::kAdds>>);       // PADDSB                 0F EC /r
    t.op0f(0xED, binop<arith<16, A::kAdds>>);      // PADDSW                 0F ED /r
    t.op0f(0xEF, binop<pxor>);                     // PXOR                   0F EF /r
    t.op0f(0xF1, binop<shift<16, Sh::kLeft>>);     // PSLLW                  0F F1 /r
    t.op0f(0xF2, binop<shift<32, Sh::kLeft>>);     // PSLLD                  0F F2 /r
    t.op0f(0xF3, binop<shift<64, Sh::kLeft>>);     // PSLLQ                  0F F3 /r
    t.op0f(0xF5, binop<pmaddwd>);                  // PMADDWD                0F F5 /r
    t.op0f(0xF8, binop<arith<8, A::kSub>>);        // PSUBB                  0F F8 /r
    t.op0f(0xF9, binop<arith<16, A::kSub>>);       // PSUBW                  0F F9 /r
    t.op0f(0xFA, binop<arith<32, A::kSub>>);       // PSUBD                  0F FA /r
    t.op0f(0xFC, binop<arith<8, A::kAdd>>);        // PADDB                  0F FC /r
    t.op0f(0xFD, binop<arith<16, A::kAdd>>);       // PADDW                  0F FD /r
    t.op0f(0xFE, binop<arith<32, A::kAdd>>);       // PADDD                  0F FE /r
}

}  // namespace vx86::cpu::ops

// String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS, with REP/REPE/REPNE.
//
// One iteration reads its operands, stores, and only then updates eSI/eDI/eCX, so a fault in
// iteration k leaves the registers as after k-1 iterations with EIP at the instruction, exactly
// what a restart needs. A repeated instruction runs at most kChunk iterations per execution;
// if work remains it re-executes itself (next_eip = eip) after ending the block, so interrupts
// and the scheduler's deadline are honoured during a long REP MOVS, as on real hardware.
//
// Forward REP STOS and REP MOVS also take runs of elements at once (Op::bulk): as many as lie
// within one page of each operand, inside the segment limits, where the soft TLB holds a fast
// tag (Cpu::host_span) and, for MOVS, source and destination do not overlap. Anything else
// (a fault, MMIO, a page with decoded code, an overlapping copy) is left to the
// element-by-element path, so every guest-visible effect and the chunking are unchanged.
#include <algorithm>
#include <cstring>

#include "cpu/ops/ops.h"

namespace vx86::cpu::ops {

namespace {

constexpr uint32_t kChunk = 4096;

struct Ctx {
    bool a32;
    int32_t delta;
};

inline uint32_t idx(const Cpu& c, const Ctx& x, unsigned r) {
    return x.a32 ? c.r32(r) : c.r16(r);
}
inline void advance(Cpu& c, const Ctx& x, unsigned r) {
    if (x.a32) c.set_r32(r, c.r32(r) + uint32_t(x.delta));
    else c.set_r16(r, uint16_t(c.r16(r) + x.delta));
}
inline void advance_by(Cpu& c, const Ctx& x, unsigned r, uint32_t bytes) {
    if (x.a32) c.set_r32(r, c.r32(r) + bytes);
    else c.set_r16(r, uint16_t(c.r16(r) + bytes));
}
// How many whole elements of `size` bytes, at most `max`, fit from offset `off` (forward)
// before the end of its page at linear base + off, and (16-bit addressing) before the index
// wraps at 64 KiB.
inline uint32_t run_fits(const Cpu& c, const Ctx& x, unsigned seg, uint32_t off, unsigned size,
                         uint32_t max) {
    uint32_t k = max;
    if (!x.a32) k = std::min<uint32_t>(k, (0x10000 - off) / size);
    const uint32_t lin = c.s.seg[seg].base + off;
    return std::min<uint32_t>(k, (mmu::kPageSize - (lin & mmu::kPageMask)) / size);
}

// 286 only: before a word access that overruns the segment, index registers are advanced and
// then #GP is raised; hardware-captured vectors show it. Index registers advance in access order, the faulting access's own included (MOVS: SI then
// DI; CMPS: DI then SI): `adv` lists the ones advanced when this access faults, and `rep_dec`
// is what the microcode has taken off CX by then (read off the vectors: MOVS/OUTS 1, CMPS 0
// when its first access (DI) faults, otherwise 2).
enum : unsigned { kAdvSi = 1, kAdvDi = 2 };
template <int B>
inline void overrun_quirk(Cpu& c, const DecodedInsn& i, const Ctx& x, unsigned seg, unsigned reg,
                          unsigned adv, uint32_t rep_dec) {
    if (B == 8 || !c.traits().string_fault_quirk) return;
    if (uint64_t(idx(c, x, reg)) + (B / 8 - 1) <= c.s.seg[seg].limit) return;
    if (adv & kAdvSi) advance(c, x, ESI);
    if (adv & kAdvDi) advance(c, x, EDI);
    if (i.flags & (kfRep | kfRepne)) set_count_reg(c, i, count_reg(c, i) - rep_dec);
    c.fault(kGP, 0);
}

template <int B>
struct Movs {
    static constexpr bool kCond = false;
    // Up to `max` forward iterations at once (0: none could be done that way).
    static uint32_t bulk(Cpu& c, const DecodedInsn& i, const Ctx& x, uint32_t max) {
        constexpr unsigned kSize = B / 8;
        const uint32_t si = idx(c, x, ESI), di = idx(c, x, EDI);
        const uint32_t k = std::min(run_fits(c, x, i.seg, si, kSize, max),
                                    run_fits(c, x, ES, di, kSize, max));
        if (k == 0) return 0;
        const uint8_t* src = c.host_span(i.seg, si, k * kSize, kSize, false);
        uint8_t* dst = c.host_span(ES, di, k * kSize, kSize, true);
        if (!src || !dst || (dst < src + k * kSize && src < dst + k * kSize)) return 0;
        std::memcpy(dst, src, k * kSize);
        advance_by(c, x, ESI, k * kSize);
        advance_by(c, x, EDI, k * kSize);
        return k;
    }
    static void iter(Cpu& c, const DecodedInsn& i, const Ctx& x) {
        overrun_quirk<B>(c, i, x, i.seg, ESI, kAdvSi, 1);
        overrun_quirk<B>(c, i, x, ES, EDI, kAdvSi | kAdvDi, 1);
        uint32_t v = c.read<B>(i.seg, idx(c, x, ESI));
        c.write<B>(ES, idx(c, x, EDI), v);
        advance(c, x, ESI);
        advance(c, x, EDI);
    }
};
template <int B>
struct Stos {
    static constexpr bool kCond = false;
    static uint32_t bulk(Cpu& c, const DecodedInsn&, const Ctx& x, uint32_t max) {
        constexpr unsigned kSize = B / 8;
        const uint32_t di = idx(c, x, EDI);
        const uint32_t k = run_fits(c, x, ES, di, kSize, max);
        if (k == 0) return 0;
        uint8_t* dst = c.host_span(ES, di, k * kSize, kSize, true);
        if (!dst) return 0;
        const uint32_t v = c.reg<B>(EAX);
        if constexpr (B == 8) std::memset(dst, int(v), k);
        else
            for (uint32_t n = 0; n < k; ++n) std::memcpy(dst + n * kSize, &v, kSize);  // little-endian
        advance_by(c, x, EDI, k * kSize);
        return k;
    }
    static void iter(Cpu& c, const DecodedInsn& i, const Ctx& x) {
        overrun_quirk<B>(c, i, x, ES, EDI, kAdvDi, 2);
        c.write<B>(ES, idx(c, x, EDI), c.reg<B>(EAX));
        advance(c, x, EDI);
    }
};
template <int B>
struct Lods {
    static constexpr bool kCond = false;
    static void iter(Cpu& c, const DecodedInsn& i, const Ctx& x) {
        overrun_quirk<B>(c, i, x, i.seg, ESI, kAdvSi, 2);
        c.set_reg<B>(EAX, c.read<B>(i.seg, idx(c, x, ESI)));
        advance(c, x, ESI);
    }
};
template <int B>
struct Cmps {
    static constexpr bool kCond = true;
    static void iter(Cpu& c, const DecodedInsn& i, const Ctx& x) {
        overrun_quirk<B>(c, i, x, ES, EDI, kAdvDi, 0);
        overrun_quirk<B>(c, i, x, i.seg, ESI, kAdvDi | kAdvSi, 2);
        uint32_t a = c.read<B>(i.seg, idx(c, x, ESI));
        uint32_t b = c.read<B>(ES, idx(c, x, EDI));
        set_flags_sub<B>(c.s.lf, a, b, (a - b) & kMaskB<B>);
        advance(c, x, ESI);
        advance(c, x, EDI);
    }
};
template <int B>
struct Scas {
    static constexpr bool kCond = true;
    static void iter(Cpu& c, const DecodedInsn& i, const Ctx& x) {
        overrun_quirk<B>(c, i, x, ES, EDI, kAdvDi, 2);
        uint32_t a = c.reg<B>(EAX);
        uint32_t b = c.read<B>(ES, idx(c, x, EDI));
        set_flags_sub<B>(c.s.lf, a, b, (a - b) & kMaskB<B>);
        advance(c, x, EDI);
    }
};
template <int B>
struct Ins {
    static constexpr bool kCond = false;
    static void iter(Cpu& c, const DecodedInsn& i, const Ctx& x) {
        overrun_quirk<B>(c, i, x, ES, EDI, kAdvDi, 2);
        c.check_io(c.r16(EDX), B / 8);
        // The port read must not happen twice: check the store (segment and page) first.
        c.check_write(ES, idx(c, x, EDI), B / 8);
        c.probe_write_lin(c.s.seg[ES].base + idx(c, x, EDI), B / 8);
        uint32_t v = c.io_read(c.r16(EDX), B / 8);
        c.write<B>(ES, idx(c, x, EDI), v);
        advance(c, x, EDI);
    }
};
template <int B>
struct Outs {
    static constexpr bool kCond = false;
    static void iter(Cpu& c, const DecodedInsn& i, const Ctx& x) {
        overrun_quirk<B>(c, i, x, i.seg, ESI, kAdvSi, 1);
        c.check_io(c.r16(EDX), B / 8);
        uint32_t v = c.read<B>(i.seg, idx(c, x, ESI));
        c.io_write(c.r16(EDX), B / 8, v);
        advance(c, x, ESI);
    }
};

template <int B, template <int> class OpT>
void string_op(Cpu& c, const DecodedInsn& i) {
    using Op = OpT<B>;
    Ctx x{(i.flags & kfAddr32) != 0, (c.s.eflags & kDF) ? -(B / 8) : (B / 8)};
    if (!(i.flags & (kfRep | kfRepne))) {
        Op::iter(c, i, x);
        return;
    }
    uint32_t n = count_reg(c, i);
    for (uint32_t done = 0; n != 0;) {
        if (done == kChunk) {
            c.next_eip = uint32_t(c.s.eip);  // run again: the remaining count is in eCX
            c.end_block();
            return;
        }
        if constexpr (requires { Op::bulk(c, i, x, n); }) {
            if (x.delta > 0) {
                if (const uint32_t k = Op::bulk(c, i, x, std::min(n, kChunk - done))) {
                    n -= k;
                    done += k;
                    set_count_reg(c, i, n);
                    continue;
                }
            }
        }
        Op::iter(c, i, x);
        set_count_reg(c, i, --n);
        ++done;
        if constexpr (Op::kCond) {
            bool zf = lf_zf(c.s.lf);
            if ((i.flags & kfRep) ? !zf : zf) break;
        }
    }
}

template <template <int> class Op>
void reg_string(OpTable& t, unsigned opc_byte) {
    t.op(opc_byte, string_op<8, Op>);
    t.op(opc_byte + 1, string_op<16, Op>, string_op<32, Op>);
}

}  // namespace

void register_string(OpTable& t, const ModelTraits& m) {
    reg_string<Movs>(t, 0xA4);  // MOVS  A4, A5
    reg_string<Cmps>(t, 0xA6);  // CMPS  A6, A7
    reg_string<Stos>(t, 0xAA);  // STOS  AA, AB
    reg_string<Lods>(t, 0xAC);  // LODS  AC, AD
    reg_string<Scas>(t, 0xAE);  // SCAS  AE, AF
    if (m.has_186) {
        reg_string<Ins>(t, 0x6C);   // INS  6C, 6D
        reg_string<Outs>(t, 0x6E);  // OUTS 6E, 6F
    }
}

}  // namespace vx86::cpu::ops

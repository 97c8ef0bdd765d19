// The x87 FPU: ESC opcodes D8-DF, WAIT, and FXSAVE/FXRSTOR (0F AE /0 /1).
//
// Design decisions:
// - The arithmetic is cpu/fpu/f80 (pure functions, bit-exact); this file is the machine around
//   it: the register stack and its tags, FSW/FCW, the stack-fault rules, exception pending and
//   signalling and the instruction/operand pointers. The control and state instructions
//   (FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW, FNSTENV/FLDENV, FNSAVE/FRSTOR, FXSAVE/FXRSTOR) and
//   their memory images are in x87_env.cpp; the helpers both files use are in x87_internal.h.
//   The opcode slots below dispatch to both, and register_x87() is the one registration.
// - One handler per (opcode, ModRM.reg) slot. Memory and register forms share the slot, so each
//   handler splits on kfMem; register forms of D9/DB/DE/DF that hold several instructions
//   dispatch on ModRM.rm. The decoder hands over the whole ModRM byte in `imm` (it goes into FOP).
// - Order inside every handler: #NM (CR0.EM/TS), then a pending unmasked exception (#MF when
//   CR0.NE = 1; with NE = 0 the FERR# output is asserted and the instruction goes on, the PC's
//   IRQ13 handler does the rest) for the waiting forms, then every memory read and every store
//   check (segment and page), and only then any change to FPU or CPU state, so a fault anywhere
//   leaves the instruction undone.
// - ES (and B, its 387+ mirror) is recomputed from FSW's exception bits and FCW's masks after
//   every instruction that can change either, FLDCW and FLDENV included: unmasking an exception
//   whose flag is already set makes it pending, as on hardware.
// - Unmasked IE/ZE/DE suppress the store and any pop (TOP and the operands stay as they were);
//   unmasked OE/UE to a register store the biased result that f80 returns. Stack faults set IE
//   and SF, with C1 = 1 for overflow and 0 for underflow; the masked response writes the real
//   indefinite where the result would have gone.
// - FIP/FCS/FOP/FDP/FDS are recorded for every non-control instruction (control ones: FNINIT,
//   FNCLEX, FLDCW, FNSTCW, FNSTSW, FLDENV, FNSTENV, FRSTOR, FNSAVE, FXSAVE, FXRSTOR, WAIT).
//   FIP holds the offset and FCS the selector; the real-mode layouts store CS * 16 + offset.
#include "cpu/ops/x87_internal.h"

namespace vx86::cpu::ops {

namespace x87 {

namespace {

// Memory operand kinds of the arithmetic rows.
enum class MemKind : uint8_t { kF32, kF64, kI16, kI32 };
// Reads and converts the arithmetic row's memory operand (conversion exceptions into env).
struct RawOperand {
    uint64_t bits;
};
RawOperand read_operand(Cpu& c, const DecodedInsn& i, MemKind k) {
    const unsigned n = (k == MemKind::kF64) ? 8 : (k == MemKind::kI16) ? 2 : 4;
    return RawOperand{read_le(c, i, c.ea(i), n)};
}
F80 convert(RawOperand r, MemKind k, Env& e) {
    switch (k) {
        case MemKind::kF32: return fpu::from_f32(uint32_t(r.bits), e);
        case MemKind::kF64: return fpu::from_f64(r.bits, e);
        case MemKind::kI16: return fpu::from_i64(int16_t(uint16_t(r.bits)));
        default: return fpu::from_i64(int32_t(uint32_t(r.bits)));
    }
}

// ---- arithmetic rows (D8/DC/DA/DE) ----

enum class Op : uint8_t { kAdd, kMul, kCom, kComp, kSub, kSubR, kDiv, kDivR };

F80 arith(Op op, F80 a, F80 b, Env& e) {
    switch (op) {
        case Op::kAdd: return fpu::add(a, b, e);
        case Op::kMul: return fpu::mul(a, b, e);
        case Op::kSub: return fpu::sub(a, b, e);
        case Op::kSubR: return fpu::sub(b, a, e);
        case Op::kDiv: return fpu::div(a, b, e);
        default: return fpu::div(b, a, e);
    }
}

// FCOM-style condition codes.
uint16_t rel_cc(fpu::Rel r) {
    switch (r) {
        case fpu::Rel::kGreater: return 0;
        case fpu::Rel::kLess: return kC0;
        case fpu::Rel::kEqual: return kC3;
        default: return kC3 | kC2 | kC0;
    }
}

// ST(0) <op> operand (memory) for D8/DC/DA/DE memory forms, FCOM/FCOMP/FICOM(P) included.
void arith_mem(Cpu& c, const DecodedInsn& i, MemKind k) {
    enter_wait(c);
    RawOperand raw = read_operand(c, i, k);
    record(c, i);
    X87State& f = c.s.fpu;
    Op op = Op(i.reg);
    bool compare = op == Op::kCom || op == Op::kComp;
    if (empty(f, 0)) {
        bool masked = underflow(f);
        if (compare) {
            set_cc(f, kC3 | kC2 | kC0);
            if (masked && op == Op::kComp) pop(f);
        } else if (masked) {
            put(f, 0, fpu::f80_indefinite());
        }
        update_es(f);
        return;
    }
    // The memory operand's SNaN goes to the operation unquieted (f80 ranks a QNaN in ST(0)
    // above it and raises IE itself). Its denormal-operand exception (the conversion's DE)
    // ranks below NaN propagation, IE and ZE: it counts only when ST(0) is no NaN and the
    // operation raised neither, and unmasked
    // it stops the instruction (compares still set the condition codes) with DE alone.
    Env ce = env_of(f);
    F80 b = convert(raw, k, ce);
    if ((ce.flags & kIE) && (k == MemKind::kF32 || k == MemKind::kF64)) {
        uint64_t frac = k == MemKind::kF32 ? (raw.bits & 0x7FFFFF) << 40
                                           : (raw.bits & 0xFFFFFFFFFFFFFull) << 11;
        bool neg = k == MemKind::kF32 ? (raw.bits >> 31) & 1 : raw.bits >> 63;
        b = F80{(1ull << 63) | frac, uint16_t(neg ? 0xFFFF : 0x7FFF)};
    }
    const fpu::Class ca = fpu::classify(get(f, 0));
    const bool conv_de = (ce.flags & fpu::kExDenormal) && ca != fpu::Class::kQNaN &&
                         ca != fpu::Class::kSNaN && ca != fpu::Class::kUnsupported;
    Env e = env_of(f);
    fpu::Rel rel = fpu::Rel::kUnordered;
    F80 res{};
    if (compare) rel = fpu::compare(get(f, 0), b, false, e);
    else res = arith(op, get(f, 0), b, e);
    if (conv_de && !(e.flags & (kIE | fpu::kExZeroDiv))) {
        if (!(f.fcw & fpu::kExDenormal)) {
            f.fsw |= fpu::kExDenormal;
            set_c1(f, false);
            if (compare) set_cc(f, rel_cc(rel));
            update_es(f);
            return;
        }
        e.flags |= fpu::kExDenormal;
    }
    apply(f, e);
    if (compare) {
        // Compares set the condition codes even when an unmasked exception stops the pop.
        set_cc(f, rel_cc(rel));
        if (op == Op::kComp && !e.unmasked_fault) pop(f);
    } else if (!e.unmasked_fault) {
        put(f, 0, res);
    }
    update_es(f);
}

// Register forms: dst = dst <op> src with dst/src stack indexes; pop afterwards when asked.
void arith_reg(Cpu& c, const DecodedInsn& i, Op op, unsigned dst, unsigned src, bool popit) {
    enter_wait(c);
    record(c, i);
    X87State& f = c.s.fpu;
    if (empty(f, dst) || empty(f, src)) {
        if (underflow(f)) {
            put(f, dst, fpu::f80_indefinite());
            if (popit) pop(f);
        }
        update_es(f);
        return;
    }
    Env e = env_of(f);
    F80 res = arith(op, get(f, dst), get(f, src), e);
    apply(f, e);
    if (!e.unmasked_fault) {
        put(f, dst, res);
        if (popit) pop(f);
    }
    update_es(f);
}

// FCOM/FCOMP/FCOMPP/FUCOM/FUCOMP/FUCOMPP: ST(0) against ST(i), then `pops` pops.
void compare_reg(Cpu& c, const DecodedInsn& i, unsigned src, bool quiet, unsigned pops) {
    enter_wait(c);
    record(c, i);
    X87State& f = c.s.fpu;
    bool masked = true;
    if (empty(f, 0) || empty(f, src)) {
        masked = underflow(f);
        set_cc(f, kC3 | kC2 | kC0);
    } else {
        Env e = env_of(f);
        fpu::Rel r = fpu::compare(get(f, 0), get(f, src), quiet, e);
        apply(f, e);
        set_cc(f, rel_cc(r));
        masked = !e.unmasked_fault;
    }
    if (masked)
        for (unsigned k = 0; k < pops; ++k) pop(f);
    update_es(f);
}

// FCOMI/FCOMIP/FUCOMI/FUCOMIP: the result goes to ZF/PF/CF (OF, SF, AF cleared).
void comi(Cpu& c, const DecodedInsn& i, bool quiet, bool popit) {
    enter_wait(c);
    record(c, i);
    X87State& f = c.s.fpu;
    unsigned src = i.rm;
    uint32_t fl = 0;
    bool masked = true;
    if (empty(f, 0) || empty(f, src)) {
        masked = underflow(f);
        fl = kZF | kPF | kCF;
    } else {
        Env e = env_of(f);
        fpu::Rel r = fpu::compare(get(f, 0), get(f, src), quiet, e);
        apply(f, e);
        masked = !e.unmasked_fault;
        if (r == fpu::Rel::kLess) fl = kCF;
        else if (r == fpu::Rel::kEqual) fl = kZF;
        else if (r == fpu::Rel::kUnordered) fl = kZF | kPF | kCF;
    }
    // The flags are written even when an unmasked IE suppresses the pop (as the host shows).
    lf_from_eflags(c.s.lf, fl);
    if (masked && popit) pop(f);
    update_es(f);
}

// ---- loads and stores ----

// FLD m32/m64/m80, FILD m16/m32/m64, FBLD m80.
enum class LoadKind : uint8_t { kF32, kF64, kF80, kI16, kI32, kI64, kBcd };
template <LoadKind K>
void fld_mem(Cpu& c, const DecodedInsn& i) {
    enter_wait(c);
    constexpr unsigned n = K == LoadKind::kF32 || K == LoadKind::kI32 ? 4
                         : K == LoadKind::kI16                       ? 2
                         : K == LoadKind::kF80 || K == LoadKind::kBcd ? 10 : 8;
    uint8_t b[10] = {};
    uint64_t bits = 0;  // (an operand of up to 8 bytes)
    if constexpr (n == 10) read_bytes(c, i, c.ea(i), b, n);
    else bits = read_le(c, i, c.ea(i), n);
    record(c, i);
    X87State& f = c.s.fpu;
    Env e = env_of(f);
    F80 v;
    if constexpr (K == LoadKind::kF32) v = fpu::from_f32(uint32_t(bits), e);
    else if constexpr (K == LoadKind::kF64) v = fpu::from_f64(bits, e);
    else if constexpr (K == LoadKind::kF80) v = get_f80(b);
    else if constexpr (K == LoadKind::kI16) v = fpu::from_i64(int16_t(uint16_t(bits)));
    else if constexpr (K == LoadKind::kI32) v = fpu::from_i64(int32_t(uint32_t(bits)));
    else if constexpr (K == LoadKind::kI64) v = fpu::from_i64(int64_t(bits));
    else v = fpu::from_bcd(b);
    if (!empty(f, 7)) {
        if (overflow(f)) push(f, fpu::f80_indefinite());
    } else {
        apply(f, e);
        if (!e.unmasked_fault) push(f, v);
    }
    update_es(f);
}

// FST/FSTP m32/m64/m80, FIST/FISTP m16/m32/m64, FBSTP m80.
enum class StoreKind : uint8_t { kF32, kF64, kF80, kI16, kI32, kI64, kBcd };
template <StoreKind K, bool Pop>
void fst_mem(Cpu& c, const DecodedInsn& i) {
    enter_wait(c);
    constexpr unsigned n = K == StoreKind::kF32 || K == StoreKind::kI32 ? 4
                         : K == StoreKind::kI16                        ? 2
                         : K == StoreKind::kF80 || K == StoreKind::kBcd ? 10 : 8;
    const uint32_t off = c.ea(i);
    check_store(c, i, off, n);
    record(c, i);
    X87State& f = c.s.fpu;
    Env e = env_of(f);
    bool do_store = true;
    F80 v;
    if (empty(f, 0)) {
        do_store = underflow(f);
        v = fpu::f80_indefinite();
        e.flags = 0;
    } else {
        v = get(f, 0);
    }
    uint8_t b[10] = {};
    if (do_store) {
        if constexpr (K == StoreKind::kF32) store_le(b, fpu::to_f32(v, e));
        else if constexpr (K == StoreKind::kF64) store_le(b, fpu::to_f64(v, e));
        else if constexpr (K == StoreKind::kF80) put_f80(b, v);
        else if constexpr (K == StoreKind::kI16)
            store_le(b, uint16_t(fpu::to_int(v, 16, false, e)));
        else if constexpr (K == StoreKind::kI32)
            store_le(b, uint32_t(fpu::to_int(v, 32, false, e)));
        else if constexpr (K == StoreKind::kI64)
            store_le(b, uint64_t(fpu::to_int(v, 64, false, e)));
        else fpu::to_bcd(v, e, b);
        if (!empty(f, 0)) apply(f, e);
        if (e.unmasked_fault) do_store = false;
    }
    if (do_store) {
        write_bytes(c, i, off, b, n);
        if (Pop) pop(f);
    }
    update_es(f);
}

// FST/FSTP ST(i) (and the FSTP1/FSTP8/FSTP9 aliases).
void fst_reg(Cpu& c, const DecodedInsn& i, bool popit) {
    enter_wait(c);
    record(c, i);
    X87State& f = c.s.fpu;
    if (empty(f, 0)) {
        if (underflow(f)) {
            put(f, i.rm, fpu::f80_indefinite());
            if (popit) pop(f);
        }
    } else {
        set_c1(f, false);
        put(f, i.rm, get(f, 0));
        if (popit) pop(f);
    }
    update_es(f);
}

void fld_reg(Cpu& c, const DecodedInsn& i) {
    enter_wait(c);
    record(c, i);
    X87State& f = c.s.fpu;
    if (empty(f, i.rm)) {  // an empty source is reported before a full stack
        if (underflow(f)) push(f, fpu::f80_indefinite());
    } else if (!empty(f, 7)) {
        if (overflow(f)) push(f, fpu::f80_indefinite());
    } else {
        set_c1(f, false);
        push(f, get(f, i.rm));
    }
    update_es(f);
}

void fxch(Cpu& c, const DecodedInsn& i) {
    enter_wait(c);
    record(c, i);
    X87State& f = c.s.fpu;
    unsigned j = i.rm;
    if (empty(f, 0) || empty(f, j)) {
        if (!underflow(f)) {
            update_es(f);
            return;
        }
        if (empty(f, 0)) put(f, 0, fpu::f80_indefinite());
        if (empty(f, j)) put(f, j, fpu::f80_indefinite());
    } else {
        set_c1(f, false);
    }
    F80 a = get(f, 0), b = get(f, j);
    put(f, 0, b);
    put(f, j, a);
    update_es(f);
}

// FCMOVcc ST(0), ST(i) (DA/DB C0-DF): B, E, BE, U and their negations.
void fcmov(Cpu& c, const DecodedInsn& i) {
    enter_wait(c);
    record(c, i);
    X87State& f = c.s.fpu;
    const LazyFlags& lf = c.s.lf;
    bool cond;
    switch (i.reg & 3) {
        case 0: cond = lf_cf(lf); break;
        case 1: cond = lf_zf(lf); break;
        case 2: cond = lf_cf(lf) || lf_zf(lf); break;
        default: cond = lf_pf(lf); break;
    }
    if (i.opcode == 0xDB) cond = !cond;
    if (empty(f, 0) || empty(f, i.rm)) {
        if (underflow(f)) put(f, 0, fpu::f80_indefinite());
    } else if (cond) {
        put(f, 0, get(f, i.rm));  // C1 is left alone
    }
    update_es(f);
}

// ---- one-operand and two-operand functions on the stack top ----

enum class Fn : uint8_t {
    kChs, kAbs, kTst, kXam, kF2xm1, kYl2x, kPtan, kPatan, kXtract, kPrem1, kDecstp, kIncstp,
    kPrem, kYl2xp1, kSqrt, kSincos, kRndint, kScale, kSin, kCos,
};

void unary_fn(Cpu& c, const DecodedInsn& i, Fn fn) {
    enter_wait(c);
    record(c, i);
    X87State& f = c.s.fpu;
    if (fn == Fn::kDecstp || fn == Fn::kIncstp) {
        set_top(f, top(f) + (fn == Fn::kIncstp ? 1 : 7));
        set_c1(f, false);
        return;
    }
    if (fn == Fn::kXam) {
        bool sign = f.r[phys(f, 0)].se >> 15;
        uint16_t cc = sign ? kC1 : 0;
        if (empty(f, 0)) {
            cc |= kC3 | kC0;
        } else {
            uint8_t code = fpu::fxam_code(get(f, 0));
            if (code & 1) cc |= kC0;
            if (code & 2) cc |= kC2;
            if (code & 4) cc |= kC3;
        }
        set_cc(f, cc);
        return;
    }
    // Functions of ST(0) and ST(1); the pushing ones need ST(7) empty.
    const bool binary = fn == Fn::kYl2x || fn == Fn::kPatan || fn == Fn::kYl2xp1 ||
                        fn == Fn::kPrem || fn == Fn::kPrem1 || fn == Fn::kScale;
    const bool pushes = fn == Fn::kPtan || fn == Fn::kXtract || fn == Fn::kSincos;
    if (empty(f, 0) || (binary && empty(f, 1))) {
        bool masked = underflow(f);
        if (fn == Fn::kPrem || fn == Fn::kPrem1) f.fsw &= uint16_t(~kC2);
        if (fn == Fn::kTst) set_cc(f, kC3 | kC2 | kC0);
        else if (masked) {
            if (fn == Fn::kYl2x || fn == Fn::kPatan || fn == Fn::kYl2xp1) {
                put(f, 1, fpu::f80_indefinite());
                pop(f);
            } else {
                put(f, 0, fpu::f80_indefinite());
                if (pushes) push(f, fpu::f80_indefinite());
            }
        }
        update_es(f);
        return;
    }
    if (pushes && !empty(f, 7)) {
        if (overflow(f)) {
            put(f, 0, fpu::f80_indefinite());
            push(f, fpu::f80_indefinite());
        }
        update_es(f);
        return;
    }
    Env e = env_of(f);
    F80 a = get(f, 0);
    F80 b = binary ? get(f, 1) : F80{};
    bool c2 = false;
    switch (fn) {
        case Fn::kChs:
            set_c1(f, false);
            put(f, 0, fpu::chs(a));
            return;
        case Fn::kAbs:
            set_c1(f, false);
            put(f, 0, fpu::abs(a));
            return;
        case Fn::kTst: {
            fpu::Rel r = fpu::compare(a, fpu::f80_zero(false), false, e);
            apply(f, e);
            set_cc(f, rel_cc(r));
            break;
        }
        case Fn::kSqrt: case Fn::kRndint: case Fn::kF2xm1: {
            F80 r = fn == Fn::kSqrt ? fpu::sqrt(a, e)
                  : fn == Fn::kRndint ? fpu::round_to_int(a, e) : fpu::f2xm1(a, e);
            apply(f, e);
            if (!e.unmasked_fault) put(f, 0, r);
            break;
        }
        case Fn::kSin: case Fn::kCos: {
            F80 r = fn == Fn::kSin ? fpu::fsin(a, e, c2) : fpu::fcos(a, e, c2);
            apply(f, e);
            f.fsw = uint16_t((f.fsw & ~kC2) | (c2 ? kC2 : 0));
            if (!e.unmasked_fault && !c2) put(f, 0, r);
            break;
        }
        case Fn::kPtan: {
            F80 r = fpu::fptan(a, e, c2);
            apply(f, e);
            f.fsw = uint16_t((f.fsw & ~kC2) | (c2 ? kC2 : 0));
            if (!e.unmasked_fault && !c2) {
                put(f, 0, r);
                push(f, fpu::load_const(fpu::Const::kOne, e.rc));
            }
            break;
        }
        case Fn::kSincos: {
            F80 s, co;
            fpu::fsincos(a, e, c2, s, co);
            apply(f, e);
            f.fsw = uint16_t((f.fsw & ~kC2) | (c2 ? kC2 : 0));
            if (!e.unmasked_fault && !c2) {
                put(f, 0, s);
                push(f, co);
            }
            break;
        }
        case Fn::kXtract: {
            F80 ex, sig;
            fpu::xtract(a, e, ex, sig);
            apply(f, e);
            if (!e.unmasked_fault) {
                put(f, 0, ex);
                push(f, sig);
            }
            break;
        }
        case Fn::kPrem: case Fn::kPrem1: {
            uint8_t q = 0;
            F80 r = fpu::prem(a, b, fn == Fn::kPrem1, e, q, c2);
            f.fsw |= e.flags & fpu::kExAll;
            const fpu::Class rc = fpu::classify(r);
            if ((e.flags & kIE) || e.unmasked_fault || rc == fpu::Class::kQNaN ||
                rc == fpu::Class::kSNaN) {
                // No remainder (NaN, infinity, zero divisor, or an unmasked DE that stops the
                // operation): C2 and C1 clear, C0/C3 kept (as measured).
                f.fsw &= uint16_t(~(kC2 | kC1));
                if (!e.unmasked_fault) put(f, 0, r);
            } else {
                put(f, 0, r);
                uint16_t cc = c2 ? kC2 : 0;
                if (!c2) {
                    if (q & 4) cc |= kC0;
                    if (q & 2) cc |= kC3;
                    if (q & 1) cc |= kC1;
                }
                set_cc(f, cc);
            }
            break;
        }
        case Fn::kScale: {
            F80 r = fpu::scale(a, b, e);
            apply(f, e);
            if (!e.unmasked_fault) put(f, 0, r);
            break;
        }
        case Fn::kYl2x: case Fn::kYl2xp1: case Fn::kPatan: {
            F80 r = fn == Fn::kYl2x ? fpu::fyl2x(a, b, e)
                  : fn == Fn::kYl2xp1 ? fpu::fyl2xp1(a, b, e) : fpu::fpatan(b, a, e);
            apply(f, e);
            if (!e.unmasked_fault) {
                put(f, 1, r);
                pop(f);
            }
            break;
        }
        default: break;
    }
    update_es(f);
}

void fld_const(Cpu& c, const DecodedInsn& i, fpu::Const k) {
    enter_wait(c);
    record(c, i);
    X87State& f = c.s.fpu;
    if (!empty(f, 7)) {
        if (overflow(f)) push(f, fpu::f80_indefinite());
    } else {
        set_c1(f, false);
        push(f, fpu::load_const(k, uint8_t((f.fcw >> 10) & 3)));
    }
    update_es(f);
}

void fnop(Cpu& c, const DecodedInsn& i) {
    enter_wait(c);
    record(c, i);
}

void ffree(Cpu& c, const DecodedInsn& i, bool popit) {
    enter_wait(c);
    record(c, i);
    X87State& f = c.s.fpu;
    f.ftw = uint8_t(f.ftw & ~(1u << phys(f, i.rm)));
    if (popit) pop(f);
}

// ---- the slots ----

[[noreturn]] void ud(Cpu& c) { c.fault(kUD); }

// D8: arithmetic on ST(0) with m32real or ST(i).
void d8(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) return arith_mem(c, i, MemKind::kF32);
    Op op = Op(i.reg);
    if (op == Op::kCom || op == Op::kComp) return compare_reg(c, i, i.rm, false, op == Op::kComp);
    arith_reg(c, i, op, 0, i.rm, false);
}
// DC: m64real, or ST(i) <- ST(i) op ST(0) (the SUB/SUBR and DIV/DIVR encodings swap).
Op swapped(unsigned reg) {
    static constexpr Op kOps[8] = {Op::kAdd, Op::kMul, Op::kCom, Op::kComp,
                                   Op::kSubR, Op::kSub, Op::kDivR, Op::kDiv};
    return kOps[reg & 7];
}
void dc(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) return arith_mem(c, i, MemKind::kF64);
    Op op = swapped(i.reg);
    if (op == Op::kCom || op == Op::kComp) return compare_reg(c, i, i.rm, false, op == Op::kComp);
    arith_reg(c, i, op, i.rm, 0, false);
}
// DA: m32int, FCMOVB/E/BE/U, FUCOMPP.
void da(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) return arith_mem(c, i, MemKind::kI32);
    if (i.reg < 4 && c.traits().has_p6) return fcmov(c, i);
    if (i.reg == 5 && i.rm == 1) return compare_reg(c, i, 1, true, 2);
    ud(c);
}
// DE: m16int, or the popping register forms (FCOMP5 alias, FCOMPP).
void de(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) return arith_mem(c, i, MemKind::kI16);
    if (i.reg == 2) return compare_reg(c, i, i.rm, false, 1);
    if (i.reg == 3) {
        if (i.rm == 1) return compare_reg(c, i, 1, false, 2);
        ud(c);
    }
    arith_reg(c, i, swapped(i.reg), i.rm, 0, true);
}

void d9(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) {
        switch (i.reg) {
            case 0: return fld_mem<LoadKind::kF32>(c, i);
            case 2: return fst_mem<StoreKind::kF32, false>(c, i);
            case 3: return fst_mem<StoreKind::kF32, true>(c, i);
            case 4: return fldenv(c, i);
            case 5: return fldcw(c, i);
            case 6: return fnstenv(c, i);
            case 7: return fnstcw(c, i);
            default: ud(c);
        }
    }
    switch (i.reg) {
        case 0: return fld_reg(c, i);
        case 1: return fxch(c, i);
        case 2:
            if (i.rm == 0) return fnop(c, i);
            ud(c);
        case 3: return fst_reg(c, i, true);  // FSTP1
        case 4: {
            static constexpr int8_t kFn[8] = {int8_t(Fn::kChs), int8_t(Fn::kAbs), -1, -1,
                                              int8_t(Fn::kTst), int8_t(Fn::kXam), -1, -1};
            if (kFn[i.rm] < 0) ud(c);
            return unary_fn(c, i, Fn(kFn[i.rm]));
        }
        case 5:
            if (i.rm == 7) ud(c);
            return fld_const(c, i, fpu::Const(i.rm));
        case 6: {
            static constexpr Fn kFn[8] = {Fn::kF2xm1, Fn::kYl2x, Fn::kPtan, Fn::kPatan,
                                          Fn::kXtract, Fn::kPrem1, Fn::kDecstp, Fn::kIncstp};
            return unary_fn(c, i, kFn[i.rm]);
        }
        default: {
            static constexpr Fn kFn[8] = {Fn::kPrem, Fn::kYl2xp1, Fn::kSqrt, Fn::kSincos,
                                          Fn::kRndint, Fn::kScale, Fn::kSin, Fn::kCos};
            return unary_fn(c, i, kFn[i.rm]);
        }
    }
}

void db(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) {
        switch (i.reg) {
            case 0: return fld_mem<LoadKind::kI32>(c, i);
            case 2: return fst_mem<StoreKind::kI32, false>(c, i);
            case 3: return fst_mem<StoreKind::kI32, true>(c, i);
            case 5: return fld_mem<LoadKind::kF80>(c, i);
            case 7: return fst_mem<StoreKind::kF80, true>(c, i);
            default: ud(c);  // /1 FISTTP is SSE3
        }
    }
    const bool p6 = c.traits().has_p6;
    if (i.reg < 4 && p6) return fcmov(c, i);
    if (i.reg == 4) {
        check_nm(c);
        switch (i.rm) {
            case 0: case 1: case 4: return;  // FNENI, FNDISI, FNSETPM: no-ops on the 387+
            case 2: return fnclex(c);
            case 3: return fninit(c);
            default: ud(c);
        }
    }
    if (i.reg == 5 && p6) return comi(c, i, true, false);
    if (i.reg == 6 && p6) return comi(c, i, false, false);
    ud(c);
}

void dd(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) {
        switch (i.reg) {
            case 0: return fld_mem<LoadKind::kF64>(c, i);
            case 2: return fst_mem<StoreKind::kF64, false>(c, i);
            case 3: return fst_mem<StoreKind::kF64, true>(c, i);
            case 4: return frstor(c, i);
            case 6: return fnsave(c, i);
            case 7: return fnstsw_m(c, i);
            default: ud(c);  // /1 FISTTP is SSE3
        }
    }
    switch (i.reg) {
        case 0: return ffree(c, i, false);
        case 1: return fxch(c, i);  // FXCH4
        case 2: return fst_reg(c, i, false);
        case 3: return fst_reg(c, i, true);
        case 4: return compare_reg(c, i, i.rm, true, 0);
        case 5: return compare_reg(c, i, i.rm, true, 1);
        default: ud(c);
    }
}

void df(Cpu& c, const DecodedInsn& i) {
    if (i.flags & kfMem) {
        switch (i.reg) {
            case 0: return fld_mem<LoadKind::kI16>(c, i);
            case 2: return fst_mem<StoreKind::kI16, false>(c, i);
            case 3: return fst_mem<StoreKind::kI16, true>(c, i);
            case 4: return fld_mem<LoadKind::kBcd>(c, i);
            case 5: return fld_mem<LoadKind::kI64>(c, i);
            case 6: return fst_mem<StoreKind::kBcd, true>(c, i);
            case 7: return fst_mem<StoreKind::kI64, true>(c, i);
            default: ud(c);  // /1 FISTTP is SSE3
        }
    }
    const bool p6 = c.traits().has_p6;
    switch (i.reg) {
        case 0: return ffree(c, i, true);  // FFREEP
        case 1: return fxch(c, i);         // FXCH7
        case 2: case 3: return fst_reg(c, i, true);  // FSTP8, FSTP9
        case 4:
            if (i.rm == 0) return fnstsw_ax(c);
            ud(c);
        case 5:
            if (p6) return comi(c, i, true, true);
            ud(c);
        case 6:
            if (p6) return comi(c, i, false, true);
            ud(c);
        default: ud(c);
    }
}

// WAIT/FWAIT (9B): #NM only when both MP and TS are set; then the pending-exception check.
void fwait(Cpu& c, const DecodedInsn&) {
    if ((c.s.cr[0] & (kCr0MP | kCr0TS)) == (kCr0MP | kCr0TS)) c.fault(kNM);
    check_pending(c);
}

}  // namespace

}  // namespace x87

void register_x87(OpTable& t, const ModelTraits& m) {
    using namespace x87;
    if (!m.has_fpu) return;  // system.cpp's ESC/WAIT without a coprocessor stay
    t.op(0xD8, d8);
    t.op(0xD9, d9);
    t.op(0xDA, da);
    t.op(0xDB, db);
    t.op(0xDC, dc);
    t.op(0xDD, dd);
    t.op(0xDE, de);
    t.op(0xDF, df);
    t.op(0x9B, fwait);
    if (m.has_fxsr) {
        t.grp0f(0xAE, 0, fxsave);   // FXSAVE m512byte   0F AE /0
        t.grp0f(0xAE, 1, fxrstor);  // FXRSTOR m512byte  0F AE /1
    }
}

}  // namespace vx86::cpu::ops

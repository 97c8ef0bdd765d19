// Segment loads, port I/O, interrupt flag, identification and the remaining odd ones out
// (BOUND, WAIT/ESC without an FPU, #UD).
//
// Segment loads here are the real-mode forms (selector << 4 becomes the base; the cached limit
// and attributes stay, which is what makes unreal mode work). Loading SS inhibits interrupts
// for one instruction, so MOV SS / POP SS end their block and set inhibit_irq.
// The protected-mode system instructions (descriptor tables, control registers, MSRs) live in
// privileged.cpp.
#include "cpu/ops/ops.h"

namespace vx86::cpu::ops {

void op_ud(Cpu& c, const DecodedInsn&) { c.fault(kUD); }
void op_gp0(Cpu& c, const DecodedInsn&) { c.fault(kGP, 0); }

namespace {

void load_seg(Cpu& c, unsigned seg, uint16_t sel) {
    c.load_seg(seg, sel);
    if (seg == SS) {
        c.s.inhibit_irq = 1;
        c.end_block();
    }
}

// Segment register number from ModRM.reg; the 8086 only decodes two bits.
unsigned sreg_of(Cpu& c, const DecodedInsn& i) {
    unsigned r = i.reg;
    if (c.traits().is_8086) return r & 3;
    if (r > (c.traits().has_386 ? 5u : 3u)) c.fault(kUD);
    return r;
}

// MOV r/m16, Sreg (8C): a register destination with 32-bit operand size is zero-extended.
template <int B>
void mov_rm_sreg(Cpu& c, const DecodedInsn& i) {
    unsigned sr = sreg_of(c, i);
    uint16_t v = c.s.seg[sr].sel;
    if (i.flags & kfMem) c.write<16>(i.seg, c.ea(i), v);
    else c.set_reg<B>(i.rm, v);
}

// MOV Sreg, r/m16 (8E). CS is not a valid destination after the 8086.
void mov_sreg_rm(Cpu& c, const DecodedInsn& i) {
    unsigned sr = sreg_of(c, i);
    if (sr == CS && !c.traits().is_8086) c.fault(kUD);
    uint16_t v = uint16_t(c.read_rm<16>(i));
    load_seg(c, sr, v);
    if (sr == CS) c.end_block();
}

// PUSH Sreg (06, 0E, 16, 1E, 0F A0, 0F A8)
template <int B, unsigned Seg>
void push_sreg(Cpu& c, const DecodedInsn&) { c.push<B>(c.s.seg[Seg].sel); }

// POP Sreg (07, 17, 1F, 0F A1, 0F A9; 0F on the 8086 is POP CS)
template <int B, unsigned Seg>
void pop_sreg(Cpu& c, const DecodedInsn&) {
    uint16_t v = uint16_t(c.peek<B>(0));
    // The increment uses the stack-address size of the SS in use when the instruction starts;
    // set_sp() after load_seg() would apply the B bit of the *new* SS (SDM POP: StackAddrSize).
    const bool s32 = c.stack32();
    uint32_t nsp = c.sp() + B / 8;
    load_seg(c, Seg, v);
    if (s32) c.set_r32(ESP, nsp);
    else c.set_r16(ESP, uint16_t(nsp));
    if (Seg == CS) c.end_block();
}

// LES/LDS (C4, C5), LSS/LFS/LGS (0F B2, B4, B5): r, m16:16/32
template <int B, unsigned Seg>
void load_far(Cpu& c, const DecodedInsn& i) {
    if (!(i.flags & kfMem)) c.fault(kUD);
    uint32_t a = c.ea(i);
    uint32_t off = c.read<B>(i.seg, a);
    uint32_t a2 = a + B / 8;
    if (!(i.flags & kfAddr32)) a2 &= 0xFFFF;
    uint16_t sel = uint16_t(c.read<16>(i.seg, a2));
    load_seg(c, Seg, sel);
    c.set_reg<B>(i.reg, off);
}

// IN AL/eAX, imm8 | DX (E4, E5, EC, ED); OUT imm8 | DX, AL/eAX (E6, E7, EE, EF)
template <int B, bool Dx>
void in_(Cpu& c, const DecodedInsn& i) {
    uint16_t port = Dx ? c.r16(EDX) : uint16_t(i.imm & 0xFF);
    c.check_io(port, B / 8);
    c.set_reg<B>(EAX, c.io_read(port, B / 8));
}
template <int B, bool Dx>
void out_(Cpu& c, const DecodedInsn& i) {
    uint16_t port = Dx ? c.r16(EDX) : uint16_t(i.imm & 0xFF);
    c.check_io(port, B / 8);
    c.io_write(port, B / 8, c.reg<B>(EAX));
    // A device may have raised an interrupt or changed memory: the block ends. (Not for a port
    // nobody claims, such as the POST port 80h Linux writes for I/O delays.)
    if (c.io_claimed(port, B / 8)) c.end_block();
}

// CLI (FA), STI (FB): STI delays interrupts by one instruction. IOPL-sensitive in protected
// and virtual-8086 mode; below IOPL, CR4.PVI (CPL 3) and CR4.VME (v8086) make them work on VIF
// instead (SDM vol. 2, CLI and STI tables).
bool virtual_if(Cpu& c) {
    if (!c.protected_mode()) return false;
    if (c.v86()) {
        if (c.iopl() == 3) return false;
        if (c.s.cr[4] & kCr4VME) return true;
    } else {
        if (c.cpl() <= c.iopl()) return false;
        if ((c.s.cr[4] & kCr4PVI) && c.cpl() == 3) return true;
    }
    c.fault(kGP, 0);
}
void cli(Cpu& c, const DecodedInsn&) {
    if (virtual_if(c)) c.s.eflags &= ~kVIF;
    else c.s.eflags &= ~kIF;
}
void sti(Cpu& c, const DecodedInsn&) {
    if (virtual_if(c)) {
        if (c.s.eflags & kVIP) c.fault(kGP, 0);
        c.s.eflags |= kVIF;
        return;
    }
    if (!(c.s.eflags & kIF)) c.s.inhibit_irq = 1;
    c.s.eflags |= kIF;
    c.end_block();
}

// BOUND r, m16&16 | m32&32 (62): #BR when the index is outside [lower, upper].
template <int B>
void bound(Cpu& c, const DecodedInsn& i) {
    if (!(i.flags & kfMem)) c.fault(kUD);
    uint32_t a = c.ea(i);
    uint32_t a2 = a + B / 8;
    if (!(i.flags & kfAddr32)) a2 &= 0xFFFF;
    int32_t lo = int32_t(sext32<B>(c.read<B>(i.seg, a)));
    int32_t hi = int32_t(sext32<B>(c.read<B>(i.seg, a2)));
    int32_t v = int32_t(sext32<B>(c.reg<B>(i.reg)));
    if (v < lo || v > hi) c.fault(kBR);
}

// ESC (D8-DF) with no FPU present (ops/x87.cpp replaces these when the model has one): the
// CPU computes the address (the 286 also performs the operand's bus cycle, so a bad address
// still faults) and otherwise does nothing.
void esc_nofpu(Cpu& c, const DecodedInsn& i) {
    if (c.s.cr[0] & (kCr0EM | kCr0TS)) c.fault(kNM);
    if ((i.flags & kfMem) && !c.traits().is_8086) c.read<16>(i.seg, c.ea(i));
}
// WAIT (9B): no FPU, nothing to wait for.
void wait_(Cpu& c, const DecodedInsn&) {
    if ((c.s.cr[0] & 0xA) == 0xA) c.fault(kNM);  // MP and TS
}

// CPUID (0F A2): a family-6 identity whose feature bits list only what this CPU implements;
// the Pentium model narrows them to what a P5 had.
void cpuid(Cpu& c, const DecodedInsn&) {
    uint32_t leaf = c.r32(EAX);
    uint32_t a = 0, b = 0, cx = 0, d = 0;
    const ModelTraits& m = c.traits();
    if (leaf == 0) {
        a = 1;
        b = 0x756E6547;  // "GenuineIntel"
        d = 0x49656E69;
        cx = 0x6C65746E;
    } else if (leaf == 1) {
        a = m.has_p6 ? 0x0633 : 0x0543;
        // VME, PSE, TSC, MSR, CMPXCHG8B. Not DE: debug-register breakpoints do not fire yet.
        d = (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 8);
        // PAE, SEP (SYSENTER), MTRR, PGE, CMOV, PAT.
        if (m.has_p6) d |= (1u << 6) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 15) | (1u << 16);
        if (m.has_fpu) d |= 1u << 0;    // FPU
        if (m.has_mmx) d |= 1u << 23;   // MMX
        if (m.has_fxsr) d |= 1u << 24;  // FXSAVE/FXRSTOR
    } else if (leaf == 0x80000000u && m.has_p6) {
        a = 0x80000001u;
    } else if (leaf == 0x80000001u && m.has_p6) {
        d = (1u << 20) | (1u << 27);  // NX (EFER.NXE), RDTSCP
    }
    c.set_r32(EAX, a);
    c.set_r32(EBX, b);
    c.set_r32(ECX, cx);
    c.set_r32(EDX, d);
}

// RDTSC (0F 31): the time-stamp counter is virtual time (retired instructions plus the offset
// a WRMSR to it set), never host time. CR4.TSD makes it privileged.
void rdtsc(Cpu& c, const DecodedInsn&) {
    if ((c.s.cr[4] & kCr4TSD) && c.protected_mode() && c.cpl() != 0) c.fault(kGP, 0);
    uint64_t t = c.tsc();
    c.set_r32(EAX, uint32_t(t));
    c.set_r32(EDX, uint32_t(t >> 32));
}

}  // namespace

void register_system(OpTable& t, const ModelTraits& m) {
    constexpr bool E = true;
    t.op(0x8C, mov_rm_sreg<16>, mov_rm_sreg<32>);
    t.op(0x8E, mov_sreg_rm, mov_sreg_rm, E);
    t.op(0x06, push_sreg<16, ES>, push_sreg<32, ES>);
    t.op(0x0E, push_sreg<16, CS>, push_sreg<32, CS>);
    t.op(0x16, push_sreg<16, SS>, push_sreg<32, SS>);
    t.op(0x1E, push_sreg<16, DS>, push_sreg<32, DS>);
    t.op(0x07, pop_sreg<16, ES>, pop_sreg<32, ES>);
    t.op(0x17, pop_sreg<16, SS>, pop_sreg<32, SS>, E);
    t.op(0x1F, pop_sreg<16, DS>, pop_sreg<32, DS>);
    if (m.is_8086) t.op(0x0F, pop_sreg<16, CS>, pop_sreg<16, CS>, E);  // POP CS
    t.op(0xC4, load_far<16, ES>, load_far<32, ES>);
    t.op(0xC5, load_far<16, DS>, load_far<32, DS>);
    t.op(0xE4, in_<8, false>);
    t.op(0xE5, in_<16, false>, in_<32, false>);
    t.op(0xEC, in_<8, true>);
    t.op(0xED, in_<16, true>, in_<32, true>);
    t.op(0xE6, out_<8, false>, out_<8, false>, E);
    t.op(0xE7, out_<16, false>, out_<32, false>, E);
    t.op(0xEE, out_<8, true>, out_<8, true>, E);
    t.op(0xEF, out_<16, true>, out_<32, true>, E);
    t.op(0xFA, cli);
    t.op(0xFB, sti, sti, E);
    t.op(0x9B, wait_);
    for (unsigned o = 0xD8; o <= 0xDF; ++o) t.op(o, esc_nofpu);
    if (m.has_186) t.op(0x62, bound<16>, bound<32>);
    if (m.has_386) {
        t.op0f(0xA0, push_sreg<16, FS>, push_sreg<32, FS>);
        t.op0f(0xA8, push_sreg<16, GS>, push_sreg<32, GS>);
        t.op0f(0xA1, pop_sreg<16, FS>, pop_sreg<32, FS>);
        t.op0f(0xA9, pop_sreg<16, GS>, pop_sreg<32, GS>);
        t.op0f(0xB2, load_far<16, SS>, load_far<32, SS>, E);
        t.op0f(0xB4, load_far<16, FS>, load_far<32, FS>);
        t.op0f(0xB5, load_far<16, GS>, load_far<32, GS>);
    }
    if (m.has_pentium) {
        t.op0f(0xA2, cpuid);
        t.op0f(0x31, rdtsc);
    }
    if (m.has_p6) t.op0f(0x0B, op_ud);  // UD2
}

}  // namespace vx86::cpu::ops

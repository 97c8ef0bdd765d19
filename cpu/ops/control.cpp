// Control transfers: Jcc, JMP, CALL, RET, LOOP/JCXZ, far transfers, INT/INTO/INT3/IRET, HLT.
//
// Targets are computed from next_eip (the address after this instruction) and truncated to
// the operand size; the 286 and later check the target against the CS limit before anything
// is pushed (#GP(0)), so a failing CALL leaves the stack untouched. Every handler here ends
// its block (the table marks them), so the run loop never executes past a taken branch.
// Far transfers, IRET and INT go through Cpu (cpu.cpp, protmode.cpp), which picks the real,
// virtual-8086 or protected-mode rules.
#include "cpu/ops/ops.h"

namespace vx86::cpu::ops {

namespace {

template <int B>
void near_jump(Cpu& c, uint32_t target) {
    target &= kMaskB<B>;
    if (!c.traits().is_8086 && target > c.s.seg[CS].limit) c.fault(kGP, 0);
    c.next_eip = target;
}

// Jcc rel8/rel16/rel32 (70+cc, 0F 80+cc)
template <int B>
void jcc(Cpu& c, const DecodedInsn& i) {
    if (eval_cond(c.s.lf, i.opcode & 15)) {
        near_jump<B>(c, c.next_eip + i.imm);
        // Taken inside its block: a side exit, or a join.
        if (i.flags & kfSideJoin) c.side_join();
        else if (i.flags & kfSideExit) c.end_block();
    }
}
// JMP rel (EB, E9)
template <int B>
void jmp_rel(Cpu& c, const DecodedInsn& i) { near_jump<B>(c, c.next_eip + i.imm); }
// JMP r/m (FF /4)
template <int B>
void jmp_rm(Cpu& c, const DecodedInsn& i) { near_jump<B>(c, c.read_rm<B>(i)); }
// CALL rel (E8)
template <int B>
void call_rel(Cpu& c, const DecodedInsn& i) {
    uint32_t ret = c.next_eip;
    near_jump<B>(c, ret + i.imm);
    c.push<B>(ret);
}
// CALL r/m (FF /2)
template <int B>
void call_rm(Cpu& c, const DecodedInsn& i) {
    uint32_t ret = c.next_eip;
    near_jump<B>(c, c.read_rm<B>(i));
    c.push<B>(ret);
}
// RET (C3), RET imm16 (C2)
template <int B>
void ret_near(Cpu& c, const DecodedInsn& i) {
    uint32_t target = c.peek<B>(0);
    near_jump<B>(c, target);
    uint32_t nsp = c.sp() + B / 8 + ((i.opcode & 1) ? 0 : (i.imm & 0xFFFF));
    c.set_sp(nsp);
}

// JMP ptr16:16/32 (EA)
template <int B>
void jmp_far(Cpu& c, const DecodedInsn& i) { c.far_jump(i.imm2, i.imm, B == 32); }
// CALL ptr16:16/32 (9A)
template <int B>
void call_far(Cpu& c, const DecodedInsn& i) { c.far_call(i.imm2, i.imm, B == 32); }
// Reads a far pointer m16:16 / m16:32.
template <int B>
void read_far_ptr(Cpu& c, const DecodedInsn& i, uint16_t& sel, uint32_t& off) {
    if (!(i.flags & kfMem)) c.fault(kUD);
    uint32_t a = c.ea(i);
    off = c.read<B>(i.seg, a);
    uint32_t a2 = a + B / 8;
    if (!(i.flags & kfAddr32)) a2 &= 0xFFFF;
    sel = uint16_t(c.read<16>(i.seg, a2));
}
// JMP m16:16/32 (FF /5)
template <int B>
void jmp_far_m(Cpu& c, const DecodedInsn& i) {
    uint16_t sel;
    uint32_t off;
    read_far_ptr<B>(c, i, sel, off);
    c.far_jump(sel, off, B == 32);
}
// CALL m16:16/32 (FF /3)
template <int B>
void call_far_m(Cpu& c, const DecodedInsn& i) {
    uint16_t sel;
    uint32_t off;
    read_far_ptr<B>(c, i, sel, off);
    c.far_call(sel, off, B == 32);
}
// RETF (CB), RETF imm16 (CA)
template <int B>
void ret_far(Cpu& c, const DecodedInsn& i) {
    c.far_return(B == 32, (i.opcode & 1) ? 0 : uint16_t(i.imm));
}

// LOOPNE (E0), LOOPE (E1), LOOP (E2): the counter is eCX by address size.
template <int B, int Kind>
void loop(Cpu& c, const DecodedInsn& i) {
    uint32_t n = count_reg(c, i) - 1;
    bool take = n != 0;
    if (Kind == 0) take = take && !lf_zf(c.s.lf);
    if (Kind == 1) take = take && lf_zf(c.s.lf);
    if (take) near_jump<B>(c, c.next_eip + i.imm);
    set_count_reg(c, i, n);
}
// JCXZ/JECXZ (E3)
template <int B>
void jcxz(Cpu& c, const DecodedInsn& i) {
    if (count_reg(c, i) == 0) near_jump<B>(c, c.next_eip + i.imm);
}

// INT3 (CC), INT imm8 (CD), INTO (CE), INT1/ICEBP (F1)
void int3(Cpu& c, const DecodedInsn&) { c.software_interrupt(kBP, Cpu::SoftInt::kInt3); }
void int_imm(Cpu& c, const DecodedInsn& i) { c.software_interrupt(uint8_t(i.imm)); }
void into(Cpu& c, const DecodedInsn&) {
    if (lf_of(c.s.lf)) c.software_interrupt(kOverflow, Cpu::SoftInt::kInto);
}
void int1(Cpu& c, const DecodedInsn&) { c.software_interrupt(kDB, Cpu::SoftInt::kInt1); }

// IRET/IRETD (CF). Protected and virtual-8086 mode: Cpu::iret.
template <int B>
void iret(Cpu& c, const DecodedInsn&) {
    if (c.protected_mode()) return c.iret(B == 32);
    uint32_t off = c.peek<B>(0);
    uint16_t sel = uint16_t(c.peek<B>(B / 8));
    uint32_t fl = c.peek<B>(2 * (B / 8));
    uint32_t smask = c.stack32() ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t nsp = (c.sp() + 3 * (B / 8)) & smask;
    if (!c.traits().is_8086 && (off & kMaskB<B>) > c.s.seg[CS].limit) c.fault(kGP, 0);
    c.far_jump(sel, off, B == 32);
    c.set_sp(nsp);
    uint32_t mask = c.traits().eflags_writable & kMaskB<B>;
    c.set_eflags((c.eflags() & ~mask) | (fl & mask));
}

// HLT (F4): stop until an interrupt; EIP already points past the HLT. Privileged (CPL 0).
void hlt(Cpu& c, const DecodedInsn&) {
    if (c.protected_mode() && c.cpl() != 0) c.fault(kGP, 0);
    c.s.halted = 1;
    c.end_block();
}

}  // namespace

bool is_jcc(Handler h) { return h == jcc<16> || h == jcc<32>; }

void register_control(OpTable& t, const ModelTraits& m) {
    constexpr bool E = true;  // ends the block
    for (unsigned cc = 0; cc < 16; ++cc) {
        t.op(0x70 + cc, jcc<16>, jcc<32>, E);
        if (m.has_386) t.op0f(0x80 + cc, jcc<16>, jcc<32>, E);
    }
    t.op(0xEB, jmp_rel<16>, jmp_rel<32>, E);
    t.op(0xE9, jmp_rel<16>, jmp_rel<32>, E);
    t.op(0xE8, call_rel<16>, call_rel<32>, E);
    t.op(0xEA, jmp_far<16>, jmp_far<32>, E);
    t.op(0x9A, call_far<16>, call_far<32>, E);
    t.grp(0xFF, 2, call_rm<16>, call_rm<32>, E);
    t.grp(0xFF, 3, call_far_m<16>, call_far_m<32>, E);
    t.grp(0xFF, 4, jmp_rm<16>, jmp_rm<32>, E);
    t.grp(0xFF, 5, jmp_far_m<16>, jmp_far_m<32>, E);
    t.op(0xC3, ret_near<16>, ret_near<32>, E);
    t.op(0xC2, ret_near<16>, ret_near<32>, E);
    t.op(0xCB, ret_far<16>, ret_far<32>, E);
    t.op(0xCA, ret_far<16>, ret_far<32>, E);
    t.op(0xE0, loop<16, 0>, loop<32, 0>, E);
    t.op(0xE1, loop<16, 1>, loop<32, 1>, E);
    t.op(0xE2, loop<16, 2>, loop<32, 2>, E);
    t.op(0xE3, jcxz<16>, jcxz<32>, E);
    t.op(0xCC, int3, int3, E);
    t.op(0xCD, int_imm, int_imm, E);
    t.op(0xCE, into, into, E);
    t.op(0xCF, iret<16>, iret<32>, E);
    if (m.has_386) t.op(0xF1, int1, int1, E);
    t.op(0xF4, hlt, hlt, E);
}

}  // namespace vx86::cpu::ops

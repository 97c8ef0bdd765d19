// Protected mode: descriptors, segment loads, far transfers through code segments, call gates,
// task gates and TSSs, interrupt and exception delivery through the IDT, IRET in all its forms,
// task switching, the I/O permission bitmap, SYSENTER/SYSEXIT, control registers and MSRs.
//
// Every routine follows the SDM's pseudocode for its instruction (vol. 2) and chapters 5-7 and
// 20 of vol. 3A, and keeps the interpreter's precise-fault rule: all checks that can fault are
// made, and every memory write of a frame is probed, before any register changes. Task
// switching is the one exception the SDM itself makes: faults after its commit point (the new
// TR, registers and CR3 are loaded) are delivered in the context of the new task.
//
// Descriptor-table, TSS and IDT accesses are implicit supervisor accesses (read_sys/write_sys),
// so paging checks them as CPL 0 whatever the CPL.
#include "cpu/cpu.h"

namespace vx86::cpu {

namespace {

// A raw 8-byte descriptor and its fields (SDM vol. 3A, 3.4.5 and 5.8.3).
struct Desc {
    uint32_t lo = 0, hi = 0;
    uint32_t base() const { return (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u); }
    uint32_t limit() const {
        uint32_t l = (lo & 0xFFFF) | (hi & 0xF0000);
        return (hi & (1u << 23)) ? (l << 12) | 0xFFF : l;
    }
    uint16_t attr() const { return uint16_t((hi >> 8) & 0xF0FF); }
    unsigned type() const { return (hi >> 8) & 0xF; }
    bool s() const { return hi & (1u << 12); }
    unsigned dpl() const { return (hi >> 13) & 3; }
    bool present() const { return hi & (1u << 15); }
    bool code() const { return s() && (hi & (1u << 11)); }
    bool data() const { return s() && !(hi & (1u << 11)); }
    bool conforming() const { return code() && (hi & (1u << 10)); }
    bool readable() const { return !code() || (hi & (1u << 9)); }  // data is always readable
    bool writable() const { return data() && (hi & (1u << 9)); }
    // Gates.
    uint16_t gate_sel() const { return uint16_t(lo >> 16); }
    uint32_t gate_off() const { return (lo & 0xFFFF) | (hi & 0xFFFF0000u); }
    unsigned gate_params() const { return hi & 0x1F; }
};

constexpr unsigned kTypeTss16 = 1, kTypeLdt = 2, kTypeTss16Busy = 3, kTypeCallGate16 = 4,
                   kTypeTaskGate = 5, kTypeIntGate16 = 6, kTypeTrapGate16 = 7, kTypeTss32 = 9,
                   kTypeTss32Busy = 11, kTypeCallGate32 = 12, kTypeIntGate32 = 14,
                   kTypeTrapGate32 = 15;

// Index 0 in the GDT (TI=0), whatever the RPL; selector 4 (index 0 of the LDT) is not null.
bool is_null(uint16_t sel) { return (sel & 0xFFFC) == 0; }
int32_t sel_err(uint16_t sel) { return sel & 0xFFFC; }

Segment to_seg(uint16_t sel, const Desc& d) { return Segment{d.base(), d.limit(), sel, d.attr()}; }

// The offsets a segment accepts (protected-mode rules), for frames built on a stack that is
// not loaded yet.
bool stack_slot_ok(const Segment& ss, uint32_t off, unsigned bytes) {
    uint64_t end = uint64_t(off) + bytes - 1;
    if (ss.attr & kAttrExpandDown) {
        uint32_t upper = (ss.attr & kAttrDB) ? 0xFFFFFFFFu : 0xFFFFu;
        return off > ss.limit && end <= upper;
    }
    return end <= ss.limit;
}

enum class TaskSrc : uint8_t { kJmp, kCall, kIret, kInt };

}  // namespace

// Everything here needs Cpu's private parts (TLBs, segment checks, CPL); one friend keeps them
// private to everyone else.
struct ProtMode {
    // ---- descriptors ----
    static bool desc_addr(Cpu& c, uint16_t sel, uint32_t& addr) {
        uint32_t base, limit;
        if (sel & 4) {
            if (!(c.s.ldtr.attr & kAttrP) || is_null(c.s.ldtr.sel)) return false;
            base = c.s.ldtr.base;
            limit = c.s.ldtr.limit;
        } else {
            base = c.s.gdtr.base;
            limit = c.s.gdtr.limit;
        }
        uint32_t off = sel & ~7u;
        if (uint64_t(off) + 7 > limit) return false;
        addr = base + off;
        return true;
    }
    static bool load_desc(Cpu& c, uint16_t sel, Desc& d) {
        uint32_t a;
        if (!desc_addr(c, sel, a)) return false;
        d.lo = c.read_sys<32>(a);
        d.hi = c.read_sys<32>(a + 4);
        return true;
    }
    // Sets the accessed bit of a code/data descriptor in memory (and in `d`).
    static void set_accessed(Cpu& c, uint16_t sel, Desc& d) {
        if (!d.s() || (d.hi & 0x100)) return;
        d.hi |= 0x100;
        uint32_t a;
        if (desc_addr(c, sel, a)) c.write_sys<8>(a + 5, (d.hi >> 8) & 0xFF);
    }
    static void set_busy(Cpu& c, uint16_t sel, bool busy) {
        uint32_t a;
        if (!desc_addr(c, sel, a)) return;
        uint32_t b = c.read_sys<8>(a + 5);
        c.write_sys<8>(a + 5, busy ? (b | 2) : (b & ~2u));
    }

    // ---- segment registers ----
    static void set_seg(Cpu& c, unsigned seg, const Segment& sg) {
        c.s.seg[seg] = sg;
        c.refresh_seg(seg);
    }
    static void set_null(Cpu& c, unsigned seg, uint16_t sel) { set_seg(c, seg, Segment{0, 0, sel, 0}); }
    // CS with its RPL forced to the new CPL; a mode or privilege change ends the block.
    static void set_cs(Cpu& c, uint16_t sel, const Desc& d, unsigned new_cpl) {
        set_seg(c, CS, to_seg(uint16_t((sel & 0xFFFC) | new_cpl), d));
        c.set_cpl(new_cpl);
        c.end_block();
    }

    // MOV/POP/LxS to DS, ES, FS, GS or SS in protected mode (SDM vol. 2, MOV).
    static void load_data_seg(Cpu& c, unsigned seg, uint16_t sel) {
        const unsigned cpl = c.cpl(), rpl = sel & 3;
        if (is_null(sel)) {
            if (seg == SS) c.fault(kGP, 0);
            set_null(c, seg, sel);
            return;
        }
        Desc d;
        if (!load_desc(c, sel, d)) c.fault(kGP, sel_err(sel));
        if (seg == SS) {
            if (rpl != cpl || d.dpl() != cpl || !d.writable()) c.fault(kGP, sel_err(sel));
            if (!d.present()) c.fault(kSS, sel_err(sel));
        } else {
            if (!d.s() || !d.readable()) c.fault(kGP, sel_err(sel));
            if (!d.conforming() && (rpl > d.dpl() || cpl > d.dpl())) c.fault(kGP, sel_err(sel));
            if (!d.present()) c.fault(kNP, sel_err(sel));
        }
        set_accessed(c, sel, d);
        set_seg(c, seg, to_seg(sel, d));
    }

    // Checks a code segment as the target of a direct far JMP/CALL (not through a gate).
    static void check_code_target(Cpu& c, uint16_t sel, const Desc& d) {
        const unsigned cpl = c.cpl();
        if (!d.code()) c.fault(kGP, sel_err(sel));
        if (d.conforming()) {
            if (d.dpl() > cpl) c.fault(kGP, sel_err(sel));
        } else if ((sel & 3) > cpl || d.dpl() != cpl) {
            c.fault(kGP, sel_err(sel));
        }
        if (!d.present()) c.fault(kNP, sel_err(sel));
    }

    // The stack for privilege level `dpl` from the current TSS.
    static void tss_stack(Cpu& c, unsigned dpl, uint16_t& ss, uint32_t& esp, int32_t ext) {
        const Segment& tr = c.s.tr;
        if (tr.attr & 8) {  // 32-bit TSS
            uint32_t off = 4 + dpl * 8;
            if (off + 5 > tr.limit) c.fault(kTS, sel_err(tr.sel) | ext);
            esp = c.read_sys<32>(tr.base + off);
            ss = uint16_t(c.read_sys<16>(tr.base + off + 4));
        } else {
            uint32_t off = 2 + dpl * 4;
            if (off + 3 > tr.limit) c.fault(kTS, sel_err(tr.sel) | ext);
            esp = c.read_sys<16>(tr.base + off);
            ss = uint16_t(c.read_sys<16>(tr.base + off + 2));
        }
    }
    // Checks the inner stack segment of a privilege change (#TS/#SS with its selector).
    static Segment inner_ss(Cpu& c, uint16_t ss, unsigned new_cpl, int32_t ext) {
        if (is_null(ss)) c.fault(kTS, ext);
        Desc d;
        if (!load_desc(c, ss, d)) c.fault(kTS, sel_err(ss) | ext);
        if ((ss & 3) != new_cpl || d.dpl() != new_cpl || !d.writable())
            c.fault(kTS, sel_err(ss) | ext);
        if (!d.present()) c.fault(kSS, sel_err(ss) | ext);
        set_accessed(c, ss, d);
        return to_seg(ss, d);
    }
    // Checks SS popped by RETF/IRET to an outer level (#GP/#SS with its selector).
    static Segment outer_ss(Cpu& c, uint16_t ss, unsigned new_cpl) {
        if (is_null(ss)) c.fault(kGP, 0);
        Desc d;
        if (!load_desc(c, ss, d)) c.fault(kGP, sel_err(ss));
        if ((ss & 3) != new_cpl || d.dpl() != new_cpl || !d.writable()) c.fault(kGP, sel_err(ss));
        if (!d.present()) c.fault(kSS, sel_err(ss));
        set_accessed(c, ss, d);
        return to_seg(ss, d);
    }

    // Writes `n` values of `size` bytes below `esp` on stack `ss` (vals[0] first, i.e. highest),
    // after checking every slot against the segment (fault `vec`(`err`)) and probing paging.
    // `sys`: the writes are supervisor accesses. Returns the new stack pointer (16-bit stacks
    // keep the upper half of ESP).
    static uint32_t push_frame(Cpu& c, const Segment& ss, uint32_t esp, unsigned size,
                               const uint32_t* vals, unsigned n, uint8_t vec, int32_t err,
                               bool sys) {
        const uint32_t mask = (ss.attr & kAttrDB) ? 0xFFFFFFFFu : 0xFFFFu;
        for (unsigned k = 1; k <= n; ++k)
            if (!stack_slot_ok(ss, (esp - k * size) & mask, size)) c.fault(vec, err);
        for (unsigned k = 1; k <= n; ++k)
            c.probe_write_lin(ss.base + ((esp - k * size) & mask), size, sys);
        Cpu::TlbEntry* tlb = sys ? c.tlb_[0] : c.tlb_[1];
        for (unsigned k = 1; k <= n; ++k) {
            uint32_t lin = ss.base + ((esp - k * size) & mask);
            if (size == 4) c.write_lin_t<32>(tlb, lin, vals[k - 1]);
            else c.write_lin_t<16>(tlb, lin, vals[k - 1] & 0xFFFF);
        }
        return (esp & ~mask) | ((esp - n * size) & mask);
    }
    static void set_stack(Cpu& c, const Segment& ss, uint32_t esp) {
        set_seg(c, SS, ss);
        c.s.gpr[ESP] = esp;
    }

    // After a return to an outer level, data segments the new CPL may not use become null
    // (SDM vol. 2, RET and IRET: "FOR each of segment register ES, FS, GS, and DS").
    static void drop_inaccessible_segs(Cpu& c) {
        for (unsigned seg : {ES, DS, FS, GS}) {
            const Segment& sg = c.s.seg[seg];
            bool conf_code = (sg.attr & kAttrCode) && (sg.attr & kAttrConforming);
            if ((sg.attr & kAttrS) && !conf_code && attr_dpl(sg.attr) < c.cpl())
                set_null(c, seg, 0);
        }
    }

    // EFLAGS bits an IRET or POPF may change at the current privilege (SDM vol. 2, POPF and
    // IRET): IOPL only at CPL 0, IF only when CPL <= IOPL.
    static uint32_t flags_mask(Cpu& c, bool op32, bool iret) {
        uint32_t m = kArithFlags | kTF | kDF | kNT | kAC | kID;
        if (iret) m |= kRF;
        if (c.cpl() == 0) m |= kIOPL | (iret ? (kVIF | kVIP) : 0);
        if (c.cpl() <= c.iopl()) m |= kIF;
        m &= c.traits().eflags_writable | kRF | kVIF | kVIP;
        return op32 ? m : (m & 0xFFFF);
    }

    // ---- far transfers ----
    static void jump_code(Cpu& c, uint16_t sel, const Desc& d, uint32_t off) {
        if (off > d.limit()) c.fault(kGP, 0);
        Desc dd = d;
        set_accessed(c, sel, dd);
        set_cs(c, sel, dd, c.cpl());
        c.next_eip = off;
    }

    static void far_jump(Cpu& c, uint16_t sel, uint32_t off) {
        if (is_null(sel)) c.fault(kGP, 0);
        Desc d;
        if (!load_desc(c, sel, d)) c.fault(kGP, sel_err(sel));
        const unsigned cpl = c.cpl(), rpl = sel & 3;
        if (d.s()) {
            check_code_target(c, sel, d);
            return jump_code(c, sel, d, off);
        }
        switch (d.type()) {
            case kTypeCallGate16:
            case kTypeCallGate32: {
                if (d.dpl() < cpl || d.dpl() < rpl) c.fault(kGP, sel_err(sel));
                if (!d.present()) c.fault(kNP, sel_err(sel));
                uint16_t tsel = d.gate_sel();
                if (is_null(tsel)) c.fault(kGP, 0);
                Desc t;
                if (!load_desc(c, tsel, t)) c.fault(kGP, sel_err(tsel));
                if (!t.code() || (t.conforming() ? t.dpl() > cpl : t.dpl() != cpl))
                    c.fault(kGP, sel_err(tsel));
                if (!t.present()) c.fault(kNP, sel_err(tsel));
                uint32_t goff = d.type() == kTypeCallGate16 ? (d.gate_off() & 0xFFFF) : d.gate_off();
                return jump_code(c, tsel, t, goff);
            }
            case kTypeTaskGate:
            case kTypeTss16:
            case kTypeTss32:
                return task_via(c, sel, d, TaskSrc::kJmp, c.next_eip, -1, 0);
            default: c.fault(kGP, sel_err(sel));
        }
    }

    // CALL to code at the current privilege: CS and the return EIP (`size` bytes each) go on the
    // current stack.
    static void call_same_level(Cpu& c, uint16_t sel, Desc d, uint32_t off, unsigned size) {
        if (off > d.limit()) c.fault(kGP, 0);
        uint32_t vals[2] = {c.s.seg[CS].sel, c.next_eip};
        uint32_t nsp = push_frame(c, c.s.seg[SS], uint32_t(c.s.gpr[ESP]), size, vals, 2, kSS, 0,
                                  c.cpl() < 3);
        set_accessed(c, sel, d);
        set_cs(c, sel, d, c.cpl());
        c.s.gpr[ESP] = nsp;
        c.next_eip = off;
    }

    static void far_call(Cpu& c, uint16_t sel, uint32_t off, bool op32) {
        if (is_null(sel)) c.fault(kGP, 0);
        Desc d;
        if (!load_desc(c, sel, d)) c.fault(kGP, sel_err(sel));
        if (d.s()) {
            check_code_target(c, sel, d);
            return call_same_level(c, sel, d, off, op32 ? 4 : 2);
        }
        switch (d.type()) {
            case kTypeCallGate16:
            case kTypeCallGate32: return call_gate(c, sel, d);
            case kTypeTaskGate:
            case kTypeTss16:
            case kTypeTss32: return task_via(c, sel, d, TaskSrc::kCall, c.next_eip, -1, 0);
            default: c.fault(kGP, sel_err(sel));
        }
    }

    // CALL through a call gate, with a stack switch and parameter copy when the target is more
    // privileged (SDM vol. 3A, 5.8.5).
    static void call_gate(Cpu& c, uint16_t sel, const Desc& g) {
        const unsigned cpl = c.cpl(), rpl = sel & 3;
        if (g.dpl() < cpl || g.dpl() < rpl) c.fault(kGP, sel_err(sel));
        if (!g.present()) c.fault(kNP, sel_err(sel));
        uint16_t tsel = g.gate_sel();
        if (is_null(tsel)) c.fault(kGP, 0);
        Desc t;
        if (!load_desc(c, tsel, t)) c.fault(kGP, sel_err(tsel));
        if (!t.code() || t.dpl() > cpl) c.fault(kGP, sel_err(tsel));
        if (!t.present()) c.fault(kNP, sel_err(tsel));
        const bool gate32 = g.type() == kTypeCallGate32;
        const unsigned size = gate32 ? 4 : 2;
        const uint32_t off = gate32 ? g.gate_off() : (g.gate_off() & 0xFFFF);
        if (!t.conforming() && t.dpl() < cpl) {
            const unsigned ncpl = t.dpl();
            uint16_t nss;
            uint32_t nesp;
            tss_stack(c, ncpl, nss, nesp, 0);
            Segment ss = inner_ss(c, nss, ncpl, 0);
            if (!(ss.attr & kAttrDB)) nesp &= 0xFFFF;
            // Frame: old SS, old ESP, the parameters (copied from the old stack, highest
            // first), old CS, return EIP.
            const unsigned params = g.gate_params();
            uint32_t vals[4 + 31];
            unsigned n = 0;
            vals[n++] = c.s.seg[SS].sel;
            vals[n++] = uint32_t(c.s.gpr[ESP]);
            const uint32_t osp = c.sp();
            const uint32_t omask = c.stack32() ? 0xFFFFFFFFu : 0xFFFFu;
            for (unsigned k = params; k-- > 0;) {
                uint32_t a = (osp + k * size) & omask;
                vals[n++] = size == 4 ? c.read<32>(SS, a) : c.read<16>(SS, a);
            }
            vals[n++] = c.s.seg[CS].sel;
            vals[n++] = c.next_eip;
            if (off > t.limit()) c.fault(kGP, 0);
            uint32_t nsp = push_frame(c, ss, nesp, size, vals, n, kSS, sel_err(nss), true);
            set_stack(c, ss, nsp);
            set_accessed(c, tsel, t);
            set_cs(c, tsel, t, ncpl);
            c.next_eip = off;
        } else {
            call_same_level(c, tsel, t, off, size);
        }
    }

    // Checks CS popped by RETF/IRET in protected mode.
    static Desc return_cs(Cpu& c, uint16_t sel) {
        if (is_null(sel)) c.fault(kGP, 0);
        Desc d;
        if (!load_desc(c, sel, d)) c.fault(kGP, sel_err(sel));
        const unsigned rpl = sel & 3;
        if (!d.code() || rpl < c.cpl()) c.fault(kGP, sel_err(sel));
        if (d.conforming() ? d.dpl() > rpl : d.dpl() != rpl) c.fault(kGP, sel_err(sel));
        if (!d.present()) c.fault(kNP, sel_err(sel));
        return d;
    }

    static void far_return(Cpu& c, bool op32, uint16_t pop_bytes) {
        const unsigned size = op32 ? 4 : 2;
        uint32_t off = op32 ? c.peek<32>(0) : c.peek<16>(0);
        uint16_t sel = uint16_t(op32 ? c.peek<32>(4) : c.peek<16>(2));
        Desc d = return_cs(c, sel);
        const unsigned rpl = sel & 3;
        const uint32_t smask = c.stack32() ? 0xFFFFFFFFu : 0xFFFFu;
        if (rpl == c.cpl()) {
            if (off > d.limit()) c.fault(kGP, 0);
            set_accessed(c, sel, d);
            set_cs(c, sel, d, rpl);
            c.set_sp((c.sp() + 2 * size + pop_bytes) & smask);
            c.next_eip = off;
            return;
        }
        // Return to an outer level: SS:ESP of the caller sit above the parameters.
        uint32_t a = 2 * size + pop_bytes;
        uint32_t nesp = op32 ? c.peek<32>(a) : c.peek<16>(a);
        uint16_t nss = uint16_t(op32 ? c.peek<32>(a + 4) : c.peek<16>(a + 2));
        Segment ss = outer_ss(c, nss, rpl);
        if (off > d.limit()) c.fault(kGP, 0);
        set_accessed(c, sel, d);
        set_cs(c, sel, d, rpl);
        set_seg(c, SS, ss);
        if (ss.attr & kAttrDB) c.s.gpr[ESP] = nesp + pop_bytes;
        else c.set_r16(ESP, uint16_t(nesp + pop_bytes));
        drop_inaccessible_segs(c);
        c.next_eip = off;
    }

    // ---- interrupts and exceptions (SDM vol. 3A, 6.12; vol. 2, INT n) ----
    static void interrupt(Cpu& c, uint8_t vec, uint32_t ret, bool soft, bool ext, int32_t err) {
        const int32_t x = ext ? 1 : 0;
        const int32_t idt_err = int32_t(vec) * 8 + 2 + x;
        if (uint32_t(vec) * 8 + 7 > c.s.idtr.limit) c.fault(kGP, idt_err);
        Desc g;
        g.lo = c.read_sys<32>(c.s.idtr.base + vec * 8u);
        g.hi = c.read_sys<32>(c.s.idtr.base + vec * 8u + 4);
        const unsigned type = g.type();
        if (g.s() || !(type == kTypeTaskGate || type == kTypeIntGate16 || type == kTypeTrapGate16 ||
                       type == kTypeIntGate32 || type == kTypeTrapGate32))
            c.fault(kGP, idt_err);
        if (soft && g.dpl() < c.cpl()) c.fault(kGP, idt_err);
        if (!g.present()) c.fault(kNP, idt_err);
        if (type == kTypeTaskGate) return task_via(c, vec * 8 + 2, g, TaskSrc::kInt, ret, err, x);

        const uint16_t sel = g.gate_sel();
        if (is_null(sel)) c.fault(kGP, x);
        Desc d;
        if (!load_desc(c, sel, d)) c.fault(kGP, sel_err(sel) | x);
        if (!d.code() || d.dpl() > c.cpl()) c.fault(kGP, sel_err(sel) | x);
        if (!d.present()) c.fault(kNP, sel_err(sel) | x);
        const bool gate32 = type & 8;
        const unsigned size = gate32 ? 4 : 2;
        const uint32_t off = gate32 ? g.gate_off() : (g.gate_off() & 0xFFFF);
        const uint32_t fl = c.eflags();
        uint32_t vals[10];
        unsigned n = 0;
        unsigned ncpl = c.cpl();
        Segment ss = c.s.seg[SS];
        uint32_t esp = uint32_t(c.s.gpr[ESP]);
        uint8_t svec = kSS;
        int32_t serr = x;
        const bool from_v86 = c.v86();
        if (from_v86 || (!d.conforming() && d.dpl() < c.cpl())) {
            // Inner-privilege delivery: the handler's stack comes from the TSS.
            if (from_v86 && (d.conforming() || d.dpl() != 0)) c.fault(kGP, sel_err(sel) | x);
            ncpl = d.dpl();
            uint16_t nss;
            tss_stack(c, ncpl, nss, esp, x);
            ss = inner_ss(c, nss, ncpl, x);
            if (!(ss.attr & kAttrDB)) esp &= 0xFFFF;
            serr = sel_err(nss) | x;
            if (from_v86) {
                vals[n++] = c.s.seg[GS].sel;
                vals[n++] = c.s.seg[FS].sel;
                vals[n++] = c.s.seg[DS].sel;
                vals[n++] = c.s.seg[ES].sel;
            }
            vals[n++] = c.s.seg[SS].sel;
            vals[n++] = uint32_t(c.s.gpr[ESP]);
        }
        vals[n++] = fl;
        vals[n++] = c.s.seg[CS].sel;
        vals[n++] = ret;
        if (err >= 0) vals[n++] = uint32_t(err);
        if (off > d.limit()) c.fault(kGP, x);
        uint32_t nsp = push_frame(c, ss, esp, size, vals, n, svec, serr, ncpl < 3);
        // Commit. EFLAGS first: leaving virtual-8086 mode changes how segments are checked.
        uint32_t nfl = fl & ~(kTF | kNT | kRF | kVM);
        if (!(type & 1)) nfl &= ~kIF;  // interrupt gate (not trap gate)
        c.set_eflags(nfl);
        if (ncpl != c.cpl() || from_v86) set_seg(c, SS, ss);
        c.s.gpr[ESP] = nsp;
        if (from_v86)
            for (unsigned seg : {ES, DS, FS, GS}) set_null(c, seg, 0);
        set_accessed(c, sel, d);
        set_cs(c, sel, d, ncpl);
        c.s.eip = off;
        c.next_eip = off;
    }

    // ---- IRET (SDM vol. 2, IRET/IRETD) ----
    static void iret(Cpu& c, bool op32) {
        const unsigned size = op32 ? 4 : 2;
        if (c.v86()) return iret_v86(c, op32);
        if (c.s.eflags & kNT) {
            // Return from a nested task to the one named by the back link.
            uint16_t link = uint16_t(c.read_sys<16>(c.s.tr.base));
            Desc d;
            if ((link & 4) || !load_desc(c, link, d)) c.fault(kTS, sel_err(link));
            if (d.s() || (d.type() != kTypeTss16Busy && d.type() != kTypeTss32Busy))
                c.fault(kTS, sel_err(link));
            if (!d.present()) c.fault(kNP, sel_err(link));
            return task_switch(c, link, d, TaskSrc::kIret, c.next_eip, -1, 0);
        }
        uint32_t off = op32 ? c.peek<32>(0) : c.peek<16>(0);
        uint16_t sel = uint16_t(op32 ? c.peek<32>(4) : c.peek<16>(2));
        uint32_t fl = op32 ? c.peek<32>(8) : c.peek<16>(4);
        if (op32 && (fl & kVM) && c.cpl() == 0) return iret_to_v86(c, off, sel, fl);
        Desc d = return_cs(c, sel);
        const unsigned rpl = sel & 3;
        const uint32_t mask = flags_mask(c, op32, true);
        const uint32_t newfl = (c.eflags() & ~mask) | (fl & mask);
        const uint32_t smask = c.stack32() ? 0xFFFFFFFFu : 0xFFFFu;
        if (rpl == c.cpl()) {
            if (off > d.limit()) c.fault(kGP, 0);
            set_accessed(c, sel, d);
            set_cs(c, sel, d, rpl);
            c.set_sp((c.sp() + 3 * size) & smask);
            c.set_eflags(newfl);
            c.next_eip = off;
            return;
        }
        uint32_t nesp = op32 ? c.peek<32>(12) : c.peek<16>(6);
        uint16_t nss = uint16_t(op32 ? c.peek<32>(16) : c.peek<16>(8));
        Segment ss = outer_ss(c, nss, rpl);
        if (off > d.limit()) c.fault(kGP, 0);
        set_accessed(c, sel, d);
        c.set_eflags(newfl);  // with the old CPL's rights, before the CPL changes
        set_cs(c, sel, d, rpl);
        set_seg(c, SS, ss);
        if (ss.attr & kAttrDB) c.s.gpr[ESP] = op32 ? nesp : (nesp & 0xFFFF);
        else c.set_r16(ESP, uint16_t(nesp));
        drop_inaccessible_segs(c);
        c.next_eip = off;
    }

    // IRETD at CPL 0 with VM set in the popped EFLAGS: back to virtual-8086 mode.
    static void iret_to_v86(Cpu& c, uint32_t off, uint16_t cs, uint32_t fl) {
        uint32_t vals[6];
        for (unsigned k = 0; k < 6; ++k) vals[k] = c.peek<32>(12 + 4 * k);  // ESP SS ES DS FS GS
        const uint32_t mask = c.traits().eflags_writable | kRF | kVM | kVIF | kVIP;
        c.set_eflags((fl & mask) | 2);
        c.set_cpl(3);
        c.load_seg_real(CS, cs);
        c.load_seg_real(SS, uint16_t(vals[1]));
        c.load_seg_real(ES, uint16_t(vals[2]));
        c.load_seg_real(DS, uint16_t(vals[3]));
        c.load_seg_real(FS, uint16_t(vals[4]));
        c.load_seg_real(GS, uint16_t(vals[5]));
        c.s.gpr[ESP] = vals[0];
        c.next_eip = off & 0xFFFF;
        c.end_block();
    }

    // IRET inside virtual-8086 mode: allowed at IOPL 3; with CR4.VME a 16-bit IRET at lower
    // IOPL works on VIF instead of IF (SDM vol. 3A, 20.3).
    static void iret_v86(Cpu& c, bool op32) {
        const bool vme = (c.s.cr[4] & kCr4VME) && !op32;
        if (c.iopl() < 3 && !vme) c.fault(kGP, 0);
        uint32_t off = op32 ? c.peek<32>(0) : c.peek<16>(0);
        uint16_t sel = uint16_t(op32 ? c.peek<32>(4) : c.peek<16>(2));
        uint32_t fl = op32 ? c.peek<32>(8) : c.peek<16>(4);
        if (off > 0xFFFF) c.fault(kGP, 0);
        uint32_t cur = c.eflags();
        uint32_t nfl;
        if (c.iopl() == 3) {
            uint32_t mask = (c.traits().eflags_writable | kRF) & ~(kIOPL | kVM | kVIF | kVIP);
            if (!op32) mask &= 0xFFFF;
            nfl = (cur & ~mask) | (fl & mask);
        } else {
            if ((fl & kTF) || ((fl & kIF) && (cur & kVIP))) c.fault(kGP, 0);
            uint32_t mask = (c.traits().eflags_writable & 0xFFFF) & ~(kIOPL | kIF);
            nfl = (cur & ~mask) | (fl & mask);
            nfl = (nfl & ~kVIF) | ((fl & kIF) ? kVIF : 0);
        }
        c.load_seg_real(CS, sel);
        c.set_sp((c.sp() + 3 * (op32 ? 4 : 2)) & 0xFFFF);
        c.set_eflags(nfl);
        c.next_eip = off;
    }

    // ---- task switching (SDM vol. 3A, 7.3) ----
    // JMP/CALL/INT to a task gate or a TSS descriptor: checks, then the switch.
    static void task_via(Cpu& c, uint16_t sel, const Desc& d, TaskSrc src, uint32_t ret,
                         int32_t err, int32_t x) {
        uint16_t tss_sel = sel;
        Desc t = d;
        if (d.type() == kTypeTaskGate) {
            if (src != TaskSrc::kInt && (d.dpl() < c.cpl() || d.dpl() < (sel & 3u)))
                c.fault(kGP, sel_err(sel));
            if (src != TaskSrc::kInt && !d.present()) c.fault(kNP, sel_err(sel));
            tss_sel = d.gate_sel();
            if ((tss_sel & 4) || !load_desc(c, tss_sel, t)) c.fault(kGP, sel_err(tss_sel) | x);
            if (t.s() || (t.type() != kTypeTss16 && t.type() != kTypeTss32))
                c.fault(kGP, sel_err(tss_sel) | x);
            if (!t.present()) c.fault(kNP, sel_err(tss_sel) | x);
        } else {
            // A TSS descriptor must be in the GDT.
            if ((sel & 4) || d.dpl() < c.cpl() || d.dpl() < (sel & 3u)) c.fault(kGP, sel_err(sel));
            if (!d.present()) c.fault(kNP, sel_err(sel));
        }
        task_switch(c, tss_sel, t, src, ret, err, x);
    }

    static void task_switch(Cpu& c, uint16_t sel, Desc nd, TaskSrc src, uint32_t ret,
                            int32_t err, int32_t x) {
        const bool new32 = nd.type() & 8;
        if (nd.limit() < (new32 ? 0x67u : 0x2Bu)) c.fault(kTS, sel_err(sel) | x);
        const Segment old = c.s.tr;
        const bool old32 = old.attr & 8;
        if (old.limit < (old32 ? 0x67u : 0x2Bu)) c.fault(kTS, sel_err(old.sel) | x);
        const uint32_t nb = nd.base();

        // Read the whole new state first (page faults happen before anything changes).
        uint32_t ncr3 = 0, neip, nfl, nregs[8], nsegs[6], nldt;
        bool trap = false;  // the new TSS's T bit: #DB before its first instruction
        if (new32) {
            ncr3 = c.read_sys<32>(nb + 0x1C);
            neip = c.read_sys<32>(nb + 0x20);
            nfl = c.read_sys<32>(nb + 0x24);
            for (unsigned r = 0; r < 8; ++r) nregs[r] = c.read_sys<32>(nb + 0x28 + 4 * r);
            for (unsigned k = 0; k < 6; ++k) nsegs[k] = c.read_sys<16>(nb + 0x48 + 4 * k);
            nldt = c.read_sys<16>(nb + 0x60);
            trap = c.read_sys<8>(nb + 0x64) & 1;
        } else {
            neip = c.read_sys<16>(nb + 0x0E);
            nfl = c.read_sys<16>(nb + 0x10);
            for (unsigned r = 0; r < 8; ++r) nregs[r] = c.read_sys<16>(nb + 0x12 + 2 * r);
            for (unsigned k = 0; k < 4; ++k) nsegs[k] = c.read_sys<16>(nb + 0x22 + 2 * k);
            nsegs[FS] = nsegs[GS] = 0;
            nldt = c.read_sys<16>(nb + 0x2A);
        }
        c.probe_write_lin(old.base, old32 ? 0x68 : 0x2C, true);
        if (src == TaskSrc::kCall || src == TaskSrc::kInt) c.probe_write_lin(nb, 2, true);

        // Save the outgoing task.
        uint32_t ofl = c.eflags();
        if (src == TaskSrc::kIret) ofl &= ~kNT;
        if (old32) {
            c.write_sys<32>(old.base + 0x20, ret);
            c.write_sys<32>(old.base + 0x24, ofl);
            for (unsigned r = 0; r < 8; ++r) c.write_sys<32>(old.base + 0x28 + 4 * r, c.r32(r));
            for (unsigned k = 0; k < 6; ++k) c.write_sys<16>(old.base + 0x48 + 4 * k, c.s.seg[k].sel);
        } else {
            c.write_sys<16>(old.base + 0x0E, ret & 0xFFFF);
            c.write_sys<16>(old.base + 0x10, ofl & 0xFFFF);
            for (unsigned r = 0; r < 8; ++r) c.write_sys<16>(old.base + 0x12 + 2 * r, c.r16(r));
            for (unsigned k = 0; k < 4; ++k) c.write_sys<16>(old.base + 0x22 + 2 * k, c.s.seg[k].sel);
        }
        if (src == TaskSrc::kJmp || src == TaskSrc::kIret) set_busy(c, old.sel, false);
        if (src == TaskSrc::kCall || src == TaskSrc::kInt) {
            c.write_sys<16>(nb, old.sel);
            nfl |= kNT;
        }
        if (src != TaskSrc::kIret) {
            set_busy(c, sel, true);
            nd.hi |= 0x200;
        }

        // Commit point: the new task's state is loaded; later faults belong to it.
        c.s.tr = to_seg(sel, nd);
        c.s.cr[0] |= kCr0TS;
        c.s.dr[7] &= ~0x155u;  // L0-L3 and LE are task-local (SDM vol. 3A, 17.2.4)
        c.update_debug();
        if (new32 && c.paging() && ncr3 != c.s.cr[3]) {
            c.s.cr[3] = ncr3;
            c.flush_tlb(c.s.cr[4] & kCr4PGE);
        }
        for (unsigned r = 0; r < 8; ++r) {
            if (new32) c.set_r32(r, nregs[r]);
            else c.set_r16(r, uint16_t(nregs[r]));
        }
        if (!new32) nfl = (c.eflags() & 0xFFFF0000u) | (nfl & 0xFFFF);
        c.set_eflags((nfl & (c.traits().eflags_writable | kRF | kVM | kVIF | kVIP)) | 2);
        c.s.eip = neip;
        c.next_eip = neip;
        c.delivering_ = -1;
        c.end_block();
        // Selectors first (as the SDM does), descriptors after, each checked.
        for (unsigned k = 0; k < 6; ++k) c.s.seg[k].sel = uint16_t(nsegs[k]);
        c.s.ldtr.sel = uint16_t(nldt);
        load_task_ldt(c, uint16_t(nldt), x);  // LDT first: the other selectors may refer to it
        if (c.s.eflags & kVM) {
            c.set_cpl(3);
            for (unsigned k = 0; k < 6; ++k) c.load_seg_real(k, uint16_t(nsegs[k]));
        } else {
            load_task_segs(c, nsegs, x);
        }
        if (!c.v86() && neip > c.s.seg[CS].limit) c.fault(kGP, x);
        if (err >= 0) {
            const unsigned size = new32 ? 4 : 2;
            uint32_t v = uint32_t(err);
            uint32_t nsp = push_frame(c, c.s.seg[SS], uint32_t(c.s.gpr[ESP]), size, &v, 1, kSS, x,
                                      c.cpl() < 3);
            c.s.gpr[ESP] = nsp;
        }
        if (trap) c.debug_exception(0x8000, neip);  // DR6.BT (SDM vol. 3A, 17.3.1.5)
    }

    static void load_task_ldt(Cpu& c, uint16_t ldt, int32_t x) {
        if (is_null(ldt)) {
            c.s.ldtr = Segment{0, 0, ldt, 0};
            return;
        }
        Desc d;
        if ((ldt & 4) || !load_desc(c, ldt, d) || d.s() || d.type() != kTypeLdt)
            c.fault(kTS, sel_err(ldt) | x);
        if (!d.present()) c.fault(kTS, sel_err(ldt) | x);
        c.s.ldtr = to_seg(ldt, d);
    }

    static void load_task_segs(Cpu& c, const uint32_t* segs, int32_t x) {
        for (unsigned k = 0; k < 6; ++k) set_null(c, k, uint16_t(segs[k]));  // unusable until checked
        const uint16_t cs = uint16_t(segs[CS]);
        Desc d;
        if (is_null(cs) || !load_desc(c, cs, d) || !d.code()) c.fault(kTS, sel_err(cs) | x);
        if (d.conforming() ? d.dpl() > (cs & 3u) : d.dpl() != (cs & 3u)) c.fault(kTS, sel_err(cs) | x);
        if (!d.present()) c.fault(kNP, sel_err(cs) | x);
        set_accessed(c, cs, d);
        set_seg(c, CS, to_seg(cs, d));
        c.set_cpl(cs & 3);
        const unsigned cpl = c.cpl();
        const uint16_t ss = uint16_t(segs[SS]);
        if (is_null(ss) || !load_desc(c, ss, d)) c.fault(kTS, sel_err(ss) | x);
        if ((ss & 3u) != cpl || d.dpl() != cpl || !d.writable()) c.fault(kTS, sel_err(ss) | x);
        if (!d.present()) c.fault(kSS, sel_err(ss) | x);
        set_accessed(c, ss, d);
        set_seg(c, SS, to_seg(ss, d));
        for (unsigned k : {ES, DS, FS, GS}) {
            const uint16_t sel = uint16_t(segs[k]);
            if (is_null(sel)) continue;
            if (!load_desc(c, sel, d) || !d.s() || !d.readable()) c.fault(kTS, sel_err(sel) | x);
            if (!d.conforming() && (d.dpl() < cpl || d.dpl() < (sel & 3u)))
                c.fault(kTS, sel_err(sel) | x);
            if (!d.present()) c.fault(kNP, sel_err(sel) | x);
            set_accessed(c, sel, d);
            set_seg(c, k, to_seg(sel, d));
        }
    }
};

// ---------------------------------------------------------------------------------------------
// Cpu entry points

void Cpu::load_seg(unsigned seg, uint16_t sel) {
    if (!pm()) return load_seg_real(seg, sel);
    ProtMode::load_data_seg(*this, seg, sel);
}

void Cpu::far_jump(uint16_t sel, uint32_t off, bool op32) {
    if (!op32) off &= 0xFFFF;
    if (!pm()) {
        load_seg_real(CS, sel);
        next_eip = off;
        return;
    }
    ProtMode::far_jump(*this, sel, off);
}

void Cpu::far_call(uint16_t sel, uint32_t off, bool op32) {
    if (!op32) off &= 0xFFFF;
    if (!pm()) {
        check_pushes(2, op32 ? 4 : 2);
        uint16_t old_cs = s.seg[CS].sel;
        if (op32) {
            push<32>(old_cs);
            push<32>(next_eip);
        } else {
            push<16>(old_cs);
            push<16>(next_eip);
        }
        load_seg_real(CS, sel);
        next_eip = off;
        return;
    }
    ProtMode::far_call(*this, sel, off, op32);
}

void Cpu::far_return(bool op32, uint16_t pop_bytes) {
    if (!pm()) {
        uint32_t off = op32 ? peek<32>(0) : peek<16>(0);
        uint16_t sel = uint16_t(op32 ? peek<32>(4) : peek<16>(2));
        uint32_t nsp = sp() + 2 * (op32 ? 4 : 2) + pop_bytes;
        load_seg_real(CS, sel);
        next_eip = op32 ? off : (off & 0xFFFF);
        set_sp(stack32() ? nsp : (nsp & 0xFFFF));
        return;
    }
    ProtMode::far_return(*this, op32, pop_bytes);
}

void Cpu::iret(bool op32) { ProtMode::iret(*this, op32); }

uint32_t Cpu::popf_mask(bool op32) {
    if (!protected_mode()) return m_->eflags_writable & (op32 ? 0xFFFFFFFFu : 0xFFFFu);
    if (v86()) {
        uint32_t m = m_->eflags_writable & ~kIOPL;
        return op32 ? m : (m & 0xFFFF);
    }
    return ProtMode::flags_mask(*this, op32, false);
}

void Cpu::interrupt_pm(uint8_t vector, uint32_t return_eip, bool soft, bool ext, int32_t error) {
    ProtMode::interrupt(*this, vector, return_eip, soft, ext, error);
}

void Cpu::write_dr(unsigned n, uint32_t v) {
    if (n == 6) v = (v & 0x0000E00Fu) | 0xFFFF0FF0u;  // fixed bits of DR6
    if (n == 7) v = (v & ~0xD800u) | 0x400u;           // bit 10 reads 1; 11, 12, 14, 15 read 0
    s.dr[n] = v;
    update_debug();
    flush_tlb();  // pages holding data breakpoints lose (or regain) their fast tags
    end_block();
}

void Cpu::lldt(uint16_t sel) {
    if (is_null(sel)) {
        s.ldtr = Segment{0, 0, sel, 0};
        return;
    }
    Desc d;
    if ((sel & 4) || !ProtMode::load_desc(*this, sel, d)) fault(kGP, sel_err(sel));
    if (d.s() || d.type() != kTypeLdt) fault(kGP, sel_err(sel));
    if (!d.present()) fault(kNP, sel_err(sel));
    s.ldtr = to_seg(sel, d);
}

void Cpu::ltr(uint16_t sel) {
    if (is_null(sel)) fault(kGP, 0);
    Desc d;
    if ((sel & 4) || !ProtMode::load_desc(*this, sel, d)) fault(kGP, sel_err(sel));
    if (d.s() || (d.type() != kTypeTss16 && d.type() != kTypeTss32)) fault(kGP, sel_err(sel));
    if (!d.present()) fault(kNP, sel_err(sel));
    ProtMode::set_busy(*this, sel, true);
    d.hi |= 0x200;
    s.tr = to_seg(sel, d);
}

bool Cpu::fetch_descriptor(uint16_t sel, uint32_t& lo, uint32_t& hi) {
    if (is_null(sel)) return false;
    Desc d;
    if (!ProtMode::load_desc(*this, sel, d)) return false;
    lo = d.lo;
    hi = d.hi;
    return true;
}

void Cpu::check_io_bitmap(uint16_t port, unsigned size) {
    // Only a 32-bit TSS has an I/O permission bitmap (SDM vol. 1, 19.5.2).
    if (!(s.tr.attr & 8) || (s.tr.attr & kAttrS) || s.tr.limit < 0x67) fault(kGP, 0);
    uint32_t base = read_sys<16>(s.tr.base + 0x66);
    uint32_t off = base + port / 8;
    if (off + 1 > s.tr.limit) fault(kGP, 0);
    uint32_t bits = read_sys<16>(s.tr.base + off);
    uint32_t mask = ((1u << size) - 1) << (port & 7);
    if (bits & mask) fault(kGP, 0);
}

void Cpu::sysenter() {
    const uint16_t cs = uint16_t(s.msr.sysenter_cs);
    if (!protected_mode() || is_null(cs)) fault(kGP, 0);
    s.eflags &= ~(kVM | kIF | kRF);
    // Flat 4 GiB ring-0 segments, as the SDM specifies (the GDT is not read).
    s.seg[CS] = Segment{0, 0xFFFFFFFFu, uint16_t(cs & 0xFFFC), 0xC09B};
    s.seg[SS] = Segment{0, 0xFFFFFFFFu, uint16_t((cs & 0xFFFC) + 8), 0xC093};
    set_cpl(0);
    for (unsigned k = 0; k < 6; ++k) refresh_seg(k);
    s.gpr[ESP] = uint32_t(s.msr.sysenter_esp);
    next_eip = uint32_t(s.msr.sysenter_eip);
    end_block();
}

void Cpu::sysexit(bool) {
    const uint16_t cs = uint16_t(s.msr.sysenter_cs);
    if (!pm() || cpl() != 0 || is_null(cs)) fault(kGP, 0);
    s.seg[CS] = Segment{0, 0xFFFFFFFFu, uint16_t((cs + 16) | 3), 0xC0FB};
    s.seg[SS] = Segment{0, 0xFFFFFFFFu, uint16_t((cs + 24) | 3), 0xC0F3};
    set_cpl(3);
    for (unsigned k = 0; k < 6; ++k) refresh_seg(k);
    s.gpr[ESP] = r32(ECX);
    next_eip = r32(EDX);
    end_block();
}

// Loading the PAE PDPTEs (MOV CR3, or turning PAE paging on) checks their reserved bits:
// #GP(0) rather than a later #PF (SDM vol. 3A, 4.4.1). The walker still reads them per walk.
void Cpu::check_pdptes(uint32_t cr3) {
    for (unsigned k = 0; k < 4; ++k) {
        uint32_t a = (cr3 & ~0x1Fu) + 8 * k;
        uint64_t e = mem_.read(a, 4) | (uint64_t(mem_.read(a + 4, 4)) << 32);
        if ((e & 1) && (e & 0xFFFFFFF0000001E6ull)) fault(kGP, 0);
    }
}

void Cpu::write_cr(unsigned n, uint32_t v) {
    switch (n) {
        case 0: {
            if ((v & kCr0PG) && !(v & kCr0PE)) fault(kGP, 0);
            if ((v & kCr0PG) && !paging() && (s.cr[4] & kCr4PAE)) check_pdptes(s.cr[3]);
            if ((v & kCr0NW) && !(v & kCr0CD)) fault(kGP, 0);
            uint32_t defined = kCr0PE | kCr0MP | kCr0EM | kCr0TS;
            if (m_->has_386) defined |= kCr0ET | kCr0PG;
            if (m_->has_486) defined |= kCr0NE | kCr0WP | kCr0AM | kCr0NW | kCr0CD;
            uint32_t old = s.cr[0];
            uint32_t nv = (v & defined) | (m_->has_486 ? kCr0ET : 0);
            if (!m_->has_386) nv |= 0xFFF0;  // the 286 MSW: reserved bits read as ones
            s.cr[0] = nv;
            if ((old ^ nv) & (kCr0PG | kCr0WP | kCr0PE)) flush_tlb();
            if ((old ^ nv) & kCr0PE) {
                // Entering protected mode keeps CPL 0 until CS is reloaded; leaving it too.
                set_cpl(0);
                for (unsigned k = 0; k < 6; ++k) refresh_seg(k);
            }
            update_ac();
            end_block();  // the next instruction may now be fetched through other mappings
            break;
        }
        case 2: s.cr[2] = v; break;
        case 3:
            if (paging() && (s.cr[4] & kCr4PAE)) check_pdptes(v);
            s.cr[3] = v;
            flush_tlb(s.cr[4] & kCr4PGE);
            end_block();
            break;
        case 4: {
            uint32_t allowed = kCr4VME | kCr4PVI | kCr4TSD | kCr4PSE | kCr4MCE;
            if (m_->has_p6) allowed |= kCr4PAE | kCr4PGE | kCr4PCE;
            if (m_->has_fxsr) allowed |= kCr4OSFXSR;  // FXSAVE/FXRSTOR enabled by the OS
            if (v & ~allowed) fault(kGP, 0);
            if (paging() && (v & kCr4PAE) && !(s.cr[4] & kCr4PAE)) check_pdptes(s.cr[3]);
            uint32_t old = s.cr[4];
            s.cr[4] = v;
            if ((old ^ v) & (kCr4PSE | kCr4PAE | kCr4PGE)) flush_tlb();
            end_block();
            break;
        }
        default: fault(kUD);
    }
}

namespace {
// Memory types an MTRR may hold: UC 0, WC 1, WT 4, WP 5, WB 6 (SDM vol. 3A, 12.11.2).
bool mtrr_type_ok(uint64_t t) { return t <= 6 && t != 2 && t != 3; }
bool mtrr_fixed_ok(uint64_t v) {
    for (unsigned k = 0; k < 8; ++k)
        if (!mtrr_type_ok((v >> (8 * k)) & 0xFF)) return false;
    return true;
}
}  // namespace

bool Cpu::read_msr(uint32_t idx, uint64_t& v) const {
    const Msrs& r = s.msr;
    switch (idx) {
        case 0x10: v = tsc(); return true;
        case 0x17: v = 0; return true;           // IA32_PLATFORM_ID
        case 0x1B: v = r.apic_base; return true;
        case 0x8B: v = 0; return true;           // IA32_BIOS_SIGN_ID: no microcode loaded
        case 0xFE: v = 0x508; return true;       // MTRRCAP: 8 variable ranges, fixed, WC
        case 0x174: v = r.sysenter_cs; return true;
        case 0x175: v = r.sysenter_esp; return true;
        case 0x176: v = r.sysenter_eip; return true;
        case 0x1A0: v = r.misc_enable; return true;
        case 0x277: v = r.pat; return true;
        case 0x2FF: v = r.mtrr_def_type; return true;
        case 0x250: v = r.mtrr_fixed[0]; return true;
        case 0x258: v = r.mtrr_fixed[1]; return true;
        case 0x259: v = r.mtrr_fixed[2]; return true;
        case 0xC0000080: v = s.efer; return true;
        case 0xC0000103: v = r.tsc_aux; return true;
        default: break;
    }
    if (idx >= 0x268 && idx <= 0x26F) {
        v = r.mtrr_fixed[3 + (idx - 0x268)];
        return true;
    }
    if (idx >= 0x200 && idx <= 0x20F) {
        v = r.mtrr_var[idx - 0x200];
        return true;
    }
    return false;
}

bool Cpu::write_msr(uint32_t idx, uint64_t v) {
    Msrs& r = s.msr;
    switch (idx) {
        case 0x10: r.tsc_offset = v - tsc_base(); return true;
        case 0x1B:
            if (v & ~0xFFFFFF900ull) return false;  // reserved bits
            r.apic_base = v;
            return true;
        case 0x8B: return true;  // microcode update trigger: nothing to load
        case 0x174: r.sysenter_cs = v & 0xFFFF; return true;
        case 0x175: r.sysenter_esp = v; return true;
        case 0x176: r.sysenter_eip = v; return true;
        case 0x1A0: r.misc_enable = v; return true;
        case 0x277:
            // Each PAT entry must name a defined memory type (0, 1, 4, 5, 6, 7).
            for (unsigned k = 0; k < 8; ++k) {
                unsigned t = (v >> (8 * k)) & 0xFF;
                if (t > 7 || t == 2 || t == 3) return false;
            }
            r.pat = v;
            return true;
        case 0x2FF:
            if ((v & ~0xCFFull) || !mtrr_type_ok(v & 0xFF)) return false;
            r.mtrr_def_type = v;
            return true;
        case 0x250:
        case 0x258:
        case 0x259:
            if (!mtrr_fixed_ok(v)) return false;
            r.mtrr_fixed[idx == 0x250 ? 0 : idx == 0x258 ? 1 : 2] = v;
            return true;
        case 0xC0000080:
            // Only NXE exists on this 32-bit CPU (no long mode, no SYSCALL).
            if (v & ~kEferNXE) return false;
            s.efer = v;
            flush_tlb();
            return true;
        case 0xC0000103: r.tsc_aux = v & 0xFFFFFFFFu; return true;
        default: break;
    }
    if (idx >= 0x268 && idx <= 0x26F) {
        if (!mtrr_fixed_ok(v)) return false;
        r.mtrr_fixed[3 + (idx - 0x268)] = v;
        return true;
    }
    if (idx >= 0x200 && idx <= 0x20F) {
        // PHYSBASEn: type in 7:0, base in 35:12; PHYSMASKn: valid bit 11, mask in 35:12
        // (MAXPHYADDR 36). Everything else is reserved.
        if (idx & 1) {
            if (v & ~0xFFFFFF800ull) return false;
        } else if ((v & ~0xFFFFFF0FFull) || !mtrr_type_ok(v & 0xFF)) {
            return false;
        }
        r.mtrr_var[idx - 0x200] = v;
        return true;
    }
    return false;
}

}  // namespace vx86::cpu

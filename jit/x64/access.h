// CpuAccess: the JIT's window on Cpu internals (Cpu befriends it). Generated code addresses Cpu
// members by their offset from the Cpu object, computed here from a live Cpu (Cpu is not
// standard layout, so offsetof is not available for it).
#pragma once

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/cpu.h"

namespace vx86::jit {

struct CpuAccess {
    using Cpu = cpu::Cpu;
    using Block = Cpu::Block;
    using TlbEntry = Cpu::TlbEntry;
    using SegCheck = Cpu::SegCheck;
    static constexpr unsigned kTlbSize = Cpu::kTlbSize;

    static void execute_block(Cpu& c, Block& b, uint64_t limit) { c.execute_block(b, limit); }
    static bool is_scratch(const Cpu& c, const Block& b) { return &b == &c.scratch_; }
    // Set on entry when the run loop has just delivered an interrupt: the interpreter then
    // retires one instruction before the next interrupt check.
    static bool stop_pending(const Cpu& c) { return c.stop_ != 0; }
    static void set_current_block(Cpu& c, Block* b) { c.current_block_ = b; }

    static int32_t rel(const Cpu& c, const void* member) {
        return int32_t(reinterpret_cast<const char*>(member) - reinterpret_cast<const char*>(&c));
    }
    static int32_t off_stop(const Cpu& c) { return rel(c, &c.stop_); }
    static int32_t off_next_eip(const Cpu& c) { return rel(c, &c.next_eip); }
    static int32_t off_lf_kind(const Cpu& c) { return rel(c, &c.jit_lf_kind_); }
    static int32_t off_lf_src(const Cpu& c) { return rel(c, &c.jit_lf_src_); }
    static uint8_t& lf_kind(Cpu& c) { return c.jit_lf_kind_; }
    static uint32_t lf_src(const Cpu& c) { return c.jit_lf_src_; }
    static int32_t off_tlb_cur(const Cpu& c) { return rel(c, &c.tlb_cur_); }
    // The TLB of a block's mode (Cpu::kModeUser: the user one; see Cpu::set_cpl).
    static int32_t off_tlb(const Cpu& c, uint32_t mode) { return rel(c, &c.tlb_[(mode & Cpu::kModeUser) ? 1 : 0][0]); }
    static int32_t off_mode_bits(const Cpu& c) { return rel(c, &c.mode_bits_); }
    static int32_t off_code_epoch(const Cpu& c) { return rel(c, &c.code_epoch_); }
    static int32_t off_segspan(const Cpu& c, unsigned seg, bool write) {
        return rel(c, &c.segspan_[seg][write ? 1 : 0]);
    }
    using SegSpan = Cpu::SegSpan;
    static int32_t off_state(const Cpu& c) { return rel(c, &c.s); }
    static int32_t off_chain_end(const Cpu& c) { return rel(c, &c.chain_end_); }
    // Cpu::chain_end_'s invariant (every write of stop_ or run_end_ goes through its setters).
    // (The lockstep checker may lower chain_end_ below run_end_: see cut_chains.)
    static bool chain_end_ok(const Cpu& c) { return c.stop_ ? c.chain_end_ == 0 : c.chain_end_ <= c.run_end_; }
    // Lets no chain (a link, a direct jump, a block's branch back to its start) go on from the
    // block about to run, without stopping it (stop_ would end it after its first helper):
    // every chain test wants the next block's instructions to fit before chain_end_. Until the
    // next set_run_end or clear_stop.
    static void cut_chains(Cpu& c) { c.chain_end_ = c.stop_ ? 0 : c.s.icount; }
    static int32_t off_dbg_exec(const Cpu& c) { return rel(c, &c.dbg_exec_); }
    static int32_t off_dbg_data(const Cpu& c) { return rel(c, &c.dbg_data_); }
    static int32_t off_irq_flag(const Cpu& c) { return rel(c, &c.irq_flag_); }
    static int32_t off_irq_flag_or_ask(const Cpu& c) { return rel(c, &c.irq_flag_or_ask_); }
    static constexpr uint8_t kPermExec = Cpu::kPermExec, kPermVoid = Cpu::kPermVoid;

    // No interrupt source, or one that calls irq_rose() (InterruptSource::notifies_rise).
    static bool irq_rise_notified(const Cpu& c) { return !c.irq_ || c.irq_->notifies_rise(); }
    // What run_until() decides before a block, for generated code that wants to enter the next
    // block itself: true when the run loop would take an external interrupt now.
    static bool irq_wanted(Cpu& c) {
        return (c.s.eflags & cpu::kIF) && !c.s.inhibit_irq && c.irq_line();
    }
    // The block run_until() would hand to the engine next, when it would do nothing else first:
    // no stop, halt, interrupt shadow, single-step or breakpoint, a TLB hit for the fetch, the
    // block in the fast table, valid, within the CS limit, on one page, translated, whole within
    // the budget, and no interrupt to take. nullptr: the run loop must decide.
    static Block* next_block(Cpu& c) {
        const cpu::CpuState& s = c.s;
        if (c.stop_ || s.halted || s.inhibit_irq || (s.eflags & cpu::kTF) || c.dbg_exec_ ||
            c.dbg_data_)
            return nullptr;
        const uint32_t eip = uint32_t(s.eip);
        const uint32_t lin = s.seg[cpu::CS].base + eip;
        const TlbEntry& e = c.tlb_entry(c.tlb_cur_, lin);
        if (e.vpage != (lin & ~mmu::kPageMask) ||
            (e.perm & (Cpu::kPermExec | Cpu::kPermVoid)) != Cpu::kPermExec)
            return nullptr;
        const uint32_t phys = e.ppage | (lin & mmu::kPageMask);
        Block* b = c.fast_[Cpu::fast_index(phys)];
        if (!b || b->phys != phys || b->mode != c.block_mode() || !b->valid || !b->native)
            return nullptr;  // (a block crossing into a second page tests that one itself)
        if (uint64_t(eip) + b->eip_span - 1 > s.seg[cpu::CS].limit) return nullptr;
        if (s.icount + b->insns.size() > c.chain_end_) return nullptr;  // (see cut_chains)
        if (irq_wanted(c)) return nullptr;
        return b;
    }
    // The cached block for (phys, mode), or nullptr (the block dump).
    static const Block* find_block(Cpu& c, uint32_t phys, uint32_t mode) {
        auto it = c.blocks_.find((uint64_t(mode) << 32) | phys);
        return it == c.blocks_.end() ? nullptr : it->second.get();
    }
    static void flush(Cpu& c) { c.flush_code_cache(); }

    // ---- lockstep checking (jit/diff_engine.cpp) ----
    // Everything outside CpuState, guest memory and the soft TLB that running a block can change
    // and that the run loop or the next block reads.
    struct Side {
        uint32_t next_eip;
        uint8_t stop;
        bool ac_check;
        bool dbg_exec, dbg_data;
        uint32_t dbg_pending;
        SegCheck segchk[6];
        Cpu::SegSpan segspan[6][2];
        uint32_t mode_bits;
        TlbEntry* tlb_cur;
        int delivering;
        bool delivering_ext, delivering_exception, event_delivered;
        uint8_t pending_vector;
        int32_t pending_error;
        int last_exception;
        uint64_t run_end, chain_end;
        Block* current_block;
    };
    // One list of the side fields for both directions: copy(cpu_field, side_field).
    template <class CpuT, class SideT, class Copy>
    static void side_fields(CpuT& c, SideT& x, Copy copy) {
        copy(c.next_eip, x.next_eip);
        copy(c.stop_, x.stop);
        copy(c.ac_check_, x.ac_check);
        copy(c.dbg_exec_, x.dbg_exec);
        copy(c.dbg_data_, x.dbg_data);
        copy(c.dbg_pending_, x.dbg_pending);
        copy(c.segchk_, x.segchk);
        copy(c.segspan_, x.segspan);
        copy(c.mode_bits_, x.mode_bits);
        copy(c.tlb_cur_, x.tlb_cur);
        copy(c.delivering_, x.delivering);
        copy(c.delivering_ext_, x.delivering_ext);
        copy(c.delivering_exception_, x.delivering_exception);
        copy(c.event_delivered_, x.event_delivered);
        copy(c.pending_vector_, x.pending_vector);
        copy(c.pending_error_, x.pending_error);
        copy(c.last_exception_, x.last_exception);
        copy(c.run_end_, x.run_end);
        copy(c.chain_end_, x.chain_end);
        copy(c.current_block_, x.current_block);
    }
    static void save_side(const Cpu& c, Side& x) {
        side_fields(c, x, [](const auto& from, auto& to) {
            static_assert(sizeof from == sizeof to);
            std::memcpy(&to, &from, sizeof to);
        });
    }
    static void restore_side(Cpu& c, const Side& x) {
        side_fields(c, x, [](auto& to, const auto& from) {
            static_assert(sizeof from == sizeof to);
            std::memcpy(&to, &from, sizeof to);
        });
        ++c.code_epoch_;  // CS, the mode or the TLB in use may differ from the run undone
    }
    static void set_run_end(Cpu& c, uint64_t end) { c.set_run_end(end); }
    // The run loop's fault landing pad: a block run under its own setjmp copies it first.
    static std::jmp_buf& fault_jmp(Cpu& c) { return c.jmp_; }
    static const cpu::WriteJournal* journal(const Cpu& c) { return c.journal_; }
    static void set_journal(Cpu& c, cpu::WriteJournal* j) { c.set_journal(j); }
    static void restore_tlb(Cpu& c, const cpu::WriteJournal& j) {
        std::memcpy(c.tlb_, j.tlb_backup.data(), sizeof c.tlb_);
        ++c.code_epoch_;
    }
    static Cpu::BlockEngine* engine(const Cpu& c) { return c.engine_.get(); }
};

}  // namespace vx86::jit

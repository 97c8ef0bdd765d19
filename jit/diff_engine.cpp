// The lockstep checker (--engine=diff): every block runs twice from the same state, first in the
// interpreter, then in an inner engine (the x86-64 JIT), and the CPU stops at the first block
// after which the two disagree, with a report of both states and of the block's code.
//
// Design decisions:
// - One block at a time, the run loop's own unit: run_until() finds or builds the block and hands
//   it here. The checker saves what a block can change (CpuState, and the run loop's side state
//   in CpuAccess::Side: next_eip, stop_, segment checks, the CPL's TLB, delivery bookkeeping, the
//   budget end), runs the interpreter (execute_block), keeps its result, puts everything back,
//   runs the inner engine and compares. On agreement the inner engine's result stands, and it is
//   the interpreter's: a run under --engine=diff is, instruction for instruction, a run under
//   --engine=interp (same output, same icount in deterministic mode).
// - Guest memory is put back from a write journal (cpu::WriteJournal) the Cpu keeps while a
//   checker is attached: the soft TLB then grants no fast write tags (as for code pages), so every
//   store, from either engine, reaches write_lin_slow, which records the RAM bytes it overwrites.
//   Undo writes them back in reverse order straight into RAM (no code watcher: a store to a code
//   page makes the block unreplayable anyway). Page-walk A/D bits are not journaled: the first run
//   sets them, the second finds them set, and that is what the interpreter alone leaves. The soft
//   TLB is copied lazily (before its first change in the first run) and put back, so both runs
//   see the same, possibly stale, translations.
// - Some effects cannot be taken back: port I/O, MMIO, stores to pages holding decoded code (they
//   invalidate blocks), FERR# (an IRQ) and reading the clock (host time moves). A block whose
//   interpreter run did any of these keeps that result and is counted as not compared. When only
//   the inner run does one, that is itself a divergence (its effect has happened).
// - Faults: each run gets its own setjmp landing pad (the Cpu's jmp_buf is copied aside and put
//   back), so a fault in the first run cannot skip the second. Both must fault alike (vector,
//   error code, state at the faulting instruction, delivery bookkeeping); the fault is then raised
//   again into the run loop, which delivers it as always. execute()'s own frame holds nothing with
//   a destructor when it re-raises: journals and reports are members.
// - The inner engine must run exactly this block: its chaining is cut by lowering the budget end
//   of chains to the block's start during its run (CpuAccess::cut_chains: every chain test
//   wants the next block to fit; the block's own end would not do, as a side exit retires
//   fewer instructions than the block has). A block entered
//   with stop_ already set (the run loop has just delivered an interrupt: the interpreter then
//   retires one instruction, the JIT its whole block) runs with limit 1 in both ("cut").
// - Compared: the architectural state (EFLAGS as the lazy flags give it, not the lazy fields),
//   the fault taken, and the final RAM image at every address either run wrote. A divergence is
//   data (jit::Divergence) handed to a sink (default: its report on stderr); the CPU is stopped
//   (request_stop) and refuses every later block while the checker is installed.
#include <algorithm>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "jit/jit.h"
#include "jit/x64/access.h"

namespace vx86::jit {

namespace {

using cpu::Cpu;
using cpu::CpuState;
using Block = CpuAccess::Block;

// Runs the block under its own fault landing pad; true when it faulted (the Cpu's pending
// vector and error code then tell which fault, and the state is the faulting instruction's).
[[gnu::noinline]] bool run_guarded(Cpu& c, Cpu::BlockEngine* inner, Block& b, uint64_t limit) {
    if (setjmp(CpuAccess::fault_jmp(c)) != 0) {
        if (inner) inner->settle(c);
        return true;
    }
    if (inner) inner->execute(c, b, limit);
    else CpuAccess::execute_block(c, b, limit);
    return false;
}

// CpuState is about 800 bytes: the library memcpy (vector moves) beats the inline rep movsq
// the compiler emits for an assignment, and the checker copies it three times per block.
void copy_state(CpuState& to, const CpuState& from) {
    std::memcpy(static_cast<void*>(&to), &from, sizeof(CpuState));
}

// Every compared field of CpuState: put(name, value, core). `name` is a callable making the
// field's name (only the name pass calls it); core fields are always printed in a report.
template <class Put>
void each_field(const CpuState& s, Put&& put) {
    static constexpr const char* kGpr[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                           "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    static constexpr const char* kSeg[] = {"es", "cs", "ss", "ds", "fs", "gs"};
    using S = std::string;
    for (unsigned k = 0; k < 16; ++k) put([&] { return S(kGpr[k]); }, s.gpr[k], k < 8);
    put([] { return S("eip"); }, s.eip, true);
    put([] { return S("eflags"); }, cpu::read_eflags(s), true);
    auto seg = [&](const char* n, const cpu::Segment& g, bool core) {
        put([&] { return S(n) + ".sel"; }, g.sel, core);
        put([&] { return S(n) + ".base"; }, g.base, core);
        put([&] { return S(n) + ".limit"; }, g.limit, core);
        put([&] { return S(n) + ".attr"; }, g.attr, core);
    };
    for (unsigned k = 0; k < 6; ++k) seg(kSeg[k], s.seg[k], true);
    put([] { return S("gdtr.base"); }, s.gdtr.base, false);
    put([] { return S("gdtr.limit"); }, s.gdtr.limit, false);
    put([] { return S("idtr.base"); }, s.idtr.base, false);
    put([] { return S("idtr.limit"); }, s.idtr.limit, false);
    seg("ldtr", s.ldtr, false);
    seg("tr", s.tr, false);
    for (unsigned k = 0; k < 5; ++k) put([&] { return "cr" + std::to_string(k); }, s.cr[k], k != 1);
    for (unsigned k = 0; k < 8; ++k) put([&] { return "dr" + std::to_string(k); }, s.dr[k], false);
    put([] { return S("efer"); }, s.efer, false);
    put([] { return S("icount"); }, s.icount, true);
    put([] { return S("halted"); }, s.halted, true);
    put([] { return S("inhibit_irq"); }, s.inhibit_irq, true);
    put([] { return S("cpl"); }, s.cpl, true);
    const cpu::Msrs& m = s.msr;
    put([] { return S("msr.tsc_offset"); }, m.tsc_offset, false);
    put([] { return S("msr.apic_base"); }, m.apic_base, false);
    put([] { return S("msr.sysenter_cs"); }, m.sysenter_cs, false);
    put([] { return S("msr.sysenter_esp"); }, m.sysenter_esp, false);
    put([] { return S("msr.sysenter_eip"); }, m.sysenter_eip, false);
    put([] { return S("msr.pat"); }, m.pat, false);
    put([] { return S("msr.mtrr_def_type"); }, m.mtrr_def_type, false);
    for (unsigned k = 0; k < 11; ++k)
        put([&] { return "msr.mtrr_fixed" + std::to_string(k); }, m.mtrr_fixed[k], false);
    for (unsigned k = 0; k < 16; ++k)
        put([&] { return "msr.mtrr_var" + std::to_string(k); }, m.mtrr_var[k], false);
    put([] { return S("msr.misc_enable"); }, m.misc_enable, false);
    put([] { return S("msr.tsc_aux"); }, m.tsc_aux, false);
    const cpu::X87State& f = s.fpu;
    for (unsigned k = 0; k < 8; ++k) {
        put([&] { return "fpu.r" + std::to_string(k) + ".sig"; }, f.r[k].sig, false);
        put([&] { return "fpu.r" + std::to_string(k) + ".se"; }, f.r[k].se, false);
    }
    put([] { return S("fpu.fcw"); }, f.fcw, false);
    put([] { return S("fpu.fsw"); }, f.fsw, false);
    put([] { return S("fpu.ftw"); }, f.ftw, false);
    put([] { return S("fpu.fop"); }, f.fop, false);
    put([] { return S("fpu.fip"); }, f.fip, false);
    put([] { return S("fpu.fdp"); }, f.fdp, false);
    put([] { return S("fpu.fcs"); }, f.fcs, false);
    put([] { return S("fpu.fds"); }, f.fds, false);
    put([] { return S("fpu.mxcsr"); }, f.mxcsr, false);
}

// What one run left outside guest memory.
struct Outcome {
    CpuState s;
    CpuAccess::Side side;
    bool faulted;
    bool unreplayable;
};

class DiffEngine final : public Cpu::BlockEngine {
public:
    DiffEngine(Cpu& c, std::unique_ptr<Cpu::BlockEngine> inner, DivergenceSink sink)
        : c_(c), inner_(std::move(inner)), sink_(std::move(sink)) {
        CpuState dummy{};
        each_field(dummy, [&](auto&& name, uint64_t, bool core) {
            names_.push_back(name());
            core_.push_back(core);
        });
        v1_.reserve(names_.size());
        v2_.reserve(names_.size());
    }
    ~DiffEngine() override {
        if (CpuAccess::journal(c_) == &journal_) CpuAccess::set_journal(c_, nullptr);
    }

    void execute(Cpu& c, Block& b, uint64_t limit) override {
        if (div_) {  // stopped at a divergence: run nothing more
            c.request_stop();
            return;
        }
        if (CpuAccess::journal(c) != &journal_) CpuAccess::set_journal(c, &journal_);
        if (CpuAccess::stop_pending(c) && limit > 1) {
            limit = 1;
            ++stats_.blocks_cut;
        }
        std::jmp_buf outer;
        std::memcpy(outer, CpuAccess::fault_jmp(c), sizeof(std::jmp_buf));
        copy_state(before_.s, c.s);
        CpuAccess::save_side(c, before_.side);

        // 1. The interpreter, the reference.
        journal_.clear();
        const bool f1 = run_guarded(c, nullptr, b, limit);
        std::memcpy(CpuAccess::fault_jmp(c), outer, sizeof(std::jmp_buf));
        CpuAccess::save_side(c, r1_.side);
        if (journal_.unreplayable) {
            ++stats_.blocks_not_compared;
            if (f1) c.fault(r1_.side.pending_vector, r1_.side.pending_error);
            return;
        }
        copy_state(r1_.s, c.s);
        r1_.faulted = f1;
        r1_.unreplayable = false;
        take_back(c);

        // 2. The inner engine, from the same state, on this block alone.
        const uint64_t flushes = inner_->stats().flushes;
        CpuAccess::set_run_end(c, c.s.icount + std::min<uint64_t>(limit, b.insns.size()));
        CpuAccess::cut_chains(c);  // (a side exit retires fewer than the block's instructions)
        const bool f2 = run_guarded(c, inner_.get(), b, limit);
        std::memcpy(CpuAccess::fault_jmp(c), outer, sizeof(std::jmp_buf));
        CpuAccess::set_run_end(c, before_.side.run_end);
        if (!f2 && inner_->stats().flushes != flushes && c.s.icount == before_.s.icount) {
            // The inner engine flushed its code cache and ran nothing (memory and state are as
            // before the block): the run loop rebuilds the block and comes back.
            ++stats_.blocks_retried;
            return;
        }
        CpuAccess::save_side(c, r2_.side);
        r2_.faulted = f2;
        r2_.unreplayable = journal_.unreplayable;
        if (!same(c, b)) {
            ++stats_.divergences;
            if (sink_) sink_(*div_);
            else {
                std::fflush(stdout);
                std::fputs(div_->report.c_str(), stderr);
            }
            c.request_stop();
            return;
        }
        ++stats_.blocks_compared;
        stats_.blocks_faulted += f2;
        if (f2) c.fault(r2_.side.pending_vector, r2_.side.pending_error);
    }

    cpu::Engine kind() const override { return cpu::Engine::kDiff; }
    const cpu::EngineStats& stats() const override { return inner_->stats(); }
    const DiffStats& diff_stats() const { return stats_; }
    const Divergence* divergence() const { return div_.get(); }

private:
    // Keeps the first run's memory result (the final bytes at every address it wrote), then puts
    // guest RAM, the TLB and the Cpu's state back as they were before the block.
    void take_back(Cpu& c) {
        uint8_t* ram = c.memory().ram();
        const uint32_t ram_size = c.memory().ram_size();
        w1_.swap(journal_.writes);
        fin1_.resize(w1_.size() * 4);
        for (size_t i = 0; i < w1_.size(); ++i)
            for (unsigned k = 0; k < w1_[i].size; ++k)
                if (w1_[i].phys + k < ram_size) fin1_[4 * i + k] = ram[w1_[i].phys + k];
        for (size_t i = w1_.size(); i-- > 0;)
            for (unsigned k = 0; k < w1_[i].size; ++k)
                if (w1_[i].phys + k < ram_size) ram[w1_[i].phys + k] = w1_[i].old[k];
        if (journal_.tlb_saved) CpuAccess::restore_tlb(c, journal_);
        copy_state(c.s, before_.s);
        CpuAccess::restore_side(c, before_.side);
        journal_.clear();
    }

    // True when the inner run (state in `c`, writes in journal_) left what the first run did;
    // else records the divergence in div_.
    bool same(Cpu& c, const Block& b) {
        bool equal = (raw_equal(r1_.s, c.s) || fields_equal(c)) && r1_.faulted == r2_.faulted &&
                     !r2_.unreplayable;
        if (equal && r1_.faulted) equal = fault_fields_equal();
        const uint8_t* ram = c.memory().ram();
        const uint32_t ram_size = c.memory().ram_size();
        const auto& w2 = journal_.writes;
        bool same_writes = equal && w2.size() == w1_.size();
        for (size_t i = 0; same_writes && i < w2.size(); ++i) {
            if (w2[i].phys != w1_[i].phys || w2[i].size != w1_[i].size) same_writes = false;
            for (unsigned k = 0; same_writes && k < w2[i].size; ++k)
                if (w2[i].phys + k < ram_size && ram[w2[i].phys + k] != fin1_[4 * i + k])
                    equal = same_writes = false;
        }
        if (same_writes) return equal;
        // The slow way (different store sequences, or a difference to report): the final image
        // at every address either run wrote. The first run's value is what it left there, or,
        // where only the inner run wrote, the original byte (its first recorded old value).
        std::unordered_map<uint32_t, uint8_t> fin1, orig;
        for (size_t i = 0; i < w1_.size(); ++i)
            for (unsigned k = 0; k < w1_[i].size; ++k)
                if (w1_[i].phys + k < ram_size) fin1[w1_[i].phys + k] = fin1_[4 * i + k];
        for (const auto& w : w2)
            for (unsigned k = 0; k < w.size; ++k)
                if (w.phys + k < ram_size) orig.emplace(w.phys + k, w.old[k]);
        std::vector<Divergence::Byte> mem;
        auto check = [&](uint32_t a, uint8_t v1) {
            if (v1 != ram[a]) mem.push_back({a, v1, ram[a]});
        };
        for (const auto& [a, v] : fin1) check(a, v);
        for (const auto& [a, v] : orig)
            if (!fin1.count(a)) check(a, v);
        if (equal && mem.empty()) return true;
        std::sort(mem.begin(), mem.end(),
                  [](const Divergence::Byte& x, const Divergence::Byte& y) { return x.phys < y.phys; });
        record(c, b, std::move(mem));
        return false;
    }

    // The whole state but the lazy-flag fields compared as bytes, and EFLAGS as computed: when
    // equal, every field is (padding is only ever copied, so it rarely makes a false miss, and
    // a miss is settled field by field).
    static bool raw_equal(const CpuState& x, const CpuState& y) {
        constexpr size_t lf = offsetof(CpuState, lf), after = lf + sizeof(cpu::LazyFlags);
        const auto* p = reinterpret_cast<const unsigned char*>(&x);
        const auto* q = reinterpret_cast<const unsigned char*>(&y);
        return std::memcmp(p, q, lf) == 0 &&
               std::memcmp(p + after, q + after, sizeof(CpuState) - after) == 0 &&
               cpu::read_eflags(x) == cpu::read_eflags(y);
    }
    // each_field's values after both runs into v1_/v2_; true when they agree.
    bool fields_equal(const Cpu& c) {
        v1_.clear();
        v2_.clear();
        each_field(r1_.s, [&](auto&&, uint64_t v, bool) { v1_.push_back(v); });
        each_field(c.s, [&](auto&&, uint64_t v, bool) { v2_.push_back(v); });
        return v1_ == v2_;
    }

    bool fault_fields_equal() const {
        const CpuAccess::Side &x = r1_.side, &y = r2_.side;
        return x.pending_vector == y.pending_vector && x.pending_error == y.pending_error &&
               x.delivering == y.delivering &&
               (x.pending_vector != cpu::kDE || x.next_eip == y.next_eip);
    }

    void record(Cpu& c, const Block& b, std::vector<Divergence::Byte> mem) {
        auto d = std::make_unique<Divergence>();
        d->phys = b.phys;
        d->insns = uint32_t(b.insns.size());
        d->blocks_compared = stats_.blocks_compared;
        d->memory = std::move(mem);
        fields_equal(c);
        for (size_t k = 0; k < names_.size(); ++k)
            if (v1_[k] != v2_[k]) d->fields.push_back({names_[k], v1_[k], v2_[k]});
        auto outcome = [](const Outcome& o) -> uint64_t { return o.faulted ? o.side.pending_vector : ~0ull; };
        const uint64_t o1 = outcome(r1_), o2 = outcome(r2_);
        if (o1 != o2) d->fields.push_back({"fault", o1, o2});
        if (r1_.faulted && r2_.faulted) {
            const CpuAccess::Side &x = r1_.side, &y = r2_.side;
            if (x.pending_error != y.pending_error)
                d->fields.push_back({"error_code", uint32_t(x.pending_error), uint32_t(y.pending_error)});
            if (x.delivering != y.delivering)
                d->fields.push_back({"delivering", uint64_t(int64_t(x.delivering)),
                                     uint64_t(int64_t(y.delivering))});
            if (x.pending_vector == cpu::kDE && x.next_eip != y.next_eip)
                d->fields.push_back({"next_eip", x.next_eip, y.next_eip});
        }
        if (r2_.unreplayable)
            d->fields.push_back({"io_mmio_smc_clock", 0, 1});
        d->report = report(c, b, *d);
        div_ = std::move(d);
    }

    std::string report(Cpu& c, const Block& b, const Divergence& d) const {
        const char* inner = inner_->kind() == cpu::Engine::kJit ? "jit" : "inner";
        std::string out;
        char line[256];
        std::snprintf(line, sizeof line,
                      "vx86: engines diverged at block phys %08X (%u insns) after %llu blocks "
                      "compared\n",
                      d.phys, d.insns, static_cast<unsigned long long>(d.blocks_compared));
        out += line;
        std::snprintf(line, sizeof line, "  block entered at %04X:%08X (%s-bit code), icount %llu\n",
                      before_.s.seg[cpu::CS].sel, uint32_t(before_.s.eip),
                      (b.mode & 1) ? "32" : "16", static_cast<unsigned long long>(before_.s.icount));
        out += line;
        std::snprintf(line, sizeof line, "  %-18s %-18s %-18s %s\n", "field", "before", "interp",
                      inner);
        out += line;
        std::vector<uint64_t> v0;
        each_field(before_.s, [&](auto&&, uint64_t v, bool) { v0.push_back(v); });
        for (size_t k = 0; k < names_.size(); ++k) {
            const bool differs = v1_[k] != v2_[k];
            if (!core_[k] && !differs) continue;
            std::snprintf(line, sizeof line, "  %-18s %-18llx %-18llx %llx%s\n", names_[k].c_str(),
                          static_cast<unsigned long long>(v0[k]),
                          static_cast<unsigned long long>(v1_[k]),
                          static_cast<unsigned long long>(v2_[k]), differs ? " <<< differs" : "");
            out += line;
        }
        auto fault_text = [](const Outcome& o) {
            if (!o.faulted) return std::string("none");
            char t[48];
            std::snprintf(t, sizeof t, "#%u err %d", unsigned(o.side.pending_vector),
                          int(o.side.pending_error));
            return std::string(t);
        };
        const std::string f1 = fault_text(r1_), f2 = fault_text(r2_);
        std::snprintf(line, sizeof line, "  %-18s %-18s %-18s %s%s\n", "fault", "-", f1.c_str(),
                      f2.c_str(), f1 != f2 ? " <<< differs" : "");
        out += line;
        if (r2_.unreplayable) out += "  the inner run touched I/O, MMIO, a code page or the clock; the interpreter's did not\n";
        if (!d.memory.empty()) {
            std::snprintf(line, sizeof line, "  memory (%zu bytes differ): %-8s %-6s %s\n",
                          d.memory.size(), "phys", "interp", inner);
            out += line;
            size_t shown = 0;
            for (const auto& m : d.memory) {
                if (++shown > 64) {
                    std::snprintf(line, sizeof line, "    ... %zu more\n", d.memory.size() - 64);
                    out += line;
                    break;
                }
                std::snprintf(line, sizeof line, "    %08X  %02X      %02X\n", m.phys, m.interp, m.inner);
                out += line;
            }
        }
        out += disassemble_block(c, b.phys);
        return out;
    }

    Cpu& c_;
    std::unique_ptr<Cpu::BlockEngine> inner_;
    DivergenceSink sink_;
    cpu::WriteJournal journal_;
    DiffStats stats_;
    std::unique_ptr<Divergence> div_;
    std::vector<std::string> names_;  // each_field's names, in its order
    std::vector<bool> core_;
    Outcome before_{}, r1_{}, r2_{};
    std::vector<uint64_t> v1_, v2_;          // each_field's values after each run
    std::vector<cpu::WriteJournal::Write> w1_;  // the first run's stores
    std::vector<uint8_t> fin1_;               // RAM after the first run at w1_'s bytes (4 each)
};

const DiffEngine* diff_engine(const Cpu& c) {
    const Cpu::BlockEngine* e = CpuAccess::engine(c);
    if (!e || e->kind() != cpu::Engine::kDiff) return nullptr;
    return static_cast<const DiffEngine*>(e);
}

}  // namespace

std::unique_ptr<Cpu::BlockEngine> make_diff_engine(Cpu& c, std::unique_ptr<Cpu::BlockEngine> inner,
                                                   DivergenceSink sink) {
    return std::make_unique<DiffEngine>(c, std::move(inner), std::move(sink));
}

const Divergence* divergence(const Cpu& c) {
    const DiffEngine* e = diff_engine(c);
    return e ? e->divergence() : nullptr;
}

const DiffStats* diff_stats(const Cpu& c) {
    const DiffEngine* e = diff_engine(c);
    return e ? &e->diff_stats() : nullptr;
}

std::string format_diff_stats(const Cpu& c) {
    const DiffStats* st = diff_stats(c);
    if (!st) return "";
    std::string out = "engine diff\n";
    char line[96];
    auto put = [&](const char* name, uint64_t v) {
        std::snprintf(line, sizeof line, "diff.%-21s %llu\n", name, static_cast<unsigned long long>(v));
        out += line;
    };
    put("blocks_compared", st->blocks_compared);
    put("blocks_not_compared", st->blocks_not_compared);
    put("blocks_faulted", st->blocks_faulted);
    put("blocks_cut", st->blocks_cut);
    put("blocks_retried", st->blocks_retried);
    put("divergences", st->divergences);
    return out;
}

}  // namespace vx86::jit

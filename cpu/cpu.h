// Cpu: one x86 processor: architectural state, the services every handler uses (registers,
// effective addresses, segmented memory access through the soft TLB, the stack, faults and
// interrupts), the decoded-block cache and the interpreter's run loop.
//
// Design decisions:
// - Faults are precise. A handler runs with s.eip still at its own first byte; the run loop
//   moves EIP to `next_eip` only after the handler returns. A handler reads and checks
//   everything that can fault before it changes registers, so a fault (delivered by
//   `fault()`, which longjmps back to the run loop) leaves the state as it was before the
//   instruction. longjmp, not a C++ exception: the JIT's generated frames have no unwind tables,
//   and the same non-unwinding exit serves both engines. Handlers therefore never own objects
//   with destructors.
// - Memory goes through a direct-mapped soft TLB indexed by linear page: a hit is one compare
//   and one add (host pointer = addend + linear). Misses, page-crossing accesses, MMIO, ROM
//   writes and stores to pages that hold decoded code take the slow path.
// - Real-mode segment checks are model traits: the 8086 wraps every byte of an access inside
//   the 64 KiB segment; the 286 and later raise #GP/#SS when an access passes the limit (which
//   is how unreal mode, with a larger cached limit, falls out for free).
// - Decoded blocks are cached by physical address plus block_mode() (the code-size bit and the
//   flat-segments bits); a store to a page holding a block invalidates that page's blocks before
//   the next instruction (see code_page_written), so self-modifying code is always seen.
// - Lockstep checking (--engine=diff) needs to take a block's run back: with a WriteJournal
//   attached the TLB grants no fast write tags, write_lin_slow records the bytes each store
//   overwrites, and the few exits to the outside world (ports, MMIO, code-page stores, FERR#,
//   the clock) mark the run unreplayable. Every hook is on a slow path behind one test of a
//   pointer that is null otherwise.
#pragma once

#include <bit>
#include <csetjmp>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/model.h"
#include "cpu/state.h"
#include "devices/clock.h"
#include "devices/io_bus.h"
#include "mmu/memory.h"

static_assert(std::endian::native == std::endian::little, "vx86 hosts are little-endian");

namespace vx86::cpu {

// Exception vectors.
enum Vector : uint8_t {
    kDE = 0, kDB = 1, kNMI = 2, kBP = 3, kOverflow = 4, kBR = 5, kUD = 6, kNM = 7,
    kDoubleFault = 8,
    kTS = 10, kNP = 11, kSS = 12, kGP = 13, kPageFault = 14, kMF = 16, kAlignCheck = 17,
};

enum class Exit : uint8_t { kBudget, kHalted, kShutdown, kStop };

// Delivers external interrupts (the PIC, later the APIC).
class InterruptSource {
public:
    virtual ~InterruptSource() = default;
    virtual bool irq_pending() = 0;
    virtual uint8_t irq_acknowledge() = 0;
    // A byte that always equals irq_pending(), for readers that cannot afford a call (the JIT
    // tests it between chained blocks), or nullptr when the source has none.
    virtual const bool* pending_flag() const { return nullptr; }
    // True when the CPU's owner calls Cpu::irq_rose() whenever irq_pending() becomes true: the
    // JIT then tests the line only after instructions that may set EFLAGS.IF, not between
    // every two blocks.
    virtual bool notifies_rise() const { return false; }
};

// Sees every retired instruction when attached (--trace, the differential tester).
class InsnObserver {
public:
    virtual ~InsnObserver() = default;
    // `before` is the state before the instruction; `vector` is -1, or the exception it raised
    // (the state is then the one after delivery).
    virtual void on_insn(const Cpu& cpu, const CpuState& before, const uint8_t* bytes,
                         unsigned len, int vector) = 0;
};

struct CpuStats {
    uint64_t blocks_built = 0;
    uint64_t blocks_invalidated = 0;
    uint64_t tlb_misses = 0;
    uint64_t exceptions = 0;
};

struct ProtMode;

// What a block did to guest memory, and whether it did anything that cannot be replayed, while a
// lockstep checker (jit/diff_engine.cpp, --engine=diff) has one attached (Cpu via CpuAccess).
// Attached, the soft TLB never grants fast write tags, so every store reaches write_lin_slow,
// which records the RAM bytes it is about to overwrite; the checker undoes a run with them.
struct WriteJournal {
    struct Write {
        uint32_t phys;
        uint32_t size;   // 1..4 bytes, within one page
        uint8_t old[4];  // RAM bytes before the store (bytes past the end of RAM are not kept)
    };
    std::vector<Write> writes;
    // An I/O port, an MMIO page, a store to a page holding decoded code, FERR# or the clock was
    // touched: the effects reached outside CpuState and RAM, so the run must not be repeated.
    bool unreplayable = false;
    // The soft TLB as it was before its first change since `tlb_saved` was cleared (the checker
    // puts it back before the second run, so both runs see the same, possibly stale, entries).
    bool tlb_saved = false;
    std::vector<unsigned char> tlb_backup;
    void clear() {
        writes.clear();
        unreplayable = tlb_saved = false;
    }
};

// Which engine runs decoded blocks. The interpreter is the default and the reference; the JIT
// (jit/) plugs in through BlockEngine, so cpu/ never links the code generator.
// kDiff (jit/diff_engine.cpp) runs every block in both and stops at the first divergence.
enum class Engine : uint8_t { kInterp, kJit, kDiff };

// Counters an alternative engine keeps (the interpreter keeps none).
struct EngineStats {
    uint64_t blocks_translated = 0;
    uint64_t insns_translated = 0;  // static: instructions in translated blocks
    uint64_t insns_inline = 0;      // ... of which emitted as host code
    uint64_t insns_helper = 0;      // ... of which emitted as a call to the interpreter handler
    uint64_t code_bytes = 0;
    uint64_t blocks_run_native = 0;  // dynamic: block executions in generated code
    uint64_t blocks_run_interp = 0;  // ... handed back to execute_block (budget cut, uncacheable)
    uint64_t blocks_chained = 0;     // dynamic: block entries through a link's guard stub
    uint64_t blocks_looked_up = 0;   // dynamic: block entries through the indirect lookup
    uint64_t links_made = 0;         // links made (an exit cached its target)
    uint64_t links_direct = 0;       // ... of which patched into a direct jump
    uint64_t blocks_direct = 0;      // dynamic: block entries through a direct jump
    uint64_t blocks_dropped = 0;     // translations freed (block invalidated, replaced, flushed)
    uint64_t flushes = 0;            // full code-cache flushes (size cap reached)
    uint64_t code_bytes_live = 0;    // generated code currently held
    uint64_t mem_slow = 0;           // dynamic: memory accesses of generated code that took the slow path
    uint64_t flags_skipped = 0;      // static: flag computations dropped (overwritten, unread)
    uint64_t flags_sunk = 0;         // static: flags stored only in slow paths (the JIT's sunk flags)
    uint64_t page_reuses = 0;        // static: reads through a page slot (no TLB lookup)
    uint64_t flags_deferred = 0;     // static: ADD/SUB/CMP/NEG/INC/DEC flags kept as operands
    uint64_t flags_resolved = 0;     // dynamic: deferred flags computed by a call
    uint64_t side_joins = 0;         // static: side exits to their own block's code (kfSideJoin)
    uint64_t joins_predicated = 0;   // static: ... of which over one instruction, done by CMOV
    uint64_t slots_carried = 0;      // static: page slots a loop block carries from pass to pass
};

// Generated code attached to a decoded block; destroyed with the block (an engine subclasses it).
class NativeCode {
public:
    virtual ~NativeCode() = default;
    // The block was invalidated (its code was written, it was replaced or flushed): it must not
    // be entered again, although it lives on (in the graveyard) until the run loop frees it.
    virtual void invalidated() {}
};

}  // namespace vx86::cpu

namespace vx86::jit {
struct CpuAccess;  // the JIT's window on Cpu internals (jit/x64/access.h)
}

namespace vx86::cpu {

class Cpu final : public mmu::CodeWatcher {
    friend struct ProtMode;  // protmode.cpp: descriptors, gates, task switches
    friend struct jit::CpuAccess;
    struct Block;

public:
    // Runs a decoded block in place of execute_block(): must leave exactly the state the
    // interpreter would (faults longjmp out of it like out of any handler).
    class BlockEngine {
    public:
        virtual ~BlockEngine() = default;
        virtual void execute(Cpu& cpu, Block& b, uint64_t limit) = 0;
        virtual Engine kind() const = 0;
        virtual const EngineStats& stats() const = 0;
        // A fault longjmp'd out of execute(): puts anything the engine keeps aside back into
        // the state (the x86-64 JIT's deferred flags) before the run loop delivers it.
        virtual void settle(Cpu&) {}
    };
    Cpu(CpuModel model, mmu::PhysMemory& mem, devices::IoBus& io);
    ~Cpu() override;
    Cpu(const Cpu&) = delete;
    Cpu& operator=(const Cpu&) = delete;

    CpuState s{};
    const ModelTraits& traits() const { return *m_; }

    void reset();
    // Runs until `max_insns` instructions retired, HLT with no interrupt to take, a triple
    // fault, or request_stop(). Returns why it stopped.
    Exit run(uint64_t max_insns);
    Exit step() { return run(1); }
    // run() without re-deriving the caches first: for a run loop that calls the CPU many times
    // and changes its state only through the CPU's own methods (call sync_state() after any
    // direct write to `s`).
    Exit resume(uint64_t max_insns);
    void request_stop() {
        stop_requested_ = true;
        end_block();
    }
    // Ends the current run() after the instruction in progress, as if its budget were spent
    // (returns Exit::kBudget): a device armed an earlier timer or raised an IRQ the CPU must see.
    void end_slice() {
        set_run_end(s.icount + 1);
        end_block();
    }
    // Virtual time for the TSC (nullptr: count instructions).
    void set_clock(const devices::Clock* clock) { clock_ = clock; }

    // (Drops every decoded block: translations depend on InterruptSource::notifies_rise.)
    void set_interrupt_source(InterruptSource* src) {
        irq_ = src;
        irq_flag_ = src ? src->pending_flag() : &kNoIrq;
        irq_flag_or_ask_ = irq_flag_ ? irq_flag_ : &kIrqAsk;
        flush_code_cache();
    }
    // The interrupt source's request rose (see InterruptSource::notifies_rise): a running block
    // ends after the instruction in progress, so the run loop sees the request at the next
    // instruction boundary under either engine.
    void irq_rose() {
        if (current_block_) end_block();
    }
    void set_observer(InsnObserver* obs) { observer_ = obs; }
    const CpuStats& stats() const { return stats_; }
    // Installs a block engine (nullptr: the interpreter). Drops every decoded block so no block
    // keeps code from the previous engine. Not while run() is active.
    void set_engine(std::unique_ptr<BlockEngine> engine);
    Engine engine() const { return engine_ ? engine_->kind() : Engine::kInterp; }
    const EngineStats* engine_stats() const { return engine_ ? &engine_->stats() : nullptr; }
    // The x87's FERR# output (an unmasked x87 exception met by a waiting instruction while
    // CR0.NE = 0). The PC wires it to IRQ13; FNINIT/FNCLEX/FNSAVE deassert it. Called on every
    // assertion, not only on edges, so a machine that cleared its latch (port F0h) sees it again.
    void set_ferr_callback(std::function<void(bool)> cb) { ferr_cb_ = std::move(cb); }
    void set_ferr(bool active) {
        if (journal_) [[unlikely]] journal_->unreplayable = true;
        if (ferr_cb_) ferr_cb_(active);
    }
    // Vector of the last exception delivered (or -1): tests check faults with it.
    int last_exception() const { return last_exception_; }

    // ---- state helpers used by loaders, tests and handlers ----
    uint32_t eflags() const { return read_eflags(s) | m_->eflags_fixed1; }
    // Writes EFLAGS as is (no privilege filtering: callers apply the POPF/IRET rules).
    void set_eflags(uint32_t v) {
        write_eflags(s, v);
        update_ac();
    }
    // Re-derives every cache kept outside CpuState (segment checks, TLB, privilege) after the
    // state was written from outside (loaders, tests, snapshots). run() calls it on entry.
    void sync_state();
    void load_seg_real(unsigned seg, uint16_t sel);
    bool code32() const { return s.seg[CS].attr & kAttrDB; }
    // What a decoded block's meaning depends on besides its bytes: bit 0 the code size, bit 1
    // set when DS, ES and SS are flat (base 0, 4 GiB, writable, no alignment checking) and the
    // stack is 32-bit, which lets translated code skip their segment checks and the stack-size
    // tests until something could change them; bit 2 (kModeFlatCs) set when CS is 32-bit with a
    // 4 GiB limit and a page-aligned base, so no EIP is past the limit and a block within one
    // page cannot wrap EIP past 4 GiB (translated code skips its CS limit checks); bit 3
    // (kModeUser) set at CPL 3, whose accesses go through the user TLB (translated code
    // addresses that TLB directly).
    static constexpr uint32_t kModeFlatCs = 4, kModeUser = 8;
    uint32_t block_mode() const {
        const Segment& cs = s.seg[CS];
        const bool c32 = cs.attr & kAttrDB;
        const bool flat_cs = c32 && cs.limit == 0xFFFFFFFFu && !(cs.base & 0xFFF);
        return (c32 ? 1u : 0u) | mode_bits_ | (flat_cs ? kModeFlatCs : 0u);
    }
    bool protected_mode() const { return s.cr[0] & kCr0PE; }
    bool v86() const { return s.eflags & kVM; }
    // Protected mode proper (not real, not virtual-8086).
    bool pm() const { return protected_mode() && !v86(); }
    unsigned cpl() const { return s.cpl; }
    unsigned iopl() const { return (s.eflags >> 12) & 3; }

    // Registers by encoding (0..7). 8-bit: AL CL DL BL AH CH DH BH.
    uint32_t r32(unsigned i) const { return uint32_t(s.gpr[i]); }
    uint16_t r16(unsigned i) const { return uint16_t(s.gpr[i]); }
    uint8_t r8(unsigned i) const {
        return i < 4 ? uint8_t(s.gpr[i]) : uint8_t(s.gpr[i - 4] >> 8);
    }
    void set_r32(unsigned i, uint32_t v) { s.gpr[i] = v; }
    void set_r16(unsigned i, uint16_t v) { s.gpr[i] = (s.gpr[i] & ~uint64_t(0xFFFF)) | v; }
    void set_r8(unsigned i, uint8_t v) {
        if (i < 4) s.gpr[i] = (s.gpr[i] & ~uint64_t(0xFF)) | v;
        else s.gpr[i - 4] = (s.gpr[i - 4] & ~uint64_t(0xFF00)) | (uint64_t(v) << 8);
    }
    template <int B>
    uint32_t reg(unsigned i) const {
        if constexpr (B == 8) return r8(i);
        else if constexpr (B == 16) return r16(i);
        else return r32(i);
    }
    template <int B>
    void set_reg(unsigned i, uint32_t v) {
        if constexpr (B == 8) set_r8(i, uint8_t(v));
        else if constexpr (B == 16) set_r16(i, uint16_t(v));
        else set_r32(i, v);
    }

    // ---- effective addresses and operands ----
    uint32_t ea(const DecodedInsn& i) const {
        uint32_t a = i.disp;
        if (i.base != kRegNone) a += r32(i.base);
        if (i.index != kRegNone) a += r32(i.index) << i.scale;
        return (i.flags & kfAddr32) ? a : (a & 0xFFFF);
    }
    template <int B>
    uint32_t read_rm(const DecodedInsn& i) {
        if (i.flags & kfMem) return read<B>(i.seg, ea(i));
        return reg<B>(i.rm);
    }
    template <int B>
    void write_rm(const DecodedInsn& i, uint32_t v) {
        if (i.flags & kfMem) write<B>(i.seg, ea(i), v);
        else set_reg<B>(i.rm, v);
    }

    // ---- segmented memory ----
    // A host pointer to the `bytes` bytes at seg:off, for string instructions that copy or fill
    // a run of elements of `elem` bytes at once: when the run lies inside the segment's limits,
    // within one page that has a fast TLB tag for the access (plain RAM, no decoded code, no
    // data breakpoint; stores: already dirty), and no alignment check applies. nullptr
    // otherwise (the caller then goes element by element, which faults or notifies exactly).
    uint8_t* host_span(unsigned seg, uint32_t off, uint32_t bytes, unsigned elem, bool write);
    template <int B>
    uint32_t read(unsigned seg, uint32_t off) {
        if (m_->is_8086) [[unlikely]] return read_wrap16<B>(seg, off);
        check_read(seg, off, B / 8);
        uint32_t lin = s.seg[seg].base + off;
        if constexpr (B > 8) if (ac_check_) [[unlikely]] check_alignment(lin, B / 8);
        return read_lin<B>(lin);
    }
    template <int B>
    void write(unsigned seg, uint32_t off, uint32_t v) {
        if (m_->is_8086) [[unlikely]] return write_wrap16<B>(seg, off, v);
        check_write(seg, off, B / 8);
        uint32_t lin = s.seg[seg].base + off;
        if constexpr (B > 8) if (ac_check_) [[unlikely]] check_alignment(lin, B / 8);
        write_lin<B>(lin, v);
    }
    // Segment checks alone (limit, type, usability), for instructions that must check an
    // access before committing other state. The 8086 checks nothing.
    void check_read(unsigned seg, uint32_t off, unsigned bytes) {
        const SegCheck& k = segchk_[seg];
        if (off < k.rlo || uint64_t(off) + (bytes - 1) > k.rhi) [[unlikely]] segment_fault(seg);
    }
    void check_write(unsigned seg, uint32_t off, unsigned bytes) {
        const SegCheck& k = segchk_[seg];
        if (off < k.wlo || uint64_t(off) + (bytes - 1) > k.whi) [[unlikely]] segment_fault(seg);
    }

    // ---- linear memory (through the TLB of the current privilege) ----
    template <int B>
    uint32_t read_lin(uint32_t lin) { return read_lin_t<B>(tlb_cur_, lin); }
    template <int B>
    void write_lin(uint32_t lin, uint32_t v) { write_lin_t<B>(tlb_cur_, lin, v); }
    // Implicit supervisor accesses (descriptor tables, the TSS, the IDT): paging checks them as
    // CPL 0 accesses whatever the CPL.
    template <int B>
    uint32_t read_sys(uint32_t lin) { return read_lin_t<B>(tlb_[0], lin); }
    template <int B>
    void write_sys(uint32_t lin, uint32_t v) { write_lin_t<B>(tlb_[0], lin, v); }
    // Checks that `bytes` at `lin` can be written at the current privilege (page faults now,
    // before a multi-part store commits anything).
    void probe_write_lin(uint32_t lin, unsigned bytes, bool sys = false);
    void flush_tlb(bool keep_global = false);
    void invlpg(uint32_t lin);
    // Translates a linear address for the debugger/tracer without faulting or setting A/D bits
    // when possible; false when unmapped.
    bool debug_translate(uint32_t lin, uint32_t& phys);

    // ---- stack (SS:SP or SS:ESP by the B bit of SS) ----
    bool stack32() const { return s.seg[SS].attr & kAttrDB; }
    uint32_t sp() const { return stack32() ? r32(ESP) : r16(ESP); }
    void set_sp(uint32_t v) {
        if (stack32()) set_r32(ESP, v);
        else set_r16(ESP, uint16_t(v));
    }
    // Checks that `count` pushes of `bytes` each will not fault, before any of them is made
    // (multi-slot pushes stay precise). Each slot wraps like the push that will write it.
    void check_pushes(unsigned count, unsigned bytes) {
        if (m_->is_8086) return;
        uint32_t smask = stack32() ? 0xFFFFFFFFu : 0xFFFFu;
        uint32_t top = sp();
        for (unsigned k = 1; k <= count; ++k) check_write(SS, (top - k * bytes) & smask, bytes);
        if (paging()) probe_write_lin(s.seg[SS].base + ((top - count * bytes) & smask), count * bytes);
    }
    template <int B>
    void push(uint32_t v) {
        uint32_t nsp = sp() - B / 8;
        if (!stack32()) nsp &= 0xFFFF;
        write<B>(SS, nsp, v);
        set_sp(nsp);
    }
    template <int B>
    uint32_t pop() {
        uint32_t osp = sp();
        uint32_t v = read<B>(SS, osp);
        set_sp(osp + B / 8);
        return v;
    }
    // Reads the stack `off` bytes above the top without popping.
    template <int B>
    uint32_t peek(uint32_t off) {
        uint32_t a = sp() + off;
        if (!stack32()) a &= 0xFFFF;
        return read<B>(SS, a);
    }

    // ---- control ----
    static constexpr uint8_t kStopJoin = 2;  // (see stop_)
    // Address of the next instruction; branch handlers overwrite it.
    uint32_t next_eip = 0;
    void jump_near(uint32_t target, bool op32) { next_eip = op32 ? target : (target & 0xFFFF); }
    void end_block() {
        stop_ = 1;
        chain_end_ = 0;
    }
    // A side join taken (cpu::kfSideJoin): the block goes on at its target (execute_block), or
    // ends there when it is stopping already.
    void side_join() {
        if (stop_) end_block();
        else stop_ = kStopJoin;
    }

    // Raises a guest exception: does not return (longjmp to the run loop).
    [[noreturn]] void fault(uint8_t vector, int32_t error_code = -1);
    // Delivers a software interrupt returning to next_eip. `kind`: INT n, INT3/INTO (privilege
    // checked against the gate DPL, IOPL-sensitive in v8086) or INT1/ICEBP.
    enum class SoftInt : uint8_t { kIntN, kInt3, kInto, kInt1 };
    void software_interrupt(uint8_t vector, SoftInt kind = SoftInt::kIntN);

    // ---- protected mode (protmode.cpp) ----
    // Loads a data or stack segment register by the rules of the current mode.
    void load_seg(unsigned seg, uint16_t sel);
    void far_jump(uint16_t sel, uint32_t off, bool op32);
    void far_call(uint16_t sel, uint32_t off, bool op32);
    void far_return(bool op32, uint16_t pop_bytes);
    void iret(bool op32);
    // EFLAGS bits POPF may change at the current privilege (protected and real mode).
    uint32_t popf_mask(bool op32);
    // Raises #GP(0) unless the current privilege may access ports [port, port+size).
    void check_io(uint16_t port, unsigned size) {
        if (protected_mode() && (v86() || cpl() > iopl())) check_io_bitmap(port, size);
    }
    void sysenter();
    void sysexit(bool op32);
    // Descriptor access for LAR/LSL/VERR/VERW: false when the selector is null or outside its
    // table (no fault).
    bool fetch_descriptor(uint16_t sel, uint32_t& lo, uint32_t& hi);
    void lldt(uint16_t sel);
    // MOV DRn, r32 (n after the DR4/DR5 aliasing): stores with the fixed bits and re-arms the
    // breakpoints.
    void write_dr(unsigned n, uint32_t v);
    void ltr(uint16_t sel);
    // Control registers, with the side effects of writing them (TLB flushes, mode changes).
    void write_cr(unsigned n, uint32_t v);
    // RDMSR/WRMSR: false for an MSR this CPU does not have (#GP(0) in the handler).
    bool read_msr(uint32_t idx, uint64_t& v) const;
    bool write_msr(uint32_t idx, uint64_t v);
    // The TSC counts virtual nanoseconds (a 1 GHz TSC) when the machine gives the CPU its clock,
    // else retired instructions (bare CPUs in tests); WRMSR 0x10 sets the offset.
    uint64_t tsc_base() const {
        if (clock_ && journal_) [[unlikely]] journal_->unreplayable = true;  // host time may move
        return clock_ ? clock_->now_ns() : s.icount;
    }
    uint64_t tsc() const { return tsc_base() + s.msr.tsc_offset; }
    bool paging() const { return s.cr[0] & kCr0PG; }

    // ---- I/O ----
    uint32_t io_read(uint16_t port, unsigned size) {
        if (journal_) [[unlikely]] journal_->unreplayable = true;
        return io_.read(port, size);
    }
    void io_write(uint16_t port, unsigned size, uint32_t v) {
        if (journal_) [[unlikely]] journal_->unreplayable = true;
        io_.write(port, size, v);
    }
    bool io_claimed(uint16_t port, unsigned size) const { return io_.claimed(port, size); }

    mmu::PhysMemory& memory() { return mem_; }
    const mmu::PhysMemory& memory() const { return mem_; }

    // CodeWatcher: a store is about to land on a page that holds decoded blocks.
    void code_page_written(uint32_t page_index) override;
    // The physical memory map changed: drop every cached translation now and end the block.
    void memory_map_changed() override {
        if (journal_) [[unlikely]] journal_->unreplayable = true;
        flush_tlb();
        if (current_block_) end_block();
    }
    // Drops every decoded block (tests that rewrite memory behind the CPU's back use it).
    void flush_code_cache();
    // At most `n` instructions per decoded block (1..64; default 64), for tests: with 1, every
    // instruction is its own block, so a one-instruction run (the conformance vectors) goes
    // through the block engine (the JIT) rather than being cut short. Flushes the code cache.
    void set_block_limit(unsigned n);

    // Fetches up to `n` instruction bytes at CS:EIP+`off` the way the CPU would (wrapping IP in
    // 16-bit code). Used by the decoder, the tracer and the debugger.
    unsigned fetch_code(uint32_t eip, uint8_t* out, unsigned n);

private:
    // One soft-TLB entry: a translated linear page. The fast paths compare read_tag/write_tag
    // with the page of the access's last byte (so an access crossing into the next page never
    // matches) and add `addend` to get a host pointer; they are only set for RAM/ROM
    // (writes: RAM without decoded code, writable and already dirty). `vpage`/`ppage`/`perm`
    // keep the translation itself for the slow paths (MMIO, code pages, fetches).
    struct TlbEntry {
        uint32_t read_tag;
        uint32_t write_tag;
        uintptr_t addend;
        uint32_t vpage;  // linear page, or kTlbInvalid
        uint32_t ppage;  // physical page
        uint32_t size_mask;  // ~(page size - 1) of the mapping (INVLPG of a large page)
        uint8_t perm;    // kPermWrite | kPermExec | kPermGlobal | kPermVoid
        uint8_t pad[3];
    };
    static constexpr uint8_t kPermWrite = 1, kPermExec = 2, kPermGlobal = 4, kPermVoid = 8;
    static constexpr unsigned kTlbSize = 1024;
    static constexpr uint32_t kTlbInvalid = 1;  // never equals a page-aligned address

    // Valid offset ranges of a segment for reads and writes: [lo, hi]; empty when lo > hi.
    struct SegCheck {
        uint32_t rlo, rhi, wlo, whi;
    };

    struct Block {
        uint32_t phys;      // physical address of the first instruction
        uint32_t mode;      // code32 bit
        uint32_t page2;     // second page touched (instruction crossing a page), or ~0
        uint32_t eip_span;  // bytes covered
        bool valid;
        std::vector<DecodedInsn> insns;
        std::unique_ptr<NativeCode> native;  // the block engine's translation, if any
    };

    template <int B>
    static uint32_t load(const uint8_t* p) {
        if constexpr (B == 8) return *p;
        else if constexpr (B == 16) { uint16_t v; std::memcpy(&v, p, 2); return v; }
        else { uint32_t v; std::memcpy(&v, p, 4); return v; }
    }
    template <int B>
    static void store(uint8_t* p, uint32_t v) {
        if constexpr (B == 8) *p = uint8_t(v);
        else if constexpr (B == 16) { uint16_t w = uint16_t(v); std::memcpy(p, &w, 2); }
        else std::memcpy(p, &v, 4);
    }
    template <int B>
    uint32_t read_lin_t(TlbEntry* tlb, uint32_t lin) {
        const TlbEntry& e = tlb[(lin >> mmu::kPageBits) & (kTlbSize - 1)];
        if (e.read_tag == ((lin + (B / 8 - 1)) & ~mmu::kPageMask)) [[likely]]
            return load<B>(reinterpret_cast<const uint8_t*>(e.addend + lin));
        return read_lin_slow(tlb, lin, B / 8);
    }
    template <int B>
    void write_lin_t(TlbEntry* tlb, uint32_t lin, uint32_t v) {
        const TlbEntry& e = tlb[(lin >> mmu::kPageBits) & (kTlbSize - 1)];
        if (e.write_tag == ((lin + (B / 8 - 1)) & ~mmu::kPageMask)) [[likely]]
            return store<B>(reinterpret_cast<uint8_t*>(e.addend + lin), v);
        write_lin_slow(tlb, lin, B / 8, v);
    }
    [[noreturn]] void segment_fault(unsigned seg);
    void check_alignment(uint32_t lin, unsigned bytes) {
        if (lin & (bytes - 1)) fault(kAlignCheck, 0);
    }
    void update_ac() {
        const bool ac = (s.cr[0] & kCr0AM) && (s.eflags & kAC) && s.cpl == 3 && protected_mode();
        if (ac == ac_check_) return;
        ac_check_ = ac;
        for (unsigned seg = 0; seg < 6; ++seg) refresh_span(seg);
    }
    void set_cpl(unsigned cpl) {
        s.cpl = uint8_t(cpl);
        TlbEntry* t = tlb_[cpl == 3 ? 1 : 0];
        if (t != tlb_cur_) ++code_epoch_;
        tlb_cur_ = t;
        mode_bits_ = (mode_bits_ & ~kModeUser) | (cpl == 3 ? kModeUser : 0u);
        update_ac();
    }
    // Recomputes segchk_[seg] (and segspan_[seg]) from the descriptor cache and the mode.
    void refresh_seg(unsigned seg);
    void refresh_span(unsigned seg);
    void compute_segchk(unsigned seg);
    void check_io_bitmap(uint16_t port, unsigned size);
    // Debug registers (SDM vol. 3A, 17.2): which breakpoints are armed, and the data-breakpoint
    // check the TLB slow paths make (pages holding a data breakpoint never get fast tags).
    void update_debug();
    uint32_t match_breakpoints(uint32_t lin, unsigned size, unsigned rw_mask) const;
    void check_data_bp(uint32_t lin, unsigned size, bool write) {
        dbg_pending_ |= match_breakpoints(lin, size, write ? 0xA : 0x8);
    }
    bool page_has_data_bp(uint32_t page) const;
    void check_pdptes(uint32_t cr3);
    template <int B>
    uint32_t read_wrap16(unsigned seg, uint32_t off) {
        uint32_t v = 0;
        for (int k = 0; k < B / 8; ++k)
            v |= read_lin<8>(s.seg[seg].base + ((off + k) & 0xFFFF)) << (8 * k);
        return v;
    }
    template <int B>
    void write_wrap16(unsigned seg, uint32_t off, uint32_t v) {
        for (int k = 0; k < B / 8; ++k)
            write_lin<8>(s.seg[seg].base + ((off + k) & 0xFFFF), (v >> (8 * k)) & 0xFF);
    }
    uint32_t read_lin_slow(TlbEntry* tlb, uint32_t lin, unsigned size);
    void write_lin_slow(TlbEntry* tlb, uint32_t lin, unsigned size, uint32_t v);
    // Fills the entry for `lin` in `tlb` for an access of kind `acc`; raises #PF when the
    // translation fails, or returns nullptr instead when `probe`.
    TlbEntry* tlb_fill(TlbEntry* tlb, uint32_t lin, uint8_t acc, bool probe = false);
    TlbEntry& tlb_entry(TlbEntry* tlb, uint32_t lin) {
        return tlb[(lin >> mmu::kPageBits) & (kTlbSize - 1)];
    }
    // Physical address of an instruction byte at `lin` (#PF unless `probe`; ~0 when probe fails).
    uint32_t code_phys(uint32_t lin, bool probe = false) {
        const TlbEntry& e = tlb_entry(tlb_cur_, lin);
        if (e.vpage == (lin & ~mmu::kPageMask) && (e.perm & (kPermExec | kPermVoid)) == kPermExec)
            [[likely]]
            return e.ppage | (lin & mmu::kPageMask);
        return code_phys_slow(lin, probe);
    }
    uint32_t code_phys_slow(uint32_t lin, bool probe);
    // Instruction bytes at CS:eip for the decoder without faulting: returns how many were
    // available; `stop` tells why it stopped short (0 none, 1 CS limit, 2 page not accessible).
    unsigned fetch_probe(uint32_t eip, bool c32, uint8_t* out, unsigned want, int& stop,
                         uint32_t& stop_lin);
    // Fills `tlb` for writes to every page of [lin, lin + bytes): a #PF now, before any byte of
    // a multi-part store lands.
    void probe_write(TlbEntry* tlb, uint32_t lin, unsigned bytes);

    void deliver_exception();
    void interrupt_real(uint8_t vector, uint32_t return_eip);
    void enter_real_handler(uint32_t ivt_entry, uint32_t flags_image, uint32_t return_eip,
                            uint32_t clear);
    // Delivers #DB with `dr6_bits` added to DR6 (breakpoints, single step, task T bit).
    void debug_exception(uint32_t dr6_bits, uint32_t return_eip);
    // Protected-mode (and virtual-8086) event delivery through the IDT (protmode.cpp).
    // `soft`: INT n/INT3/INTO (gate DPL checked); `ext`: external event (EXT bit in errors).
    void interrupt_pm(uint8_t vector, uint32_t return_eip, bool soft, bool ext, int32_t error);
    void deliver(uint8_t vector, uint32_t return_eip, bool soft, bool ext, int32_t error,
                 bool exception = false);
    void take_irq();
    Block* find_block(uint32_t phys, uint32_t mode);
    Block* build_block(uint32_t phys, uint32_t mode);
    static void mark_side_join(Block& b, uint32_t eip);
    void execute_block(Block& b, uint64_t limit);
    [[gnu::noinline]] void step_watched(Block& b, uint32_t lin);
    Exit run_until(uint64_t end);

    mmu::PhysMemory& mem_;
    devices::IoBus& io_;
    const ModelTraits* m_;
    InterruptSource* irq_ = nullptr;
    // irq_->pending_flag(); &kNoIrq without a source; nullptr when the source has no flag.
    static constexpr bool kNoIrq = false;
    const bool* irq_flag_ = &kNoIrq;
    // irq_flag_, or (a source without a flag) a byte that is always set: for generated code,
    // which then leaves for the run loop to ask the source.
    static constexpr bool kIrqAsk = true;
    const bool* irq_flag_or_ask_ = &kNoIrq;
    // The interrupt source's request line (no call when it has a flag).
    bool irq_line() { return irq_flag_ ? *irq_flag_ : irq_->irq_pending(); }
    InsnObserver* observer_ = nullptr;
    std::function<void(bool)> ferr_cb_;
    CpuStats stats_;

    TlbEntry tlb_[2][kTlbSize];  // [0] supervisor accesses, [1] user (CPL 3) accesses
    TlbEntry* tlb_cur_ = tlb_[0];
    bool tlb_large_ = false;  // some entry may come from a large page (INVLPG must scan all)
    // The lockstep checker's journal (nullptr normally): tested on slow paths only.
    WriteJournal* journal_ = nullptr;
    void set_journal(WriteJournal* j);
    void journal_store(uint32_t phys, unsigned size);
    void journal_tlb();
    SegCheck segchk_[6] = {};
    // segchk_ in the form generated code tests with one compare: per segment, for reads [0] and
    // writes [1], an access of 1, 2 or 4 bytes at offset `off` passes the segment check and
    // needs no alignment check when uint64(uint32(off - lo)) < span[size index]. A span is 0
    // when no access can pass (unusable segment, or AC checking on for 2- and 4-byte accesses):
    // the slow path then raises the fault.
    struct SegSpan {
        uint32_t lo = 1, pad = 0;
        uint64_t span[3] = {};
    };
    SegSpan segspan_[6][2] = {};
    uint32_t mode_bits_ = 0;  // block_mode()'s bits kept up to date: 2 (flat data), kModeUser
    // Changes whenever something that decides which block CS:EIP names may have changed: CS,
    // block_mode(), the current TLB (CPL) or any TLB entry's translation. A JIT link checked
    // at one epoch stays valid while the epoch is unchanged.
    uint64_t code_epoch_ = 1;  // 64 bits: never wraps back to a value a link holds
    bool ac_check_ = false;
    // The event being delivered when a delivery faults (-1: none): decides #DF vs serial.
    int delivering_ = -1;
    bool delivering_ext_ = false;
    bool delivering_exception_ = false;  // delivering_ is a CPU exception (#DF rules apply)
    bool event_delivered_ = false;  // an interrupt was delivered by the last instruction
    bool dbg_exec_ = false;         // an instruction breakpoint is enabled in DR7
    bool dbg_data_ = false;         // a data breakpoint is enabled in DR7
    uint32_t dbg_pending_ = 0;      // data breakpoints hit by the current instruction (DR6 B0-B3)

    std::jmp_buf jmp_;
    // Set (end_block) to end the running block after the instruction in progress; the run loop
    // clears it before each block. kStopJoin: a side join was taken (side_join), which
    // execute_block follows by skipping to its target; to any other reader it is a stop like
    // the others (the block then ends at the target, the instruction the guest runs next).
    uint8_t stop_ = 0;
    void clear_stop() {
        stop_ = 0;
        chain_end_ = run_end_;
    }
    // Whether the storing instruction may lie on physical page `page` (code_page_written).
    bool running_code_on_page(uint32_t page);
    void set_run_end(uint64_t end) {
        run_end_ = end;
        if (!stop_) chain_end_ = end;
    }
    // Deferred flags of the x86-64 JIT (jit/x64/engine.cpp): while generated code runs, a
    // nonzero jit_lf_kind_ says s.lf.aux is stale and follows from s.lf.res, jit_lf_src_ (the
    // second operand) and the kind (which add or subtract, of which size). Generated code
    // resolves it before it calls C++ code that can read or write the flags, the engine after
    // the code returns, and the run loop (BlockEngine::settle) after a fault unwound it, so C++
    // never sees it nonzero (nor is it part of the saved or compared state).
    uint8_t jit_lf_kind_ = 0;
    uint32_t jit_lf_src_ = 0;
    uint64_t run_end_ = 0;  // run_until's budget end (end_slice() lowers it; set_run_end)
    // run_end_, or 0 while stop_ is set: the JIT tests both with one compare between blocks.
    uint64_t chain_end_ = 0;
    const devices::Clock* clock_ = nullptr;
    bool stop_requested_ = false;
    bool shutdown_ = false;
    uint8_t pending_vector_ = 0;
    int32_t pending_error_ = -1;
    int last_exception_ = -1;
    // The block the run loop handed to execute_block() or the engine (nullptr between blocks).
    // A JIT chain runs on from it without updating it, so it only says that a block is running
    // (see running_code_on_page for which).
    Block* current_block_ = nullptr;
    CpuState fault_before_{};  // state at the faulting instruction, for the observer

    // Declared before the block cache: blocks (and their native code) die before the engine.
    std::unique_ptr<BlockEngine> engine_;

    // Decoded-block cache.
    static constexpr unsigned kFastSize = 4096;
    static unsigned fast_index(uint32_t phys) { return (phys ^ (phys >> 12)) & (kFastSize - 1); }
    void invalidate(Block& b) {
        b.valid = false;
        if (b.native) b.native->invalidated();
    }
    Block* fast_[kFastSize] = {};
    unsigned block_limit_ = 64;  // set_block_limit
    std::unordered_map<uint64_t, std::unique_ptr<Block>> blocks_;
    std::unordered_map<uint32_t, std::vector<Block*>> page_blocks_;
    std::vector<std::unique_ptr<Block>> graveyard_;  // invalidated blocks, freed between blocks
    Block scratch_{};                                // uncacheable (wrapping) instruction
    std::unique_ptr<Block> building_;                // the block build_block is decoding
};

}  // namespace vx86::cpu

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
// - Decoded blocks are cached by physical address plus the code-size bit; a store to a page
//   holding a block invalidates that page's blocks before the next instruction (see
//   code_page_written), so self-modifying code is always seen.
#pragma once

#include <bit>
#include <csetjmp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/model.h"
#include "cpu/state.h"
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

class Cpu final : public mmu::CodeWatcher {
public:
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
    void request_stop() { stop_requested_ = true; stop_ = true; }

    void set_interrupt_source(InterruptSource* src) { irq_ = src; }
    void set_observer(InsnObserver* obs) { observer_ = obs; }
    const CpuStats& stats() const { return stats_; }
    // Vector of the last exception delivered (or -1): tests check faults with it.
    int last_exception() const { return last_exception_; }

    // ---- state helpers used by loaders, tests and handlers ----
    uint32_t eflags() const { return read_eflags(s) | m_->eflags_fixed1; }
    void set_eflags(uint32_t v) { write_eflags(s, v); }
    void load_seg_real(unsigned seg, uint16_t sel);
    bool code32() const { return s.seg[CS].attr & kAttrDB; }
    bool protected_mode() const { return s.cr[0] & 1; }

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
    template <int B>
    uint32_t read(unsigned seg, uint32_t off) {
        if (m_->is_8086) [[unlikely]] return read_wrap16<B>(seg, off);
        check_limit(seg, off, B / 8);
        return read_lin<B>(s.seg[seg].base + off);
    }
    template <int B>
    void write(unsigned seg, uint32_t off, uint32_t v) {
        if (m_->is_8086) [[unlikely]] return write_wrap16<B>(seg, off, v);
        check_limit(seg, off, B / 8);
        write_lin<B>(s.seg[seg].base + off, v);
    }
    // Checks that a later write of `bytes` at seg:off will not fault (for instructions that must
    // check a store before committing other state).
    void check_write(unsigned seg, uint32_t off, unsigned bytes) {
        if (!m_->is_8086) check_limit(seg, off, bytes);
    }

    // ---- linear memory (through the TLB) ----
    template <int B>
    uint32_t read_lin(uint32_t lin) {
        const TlbEntry& e = tlb_[(lin >> mmu::kPageBits) & (kTlbSize - 1)];
        if (e.read_tag == (lin & ~mmu::kPageMask) && (lin & mmu::kPageMask) <= mmu::kPageSize - B / 8) [[likely]]
            return load<B>(reinterpret_cast<const uint8_t*>(e.addend + lin));
        return read_lin_slow(lin, B / 8);
    }
    template <int B>
    void write_lin(uint32_t lin, uint32_t v) {
        const TlbEntry& e = tlb_[(lin >> mmu::kPageBits) & (kTlbSize - 1)];
        if (e.write_tag == (lin & ~mmu::kPageMask) && (lin & mmu::kPageMask) <= mmu::kPageSize - B / 8) [[likely]]
            return store<B>(reinterpret_cast<uint8_t*>(e.addend + lin), v);
        write_lin_slow(lin, B / 8, v);
    }
    void flush_tlb();

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
        for (unsigned k = 1; k <= count; ++k) check_limit(SS, (top - k * bytes) & smask, bytes);
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
    // Address of the next instruction; branch handlers overwrite it.
    uint32_t next_eip = 0;
    void jump_near(uint32_t target, bool op32) { next_eip = op32 ? target : (target & 0xFFFF); }
    void end_block() { stop_ = true; }

    // Raises a guest exception: does not return (longjmp to the run loop).
    [[noreturn]] void fault(uint8_t vector, int32_t error_code = -1);
    // Delivers a software interrupt (INT n, INT3, INTO) returning to next_eip.
    void software_interrupt(uint8_t vector);

    // ---- I/O ----
    uint32_t io_read(uint16_t port, unsigned size) { return io_.read(port, size); }
    void io_write(uint16_t port, unsigned size, uint32_t v) { io_.write(port, size, v); }

    mmu::PhysMemory& memory() { return mem_; }
    const mmu::PhysMemory& memory() const { return mem_; }

    // CodeWatcher: a store is about to land on a page that holds decoded blocks.
    void code_page_written(uint32_t page_index) override;
    // Drops every decoded block (tests that rewrite memory behind the CPU's back use it).
    void flush_code_cache();

    // Fetches up to `n` instruction bytes at CS:EIP+`off` the way the CPU would (wrapping IP in
    // 16-bit code). Used by the decoder, the tracer and the debugger.
    unsigned fetch_code(uint32_t eip, uint8_t* out, unsigned n);

private:
    struct TlbEntry {
        uint32_t read_tag;
        uint32_t write_tag;
        uintptr_t addend;
    };
    static constexpr unsigned kTlbSize = 256;
    static constexpr uint32_t kTlbInvalid = 1;  // never equals a page-aligned address

    struct Block {
        uint32_t phys;      // physical address of the first instruction
        uint32_t mode;      // code32 bit
        uint32_t page2;     // second page touched (instruction crossing a page), or ~0
        uint32_t eip_span;  // bytes covered
        bool valid;
        std::vector<DecodedInsn> insns;
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
    void check_limit(unsigned seg, uint32_t off, unsigned bytes) {
        if (uint64_t(off) + (bytes - 1) > s.seg[seg].limit) [[unlikely]]
            fault(seg == SS && !m_->overrun_is_gp ? kSS : kGP, 0);
    }
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
    uint32_t read_lin_slow(uint32_t lin, unsigned size);
    void write_lin_slow(uint32_t lin, unsigned size, uint32_t v);
    uint32_t translate(uint32_t lin) const { return lin & mem_.a20_mask(); }
    void tlb_fill(uint32_t lin);

    void deliver_exception();
    void interrupt_real(uint8_t vector, uint32_t return_eip);
    void take_irq();
    Block* find_block(uint32_t phys, uint32_t mode);
    Block* build_block(uint32_t phys, uint32_t mode);
    void execute_block(Block& b, uint64_t limit);
    Exit run_until(uint64_t end);

    mmu::PhysMemory& mem_;
    devices::IoBus& io_;
    const ModelTraits* m_;
    InterruptSource* irq_ = nullptr;
    InsnObserver* observer_ = nullptr;
    CpuStats stats_;

    TlbEntry tlb_[kTlbSize];
    uint64_t tlb_generation_ = ~uint64_t(0);

    std::jmp_buf jmp_;
    bool stop_ = false;
    bool stop_requested_ = false;
    bool shutdown_ = false;
    uint8_t pending_vector_ = 0;
    int32_t pending_error_ = -1;
    uint8_t fault_depth_ = 0;  // 1 while delivering an exception (a second fault: #DF)
    int last_exception_ = -1;
    Block* current_block_ = nullptr;
    CpuState fault_before_{};  // state at the faulting instruction, for the observer

    // Decoded-block cache.
    static constexpr unsigned kFastSize = 4096;
    Block* fast_[kFastSize] = {};
    std::unordered_map<uint64_t, std::unique_ptr<Block>> blocks_;
    std::unordered_map<uint32_t, std::vector<Block*>> page_blocks_;
    std::vector<std::unique_ptr<Block>> graveyard_;  // invalidated blocks, freed between blocks
    Block scratch_{};                                // uncacheable (wrapping) instruction
};

}  // namespace vx86::cpu

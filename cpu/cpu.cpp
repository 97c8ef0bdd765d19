// The interpreter's engine room: reset, the run loop over decoded blocks, the TLB slow paths,
// exception and interrupt delivery, and the decoded-block cache with its invalidation.
//
// Run loop shape: look up (or build) the block at the physical address of CS:EIP, execute its
// instructions in order (each: next_eip = eip + len; handler; eip = next_eip; ++icount), and
// leave the block early when a handler asks (stop_: a taken branch never needs it because the
// branch is the last instruction, but self-modifying stores, REP restarts, HLT and mode changes
// do). External interrupts are checked between blocks; instructions that change IF or inhibit
// interrupts end their block, so an interrupt is never taken later than the interpreter
// instruction-by-instruction would take it.
#include "cpu/cpu.h"

#include <algorithm>

#include "cpu/decoder.h"

namespace vx86::cpu {

namespace {
constexpr unsigned kMaxBlockInsns = 64;

// One decoder per model, shared by every CPU of that model: it holds no mutable state.
const Decoder& decoder_for(CpuModel m) {
    static const Decoder d8086(CpuModel::k8086), d286(CpuModel::k286), d386(CpuModel::k386),
        d486(CpuModel::k486), dp5(CpuModel::kPentium), dp6(CpuModel::kP6);
    switch (m) {
        case CpuModel::k8086: return d8086;
        case CpuModel::k286: return d286;
        case CpuModel::k386: return d386;
        case CpuModel::k486: return d486;
        case CpuModel::kPentium: return dp5;
        default: return dp6;
    }
}
}  // namespace

Cpu::Cpu(CpuModel model, mmu::PhysMemory& mem, devices::IoBus& io)
    : mem_(mem), io_(io), m_(&model_traits(model)) {
    mem_.set_code_watcher(this);
    reset();
}

Cpu::~Cpu() {
    mem_.set_code_watcher(nullptr);
}

void Cpu::reset() {
    s = CpuState{};
    for (auto& sg : s.seg) sg = Segment{0, 0xFFFF, 0, 0x93};
    s.seg[CS].attr = 0x9B;
    if (m_->is_8086) {
        load_seg_real(CS, 0xFFFF);
        s.eip = 0;
    } else {
        s.seg[CS] = Segment{0xFFFF0000u, 0xFFFF, 0xF000, 0x9B};
        s.eip = 0xFFF0;
    }
    write_eflags(s, 2);
    s.gdtr = {0, 0xFFFF};
    s.idtr = {0, 0x3FF};
    s.ldtr = Segment{0, 0xFFFF, 0, 0x82};
    s.tr = Segment{0, 0xFFFF, 0, 0x8B};
    s.cr[0] = m_->has_486 ? 0x60000010u : (m_->has_386 ? 0x00000010u : 0xFFF0u);
    s.dr[6] = 0xFFFF0FF0u;
    s.dr[7] = 0x400;
    // EDX holds the processor signature after reset (family/model/stepping).
    switch (m_->model) {
        case CpuModel::k386: s.gpr[EDX] = 0x0308; break;
        case CpuModel::k486: s.gpr[EDX] = 0x0421; break;
        case CpuModel::kPentium: s.gpr[EDX] = 0x0543; break;
        case CpuModel::kP6: s.gpr[EDX] = 0x0633; break;
        default: break;
    }
    stop_ = false;
    shutdown_ = false;
    fault_depth_ = 0;
    last_exception_ = -1;
    flush_tlb();
}

void Cpu::load_seg_real(unsigned seg, uint16_t sel) {
    Segment& sg = s.seg[seg];
    sg.sel = sel;
    sg.base = uint32_t(sel) << 4;
    // Real mode keeps the cached limit and attributes (unreal mode relies on it); only CS has its
    // size forced back to 16 bit by a real-mode far transfer on real hardware.
}

// ---------------------------------------------------------------------------------------------
// TLB

void Cpu::flush_tlb() {
    for (auto& e : tlb_) e = TlbEntry{kTlbInvalid, kTlbInvalid, 0};
    tlb_generation_ = mem_.generation();
}

void Cpu::tlb_fill(uint32_t lin) {
    ++stats_.tlb_misses;
    if (tlb_generation_ != mem_.generation()) flush_tlb();
    uint32_t page = lin & ~mmu::kPageMask;
    uint32_t phys = translate(page);
    TlbEntry& e = tlb_[(lin >> mmu::kPageBits) & (kTlbSize - 1)];
    uint8_t* r = mem_.read_page(phys);
    uint8_t* w = mem_.write_page(phys);
    if (!r) {
        e = TlbEntry{kTlbInvalid, kTlbInvalid, 0};
        return;
    }
    e.read_tag = page;
    e.write_tag = w ? page : kTlbInvalid;
    e.addend = reinterpret_cast<uintptr_t>(r) - page;
}

uint32_t Cpu::read_lin_slow(uint32_t lin, unsigned size) {
    uint32_t off = lin & mmu::kPageMask;
    if (off + size <= mmu::kPageSize) {
        tlb_fill(lin);
        const TlbEntry& e = tlb_[(lin >> mmu::kPageBits) & (kTlbSize - 1)];
        if (e.read_tag == (lin & ~mmu::kPageMask)) {
            uint32_t v = 0;
            std::memcpy(&v, reinterpret_cast<const uint8_t*>(e.addend + lin), size);
            return v;
        }
        return mem_.read(translate(lin), size);  // MMIO or unmapped
    }
    uint32_t v = 0;
    for (unsigned k = 0; k < size; ++k) v |= read_lin<8>(lin + k) << (8 * k);
    return v;
}

void Cpu::write_lin_slow(uint32_t lin, unsigned size, uint32_t v) {
    uint32_t off = lin & mmu::kPageMask;
    if (off + size <= mmu::kPageSize) {
        // The general path notifies the code watcher before the store lands (SMC), then the
        // refill lets later stores to a code-free RAM page take the fast path again.
        mem_.write(translate(lin), size, v);
        tlb_fill(lin);
        return;
    }
    for (unsigned k = 0; k < size; ++k) write_lin<8>(lin + k, (v >> (8 * k)) & 0xFF);
}

// ---------------------------------------------------------------------------------------------
// Faults and interrupts

void Cpu::fault(uint8_t vector, int32_t error_code) {
    pending_vector_ = vector;
    pending_error_ = error_code;
    std::longjmp(jmp_, 1);
}

void Cpu::interrupt_real(uint8_t vector, uint32_t return_eip) {
    uint32_t entry = uint32_t(vector) * 4;
    if (!m_->is_8086 && entry + 3 > s.idtr.limit) fault(kGP, 0);  // becomes #DF in delivery
    uint32_t flags = eflags();
    uint32_t new_ip = read_lin<16>(s.idtr.base + entry);
    uint32_t new_cs = read_lin<16>(s.idtr.base + entry + 2);
    check_pushes(3, 2);  // all three slots before the first push: a stack fault changes nothing
    push<16>(flags);
    push<16>(s.seg[CS].sel);
    push<16>(return_eip);
    s.eflags &= ~(kIF | kTF | kAC | kRF);
    load_seg_real(CS, uint16_t(new_cs));
    s.eip = new_ip;
    next_eip = new_ip;
    stop_ = true;
}

void Cpu::software_interrupt(uint8_t vector) {
    interrupt_real(vector, next_eip);
}

// Called in the run loop after a handler longjmp'd out with pending_vector_ set.
void Cpu::deliver_exception() {
    ++stats_.exceptions;
    uint8_t vec = pending_vector_;
    last_exception_ = vec;
    if (fault_depth_ >= 2 || (fault_depth_ == 1 && vec == kDoubleFault)) {
        shutdown_ = true;  // triple fault
        return;
    }
    if (fault_depth_ == 1) vec = kDoubleFault;  // a fault while delivering a fault
    ++fault_depth_;
    // The 8086 pushes the address after a divide instruction; everything later pushes the
    // faulting instruction's own address so the handler can restart it.
    uint32_t ret = (vec == kDE && m_->div_fault_next_ip) ? next_eip : uint32_t(s.eip);
    interrupt_real(vec, ret);
    fault_depth_ = 0;
}

void Cpu::take_irq() {
    s.halted = 0;
    uint8_t vec = irq_->irq_acknowledge();
    next_eip = uint32_t(s.eip);
    interrupt_real(vec, uint32_t(s.eip));
}

// ---------------------------------------------------------------------------------------------
// Code fetch and the decoded-block cache

unsigned Cpu::fetch_code(uint32_t eip, uint8_t* out, unsigned n) {
    bool wrap16 = !code32();
    for (unsigned k = 0; k < n; ++k) {
        uint32_t off = eip + k;
        if (wrap16) off &= 0xFFFF;
        out[k] = uint8_t(mem_.read(translate(s.seg[CS].base + off), 1));
    }
    return n;
}

Cpu::Block* Cpu::find_block(uint32_t phys, uint32_t mode) {
    Block* b = fast_[(phys ^ (phys >> 12)) & (kFastSize - 1)];
    if (b && b->phys == phys && b->mode == mode) return b;
    auto it = blocks_.find((uint64_t(mode) << 32) | phys);
    if (it == blocks_.end()) return nullptr;
    fast_[(phys ^ (phys >> 12)) & (kFastSize - 1)] = it->second.get();
    return it->second.get();
}

Cpu::Block* Cpu::build_block(uint32_t phys, uint32_t mode) {
    const Decoder& dec = decoder_for(m_->model);
    const bool c32 = mode & 1;
    uint32_t eip = uint32_t(s.eip);
    uint32_t lin0 = s.seg[CS].base + eip;
    auto blk = std::make_unique<Block>();
    blk->phys = phys;
    blk->mode = mode;
    blk->page2 = ~0u;
    blk->valid = true;
    uint32_t span = 0;
    bool cacheable = true;
    while (blk->insns.size() < kMaxBlockInsns) {
        uint8_t bytes[16];
        uint32_t cur = eip + span;
        // A 16-bit instruction pointer wraps at 64 KiB: bytes past the wrap are not physically
        // contiguous with the block, so such an instruction is decoded but never cached.
        bool wraps = !c32 && cur + 15 > 0xFFFF;
        fetch_code(cur, bytes, 15);
        DecodedInsn di{};
        DecodeStatus st = dec.decode(bytes, 15, c32, di);
        (void)st;
        if (wraps && cur + di.len > 0x10000) {
            if (!blk->insns.empty()) break;  // end the block before it; decoded alone next time
            cacheable = false;
            blk->insns.push_back(di);
            span += di.len;
            break;
        }
        // Stop at a page boundary: an instruction may cross into the next page (both pages are
        // then watched), but the next one starts a new block.
        uint32_t lin_start = lin0 + span;
        uint32_t lin_end = lin_start + di.len - 1;
        if ((lin_end >> mmu::kPageBits) != (lin0 >> mmu::kPageBits)) {
            if ((lin_start >> mmu::kPageBits) != (lin0 >> mmu::kPageBits)) break;
            blk->page2 = translate(lin_end) >> mmu::kPageBits;
        }
        blk->insns.push_back(di);
        span += di.len;
        if (di.flags & kfEndsBlock) break;
        if (blk->page2 != ~0u) break;
        if (!c32 && eip + span > 0xFFFF) break;
    }
    blk->eip_span = span;
    ++stats_.blocks_built;
    if (!cacheable) {
        scratch_.insns = std::move(blk->insns);
        scratch_.phys = phys;
        scratch_.mode = mode;
        scratch_.valid = true;
        return &scratch_;
    }
    // Watch the pages this block was decoded from.
    uint32_t page1 = phys >> mmu::kPageBits;
    mem_.mark_code(phys);
    page_blocks_[page1].push_back(blk.get());
    if (blk->page2 != ~0u) {
        mem_.mark_code(blk->page2 << mmu::kPageBits);
        page_blocks_[blk->page2].push_back(blk.get());
    }
    // Stores to those pages must now take the slow path: drop write permission in the TLB.
    for (auto& e : tlb_) {
        if (e.write_tag == kTlbInvalid) continue;
        uint32_t p = translate(e.write_tag) >> mmu::kPageBits;
        if (p == page1 || p == blk->page2) e.write_tag = kTlbInvalid;
    }
    Block* raw = blk.get();
    blocks_[(uint64_t(mode) << 32) | phys] = std::move(blk);
    fast_[(phys ^ (phys >> 12)) & (kFastSize - 1)] = raw;
    return raw;
}

void Cpu::code_page_written(uint32_t page_index) {
    auto it = page_blocks_.find(page_index);
    if (it != page_blocks_.end()) {
        for (Block* b : it->second) {
            if (!b->valid) continue;
            b->valid = false;
            ++stats_.blocks_invalidated;
            if (b == current_block_) stop_ = true;
            for (auto& f : fast_)
                if (f == b) f = nullptr;
            auto bit = blocks_.find((uint64_t(b->mode) << 32) | b->phys);
            if (bit != blocks_.end() && bit->second.get() == b) {
                graveyard_.push_back(std::move(bit->second));
                blocks_.erase(bit);
            }
        }
        // Blocks spanning two pages are also listed under their other page; stale pointers there
        // are skipped by the valid flag until the graveyard is emptied, which also clears them.
        page_blocks_.erase(it);
    }
    mem_.clear_code(page_index);
}

void Cpu::flush_code_cache() {
    for (auto& [k, b] : blocks_) {
        b->valid = false;
        graveyard_.push_back(std::move(b));
    }
    blocks_.clear();
    for (auto& [p, v] : page_blocks_) mem_.clear_code(p);
    page_blocks_.clear();
    std::fill(std::begin(fast_), std::end(fast_), nullptr);
    if (current_block_) stop_ = true;
}

// ---------------------------------------------------------------------------------------------
// Run loop

void Cpu::execute_block(Block& b, uint64_t limit) {
    current_block_ = &b;
    const DecodedInsn* ip = b.insns.data();
    const DecodedInsn* end = ip + std::min<uint64_t>(b.insns.size(), limit);
    const bool c32 = b.mode & 1;
    for (; ip != end; ++ip) {
        uint32_t n = uint32_t(s.eip) + ip->len;
        next_eip = c32 ? n : (n & 0xFFFF);
        ip->fn(*this, *ip);
        s.eip = next_eip;
        ++s.icount;
        if (stop_) break;
    }
    current_block_ = nullptr;
}

Exit Cpu::run(uint64_t max_insns) {
    const uint64_t end = s.icount + max_insns;
    stop_requested_ = false;
    for (;;) {
        if (setjmp(jmp_) == 0) return run_until(end);
        // A handler (or a delivery in progress) faulted. The state is as before the faulting
        // instruction; delivery may fault again and land here once more with fault_depth_ set.
        current_block_ = nullptr;
        if (fault_depth_ == 0) fault_before_ = s;
        deliver_exception();
        if (shutdown_) return Exit::kShutdown;
        ++s.icount;  // the faulting instruction counts as retired: virtual time moves on
        if (observer_) {
            uint8_t bytes[16];
            fetch_code(uint32_t(fault_before_.eip), bytes, 15);
            DecodedInsn di{};
            decoder_for(m_->model).decode(bytes, 15, fault_before_.seg[CS].attr & kAttrDB, di);
            observer_->on_insn(*this, fault_before_, bytes, di.len, last_exception_);
        }
        if (s.icount >= end) return Exit::kBudget;
    }
}

Exit Cpu::run_until(uint64_t end) {
    while (s.icount < end) {
        stop_ = false;
        if (!graveyard_.empty()) {
            for (auto& [p, v] : page_blocks_)
                std::erase_if(v, [](Block* b) { return !b->valid; });
            graveyard_.clear();
        }
        if (irq_ && (s.eflags & kIF) && !s.inhibit_irq && irq_->irq_pending()) take_irq();
        s.inhibit_irq = 0;
        if (s.halted) return Exit::kHalted;
        if (stop_requested_) return Exit::kStop;
        if (tlb_generation_ != mem_.generation()) flush_tlb();

        uint32_t phys = translate(s.seg[CS].base + uint32_t(s.eip));
        uint32_t mode = code32() ? 1 : 0;
        Block* b = find_block(phys, mode);
        if (!b || !b->valid) b = build_block(phys, mode);
        if (observer_) {
            // Traced execution: one instruction at a time, each reported with its before-state.
            CpuState before = s;
            uint8_t bytes[16];
            unsigned len = b->insns[0].len;
            fetch_code(uint32_t(s.eip), bytes, len);
            execute_block(*b, 1);
            observer_->on_insn(*this, before, bytes, len, -1);
        } else {
            execute_block(*b, end - s.icount);
        }
    }
    if (stop_requested_) return Exit::kStop;
    return s.halted ? Exit::kHalted : Exit::kBudget;
}

}  // namespace vx86::cpu

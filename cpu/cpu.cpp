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

#include <cassert>

#include <algorithm>
#include <utility>

#include "cpu/decoder.h"
#include "cpu/ops/ops.h"
#include "mmu/paging.h"

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
        s.seg[CS].sel = 0xFFFF;
        s.seg[CS].base = 0xFFFF0;
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
    s.msr.apic_base = 0xFEE00900u;  // bootstrap processor, APIC enabled, default base
    s.msr.pat = 0x0007040600070406ull;
    clear_stop();
    shutdown_ = false;
    delivering_ = -1;
    last_exception_ = -1;
    sync_state();
}

void Cpu::sync_state() {
    if (!protected_mode()) s.cpl = 0;
    else if (v86()) s.cpl = 3;
    set_cpl(s.cpl);
    for (unsigned k = 0; k < 6; ++k) refresh_seg(k);
    update_debug();
    flush_tlb();
}

void Cpu::update_debug() {
    const uint32_t dr7 = s.dr[7];
    dbg_exec_ = dbg_data_ = false;
    for (unsigned n = 0; n < 4; ++n) {
        if (!((dr7 >> (2 * n)) & 3)) continue;
        unsigned rw = (dr7 >> (16 + 4 * n)) & 3;
        if (rw == 0) dbg_exec_ = true;
        if (rw == 1 || rw == 3) dbg_data_ = true;
    }
}

// Breakpoints among DR0-DR3 enabled in DR7 whose RW type is in `rw_mask` (bit per RW value:
// 1 execute, 2 write, 8 read/write) and whose range overlaps [lin, lin + size).
uint32_t Cpu::match_breakpoints(uint32_t lin, unsigned size, unsigned rw_mask) const {
    const uint32_t dr7 = s.dr[7];
    uint32_t hits = 0;
    for (unsigned n = 0; n < 4; ++n) {
        if (!((dr7 >> (2 * n)) & 3)) continue;
        unsigned rw = (dr7 >> (16 + 4 * n)) & 3;
        if (!((rw_mask >> rw) & 1)) continue;
        static constexpr unsigned kLen[4] = {1, 2, 8, 4};
        unsigned len = rw == 0 ? 1 : kLen[(dr7 >> (18 + 4 * n)) & 3];
        uint32_t a = s.dr[n] & ~(len - 1);
        if (uint64_t(lin) < uint64_t(a) + len && uint64_t(a) < uint64_t(lin) + size) hits |= 1u << n;
    }
    return hits;
}

bool Cpu::page_has_data_bp(uint32_t page) const {
    return dbg_data_ && match_breakpoints(page, mmu::kPageSize, 0xA);
}

void Cpu::refresh_seg(unsigned seg) {
    compute_segchk(seg);
    refresh_span(seg);
    if (seg == CS) ++code_epoch_;
}

void Cpu::compute_segchk(unsigned seg) {
    SegCheck& k = segchk_[seg];
    const Segment& sg = s.seg[seg];
    if (m_->is_8086) {
        k = SegCheck{0, 0xFFFFFFFFu, 0, 0xFFFFFFFFu};
        return;
    }
    if (!pm()) {
        // Real and virtual-8086 mode check only the cached limit (unreal mode keeps a big one).
        k = SegCheck{0, sg.limit, 0, sg.limit};
        return;
    }
    constexpr SegCheck kEmpty{1, 0, 1, 0};
    if (!(sg.attr & kAttrP) || !(sg.attr & kAttrS)) {
        k = kEmpty;  // null selector loaded: unusable
        return;
    }
    if (sg.attr & kAttrCode) {
        k = kEmpty;
        if (sg.attr & kAttrRW) k.rlo = 0, k.rhi = sg.limit;
        return;
    }
    uint32_t lo = 0, hi = sg.limit;
    if (sg.attr & kAttrExpandDown) {
        // Expand-down: valid offsets are above the limit, up to 64 KiB or 4 GiB by the B bit.
        lo = sg.limit + 1;
        hi = (sg.attr & kAttrDB) ? 0xFFFFFFFFu : 0xFFFFu;
        if (sg.limit == 0xFFFFFFFFu) lo = 1, hi = 0;
    }
    k = SegCheck{lo, hi, 1, 0};
    if (sg.attr & kAttrRW) k.wlo = lo, k.whi = hi;
}

void Cpu::refresh_span(unsigned seg) {
    const SegCheck& k = segchk_[seg];
    const uint32_t lo[2] = {k.rlo, k.wlo}, hi[2] = {k.rhi, k.whi};
    for (unsigned w = 0; w < 2; ++w) {
        SegSpan& sp = segspan_[seg][w];
        sp.lo = lo[w];
        for (unsigned z = 0; z < 3; ++z) {
            const unsigned bytes = 1u << z;
            const bool ok = lo[w] <= hi[w] && hi[w] - lo[w] >= bytes - 1 && !(ac_check_ && bytes > 1);
            sp.span[z] = ok ? uint64_t(hi[w] - lo[w]) - (bytes - 1) + 1 : 0;
        }
    }
    // Flat: every 4-byte read and write at offsets 0..FFFFFFFCh passes, at base 0, and the
    // stack is 32-bit (SS.B).
    uint32_t flat = (s.seg[SS].attr & kAttrDB) ? 2 : 0;
    for (unsigned k : {ES, SS, DS})
        for (const SegSpan& sp : segspan_[k])
            if (s.seg[k].base != 0 || sp.lo != 0 || sp.span[2] != 0xFFFFFFFDu) flat = 0;
    flat |= mode_bits_ & kModeUser;
    if (flat != mode_bits_) ++code_epoch_;
    mode_bits_ = flat;
}

void Cpu::segment_fault(unsigned seg) {
    if (seg == SS && !m_->overrun_is_gp) fault(kSS, 0);
    fault(kGP, 0);
}

void Cpu::load_seg_real(unsigned seg, uint16_t sel) {
    Segment& sg = s.seg[seg];
    sg.sel = sel;
    sg.base = uint32_t(sel) << 4;
    if (v86()) {
        // Virtual-8086 mode: every load makes a 64 KiB, writable, DPL 3 segment.
        sg.limit = 0xFFFF;
        sg.attr = seg == CS ? 0xFB : 0xF3;
    } else {
        // Real mode keeps the cached limit and size bits (unreal mode relies on it); the load
        // makes the segment present and usable again, as a real-mode load does on hardware.
        sg.attr = uint16_t((sg.attr & 0xF000) | (seg == CS ? 0x9B : 0x93));
    }
    refresh_seg(seg);
}

// ---------------------------------------------------------------------------------------------
// TLB and paging

void Cpu::flush_tlb(bool keep_global) {
    ++code_epoch_;
    if (journal_) [[unlikely]] journal_tlb();
    for (auto& t : tlb_)
        for (auto& e : t) {
            if (keep_global && (e.perm & kPermGlobal) && e.vpage != kTlbInvalid) continue;
            e = TlbEntry{kTlbInvalid, kTlbInvalid, 0, kTlbInvalid, 0, 0, 0, {}};
        }
    if (!keep_global) tlb_large_ = false;
}

void Cpu::invlpg(uint32_t lin) {
    ++code_epoch_;
    if (journal_) [[unlikely]] journal_tlb();
    constexpr TlbEntry kInvalid{kTlbInvalid, kTlbInvalid, 0, kTlbInvalid, 0, 0, 0, {}};
    if (!tlb_large_) {
        // Only 4 KiB translations are held: the page can only be in its own slot.
        for (auto& t : tlb_) {
            TlbEntry& e = tlb_entry(t, lin);
            if (e.vpage == (lin & ~mmu::kPageMask)) e = kInvalid;
        }
        return;
    }
    for (auto& t : tlb_)
        for (auto& e : t)
            if (e.vpage != kTlbInvalid && ((e.vpage ^ lin) & e.size_mask) == 0) e = kInvalid;
}

Cpu::TlbEntry* Cpu::tlb_fill(TlbEntry* tlb, uint32_t lin, uint8_t acc, bool probe) {
    ++stats_.tlb_misses;
    if (journal_) [[unlikely]] journal_tlb();
    const uint32_t page = lin & ~mmu::kPageMask;
    TlbEntry& e = tlb_entry(tlb, lin);
    uint64_t phys;
    uint8_t perm;
    uint32_t size_mask = ~mmu::kPageMask;
    if (!paging()) {
        phys = page;
        perm = kPermWrite | kPermExec;
    } else {
        const bool user = tlb == tlb_[1];
        mmu::PagingRegs regs{s.cr[0], s.cr[3], s.cr[4], s.efer};
        mmu::WalkResult r = mmu::walk(mem_, regs, lin, mmu::Access(acc), user);
        if (!r.ok) {
            if (probe) return nullptr;
            s.cr[2] = lin;
            fault(kPageFault, int32_t(r.error));
        }
        phys = r.phys & ~uint64_t(mmu::kPageMask);
        perm = 0;
        if (r.writable && (r.dirty || acc == uint8_t(mmu::Access::kWrite))) perm |= kPermWrite;
        if (!r.nx) perm |= kPermExec;
        if (r.global) perm |= kPermGlobal;
        size_mask = ~(r.page_size - 1);
    }
    if (phys > 0xFFFFFFFFull) perm |= kPermVoid;  // beyond the 32-bit physical space: no memory
    uint32_t p32 = uint32_t(phys) & mem_.a20_mask();
    if (e.vpage != page || e.ppage != p32 || e.perm != perm) ++code_epoch_;
    e.vpage = page;
    e.ppage = p32;
    e.perm = perm;
    e.size_mask = size_mask;
    if (size_mask != ~mmu::kPageMask) tlb_large_ = true;
    e.read_tag = e.write_tag = kTlbInvalid;
    if (!(perm & kPermVoid) && !page_has_data_bp(page)) {
        uint8_t* r = mem_.read_page(p32);
        uint8_t* w = mem_.write_page(p32);
        if (r) {
            // (Host pages are guest pages: the JIT's page-reuse checks rely on it.)
            assert((reinterpret_cast<uintptr_t>(r) & mmu::kPageMask) == 0);
            e.read_tag = page;
            e.addend = reinterpret_cast<uintptr_t>(r) - page;
            if (w && (perm & kPermWrite) && !journal_) e.write_tag = page;
        }
    }
    return &e;
}

uint32_t Cpu::read_lin_slow(TlbEntry* tlb, uint32_t lin, unsigned size) {
    if (dbg_data_) [[unlikely]] check_data_bp(lin, size, false);
    uint32_t off = lin & mmu::kPageMask;
    if (off + size <= mmu::kPageSize) {
        TlbEntry* e = &tlb_entry(tlb, lin);
        if (e->vpage != (lin & ~mmu::kPageMask))
            e = tlb_fill(tlb, lin, uint8_t(mmu::Access::kRead));
        if (e->read_tag == (lin & ~mmu::kPageMask)) {
            uint32_t v = 0;
            std::memcpy(&v, reinterpret_cast<const uint8_t*>(e->addend + lin), size);
            return v;
        }
        if (e->perm & kPermVoid) return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
        if (journal_) [[unlikely]] journal_->unreplayable = true;
        return mem_.read(e->ppage | off, size);  // MMIO or unmapped
    }
    uint32_t v = 0;
    for (unsigned k = 0; k < size; ++k) v |= read_lin_t<8>(tlb, lin + k) << (8 * k);
    return v;
}

void Cpu::write_lin_slow(TlbEntry* tlb, uint32_t lin, unsigned size, uint32_t v) {
    if (dbg_data_) [[unlikely]] check_data_bp(lin, size, true);
    uint32_t off = lin & mmu::kPageMask;
    if (off + size <= mmu::kPageSize) {
        TlbEntry* e = &tlb_entry(tlb, lin);
        if (e->vpage != (lin & ~mmu::kPageMask) || !(e->perm & kPermWrite))
            e = tlb_fill(tlb, lin, uint8_t(mmu::Access::kWrite));
        if (e->perm & kPermVoid) return;
        if (journal_) [[unlikely]] journal_store(e->ppage | off, size);
        // The general path notifies the code watcher before the store lands (SMC); then a
        // code-free RAM page gets its fast write tag back.
        mem_.write(e->ppage | off, size, v);
        // (Only where the entry has a fast read tag, i.e. a valid addend: pages with data
        // breakpoints and MMIO never get one.)
        if (e->vpage == (lin & ~mmu::kPageMask) && e->read_tag == e->vpage &&
            (e->perm & kPermWrite) && mem_.write_page(e->ppage) && !journal_)
            e->write_tag = e->vpage;
        return;
    }
    // A store crossing a page boundary: both pages must be writable before either byte lands.
    probe_write(tlb, lin, size);
    for (unsigned k = 0; k < size; ++k) write_lin_t<8>(tlb, lin + k, (v >> (8 * k)) & 0xFF);
}

// ---------------------------------------------------------------------------------------------
// The lockstep checker's journal (WriteJournal). Page-walk A/D bit updates (mmu::walk) are not
// journaled: the checker's first run sets them, its second finds them set, and the interpreter
// alone would have left them exactly so.

void Cpu::set_journal(WriteJournal* j) {
    journal_ = j;
    if (j)  // from now on every store takes the slow path
        for (auto& t : tlb_)
            for (auto& e : t) e.write_tag = kTlbInvalid;
}

void Cpu::journal_store(uint32_t phys, unsigned size) {
    if (mem_.kind(phys) == mmu::PageKind::kMmio) {
        journal_->unreplayable = true;
        return;
    }
    WriteJournal::Write w{phys, size, {}};
    const uint32_t ram = mem_.ram_size();
    for (unsigned k = 0; k < size && k < sizeof w.old; ++k)
        if (phys + k < ram) w.old[k] = mem_.ram()[phys + k];
    journal_->writes.push_back(w);
}

void Cpu::journal_tlb() {
    if (journal_->tlb_saved) return;
    journal_->tlb_backup.resize(sizeof tlb_);
    std::memcpy(journal_->tlb_backup.data(), tlb_, sizeof tlb_);
    journal_->tlb_saved = true;
}

uint8_t* Cpu::host_span(unsigned seg, uint32_t off, uint32_t bytes, unsigned elem, bool write) {
    if (m_->is_8086 || bytes == 0 || (elem > 1 && ac_check_)) return nullptr;
    const SegSpan& sp = segspan_[seg][write ? 1 : 0];
    if (uint64_t(uint32_t(off - sp.lo)) + bytes > sp.span[0]) return nullptr;  // byte by byte
    const uint32_t lin = s.seg[seg].base + off;
    if ((lin & mmu::kPageMask) + uint64_t(bytes) > mmu::kPageSize) return nullptr;
    const TlbEntry& e = tlb_entry(tlb_cur_, lin);
    if ((write ? e.write_tag : e.read_tag) != (lin & ~mmu::kPageMask)) return nullptr;
    return reinterpret_cast<uint8_t*>(e.addend + lin);
}

void Cpu::probe_write_lin(uint32_t lin, unsigned bytes, bool sys) {
    probe_write(sys ? tlb_[0] : tlb_cur_, lin, bytes);
}

void Cpu::probe_write(TlbEntry* tlb, uint32_t lin, unsigned bytes) {
    if (!paging() || bytes == 0) return;  // without paging a write cannot fault on its page
    uint32_t first = lin & ~mmu::kPageMask;
    uint32_t last = (lin + bytes - 1) & ~mmu::kPageMask;
    for (uint32_t p = first;; p += mmu::kPageSize) {
        TlbEntry& e = tlb_entry(tlb, p);
        if (e.vpage != p || !(e.perm & kPermWrite)) tlb_fill(tlb, p, uint8_t(mmu::Access::kWrite));
        if (p == last) break;
    }
}

uint32_t Cpu::code_phys_slow(uint32_t lin, bool probe) {
    TlbEntry* e = &tlb_entry(tlb_cur_, lin);
    if (e->vpage != (lin & ~mmu::kPageMask) || !(e->perm & kPermExec)) {
        e = tlb_fill(tlb_cur_, lin, uint8_t(mmu::Access::kFetch), probe);
        if (!e) return ~0u;
    }
    if (e->perm & kPermVoid) return probe ? ~0u : 0xFFFFF000u | (lin & mmu::kPageMask);
    return e->ppage | (lin & mmu::kPageMask);
}

bool Cpu::debug_translate(uint32_t lin, uint32_t& phys) {
    if (!paging()) {
        phys = lin & mem_.a20_mask();
        return true;
    }
    mmu::PagingRegs regs{s.cr[0], s.cr[3], s.cr[4], s.efer};
    mmu::WalkResult r = mmu::walk(mem_, regs, lin, mmu::Access::kRead, false);
    if (!r.ok || r.phys > 0xFFFFFFFFull) return false;
    phys = uint32_t(r.phys) & mem_.a20_mask();
    return true;
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
    if (!m_->is_8086 && entry + 3 > s.idtr.limit) fault(kGP, 0);
    enter_real_handler(s.idtr.base + entry, eflags(), return_eip, kIF | kTF | kAC | kRF);
}

// The real-mode interrupt frame: reads the vector at `ivt_entry` (linear), pushes FLAGS (the
// given image), CS and IP, clears `clear` in EFLAGS and jumps to the handler.
void Cpu::enter_real_handler(uint32_t ivt_entry, uint32_t flags_image, uint32_t return_eip,
                             uint32_t clear) {
    uint32_t new_ip = read_lin<16>(ivt_entry);
    uint32_t new_cs = read_lin<16>(ivt_entry + 2);
    check_pushes(3, 2);  // all three slots before the first push: a stack fault changes nothing
    push<16>(flags_image);
    push<16>(s.seg[CS].sel);
    push<16>(return_eip);
    s.eflags &= ~clear;
    update_ac();
    load_seg_real(CS, uint16_t(new_cs));
    s.eip = new_ip;
    next_eip = new_ip;
    end_block();
}

void Cpu::deliver(uint8_t vector, uint32_t return_eip, bool soft, bool ext, int32_t error,
                  bool exception) {
    event_delivered_ = true;
    delivering_ = vector;
    delivering_ext_ = ext;
    delivering_exception_ = exception;
    if (protected_mode()) interrupt_pm(vector, return_eip, soft, ext, error);
    else interrupt_real(vector, return_eip);
    delivering_ = -1;
    end_block();
}

void Cpu::software_interrupt(uint8_t vector, SoftInt kind) {
    if (!protected_mode()) {
        event_delivered_ = true;
        return interrupt_real(vector, next_eip);
    }
    // INT1 (ICEBP) is delivered like a hardware debug exception: no gate-DPL check, EXT set.
    bool soft = kind != SoftInt::kInt1;
    if (v86() && kind == SoftInt::kIntN) {
        if (s.cr[4] & kCr4VME) {
            // VME: the TSS redirection bitmap (32 bytes below the I/O map base) says whether
            // INT n goes to the virtual-8086 task's own IVT.
            if (!(s.tr.attr & 0x8) || s.tr.limit < 0x67) fault(kGP, 0);
            uint32_t iomap = read_sys<16>(s.tr.base + 0x66);
            uint32_t off = iomap - 32 + vector / 8;
            if (off > s.tr.limit) fault(kGP, 0);
            bool redirect_to_pm = (read_sys<8>(s.tr.base + off) >> (vector & 7)) & 1;
            if (!redirect_to_pm) {
                // To the task's own IVT at linear 0; below IOPL 3 the image carries VIF as IF
                // and IOPL as 3, and VIF is what gets cleared.
                event_delivered_ = true;
                uint32_t fl = eflags();
                if (iopl() < 3) fl = (fl & ~kIF) | ((fl & kVIF) ? kIF : 0) | kIOPL;
                return enter_real_handler(uint32_t(vector) * 4, fl, next_eip,
                                          (iopl() < 3 ? kVIF : kIF) | kTF | kRF);
            }
            if (iopl() < 3) fault(kGP, 0);
        } else if (iopl() < 3) {
            fault(kGP, 0);
        }
    }
    deliver(vector, next_eip, soft, !soft, -1);
}

// Exception classes for the double-fault rule (SDM vol. 3A, table 6-5).
namespace {
bool contributory(int v) { return v == kDE || v == kTS || v == kNP || v == kSS || v == kGP; }
bool has_error_code(int v) {
    return v == kDoubleFault || v == kTS || v == kNP || v == kSS || v == kGP ||
           v == kPageFault || v == kAlignCheck;
}
}  // namespace

// Called in the run loop after a handler longjmp'd out with pending_vector_ set.
void Cpu::deliver_exception() {
    ++stats_.exceptions;
    uint8_t vec = pending_vector_;
    int32_t err = pending_error_;
    last_exception_ = vec;
    if (delivering_ >= 0) {
        // A fault while delivering an earlier event. Only a CPU exception makes it a #DF (or a
        // shutdown): INT n, INT3/INTO and external interrupts are benign whatever their vector
        // (SDM vol. 3A, 6.15, tables 6-4 and 6-5).
        int first = delivering_exception_ ? delivering_ : -1;
        if (first == kDoubleFault) {
            shutdown_ = true;  // triple fault
            delivering_ = -1;
            return;
        }
        if (delivering_ext_ && err >= 0 && (vec == kTS || vec == kNP || vec == kSS || vec == kGP))
            err |= 1;  // EXT: the fault happened while delivering an external event
        bool df = (contributory(first) && contributory(vec)) ||
                  (first == kPageFault && (contributory(vec) || vec == kPageFault));
        if (df) {
            vec = kDoubleFault;
            err = 0;
            last_exception_ = vec;
        }
        delivering_ = -1;
    }
    if (has_error_code(vec) && err < 0) err = 0;
    if (!has_error_code(vec) || !protected_mode()) err = -1;
    // The 8086 pushes the address after a divide instruction; everything later pushes the
    // faulting instruction's own address so the handler can restart it.
    uint32_t ret = (vec == kDE && m_->div_fault_next_ip) ? next_eip : uint32_t(s.eip);
    deliver(vec, ret, false, true, err, /*exception=*/true);
}

void Cpu::take_irq() {
    s.halted = 0;
    uint8_t vec = irq_->irq_acknowledge();
    next_eip = uint32_t(s.eip);
    deliver(vec, uint32_t(s.eip), false, true, -1);
}

// ---------------------------------------------------------------------------------------------
// Code fetch and the decoded-block cache

unsigned Cpu::fetch_probe(uint32_t eip, bool c32, uint8_t* out, unsigned want, int& stop,
                          uint32_t& stop_lin) {
    stop = 0;
    uint32_t cur_page = kTlbInvalid, cur_phys = 0;
    unsigned n = 0;
    for (; n < want; ++n) {
        uint32_t off = eip + n;
        if (!c32) off &= 0xFFFF;
        if (off > s.seg[CS].limit && !m_->is_8086) {
            stop = 1;
            break;
        }
        uint32_t lin = s.seg[CS].base + off;
        if ((lin & ~mmu::kPageMask) != cur_page) {
            uint32_t p = code_phys(lin, true);
            if (p == ~0u) {
                stop = 2;
                stop_lin = lin;
                break;
            }
            cur_page = lin & ~mmu::kPageMask;
            cur_phys = p & ~mmu::kPageMask;
        }
        out[n] = uint8_t(mem_.read(cur_phys | (lin & mmu::kPageMask), 1));
    }
    return n;
}

unsigned Cpu::fetch_code(uint32_t eip, uint8_t* out, unsigned n) {
    int stop;
    uint32_t stop_lin;
    unsigned got = fetch_probe(eip, code32(), out, n, stop, stop_lin);
    std::memset(out + got, 0, n - got);
    return got;
}

Cpu::Block* Cpu::find_block(uint32_t phys, uint32_t mode) {
    Block* b = fast_[fast_index(phys)];
    if (b && b->phys == phys && b->mode == mode) return b;
    auto it = blocks_.find((uint64_t(mode) << 32) | phys);
    if (it == blocks_.end()) return nullptr;
    fast_[fast_index(phys)] = it->second.get();
    return it->second.get();
}

// Decodes the block at CS:EIP. Instruction bytes are fetched without faulting; an instruction
// that cannot be fetched whole (CS limit, a page not present or not executable) ends the block
// before it, or, as the block's first instruction, raises its fault (#GP(0) or #PF) right away,
// which is exactly when executing it would. An instruction crossing a page boundary is always
// alone in its block, so the second page's translation is checked when that block is entered.
Cpu::Block* Cpu::build_block(uint32_t phys, uint32_t mode) {
    const Decoder& dec = decoder_for(m_->model);
    const bool c32 = mode & 1;
    uint32_t eip = uint32_t(s.eip);
    // The block under construction is owned by a member, not a local: decoding may fault
    // (longjmp), which must not leak it.
    if (!building_) building_ = std::make_unique<Block>();
    std::unique_ptr<Block>& blk = building_;
    blk->insns.clear();
    blk->eip_span = 0;
    blk->phys = phys;
    blk->mode = mode;
    blk->page2 = ~0u;
    blk->valid = true;
    uint32_t span = 0;
    bool cacheable = true;
    bool side_exit = false;
    while (blk->insns.size() < block_limit_) {
        uint8_t bytes[16];
        uint32_t cur = eip + span;
        if (!c32) cur &= 0xFFFF;
        int stop;
        uint32_t stop_lin = 0;
        unsigned avail = fetch_probe(cur, c32, bytes, 15, stop, stop_lin);
        DecodedInsn di{};
        DecodeStatus st = avail ? dec.decode(bytes, avail, c32, di) : DecodeStatus::kTruncated;
        const bool first = blk->insns.empty();
        if (st == DecodeStatus::kTruncated) {
            if (!first) break;
            if (stop == 2) code_phys(stop_lin);  // raises the #PF
            fault(kGP, 0);                       // past the CS limit
        }
        // A 16-bit instruction pointer wraps at 64 KiB: bytes past the wrap are not contiguous
        // with the block, so such an instruction is decoded alone and never cached. One that
        // crosses into another linear page is alone in its block too; its bytes were fetched,
        // so its last byte translates.
        const uint32_t lin_cur = s.seg[CS].base + cur;
        const bool wraps = !c32 && cur + di.len > 0x10000;
        const bool crosses = (lin_cur & mmu::kPageMask) + di.len > mmu::kPageSize;
        if (wraps || crosses) {
            if (!first) break;
            if (wraps) cacheable = false;
            else blk->page2 = code_phys(lin_cur + di.len - 1, true) >> mmu::kPageBits;
            blk->insns.push_back(di);
            span += di.len;
            break;
        }
        blk->insns.push_back(di);
        span += di.len;
        if (di.flags & kfEndsBlock) {
            // The block's first forward conditional branch does not end it: a side exit
            // (kfSideExit), so the code after a branch not taken (an if's body) runs on in the
            // same block. A backward one (a loop's) still ends it: the loop's body stays a
            // block of its own, which the JIT may loop in.
            if (side_exit || !ops::is_jcc(di.fn) || int32_t(di.imm) < 0) break;
            blk->insns.back().flags |= kfSideExit;
            side_exit = true;
        }
        if (!c32 && eip + span > 0xFFFF) break;
        // Stay within the first page.
        uint32_t lin_next = s.seg[CS].base + eip + span;
        if ((lin_next >> mmu::kPageBits) != ((s.seg[CS].base + eip) >> mmu::kPageBits)) break;
    }
    blk->eip_span = span;
    mark_side_join(*blk, eip);
    ++stats_.blocks_built;
    if (!cacheable) {
        scratch_.insns = std::move(blk->insns);
        scratch_.phys = phys;
        scratch_.mode = mode;
        scratch_.valid = true;
        scratch_.page2 = ~0u;
        scratch_.eip_span = span;
        return &scratch_;
    }
    // Watch the pages this block was decoded from.
    uint32_t page1 = phys >> mmu::kPageBits;
    mem_.mark_code(phys);
    bool fresh = page_blocks_[page1].empty();
    page_blocks_[page1].push_back(blk.get());
    if (blk->page2 != ~0u) {
        mem_.mark_code(blk->page2 << mmu::kPageBits);
        fresh |= page_blocks_[blk->page2].empty();
        page_blocks_[blk->page2].push_back(blk.get());
    }
    // Stores to a page that just became a code page must now take the slow path: drop write
    // permission in the TLB (fills never grant it on code pages, so once is enough).
    if (fresh)
        for (auto& t : tlb_)
            for (auto& e : t) {
                if (e.write_tag == kTlbInvalid) continue;
                uint32_t p = e.ppage >> mmu::kPageBits;
                if (p == page1 || p == blk->page2) e.write_tag = kTlbInvalid;
            }
    Block* raw = blk.get();
    auto& slot = blocks_[(uint64_t(mode) << 32) | phys];
    if (slot) {
        invalidate(*slot);
        graveyard_.push_back(std::move(slot));
    }
    slot = std::move(blk);
    fast_[fast_index(phys)] = raw;
    return raw;
}

void Cpu::code_page_written(uint32_t page_index) {
    if (journal_) [[unlikely]] journal_->unreplayable = true;
    auto it = page_blocks_.find(page_index);
    if (it != page_blocks_.end()) {
        // The running block, if on this page, ends after the store, so the new bytes run.
        const bool running_here = current_block_ && running_code_on_page(page_index);
        for (Block* b : it->second) {
            if (!b->valid) continue;
            invalidate(*b);
            ++stats_.blocks_invalidated;
            if (running_here) end_block();
            Block*& f = fast_[fast_index(b->phys)];
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

// Whether the instruction at CS:EIP (the one storing) may have been fetched from physical page
// `page`, by the current TLB: its page, or the next one when it may cross into it; true when
// the TLB no longer holds either. A JIT chain does not keep current_block_ up to date, but its
// slow paths retire EIP before they store, so this decides the same for both engines.
bool Cpu::running_code_on_page(uint32_t page) {
    const uint32_t lin = s.seg[CS].base + uint32_t(s.eip);
    const auto fetched_from = [&](uint32_t l) {
        const TlbEntry& e = tlb_entry(tlb_cur_, l);
        return e.vpage != (l & ~mmu::kPageMask) || e.ppage >> mmu::kPageBits == page;
    };
    return fetched_from(lin) || ((lin & mmu::kPageMask) > mmu::kPageSize - 15 && fetched_from(lin + 14));
}

void Cpu::set_engine(std::unique_ptr<BlockEngine> engine) {
    flush_code_cache();
    graveyard_.clear();
    scratch_.native.reset();
    building_.reset();
    engine_ = std::move(engine);
}

void Cpu::flush_code_cache() {
    for (auto& [k, b] : blocks_) {
        invalidate(*b);
        graveyard_.push_back(std::move(b));
    }
    blocks_.clear();
    for (auto& [p, v] : page_blocks_) mem_.clear_code(p);
    page_blocks_.clear();
    std::fill(std::begin(fast_), std::end(fast_), nullptr);
    if (current_block_) end_block();
}

// ---------------------------------------------------------------------------------------------
// Run loop

// A side exit whose target is the start of a later instruction of the block becomes a join
// (kfSideJoin): taken, the block goes on there. (The target as near_jump computes it, the
// operand size's mask included; the block's addresses do not wrap.)
void Cpu::mark_side_join(Block& b, uint32_t eip) {
    uint32_t off = 0;
    size_t k = 0;
    for (; k < b.insns.size() && !(b.insns[k].flags & kfSideExit); ++k) off += b.insns[k].len;
    if (k == b.insns.size()) return;
    DecodedInsn& j = b.insns[k];
    off += j.len;
    uint32_t target = eip + off + j.imm;
    if (!(j.flags & kfOp32)) target &= 0xFFFF;
    for (size_t t = k + 1; t < b.insns.size(); off += b.insns[t++].len) {
        if (eip + off != target) continue;
        j.flags |= kfSideJoin;
        j.imm2 = uint16_t(t - k - 1);
        return;
    }
}

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
        if (stop_) {
            if (stop_ != kStopJoin) break;
            // A side join taken: on at its target, imm2 instructions further (the block ends
            // there when the limit does not reach it).
            stop_ = 0;
            if (uint64_t(end - ip) <= uint64_t(ip->imm2) + 1) break;
            ip += ip->imm2;
        }
    }
    current_block_ = nullptr;
}

void Cpu::set_block_limit(unsigned n) {
    block_limit_ = std::clamp(n, 1u, kMaxBlockInsns);
    flush_code_cache();
}

Exit Cpu::run(uint64_t max_insns) {
    sync_state();
    return resume(max_insns);
}

Exit Cpu::resume(uint64_t max_insns) {
    const uint64_t end = s.icount + max_insns;
    stop_requested_ = false;
    for (;;) {
        if (setjmp(jmp_) == 0) return run_until(end);
        // A handler (or a delivery in progress) faulted. The state is as before the faulting
        // instruction; delivery may fault again and land here once more with delivering_ set.
        current_block_ = nullptr;
        if (engine_) engine_->settle(*this);
        if (delivering_ < 0 || !delivering_exception_) fault_before_ = s;
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
        if (s.icount >= std::min(end, run_end_)) return Exit::kBudget;
        set_run_end(end);
    }
}

// One instruction under observation: single-stepping (TF), debug-register breakpoints, or an
// attached observer (--trace). Kept out of the run loop so the common path stays short.
void Cpu::step_watched(Block& b, uint32_t lin) {
    const uint32_t eip = uint32_t(s.eip);
    const bool single_step = s.eflags & kTF;
    const bool debug = dbg_exec_ || dbg_data_;
    if (debug) {
        // Instruction breakpoints fault before the instruction unless RF is set; RF is cleared
        // once an instruction completes (an IRET may set it again).
        if (dbg_exec_ && !(s.eflags & kRF)) {
            if (uint32_t hits = match_breakpoints(lin, 1, 0x1)) return debug_exception(hits, eip);
        }
        s.eflags &= ~kRF;
        dbg_pending_ = 0;
    }
    event_delivered_ = false;
    if (observer_) {
        // Traced execution: each instruction reported with its before-state.
        CpuState before = s;
        uint8_t bytes[16];
        unsigned len = b.insns[0].len;
        fetch_code(eip, bytes, len);
        execute_block(b, 1);
        observer_->on_insn(*this, before, bytes, len, -1);
    } else {
        execute_block(b, 1);
    }
    // Single-step trap (SDM vol. 3A, 17.3.1.4): after an instruction that began with TF set,
    // #DB with DR6.BS, unless the instruction itself delivered an interrupt (which clears TF
    // for the handler). Data breakpoints hit by the instruction are traps too.
    uint32_t dr6 = (single_step && !event_delivered_) ? 0x4000u : 0;
    if (debug) dr6 |= std::exchange(dbg_pending_, 0);
    if (dr6) debug_exception(dr6, uint32_t(s.eip));
}

void Cpu::debug_exception(uint32_t dr6_bits, uint32_t return_eip) {
    s.dr[6] |= dr6_bits;
    last_exception_ = kDB;
    next_eip = return_eip;
    deliver(kDB, return_eip, false, true, -1);
}

Exit Cpu::run_until(uint64_t end) {
    set_run_end(end);
    while (s.icount < run_end_) {
        clear_stop();
        if (!graveyard_.empty()) {
            for (auto& [p, v] : page_blocks_)
                std::erase_if(v, [](Block* b) { return !b->valid; });
            graveyard_.clear();
        }
        // After STI, MOV SS or POP SS, interrupts wait for one instruction: run just that one,
        // so that the next boundary (inside what may be one decoded block, e.g. SeaBIOS's
        // `sti; nop; rep nop; cli` window) is an interrupt point, as on the CPU.
        const bool shadow = s.inhibit_irq;
        if ((s.eflags & kIF) && !shadow && irq_line()) take_irq();
        s.inhibit_irq = 0;
        if (s.halted) return Exit::kHalted;
        if (stop_requested_) return Exit::kStop;
    
        const uint32_t eip = uint32_t(s.eip);
        const uint32_t lin = s.seg[CS].base + eip;
        uint32_t phys = code_phys(lin);
        uint32_t mode = block_mode();
        Block* b = find_block(phys, mode);
        // A cached block is reused only if it still lies within the CS limit and, when its one
        // instruction crosses into a second page, that page still maps to the same frame.
        if (!b || !b->valid || uint64_t(eip) + b->eip_span - 1 > s.seg[CS].limit ||
            (b->page2 != ~0u &&
             code_phys((lin | mmu::kPageMask) + 1) >> mmu::kPageBits != b->page2))
            b = build_block(phys, mode);
        const uint64_t limit = shadow ? 1 : run_end_ > s.icount ? run_end_ - s.icount : 1;
        if ((s.eflags & kTF) || dbg_exec_ || dbg_data_ || observer_) [[unlikely]]
            step_watched(*b, lin);
        else if (engine_) [[unlikely]]
            engine_->execute(*this, *b, limit);
        else
            execute_block(*b, limit);
    }
    if (stop_requested_) return Exit::kStop;
    return s.halted ? Exit::kHalted : Exit::kBudget;
}

}  // namespace vx86::cpu

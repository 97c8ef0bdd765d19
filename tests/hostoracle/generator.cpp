// Random instruction sequences for the host oracle (see generator.h for the design).
//
// Every unit generator below returns its text plus three flag sets (read, written defined,
// written undefined), taken from the SDM's "Flags Affected" sections. Where the SDM makes a
// result (not only a flag) undefined -- BSF/BSR of zero, SHLD/SHRD by more than the operand
// size, DIV/IDIV overflow -- the unit sets its operands up so the case cannot reach it.
#include "tests/hostoracle/generator.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace vx86::hostoracle {

std::string fmt(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

const char* const kOutRegNames[kNumOutRegs] = {"eax", "ecx", "edx", "ebx", "esi", "edi"};

namespace {

const char* const kR8[8] = {"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"};
const char* const kR16[6] = {"ax", "cx", "dx", "bx", "si", "di"};
const char* const kR32[6] = {"eax", "ecx", "edx", "ebx", "esi", "edi"};
const char* const kCc[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                             "s", "ns", "p", "np", "l", "ge", "le", "g"};

const char* size_kw(int bits) { return bits == 8 ? "byte" : bits == 16 ? "word" : "dword"; }
uint32_t mask_of(int bits) { return bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1; }

// Flags read by a condition code.
uint32_t cc_reads(unsigned cc) {
    switch (cc >> 1) {
        case 0: return kOF;
        case 1: return kCF;
        case 2: return kZF;
        case 3: return kCF | kZF;
        case 4: return kSF;
        case 5: return kPF;
        case 6: return kSF | kOF;
        default: return kZF | kSF | kOF;
    }
}

struct Unit {
    std::string cls;
    std::vector<std::string> lines;
    uint32_t reads = 0, def = 0, undef = 0;
    bool mem = false;
    bool string = false;
    bool df_set = false, df_value = false;  // CLD/STD
    int undef_reg = -1;                     // output register left undefined (last unit only)
};

// Lines that subtract EBP (times `scale`) from `r` without touching a flag. `r` may be the 16-bit
// half of `r32` (16-bit destinations and 16-bit addresses): then only it changes.
void sub_ebp(std::vector<std::string>& out, const char* r32, const char* r, unsigned scale = 1) {
    out.push_back("push ebp");
    out.push_back("not ebp");
    out.push_back(scale == 1 ? fmt("lea %s, [%s+ebp+1]", r, r32)
                             : fmt("lea %s, [%s+ebp*%u+%u]", r, r32, scale, scale));
    out.push_back("pop ebp");
}

// Lines that subtract ESP (its value before these lines) from `r`, flag-free.
void sub_esp(std::vector<std::string>& out, const char* r32, const char* r) {
    out.push_back("push ebp");  // ESP - 4 from here on
    out.push_back("mov ebp, esp");
    out.push_back("not ebp");
    out.push_back(fmt("lea %s, [%s+ebp-3]", r, r32));  // r + ~(esp-4) + 1 - 4 = r - esp
    out.push_back("pop ebp");
}

// Builds units; `df` is the direction flag in effect at the unit, `id` names its labels.
class UnitMaker {
public:
    UnitMaker(std::mt19937& rng, bool df, Mode mode, unsigned id)
        : rng_(rng), df_(df), pm_(mode == Mode::kProtected), id_(id) {}

    // `last`: the unit ends its case (string instructions and BSF/BSR of zero need that).
    Unit make(bool last);

private:
    uint32_t rnd(uint32_t n) { return uint32_t(rng_() % n); }
    bool chance(unsigned pct) { return rnd(100) < pct; }
    int rand_bits() { return 8 << rnd(3); }
    int rand_bits_1632() { return chance(50) ? 16 : 32; }
    uint32_t value(int bits);
    std::string reg(int bits) {
        return bits == 8 ? kR8[rnd(8)] : bits == 16 ? kR16[rnd(6)] : kR32[rnd(6)];
    }
    std::string mem(Unit& u, int bits, bool sized = true) {
        u.mem = true;
        unsigned d = rnd(kScratchBytes - bits / 8 + 1);
        return sized ? fmt("%s [ebp+%u]", size_kw(bits), d) : fmt("[ebp+%u]", d);
    }
    std::string rm(Unit& u, int bits) { return chance(35) ? mem(u, bits) : reg(bits); }
    std::string imm(int bits, bool allow_byte) {
        if (bits > 8 && allow_byte && chance(30)) return fmt("byte %d", int(int8_t(rnd(256))));
        return fmt("0x%X", value(bits));
    }

    Unit alu();
    Unit incdec();
    Unit shift();
    Unit shxd();
    Unit mul();
    Unit div();
    Unit bcd();
    Unit bitop();
    Unit bitscan();
    Unit movx();
    Unit convert();
    Unit xchg();
    Unit lea();
    Unit setcmov();
    Unit atomic();
    Unit cmpxchg8b();
    Unit nops();
    Unit pushpop();
    Unit pusha();
    Unit enter();
    Unit xlat();
    Unit branch();
    Unit loop();
    Unit call();
    Unit absolute();
    Unit segload();
    Unit far();
    Unit arpl();
    Unit bound();
    Unit alias82();
    Unit stackptr();
    Unit selector();
    Unit string();
    Unit flagop();

    std::string label(const char* what) { return fmt(".u%u_%s", id_, what); }
    std::string lock() { return chance(40) ? "lock " : ""; }

    std::mt19937& rng_;
    bool df_;
    bool pm_;
    unsigned id_;
    bool last_ = false;
};

uint32_t UnitMaker::value(int bits) {
    uint32_t v;
    switch (rnd(10)) {
        case 0: v = 0; break;
        case 1: v = 1; break;
        case 2: v = 0xFFFFFFFFu; break;
        case 3: v = 1u << (bits - 1); break;
        case 4: v = (1u << (bits - 1)) - 1; break;
        case 5: v = rnd(16); break;
        case 6: v = uint32_t(rng_()) & ~0xFFu; v |= (chance(50) ? 0x7F : 0x80) | rnd(16) << 8; break;
        default: v = uint32_t(rng_()); break;
    }
    return v & mask_of(bits);
}

Unit UnitMaker::make(bool last) {
    last_ = last;
    struct Entry {
        unsigned weight;
        Unit (UnitMaker::*fn)();
    };
    static constexpr Entry kTable[] = {
        {18, &UnitMaker::alu},     {6, &UnitMaker::incdec},  {20, &UnitMaker::shift},
        {6, &UnitMaker::shxd},     {7, &UnitMaker::mul},     {5, &UnitMaker::div},
        {8, &UnitMaker::bcd},      {7, &UnitMaker::bitop},   {3, &UnitMaker::bitscan},
        {3, &UnitMaker::movx},     {2, &UnitMaker::convert}, {2, &UnitMaker::xchg},
        {5, &UnitMaker::lea},      {6, &UnitMaker::setcmov}, {6, &UnitMaker::atomic},
        {3, &UnitMaker::cmpxchg8b}, {3, &UnitMaker::nops},   {5, &UnitMaker::pushpop},
        {2, &UnitMaker::pusha},    {2, &UnitMaker::enter},   {2, &UnitMaker::xlat},
        {4, &UnitMaker::branch},   {2, &UnitMaker::loop},    {3, &UnitMaker::call},
        {4, &UnitMaker::absolute}, {3, &UnitMaker::segload}, {3, &UnitMaker::far},
        {1, &UnitMaker::arpl},     {1, &UnitMaker::bound},   {1, &UnitMaker::alias82},
        {1, &UnitMaker::stackptr}, {2, &UnitMaker::selector},
        {30, &UnitMaker::string},  {3, &UnitMaker::flagop},
    };
    unsigned total = 0;
    for (const auto& e : kTable) total += e.weight;
    for (;;) {
        unsigned pick = rnd(total);
        for (const auto& e : kTable) {
            if (pick < e.weight) {
                if (e.fn == &UnitMaker::string && !last) break;
                if (!pm_ && (e.fn == &UnitMaker::arpl || e.fn == &UnitMaker::alias82 ||
                             e.fn == &UnitMaker::selector))
                    break;  // #UD in real mode, or raw bytes that mean something else there
                return (this->*e.fn)();
            }
            pick -= e.weight;
        }
    }
}

// ADD/ADC/SUB/SBB/AND/OR/XOR/CMP/TEST in every operand form.
Unit UnitMaker::alu() {
    static const char* const kOps[] = {"add", "adc", "sub", "sbb", "and", "or", "xor", "cmp", "test"};
    Unit u;
    unsigned op = rnd(9);
    int bits = rand_bits();
    bool test = op == 8;
    std::string a, b;
    switch (rnd(5)) {
        case 0: a = reg(bits); b = reg(bits); u.cls = "r,r"; break;
        case 1: a = reg(bits); b = imm(bits, !test); u.cls = "r,imm"; break;
        case 2: a = reg(bits); b = mem(u, bits, false); u.cls = "r,m"; break;
        case 3: a = mem(u, bits, false); b = reg(bits); u.cls = "m,r"; break;
        default: a = mem(u, bits); b = imm(bits, !test); u.cls = "m,imm"; break;
    }
    // LOCK on the read-modify-write forms (CMP and TEST do not write: LOCK would be #UD).
    std::string pre = a.find('[') != std::string::npos && op != 7 && !test ? lock() : "";
    u.cls = fmt("%s%s%d %s", pre.c_str(), kOps[op], bits, u.cls.c_str());
    u.lines.push_back(fmt("%s%s %s, %s", pre.c_str(), kOps[op], a.c_str(), b.c_str()));
    if (op == 1 || op == 3) u.reads = kCF;
    if (op >= 4 && op != 7) {
        u.def = kArith & ~kAF;
        u.undef = kAF;
    } else {
        u.def = kArith;
    }
    return u;
}

Unit UnitMaker::incdec() {
    static const char* const kOps[] = {"inc", "dec", "neg", "not"};
    Unit u;
    unsigned op = rnd(4);
    int bits = rand_bits();
    std::string a = rm(u, bits);
    std::string pre = a.find('[') != std::string::npos ? lock() : "";
    u.cls = fmt("%s%s%d%s", pre.c_str(), kOps[op], bits, a.find('[') != std::string::npos ? " m" : "");
    u.lines.push_back(fmt("%s%s %s", pre.c_str(), kOps[op], a.c_str()));
    if (op < 2) u.def = kArith & ~kCF;
    else if (op == 2) u.def = kArith;
    return u;
}

// Shifts and rotates by 1, by imm8 and by CL; counts 0..31 and above (masking).
Unit UnitMaker::shift() {
    static const char* const kOps[] = {"shl", "shr", "sar", "rol", "ror", "rcl", "rcr"};
    Unit u;
    unsigned op = rnd(7);
    int bits = rand_bits();
    std::string a = rm(u, bits);
    unsigned kind = rnd(3);  // 0: by 1, 1: by imm, 2: by CL
    unsigned count = kind == 0 ? 1 : chance(85) ? rnd(32) : rnd(256);
    std::string cnt;
    if (kind == 0) {
        cnt = "1";
    } else if (kind == 1) {
        cnt = fmt("%u", count);
    } else {
        u.lines.push_back(fmt("mov cl, %u", count));
        cnt = "cl";
        if (a == "cl" || a == "ecx" || a == "cx") a = bits == 8 ? "dl" : bits == 16 ? "dx" : "edx";
    }
    static const char* const kKinds[] = {"1", "imm", "cl"};
    u.cls = fmt("%s%d %s", kOps[op], bits, kKinds[kind]);
    u.lines.push_back(fmt("%s %s, %s", kOps[op], a.c_str(), cnt.c_str()));
    unsigned m = count & 31;
    if (m == 0) return u;  // no flags affected
    uint32_t of = m == 1 ? kOF : 0;
    if (op <= 2) {
        u.def = kSF | kZF | kPF | kCF | of;
        u.undef = kAF | (kOF & ~of);
        if (op != 2 && m >= unsigned(bits)) {  // SHL/SHR: CF undefined when count >= size
            u.def &= ~kCF;
            u.undef |= kCF;
        }
    } else {
        if (op >= 5) u.reads = kCF;
        u.def = kCF | of;
        u.undef = kOF & ~of;
    }
    return u;
}

// SHLD/SHRD by imm8 and CL; 16-bit counts above 16 (undefined result) are never generated.
Unit UnitMaker::shxd() {
    Unit u;
    bool left = chance(50);
    int bits = rand_bits_1632();
    std::string a = rm(u, bits);
    std::string b = reg(bits);
    bool by_cl = chance(50);
    unsigned m = bits == 16 ? rnd(17) : rnd(32);
    unsigned count = m | (chance(20) ? 32u * (1 + rnd(7)) : 0u);
    std::string cnt;
    if (by_cl) {
        u.lines.push_back(fmt("mov cl, %u", count));
        cnt = "cl";
    } else {
        cnt = fmt("%u", count);
    }
    u.cls = fmt("%s%d %s", left ? "shld" : "shrd", bits, by_cl ? "cl" : "imm");
    u.lines.push_back(fmt("%s %s, %s, %s", left ? "shld" : "shrd", a.c_str(), b.c_str(), cnt.c_str()));
    if (m == 0) return u;
    uint32_t of = m == 1 ? kOF : 0;
    u.def = kSF | kZF | kPF | kCF | of;
    u.undef = kAF | (kOF & ~of);
    return u;
}

// MUL/IMUL one-operand, IMUL r,r/m and IMUL r,r/m,imm.
Unit UnitMaker::mul() {
    Unit u;
    u.def = kCF | kOF;
    u.undef = kSF | kZF | kAF | kPF;
    unsigned form = rnd(4);
    if (form <= 1) {
        int bits = rand_bits();
        const char* op = form == 0 ? "mul" : "imul";
        u.cls = fmt("%s%d", op, bits);
        u.lines.push_back(fmt("%s %s", op, rm(u, bits).c_str()));
    } else if (form == 2) {
        int bits = rand_bits_1632();
        u.cls = fmt("imul%d r,r/m", bits);
        std::string src = chance(35) ? mem(u, bits, false) : reg(bits);
        u.lines.push_back(fmt("imul %s, %s", reg(bits).c_str(), src.c_str()));
    } else {
        int bits = rand_bits_1632();
        u.cls = fmt("imul%d r,r/m,imm", bits);
        std::string src = chance(35) ? mem(u, bits, false) : reg(bits);
        u.lines.push_back(fmt("imul %s, %s, %s", reg(bits).c_str(), src.c_str(), imm(bits, true).c_str()));
    }
    return u;
}

// DIV/IDIV with the dividend and divisor set up so that the quotient fits.
Unit UnitMaker::div() {
    Unit u;
    bool sign = chance(50);
    int bits = rand_bits();
    u.cls = fmt("%s%d", sign ? "idiv" : "div", bits);
    u.undef = kArith;
    uint64_t m = mask_of(bits);
    uint64_t q, d, r;
    int64_t dividend;
    if (!sign) {
        d = value(bits);
        if (d == 0) d = 1 + rnd(7);
        q = value(bits);
        r = uint64_t(rng_()) % d;
        dividend = int64_t(q * d + r);
    } else {
        int64_t lim = int64_t(1) << (bits - 1);
        int64_t sd = int64_t(int32_t(value(bits) << (32 - bits)) >> (32 - bits));
        if (sd == 0) sd = chance(50) ? 3 : -3;
        int64_t sq = int64_t(int32_t(value(bits) << (32 - bits)) >> (32 - bits));
        if (chance(30)) sq = int64_t(rnd(8)) - 4;
        // A quotient of exactly -2^(n-1) is defined since the 286 (the 8086 raised #DE).
        if (chance(5)) sq = -lim;
        int64_t ad = sd < 0 ? -sd : sd;
        int64_t sr = int64_t(uint64_t(rng_()) % uint64_t(ad));
        int64_t prod = sq * sd;
        if (prod < 0 || (prod == 0 && chance(50))) sr = -sr;
        dividend = prod + sr;
        d = uint64_t(sd) & m;
    }
    // Dividend registers.
    uint64_t dv = uint64_t(dividend);
    if (bits == 8) {
        u.lines.push_back(fmt("mov ax, 0x%X", unsigned(dv & 0xFFFF)));
    } else if (bits == 16) {
        u.lines.push_back(fmt("mov ax, 0x%X", unsigned(dv & 0xFFFF)));
        u.lines.push_back(fmt("mov dx, 0x%X", unsigned((dv >> 16) & 0xFFFF)));
    } else {
        u.lines.push_back(fmt("mov eax, 0x%X", unsigned(dv & 0xFFFFFFFF)));
        u.lines.push_back(fmt("mov edx, 0x%X", unsigned(dv >> 32)));
    }
    std::string src;
    if (chance(35)) {
        src = mem(u, bits);
        u.lines.push_back(fmt("mov %s, 0x%X", src.c_str(), unsigned(d)));
    } else {
        static const char* const k8[] = {"cl", "bl", "ch", "dh", "bh", "dl"};
        static const char* const k16[] = {"cx", "bx", "si", "di"};
        static const char* const k32[] = {"ecx", "ebx", "esi", "edi"};
        src = bits == 8 ? k8[rnd(6)] : bits == 16 ? k16[rnd(4)] : k32[rnd(4)];
        u.lines.push_back(fmt("mov %s, 0x%X", src.c_str(), unsigned(d)));
    }
    u.lines.push_back(fmt("%s %s", sign ? "idiv" : "div", src.c_str()));
    return u;
}

Unit UnitMaker::bcd() {
    Unit u;
    switch (rnd(6)) {
        case 0: case 1:
            u.cls = chance(50) ? "daa" : "das";
            u.reads = kCF | kAF;
            u.def = kArith & ~kOF;
            u.undef = kOF;
            break;
        case 2: case 3:
            u.cls = chance(50) ? "aaa" : "aas";
            u.reads = kAF;
            u.def = kAF | kCF;
            u.undef = kOF | kSF | kZF | kPF;
            break;
        case 4:
            u.cls = "aam";
            u.def = kSF | kZF | kPF;
            u.undef = kOF | kAF | kCF;
            u.lines.push_back(fmt("aam %u", chance(40) ? 10u : 1u + rnd(255)));
            return u;
        default:
            u.cls = "aad";
            u.def = kSF | kZF | kPF;
            u.undef = kOF | kAF | kCF;
            u.lines.push_back(fmt("aad %u", chance(40) ? 10u : rnd(256)));
            return u;
    }
    u.lines.push_back(u.cls);
    return u;
}

// BT/BTS/BTR/BTC: r,r  r,imm  m,imm  m,r (bit offset register set up to stay in the scratch).
Unit UnitMaker::bitop() {
    static const char* const kOps[] = {"bt", "bts", "btr", "btc"};
    Unit u;
    unsigned op = rnd(4);
    int bits = rand_bits_1632();
    u.def = kCF;
    u.undef = kOF | kSF | kAF | kPF;
    switch (rnd(4)) {
        case 0:
            u.cls = fmt("%s%d r,r", kOps[op], bits);
            u.lines.push_back(fmt("%s %s, %s", kOps[op], reg(bits).c_str(), reg(bits).c_str()));
            break;
        case 1:
            u.cls = fmt("%s%d r,imm", kOps[op], bits);
            u.lines.push_back(fmt("%s %s, %u", kOps[op], reg(bits).c_str(), chance(80) ? rnd(bits) : rnd(256)));
            break;
        case 2: {
            std::string pre = op ? lock() : "";
            u.cls = fmt("%s%s%d m,imm", pre.c_str(), kOps[op], bits);
            u.lines.push_back(fmt("%s%s %s, %u", pre.c_str(), kOps[op], mem(u, bits).c_str(), chance(80) ? rnd(bits) : rnd(256)));
            break;
        }
        default: {
            std::string pre = op ? lock() : "";
            u.cls = fmt("%s%s%d m,r", pre.c_str(), kOps[op], bits);
            u.mem = true;
            int opb = bits / 8;
            for (;;) {
                int d = int(rnd(kScratchBytes - opb + 1));
                int off = int(rnd(kScratchBytes * 8)) - d * 8;  // may be negative
                int ea = d + opb * (off >= 0 ? off / bits : -((-off + bits - 1) / bits));
                if (ea < 0 || ea + opb > int(kScratchBytes)) continue;
                static const char* const k16[] = {"ax", "cx", "dx", "bx", "si", "di"};
                unsigned ri = rnd(6);
                uint32_t full = bits == 16 ? (uint32_t(rng_()) & 0xFFFF0000u) | (uint32_t(off) & 0xFFFF)
                                           : uint32_t(off);
                if (bits == 16) u.lines.push_back(fmt("mov e%s, 0x%X", k16[ri], full));
                else u.lines.push_back(fmt("mov %s, 0x%X", kR32[ri], full));
                u.lines.push_back(fmt("%s%s %s [ebp+%d], %s", pre.c_str(), kOps[op], size_kw(bits), d,
                                      bits == 16 ? k16[ri] : kR32[ri]));
                break;
            }
            break;
        }
    }
    return u;
}

// BSF/BSR with a nonzero source (a zero source leaves the destination undefined).
Unit UnitMaker::bitscan() {
    Unit u;
    bool fwd = chance(50);
    int bits = rand_bits_1632();
    u.cls = fmt("%s%d", fwd ? "bsf" : "bsr", bits);
    u.def = kZF;
    u.undef = kCF | kOF | kSF | kAF | kPF;
    uint32_t v = value(bits);
    if (v == 0) v = 1u << rnd(bits);
    unsigned di = rnd(6);
    // A zero source sets ZF and leaves the destination undefined (Intel; AMD keeps it): only as a
    // case's last unit, with the destination register left out of the comparison.
    if (last_ && chance(25)) {
        v = 0;
        u.undef_reg = int(di);
        u.cls += " zero";
    }
    std::string src = rm(u, bits);
    u.lines.push_back(fmt("mov %s, 0x%X", src.c_str(), v));
    if (src.find('[') != std::string::npos) src = src.substr(src.find(' ') + 1);
    u.lines.push_back(fmt("%s %s, %s", fwd ? "bsf" : "bsr", bits == 16 ? kR16[di] : kR32[di], src.c_str()));
    return u;
}

Unit UnitMaker::movx() {
    Unit u;
    bool sx = chance(50);
    int sb = chance(60) ? 8 : 16;
    int db = sb == 16 ? 32 : (chance(50) ? 16 : 32);
    u.cls = fmt("%s r%d,r/m%d", sx ? "movsx" : "movzx", db, sb);
    u.lines.push_back(fmt("%s %s, %s", sx ? "movsx" : "movzx", reg(db).c_str(), rm(u, sb).c_str()));
    return u;
}

Unit UnitMaker::convert() {
    static const char* const kOps[] = {"cbw", "cwde", "cwd", "cdq", "bswap"};
    Unit u;
    unsigned op = rnd(5);
    u.cls = kOps[op];
    u.lines.push_back(op == 4 ? fmt("bswap %s", reg(32).c_str()) : std::string(kOps[op]));
    return u;
}

Unit UnitMaker::xchg() {
    Unit u;
    int bits = rand_bits();
    if (chance(40)) {
        // XCHG with memory locks anyway; nasm only accepts an explicit LOCK in the m,r order.
        bool mr = chance(50);
        std::string pre = mr && chance(30) ? "lock " : "";
        std::string r = reg(bits), m = mem(u, bits, false);
        u.cls = fmt("%sxchg%d %s", pre.c_str(), bits, mr ? "m,r" : "r,m");
        u.lines.push_back(u.cls.find("r,m") != std::string::npos
                              ? fmt("%sxchg %s, %s", pre.c_str(), r.c_str(), m.c_str())
                              : fmt("%sxchg %s, %s", pre.c_str(), m.c_str(), r.c_str()));
    } else {
        u.cls = fmt("xchg%d r,r", bits);
        std::string a = chance(30) && bits > 8 ? (bits == 16 ? "ax" : "eax") : reg(bits);
        u.lines.push_back(fmt("xchg %s, %s", a.c_str(), reg(bits).c_str()));
    }
    return u;
}

// LEA with 32-bit (ModRM and SIB, every base including EBP and ESP, no-base SIB, disp 0/8/32)
// and 16-bit addressing. EBP and ESP hold addresses that differ between the runs: the result is
// made relative to them afterwards (sub_ebp/sub_esp).
Unit UnitMaker::lea() {
    Unit u;
    int db = rand_bits_1632();
    unsigned di = rnd(6);
    const char* dst = db == 16 ? kR16[di] : kR32[di];
    const char* dst32 = kR32[di];
    std::string addr;
    std::vector<std::string> fix;
    if (chance(65)) {
        unsigned base = rnd(10);   // 0..5 general, 6 EBP, 7 ESP, 8..9 none
        unsigned index = rnd(9);   // 0..5 general, 6 EBP, 7..8 none
        unsigned scale = 1u << rnd(4);
        unsigned dk = rnd(3);
        int32_t disp = dk == 0 ? 0 : dk == 1 ? int32_t(int8_t(rnd(256))) : int32_t(rng_());
        auto name = [](unsigned r) { return r < 6 ? kR32[r] : r == 6 ? "ebp" : "esp"; };
        std::string parts;
        if (base < 8) parts = name(base);
        if (index < 7) {
            if (base >= 8) parts = "nosplit ";
            else parts += "+";
            parts += fmt("%s*%u", name(index), scale);
        }
        if (parts.empty()) parts = fmt("dword 0x%X", uint32_t(disp));
        else if (disp || base >= 8) parts += fmt("%+d", disp);
        addr = parts;
        u.cls = fmt("lea%d a32 %s%s%s", db, base < 8 ? "b" : "", index < 7 ? "i" : "",
                    base == 6 || index == 6 ? " ebp" : base == 7 ? " esp" : "");
        if (base == 6) sub_ebp(fix, dst32, dst, 1);
        if (index == 6) sub_ebp(fix, dst32, dst, scale);
        if (base == 7) sub_esp(fix, dst32, dst);
    } else {
        static const char* const kModes[] = {"bx+si", "bx+di", "si", "di", "bx", "bp+si", "bp+di", "bp", ""};
        unsigned mode = rnd(9);
        unsigned dk = rnd(3);
        int disp = dk == 0 ? 0 : dk == 1 ? int(int8_t(rnd(256))) : int(int16_t(rnd(65536)));
        if (mode == 8) {
            u.cls = fmt("lea%d a16 disp", db);
            u.lines.push_back(fmt("a16 lea %s, [word 0x%X]", dst, unsigned(disp) & 0xFFFF));
            return u;
        }
        addr = kModes[mode];
        if (disp) addr += fmt("%+d", disp);
        u.cls = fmt("lea%d a16%s", db, mode >= 5 ? " bp" : "");
        if (mode >= 5) sub_ebp(fix, dst32, kR16[di], 1);  // the address is 16 bits: so is BP's share
    }
    u.lines.push_back(fmt("lea %s, [%s]", dst, addr.c_str()));
    for (auto& l : fix) u.lines.push_back(l);
    return u;
}

// CMPXCHG8B m64: EDX:EAX equal to the memory, equal in one half only, or unrelated.
Unit UnitMaker::cmpxchg8b() {
    Unit u;
    u.mem = true;
    u.def = kZF;
    unsigned d = rnd(kScratchBytes - 8 + 1);
    unsigned kind = rnd(4);  // 0,1 equal  2 one half differs  3 random EDX:EAX
    if (kind <= 2) {
        u.lines.push_back(fmt("mov eax, [ebp+%u]", d));
        u.lines.push_back(fmt("mov edx, [ebp+%u]", d + 4));
        if (kind == 2) u.lines.push_back(chance(50) ? "not eax" : "lea edx, [edx+1]");
    }
    std::string pre = lock();
    u.cls = fmt("%scmpxchg8b %s", pre.c_str(), kind <= 1 ? "eq" : "ne");
    u.lines.push_back(fmt("%scmpxchg8b [ebp+%u]", pre.c_str(), d));
    return u;
}

// NOP, 66 90, PAUSE, and the 0F 1F /0 multi-byte NOP with register and memory operands (the
// memory operand is never accessed: any address is fine). Protected mode also runs the SDM's
// recommended multi-byte NOP sequences byte for byte.
Unit UnitMaker::nops() {
    Unit u;
    static const char* const kRaw[] = {
        "db 0x0F,0x1F,0x00",
        "db 0x0F,0x1F,0x40,0x00",
        "db 0x0F,0x1F,0x44,0x00,0x00",
        "db 0x66,0x0F,0x1F,0x44,0x00,0x00",
        "db 0x0F,0x1F,0x80,0x00,0x00,0x00,0x00",
        "db 0x0F,0x1F,0x84,0x00,0x00,0x00,0x00,0x00",
        "db 0x66,0x0F,0x1F,0x84,0x00,0x00,0x00,0x00,0x00",
        "db 0x66,0x2E,0x0F,0x1F,0x84,0x00,0x00,0x00,0x00,0x00",
        "db 0x66,0x66,0x2E,0x0F,0x1F,0x84,0x00,0x00,0x00,0x00,0x00",
    };
    static const char* const kAll[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    switch (rnd(pm_ ? 7 : 6)) {
        case 0: u.cls = "nop"; u.lines.push_back("nop"); break;
        case 1: u.cls = "nop 66 90"; u.lines.push_back("o16 nop"); break;
        case 2: u.cls = "pause"; u.lines.push_back("pause"); break;
        case 3: {
            int bits = rand_bits_1632();
            u.cls = fmt("nop%d r", bits);
            u.lines.push_back(fmt("nop %s", reg(bits).c_str()));
            break;
        }
        case 4: case 5: {
            int bits = rand_bits_1632();
            std::string a;
            if (chance(70)) {
                a = kAll[rnd(8)];
                if (chance(60)) {
                    static const char* const kIdx[] = {"eax", "ecx", "edx", "ebx", "ebp", "esi", "edi"};
                    a += fmt("+%s*%u", kIdx[rnd(7)], 1u << rnd(4));
                }
                unsigned dk = rnd(3);
                if (dk) a += fmt("%+d", dk == 1 ? int(int8_t(rnd(256))) : int32_t(rng_()));
            } else {
                static const char* const k16[] = {"bx+si", "bp+di", "si", "bp", "bx"};
                a = fmt("%s%+d", k16[rnd(5)], int(int8_t(rnd(256))));
            }
            const char* seg = chance(20) ? "cs " : "";
            u.cls = fmt("nop%d m", bits);
            u.lines.push_back(fmt("%snop %s [%s]", seg, size_kw(bits), a.c_str()));
            break;
        }
        default: {
            unsigned k = rnd(sizeof kRaw / sizeof *kRaw);
            u.cls = fmt("nop raw%u", k + 3);
            u.lines.push_back(kRaw[k]);
            break;
        }
    }
    return u;
}

// PUSH/POP in mixed sizes: registers, immediates, scratch memory and [ESP+k] (POP to [ESP+k]
// addresses with ESP already incremented), popped back into registers and memory. Every byte
// pushed is popped again.
Unit UnitMaker::pushpop() {
    Unit u;
    u.cls = "push/pop";
    std::vector<unsigned> pushed;  // sizes, bottom first
    unsigned depth = 0;
    unsigned npush = 1 + rnd(4);
    bool esp_mem = false;
    for (unsigned k = 0; k < npush; ++k) {
        unsigned sz = chance(70) ? 4 : 2;
        int bits = sz * 8;
        std::string line;
        switch (rnd(depth >= sz ? 6 : 5)) {
            case 0: case 1: line = fmt("push %s", reg(bits).c_str()); break;
            case 2:
                if (chance(50)) line = fmt("push %s 0x%X", size_kw(bits), value(bits));
                else line = fmt("%s push byte %d", sz == 4 ? "o32" : "o16", int(int8_t(rnd(256))));
                break;
            case 3: case 4: line = fmt("push %s", mem(u, bits).c_str()); break;
            default:
                line = fmt("push %s [esp+%u]", size_kw(bits), rnd(depth - sz + 1));
                esp_mem = true;
                break;
        }
        u.lines.push_back(line);
        pushed.push_back(sz);
        depth += sz;
    }
    while (depth) {
        unsigned sz = depth >= 4 && chance(65) ? 4 : 2;
        int bits = sz * 8;
        unsigned after = depth - sz;
        std::string line;
        switch (rnd(after >= sz ? 6 : 5)) {
            case 0: case 1: case 2: line = fmt("pop %s", reg(bits).c_str()); break;
            case 3: case 4: line = fmt("pop %s", mem(u, bits).c_str()); break;
            default:
                line = fmt("pop %s [esp+%u]", size_kw(bits), rnd(after - sz + 1));
                esp_mem = true;
                break;
        }
        u.lines.push_back(line);
        depth = after;
    }
    if (esp_mem) u.cls += " [esp]";
    return u;
}

// PUSHAD/PUSHAW popped slot by slot into a permutation of the registers, or POPAD/POPAW fed
// slot by slot. EBP's slot holds EBP (so POPA restores it); ESP's slot is skipped with LEA.
Unit UnitMaker::pusha() {
    Unit u;
    bool wide = chance(70);
    unsigned sz = wide ? 4 : 2;
    const char* const* names = wide ? kR32 : kR16;
    // Slot order from the top of the stack after PUSHA: DI SI BP SP BX DX CX AX.
    static const int kSlotReg[8] = {5, 4, -1, -2, 3, 2, 1, 0};  // index into kR32/kR16
    if (chance(50)) {
        u.cls = wide ? "pushad" : "pushaw";
        u.lines.push_back(wide ? "pushad" : "pushaw");
        unsigned perm[6] = {0, 1, 2, 3, 4, 5};
        std::shuffle(std::begin(perm), std::end(perm), rng_);
        unsigned next = 0;
        for (int slot = 0; slot < 8; ++slot) {
            if (kSlotReg[slot] == -1) u.lines.push_back(wide ? "pop ebp" : "pop bp");
            else if (kSlotReg[slot] == -2) u.lines.push_back(fmt("lea esp, [esp+%u]", sz));
            else if (chance(20)) u.lines.push_back(fmt("pop %s", mem(u, sz * 8).c_str()));
            else u.lines.push_back(fmt("pop %s", names[perm[next++]]));
        }
    } else {
        u.cls = wide ? "popad" : "popaw";
        for (int slot = 7; slot >= 0; --slot) {
            if (kSlotReg[slot] == -1) u.lines.push_back(wide ? "push ebp" : "push bp");
            else if (kSlotReg[slot] == -2 || chance(30))
                u.lines.push_back(fmt("push %s 0x%X", size_kw(sz * 8), value(sz * 8)));
            else if (chance(25)) u.lines.push_back(fmt("push %s", mem(u, sz * 8).c_str()));
            else u.lines.push_back(fmt("push %s", names[rnd(6)]));
        }
        u.lines.push_back(wide ? "popad" : "popaw");
    }
    return u;
}

// ENTER size, level (level 0..8: the copied frame pointers come from the record header, which
// the unit first fills) and LEAVE. Checked: the copies, the new frame pointer and ESP, relative
// to the new EBP; a local written and read back.
Unit UnitMaker::enter() {
    Unit u;
    unsigned level = chance(30) ? 0 : chance(20) ? 1 : 2 + rnd(7);
    unsigned size = chance(30) ? 0 : 4 * rnd(17) + (chance(20) ? rnd(4) : 0);
    u.cls = fmt("enter L%u", level > 1 ? 2 : level);
    for (unsigned i = 1; i < level; ++i)  // [ebp-4*i]: record header, rewritten at the case's end
        u.lines.push_back(fmt("mov [ebp-%u], %s", 4 * i, kR32[rnd(6)]));
    // The level operand is taken modulo 32: sometimes say so with a larger immediate.
    u.lines.push_back(fmt("o32 enter %u, %u", size, level + (chance(15) ? 32 * (1 + rnd(7)) : 0)));
    unsigned r1 = rnd(6), r2 = rnd(6), r3 = rnd(6);
    if (level >= 2) u.lines.push_back(fmt("mov %s, [ebp-%u]", kR32[r1], 4 * (1 + rnd(level - 1))));
    if (level >= 1) {
        u.lines.push_back(fmt("mov %s, [ebp-%u]", kR32[r2], 4 * level));
        sub_ebp(u.lines, kR32[r2], kR32[r2]);
    }
    if (size >= 4 && chance(60)) {
        unsigned off = 4 * level + 4 + 4 * rnd(size / 4);  // a dword inside the allocation
        u.lines.push_back(fmt("mov [ebp-%u], %s", off, kR32[rnd(6)]));
        u.lines.push_back(fmt("mov %s, [ebp-%u]", kR32[rnd(6)], off));
    }
    u.lines.push_back(fmt("mov %s, esp", kR32[r3]));
    sub_ebp(u.lines, kR32[r3], kR32[r3]);
    u.lines.push_back("o32 leave");
    return u;
}

// XLAT with EBX anywhere such that EBX+AL lands in the scratch; EBX then made relative.
Unit UnitMaker::xlat() {
    Unit u;
    u.mem = true;
    unsigned al = rnd(256);
    int t = int(rnd(kScratchBytes));
    if (chance(40)) al = rnd(unsigned(t) + 1);
    int d = t - int(al);
    u.cls = "xlat";
    u.lines.push_back(fmt("lea ebx, [ebp%+d]", d));
    u.lines.push_back(fmt("mov al, %u", al));
    u.lines.push_back(chance(20) ? "es a32 xlatb" : "a32 xlatb");
    sub_ebp(u.lines, "ebx", "ebx");
    return u;
}

// Jcc (short and near), JECXZ/JCXZ, JMP short/near/register/memory: forward branches around a
// MOV, so the result shows which way the branch went.
Unit UnitMaker::branch() {
    Unit u;
    std::string t = label("t"), e = label("e");
    unsigned r = rnd(6);
    unsigned kind = rnd(10);
    std::string after;
    if (kind < 6) {
        unsigned cc = rnd(16);
        u.reads = cc_reads(cc);
        bool near = chance(40);
        u.cls = fmt("j%s %s", "cc", near ? "near" : "short");
        u.lines.push_back(fmt("j%s %s %s", kCc[cc], near ? "near" : "short", t.c_str()));
    } else if (kind < 8) {
        bool wide = chance(60);
        u.cls = wide ? "jecxz" : "jcxz";
        if (chance(50)) u.lines.push_back(wide ? "mov ecx, 0" : fmt("mov ecx, 0x%X", uint32_t(rng_()) & 0xFFFF0000u));
        u.lines.push_back(fmt("%s %s", u.cls.c_str(), t.c_str()));
    } else {
        switch (rnd(4)) {
            case 0: u.cls = "jmp short"; u.lines.push_back(fmt("jmp short %s", t.c_str())); break;
            case 1: u.cls = "jmp near"; u.lines.push_back(fmt("jmp near %s", t.c_str())); break;
            case 2:
                u.cls = "jmp reg";
                u.lines.push_back(fmt("mov %s, %s", kR32[r], t.c_str()));
                u.lines.push_back(fmt("jmp %s", kR32[r]));
                break;
            default: {
                u.cls = "jmp mem";
                std::string m = mem(u, 32);
                u.lines.push_back(fmt("mov %s, %s", m.c_str(), t.c_str()));
                u.lines.push_back(fmt("jmp %s", m.c_str()));
                after = fmt("mov %s, 0x%X", m.c_str(), value(32));  // drop the absolute address
                break;
            }
        }
    }
    u.lines.push_back(fmt("mov %s, 0x%X", kR32[r], value(32)));  // not taken
    u.lines.push_back(fmt("jmp short %s", e.c_str()));
    u.lines.push_back(fmt("%s: mov %s, 0x%X", t.c_str(), kR32[r], value(32)));
    if (!after.empty()) u.lines.push_back(after);
    u.lines.push_back(fmt("%s:", e.c_str()));
    return u;
}

// LOOP/LOOPE/LOOPNE with ECX (a32) or CX (a16), 1..6 iterations, around a body that is
// flag-neutral (LOOPE/LOOPNE then test the incoming ZF) or sets ZF itself.
Unit UnitMaker::loop() {
    static const char* const kOps[] = {"loop", "loope", "loopne"};
    Unit u;
    unsigned op = rnd(3);
    bool a16 = chance(30);
    unsigned n = 1 + rnd(6);
    std::string top = label("top");
    u.lines.push_back(fmt("mov ecx, 0x%X", a16 ? (uint32_t(rng_()) & 0xFFFF0000u) | n : n));
    u.lines.push_back(top + ":");
    switch (rnd(5)) {
        case 0: {  // never ECX: the count stays bounded
            static const char* const kNoEcx[] = {"eax", "edx", "ebx", "esi", "edi"};
            u.lines.push_back(fmt("lea %s, [%s+ecx*2+1]", kNoEcx[rnd(5)], kR32[rnd(6)]));
            if (op) u.reads = kZF;
            break;
        }
        case 1: u.lines.push_back(fmt("add dl, %d", int(int8_t(rnd(256))))); u.def = kArith; break;
        case 2: u.lines.push_back(fmt("cmp bl, %u", rnd(8))); u.def = kArith; break;
        case 3: u.lines.push_back("dec esi"); u.def = kArith & ~kCF; break;
        default: u.lines.push_back(fmt("inc %s", mem(u, 8).c_str())); u.def = kArith & ~kCF; break;
    }
    u.cls = fmt("%s %s", kOps[op], a16 ? "cx" : "ecx");
    u.lines.push_back(fmt("%s %s %s", a16 ? "a16" : "a32", kOps[op], top.c_str()));
    return u;
}

// CALL rel/reg/mem and RET/RET imm16, with dword arguments read by the callee through ESP.
Unit UnitMaker::call() {
    Unit u;
    std::string f = label("f"), e = label("e");
    unsigned nargs = rnd(4);
    bool ret_imm = nargs > 0 || chance(20);
    unsigned ra = rnd(6), rb = rnd(6);
    for (unsigned k = 0; k < nargs; ++k)
        u.lines.push_back(chance(50) ? fmt("push %s", kR32[rnd(6)]) : fmt("push dword 0x%X", value(32)));
    std::string fixup;
    switch (rnd(4)) {
        case 0: case 1: u.cls = "call rel"; u.lines.push_back(fmt("call dword %s", f.c_str())); break;
        case 2:
            u.cls = "call reg";
            u.lines.push_back(fmt("mov %s, %s", kR32[ra], f.c_str()));
            u.lines.push_back(fmt("call %s", kR32[ra]));
            break;
        default: {
            u.cls = "call mem";
            std::string m = mem(u, 32);
            u.lines.push_back(fmt("mov %s, %s", m.c_str(), f.c_str()));
            u.lines.push_back(fmt("call %s", m.c_str()));
            fixup = fmt("mov %s, 0x%X", m.c_str(), value(32));  // drop the absolute address
            break;
        }
    }
    u.lines.push_back(fmt("mov %s, 0x%X", kR32[ra], value(32)));
    if (!fixup.empty()) u.lines.push_back(fixup);
    u.lines.push_back(fmt("jmp short %s", e.c_str()));
    u.lines.push_back(f + ":");
    if (nargs) u.lines.push_back(fmt("mov %s, [esp+%u]", kR32[rb], 4 + 4 * rnd(nargs)));
    else  // never from ra, which may hold the callee's (run-dependent) address
        u.lines.push_back(fmt("lea %s, [%s+%s*4]", kR32[rb], kR32[(ra + 1 + rnd(5)) % 6],
                              kR32[(ra + 1 + rnd(5)) % 6]));
    if (ret_imm) {
        u.cls += " ret imm";
        u.lines.push_back(fmt("o32 ret %u", 4 * nargs));
    } else if (chance(25)) {
        u.cls += " rep ret";  // F3 C3: the REP is ignored (a common AMD-tuned idiom)
        u.lines.push_back("db 0xF3");
        u.lines.push_back("o32 ret");
    } else {
        u.lines.push_back("o32 ret");
    }
    u.lines.push_back(e + ":");
    return u;
}

// Absolute addresses: MOV AL/AX/EAX moffs (A0-A3), ModRM disp32 and SIB without a base, through
// SCR, the current case's scratch address (emit_asm defines it per case and per build).
Unit UnitMaker::absolute() {
    static const char* const kOps[] = {"mov", "add", "sub", "and", "or", "xor", "cmp"};
    Unit u;
    u.mem = true;
    int bits = rand_bits();
    unsigned sz = unsigned(bits) / 8;
    const char* acc = bits == 8 ? "al" : bits == 16 ? "ax" : "eax";
    unsigned op = chance(60) ? 0 : 1 + rnd(6);
    std::string m, r = reg(bits);
    unsigned kind = rnd(4);
    if (kind == 3) {
        // [SCR + index*scale + disp]: index register set up so the access stays in the scratch.
        static const char* const kIdx[] = {"eax", "ecx", "edx", "ebx", "esi", "edi"};
        unsigned xi = rnd(6), scale = 1u << rnd(4);
        unsigned target = rnd(kScratchBytes - sz + 1);
        unsigned k = rnd(target / scale + 1);
        u.lines.push_back(fmt("mov %s, %u", kIdx[xi], k));
        m = fmt("[SCR+%s*%u+%u]", kIdx[xi], scale, target - k * scale);
        u.cls = fmt("%s%d abs sib", kOps[op], bits);
    } else {
        m = fmt("[SCR+%u]", rnd(kScratchBytes - sz + 1));
        u.cls = fmt("%s%d abs%s", kOps[op], bits, kind == 0 && op == 0 ? " moffs" : "");
        if (kind == 0) r = acc;
    }
    bool store = op != 0 || chance(50);
    if (op == 0 && chance(15)) {
        u.lines.push_back(fmt("mov %s %s, 0x%X", size_kw(bits), m.c_str(), value(bits)));
    } else if (store) {
        u.lines.push_back(fmt("%s %s, %s", kOps[op], m.c_str(), r.c_str()));
    } else {
        u.lines.push_back(fmt("%s %s, %s", kOps[op], r.c_str(), m.c_str()));
    }
    if (op != 0) {
        bool logic = op >= 3 && op <= 5;
        u.def = logic ? kArith & ~kAF : kArith;
        u.undef = logic ? kAF : 0;
    }
    return u;
}

// Segment register loads from DS/ES/SS (the flat data selector on both sides): PUSH/POP sreg,
// MOV sreg from a register and from memory, LDS/LES/LFS/LGS, and FS/GS overrides after a load.
// Selector values differ between the runs, so none is left in a compared register or memory.
Unit UnitMaker::segload() {
    static const char* const kSrc[] = {"ds", "es", "ss"};
    static const char* const kDst[] = {"ds", "es", "fs", "gs", "ss"};
    Unit u;
    const char* src = kSrc[rnd(3)];
    const char* dst = kDst[rnd(5)];
    unsigned ri = rnd(6);
    switch (rnd(5)) {
        case 0:
            u.cls = "push/pop sreg";
            u.lines.push_back(fmt("push %s", src));
            u.lines.push_back(fmt("pop %s", dst));
            break;
        case 1: {
            bool wide = chance(50);
            u.cls = "mov sreg,r";
            u.lines.push_back(fmt("mov %s, %s", wide ? kR32[ri] : kR16[ri], src));
            u.lines.push_back(fmt("mov %s, %s", dst, kR16[ri]));
            u.lines.push_back(fmt("mov %s, 0x%X", kR32[ri], value(32)));
            break;
        }
        case 2: {
            u.cls = "mov sreg,m";
            u.mem = true;
            unsigned d = rnd(kScratchBytes - 2 + 1);
            u.lines.push_back(fmt("mov [ebp+%u], %s", d, src));
            u.lines.push_back(fmt("mov %s, [ebp+%u]", dst, d));
            u.lines.push_back(fmt("mov word [ebp+%u], 0x%X", d, value(16)));
            break;
        }
        case 3: {
            static const char* const kL[] = {"lds", "les", "lfs", "lgs"};
            unsigned l = rnd(4);
            bool wide = chance(60);
            unsigned off = wide ? 4 : 2;
            u.cls = fmt("%s%d", kL[l], wide ? 32 : 16);
            u.mem = true;
            unsigned d = rnd(kScratchBytes - off - 2 + 1);
            u.lines.push_back(fmt("mov [ebp+%u], %s", d + off, src));
            u.lines.push_back(fmt("mov %s [ebp+%u], 0x%X", wide ? "dword" : "word", d, value(wide ? 32 : 16)));
            u.lines.push_back(fmt("%s %s, [ebp+%u]", kL[l], wide ? kR32[ri] : kR16[ri], d));
            u.lines.push_back(fmt("mov word [ebp+%u], 0x%X", d + off, value(16)));
            break;
        }
        default: {
            const char* seg = chance(50) ? "fs" : "gs";
            int bits = rand_bits();
            u.cls = fmt("%s: override", seg);
            u.mem = true;
            u.lines.push_back(fmt("push %s", src));
            u.lines.push_back(fmt("pop %s", seg));
            unsigned d = rnd(kScratchBytes - bits / 8 + 1);
            if (chance(50)) u.lines.push_back(fmt("mov %s, [%s:ebp+%u]", reg(bits).c_str(), seg, d));
            else u.lines.push_back(fmt("mov [%s:ebp+%u], %s", seg, d, reg(bits).c_str()));
            break;
        }
    }
    return u;
}

// Far transfers within the current code segment: RETF (with and without imm16) to a pushed
// CS:EIP, CALL FAR and JMP FAR through a memory pointer (m16:32).
Unit UnitMaker::far() {
    Unit u;
    std::string f = label("ff"), e = label("fe");
    unsigned r = rnd(6);
    unsigned d = rnd(kScratchBytes - 6 + 1);
    switch (rnd(3)) {
        case 0: {
            unsigned nargs = chance(40) ? 1 + rnd(3) : 0;
            u.cls = nargs ? "retf imm" : "retf";
            for (unsigned k = 0; k < nargs; ++k) u.lines.push_back(fmt("push dword 0x%X", value(32)));
            // RETF imm pops CS:EIP, then releases the arguments pushed before them.
            u.lines.push_back("o32 push cs");
            u.lines.push_back(fmt("push dword %s", f.c_str()));
            u.lines.push_back(nargs ? fmt("o32 retf %u", 4 * nargs) : std::string("o32 retf"));
            u.lines.push_back(fmt("mov %s, 0x%X", kR32[r], value(32)));  // skipped
            u.lines.push_back(f + ":");
            break;
        }
        case 1: {
            unsigned nargs = rnd(3);
            u.cls = "call far m";
            u.mem = true;
            for (unsigned k = 0; k < nargs; ++k) u.lines.push_back(fmt("push %s", kR32[rnd(6)]));
            u.lines.push_back(fmt("mov [ebp+%u], cs", d + 4));
            u.lines.push_back(fmt("mov dword [ebp+%u], %s", d, f.c_str()));
            u.lines.push_back(fmt("o32 call far [ebp+%u]", d));
            u.lines.push_back(fmt("mov dword [ebp+%u], 0x%X", d, value(32)));
            u.lines.push_back(fmt("mov word [ebp+%u], 0x%X", d + 4, value(16)));
            u.lines.push_back(fmt("jmp short %s", e.c_str()));
            u.lines.push_back(f + ":");
            if (nargs) u.lines.push_back(fmt("mov %s, [esp+%u]", kR32[r], 8 + 4 * rnd(nargs)));
            u.lines.push_back(nargs ? fmt("o32 retf %u", 4 * nargs) : std::string("o32 retf"));
            u.lines.push_back(e + ":");
            break;
        }
        default:
            u.cls = "jmp far m";
            u.mem = true;
            u.lines.push_back(fmt("mov [ebp+%u], cs", d + 4));
            u.lines.push_back(fmt("mov dword [ebp+%u], %s", d, f.c_str()));
            u.lines.push_back(fmt("o32 jmp far [ebp+%u]", d));
            u.lines.push_back(fmt("mov %s, 0x%X", kR32[r], value(32)));  // skipped
            u.lines.push_back(f + ":");
            u.lines.push_back(fmt("mov dword [ebp+%u], 0x%X", d, value(32)));
            u.lines.push_back(fmt("mov word [ebp+%u], 0x%X", d + 4, value(16)));
            break;
    }
    return u;
}

// ARPL r/m16, r16 (protected mode only: #UD in real mode).
Unit UnitMaker::arpl() {
    Unit u;
    u.def = kZF;
    std::string dst = chance(40) ? mem(u, 16) : reg(16);
    u.cls = u.mem ? "arpl m" : "arpl r";
    u.lines.push_back(fmt("arpl %s, %s", dst.c_str(), reg(16).c_str()));
    return u;
}

// BOUND r, m with the index inside (or on the edge of) the signed bounds.
Unit UnitMaker::bound() {
    Unit u;
    u.mem = true;
    int bits = rand_bits_1632();
    unsigned sz = unsigned(bits) / 8;
    unsigned ri = rnd(6);
    int64_t lo_lim = bits == 16 ? -32768 : INT32_MIN, hi_lim = bits == 16 ? 32767 : INT32_MAX;
    int64_t v = int64_t(int32_t(value(bits) << (32 - bits)) >> (32 - bits));
    auto spread = [&]() -> int64_t { return chance(25) ? 0 : chance(50) ? rnd(16) : rnd(1u << (bits - 2)); };
    int64_t lo = std::max(lo_lim, v - spread()), hi = std::min(hi_lim, v + spread());
    unsigned d = rnd(kScratchBytes - 2 * sz + 1);
    u.cls = fmt("bound%d", bits);
    u.lines.push_back(fmt("mov %s, 0x%X", bits == 16 ? kR16[ri] : kR32[ri], uint32_t(v) & mask_of(bits)));
    u.lines.push_back(fmt("mov %s [ebp+%u], 0x%X", size_kw(bits), d, uint32_t(lo) & mask_of(bits)));
    u.lines.push_back(fmt("mov %s [ebp+%u], 0x%X", size_kw(bits), d + sz, uint32_t(hi) & mask_of(bits)));
    u.lines.push_back(fmt("bound %s, [ebp+%u]", bits == 16 ? kR16[ri] : kR32[ri], d));
    return u;
}

// Opcode 82h: the 32-bit-mode alias of 80h (ALU r/m8, imm8), as raw bytes (nasm never emits it);
// protected mode only, where the bytes mean the same on both sides.
Unit UnitMaker::alias82() {
    static const char* const kOps[] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
    Unit u;
    unsigned op = rnd(8);
    unsigned imm = rnd(256);
    if (chance(50)) {
        unsigned r = rnd(8);
        u.cls = fmt("%s8 r,imm 82", kOps[op]);
        u.lines.push_back(fmt("db 0x82, 0x%02X, 0x%02X", 0xC0 | op << 3 | r, imm));
    } else {
        u.mem = true;
        unsigned d = rnd(kScratchBytes);
        u.cls = fmt("%s8 m,imm 82", kOps[op]);
        u.lines.push_back(fmt("db 0x82, 0x%02X, 0x%02X, 0x%02X", 0x45 | op << 3, d, imm));  // [ebp+d8]
    }
    if (op == 2 || op == 3) u.reads = kCF;
    bool logic = op == 1 || op == 4 || op == 6;
    u.def = logic ? kArith & ~kAF : kArith;
    u.undef = logic ? kAF : 0;
    return u;
}

// PUSH ESP / PUSH SP push the value before the push; POP ESP loads the popped value.
Unit UnitMaker::stackptr() {
    Unit u;
    unsigned ri = rnd(6);
    switch (rnd(3)) {
        case 0:
            u.cls = "push esp";
            u.lines.push_back("push esp");
            u.lines.push_back(fmt("pop %s", kR32[ri]));
            sub_esp(u.lines, kR32[ri], kR32[ri]);
            break;
        case 1:
            u.cls = "push sp";
            u.lines.push_back("push sp");
            u.lines.push_back(fmt("pop %s", kR16[ri]));
            sub_esp(u.lines, kR32[ri], kR16[ri]);
            break;
        default:
            // POP ESP: ESP takes the popped value (the increment is overwritten). The value pushed
            // is ESP+4-8, i.e. after the pop ESP sits 4 bytes below where it started; LEA rebalances.
            u.cls = "pop esp";
            u.lines.push_back("lea esp, [esp-4]");
            u.lines.push_back("push esp");  // value: start-4
            u.lines.push_back("pop esp");   // ESP = start-4
            u.lines.push_back(fmt("mov %s, esp", kR32[ri]));
            u.lines.push_back("lea esp, [esp+4]");
            sub_esp(u.lines, kR32[ri], kR32[ri]);  // start-4 - start = -4
            break;
    }
    return u;
}

// LAR/LSL/VERR/VERW (protected mode only) on the selectors DS/ES/SS/CS hold -- flat 4 GiB
// segments on both sides, only the DPL differs (3 native, 0 in vx86, each equal to its CPL):
// LAR's DPL bits (and its undefined bits 19:16) are cleared, saving ZF first -- and on the null selector and one beyond
// either GDT's limit (ZF=0, destination unchanged).
Unit UnitMaker::selector() {
    static const char* const kSeg[] = {"ds", "es", "ss", "cs"};
    static const char* const kOps[] = {"lar", "lsl", "verr", "verw"};
    Unit u;
    unsigned op = rnd(4);
    unsigned si = rnd(6);
    bool bad = chance(25);
    const char* seg = kSeg[rnd(4)];
    if (bad) u.lines.push_back(fmt("mov %s, 0x%X", kR32[si], chance(50) ? 0u : 0xFFF8u));
    else u.lines.push_back(fmt("mov %s, %s", kR16[si], seg));
    u.cls = fmt("%s%s", kOps[op], bad ? " bad" : "");
    u.def = kZF;
    if (op >= 2) {
        u.lines.push_back(fmt("%s %s", kOps[op], kR16[si]));
    } else {
        int bits = rand_bits_1632();
        unsigned di = rnd(6);
        u.lines.push_back(fmt("%s %s, %s", kOps[op], bits == 16 ? kR16[di] : kR32[di], kR16[si]));
        if (op == 0) {  // LAR: keep ZF in AL/CL/DL/BL (neither operand), then drop the DPL bits
            unsigned zi;
            do zi = rnd(4); while (zi == di || zi == si);
            u.lines.push_back(fmt("setz %s", kR8[zi]));
            // Also bits 19:16 of a 32-bit result: undefined (the SDM's 00FxFF00H mask).
            u.lines.push_back(fmt("and %s, 0x%X", bits == 16 ? kR16[di] : kR32[di],
                                  bits == 16 ? 0x9FFFu : 0xFFF09FFFu));
            u.def = kArith & ~kAF;
            u.undef = kAF;
        }
    }
    if (!bad) u.lines.push_back(fmt("mov %s, 0x%X", kR32[si], value(32)));  // drop the selector
    return u;
}

Unit UnitMaker::setcmov() {
    Unit u;
    unsigned cc = rnd(16);
    u.reads = cc_reads(cc);
    if (chance(50)) {
        u.cls = "setcc";
        u.lines.push_back(fmt("set%s %s", kCc[cc], rm(u, 8).c_str()));
    } else {
        int bits = rand_bits_1632();
        u.cls = fmt("cmovcc%d", bits);
        std::string src = chance(35) ? mem(u, bits, false) : reg(bits);
        u.lines.push_back(fmt("cmov%s %s, %s", kCc[cc], reg(bits).c_str(), src.c_str()));
    }
    return u;
}

// XADD and CMPXCHG; CMPXCHG's accumulator sometimes equals the destination.
Unit UnitMaker::atomic() {
    Unit u;
    u.def = kArith;
    int bits = rand_bits();
    bool cx = chance(50);
    std::string dst = rm(u, bits);
    std::string src = reg(bits);
    bool eq = cx && chance(45);
    if (eq) {
        uint32_t v = value(bits);
        const char* acc = bits == 8 ? "al" : bits == 16 ? "ax" : "eax";
        u.lines.push_back(fmt("mov %s, 0x%X", dst.c_str(), v));
        u.lines.push_back(fmt("mov %s, 0x%X", acc, v));
    }
    if (dst.find('[') != std::string::npos) dst = dst.substr(dst.find(' ') + 1);
    std::string pre = u.mem ? lock() : "";
    u.cls = fmt("%s%s%d %s%s", pre.c_str(), cx ? "cmpxchg" : "xadd", bits, u.mem ? "m,r" : "r,r",
                cx ? (eq ? " eq" : " any") : "");
    u.lines.push_back(fmt("%s%s %s, %s", pre.c_str(), cx ? "cmpxchg" : "xadd", dst.c_str(), src.c_str()));
    return u;
}

// MOVS/STOS/LODS/CMPS/SCAS with and without REP/REPE/REPNE, both directions, inside the scratch.
Unit UnitMaker::string() {
    static const char* const kOps[] = {"movs", "stos", "lods", "cmps", "scas"};
    static const char kSz[] = {'b', 'w', 'd'};
    Unit u;
    u.string = true;
    u.mem = true;
    unsigned op = rnd(5);
    unsigned szi = rnd(3);
    int s = 1 << szi;
    bool cmp = op >= 3;
    unsigned pre = rnd(3);  // 0 none, 1 rep/repe, 2 repne (compare ops) / rep
    const char* prefix = pre == 0 ? "" : (!cmp || pre == 1) ? (cmp ? "repe " : "rep ") : "repne ";
    unsigned n = rnd(9);
    unsigned iters = pre == 0 ? 1 : n;
    auto start = [&](void) {
        unsigned span = iters ? (iters - 1) * s : 0;
        unsigned lo = df_ ? span : 0;
        unsigned hi = df_ ? kScratchBytes - s : kScratchBytes - s - span;
        return lo + rnd(hi - lo + 1);
    };
    u.lines.push_back(fmt("lea esi, [ebp+%u]", start()));
    u.lines.push_back(fmt("lea edi, [ebp+%u]", start()));
    u.lines.push_back(fmt("mov ecx, %u", n));
    u.cls = fmt("%s%s%c %s", prefix, kOps[op], kSz[szi], df_ ? "std" : "cld");
    u.lines.push_back(fmt("a32 %s%s%c", prefix, kOps[op], kSz[szi]));
    if (cmp && iters > 0) u.def = kArith;
    return u;
}

Unit UnitMaker::flagop() {
    static const char* const kOps[] = {"clc", "stc", "cmc", "cld", "std", "lahf", "sahf", "into"};
    Unit u;
    unsigned op = rnd(8);
    u.cls = kOps[op];
    switch (op) {
        case 0: case 1: u.def = kCF; break;
        case 2: u.reads = kCF; u.def = kCF; break;
        case 3: case 4: u.df_set = true; u.df_value = op == 4; break;
        case 5: u.reads = kSF | kZF | kAF | kPF | kCF; break;
        case 6: u.def = kSF | kZF | kAF | kPF | kCF; break;
        default: {  // INTO with OF clear (TEST clears it): no trap
            std::string r = reg(rand_bits());
            u.lines.push_back(fmt("test %s, %s", r.c_str(), r.c_str()));
            u.def = kArith & ~kAF;
            u.undef = kAF;
            break;
        }
    }
    u.lines.push_back(kOps[op]);
    return u;
}

}  // namespace

uint32_t Generator::value(int bits) {
    uint32_t v;
    switch (rnd(8)) {
        case 0: v = 0; break;
        case 1: v = 0xFFFFFFFFu; break;
        case 2: v = rnd(16) | (chance(50) ? 0x80000000u : 0); break;
        case 3: v = uint32_t(rng_()) & 0xFFFF00FFu; v |= 0x7F00u | (chance(50) ? 0x8000u : 0); break;
        default: v = uint32_t(rng_()); break;
    }
    return bits == 32 ? v : v & ((1u << bits) - 1);
}

Case Generator::make_case(unsigned index) {
    Case c;
    c.index = index;
    for (auto& r : c.init_regs) r = value(32);
    c.init_flags = 2;
    uint32_t arith = uint32_t(rng_());
    c.init_flags |= arith & kArith;
    if (chance(35)) c.init_flags |= kDF;
    bool df = c.init_flags & kDF;
    uint32_t undef = 0;
    bool mem = false;
    unsigned nunits = 1 + rnd(4);
    for (unsigned k = 0; k < nunits; ++k) {
        bool last = k + 1 == nunits;
        Unit u;
        for (unsigned tries = 0;; ++tries) {
            UnitMaker m(rng_, df, mode_, k);
            u = m.make(last);
            if (!(u.reads & undef)) break;
        }
        undef = (undef & ~u.def) | u.undef;
        if (u.df_set) df = u.df_value;
        mem |= u.mem;
        c.string_case |= u.string;
        if (u.undef_reg >= 0) c.reg_mask |= uint8_t(1u << u.undef_reg);
        c.classes.push_back(u.cls);
        for (auto& l : u.lines) c.lines.push_back(std::move(l));
    }
    c.flag_mask = undef;
    c.init_scratch = mem;
    if (mem) {
        // String compares find equal runs more often in low-entropy data.
        bool low = c.string_case && chance(50);
        for (auto& b : c.scratch) b = low ? (chance(80) ? 0x41 : 0x00) : uint8_t(rng_());
        if (low) c.init_regs[0] = chance(50) ? 0x41414141u : 0;
    }
    return c;
}

Program Generator::make_program(unsigned ncases) {
    Program p;
    p.cases.reserve(ncases);
    for (unsigned i = 0; i < ncases; ++i) p.cases.push_back(make_case(i));
    return p;
}

std::vector<uint8_t> initial_records(const Program& p) {
    std::vector<uint8_t> img(p.cases.size() * kRecordBytes, 0);
    for (const Case& c : p.cases)
        if (c.init_scratch)
            std::memcpy(img.data() + c.index * kRecordBytes + kHeaderBytes, c.scratch, kScratchBytes);
    return img;
}

std::string emit_asm(const Program& p, Target t, Mode mode) {
    std::string o;
    o.reserve(p.cases.size() * 700);
    const unsigned n = unsigned(p.cases.size());
    auto line = [&](const std::string& s) { o += "    " + s + "\n"; };
    if (t == Target::kNative) {
        o += "bits 32\nsection .data\nalign 16\nrecs:\n";
        std::vector<uint8_t> img = initial_records(p);
        for (size_t i = 0; i < img.size(); i += 32) {
            o += "    db ";
            for (size_t j = i; j < i + 32 && j < img.size(); ++j)
                o += fmt(j == i ? "%u" : ",%u", img[j]);
            o += "\n";
        }
        o += "section .text\nglobal _start\n_start:\n";
        line(fmt("mov ebp, recs+%d", int(kHeaderBytes) - int(kRecordBytes)));
    } else if (mode == Mode::kReal) {
        o += "bits 16\norg 0\n";
        line(fmt("mov ebp, %d", int(kVx86RecordsOffset + kHeaderBytes) - int(kRecordBytes)));
    } else {
        o += fmt("bits 32\norg 0x%X\n", kPmCodeBase);
        line(fmt("mov ebp, 0x%X", kPmRecordsBase + kHeaderBytes - kRecordBytes));
    }
    for (const Case& c : p.cases) {
        // SCR: the case's scratch address, for the absolute-address forms.
        unsigned rel = c.index * kRecordBytes + kHeaderBytes;
        if (t == Target::kNative) o += fmt("%%define SCR (recs+%u)\n", rel);
        else if (mode == Mode::kReal) o += fmt("%%define SCR 0x%X\n", kVx86RecordsOffset + rel);
        else o += fmt("%%define SCR 0x%X\n", kPmRecordsBase + rel);
        o += fmt("case_%u:\n", c.index);
        line(fmt("lea ebp, [ebp+%u]", kRecordBytes));
        for (unsigned r = 0; r < kNumOutRegs; ++r)
            line(fmt("mov %s, 0x%X", kOutRegNames[r], c.init_regs[r]));
        line(fmt("push dword 0x%X", c.init_flags));
        line("popfd");
        for (const auto& l : c.lines) line(l);
        for (unsigned r = 0; r < kNumOutRegs; ++r)
            line(fmt("mov [ebp-%u], %s", kHeaderBytes - 4 * r, kOutRegNames[r]));
        line("pushfd");
        line(fmt("pop dword [ebp-%u]", kHeaderBytes - 4 * kNumOutRegs));
        if (c.string_case) {
            line(fmt("sub [ebp-%u], ebp", kHeaderBytes - 16));
            line(fmt("sub [ebp-%u], ebp", kHeaderBytes - 20));
        }
        line(fmt("mov dword [ebp-4], 0x%X", kMarkerBase + c.index));
    }
    o += emit_program_end(t, n);
    if (t == Target::kVx86) o += emit_case_table(n);
    return o;
}

std::string emit_program_end(Target t, unsigned n) {
    std::string o;
    auto line = [&](const std::string& s) { o += "    " + s + "\n"; };
    if (t == Target::kNative) {
        line("cld");
        line("mov eax, 4");  // write(1, recs, n records)
        line("mov ebx, 1");
        line("mov ecx, recs");
        line(fmt("mov edx, %u", n * kRecordBytes));
        line("int 0x80");
        line(fmt("cmp eax, %u", n * kRecordBytes));
        line("mov ebx, 0");
        line("je .ok");
        line("mov ebx, 3");  // a short write: exit status 3
        o += ".ok:\n";
        line("mov eax, 1");  // exit
        line("int 0x80");
    } else {
        line("hlt");
    }
    return o;
}

std::string emit_case_table(unsigned n) {
    std::string o = "align 4\ncase_table:\n";
    for (unsigned i = 0; i < n; ++i) o += fmt("    dd case_%u\n", i);
    o += "    dd case_table\n";
    o += fmt("    dd %u\n", n);
    o += fmt("    dd 0x%X\n", kTrailerMagic);
    return o;
}

}  // namespace vx86::hostoracle

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

const char* const kOutRegNames[kNumOutRegs] = {"eax", "ecx", "edx", "ebx", "esi", "edi"};

namespace {

const char* const kR8[8] = {"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"};
const char* const kR16[6] = {"ax", "cx", "dx", "bx", "si", "di"};
const char* const kR32[6] = {"eax", "ecx", "edx", "ebx", "esi", "edi"};
const char* const kCc[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                             "s", "ns", "p", "np", "l", "ge", "le", "g"};

std::string fmt(const char* f, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

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

// Builds units; `df` is the direction flag in effect at the unit.
class UnitMaker {
public:
    UnitMaker(std::mt19937& rng, bool df) : rng_(rng), df_(df) {}

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
    Unit string();
    Unit flagop();

    std::mt19937& rng_;
    bool df_;
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
        {3, &UnitMaker::lea},      {5, &UnitMaker::setcmov}, {4, &UnitMaker::atomic},
        {30, &UnitMaker::string},   {3, &UnitMaker::flagop},
    };
    unsigned total = 0;
    for (const auto& e : kTable) total += e.weight;
    for (;;) {
        unsigned pick = rnd(total);
        for (const auto& e : kTable) {
            if (pick < e.weight) {
                if (e.fn == &UnitMaker::string && !last) break;
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
    u.cls = fmt("%s%d %s", kOps[op], bits, u.cls.c_str());
    u.lines.push_back(fmt("%s %s, %s", kOps[op], a.c_str(), b.c_str()));
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
    u.cls = fmt("%s%d", kOps[op], bits);
    u.lines.push_back(fmt("%s %s", kOps[op], a.c_str()));
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
        case 2:
            u.cls = fmt("%s%d m,imm", kOps[op], bits);
            u.lines.push_back(fmt("%s %s, %u", kOps[op], mem(u, bits).c_str(), chance(80) ? rnd(bits) : rnd(256)));
            break;
        default: {
            u.cls = fmt("%s%d m,r", kOps[op], bits);
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
                u.lines.push_back(fmt("%s %s [ebp+%d], %s", kOps[op], size_kw(bits), d,
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
        u.cls = fmt("xchg%d r,m", bits);
        u.lines.push_back(fmt("xchg %s, %s", reg(bits).c_str(), mem(u, bits, false).c_str()));
    } else {
        u.cls = fmt("xchg%d r,r", bits);
        std::string a = chance(30) && bits > 8 ? (bits == 16 ? "ax" : "eax") : reg(bits);
        u.lines.push_back(fmt("xchg %s, %s", a.c_str(), reg(bits).c_str()));
    }
    return u;
}

// LEA with 32-bit and 16-bit addressing (no EBP/ESP: their values differ between the runs).
Unit UnitMaker::lea() {
    Unit u;
    int db = rand_bits_1632();
    std::string addr;
    if (chance(60)) {
        u.cls = fmt("lea%d a32", db);
        std::string parts;
        if (chance(80)) parts = kR32[rnd(6)];
        if (chance(70)) {
            if (!parts.empty()) parts += "+";
            parts += fmt("%s*%u", kR32[rnd(6)], 1u << rnd(4));
        }
        unsigned dk = rnd(3);
        int32_t disp = dk == 0 ? 0 : dk == 1 ? int32_t(int8_t(rnd(256))) : int32_t(rng_());
        if (parts.empty()) parts = fmt("dword 0x%X", uint32_t(disp));  // else nasm picks a16
        else if (disp) parts += fmt("%+d", disp);
        addr = parts;
    } else {
        u.cls = fmt("lea%d a16", db);
        static const char* const kModes[] = {"bx+si", "bx+di", "si", "di", "bx"};
        unsigned dk = rnd(3);
        int disp = dk == 0 ? 0 : dk == 1 ? int(int8_t(rnd(256))) : int(int16_t(rnd(65536)));
        addr = kModes[rnd(5)];
        if (disp) addr += fmt("%+d", disp);
    }
    u.lines.push_back(fmt("lea %s, [%s]", reg(db).c_str(), addr.c_str()));
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
    if (cx && chance(40)) {
        uint32_t v = value(bits);
        const char* acc = bits == 8 ? "al" : bits == 16 ? "ax" : "eax";
        u.lines.push_back(fmt("mov %s, 0x%X", dst.c_str(), v));
        u.lines.push_back(fmt("mov %s, 0x%X", acc, v));
    }
    if (dst.find('[') != std::string::npos) dst = dst.substr(dst.find(' ') + 1);
    u.cls = fmt("%s%d %s", cx ? "cmpxchg" : "xadd", bits, u.mem ? "m,r" : "r,r");
    u.lines.push_back(fmt("%s %s, %s", cx ? "cmpxchg" : "xadd", dst.c_str(), src.c_str()));
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
    static const char* const kOps[] = {"clc", "stc", "cmc", "cld", "std", "lahf", "sahf"};
    Unit u;
    unsigned op = rnd(7);
    u.cls = kOps[op];
    u.lines.push_back(kOps[op]);
    switch (op) {
        case 0: case 1: u.def = kCF; break;
        case 2: u.reads = kCF; u.def = kCF; break;
        case 3: case 4: u.df_set = true; u.df_value = op == 4; break;
        case 5: u.reads = kSF | kZF | kAF | kPF | kCF; break;
        default: u.def = kSF | kZF | kAF | kPF | kCF; break;
    }
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
            UnitMaker m(rng_, df);
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

std::string emit_asm(const Program& p, Target t) {
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
    } else {
        o += "bits 16\norg 0\n";
        line(fmt("mov ebp, %d", int(kVx86RecordsOffset + kHeaderBytes) - int(kRecordBytes)));
    }
    for (const Case& c : p.cases) {
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
    if (t == Target::kNative) {
        line("cld");
        line("mov eax, 4");
        line("mov ebx, 1");
        line("mov ecx, recs");
        line(fmt("mov edx, %u", n * kRecordBytes));
        line("int 0x80");
        line(fmt("cmp eax, %u", n * kRecordBytes));
        line("mov ebx, 0");
        line("je .ok");
        line("mov ebx, 3");
        o += ".ok:\n";
        line("mov eax, 1");
        line("int 0x80");
    } else {
        line("hlt");
        o += "align 2\ncase_table:\n";
        for (unsigned i = 0; i < n; ++i) line(fmt("dw case_%u", i));
        line("dw case_table");
        line(fmt("dw %u", n));
        line(fmt("dw 0x%X", kTrailerMagic));
    }
    return o;
}

}  // namespace vx86::hostoracle

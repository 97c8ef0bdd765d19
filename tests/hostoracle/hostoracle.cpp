// vx86-hostoracle: the host CPU as a second oracle for the interpreter.
//
// Design decisions:
// - Random 32-bit user-mode sequences (generator.h) run once natively, as a static ELF32
//   program, and once in vx86. `--mode pm` (the default) runs vx86 in 32-bit protected mode with
//   flat segments on the very bytes the host runs (`bits 32`); `--mode real` assembles the same
//   text for real mode (`bits 16`: nasm adds the 66h/67h prefixes). Each case leaves a record
//   of EAX..EDI (EBP/ESP are the harness's), EFLAGS and its 64-byte scratch memory; records are
//   compared field by field with the case's undefined flags masked.
// - The host is an AMD EPYC, not the P6 vx86 models: only behaviour both vendors define is
//   compared. The generator, not this file, decides what is defined.
// - A failing case is attributed to every instruction class it contains; the summary also counts
//   cases that hold one class alone ("solo"), which point at the culprit without guesswork, and
//   prefers a solo case as each class's example.
// - Everything is reproducible from the printed seed; programs and their assembly stay in the
//   work directory for inspection.
// - Exit status: 0 all passed, 1 some failed, 2 usage or harness error, 77 skipped (the host
//   cannot run 32-bit x86 programs).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/hostoracle/generator.h"
#include "tests/hostoracle/runners.h"

namespace ho = vx86::hostoracle;

namespace {

struct Options {
    uint32_t seed = 1;
    unsigned cases = 3000;
    unsigned per_program = 0;  // 0: the mode's default
    ho::Mode mode = ho::Mode::kProtected;
    bool verbose = false;
    bool native_only = false;
    bool no_mask = false;  // compare undefined flags too (exploration: shows vendor differences)
    unsigned show = 20;
    ho::Tools tools;
};

struct ClassStats {
    unsigned cases = 0, failed = 0, solo = 0, solo_failed = 0;
    std::string example;
    bool example_solo = false;
};

void usage() {
    std::fprintf(stderr,
                 "usage: vx86-hostoracle --nasm PATH --workdir DIR [--seed N] [--cases N]\n"
                 
                 "       [--mode pm|real] [--per-program N] [--ld PATH] [--show N]\n"
                 "       [--engine interp|jit] [--native-only] [--no-mask] [--verbose]\n");
}

bool parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        const char* v = nullptr;
        if (a == "--verbose") o.verbose = true;
        else if (a == "--native-only") o.native_only = true;
        else if (a == "--no-mask") o.no_mask = true;
        else if ((a == "--seed" || a == "--cases" || a == "--per-program" || a == "--nasm" ||
                  a == "--workdir" || a == "--ld" || a == "--show" || a == "--mode" ||
                  a == "--engine") &&
                 (v = next())) {
            if (a == "--engine") {
                std::string e = v;
                if (e != "interp" && e != "jit") return false;
                o.tools.jit = e == "jit";
            } else if (a == "--mode") {
                std::string m = v;
                if (m == "pm") o.mode = ho::Mode::kProtected;
                else if (m == "real") o.mode = ho::Mode::kReal;
                else return false;
            } else if (a == "--seed") o.seed = uint32_t(std::strtoul(v, nullptr, 0));
            else if (a == "--cases") o.cases = unsigned(std::strtoul(v, nullptr, 0));
            else if (a == "--per-program") o.per_program = unsigned(std::strtoul(v, nullptr, 0));
            else if (a == "--show") o.show = unsigned(std::strtoul(v, nullptr, 0));
            else if (a == "--nasm") o.tools.nasm = v;
            else if (a == "--ld") o.tools.ld = v;
            else o.tools.workdir = v;
        } else {
            return false;
        }
    }
    // Real mode: 64 KiB of code holds a few hundred cases. Protected mode has room for many more;
    // larger programs spread nasm's and ld's start-up cost over more cases.
    const unsigned max_pp = o.mode == ho::Mode::kReal ? 450 : 5000;
    const unsigned def_pp = o.mode == ho::Mode::kReal ? 400 : 1000;
    if (o.per_program == 0 || o.per_program > max_pp) o.per_program = def_pp;
    return !o.tools.nasm.empty() && !o.tools.workdir.empty();
}

uint32_t word(const std::vector<uint8_t>& recs, unsigned k, unsigned w) {
    uint32_t v;
    std::memcpy(&v, recs.data() + k * ho::kRecordBytes + 4 * w, 4);
    return v;
}

std::string flags_str(uint32_t f) {
    static const struct { uint32_t bit; char name; } kBits[] = {
        {ho::kOF, 'O'}, {ho::kDF, 'D'}, {ho::kSF, 'S'}, {ho::kZF, 'Z'},
        {ho::kAF, 'A'}, {ho::kPF, 'P'}, {ho::kCF, 'C'},
    };
    std::string s;
    for (const auto& b : kBits) s += (f & b.bit) ? b.name : '-';
    return s;
}

std::string hexbytes(const uint8_t* p, unsigned n) {
    std::string s;
    char b[4];
    for (unsigned i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02X", p[i]);
        s += b;
        if (i % 4 == 3 && i + 1 < n) s += ' ';
    }
    return s;
}

// Compares one case; returns the list of differences (empty: pass).
std::vector<std::string> compare(const ho::Case& c, const std::vector<uint8_t>& nat,
                                 const std::vector<uint8_t>& vx, const std::string& note) {
    std::vector<std::string> diffs;
    char b[256];
    unsigned k = c.index;
    if (!note.empty()) diffs.push_back(note);
    if (word(vx, k, ho::kMarkerWord) != ho::kMarkerBase + k) {
        if (note.empty()) diffs.push_back("vx86 did not complete the case");
        return diffs;
    }
    for (unsigned r = 0; r < ho::kNumOutRegs; ++r) {
        uint32_t n = word(nat, k, r), v = word(vx, k, r);
        if (n != v && !(c.reg_mask & (1u << r))) {
            std::snprintf(b, sizeof b, "%s%s: native %08X vx86 %08X", ho::kOutRegNames[r],
                          c.string_case && r >= 4 ? "-ebp" : "", n, v);
            diffs.push_back(b);
        }
    }
    uint32_t cmp = ho::kCompareFlags & ~c.flag_mask;
    uint32_t nf = word(nat, k, ho::kNumOutRegs), vf = word(vx, k, ho::kNumOutRegs);
    if ((nf ^ vf) & cmp) {
        std::snprintf(b, sizeof b, "eflags: native %s vx86 %s (differ %s, masked %s)",
                      flags_str(nf).c_str(), flags_str(vf).c_str(),
                      flags_str((nf ^ vf) & cmp).c_str(), flags_str(c.flag_mask).c_str());
        diffs.push_back(b);
    }
    const uint8_t* ns = nat.data() + k * ho::kRecordBytes + ho::kHeaderBytes;
    const uint8_t* vs = vx.data() + k * ho::kRecordBytes + ho::kHeaderBytes;
    for (unsigned i = 0; i < ho::kScratchBytes; i += 4) {
        if (std::memcmp(ns + i, vs + i, 4) != 0) {
            std::snprintf(b, sizeof b, "mem[ebp+%u]: native %s vx86 %s", i,
                          hexbytes(ns + i, 4).c_str(), hexbytes(vs + i, 4).c_str());
            diffs.push_back(b);
        }
    }
    return diffs;
}

// "adc32 r,imm" -> "adc"; "repe cmpsw std" -> "repe cmpsw"; "lock xadd16 m,r" -> "lock xadd";
// "cmpxchg8b eq" -> "cmpxchg8b" (only a mnemonic's trailing operand size is dropped).
std::string family_of(const std::string& cls) {
    std::string first, rest = cls;
    for (;;) {
        size_t sp = rest.find(' ');
        std::string tok = rest.substr(0, sp);
        while (!tok.empty() && tok.back() >= '0' && tok.back() <= '9') tok.pop_back();
        first += first.empty() ? tok : " " + tok;
        bool prefix = tok == "rep" || tok == "repe" || tok == "repne" || tok == "lock";
        if (!prefix || sp == std::string::npos) return first;
        rest = rest.substr(sp + 1);
    }
}

std::string describe_case(const ho::Case& c, unsigned program, const std::vector<uint8_t>& nat,
                          const std::vector<uint8_t>& vx, const std::vector<std::string>& diffs) {
    std::string s;
    char b[256];
    std::snprintf(b, sizeof b, "program %u case %u [", program, c.index);
    s += b;
    for (size_t i = 0; i < c.classes.size(); ++i) s += (i ? ", " : "") + c.classes[i];
    s += "]\n";
    for (const auto& l : c.lines) s += "      " + l + "\n";
    s += "    in: ";
    for (unsigned r = 0; r < ho::kNumOutRegs; ++r) {
        std::snprintf(b, sizeof b, "%s=%08X ", ho::kOutRegNames[r], c.init_regs[r]);
        s += b;
    }
    s += "flags=" + flags_str(c.init_flags) + "\n";
    if (c.init_scratch) s += "    mem: " + hexbytes(c.scratch, ho::kScratchBytes) + "\n";
    for (int side = 0; side < 2; ++side) {
        const auto& recs = side == 0 ? nat : vx;
        s += side == 0 ? "    native: " : "    vx86:   ";
        for (unsigned r = 0; r < ho::kNumOutRegs; ++r) {
            std::snprintf(b, sizeof b, "%s=%08X ", ho::kOutRegNames[r], word(recs, c.index, r));
            s += b;
        }
        s += "flags=" + flags_str(word(recs, c.index, ho::kNumOutRegs)) + "\n";
    }
    s += "    mask: " + flags_str(c.flag_mask);
    for (unsigned r = 0; r < ho::kNumOutRegs; ++r)
        if (c.reg_mask & (1u << r)) s += std::string(" ") + ho::kOutRegNames[r];
    s += "\n";
    for (const auto& d : diffs) s += "    !! " + d + "\n";
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) {
        usage();
        return 2;
    }
    std::error_code ec;
    std::filesystem::create_directories(o.tools.workdir, ec);
    std::string why = ho::probe_host(o.tools);
    if (!why.empty()) {
        std::printf("SKIP: host cannot run 32-bit x86 programs (%s)\n", why.c_str());
        return 77;
    }
    const bool pm = o.mode == ho::Mode::kProtected;
    std::printf("vx86-hostoracle: seed %u, %u cases in programs of %u, vx86 in %s%s\n", o.seed,
                o.cases, o.per_program, pm ? "protected mode" : "real mode",
                o.native_only ? " (native only)" : "");

    ho::Generator gen(o.seed, o.mode);
    std::map<std::string, ClassStats> stats;
    unsigned passed = 0, failed = 0, shown = 0;
    unsigned nprog = (o.cases + o.per_program - 1) / o.per_program;
    for (unsigned p = 0; p < nprog; ++p) {
        unsigned n = std::min(o.per_program, o.cases - p * o.per_program);
        ho::Program prog = gen.make_program(n);
        std::string stem = o.tools.workdir + "/prog" + std::to_string(p);
        ho::RunResult nat = ho::run_native(o.tools, ho::emit_asm(prog, ho::Target::kNative, o.mode), stem, n);
        if (!nat.ok) {
            std::printf("ERROR: program %u native run failed: %s\n", p, nat.error.c_str());
            return 2;
        }
        ho::RunResult vx = ho::run_vx86(o.tools, ho::emit_asm(prog, ho::Target::kVx86, o.mode),
                                        stem + "_vx86", ho::initial_records(prog), o.mode,
                                        o.native_only);
        if (!vx.ok) {
            std::printf("ERROR: program %u vx86 run failed: %s\n", p, vx.error.c_str());
            return 2;
        }
        if (o.native_only) vx = nat;  // the vx86 flavour was only assembled and checked
        for (ho::Case& c : prog.cases) {
            if (word(nat.records, c.index, ho::kMarkerWord) != ho::kMarkerBase + c.index) {
                std::printf("ERROR: program %u case %u: native record incomplete\n", p, c.index);
                return 2;
            }
            if (o.no_mask) c.flag_mask = 0, c.reg_mask = 0;
            auto diffs = compare(c, nat.records, vx.records, vx.notes[c.index]);
            bool ok = diffs.empty();
            ok ? ++passed : ++failed;
            std::set<std::string> classes(c.classes.begin(), c.classes.end());
            bool solo = classes.size() == 1;
            for (const auto& cl : classes) {
                ClassStats& st = stats[cl];
                ++st.cases;
                st.solo += solo;
                if (!ok) {
                    ++st.failed;
                    st.solo_failed += solo;
                    if (st.example.empty() || (solo && !st.example_solo)) {
                        st.example = describe_case(c, p, nat.records, vx.records, diffs);
                        st.example_solo = solo;
                    }
                }
            }
            if ((!ok && shown < o.show) || o.verbose) {
                if (!ok) ++shown;
                std::printf("%s %s", ok ? "PASS" : "FAIL",
                            describe_case(c, p, nat.records, vx.records, diffs).c_str());
            }
        }
    }

    // Families (mnemonic without size and form) first, then every failing class in detail.
    std::map<std::string, ClassStats> families;
    for (const auto& [name, st] : stats) {
        ClassStats& f = families[family_of(name)];
        f.cases += st.cases;
        f.failed += st.failed;
        f.solo += st.solo;
        f.solo_failed += st.solo_failed;
    }
    auto table = [](const char* title, const std::map<std::string, ClassStats>& m, bool only_failed) {
        std::printf("\n%-28s %7s %7s %7s %7s\n", title, "cases", "failed", "solo", "solo-f");
        for (const auto& [name, st] : m) {
            if (only_failed && !st.failed) continue;
            std::printf("%-28s %7u %7u %7u %7u%s\n", name.c_str(), st.cases, st.failed, st.solo,
                        st.solo_failed, st.failed ? "  <--" : "");
        }
    };
    table("family", families, false);
    if (failed) table("failing class", stats, true);
    bool any_examples = false;
    for (const auto& [name, st] : stats) {
        if (!st.failed) continue;
        if (!any_examples) std::printf("\nOne example per failing class:\n");
        any_examples = true;
        std::printf("== %s%s\n%s", name.c_str(), st.example_solo ? "" : " (mixed case)",
                    st.example.c_str());
    }
    std::printf("\nseed %u, %s\n%u passed, %u failed\n", o.seed, pm ? "protected mode" : "real mode",
                passed, failed);
    return failed ? 1 : 0;
}

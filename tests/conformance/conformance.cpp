// vx86-conformance: runs the hardware-captured SingleStepTests vectors (../shared/conformance)
// against the interpreter, one instruction per test.
//
// Design decisions:
// - The vectors are read in place: each XX[.N].json.gz is gunzipped in memory with zlib and
//   parsed once (json.h, bus-cycle traces skipped) into compact TestCase records; the JSON tree
//   is dropped before any test runs.
// - Files are the unit of work. N worker threads take the next file from an atomic counter;
//   each worker owns one Machine (RAM, I/O bus, Cpu) reused for every test, so there is no
//   shared mutable state between threads and nothing global at all. A test rewrites only the
//   RAM bytes it names and sets them back to zero afterwards, so a test cannot leak into the
//   next one (writes go through PhysMemory, which tells the CPU's code cache).
// - Expected state = initial registers overlaid with final.regs; expected memory = initial.ram
//   overlaid with final.ram (the 286 set lists only changed bytes, so unlisted initial bytes
//   must be unchanged). Undefined flags are masked with metadata.json's flags-mask on both sides,
//   in FLAGS and in the FLAGS image an exception pushed (286 `exception.flag_address`).
// - Failures are reported so that the first look is enough: for each failing file the first
//   failing test with its bytes, initial registers and every differing register or byte; every
//   failing index, split into listed / NOT listed in the expected-failures file; and at the end
//   the worst files and the most common kinds of difference (e.g. `flags.a`, `sp`, `ram`).
// - Results are printed in file order as soon as all earlier files are done, so output is
//   deterministic whatever --jobs is.
// - Exit status is meson's: 0 pass, 1 fail, 77 skip (vectors absent; a failure under CI=true).
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <zlib.h>

#include "cpu/cpu.h"
#include "jit/jit.h"
#include "tests/conformance/json.h"

namespace fs = std::filesystem;
using namespace vx86;
using conformance::JsonValue;

namespace {

// ---------------------------------------------------------------------------------------------
// Options and per-set configuration

struct Options {
    std::string set;  // "8086" or "80286"
    std::string dir;
    std::vector<std::string> only;
    double threshold = 0.0;
    std::string expected_file;
    std::string emit_file;
    bool verbose = false;
    unsigned jobs = 0;
    bool jit = false;  // --engine jit: each instruction translated by the JIT (one-instruction blocks)
};

struct SetConfig {
    cpu::CpuModel model;
    uint32_t ram_bytes;
    bool a20;
    bool run_to_hlt;        // 286: the instruction is followed by HLT; run until it executes
    uint16_t flags_load_mask;  // 286: IOPL/NT cannot be set in real mode
};

SetConfig config_for(const std::string& set) {
    if (set == "8086") return {cpu::CpuModel::k8086, 1u << 20, false, false, 0xFFFF};
    return {cpu::CpuModel::k286, 16u << 20, true, true, 0x0FFF};
}

// Register slots: the 8 general registers in encoding order, the 4 real-mode segments in
// SegReg order, then IP and FLAGS.
constexpr int kNumRegs = 14, kSp = 4, kCs = 9, kSs = 10, kIp = 12, kFlags = 13;
constexpr const char* kRegNames[kNumRegs] = {"ax", "cx", "dx", "bx", "sp", "bp", "si",
                                             "di", "es", "cs", "ss", "ds", "ip", "flags"};

// ---------------------------------------------------------------------------------------------
// Test records

struct TestCase {
    std::string name;
    std::string hash;
    std::vector<uint8_t> bytes;
    uint16_t init[kNumRegs];
    uint16_t expect[kNumRegs];
    std::vector<std::pair<uint32_t, uint8_t>> init_ram;
    std::vector<std::pair<uint32_t, uint8_t>> final_ram;
    int exception = -1;  // 286: vector taken, or -1
    bool flag_image = false;  // a pushed FLAGS image is compared under the mask at:
    uint32_t flag_lo = 0, flag_hi = 0;  // its two byte addresses
};

bool read_gz(const fs::path& path, std::string& out, std::string& err) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) {
        err = "cannot open " + path.string();
        return false;
    }
    gzbuffer(f, 1 << 17);
    out.clear();
    char buf[1 << 16];
    for (;;) {
        int n = gzread(f, buf, sizeof buf);
        if (n < 0) {
            int code;
            err = std::string("gunzip failed: ") + gzerror(f, &code);
            gzclose(f);
            return false;
        }
        if (n == 0) break;
        out.append(buf, size_t(n));
    }
    gzclose(f);
    return true;
}

bool read_text(const fs::path& path, std::string& out) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    return true;
}

bool get_regs(const JsonValue* regs, uint16_t* dst, bool require_all, std::string& err) {
    if (!regs || !regs->is_object()) {
        err = "missing regs object";
        return false;
    }
    for (int r = 0; r < kNumRegs; ++r) {
        const JsonValue* v = regs->find(kRegNames[r]);
        if (v && v->is_int()) dst[r] = uint16_t(v->num);
        else if (require_all) {
            err = std::string("missing register ") + kRegNames[r];
            return false;
        }
    }
    return true;
}

bool get_ram(const JsonValue* ram, std::vector<std::pair<uint32_t, uint8_t>>& dst,
             std::string& err) {
    if (!ram) return true;
    if (!ram->is_array()) {
        err = "ram is not an array";
        return false;
    }
    for (const JsonValue& e : ram->items) {
        if (!e.is_array() || e.size() != 2 || !e[0].is_int() || !e[1].is_int()) {
            err = "bad ram entry";
            return false;
        }
        dst.emplace_back(uint32_t(e[0].num), uint8_t(e[1].num));
    }
    return true;
}

bool convert_test(const JsonValue& t, TestCase& tc, std::string& err) {
    if (!t.is_object()) {
        err = "test is not an object";
        return false;
    }
    if (const JsonValue* v = t.find("name"); v && v->is_string()) tc.name = v->str;
    if (const JsonValue* v = t.find("hash"); v && v->is_string()) tc.hash = v->str;
    else if (const JsonValue* v2 = t.find("test_hash"); v2 && v2->is_string()) tc.hash = v2->str;
    if (const JsonValue* v = t.find("bytes"); v && v->is_array())
        for (const JsonValue& b : v->items) tc.bytes.push_back(uint8_t(b.num));
    const JsonValue* init = t.find("initial");
    const JsonValue* fin = t.find("final");
    if (!init || !fin) {
        err = "missing initial or final";
        return false;
    }
    if (!get_regs(init->find("regs"), tc.init, true, err)) return false;
    std::memcpy(tc.expect, tc.init, sizeof tc.init);
    if (!get_regs(fin->find("regs"), tc.expect, false, err)) return false;
    if (!get_ram(init->find("ram"), tc.init_ram, err)) return false;
    if (!get_ram(fin->find("ram"), tc.final_ram, err)) return false;
    if (const JsonValue* ex = t.find("exception"); ex && ex->is_object()) {
        const JsonValue* n = ex->find("number");
        const JsonValue* a = ex->find("flag_address");
        if (n && n->is_int()) tc.exception = int(n->num);
        if (a && a->is_int()) {
            // flag_address is the bus address of the push, rounded down to even: with an odd SP
            // the image really starts one byte higher. The frame's FLAGS sit at SS:SP+4.
            auto fa = uint32_t(a->num);
            uint32_t ss = uint32_t(tc.expect[kSs]) << 4;
            uint32_t lo = ss + uint16_t(tc.expect[kSp] + 4), hi = ss + uint16_t(tc.expect[kSp] + 5);
            tc.flag_image = true;
            tc.flag_lo = lo == fa || lo == fa + 1 ? lo : fa;
            tc.flag_hi = lo == fa || lo == fa + 1 ? hi : fa + 1;
        }
    }
    return true;
}

// The 8086 records do not mark exceptions, but a divide error (the only one the set can raise)
// ends at the handler entry 0000:0400 with IP, CS, FLAGS pushed: the FLAGS image, which holds
// the undefined flags of DIV/IDIV/AAM, sits at SS:SP+4 of the final state.
void derive_8086_flag_image(TestCase& tc) {
    if (tc.flag_image || tc.expect[kCs] != 0 || tc.expect[kIp] != 0x400) return;
    if (uint16_t(tc.init[kSp] - 6) != tc.expect[kSp]) return;
    tc.flag_image = true;
    uint32_t ss = uint32_t(tc.expect[kSs]) << 4;
    tc.flag_lo = (ss + uint16_t(tc.expect[kSp] + 4)) & 0xFFFFF;
    tc.flag_hi = (ss + uint16_t(tc.expect[kSp] + 5)) & 0xFFFFF;
}

bool load_tests(const fs::path& path, std::vector<TestCase>& tests, std::string& err) {
    std::string text;
    if (!read_gz(path, text, err)) return false;
    JsonValue doc;
    if (!conformance::parse_json(text, doc, err, {"cycles", "queue"})) return false;
    if (!doc.is_array()) {
        err = "top level is not an array";
        return false;
    }
    tests.resize(doc.size());
    for (size_t i = 0; i < doc.size(); ++i) {
        if (!convert_test(doc[i], tests[i], err)) {
            err = "test " + std::to_string(i) + ": " + err;
            return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Metadata (flag masks), revocations, expected failures

// Maps a file stem ("80.1", "F8") to its undefined-flags mask.
uint16_t flags_mask_for(const JsonValue& meta, const std::string& stem) {
    const JsonValue* ops = meta.find("opcodes");
    if (!ops) return 0xFFFF;
    size_t dot = stem.find('.');
    const JsonValue* op = ops->find(stem.substr(0, dot));
    if (!op) return 0xFFFF;
    if (dot != std::string::npos) {
        const JsonValue* reg = op->find("reg");
        const JsonValue* r = reg ? reg->find(stem.substr(dot + 1)) : nullptr;
        if (const JsonValue* m = r ? r->find("flags-mask") : nullptr; m && m->is_int())
            return uint16_t(m->num);
    }
    if (const JsonValue* m = op->find("flags-mask"); m && m->is_int()) return uint16_t(m->num);
    return 0xFFFF;
}

std::string normalize_file(std::string f) {
    if (f.size() < 8 || f.compare(f.size() - 8, 8, ".json.gz") != 0) f += ".json.gz";
    return f;
}

struct ExpectedEntry {
    std::string file;
    int idx;  // -1: every test of the file
    std::string reason;
    int line;
};

struct Expected {
    std::vector<ExpectedEntry> entries;  // this set only
    std::map<std::pair<std::string, int>, size_t> index;

    const ExpectedEntry* lookup(const std::string& file, int idx) const {
        auto it = index.find({file, idx});
        if (it == index.end()) it = index.find({file, -1});
        return it == index.end() ? nullptr : &entries[it->second];
    }
};

bool load_expected(const std::string& path, const std::string& set, Expected& ex) {
    std::string text;
    if (!read_text(path, text)) return false;
    size_t pos = 0;
    int line_no = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        std::string line = text.substr(pos, eol - pos);
        pos = eol + 1;
        ++line_no;
        if (size_t h = line.find('#'); h != std::string::npos) line.resize(h);
        std::replace(line.begin(), line.end(), '\r', ' ');
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
        char s[32], f[128];
        int consumed = 0;
        if (std::sscanf(line.c_str(), " %31s %127s %n", s, f, &consumed) < 2) continue;
        std::string rest = line.substr(size_t(consumed));
        size_t sp = rest.find_first_of(" \t");
        std::string idx_s = rest.substr(0, sp);
        size_t rb = rest.find_first_not_of(" \t", sp == std::string::npos ? rest.size() : sp);
        std::string reason = rb == std::string::npos ? "" : rest.substr(rb);
        if (set != s) continue;
        int idx = -1;
        if (idx_s != "*") {
            char* end = nullptr;
            long v = std::strtol(idx_s.c_str(), &end, 10);
            if (idx_s.empty() || *end) {
                std::printf("warning: %s:%d: bad index '%s' (want a number or *)\n", path.c_str(),
                            line_no, idx_s.c_str());
                continue;
            }
            idx = int(v);
        }
        ExpectedEntry e{normalize_file(f), idx, reason, line_no};
        ex.index[{e.file, e.idx}] = ex.entries.size();
        ex.entries.push_back(std::move(e));
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Running one test

struct Machine {
    mmu::PhysMemory mem;
    devices::IoBus io;
    cpu::Cpu cpu;
    explicit Machine(const SetConfig& c) : mem(c.ram_bytes), io(), cpu(c.model, mem, io) {
        mem.set_a20(c.a20);
    }
};

struct Diff {
    std::string what;   // "ax", "flags", "ram[0x12345]", "halt", ...
    std::string klass;  // aggregation key: "ax", "flags.c", "ram", ...
    uint32_t expected = 0, got = 0;
    uint32_t mask = 0;  // flags / flag image: the mask applied (0: none)
    std::string note;
};

std::string flag_letters(uint32_t bits) {
    static constexpr const char* kNames[16] = {"c", "1", "p", "3", "a", "5", "z", "s",
                                               "t", "i", "d", "o", "iopl", "iopl", "nt", "15"};
    std::string s;
    for (int b = 0; b < 16; ++b) {
        if (!(bits >> b & 1) || (b == 13 && (bits >> 12 & 1))) continue;
        if (!s.empty()) s += ',';
        s += kNames[b];
    }
    return s;
}

// One record for the whole FLAGS word; its class lists every differing flag ("flags.c flags.o")
// so the summary counts each flag separately.
void add_flag_diffs(std::vector<Diff>& diffs, const char* what, uint16_t exp, uint16_t got,
                    uint16_t mask) {
    uint16_t d = uint16_t((exp ^ got) & mask);
    if (!d) return;
    std::string klass;
    for (int b = 0; b < 16; ++b)
        if (d >> b & 1) klass += (klass.empty() ? "" : " ") + std::string(what) + "." + flag_letters(1u << b);
    diffs.push_back({what, klass, exp, got, mask, "differ: " + flag_letters(d)});
}

// Runs `tc` on `m`; returns the differences (empty = pass).
std::vector<Diff> run_test(Machine& m, const SetConfig& cfg, const TestCase& tc, uint16_t mask,
                           int& got_exception) {
    cpu::Cpu& c = m.cpu;
    std::vector<Diff> diffs;
    c.reset();
    for (auto [a, b] : tc.init_ram) m.mem.write8(a, b);
    for (int r = 0; r < 8; ++r) c.set_r16(unsigned(r), tc.init[r]);
    for (int sreg = 0; sreg < 4; ++sreg) c.load_seg_real(unsigned(sreg), tc.init[8 + sreg]);
    c.s.eip = tc.init[kIp];
    c.set_eflags(tc.init[kFlags] & cfg.flags_load_mask);

    try {
        if (!cfg.run_to_hlt) {
            cpu::Exit e = c.step();
            if (e == cpu::Exit::kShutdown) diffs.push_back({"shutdown", "shutdown", 0, 1, 0, "triple fault"});
        } else {
            bool halted = false;
            for (int k = 0; k < 64 && !halted; ++k) {
                cpu::Exit e = c.run(1);
                if (e == cpu::Exit::kHalted || c.s.halted) halted = true;
                else if (e == cpu::Exit::kShutdown) {
                    diffs.push_back({"shutdown", "shutdown", 0, 1, 0, "triple fault"});
                    break;
                }
            }
            if (!halted && diffs.empty())
                diffs.push_back({"halt", "no-hlt", 1, 0, 0, "HLT not reached within 64 instructions"});
        }
    } catch (const std::exception& e) {
        diffs.push_back({"c++ exception", "c++-exception", 0, 0, 0, e.what()});
    }
    got_exception = c.last_exception();

    for (int r = 0; r < kNumRegs; ++r) {
        uint16_t got;
        if (r < 8) got = c.r16(unsigned(r));
        else if (r < 12) got = c.s.seg[r - 8].sel;
        else if (r == kIp) got = uint16_t(c.s.eip);
        else got = uint16_t(c.eflags() & 0xFFFF);
        uint16_t exp = tc.expect[r];
        if (r == kFlags) {
            exp &= cfg.flags_load_mask;  // 286: the hardware never shows IOPL/NT in real mode
            add_flag_diffs(diffs, "flags", exp, got, mask);
        } else if (got != exp) {
            diffs.push_back({kRegNames[r], kRegNames[r], exp, got, 0, ""});
        }
    }

    // Expected memory: initial overlaid with final.
    std::vector<std::pair<uint32_t, uint8_t>> want = tc.init_ram;
    for (auto [a, b] : tc.final_ram) {
        auto it = std::find_if(want.begin(), want.end(), [a = a](auto& p) { return p.first == a; });
        if (it != want.end()) it->second = b;
        else want.emplace_back(a, b);
    }
    for (auto [a, b] : want) {
        uint8_t got = m.mem.read8(a);
        uint8_t bmask = 0xFF;
        const char* note = "";
        if (tc.flag_image && a == tc.flag_lo) bmask = uint8_t(mask), note = "pushed FLAGS low";
        if (tc.flag_image && a == tc.flag_hi) bmask = uint8_t(mask >> 8), note = "pushed FLAGS high";
        if ((got ^ b) & bmask) {
            char what[32];
            std::snprintf(what, sizeof what, "ram[0x%05X]", a);
            diffs.push_back({what, bmask == 0xFF ? "ram" : "ram.flags-image", b, got,
                             bmask == 0xFF ? 0u : bmask, note});
        }
    }
    for (auto [a, b] : want) m.mem.write8(a, 0);
    return diffs;
}

// ---------------------------------------------------------------------------------------------
// Per-file work and reporting

enum class Status : uint8_t { kPass, kFail, kSkip };

struct FileResult {
    std::string file;
    std::string error;  // could not load
    std::vector<Status> status;
    std::vector<std::string> reasons;  // per failing test: short summary (for --emit-failures)
    std::string first_failure;         // formatted details
    std::map<std::string, int> classes;  // difference class -> failing tests showing it
    int passed = 0, failed = 0, skipped = 0, unlisted = 0;
    std::vector<std::string> skip_notes;
};

std::string hex_bytes(const std::vector<uint8_t>& v) {
    std::string s;
    char b[4];
    for (uint8_t x : v) {
        std::snprintf(b, sizeof b, "%02X ", x);
        s += b;
    }
    if (!s.empty()) s.pop_back();
    return s;
}

std::string format_failure(const Options& o, const std::string& file, size_t idx, const TestCase& tc,
                           const std::vector<Diff>& diffs, int got_exc, const ExpectedEntry* listed) {
    std::string out;
    char buf[256];
    std::snprintf(buf, sizeof buf, "  first failure: %s %s #%zu \"%s\"  bytes: %s\n", o.set.c_str(),
                  file.c_str(), idx, tc.name.c_str(), hex_bytes(tc.bytes).c_str());
    out += buf;
    out += "    initial:";
    for (int r = 0; r < kNumRegs; ++r) {
        std::snprintf(buf, sizeof buf, " %s=%04X", kRegNames[r], tc.init[r]);
        out += buf;
    }
    out += "\n";
    for (const Diff& d : diffs) {
        if (d.what.rfind("ram", 0) == 0)
            std::snprintf(buf, sizeof buf, "    %-13s expected %02X got %02X", d.what.c_str(), d.expected, d.got);
        else
            std::snprintf(buf, sizeof buf, "    %-13s expected %04X got %04X", d.what.c_str(), d.expected, d.got);
        out += buf;
        if (d.mask) {
            std::snprintf(buf, sizeof buf, " (mask %04X)", d.mask);
            out += buf;
        }
        if (!d.note.empty()) out += " " + d.note;
        out += "\n";
    }
    if (tc.exception >= 0) {
        std::snprintf(buf, sizeof buf, "    (exception: expected vector %d, cpu.last_exception() %d)\n",
                      tc.exception, got_exc);
        out += buf;
    } else if (got_exc >= 0) {
        std::snprintf(buf, sizeof buf, "    (cpu.last_exception() %d)\n", got_exc);
        out += buf;
    }
    if (listed)
        out += "    listed in expected failures (line " + std::to_string(listed->line) + "): " + listed->reason + "\n";
    else
        out += "    NOT listed in expected failures\n";
    return out;
}

std::string summarize(const std::vector<Diff>& diffs, const TestCase& tc) {
    std::vector<std::string> classes;
    for (const Diff& d : diffs)
        if (std::find(classes.begin(), classes.end(), d.klass) == classes.end()) classes.push_back(d.klass);
    std::string s;
    for (const std::string& c : classes) s += (s.empty() ? "" : ",") + c;
    std::replace(s.begin(), s.end(), ' ', ',');
    return s + " (" + tc.name + ")";
}

// Compresses sorted indices into "0-3 7 9-12".
std::string ranges(const std::vector<size_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size();) {
        size_t j = i;
        while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
        s += (s.empty() ? "" : " ") + std::to_string(v[i]);
        if (j > i) s += "-" + std::to_string(v[j]);
        i = j + 1;
    }
    return s;
}

struct Shared {
    const Options& opt;
    SetConfig cfg;
    fs::path set_dir;
    std::vector<std::string> files;
    JsonValue meta;
    std::unordered_set<std::string> revoked;
    Expected expected;
    std::atomic<size_t> next{0};
    std::vector<FileResult> results;
    std::vector<uint8_t> done;
    size_t printed = 0;
    std::mutex mu;

    Shared(const Options& o, SetConfig c, fs::path d) : opt(o), cfg(c), set_dir(std::move(d)) {}
};

void print_file(const Shared& sh, const FileResult& r) {
    std::string out;
    char buf[160];
    if (!r.error.empty()) {
        std::snprintf(buf, sizeof buf, "%s/%s  ERROR: ", sh.opt.set.c_str(), r.file.c_str());
        std::printf("%s%s\n", buf, r.error.c_str());
        return;
    }
    int run = r.passed + r.failed;
    std::snprintf(buf, sizeof buf, "%s/%s  %d/%d", sh.opt.set.c_str(), r.file.c_str(), r.passed, run);
    out += buf;
    if (r.skipped) out += "  (" + std::to_string(r.skipped) + " skipped)";
    if (r.failed)
        out += "  FAIL: " + std::to_string(r.failed - r.unlisted) + " listed, " +
               std::to_string(r.unlisted) + " NOT listed";
    out += "\n";
    for (const std::string& n : r.skip_notes) out += "  skipped " + n + "\n";
    if (r.failed) {
        std::vector<size_t> listed, unlisted;
        for (size_t i = 0; i < r.status.size(); ++i)
            if (r.status[i] == Status::kFail)
                (sh.expected.lookup(r.file, int(i)) ? listed : unlisted).push_back(i);
        if (!unlisted.empty()) out += "  failing, NOT listed: " + ranges(unlisted) + "\n";
        if (!listed.empty()) out += "  failing, listed: " + ranges(listed) + "\n";
        out += r.first_failure;
    }
    std::fputs(out.c_str(), stdout);
}

void process_file(Shared& sh, Machine& m, size_t fi) {
    FileResult& r = sh.results[fi];
    r.file = sh.files[fi];
    std::vector<TestCase> tests;
    if (sh.opt.verbose) std::fprintf(stderr, "[%s/%s]\n", sh.opt.set.c_str(), r.file.c_str());
    if (!load_tests(sh.set_dir / r.file, tests, r.error)) return;
    std::string stem = r.file.substr(0, r.file.size() - 8);
    uint16_t mask = flags_mask_for(sh.meta, stem);
    if (!sh.cfg.run_to_hlt)
        for (TestCase& tc : tests) derive_8086_flag_image(tc);
    r.status.assign(tests.size(), Status::kPass);
    r.reasons.resize(tests.size());
    for (size_t i = 0; i < tests.size(); ++i) {
        const TestCase& tc = tests[i];
        if (!tc.hash.empty() && sh.revoked.count(tc.hash)) {
            r.status[i] = Status::kSkip;
            ++r.skipped;
            r.skip_notes.push_back("#" + std::to_string(i) + ": hash " + tc.hash + " is in revocation_list.txt");
            continue;
        }
        int got_exc = -1;
        std::vector<Diff> diffs = run_test(m, sh.cfg, tc, mask, got_exc);
        if (diffs.empty()) {
            ++r.passed;
            continue;
        }
        r.status[i] = Status::kFail;
        ++r.failed;
        const ExpectedEntry* listed = sh.expected.lookup(r.file, int(i));
        if (!listed) ++r.unlisted;
        std::set<std::string> seen;
        for (const Diff& d : diffs)
            for (size_t p = 0; p < d.klass.size();) {
                size_t e = std::min(d.klass.find(' ', p), d.klass.size());
                if (std::string k = d.klass.substr(p, e - p); seen.insert(k).second) ++r.classes[k];
                p = e + 1;
            }
        r.reasons[i] = summarize(diffs, tc);
        if (r.first_failure.empty() || sh.opt.verbose)
            r.first_failure += format_failure(sh.opt, r.file, i, tc, diffs, got_exc, listed);
    }
}

void worker(Shared& sh) {
    auto m = std::make_unique<Machine>(sh.cfg);
    if (sh.opt.jit) {
        // Every instruction its own block, so that each vector's single instruction runs as
        // translated code rather than being cut short into the interpreter.
        if (!jit::set_engine(m->cpu, cpu::Engine::kJit)) {
            std::fprintf(stderr, "conformance: the JIT is not available on this host\n");
            std::exit(77);
        }
        m->cpu.set_block_limit(1);
    }
    for (;;) {
        size_t fi = sh.next.fetch_add(1);
        if (fi >= sh.files.size()) break;
        process_file(sh, *m, fi);
        std::lock_guard<std::mutex> lock(sh.mu);
        sh.done[fi] = 1;
        while (sh.printed < sh.files.size() && sh.done[sh.printed]) print_file(sh, sh.results[sh.printed++]);
        std::fflush(stdout);
    }
}

[[noreturn]] void usage(const char* msg) {
    if (msg) std::fprintf(stderr, "vx86-conformance: %s\n", msg);
    std::fprintf(stderr,
                 "usage: vx86-conformance --set 8086|80286 --dir DIR [--only XX.json.gz,...]\n"
                 "       [--threshold PCT] [--expected-failures FILE] [--emit-failures FILE]\n"
                 "       [--verbose] [--jobs N]\n"
                 "DIR holds 8086/ and 80286/ (or is the set directory itself); $VX86_CONFORMANCE\n"
                 "overrides it. --emit-failures appends every failing test to FILE in the\n"
                 "expected-failures format. --verbose details every failing test, not just the first.\n");
    std::exit(2);
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value for " + a).c_str());
            return argv[++i];
        };
        if (a == "--set") o.set = val();
        else if (a == "--dir") o.dir = val();
        else if (a == "--only") {
            std::string v = val();
            for (size_t p = 0; p <= v.size();) {
                size_t c = v.find(',', p);
                if (c == std::string::npos) c = v.size();
                if (c > p) o.only.push_back(normalize_file(v.substr(p, c - p)));
                p = c + 1;
            }
        } else if (a == "--threshold") o.threshold = std::atof(val().c_str());
        else if (a == "--expected-failures") o.expected_file = val();
        else if (a == "--emit-failures") o.emit_file = val();
        else if (a == "--verbose" || a == "-v") o.verbose = true;
        else if (a == "--engine") {
            std::string e = val();
            if (e != "interp" && e != "jit") usage("--engine must be interp or jit");
            o.jit = e == "jit";
        }
        else if (a == "--jobs" || a == "-j") o.jobs = unsigned(std::max(1, std::atoi(val().c_str())));
        else if (a == "--help" || a == "-h") usage(nullptr);
        else usage(("unknown argument " + a).c_str());
    }
    if (o.set == "286") o.set = "80286";
    if (o.set != "8086" && o.set != "80286") usage("--set must be 8086 or 80286");
    if (const char* env = std::getenv("VX86_CONFORMANCE"); env && *env) o.dir = env;
    if (o.dir.empty()) usage("--dir is required");
    if (o.jobs == 0) o.jobs = std::max(1u, std::thread::hardware_concurrency());
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt = parse_args(argc, argv);
    const char* ci = std::getenv("CI");
    bool in_ci = ci && std::string(ci) == "true";

    fs::path dir = opt.dir;
    fs::path set_dir = fs::is_directory(dir / opt.set) ? dir / opt.set : dir;
    std::error_code ec;
    if (!fs::is_directory(set_dir, ec) || !fs::exists(set_dir / "metadata.json", ec)) {
        if (in_ci) {
            std::printf("ERROR: conformance vectors not found at %s (CI=true: a missing vector set "
                        "is a failure, not a skip)\n", (dir / opt.set).c_str());
            return 1;
        }
        std::printf("conformance vectors not found at %s: skipping (set VX86_CONFORMANCE or "
                    "-Dconformance_dir)\n", (dir / opt.set).c_str());
        return 77;
    }

    Shared sh(opt, config_for(opt.set), set_dir);
    for (const auto& e : fs::directory_iterator(set_dir)) {
        std::string n = e.path().filename().string();
        if (n.size() > 8 && n.compare(n.size() - 8, 8, ".json.gz") == 0) sh.files.push_back(n);
    }
    std::sort(sh.files.begin(), sh.files.end());
    if (!opt.only.empty()) {
        for (const std::string& f : opt.only)
            if (!std::binary_search(sh.files.begin(), sh.files.end(), f)) {
                std::printf("ERROR: --only: %s not found in %s\n", f.c_str(), set_dir.c_str());
                return 1;
            }
        sh.files = opt.only;
        std::sort(sh.files.begin(), sh.files.end());
        sh.files.erase(std::unique(sh.files.begin(), sh.files.end()), sh.files.end());
    }

    {
        std::string text, err;
        if (!read_text(set_dir / "metadata.json", text) || !conformance::parse_json(text, sh.meta, err)) {
            std::printf("ERROR: cannot read %s: %s\n", (set_dir / "metadata.json").c_str(), err.c_str());
            return 1;
        }
        std::string rev;
        if (read_text(set_dir / "revocation_list.txt", rev)) {
            size_t p = 0;
            while (p < rev.size()) {
                size_t e = rev.find('\n', p);
                if (e == std::string::npos) e = rev.size();
                std::string l = rev.substr(p, e - p);
                p = e + 1;
                size_t b = l.find_first_not_of(" \t\r"), z = l.find_last_not_of(" \t\r");
                if (b != std::string::npos && l[b] != '#') sh.revoked.insert(l.substr(b, z - b + 1));
            }
        }
    }
    if (!opt.expected_file.empty() && !load_expected(opt.expected_file, opt.set, sh.expected)) {
        std::printf("ERROR: cannot read expected-failures file %s\n", opt.expected_file.c_str());
        return 1;
    }

    sh.results.resize(sh.files.size());
    sh.done.assign(sh.files.size(), 0);
    unsigned jobs = std::min<unsigned>(opt.jobs, unsigned(std::max<size_t>(1, sh.files.size())));
    std::vector<std::thread> threads;
    for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(worker, std::ref(sh));
    worker(sh);
    for (auto& t : threads) t.join();

    // ---- totals, stale entries, failure classes ----
    long passed = 0, failed = 0, skipped = 0, unlisted = 0, load_errors = 0;
    std::map<std::string, int> classes;
    std::vector<const FileResult*> worst;
    for (const FileResult& r : sh.results) {
        passed += r.passed, failed += r.failed, skipped += r.skipped, unlisted += r.unlisted;
        if (!r.error.empty()) ++load_errors;
        for (auto& [k, v] : r.classes) classes[k] += v;
        if (r.failed) worst.push_back(&r);
    }
    std::set<std::string> ran(sh.files.begin(), sh.files.end());
    std::map<std::string, const FileResult*> by_file;
    for (const FileResult& r : sh.results) by_file[r.file] = &r;
    int stale = 0;
    for (const ExpectedEntry& e : sh.expected.entries) {
        auto it = by_file.find(e.file);
        if (it == by_file.end()) {
            if (opt.only.empty())
                std::printf("warning: expected-failures line %d names %s, not in the set\n", e.line, e.file.c_str());
            continue;
        }
        const FileResult& r = *it->second;
        if (!r.error.empty()) continue;
        bool now_passes;
        if (e.idx < 0) now_passes = r.failed == 0;
        else if (size_t(e.idx) >= r.status.size()) {
            std::printf("warning: expected-failures line %d: %s has no test %d\n", e.line, e.file.c_str(), e.idx);
            continue;
        } else now_passes = r.status[size_t(e.idx)] == Status::kPass;
        if (now_passes) {
            ++stale;
            std::printf("stale expected failure (now passes): %s %s %s %s\n", opt.set.c_str(),
                        e.file.c_str(), e.idx < 0 ? "*" : std::to_string(e.idx).c_str(), e.reason.c_str());
        }
    }

    if (!opt.emit_file.empty()) {
        FILE* f = std::fopen(opt.emit_file.c_str(), "a");
        if (!f) std::printf("warning: cannot write %s\n", opt.emit_file.c_str());
        for (const FileResult& r : sh.results)
            for (size_t i = 0; f && i < r.status.size(); ++i)
                if (r.status[i] == Status::kFail)
                    std::fprintf(f, "%s %s %zu %s\n", opt.set.c_str(), r.file.c_str(), i, r.reasons[i].c_str());
        if (f) std::fclose(f);
    }

    if (failed) {
        std::sort(worst.begin(), worst.end(), [](auto* a, auto* b) {
            return a->failed != b->failed ? a->failed > b->failed : a->file < b->file;
        });
        std::printf("\nfiles with the most failures:\n");
        for (size_t i = 0; i < worst.size() && i < 20; ++i) {
            std::string top;
            std::vector<std::pair<int, std::string>> cl;
            for (auto& [k, v] : worst[i]->classes) cl.emplace_back(-v, k);
            std::sort(cl.begin(), cl.end());
            for (size_t k = 0; k < cl.size() && k < 4; ++k)
                top += (k ? ", " : "") + cl[k].second + " x" + std::to_string(-cl[k].first);
            std::printf("  %-14s %4d failed  (%s)\n", worst[i]->file.c_str(), worst[i]->failed, top.c_str());
        }
        std::vector<std::pair<int, std::string>> cl;
        for (auto& [k, v] : classes) cl.emplace_back(-v, k);
        std::sort(cl.begin(), cl.end());
        std::printf("most common differences (failing tests showing each):\n ");
        for (size_t k = 0; k < cl.size() && k < 16; ++k) std::printf(" %s x%d", cl[k].second.c_str(), -cl[k].first);
        std::printf("\n");
    }

    long run = passed + failed;
    double rate = run ? 100.0 * double(passed) / double(run) : 0.0;
    std::printf("\n%s: passed %ld, failed %ld, skipped %ld (pass rate %.2f%%)\n", opt.set.c_str(), passed,
                failed, skipped, rate);
    bool ok = true;
    if (load_errors) {
        std::printf("FAIL: %ld file(s) could not be read\n", load_errors);
        ok = false;
    }
    if (run == 0) {
        std::printf("FAIL: no tests ran\n");
        ok = false;
    }
    if (rate < opt.threshold) {
        std::printf("FAIL: pass rate %.2f%% is below the threshold %.2f%%\n", rate, opt.threshold);
        ok = false;
    }
    if (unlisted) {
        std::printf("FAIL: %ld failing test(s) are not listed in %s\n", unlisted,
                    opt.expected_file.empty() ? "an expected-failures file (none given)" : opt.expected_file.c_str());
        ok = false;
    }
    if (stale) std::printf("note: %d stale expected-failure entr%s (tests that now pass)\n", stale, stale == 1 ? "y" : "ies");
    std::printf("%ld passed, %ld failed", passed, failed);
    if (skipped) std::printf(", %ld skipped", skipped);
    std::printf("\n");
    return ok ? 0 : 1;
}

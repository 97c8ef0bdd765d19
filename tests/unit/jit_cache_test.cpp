// The JIT's block chaining and code cache, against the interpreter: a loop that patches the code
// of another block it jumps to through a direct link (the link must never reach the stale
// translation), a code-cache cap small enough to force flushes, and the observability text
// (format_stats, disassemble_block).
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "jit/jit.h"

using namespace vx86;
using cpu::Cpu;

namespace {

constexpr uint32_t kRam = 1u << 20;
constexpr uint32_t kCode = 0x10000;  // 1000:0000

struct Machine {
    mmu::PhysMemory mem{kRam};
    devices::IoBus io;
    Cpu c;
    Machine(bool jit, const jit::EngineOptions& opt = {}) : c(cpu::CpuModel::kP6, mem, io) {
        if (jit) REQUIRE(jit::set_engine(c, cpu::Engine::kJit, opt));
    }
    void load(uint32_t off, const std::vector<uint8_t>& bytes) {
        REQUIRE(mem.copy_to(kCode + off, bytes.data(), bytes.size()));
    }
    void start() {
        for (unsigned seg : {cpu::CS, cpu::DS, cpu::ES, cpu::SS}) c.load_seg_real(seg, 0x1000);
        c.s.eip = 0;
        c.set_r32(cpu::ESP, 0xFFF0);
    }
};

// Block A (page 10000h) stores CL into the immediate of block B (page 11000h) and jumps there;
// B adds that immediate to DX and jumps back while CX counts down from 100.
void load_patcher(Machine& m) {
    m.load(0x0000, {0xB9, 0x64, 0x00,               // mov cx, 100
                    0x31, 0xD2,                     // xor dx, dx
                    0x88, 0x0E, 0x02, 0x10,         // a: mov [1002h], cl
                    0xE9, 0xF4, 0x0F});             // jmp 1000h
    m.load(0x1000, {0x81, 0xC2, 0x00, 0x00,         // b: add dx, imm16 (patched)
                    0x49,                           // dec cx
                    0x74, 0x03,                     // jz done
                    0xE9, 0xFB, 0xEF,               // jmp a (0005h)
                    0xF4});                         // done: hlt
    m.start();
}

// A subroutine f (page 11000h: add dx, imm16; ret) called in a loop of CX = 100 iterations.
// `sites` = 1: one call per iteration, so f's RET always returns to the same block; 2: two call
// sites, so RET alternates between two targets. `patch`: each iteration first stores CL into
// f's immediate (self-modifying code on f's page).
std::vector<uint8_t> call_loop(unsigned sites, bool patch) {
    std::vector<uint8_t> code = {0xB9, 0x64, 0x00,  // mov cx, 100
                                 0x31, 0xD2};       // xor dx, dx
    const size_t loop = code.size();
    if (patch) code.insert(code.end(), {0x88, 0x0E, 0x02, 0x10});  // mov [1002h], cl
    else code.insert(code.end(), {0x88, 0x0E, 0x02, 0x20});        // mov [2002h], cl (data)
    for (unsigned k = 0; k < sites; ++k) {
        const uint16_t rel = uint16_t(0x1000 - (code.size() + 3));
        code.insert(code.end(), {0xE8, uint8_t(rel), uint8_t(rel >> 8),  // call f
                                 0x83, 0xC2, 0x01});                     // add dx, 1
    }
    code.push_back(0x49);  // dec cx
    code.insert(code.end(), {0x75, uint8_t(loop - (code.size() + 2))});  // jnz loop
    code.push_back(0xF4);  // hlt
    return code;
}

}  // namespace

TEST_CASE("JIT: a direct link never enters a block whose code was rewritten") {
    for (bool use_jit : {false, true}) {
        CAPTURE(use_jit);
        Machine m(use_jit);
        load_patcher(m);
        CHECK(m.c.run(100000) == cpu::Exit::kHalted);
        CHECK(m.c.r16(cpu::EDX) == 5050);  // 100 + 99 + ... + 1: every patch was seen
        CHECK(m.c.s.icount == 2 + 100 * 6 - 1 + 1);  // the last JZ is taken; HLT
        CHECK(m.c.stats().blocks_invalidated >= 99);
        if (use_jit) {
            const cpu::EngineStats* st = m.c.engine_stats();
            REQUIRE(st != nullptr);
            CHECK(st->links_made >= 50);  // A's jump relinked to each new translation of B
            CHECK(st->blocks_dropped >= 99);
        }
    }
}

TEST_CASE("JIT: a full code cache is flushed and execution stays exact") {
    // 200 blocks: "add ax, k; jmp next" chained in a ring run 20 times by CX.
    std::vector<uint8_t> code = {0xB9, 0x14, 0x00, 0x31, 0xC0};  // mov cx, 20; xor ax, ax
    const unsigned kBlocks = 200;
    for (unsigned k = 0; k < kBlocks; ++k) {
        code.push_back(0x05);  // add ax, imm16
        code.push_back(uint8_t(k + 1));
        code.push_back(0);
        code.push_back(0xEB);  // jmp short +0 (next block)
        code.push_back(0x00);
    }
    code.insert(code.end(), {0x49, 0x74, 0x03});  // dec cx; jz done
    const uint16_t back = uint16_t(5 - (code.size() + 3));
    code.insert(code.end(), {0xE9, uint8_t(back), uint8_t(back >> 8), 0xF4});  // jmp loop; hlt

    Machine ref(false);
    ref.load(0, code);
    ref.start();
    REQUIRE(ref.c.run(1000000) == cpu::Exit::kHalted);
    CHECK(ref.c.r16(cpu::EAX) == uint16_t(20 * (kBlocks * (kBlocks + 1) / 2)));

    jit::EngineOptions small;
    small.cache_bytes = 16 * 1024;
    Machine m(true, small);
    m.load(0, code);
    m.start();
    CHECK(m.c.run(1000000) == cpu::Exit::kHalted);
    CHECK(m.c.r16(cpu::EAX) == ref.c.r16(cpu::EAX));
    CHECK(m.c.s.icount == ref.c.s.icount);
    CHECK(m.c.s.eip == ref.c.s.eip);
    const cpu::EngineStats* st = m.c.engine_stats();
    REQUIRE(st != nullptr);
    CHECK(st->flushes >= 2);
    CHECK(st->code_bytes_live <= small.cache_bytes + 4096);
    CHECK(st->blocks_translated > kBlocks);  // translated again after each flush

    // Without the cap: translated once, no flush.
    Machine big(true);
    big.load(0, code);
    big.start();
    CHECK(big.c.run(1000000) == cpu::Exit::kHalted);
    CHECK(big.c.engine_stats()->flushes == 0);
    CHECK(big.c.engine_stats()->blocks_translated <= kBlocks + 4);
    CHECK(big.c.r16(cpu::EAX) == ref.c.r16(cpu::EAX));
}

TEST_CASE("JIT: the dynamic exit's cached target follows RET and never enters stale code") {
    for (unsigned sites : {1u, 2u})
        for (bool patch : {false, true}) {
            CAPTURE(sites);
            CAPTURE(patch);
            const std::vector<uint8_t> code = call_loop(sites, patch);
            const std::vector<uint8_t> f = {0x81, 0xC2, 0x07, 0x00, 0xC3};  // add dx, 7; ret
            Machine ref(false), m(true);
            for (Machine* x : {&ref, &m}) {
                x->load(0, code);
                x->load(0x1000, f);
                x->start();
                REQUIRE(x->c.run(100000) == cpu::Exit::kHalted);
            }
            // Each call adds f's immediate (CL when patched, else 7) plus 1 after it.
            const unsigned per_site = (patch ? 5050 : 700) + 100;
            CHECK(ref.c.r16(cpu::EDX) == sites * per_site);
            CHECK(m.c.r16(cpu::EDX) == ref.c.r16(cpu::EDX));
            CHECK(m.c.s.icount == ref.c.s.icount);
            CHECK(m.c.s.eip == ref.c.s.eip);
            const cpu::EngineStats* st = m.c.engine_stats();
            REQUIRE(st != nullptr);
            if (!patch && sites == 1) {
                // The RET's link keeps its one target: looked up once, then chained.
                CHECK(st->blocks_looked_up <= 2);
                CHECK(st->blocks_chained >= 3 * 100 - 10);
            }
            if (!patch && sites == 2) {
                // RET alternates: its link keeps the first target, the engine's jump cache
                // serves the other, so lookups stay a handful.
                CHECK(st->blocks_looked_up <= 4);
                CHECK(st->blocks_chained >= 5 * 100 - 10);
            }
            if (patch) CHECK(m.c.stats().blocks_invalidated >= 99);
        }
}

TEST_CASE("JIT: stats text and block dump") {
    Machine interp(false);
    CHECK(jit::format_stats(interp.c) == "engine interp\n");

    Machine m(true);
    load_patcher(m);
    REQUIRE(m.c.run(100000) == cpu::Exit::kHalted);
    const std::string st = jit::format_stats(m.c);
    CHECK(st.find("engine jit\n") == 0);
    CHECK(st.find("jit.links_made") != std::string::npos);
    const size_t fl = st.find("jit.flushes ");
    REQUIRE(fl != std::string::npos);
    CHECK(st.substr(fl, st.find('\n', fl) - fl).ends_with(" 0"));
    CHECK(st.find("jit.blocks_translated") != std::string::npos);

    // Block A at 1000:0005 (phys 10005h, 16-bit): the guest store, and host code.
    const std::string d = jit::disassemble_block(m.c, kCode + 5);
    CAPTURE(d);
    CHECK(d.find("block phys 00010005 16-bit: 2 insns") != std::string::npos);
    CHECK(d.find("mov      byte ptr [0x1002], cl") != std::string::npos);
    CHECK(d.find("jmp      0x1000") != std::string::npos);  // IP-relative, 16-bit
    CHECK(d.find("host:") != std::string::npos);
    CHECK(d.find("link taken -> phys 00011000") != std::string::npos);
    CHECK(d.find("push     rbx") != std::string::npos);  // the host prologue
    CHECK(jit::disassemble_block(m.c, kCode + 0x800) == "no decoded block at phys 00010800\n");
}

TEST_CASE("JIT: a cached dynamic target is not reused after CS changes") {
    // One RETF (1000:0080) returns alternately to 1000:0100 and 2000:0100: the same EIP in two
    // code segments, so its dynamic exit's link (made for 1000:0100) must not be taken for
    // 2000:0100.
    const std::vector<uint8_t> main = {
        0xB9, 0x0A, 0x00,  // mov cx, 10
        0x31, 0xC0,        // xor ax, ax
        0x68, 0x00, 0x10,  // L: push 1000h
        0x68, 0x00, 0x01,  //    push 0100h
        0xEB, 0x73};       //    jmp 0080h (retf)
    Machine ref(false), m(true);
    for (Machine* x : {&ref, &m}) {
        x->load(0, main);
        x->load(0x40, {0x68, 0x00, 0x20,   // back: push 2000h
                       0x68, 0x00, 0x01,   //       push 0100h
                       0xEB, 0x38});       //       jmp 0080h
        x->load(0x60, {0x49,               // back2: dec cx
                       0x75, 0xA2,         //        jnz L
                       0xF4});             //        hlt
        x->load(0x80, {0xCB});             // retf
        x->load(0x100, {0x40,              // 1000:0100 inc ax
                        0xE9, 0x3C, 0xFF});  //         jmp back
        REQUIRE(x->mem.copy_to(0x20100, std::vector<uint8_t>{0x05, 0x00, 0x01,  // add ax, 100h
                                                             0xEA, 0x60, 0x00, 0x00, 0x10}  // jmp 1000:0060
                                            .data(), 8));
        x->start();
        REQUIRE(x->c.run(100000) == cpu::Exit::kHalted);
    }
    CHECK(ref.c.r16(cpu::EAX) == 10 * 0x101);
    CHECK(m.c.r16(cpu::EAX) == ref.c.r16(cpu::EAX));
    CHECK(m.c.s.icount == ref.c.s.icount);
    CHECK(m.c.engine_stats()->blocks_chained > 20);
}

// Decoder (cpu/decoder.h): hand-picked encodings with every field the engines consume checked.
//
// The table below is written from the SDM, not from the decoder: lengths, ModRM/SIB operand
// fields, default segments (BP/ESP/EBP-based forms use SS, overrides win), prefixes as flags,
// and immediates with the extension the SDM gives each form (83 /0 ib and 6A ib are sign-
// extended; INT ib, IN/OUT ib and RET iw are not). Displacements in 16-bit addressing are
// compared modulo 64 KiB, since Cpu::ea() truncates there; immediates of 16-bit operations are
// compared in their low 16 bits, since handlers mask to the operand size. Far pointers put the
// offset in `imm` and the selector in `imm2`; ENTER puts the level in `imm2`; relative branches
// put the sign-extended displacement in `imm` (the handlers in ops/control.cpp read them so).
//
// Model tests check the ISA gates (286: no 66/67/FS/GS or 0F 386 opcodes; CPUID from the
// Pentium; CMOVcc from the P6) and the 8086's aliases (60-6F as Jcc, C0/C1/C8/C9 as RET forms,
// 0F as POP CS), comparing the alias' decoded record with the documented opcode's.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/decoder.h"
#include "cpu/ops/ops.h"  // op_ud / op_gp0, to check what an invalid record does
#include "cpu/state.h"
#include "test_util.h"

using namespace vx86::cpu;
using vx86::test::hex_bytes;
using vx86::test::hx;

namespace {

constexpr int64_t kAny = -1;

struct Case {
    const char* text;
    std::vector<uint8_t> bytes;
    bool code32;
    unsigned len;
    uint16_t set = 0;    // flags that must be set
    uint16_t clear = 0;  // flags that must be clear
    int64_t base = kAny, index = kAny, scale = kAny, disp = kAny, seg = kAny;
    int64_t reg = kAny, rm = kAny, imm = kAny, imm2 = kAny, opcode = kAny;
    uint32_t imm_mask = 0;  // 0: by operand size (16-bit ops compare the low word)
};

constexpr uint16_t M = kfMem, A32 = kfAddr32, O32 = kfOp32, REP = kfRep, REPNE = kfRepne,
                   LOCK = kfLock, END = kfEndsBlock, SO = kfSegOverride;
constexpr int64_t NONE = kRegNone;

const char* status_name(DecodeStatus s) {
    switch (s) {
        case DecodeStatus::kOk: return "kOk";
        case DecodeStatus::kInvalid: return "kInvalid";
        case DecodeStatus::kTruncated: return "kTruncated";
    }
    return "?";
}

// clang-format off
const std::vector<Case> kCases = {
    // ---- 16-bit code: ModRM addressing ----
    {"mov eax,[eax+ecx*4+0x12345678]", {0x66, 0x67, 0x8b, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12}, false, 9,
     M | A32 | O32, END, EAX, ECX, 2, 0x12345678, DS, EAX, kAny, kAny, kAny, 0x8b},
    {"mov ax,es:[bx]", {0x26, 0x8b, 0x07}, false, 3, M | SO, A32 | O32 | END, EBX, NONE, kAny, 0, ES, EAX},
    {"mov ax,[bx+si]", {0x8b, 0x00}, false, 2, M, A32 | O32 | SO, kAny, kAny, 0, 0, DS, EAX},
    {"mov ax,[bp+si]", {0x8b, 0x02}, false, 2, M, A32 | O32, kAny, kAny, 0, 0, SS, EAX},
    {"mov ax,[bp+di]", {0x8b, 0x03}, false, 2, M, A32 | O32, kAny, kAny, 0, 0, SS, EAX},
    {"mov cx,[si]", {0x8b, 0x0c}, false, 2, M, A32 | O32, ESI, NONE, kAny, 0, DS, ECX},
    {"mov dx,[di+0x7f]", {0x8b, 0x55, 0x7f}, false, 3, M, A32 | O32, EDI, NONE, kAny, 0x7f, DS, EDX},
    {"mov ax,[bp-4]", {0x8b, 0x46, 0xfc}, false, 3, M, A32 | O32, EBP, NONE, kAny, 0xfffc, SS, EAX},
    {"mov ax,[bp+0x1234]", {0x8b, 0x86, 0x34, 0x12}, false, 4, M, 0, EBP, NONE, kAny, 0x1234, SS, EAX},
    {"mov ax,ds:[bp+0]", {0x3e, 0x8b, 0x46, 0x00}, false, 4, M | SO, 0, EBP, NONE, kAny, 0, DS, EAX},
    {"mov ax,[0x1234]", {0x8b, 0x06, 0x34, 0x12}, false, 4, M, 0, NONE, NONE, kAny, 0x1234, DS, EAX},
    {"mov bx,[bx+di-2]", {0x8b, 0x59, 0xfe}, false, 3, M, 0, kAny, kAny, 0, 0xfffe, DS, EBX},
    {"mov ax,cs:[bp+si+0x10]", {0x2e, 0x8b, 0x42, 0x10}, false, 4, M | SO, 0, kAny, kAny, 0, 0x10, CS, EAX},
    {"mov ax,fs:[bx]", {0x64, 0x8b, 0x07}, false, 3, M | SO, 0, EBX, NONE, kAny, 0, FS, EAX},
    {"mov [bx+si],al", {0x88, 0x00}, false, 2, M, 0, kAny, kAny, 0, 0, DS, EAX, kAny, kAny, kAny, 0x88},
    {"mov al,ah", {0x88, 0xe0}, false, 2, 0, M, kAny, kAny, kAny, kAny, kAny, 4, 0},
    {"add ax,bx", {0x01, 0xd8}, false, 2, 0, M | O32 | END, kAny, kAny, kAny, kAny, kAny, EBX, EAX},
    {"mov ds,ax", {0x8e, 0xd8}, false, 2, 0, M, kAny, kAny, kAny, kAny, kAny, DS, EAX},
    {"mov eax,[ebp+8] (16-bit code, 67)", {0x67, 0x66, 0x8b, 0x45, 0x08}, false, 5, M | A32 | O32, 0,
     EBP, NONE, kAny, 8, SS, EAX},
    {"lea ax,[bx+si+0x1234]", {0x8d, 0x80, 0x34, 0x12}, false, 4, M, O32, kAny, kAny, 0, 0x1234, kAny, EAX},
    {"mov byte [0x1234],0x56", {0xc6, 0x06, 0x34, 0x12, 0x56}, false, 5, M, 0, NONE, NONE, kAny, 0x1234, DS,
     kAny, kAny, 0x56, kAny, 0xc6, 0xff},
    {"mov word [bp+2],0x1234", {0xc7, 0x46, 0x02, 0x34, 0x12}, false, 5, M, 0, EBP, NONE, kAny, 2, SS,
     kAny, kAny, 0x1234},
    {"lock add [bx],ax", {0xf0, 0x01, 0x07}, false, 3, M | LOCK, 0, EBX, NONE, kAny, 0, DS, EAX},
    {"mov ax,[0x1234] (moffs)", {0xa1, 0x34, 0x12}, false, 3, 0, O32},
    {"mov eax,[0x12345678] (moffs, 67 66)", {0x67, 0x66, 0xa1, 0x78, 0x56, 0x34, 0x12}, false, 7, A32 | O32},

    // ---- 16-bit code: immediates ----
    {"add ax,-1 (83 /0 ib)", {0x83, 0xc0, 0xff}, false, 3, 0, M | O32, kAny, kAny, kAny, kAny, kAny, 0, EAX, 0xffff},
    {"add eax,-1 (66 83 /0 ib)", {0x66, 0x83, 0xc0, 0xff}, false, 4, O32, M, kAny, kAny, kAny, kAny, kAny, 0, EAX,
     0xffffffff},
    {"cmp word [bx],0x7f (83 /7 ib)", {0x83, 0x3f, 0x7f}, false, 3, M, 0, EBX, NONE, kAny, 0, DS, 7, kAny, 0x7f},
    {"sub sp,0x80 (83 /5 ib)", {0x83, 0xec, 0x80}, false, 3, 0, M, kAny, kAny, kAny, kAny, kAny, 5, ESP, 0xff80},
    {"add ax,0x1234 (05 iw)", {0x05, 0x34, 0x12}, false, 3, 0, O32, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0x1234},
    {"add eax,0x12345678 (66 05 id)", {0x66, 0x05, 0x78, 0x56, 0x34, 0x12}, false, 6, O32, 0, kAny, kAny, kAny,
     kAny, kAny, kAny, kAny, 0x12345678},
    {"mov ax,0x1234", {0xb8, 0x34, 0x12}, false, 3, 0, O32 | M, kAny, kAny, kAny, kAny, kAny, EAX, kAny, 0x1234},
    {"mov eax,0x12345678 (66)", {0x66, 0xb8, 0x78, 0x56, 0x34, 0x12}, false, 6, O32, 0, kAny, kAny, kAny, kAny,
     kAny, EAX, kAny, 0x12345678},
    {"mov ah,0x12", {0xb4, 0x12}, false, 2, 0, 0, kAny, kAny, kAny, kAny, kAny, 4, kAny, 0x12, kAny, 0xb4, 0xff},
    {"mov di,0xbeef", {0xbf, 0xef, 0xbe}, false, 3, 0, 0, kAny, kAny, kAny, kAny, kAny, EDI, kAny, 0xbeef},
    {"add al,0x80", {0x04, 0x80}, false, 2, 0, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0x80, kAny, 0x04, 0xff},
    {"test al,0x80", {0xa8, 0x80}, false, 2, 0, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0x80, kAny, kAny, 0xff},
    {"test bl,1 (f6 /0 ib)", {0xf6, 0xc3, 0x01}, false, 3, 0, M, kAny, kAny, kAny, kAny, kAny, 0, EBX, 1, kAny,
     kAny, 0xff},
    {"test bx,0x1234 (f7 /0 iw)", {0xf7, 0xc3, 0x34, 0x12}, false, 4, 0, M, kAny, kAny, kAny, kAny, kAny, 0, EBX,
     0x1234},
    {"not word [bx] (f7 /2, no imm)", {0xf7, 0x17}, false, 2, M, 0, EBX, NONE, kAny, 0, DS, 2},
    {"push -128 (6a ib)", {0x6a, 0x80}, false, 2, 0, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0xff80},
    {"push 0x1234", {0x68, 0x34, 0x12}, false, 3, 0, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0x1234},
    {"imul ax,cx,-2 (6b /r ib)", {0x6b, 0xc1, 0xfe}, false, 3, 0, M, kAny, kAny, kAny, kAny, kAny, EAX, ECX, 0xfffe},
    {"shl ax,5 (c1 /4 ib)", {0xc1, 0xe0, 0x05}, false, 3, 0, M, kAny, kAny, kAny, kAny, kAny, 4, EAX, 5, kAny, kAny,
     0xff},
    {"shl ax,1 (d1 /4)", {0xd1, 0xe0}, false, 2, 0, M, kAny, kAny, kAny, kAny, kAny, 4, EAX},
    {"sar word [bx],cl (d3 /7)", {0xd3, 0x3f}, false, 2, M, 0, EBX, NONE, kAny, 0, DS, 7},
    {"int 0x80 (zero-extended)", {0xcd, 0x80}, false, 2, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0x80,
     kAny, 0xcd, 0xffffffff},
    {"in al,0x80 (zero-extended)", {0xe4, 0x80}, false, 2, 0, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0x80,
     kAny, kAny, 0xffffffff},
    {"out 0xe9,al", {0xe6, 0xe9}, false, 2, 0, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0xe9, kAny, kAny,
     0xffffffff},
    {"ret 0x8000", {0xc2, 0x00, 0x80}, false, 3, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0x8000, kAny,
     0xc2, 0xffff},
    {"retf 8", {0xca, 0x08, 0x00}, false, 3, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 8},
    {"enter 0x1000,2", {0xc8, 0x00, 0x10, 0x02}, false, 4, 0, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0x1000, 2},
    {"jmp far 0x5678:0x1234", {0xea, 0x34, 0x12, 0x78, 0x56}, false, 5, END, 0, kAny, kAny, kAny, kAny, kAny, kAny,
     kAny, 0x1234, 0x5678},
    {"jmp far 0xabcd:0x12345678 (66)", {0x66, 0xea, 0x78, 0x56, 0x34, 0x12, 0xcd, 0xab}, false, 8, END | O32, 0,
     kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0x12345678, 0xabcd},
    {"call far 0xf000:0xfff0", {0x9a, 0xf0, 0xff, 0x00, 0xf0}, false, 5, END, 0, kAny, kAny, kAny, kAny, kAny, kAny,
     kAny, 0xfff0, 0xf000},

    // ---- 16-bit code: branches (imm = sign-extended displacement) ----
    {"jmp short $", {0xeb, 0xfe}, false, 2, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0xfffe},
    {"je +5", {0x74, 0x05}, false, 2, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 5, kAny, 0x74},
    {"jg -128", {0x7f, 0x80}, false, 2, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0xff80, kAny, 0x7f},
    {"call rel16", {0xe8, 0xfd, 0xff}, false, 3, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0xfffd},
    {"jmp rel16", {0xe9, 0x00, 0x80}, false, 3, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0x8000},
    {"jz near rel16 (0f 84)", {0x0f, 0x84, 0x00, 0x01}, false, 4, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny,
     0x100, kAny, 0x84},
    {"jz near rel32 (66 0f 84)", {0x66, 0x0f, 0x84, 0x00, 0x00, 0x01, 0x00}, false, 7, END | O32},
    {"loop -2", {0xe2, 0xfe}, false, 2, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0xfffe},
    {"jcxz +2", {0xe3, 0x02}, false, 2, END, A32},
    {"jmp [bx] (ff /4)", {0xff, 0x27}, false, 2, END | M, 0, EBX, NONE, kAny, 0, DS, 4},
    {"call ax (ff /2)", {0xff, 0xd0}, false, 2, END, M, kAny, kAny, kAny, kAny, kAny, 2, EAX},
    {"ret", {0xc3}, false, 1, END},
    {"iret", {0xcf}, false, 1, END},
    {"hlt", {0xf4}, false, 1, END},

    // ---- 16-bit code: one-byte forms with a register in the opcode ----
    {"inc cx", {0x41}, false, 1, 0, M | O32 | END, kAny, kAny, kAny, kAny, kAny, ECX},
    {"dec edi (66)", {0x66, 0x4f}, false, 2, O32, M, kAny, kAny, kAny, kAny, kAny, EDI},
    {"push bp", {0x55}, false, 1, 0, M, kAny, kAny, kAny, kAny, kAny, EBP},
    {"pop si", {0x5e}, false, 1, 0, M, kAny, kAny, kAny, kAny, kAny, ESI},
    {"xchg ax,dx", {0x92}, false, 1, 0, 0, kAny, kAny, kAny, kAny, kAny, EDX},
    {"nop", {0x90}, false, 1, 0, END},
    {"pushf", {0x9c}, false, 1},
    {"cbw", {0x98}, false, 1, 0, O32},
    {"cwde (66 98)", {0x66, 0x98}, false, 2, O32},

    // ---- 16-bit code: string instructions ----
    {"rep movsw", {0xf3, 0xa5}, false, 2, REP, O32 | REPNE | A32, kAny, kAny, kAny, kAny, DS},
    {"rep movsd (f3 66 a5)", {0xf3, 0x66, 0xa5}, false, 3, REP | O32, REPNE, kAny, kAny, kAny, kAny, DS},
    {"movsb es: (override on the DS side)", {0x26, 0xa4}, false, 2, SO, REP, kAny, kAny, kAny, kAny, ES},
    {"lodsb cs:", {0x2e, 0xac}, false, 2, SO, 0, kAny, kAny, kAny, kAny, CS},
    {"repne scasb", {0xf2, 0xae}, false, 2, REPNE, REP},
    {"repe cmpsb", {0xf3, 0xa6}, false, 2, REP, REPNE, kAny, kAny, kAny, kAny, DS},
    {"rep stosd (67 66 f3)", {0x67, 0x66, 0xf3, 0xab}, false, 4, REP | O32 | A32},

    // ---- 16-bit code: 0F map (386+) ----
    {"movzx ax,cl", {0x0f, 0xb6, 0xc1}, false, 3, 0, M | O32, kAny, kAny, kAny, kAny, kAny, EAX, ECX, kAny, kAny, 0xb6},
    {"movsx eax,word [bx]", {0x66, 0x0f, 0xbf, 0x07}, false, 4, M | O32, 0, EBX, NONE, kAny, 0, DS, EAX, kAny, kAny,
     kAny, 0xbf},
    {"shld ax,bx,4", {0x0f, 0xa4, 0xd8, 0x04}, false, 4, 0, M, kAny, kAny, kAny, kAny, kAny, EBX, EAX, 4, kAny, 0xa4,
     0xff},
    {"bt word [bx],3 (0f ba /4 ib)", {0x0f, 0xba, 0x27, 0x03}, false, 4, M, 0, EBX, NONE, kAny, 0, DS, 4, kAny, 3,
     kAny, 0xba, 0xff},
    {"sete al", {0x0f, 0x94, 0xc0}, false, 3, 0, M, kAny, kAny, kAny, kAny, kAny, kAny, EAX, kAny, kAny, 0x94},
    {"push fs", {0x0f, 0xa0}, false, 2},
    {"imul ax,[bx] (0f af)", {0x0f, 0xaf, 0x07}, false, 3, M, 0, EBX, NONE, kAny, 0, DS, EAX},

    // ---- 32-bit code ----
    {"mov eax,[ebp+8]", {0x8b, 0x45, 0x08}, true, 3, M | A32 | O32, END, EBP, NONE, kAny, 8, SS, EAX},
    {"mov eax,[esp]", {0x8b, 0x04, 0x24}, true, 3, M | A32 | O32, 0, ESP, NONE, kAny, 0, SS, EAX},
    {"mov eax,[esp+ecx*2-4]", {0x8b, 0x44, 0x4c, 0xfc}, true, 4, M | A32 | O32, 0, ESP, ECX, 1, 0xfffffffc, SS, EAX},
    {"mov eax,[ebp+ecx*4+0x10]", {0x8b, 0x44, 0x8d, 0x10}, true, 4, M | A32, 0, EBP, ECX, 2, 0x10, SS, EAX},
    {"mov eax,[ecx*4+0x12345678] (no base: DS)", {0x8b, 0x04, 0x8d, 0x78, 0x56, 0x34, 0x12}, true, 7, M | A32, 0,
     NONE, ECX, 2, 0x12345678, DS, EAX},
    {"mov eax,[0x12345678] (SIB, no base, no index)", {0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12}, true, 7, M | A32,
     0, NONE, NONE, kAny, 0x12345678, DS, EAX},
    {"mov eax,[0x12345678] (modrm disp32)", {0x8b, 0x05, 0x78, 0x56, 0x34, 0x12}, true, 6, M | A32, 0, NONE, NONE,
     kAny, 0x12345678, DS, EAX},
    {"mov ecx,[ebx+esi-0x80]", {0x8b, 0x4c, 0x33, 0x80}, true, 4, M | A32, 0, EBX, ESI, 0, 0xffffff80, DS, ECX},
    {"mov edx,[ebp+ebp*8+0x12345678]", {0x8b, 0x94, 0xed, 0x78, 0x56, 0x34, 0x12}, true, 7, M | A32, 0, EBP, EBP, 3,
     0x12345678, SS, EDX},
    {"mov eax,fs:[eax]", {0x64, 0x8b, 0x00}, true, 3, M | SO | A32, 0, EAX, NONE, kAny, 0, FS, EAX},
    {"mov eax,[bx] (67 in 32-bit code)", {0x67, 0x8b, 0x07}, true, 3, M | O32, A32, EBX, NONE, kAny, 0, DS, EAX},
    {"mov ax,[eax] (66 in 32-bit code)", {0x66, 0x8b, 0x00}, true, 3, M | A32, O32, EAX, NONE, kAny, 0, DS, EAX},
    {"lea eax,[eax+eax*2]", {0x8d, 0x04, 0x40}, true, 3, M | A32 | O32, 0, EAX, EAX, 1, 0, kAny, EAX},
    {"mov eax,0x12345678", {0xb8, 0x78, 0x56, 0x34, 0x12}, true, 5, O32, M, kAny, kAny, kAny, kAny, kAny, EAX, kAny,
     0x12345678},
    {"add eax,-1 (83 /0 ib)", {0x83, 0xc0, 0xff}, true, 3, O32, M, kAny, kAny, kAny, kAny, kAny, 0, EAX, 0xffffffff,
     kAny, 0x83, 0xffffffff},
    {"and dword [ebx],-16", {0x83, 0x23, 0xf0}, true, 3, M | O32, 0, EBX, NONE, kAny, 0, DS, 4, kAny, 0xfffffff0,
     kAny, 0x83, 0xffffffff},
    {"push -128", {0x6a, 0x80}, true, 2, O32, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0xffffff80, kAny, 0x6a,
     0xffffffff},
    {"imul eax,ecx,-2", {0x6b, 0xc1, 0xfe}, true, 3, O32, M, kAny, kAny, kAny, kAny, kAny, EAX, ECX, 0xfffffffe,
     kAny, 0x6b, 0xffffffff},
    {"imul eax,ecx,0x12345678", {0x69, 0xc1, 0x78, 0x56, 0x34, 0x12}, true, 6, O32, M, kAny, kAny, kAny, kAny, kAny,
     EAX, ECX, 0x12345678},
    {"mov dword [ebp-4],0x12345678", {0xc7, 0x45, 0xfc, 0x78, 0x56, 0x34, 0x12}, true, 7, M | O32 | A32, 0, EBP,
     NONE, kAny, 0xfffffffc, SS, kAny, kAny, 0x12345678},
    {"mov byte [esp+4],0x80", {0xc6, 0x44, 0x24, 0x04, 0x80}, true, 5, M, 0, ESP, NONE, kAny, 4, SS, kAny, kAny, 0x80,
     kAny, 0xc6, 0xff},
    {"jmp short $ (32)", {0xeb, 0xfe}, true, 2, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0xfffffffe, kAny,
     0xeb, 0xffffffff},
    {"jl -128 (32)", {0x7c, 0x80}, true, 2, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny, 0xffffff80, kAny, 0x7c,
     0xffffffff},
    {"call rel32", {0xe8, 0xfb, 0xff, 0xff, 0xff}, true, 5, END, 0, kAny, kAny, kAny, kAny, kAny, kAny, kAny,
     0xfffffffb},
    {"jnz near rel32", {0x0f, 0x85, 0x00, 0x00, 0x00, 0x80}, true, 6, END, 0, kAny, kAny, kAny, kAny, kAny, kAny,
     kAny, 0x80000000, kAny, 0x85},
    {"jmp far 0x0008:0x00100000", {0xea, 0x00, 0x00, 0x10, 0x00, 0x08, 0x00}, true, 7, END, 0, kAny, kAny, kAny,
     kAny, kAny, kAny, kAny, 0x00100000, 8},
    {"rep movsd (32)", {0xf3, 0xa5}, true, 2, REP | O32 | A32, 0, kAny, kAny, kAny, kAny, DS},
    {"bswap ecx", {0x0f, 0xc9}, true, 2, O32, M, kAny, kAny, kAny, kAny, kAny, ECX},
    {"cmove eax,[ebx] (P6)", {0x0f, 0x44, 0x03}, true, 3, M | O32, 0, EBX, NONE, kAny, 0, DS, EAX, kAny, kAny, kAny,
     0x44},
    {"xadd [ecx],eax", {0x0f, 0xc1, 0x01}, true, 3, M, 0, ECX, NONE, kAny, 0, DS, EAX},
    {"cpuid", {0x0f, 0xa2}, true, 2},
    {"prefix soup (13 x es + mov): 15 bytes",
     {0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x8b, 0x07}, false, 15, M | SO,
     0, EBX, NONE, kAny, 0, ES, EAX},
    {"last segment override wins", {0x26, 0x2e, 0x8b, 0x07}, false, 4, M | SO, 0, EBX, NONE, kAny, 0, CS, EAX},
};
// clang-format on

void check_case(const Decoder& dec, const Case& c) {
    INFO(std::string(c.text), " [", hex_bytes(c.bytes.data(), c.bytes.size()), "] code", c.code32 ? 32 : 16);
    // Decode with the exact bytes and again with trailing junk: the length must not move.
    uint8_t buf[32];
    std::memset(buf, 0xCC, sizeof buf);
    std::memcpy(buf, c.bytes.data(), c.bytes.size());
    for (unsigned avail : {unsigned(c.bytes.size()), 16u}) {
        DecodedInsn d{};
        DecodeStatus st = dec.decode(buf, avail, c.code32, d);
        INFO("avail ", avail, " status ", std::string(status_name(st)));
        REQUIRE(st == DecodeStatus::kOk);
        CHECK(d.len == c.len);
        CHECK((d.fn != nullptr));
        CHECK((d.flags & c.set) == c.set);
        CHECK((d.flags & c.clear) == 0);
        const bool addr32 = d.flags & kfAddr32;
        if (c.base != kAny) CHECK(int(d.base) == c.base);
        if (c.index != kAny) CHECK(int(d.index) == c.index);
        if (c.scale != kAny) CHECK(int(d.scale) == c.scale);
        if (c.disp != kAny) {
            const uint32_t dm = addr32 ? 0xFFFFFFFFu : 0xFFFFu;
            CHECK(hx(d.disp & dm) == hx(uint32_t(c.disp) & dm));
        }
        if (c.seg != kAny) CHECK(int(d.seg) == c.seg);
        if (c.reg != kAny) CHECK(int(d.reg) == c.reg);
        if (c.rm != kAny) CHECK(int(d.rm) == c.rm);
        if (c.imm != kAny) {
            uint32_t im = c.imm_mask ? c.imm_mask : ((d.flags & kfOp32) ? 0xFFFFFFFFu : 0xFFFFu);
            CHECK(hx(d.imm & im) == hx(uint32_t(c.imm) & im));
        }
        if (c.imm2 != kAny) CHECK(hx(d.imm2) == hx(uint32_t(c.imm2)));
        if (c.opcode != kAny) CHECK(hx(d.opcode) == hx(uint32_t(c.opcode)));
    }
    // Every proper prefix of a valid instruction is truncated, never a shorter instruction.
    for (unsigned avail = 0; avail < c.len; ++avail) {
        DecodedInsn d{};
        DecodeStatus st = dec.decode(buf, avail, c.code32, d);
        INFO("prefix of ", avail, " bytes: status ", std::string(status_name(st)));
        CHECK(st == DecodeStatus::kTruncated);
    }
}

DecodeStatus decode_bytes(const Decoder& dec, std::initializer_list<uint8_t> bytes, bool code32,
                          DecodedInsn& d) {
    uint8_t buf[16];
    std::memset(buf, 0x90, sizeof buf);
    std::copy(bytes.begin(), bytes.end(), buf);
    d = DecodedInsn{};
    return dec.decode(buf, sizeof buf, code32, d);
}

DecodeStatus status_of(const Decoder& dec, std::initializer_list<uint8_t> bytes, bool code32) {
    DecodedInsn d{};
    return decode_bytes(dec, bytes, code32, d);
}

}  // namespace

TEST_CASE("decoder: hand-picked instructions (P6)") {
    Decoder dec(CpuModel::kP6);
    for (const Case& c : kCases) check_case(dec, c);
}

TEST_CASE("decoder: the same bytes in 16- and 32-bit code") {
    Decoder dec(CpuModel::kP6);
    DecodedInsn d{};
    REQUIRE(decode_bytes(dec, {0xb8, 0x78, 0x56, 0x34, 0x12}, true, d) == DecodeStatus::kOk);
    CHECK(d.len == 5);
    REQUIRE(decode_bytes(dec, {0xb8, 0x78, 0x56, 0x34, 0x12}, false, d) == DecodeStatus::kOk);
    CHECK(d.len == 3);
    // 8b 05 disp32 in 32-bit code is 8b 05 = mov ax,[di] in 16-bit code.
    REQUIRE(decode_bytes(dec, {0x8b, 0x05, 0x78, 0x56, 0x34, 0x12}, false, d) == DecodeStatus::kOk);
    CHECK(d.len == 2);
    CHECK(d.base == EDI);
    CHECK(d.index == kRegNone);
    CHECK(d.seg == DS);
}

TEST_CASE("decoder: invalid encodings give kInvalid with a runnable record") {
    Decoder dec(CpuModel::kP6);
    struct Bad {
        const char* text;
        std::vector<uint8_t> bytes;
    };
    const Bad cases[] = {
        {"lea ax,ax", {0x8d, 0xc0}},
        {"fe /2", {0xfe, 0xd0}},
        {"ff /7", {0xff, 0xf8}},
        {"mov cs,ax", {0x8e, 0xc8}},
        {"mov r/m,sreg 7", {0x8c, 0xf8}},
        {"lock mov", {0xf0, 0x8b, 0x07}},
        {"lock add reg,reg", {0xf0, 0x01, 0xc0}},
        {"c6 /1", {0xc6, 0x08, 0x00}},
    };
    for (const Bad& b : cases) {
        uint8_t buf[16];
        std::memset(buf, 0x90, sizeof buf);
        std::memcpy(buf, b.bytes.data(), b.bytes.size());
        DecodedInsn d{};
        DecodeStatus st = dec.decode(buf, sizeof buf, false, d);
        INFO(std::string(b.text), " status ", std::string(status_name(st)));
        CHECK(st == DecodeStatus::kInvalid);
        CHECK((d.fn == ops::op_ud));  // raises #UD
        CHECK(d.len >= 1);
        CHECK(d.len <= 15);
    }
    // UD2 is defined to raise #UD: either status will do as long as the handler does that.
    DecodedInsn d{};
    DecodeStatus st = decode_bytes(dec, {0x0f, 0x0b}, false, d);
    CHECK((st == DecodeStatus::kInvalid || st == DecodeStatus::kOk));
    CHECK((d.fn == ops::op_ud));
    CHECK(d.len == 2);
}

TEST_CASE("decoder: instructions over the length limit raise #GP(0)") {
    // 386+: 15 bytes; the 286: 10. A longer instruction is either rejected or runs op_gp0.
    auto check_limit = [](CpuModel model, unsigned limit) {
        Decoder dec(model);
        for (unsigned len = limit; len <= limit + 1; ++len) {
            uint8_t buf[24];
            std::memset(buf, 0x26, sizeof buf);
            buf[len - 2] = 0x8b;
            buf[len - 1] = 0x07;
            DecodedInsn d{};
            DecodeStatus st = dec.decode(buf, sizeof buf, false, d);
            INFO("limit ", limit, " length ", len, " status ", std::string(status_name(st)));
            if (len <= limit) {
                CHECK(st == DecodeStatus::kOk);
                CHECK(d.len == len);
                CHECK((d.fn != ops::op_gp0));
            } else {
                CHECK((st != DecodeStatus::kOk || d.fn == ops::op_gp0));
            }
        }
    };
    check_limit(CpuModel::kP6, 15);
    check_limit(CpuModel::k386, 15);
    check_limit(CpuModel::k286, 10);
}

TEST_CASE("decoder: model ISA gates") {
    Decoder d8086(CpuModel::k8086), d286(CpuModel::k286), d386(CpuModel::k386),
        d486(CpuModel::k486), dp5(CpuModel::kPentium), dp6(CpuModel::kP6);
    using S = DecodeStatus;

    SUBCASE("286: no 386 prefixes or opcodes") {
        CHECK(status_of(d286, {0x66, 0x90}, false) == S::kInvalid);
        CHECK(status_of(d286, {0x66, 0xb8, 0x00, 0x00}, false) == S::kInvalid);
        CHECK(status_of(d286, {0x67, 0x8b, 0x07}, false) == S::kInvalid);
        CHECK(status_of(d286, {0x64, 0x8b, 0x07}, false) == S::kInvalid);
        CHECK(status_of(d286, {0x0f, 0xa2}, false) == S::kInvalid);           // CPUID
        CHECK(status_of(d286, {0x0f, 0xb6, 0xc1}, false) == S::kInvalid);     // MOVZX
        CHECK(status_of(d286, {0x0f, 0x84, 0x00, 0x00}, false) == S::kInvalid);  // Jcc rel16
        // ... but the 186/286 additions are there.
        DecodedInsn d{};
        CHECK(decode_bytes(d286, {0x60}, false, d) == S::kOk);  // PUSHA
        CHECK(d.len == 1);
        CHECK(decode_bytes(d286, {0xc1, 0xe0, 0x05}, false, d) == S::kOk);
        CHECK(d.len == 3);
        CHECK(decode_bytes(d286, {0xc8, 0x10, 0x00, 0x00}, false, d) == S::kOk);
        CHECK(d.len == 4);
        CHECK(decode_bytes(d286, {0x6b, 0xc1, 0x05}, false, d) == S::kOk);
        CHECK(d.len == 3);
        CHECK(decode_bytes(d286, {0x8b, 0x07}, false, d) == S::kOk);
    }
    SUBCASE("386/486: BSWAP, XADD, CMPXCHG from the 486") {
        CHECK(status_of(d386, {0x66, 0x90}, false) == S::kOk);
        CHECK(status_of(d386, {0x0f, 0xb6, 0xc1}, false) == S::kOk);
        CHECK(status_of(d386, {0x0f, 0xc8}, true) == S::kInvalid);
        CHECK(status_of(d386, {0x0f, 0xc1, 0x01}, true) == S::kInvalid);
        CHECK(status_of(d386, {0x0f, 0xb1, 0x01}, true) == S::kInvalid);
        CHECK(status_of(d386, {0x0f, 0xa2}, true) == S::kInvalid);
        CHECK(status_of(d486, {0x0f, 0xc8}, true) == S::kOk);
        CHECK(status_of(d486, {0x0f, 0xc1, 0x01}, true) == S::kOk);
        CHECK(status_of(d486, {0x0f, 0xb1, 0x01}, true) == S::kOk);
        CHECK(status_of(d486, {0x0f, 0xa2}, true) == S::kInvalid);
    }
    SUBCASE("Pentium: CPUID, RDTSC; P6: CMOVcc") {
        CHECK(status_of(dp5, {0x0f, 0xa2}, true) == S::kOk);
        CHECK(status_of(dp5, {0x0f, 0x31}, true) == S::kOk);
        CHECK(status_of(d486, {0x0f, 0x31}, true) == S::kInvalid);
        CHECK(status_of(dp5, {0x0f, 0x40, 0xc1}, true) == S::kInvalid);
        CHECK(status_of(dp6, {0x0f, 0x40, 0xc1}, true) == S::kOk);
        CHECK(status_of(dp6, {0x0f, 0xa2}, false) == S::kOk);
    }
    SUBCASE("8086: 60-6F are Jcc aliases of 70-7F") {
        for (unsigned cc = 0; cc < 16; ++cc) {
            DecodedInsn alias{}, real{};
            INFO("cc ", cc);
            REQUIRE(decode_bytes(d8086, {uint8_t(0x60 + cc), 0xfb}, false, alias) == S::kOk);
            REQUIRE(decode_bytes(d8086, {uint8_t(0x70 + cc), 0xfb}, false, real) == S::kOk);
            CHECK(alias.len == 2);
            CHECK((alias.fn == real.fn));  // same handler
            CHECK(alias.imm == real.imm);
            CHECK((alias.opcode & 15) == cc);  // handlers read cc from the opcode's low nibble
            CHECK((alias.flags & kfEndsBlock) != 0);
        }
        // And on later models 60 is PUSHA, one byte.
        DecodedInsn d{};
        REQUIRE(decode_bytes(dp6, {0x60, 0xfb}, false, d) == S::kOk);
        CHECK(d.len == 1);
    }
    SUBCASE("8086: C0/C1/C8/C9 are RET aliases, 0F is POP CS") {
        const std::pair<uint8_t, uint8_t> aliases[] = {{0xc0, 0xc2}, {0xc1, 0xc3}, {0xc8, 0xca},
                                                       {0xc9, 0xcb}};
        for (auto [alias_op, real_op] : aliases) {
            DecodedInsn alias{}, real{};
            INFO("opcode ", hx(alias_op));
            REQUIRE(decode_bytes(d8086, {alias_op, 0x08, 0x00}, false, alias) == S::kOk);
            REQUIRE(decode_bytes(d8086, {real_op, 0x08, 0x00}, false, real) == S::kOk);
            CHECK(alias.len == real.len);
            CHECK(alias.len == ((real_op & 1) ? 1 : 3));
            CHECK((alias.fn == real.fn));  // same handler
            CHECK((alias.imm & 0xFFFF) == (real.imm & 0xFFFF));
            CHECK((alias.opcode & 1) == (real_op & 1));  // RET handlers test bit 0 for the imm form
        }
        DecodedInsn d{};
        REQUIRE(decode_bytes(d8086, {0x0f, 0x84, 0x00, 0x00}, false, d) == S::kOk);
        CHECK(d.len == 1);  // POP CS, then 84 00 is a separate TEST
        // 66 is not a prefix on the 8086: it is JBE (alias of 76).
        REQUIRE(decode_bytes(d8086, {0x66, 0x05}, false, d) == S::kOk);
        CHECK(d.len == 2);
    }
}

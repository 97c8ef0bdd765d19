; pm_exceptions.asm: the protected-mode exception classes at CPL0, with their vectors, error
; codes and saved EIP (fault: the faulting instruction; trap: the next one), the error codes of
; faults raised while reaching a gate (IDT bit; the EXT bit is in pm_strict.asm because QEMU
; never sets it for an exception raised while delivering another one), gate types and the
; flags they clear, and double faults.
;
; Covered: #DE, #BP, #OF, #BR, #UD, #NM, #DF, #TS, #NP, #SS, #GP. Elsewhere: #DB in pm_debug.asm,
; #PF in paging*.asm, #AC and DPL checks of INT n in the ring-3 tests.
; #MF (and the FERR#/IRQ 13 path) in x87.asm.
; Not covered: NMI and #MC (no way to raise them from a test), #XM (needs SSE, which vx86 does
; not have yet), #AC (needs CPL3).
%include "pm.inc"

SEL_NP       equ 0x40   ; writable data, not present
SEL_TSS_SMALL equ 0x48  ; 32-bit TSS whose limit 0x50 is below the minimum 0x67
SEL_CODE_NP  equ 0x50   ; flat code, not present
SEL_CODE_F0  equ 0x58   ; 32-bit code, base 0xF0000, limit 0xFFFF (handlers in .rm16 for
                        ; 16-bit gates, whose offsets have only 16 bits)

section .bss
bounds:      resd 2
h_esp:       resd 1     ; what the INT handlers saw
h_eflags:    resd 1
h_frame:     resd 3
saved_idtr:  resb 6
             resb 2

PM32
test_main:
    PRINT "# pm_exceptions: exception classes, error codes, gates, double faults"
    SET_GDT SEL_NP, 0, 0xFFFFF, 0xC013
    SET_GDT SEL_TSS_SMALL, 0x4800, 0x50, 0x0089
    SET_GDT SEL_CODE_NP, 0, 0xFFFFF, 0xC01B
    SET_GDT SEL_CODE_F0, 0xF0000, 0xFFFF, 0x409B
    mov al, 0xFF                                ; mask the PICs: IF is set in a few checks
    out 0x21, al
    out 0xA1, al

    ; ---------------------------------------------------------------- #DE
    PRINT "# #DE"
    mov eax, 0x12345678
    mov edx, 0
    mov ecx, 0
    FAULT VEC_DE, 0, "div ecx=0 -> #DE, fault", div ecx
    CHECK_EQ eax, 0x12345678, "#DE left EAX alone"
    mov edx, 1
    mov eax, 0
    mov ecx, 1
    FAULT VEC_DE, 0, "div: quotient 0x100000000 too large -> #DE", div ecx
    mov eax, 0x80000000
    cdq
    mov ecx, -1
    FAULT VEC_DE, 0, "idiv 0x80000000 / -1 -> #DE", idiv ecx
    mov ax, 0x1000
    mov cl, 0x10
    FAULT VEC_DE, 0, "div cl: 0x1000 / 0x10 = 0x100 > 0xFF -> #DE", div cl
    mov ax, 0x0FF0
    mov cl, 0x10
    NOFAULT "div cl: 0x0FF0 / 0x10 = 0xFF fits", div cl

    ; ---------------------------------------------------------------- #BP, #OF, #BR
    PRINT "# #BP, #OF, #BR"
    TRAP VEC_BP, 0, "int3 (CC) -> #BP, trap: EIP after", int3
    TRAP VEC_BP, 0, "int 3 (CD 03) -> #BP, trap: EIP after the 2 bytes", db 0xCD, 0x03
    mov al, 0x7F
    add al, 1                                   ; OF=1
    TRAP VEC_OF, 0, "into with OF=1 -> #OF, trap", into
    mov al, 1
    add al, 1                                   ; OF=0
    NOFAULT "into with OF=0 does nothing", into
    mov dword [bounds], -10
    mov dword [bounds + 4], 10
    mov eax, -5
    NOFAULT "bound -5 in [-10, 10] (signed)", bound eax, [bounds]
    mov eax, 10
    NOFAULT "bound 10 in [-10, 10] (upper bound inclusive)", bound eax, [bounds]
    mov eax, 11
    FAULT VEC_BR, 0, "bound 11 in [-10, 10] -> #BR, fault", bound eax, [bounds]
    mov eax, -11
    FAULT VEC_BR, 0, "bound -11 in [-10, 10] -> #BR", bound eax, [bounds]

    ; ---------------------------------------------------------------- #UD
    PRINT "# #UD"
    FAULT VEC_UD, 0, "ud2 -> #UD", ud2
    FAULT VEC_UD, 0, "0F FF (UD0) -> #UD", db 0x0F, 0xFF
    FAULT VEC_UD, 0, "lock nop -> #UD", db 0xF0, 0x90
    FAULT VEC_UD, 0, "lock add eax, ebx (register destination) -> #UD", db 0xF0, 0x01, 0xD8
    FAULT VEC_UD, 0, "mov cs, ax (8E C8) -> #UD", db 0x8E, 0xC8
    FAULT VEC_UD, 0, "lea eax, ebx (register operand) -> #UD", db 0x8D, 0xC3
    FAULT VEC_UD, 0, "jmp far eax (FF /5, register) -> #UD", db 0xFF, 0xE8
    FAULT VEC_UD, 0, "FE /2 -> #UD", db 0xFE, 0xD0
    FAULT VEC_UD, 0, "cmpxchg8b eax (register) -> #UD", db 0x0F, 0xC7, 0xC8

    ; ---------------------------------------------------------------- #NM
    PRINT "# #NM"
    mov ebx, cr0
    mov eax, ebx
    and eax, ~(CR0_EM | CR0_MP | CR0_TS)
    or eax, CR0_TS
    mov cr0, eax
    FAULT VEC_NM, 0, "CR0.TS=1: fninit -> #NM", fninit
    FAULT VEC_NM, 0, "CR0.TS=1: fld st0 -> #NM", fld st0
    NOFAULT "CR0.TS=1, MP=0: wait does not fault", wait
    or eax, CR0_MP
    mov cr0, eax
    FAULT VEC_NM, 0, "CR0.TS=1, MP=1: wait -> #NM", wait
    and eax, ~(CR0_TS | CR0_MP)
    or eax, CR0_EM
    mov cr0, eax
    FAULT VEC_NM, 0, "CR0.EM=1: fninit -> #NM", fninit
    NOFAULT "CR0.EM=1, TS=0: wait does not fault", wait
    mov cr0, ebx

    ; ---------------------------------------------------------------- selector faults
    PRINT "# #TS, #NP, #SS, #GP from instructions"
    FAULT VEC_TS, SEL_TSS_SMALL, "jmp to a TSS with limit 0x50 < 0x67 -> #TS(sel)", jmp SEL_TSS_SMALL:0
    FAULT VEC_TS, SEL_TSS_SMALL, "call to a TSS with limit 0x50 -> #TS(sel)", call SEL_TSS_SMALL:0
    movzx eax, byte [GDT_BASE + SEL_TSS_SMALL + 5]
    CHECK_EQ eax, 0x89, "the small TSS stayed available"
    str eax
    CHECK_EQ eax, SEL_TSS, "TR unchanged"
    mov ax, SEL_NP
    FAULT VEC_NP, SEL_NP, "mov ds, not-present -> #NP(sel)", mov ds, ax
    mov ax, SEL_NP | 4
    FAULT VEC_GP, SEL_NP | 4, "mov ds, TI=1 with a null LDTR -> #GP(sel|TI)", mov ds, ax
    mov ax, SEL_NP
    FAULT VEC_SS, SEL_NP, "mov ss, not-present -> #SS(sel)", mov ss, ax
    mov ax, 0x1008
    FAULT VEC_GP, 0x1008, "mov es, beyond GDT limit -> #GP(sel)", mov es, ax

    ; ---------------------------------------------------------------- INT n and gates
    PRINT "# INT n: gates and the error codes of faults while reaching them"
    FAULT VEC_GP, 0x41 * 8 + 2, "int 0x41, zero gate -> #GP(0x41*8+2), IDT bit set, EXT clear", int 0x41
    SET_IDT 0x42, SEL_CODE32, int_handler, 0x0E00           ; interrupt gate, P=0
    FAULT VEC_NP, 0x42 * 8 + 2, "int 0x42, not-present gate -> #NP(0x42*8+2)", int 0x42
    SET_IDT 0x43, 0, int_handler, 0x8E00
    FAULT VEC_GP, 0, "int 0x43, gate with a null CS -> #GP(0)", int 0x43
    SET_IDT 0x44, SEL_DATA32, int_handler, 0x8E00
    FAULT VEC_GP, SEL_DATA32, "int 0x44, gate to a data segment -> #GP(sel)", int 0x44
    SET_IDT 0x45, 0x1008, int_handler, 0x8E00
    FAULT VEC_GP, 0x1008, "int 0x45, gate CS beyond GDT limit -> #GP(sel)", int 0x45
    SET_IDT 0x46, SEL_CODE_NP, int_handler, 0x8E00
    FAULT VEC_NP, SEL_CODE_NP, "int 0x46, gate to not-present code -> #NP(sel)", int 0x46
    SET_IDT 0x47, SEL_CODE32, int_handler, 0x8C00           ; call gate: not allowed in the IDT
    FAULT VEC_GP, 0x47 * 8 + 2, "int 0x47, call gate in the IDT -> #GP(0x47*8+2)", int 0x47
    sidt [saved_idtr]
    mov word [h_frame], 0x47 * 8 + 7                        ; limit: 0x48 gates
    mov dword [h_frame + 2], IDT_BASE
    lidt [h_frame]
    SET_IDT 0x48, SEL_CODE32, int_handler, 0x8E00
    FAULT VEC_GP, 0x48 * 8 + 2, "int 0x48 beyond IDT limit 0x23F -> #GP(0x48*8+2)", int 0x48
    lidt [saved_idtr]

    ; the frame an interrupt gate builds at the same privilege level, and the flags it clears
    SET_IDT 0x50, SEL_CODE32, int_handler, 0x8E00
    mov ebx, esp
    push dword EFL_NT | EFL_IF | 2
    popfd
    int 0x50
.after_int50:
    cli
    push dword 2
    popfd
    sub ebx, 12
    CHECK_EQ [h_esp], ebx, "interrupt gate, same CPL: 12-byte frame (no SS:ESP)"
    CHECK_EQ [h_frame], .after_int50, "frame EIP = the instruction after int 0x50"
    CHECK_EQ [h_frame + 4], SEL_CODE32, "frame CS"
    CHECK_MASK [h_frame + 8], EFL_NT | EFL_IF, EFL_NT | EFL_IF, "frame EFLAGS has NT=1, IF=1"
    CHECK_MASK [h_eflags], EFL_NT | EFL_IF, 0, "interrupt gate: handler runs with NT=0, IF=0"
    SET_IDT 0x51, SEL_CODE32, int_handler, 0x8F00
    push dword EFL_NT | EFL_IF | 2
    popfd
    int 0x51
    cli
    push dword 2
    popfd
    CHECK_MASK [h_eflags], EFL_NT | EFL_IF, EFL_IF, "trap gate: handler runs with NT=0, IF kept"
    SET_IDT 0x52, SEL_CODE_F0, int16_handler, 0x8600        ; 16-bit interrupt gate
    mov ebx, esp
    int 0x52
after_int52:
    sub ebx, 6
    CHECK_EQ [h_esp], ebx, "16-bit interrupt gate: 6-byte frame"
    mov eax, after_int52
    and eax, 0xFFFF
    or eax, SEL_CODE32 << 16
    CHECK_EQ [h_frame], eax, "16-bit frame: IP (low 16 bits of EIP) and CS"

    ; ---------------------------------------------------------------- EXT
    PRINT "# faults while delivering an exception (the EXT bit itself: pm_strict.asm)"
    SET_IDT VEC_BP, SEL_CODE32, 0, 0x0E00
    FAULT VEC_NP, VEC_BP * 8 + 2, "int3 with a not-present gate -> #NP(3*8+2), EXT clear (software)", int3
    RESTORE_IDT_GATE VEC_BP

    ; ---------------------------------------------------------------- double fault
    PRINT "# #DF"
    SET_IDT VEC_GP, SEL_CODE32, 0, 0x0E00                   ; #GP gate not present
    mov ax, 0x1008
    EXPECT .df1
    mov ds, ax                                  ; #GP -> #NP while delivering it -> #DF
    DISARM
.df1:
    RESTORE_IDT_GATE VEC_GP
    CHECK_EXC VEC_DF, 0, "#GP with a not-present #GP gate -> #NP -> #DF(0)"
    mov dword [IDT_BASE + VEC_DE * 8], 0
    mov dword [IDT_BASE + VEC_DE * 8 + 4], 0                ; #DE gate: invalid type
    xor ecx, ecx
    EXPECT .df2
    div ecx                                     ; #DE -> #GP while delivering it -> #DF
    DISARM
.df2:
    RESTORE_IDT_GATE VEC_DE
    CHECK_EXC VEC_DF, 0, "#DE with an invalid #DE gate -> #GP -> #DF(0)"
    SET_IDT VEC_NP, SEL_CODE32, 0, 0x0E00                   ; #NP gate not present
    mov ax, SEL_NP
    EXPECT .df3
    mov es, ax                                  ; #NP -> #NP while delivering it -> #DF
    DISARM
.df3:
    RESTORE_IDT_GATE VEC_NP
    CHECK_EXC VEC_DF, 0, "#NP with a not-present #NP gate -> #DF(0)"
    SET_IDT VEC_UD, SEL_CODE32, 0, 0x0E00
    EXPECT .nodf
.nodf_insn:
    ud2
.nodf:
    RESTORE_IDT_GATE VEC_UD
    CHECK_EQ [exc_vector], VEC_NP, "but #UD (benign) with a not-present gate -> #NP, no #DF"
    CHECK_MASK [exc_error], ~1, VEC_UD * 8 + 2, "... error code 6*8+2 (+EXT)"
    CHECK_EQ [exc_eip], .nodf_insn, "... saved EIP = the ud2"
    FINISH

; A handler for the INT n checks: records ESP, the frame and its own EFLAGS.
int_handler:
    mov [h_esp], esp
    push eax
    mov eax, [esp + 4]
    mov [h_frame], eax
    mov eax, [esp + 8]
    mov [h_frame + 4], eax
    mov eax, [esp + 12]
    mov [h_frame + 8], eax
    pushfd
    pop eax
    mov [h_eflags], eax
    pop eax
    iretd

RM16
bits 32                                         ; 32-bit code in .rm16: runs in SEL_CODE_F0
int16_handler:
    mov [h_esp], esp
    push eax
    mov eax, [esp + 4]                          ; IP (16 bits), CS (16 bits)
    mov [h_frame], eax
    pop eax
    add esp, 6                                  ; an o16 iret would return to IP, i.e. EIP
    jmp SEL_CODE32:after_int52                  ; truncated to 16 bits: go back by hand
bits 16

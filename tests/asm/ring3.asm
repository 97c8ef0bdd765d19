; ring3.asm: privilege levels (SDM vol. 3A, chapters 5 and 6, and the instructions' pages in
; vol. 2): far CALL through 32-bit and 16-bit call gates from ring 3 to ring 0 with the stack
; switch and parameter copy, RETF n back, the data segment registers nulled on the way out,
; the call-gate checks, data-segment loads at CPL3, IRET to an outer ring, INT n and the gate
; DPL, the privileged instructions at CPL3, IN/OUT and the TSS I/O permission bitmap, POPF and
; PUSHF at CPL3, alignment checking, SYSENTER/SYSEXIT, CR4.TSD and RDPMC.
; Oracles: the full ROM passes on tests/asm/bochs-run.sh (Bochs 2.7, -cpu p3_katmai); QEMU's TCG
; never raises #AC (alignment checking is not modelled), so on tests/asm/qemu-run.sh (-cpu
; pentium3) it is the ROM assembled with -DORACLE_QEMU, which leaves the four #AC checks out
; (and does not check CS.RPL after a call gate to conforming code, see there).
%include "pm.inc"
%include "tasks.inc"

SEL_SYS_CS0     equ 0x40            ; SYSENTER_CS: flat code DPL0, then data DPL0, code DPL3,
SEL_SYS_SS0     equ 0x48            ; data DPL3 (the layout SYSENTER/SYSEXIT assume)
SEL_SYS_CS3     equ 0x50
SEL_SYS_SS3     equ 0x58
SEL_CG32        equ 0x60            ; 32-bit call gate, DPL3, 3 params -> SEL_CODE32:cg32_target
SEL_CG16        equ 0x68            ; 16-bit call gate, DPL3, 2 params -> SEL_CODE16:cg16_target
SEL_CODE16_R3   equ 0x70            ; 16-bit code, base 0xF0000, DPL3
SEL_CG_DPL0     equ 0x78            ; 32-bit call gate, DPL0
SEL_CG_NP       equ 0x80            ; call gate, not present
SEL_CODE_NP     equ 0x88            ; code DPL0, not present
SEL_CG_TO_NP    equ 0x90            ; call gate DPL3 -> SEL_CODE_NP
SEL_CG_TO_DATA  equ 0x98            ; call gate DPL3 -> SEL_DATA32
SEL_TSS2        equ 0xA0            ; an available copy of the library TSS descriptor (LTR operand)
SEL_LDT         equ 0xA8            ; an LDT (LLDT operand)
SEL_CONF        equ 0xB0            ; flat conforming code, DPL0
SEL_CG_CONF     equ 0xB8            ; 32-bit call gate, DPL3, 1 param -> SEL_CONF:conf_target

R3_STACK        equ 0xF000
FRAME_TOP       equ RING0_STACK_TOP     ; TSS.ESP0

section .bss
cg_esp:         resd 1
cg_cs:          resd 1
cg_ss:          resd 1
cg_frame:       resd 8
ret_esp:        resd 1
ret_cs:         resd 1
ret_ss:         resd 1
ret_ds:         resd 1
ret_es:         resd 1
ret_fs:         resd 1
ret_gs:         resd 1
ret_fl:         resd 1
ret_ebx:        resd 1
int_frame:      resd 5
int_esp:        resd 1
saved_cr0:      resd 1
r3_buf:         resd 2
se_cs:          resd 1
se_ss:          resd 1
se_esp:         resd 1
se_fl:          resd 1
tmp:            resd 1

PM32
test_main:
    PRINT "# ring3: privilege levels, call gates, I/O bitmap, SYSENTER"
    MASK_PIC
    SET_GDT SEL_SYS_CS0, 0, 0xFFFFF, 0xC09B
    SET_GDT SEL_SYS_SS0, 0, 0xFFFFF, 0xC093
    SET_GDT SEL_SYS_CS3, 0, 0xFFFFF, 0xC0FB
    SET_GDT SEL_SYS_SS3, 0, 0xFFFFF, 0xC0F3
    SET_GATE GDT_BASE + SEL_CG32, SEL_CODE32, cg32_target, 0xEC03
    SET_GATE GDT_BASE + SEL_CG16, SEL_CODE16, cg16_target, 0xE402
    SET_GDT SEL_CODE16_R3, 0xF0000, 0xFFFF, 0x00FB
    SET_GATE GDT_BASE + SEL_CG_DPL0, SEL_CODE32, cg32_target, 0x8C03
    SET_GATE GDT_BASE + SEL_CG_NP, SEL_CODE32, cg32_target, 0x6C00
    SET_GDT SEL_CODE_NP, 0, 0xFFFFF, 0xC01B
    SET_GATE GDT_BASE + SEL_CG_TO_NP, SEL_CODE_NP, 0, 0xEC00
    SET_GATE GDT_BASE + SEL_CG_TO_DATA, SEL_DATA32, 0, 0xEC00
    SET_GDT SEL_TSS2, TSS_BASE, TSS_LIMIT, 0x0089
    SET_GDT SEL_LDT, LDT_BASE, 0x0F, 0x0082
    SET_GDT SEL_CONF, 0, 0xFFFFF, 0xC09F
    SET_GATE GDT_BASE + SEL_CG_CONF, SEL_CONF, conf_target, 0xEC01
    mov eax, cr0
    mov [saved_cr0], eax

    ; ------------------------------------------------------------ 32-bit call gate, 3 params
    PRINT "# CALL through a 32-bit call gate from ring 3, 3 dword parameters, RETF 12"
    ENTER_RING3 .a3, R3_STACK
.a3:
    mov ebx, 0xB0B0B0B0
    push dword 0x11111111
    push dword 0x22222222
    push dword 0x33333333
    call SEL_CG32 | 3:0xDEAD                ; the offset is ignored
.a3_ret:
    call record_ret                         ; through SS: DS may be null now
    LOAD_FLAT_DS
    CHECK_EQ [cg_cs], SEL_CODE32, "gate: CS = the gate's selector, CPL0"
    CHECK_EQ [cg_ss], SEL_DATA32, "gate: SS = TSS.SS0"
    CHECK_EQ [cg_esp], FRAME_TOP - 28, "gate: ESP = TSS.ESP0 - 7 dwords"
    CHECK_EQ [cg_frame + 0], .a3_ret, "frame: return EIP"
    CHECK_MASK [cg_frame + 4], 0xFFFF, SEL_CODE32_R3 | 3, "frame: caller's CS"
    CHECK_EQ [cg_frame + 8], 0x33333333, "frame: parameter 1 (the last pushed) copied"
    CHECK_EQ [cg_frame + 12], 0x22222222, "frame: parameter 2 copied"
    CHECK_EQ [cg_frame + 16], 0x11111111, "frame: parameter 3 copied"
    CHECK_EQ [cg_frame + 20], R3_STACK - 12, "frame: caller's ESP"
    CHECK_MASK [cg_frame + 24], 0xFFFF, SEL_DATA32_R3 | 3, "frame: caller's SS"
    CHECK_EQ [ret_esp], R3_STACK, "RETF 12: ring-3 ESP restored past the parameters"
    CHECK_EQ [ret_cs], SEL_CODE32_R3 | 3, "RETF 12: CS back to ring 3"
    CHECK_EQ [ret_ss], SEL_DATA32_R3 | 3, "RETF 12: SS back"
    CHECK_EQ [ret_ds], 0, "RETF to ring 3: DS (DPL0 data) nulled"
    CHECK_EQ [ret_es], 0, "RETF to ring 3: ES (DPL0 data) nulled"
    CHECK_EQ [ret_fs], SEL_DATA32_R3 | 3, "RETF to ring 3: FS (DPL3 data) kept"
    CHECK_EQ [ret_gs], 0, "RETF to ring 3: GS (DPL0 data) nulled"
    CHECK_EQ [ret_ebx], 0xB0B0B0B0, "EBX kept across the gate"

    ; ------------------------------------------------------------ 16-bit call gate, 2 params
    PRINT "# CALL through a 16-bit call gate from 16-bit ring-3 code, 2 word parameters, RETF 4"
    TO_RING0
    EXPECT .b_done
    ENTER_RING3_AT SEL_CODE16_R3, r3_16_code, R3_STACK, 0x2
.b_done:
    mov esp, STACK_TOP
    CHECK_EXC_AT VEC_UD, 0, r3_16_end, "16-bit ring-3 code ran to its UD2"
    CHECK_EQ [cg_cs], SEL_CODE16, "gate16: CS = the gate's selector"
    CHECK_EQ [cg_ss], SEL_DATA32, "gate16: SS = TSS.SS0"
    CHECK_EQ [cg_esp], FRAME_TOP - 12, "gate16: ESP = TSS.ESP0 - 6 words"
    CHECK_MASK [cg_frame + 0], 0xFFFF, r3_16_ret, "frame16: return IP"
    CHECK_MASK [cg_frame + 2], 0xFFFF, SEL_CODE16_R3 | 3, "frame16: caller's CS"
    CHECK_MASK [cg_frame + 4], 0xFFFF, 0x2222, "frame16: parameter 1 copied"
    CHECK_MASK [cg_frame + 6], 0xFFFF, 0x1111, "frame16: parameter 2 copied"
    CHECK_MASK [cg_frame + 8], 0xFFFF, R3_STACK - 4, "frame16: caller's SP"
    CHECK_MASK [cg_frame + 10], 0xFFFF, SEL_DATA32_R3 | 3, "frame16: caller's SS"
    CHECK_EQ [ret_esp], R3_STACK, "RETF 4 (16-bit): ESP restored past the parameters"
    CHECK_EQ [ret_cs], SEL_CODE16_R3 | 3, "RETF 4: CS back"
    CHECK_EQ [ret_ss], SEL_DATA32_R3 | 3, "RETF 4: SS back"
    CHECK_EQ [ret_ds], 0, "RETF 4: DS (DPL0) nulled"
    CHECK_EQ [ret_es], SEL_DATA32_R3 | 3, "RETF 4: ES (DPL3) kept"

    ; ------------------------------------------------------------ call gate checks
    PRINT "# call gate checks from ring 3"
    ENTER_RING3 .c3, R3_STACK
.c3:
    FAULT_KEEP VEC_GP, SEL_CG_DPL0, "CALL gate with DPL0 < CPL3 -> #GP(gate sel)", call SEL_CG_DPL0 | 3:0
    FAULT_KEEP VEC_NP, SEL_CG_NP, "CALL a not-present gate -> #NP(gate sel)", call SEL_CG_NP | 3:0
    FAULT_KEEP VEC_NP, SEL_CODE_NP, "CALL gate to a not-present code segment -> #NP(code sel)", call SEL_CG_TO_NP | 3:0
    FAULT_KEEP VEC_GP, SEL_DATA32, "CALL gate to a data segment -> #GP(target sel)", call SEL_CG_TO_DATA | 3:0
    FAULT_KEEP VEC_GP, SEL_CODE32, "JMP through a gate to more privileged code -> #GP(code sel)", jmp SEL_CG32 | 3:0
    FAULT_KEEP VEC_GP, SEL_CODE32, "CALL a DPL0 code segment directly -> #GP(sel)", call SEL_CODE32:0
    mov eax, esp
    CHECK_EQ eax, R3_STACK, "ring 3: ESP untouched by the failed transfers"
    ; a gate to conforming code: no privilege change, no stack switch, no parameter copy
    push dword 0xC0FFEE
    call SEL_CG_CONF | 3:0
.c3_conf_ret:
    call record_ret
%ifdef ORACLE_QEMU
    ; (QEMU 7.2 keeps the gate's RPL 0 in CS here; the SDM's CALL pseudocode and Bochs set CS.RPL
    ; to the CPL)
    CHECK_MASK [cg_cs], 0xFFFC, SEL_CONF, "gate to conforming code: CS = its selector"
%else
    CHECK_EQ [cg_cs], SEL_CONF | 3, "gate to conforming code: CS = its selector with RPL = CPL 3"
%endif
    CHECK_EQ [cg_ss], SEL_DATA32_R3 | 3, "gate to conforming code: SS unchanged"
    CHECK_EQ [cg_esp], R3_STACK - 12, "gate to conforming code: same stack, CS:EIP pushed"
    CHECK_EQ [cg_frame + 0], .c3_conf_ret, "gate to conforming code: return EIP"
    CHECK_MASK [cg_frame + 4], 0xFFFF, SEL_CODE32_R3 | 3, "gate to conforming code: caller's CS"
    CHECK_EQ [cg_frame + 8], 0xC0FFEE, "gate to conforming code: the parameter in place"
    CHECK_EQ [ret_esp], R3_STACK, "RETF 4 from conforming code: ESP restored"
    CHECK_EQ [ret_cs], SEL_CODE32_R3 | 3, "RETF 4 from conforming code: CS"
    mov eax, cs
    CHECK_EQ eax, SEL_CODE32_R3 | 3, "ring 3: still in ring 3"

    ; ------------------------------------------------------------ data segments at CPL3
    PRINT "# segment loads at CPL3"
    mov ax, SEL_DATA32
    FAULT_KEEP VEC_GP, SEL_DATA32, "MOV DS, DPL0 data (RPL0) at CPL3 -> #GP(sel)", mov ds, ax
    mov ax, SEL_DATA32 | 3
    FAULT_KEEP VEC_GP, SEL_DATA32, "MOV ES, DPL0 data (RPL3) at CPL3 -> #GP(sel)", mov es, ax
    mov ax, SEL_DATA32_R3
    FAULT_KEEP VEC_GP, SEL_DATA32_R3, "MOV SS, DPL3 data with RPL0 at CPL3 -> #GP(sel)", mov ss, ax
    mov ax, SEL_DATA32 | 3
    FAULT_KEEP VEC_GP, SEL_DATA32, "MOV SS, DPL0 data at CPL3 -> #GP(sel)", mov ss, ax
    mov ax, SEL_CODE32_R3 | 3
    FAULT_KEEP VEC_GP, SEL_CODE32_R3, "MOV SS, code at CPL3 -> #GP(sel)", mov ss, ax
    mov ax, SEL_CODE32_R3 | 3
    NOFAULT "MOV FS, readable DPL3 code at CPL3 is allowed", mov fs, ax
    mov ax, SEL_DATA32_R3 | 3
    NOFAULT "MOV GS, DPL3 data at CPL3 is allowed", mov gs, ax

    ; ------------------------------------------------------------ IRET to an outer ring
    PRINT "# IRETD from ring 0 to ring 3"
    EXPECT .e0
    ud2
.e0:
    push dword SEL_DATA32_R3                ; RPL 0 != the new CPL 3
    push dword 0xE000
    push dword 0x2
    push dword SEL_CODE32_R3 | 3
    push dword .e_bad
    FAULT VEC_GP, SEL_DATA32_R3, "IRETD to ring 3 with SS RPL 0 -> #GP(SS sel)", iretd
    push dword SEL_DATA32 | 3               ; DPL0 data as the ring-3 stack
    push dword 0xE000
    push dword 0x2
    push dword SEL_CODE32_R3 | 3
    push dword .e_bad
    FAULT VEC_GP, SEL_DATA32, "IRETD to ring 3 with a DPL0 SS -> #GP(SS sel)", iretd
    push dword SEL_DATA32_R3 | 3
    push dword 0xE000
    push dword 0x2
    push dword SEL_CODE32 | 3               ; DPL0 non-conforming code with RPL 3
    push dword .e_bad
    FAULT VEC_GP, SEL_CODE32, "IRETD with CS RPL 3 != DPL 0 -> #GP(CS sel)", iretd
    add esp, 60
    jmp .e_ok
.e_bad:
    NOT_OK "a faulting IRETD went to ring 3"
    TO_RING0
.e_ok:
    mov ax, SEL_DATA32
    mov es, ax
    mov fs, ax
    mov ax, SEL_DATA32_R3 | 3
    mov ds, ax
    mov gs, ax
    mov ebx, 0x0E0E0E0E
    push dword SEL_DATA32_R3 | 3
    push dword 0xE000
    push dword 0x2 | EFL_IOPL | EFL_CF
    push dword SEL_CODE32_R3 | 3
    push dword .e3
    iretd
.e3:
    call record_ret
    LOAD_FLAT_DS
    CHECK_EQ [ret_cs], SEL_CODE32_R3 | 3, "IRET: CS ring 3"
    CHECK_EQ [ret_ss], SEL_DATA32_R3 | 3, "IRET: SS from the frame"
    CHECK_EQ [ret_esp], 0xE000, "IRET: ESP from the frame"
    CHECK_EQ [ret_fl], 0x2 | EFL_IOPL | EFL_CF, "IRET: EFLAGS with IOPL 3 from the frame"
    CHECK_EQ [ret_ds], SEL_DATA32_R3 | 3, "IRET: DS (DPL3) kept"
    CHECK_EQ [ret_es], 0, "IRET: ES (DPL0) nulled"
    CHECK_EQ [ret_fs], 0, "IRET: FS (DPL0) nulled"
    CHECK_EQ [ret_gs], SEL_DATA32_R3 | 3, "IRET: GS (DPL3) kept"
    CHECK_EQ [ret_ebx], 0x0E0E0E0E, "IRET: EBX kept"

    PRINT "# IOPL 3 at CPL3"
    NOFAULT "IOPL3: CLI at CPL3", cli
    NOFAULT "IOPL3: STI at CPL3", sti
    pushfd
    pop dword [tmp]
    CHECK_MASK [tmp], EFL_IF, EFL_IF, "IOPL3: STI set IF"
    cli
    in al, 0x80                              ; (warm up nothing; port 0x80 is harmless)
    NOFAULT "IOPL3: IN from a port denied by the bitmap", in al, 0x81
    mov dx, 0x1234
    NOFAULT "IOPL3: IN from a port beyond the bitmap", in al, dx
    push dword 0x2 | EFL_IF                  ; IOPL field 0
    popfd
    pushfd
    pop dword [tmp]
    CHECK_EQ [tmp], 0x2 | EFL_IF | EFL_IOPL, "IOPL3 POPFD at CPL3: IF changes, IOPL stays 3"
    cli

    ; ------------------------------------------------------------ INT n and gate DPL
    PRINT "# INT n from ring 3"
    TO_RING0
    SET_IDT 0x60, SEL_CODE32, int_handler, 0x8E00
    SET_IDT 0x61, SEL_CODE32, int_handler, 0xEE00
    ENTER_RING3 .f3, R3_STACK
.f3:
    FAULT_KEEP VEC_GP, 0x60 * 8 + 2, "INT 0x60 (gate DPL0) at CPL3 -> #GP(0x302)", int 0x60
    mov ebx, 0x61616161
    push dword 2
    popfd
    int 0x61
.f3_ret:
    CHECK_EQ ebx, 0x61616161, "INT 0x61 (gate DPL3): handler ran and returned"
    CHECK_EQ [int_esp], FRAME_TOP - 20, "INT 0x61: handler's ESP = TSS.ESP0 - 5 dwords"
    CHECK_EQ [int_frame + 0], .f3_ret, "INT 0x61: frame EIP"
    CHECK_MASK [int_frame + 4], 0xFFFF, SEL_CODE32_R3 | 3, "INT 0x61: frame CS"
    CHECK_EQ [int_frame + 8], 0x2, "INT 0x61: frame EFLAGS"
    CHECK_EQ [int_frame + 12], R3_STACK, "INT 0x61: frame ESP"
    CHECK_MASK [int_frame + 16], 0xFFFF, SEL_DATA32_R3 | 3, "INT 0x61: frame SS"
    mov eax, esp
    CHECK_EQ eax, R3_STACK, "INT 0x61: ring-3 ESP back after IRETD"

    ; ------------------------------------------------------------ privileged instructions
    PRINT "# privileged instructions at CPL3 -> #GP(0)"
    FAULT_KEEP VEC_GP, 0, "HLT", hlt
    FAULT_KEEP VEC_GP, 0, "CLI (IOPL 0)", cli
    FAULT_KEEP VEC_GP, 0, "STI (IOPL 0)", sti
    FAULT_KEEP VEC_GP, 0, "MOV EAX, CR0", mov eax, cr0
    mov eax, [saved_cr0]
    FAULT_KEEP VEC_GP, 0, "MOV CR0, EAX", mov cr0, eax
    FAULT_KEEP VEC_GP, 0, "MOV EAX, CR3", mov eax, cr3
    xor eax, eax
    FAULT_KEEP VEC_GP, 0, "MOV CR3, EAX", mov cr3, eax
    FAULT_KEEP VEC_GP, 0, "MOV EAX, CR4", mov eax, cr4
    FAULT_KEEP VEC_GP, 0, "LGDT", lgdt [r3_gdt_ptr]
    FAULT_KEEP VEC_GP, 0, "LIDT", lidt [r3_idt_ptr]
    mov ax, SEL_LDT
    FAULT_KEEP VEC_GP, 0, "LLDT", lldt ax
    mov ax, SEL_TSS2
    FAULT_KEEP VEC_GP, 0, "LTR", ltr ax
    mov ecx, 0x10
    FAULT_KEEP VEC_GP, 0, "RDMSR", rdmsr
    mov ecx, 0x174
    xor eax, eax
    xor edx, edx
    FAULT_KEEP VEC_GP, 0, "WRMSR", wrmsr
    FAULT_KEEP VEC_GP, 0, "INVLPG", invlpg [0x9000]
    FAULT_KEEP VEC_GP, 0, "CLTS", clts
    smsw ax
    FAULT_KEEP VEC_GP, 0, "LMSW", lmsw ax
    FAULT_KEEP VEC_GP, 0, "MOV EAX, DR7", mov eax, dr7
    mov eax, 0x400
    FAULT_KEEP VEC_GP, 0, "MOV DR7, EAX", mov dr7, eax
    FAULT_KEEP VEC_GP, 0, "MOV DR0, EAX", mov dr0, eax
    FAULT_KEEP VEC_GP, 0, "INVD", invd
    FAULT_KEEP VEC_GP, 0, "WBINVD", wbinvd
    NOFAULT "SMSW at CPL3 is allowed", smsw ax
    NOFAULT "SGDT at CPL3 is allowed", sgdt [r3_buf]
    NOFAULT "STR at CPL3 is allowed", str ax
    sldt ax
    movzx eax, ax
    CHECK_EQ eax, 0, "LDTR unchanged (LLDT did not run)"
    str ax
    CHECK_EQ eax, SEL_TSS, "TR unchanged (LTR did not run)"

    ; ------------------------------------------------------------ I/O permission bitmap
    PRINT "# IN/OUT at CPL3, IOPL 0: the TSS I/O bitmap"
    EXPECT .h0
    ud2
.h0:
    ; allow ports 0x80 and 0x84-0x87 (bitmap byte 0x10 = 0000 1110b); 0x88-0x8F stay denied
    mov byte [TSS_BASE + TSS_IOMAP + 0x10], 0x0E
    ENTER_RING3 .h3, R3_STACK
.h3:
    NOFAULT "IN AL, 0x80 (bit clear)", in al, 0x80
    NOFAULT "OUT 0x80, AL (bit clear)", out 0x80, al
    FAULT_KEEP VEC_GP, 0, "IN AL, 0x81 (bit set) -> #GP(0)", in al, 0x81
    FAULT_KEEP VEC_GP, 0, "OUT 0x83, AL (bit set) -> #GP(0)", out 0x83, al
    NOFAULT "IN AX, 0x86 (0x86, 0x87 clear)", in ax, 0x86
    FAULT_KEEP VEC_GP, 0, "IN AX, 0x87 (0x88 set, next bitmap byte) -> #GP(0)", in ax, 0x87
    NOFAULT "IN EAX, 0x84 (0x84-0x87 clear)", in eax, 0x84
    FAULT_KEEP VEC_GP, 0, "IN EAX, 0x85 (0x88 set) -> #GP(0)", in eax, 0x85
    FAULT_KEEP VEC_GP, 0, "IN AX, 0x7F (0x7F set, 0x80 clear) -> #GP(0)", in ax, 0x7F
    FAULT_KEEP VEC_GP, 0, "IN AL, 0xF0 (beyond the TSS limit) -> #GP(0)", in al, 0xF0
    mov dx, 0x1234
    FAULT_KEEP VEC_GP, 0, "IN AL, DX=0x1234 (beyond the TSS limit) -> #GP(0)", in al, dx
    mov dx, 0x80
    NOFAULT "IN AL, DX=0x80 (bit clear)", in al, dx
    EXPECT .h0b
    ud2
.h0b:
    mov byte [TSS_BASE + TSS_IOMAP + 0x10], 0xFF

    ; ------------------------------------------------------------ POPF / PUSHF at CPL3
    PRINT "# POPF and PUSHF at CPL3 with IOPL 0"
    ENTER_RING3 .i3, R3_STACK
.i3:
    push dword 0x2 | EFL_IOPL | EFL_IF | EFL_CF | EFL_ID | EFL_OF
    NOFAULT "POPFD at CPL3, IOPL 0 does not fault", popfd
    pushfd
    pop dword [tmp]
    CHECK_EQ [tmp], 0x2 | EFL_CF | EFL_ID | EFL_OF, "POPFD at CPL3: IOPL and IF unchanged, the rest loaded"
    push word 0x3202 | EFL_ZF
    popfw
    pushfd
    pop dword [tmp]
    CHECK_EQ [tmp], 0x2 | EFL_ZF | EFL_ID, "POPF (16-bit) at CPL3: IOPL and IF unchanged, upper half kept"
    push dword 2
    popfd

    ; ------------------------------------------------------------ alignment check
    PRINT "# alignment check"
    EXPECT .j0
    ud2
.j0:
    mov esp, STACK_TOP
    mov eax, cr0
    or eax, CR0_AM
    mov cr0, eax
    mov dword [0x9000], 0x44332211
    mov dword [0x9004], 0x88776655
    ENTER_RING3_AT SEL_CODE32_R3, .j3, R3_STACK, 0x2 | EFL_AC
.j3:
%ifdef ORACLE_QEMU
    PRINT "# skipped for QEMU (its TCG does not raise #AC): the four #AC checks"
%else
    mov ebx, [0x9004]   ; an aligned load first: the page is then in the user TLB, so a JIT's
                        ; inline fast path (not only the slow path) must raise the #AC below
    mov eax, 0x400
    FAULT VEC_AC, 0, "AM=1 AC=1 CPL3: misaligned dword load -> #AC(0)", mov eax, [0x9001]
    CHECK_EQ eax, 0x400, "#AC: the load did not happen"
    CHECK_MASK [exc_cs], 3, 3, "#AC: raised at CPL3"
    ENTER_RING3_AT SEL_CODE32_R3, .j3b, R3_STACK, 0x2 | EFL_AC
.j3b:
    FAULT VEC_AC, 0, "AM=1 AC=1 CPL3: misaligned word store -> #AC(0)", mov word [0x9011], ax
    ENTER_RING3_AT SEL_CODE32_R3, .j3c, R3_STACK, 0x2 | EFL_AC
.j3c:
%endif
    NOFAULT "AM=1 AC=1 CPL3: aligned dword load", mov eax, [0x9004]
    NOFAULT "AM=1 AC=1 CPL3: byte load at an odd address", mov al, [0x9003]
    TO_RING0
    ENTER_RING3_AT SEL_CODE32_R3, .j3e, R3_STACK, 0x2
.j3e:
    NOFAULT "AM=1 AC=0 CPL3: misaligned dword load", mov eax, [0x9001]
    CHECK_EQ eax, 0x55443322, "misaligned load value"
    TO_RING0
    push dword 0x2 | EFL_AC
    popfd
    NOFAULT "AM=1 AC=1 CPL0: misaligned dword load, no #AC", mov eax, [0x9001]
    push dword 0x2
    popfd
    mov eax, [saved_cr0]
    and eax, ~CR0_AM
    mov cr0, eax
    ENTER_RING3_AT SEL_CODE32_R3, .j3f, R3_STACK, 0x2 | EFL_AC
.j3f:
    NOFAULT "AM=0 AC=1 CPL3: misaligned dword load, no #AC", mov eax, [0x9001]
    TO_RING0
    mov eax, [saved_cr0]
    mov cr0, eax

    ; ------------------------------------------------------------ SYSENTER / SYSEXIT
    PRINT "# SYSENTER / SYSEXIT"
    mov ecx, 0x174
    xor edx, edx
    mov eax, SEL_SYS_CS0
    wrmsr
    mov ecx, 0x175
    mov eax, 0x7000
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_target
    wrmsr
    ENTER_RING3_AT SEL_CODE32_R3, .k3, R3_STACK, 0x2 | EFL_IF
.k3:
    mov ebx, 0x5E5E5E5E
    sysenter
.k3_back:
    call record_ret
    LOAD_FLAT_DS
    CHECK_EQ [se_cs], SEL_SYS_CS0, "SYSENTER: CS = SYSENTER_CS (CPL0)"
    CHECK_EQ [se_ss], SEL_SYS_SS0, "SYSENTER: SS = SYSENTER_CS + 8"
    CHECK_EQ [se_esp], 0x7000, "SYSENTER: ESP = SYSENTER_ESP"
    CHECK_MASK [se_fl], EFL_IF | EFL_VM, 0, "SYSENTER: IF and VM cleared"
    CHECK_EQ [ret_cs], SEL_SYS_CS3 | 3, "SYSEXIT: CS = SYSENTER_CS + 16, RPL3"
    CHECK_EQ [ret_ss], SEL_SYS_SS3 | 3, "SYSEXIT: SS = SYSENTER_CS + 24, RPL3"
    CHECK_EQ [ret_esp], 0xD000, "SYSEXIT: ESP = ECX"
    CHECK_EQ [ret_ebx], 0x5E5E5E5E, "SYSENTER/SYSEXIT: EBX kept"
    CHECK_MASK [ret_fl], EFL_IF, 0, "SYSEXIT: EFLAGS not reloaded (IF still 0)"
    CHECK_EQ [ret_ds], SEL_DATA32_R3 | 3, "SYSENTER/SYSEXIT: DS untouched"
    mov eax, cs
    CHECK_EQ eax, SEL_SYS_CS3 | 3, "SYSEXIT: running at CPL3 at EDX"
    FAULT VEC_GP, 0, "SYSEXIT at CPL3 -> #GP(0)", sysexit
    mov ecx, 0x174
    xor eax, eax
    xor edx, edx
    wrmsr
    ENTER_RING3 .k3b, R3_STACK
.k3b:
    FAULT VEC_GP, 0, "SYSENTER with SYSENTER_CS = 0 -> #GP(0)", sysenter
    FAULT VEC_GP, 0, "SYSEXIT at CPL0 with SYSENTER_CS = 0 -> #GP(0)", sysexit

    ; ------------------------------------------------------------ TSD, RDPMC
    PRINT "# RDTSC with CR4.TSD, RDPMC without CR4.PCE"
    mov esp, STACK_TOP
    ENTER_RING3 .l3, R3_STACK
.l3:
    NOFAULT "RDTSC at CPL3 with TSD=0", rdtsc
    EXPECT .l0
    ud2
.l0:
    mov eax, cr4
    or eax, CR4_TSD
    mov cr4, eax
    NOFAULT "RDTSC at CPL0 with TSD=1", rdtsc
    ENTER_RING3 .l3b, R3_STACK
.l3b:
    FAULT VEC_GP, 0, "RDTSC at CPL3 with TSD=1 -> #GP(0)", rdtsc
    mov eax, cr4
    and eax, ~CR4_TSD
    mov cr4, eax
    ENTER_RING3 .l3c, R3_STACK
.l3c:
    xor ecx, ecx
    FAULT VEC_GP, 0, "RDPMC at CPL3 with CR4.PCE=0 -> #GP(0)", rdpmc
    mov esp, STACK_TOP
    FINISH

; ---------------------------------------------------------------------------------------------
; record_ret: stores ESP (of the caller, before the CALL), CS, SS, DS, ES, FS, GS, EFLAGS, EBX
; through SS (DS may be null). Keeps every register.
record_ret:
    pushfd
    push eax
    lea eax, [esp + 12]
    mov [ss:ret_esp], eax
    mov eax, [esp + 4]
    mov [ss:ret_fl], eax
    xor eax, eax
    mov ax, cs
    mov [ss:ret_cs], eax
    mov ax, ss
    mov [ss:ret_ss], eax
    mov ax, ds
    mov [ss:ret_ds], eax
    mov ax, es
    mov [ss:ret_es], eax
    mov ax, fs
    mov [ss:ret_fs], eax
    mov ax, gs
    mov [ss:ret_gs], eax
    mov [ss:ret_ebx], ebx
    pop eax
    popfd
    ret

; The 32-bit call gate's target (CPL0): records the frame, loads DS/ES/GS with DPL0 data and
; FS with DPL3 data, and returns with RETF 12.
cg32_target:
    mov [ss:cg_esp], esp
    push eax
    mov eax, cs
    mov [ss:cg_cs], eax
    mov eax, ss
    mov [ss:cg_ss], eax
%assign k 0
%rep 7
    mov eax, [esp + 4 + k * 4]
    mov [ss:cg_frame + k * 4], eax
  %assign k k + 1
%endrep
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    mov gs, ax
    mov ax, SEL_DATA32_R3 | 3
    mov fs, ax
    pop eax
    retf 12

; The conforming target (runs at CPL3): records like cg32_target, returns with RETF 4.
conf_target:
    mov [ss:cg_esp], esp
    push eax
    mov eax, cs
    mov [ss:cg_cs], eax
    mov eax, ss
    mov [ss:cg_ss], eax
%assign k 0
%rep 3
    mov eax, [esp + 4 + k * 4]
    mov [ss:cg_frame + k * 4], eax
  %assign k k + 1
%endrep
    pop eax
    retf 4

; INT 0x60/0x61 handler (CPL0): records the frame, IRETD.
int_handler:
    mov [ss:int_esp], esp
    push eax
%assign k 0
%rep 5
    mov eax, [esp + 4 + k * 4]
    mov [ss:int_frame + k * 4], eax
  %assign k k + 1
%endrep
    pop eax
    iretd

; SYSENTER lands here (CPL0, ESP = 0x7000): records, then SYSEXIT to .k3_back with ESP 0xD000.
sysenter_target:
    mov [ss:se_esp], esp
    push eax
    pushfd
    pop eax
    mov [ss:se_fl], eax
    xor eax, eax
    mov ax, cs
    mov [ss:se_cs], eax
    mov ax, ss
    mov [ss:se_ss], eax
    pop eax
    mov ecx, 0xD000
    mov edx, test_main.k3_back
    sysexit

r3_gdt_ptr:
    dw GDT_LIMIT
    dd GDT_BASE
r3_idt_ptr:
    dw IDT_LIMIT
    dd IDT_BASE

RM16
; 16-bit ring-3 code (CS = SEL_CODE16_R3, base 0xF0000; SS = DS = ES = SEL_DATA32_R3|3,
; ESP = R3_STACK): calls the 16-bit gate with two word parameters.
r3_16_code:
    push word 0x1111
    push word 0x2222
    call SEL_CG16 | 3:0
r3_16_ret:
    call record_ret16
r3_16_end:
    ud2

; record_ret for the 16-bit ring-3 code (near CALL/RET with 16-bit return addresses).
record_ret16:
    ; ESP as the caller had it (before the CALL pushed 2 bytes)
    push eax
    lea eax, [esp + 6]
    mov [ss:ret_esp], eax
    xor eax, eax
    mov ax, cs
    mov [ss:ret_cs], eax
    mov ax, ss
    mov [ss:ret_ss], eax
    mov ax, ds
    mov [ss:ret_ds], eax
    mov ax, es
    mov [ss:ret_es], eax
    pop eax
    ret

; The 16-bit call gate's target (CS = SEL_CODE16, CPL0, SS:ESP = TSS.SS0:ESP0).
cg16_target:
    mov [ss:cg_esp], esp
    push eax
    xor eax, eax
    mov ax, cs
    mov [ss:cg_cs], eax
    mov ax, ss
    mov [ss:cg_ss], eax
%assign k 0
%rep 6
    mov ax, [esp + 4 + k * 2]
    mov [ss:cg_frame + k * 2], ax
  %assign k k + 1
%endrep
    mov ax, SEL_DATA32
    mov ds, ax
    pop eax
    retf 4
PM32

; tasks.asm: hardware task switching (SDM vol. 3A, chapter 7): JMP and CALL to a TSS descriptor
; and to a task gate, INT n and exceptions (#GP with its error code, #DF as Linux i386 takes it)
; through task gates in the IDT, IRET back along the back link, the busy bits, the state saved
; in the outgoing TSS, NT in the new task and in the saved image, CR0.TS, CR3 from the new TSS
; with paging on, LDTR from the new TSS, a 16-bit (286) TSS, and the errors: busy TSS, a TSS
; limit below 0x67, not-present TSS/gate, gate or TSS DPL below CPL from ring 3.
; Oracles: the full ROM passes on tests/asm/bochs-run.sh (Bochs 2.7, -cpu p3_katmai); on
; tests/asm/qemu-run.sh (-cpu pentium3) it is the ROM assembled with -DORACLE_QEMU, which leaves
; out the TSS-descriptor-in-the-LDT check (QEMU raises #TS) and the saved EIP of a fault after
; the task-switch commit point (QEMU saves a bogus one).
%include "pm.inc"
%include "tasks.inc"

SEL_TSSB        equ 0x40            ; JMP target
SEL_TSSC        equ 0x48            ; CALL target (direct and through SEL_TGATE_C)
SEL_TGATE_C     equ 0x50            ; task gate -> SEL_TSSC, DPL0
SEL_TSSD        equ 0x58            ; INT 0x50 task
SEL_TSSDF       equ 0x60            ; #DF task
SEL_TSS16       equ 0x68            ; 16-bit TSS
SEL_TSSSMALL    equ 0x70            ; limit 0x60 < 0x67
SEL_TGATE_BUSY  equ 0x78            ; task gate -> SEL_TSS (busy: it is the running task)
SEL_LDT         equ 0x80            ; LDT of task B
SEL_TSSE        equ 0x88            ; task with its own CR3
SEL_TSSGP       equ 0x90            ; #GP task
SEL_TGATE_NP    equ 0x98            ; task gate, not present
SEL_TSSNP       equ 0xA0            ; TSS descriptor, not present
SEL_TGATE_R3    equ 0xA8            ; task gate -> SEL_TSSC, DPL3 (callable from ring 3)
SEL_TSSV        equ 0xB0            ; a virtual-8086 task (EFLAGS.VM=1 in its TSS)
SEL_TSSREC      equ 0xB8            ; INT 0x51 task (entered from the v86 task)
SEL_TSSBAD      equ 0xC0            ; a TSS whose DS selector is beyond the GDT limit

TSSB_BASE       equ 0x10000
TSSC_BASE       equ 0x10100
TSSD_BASE       equ 0x10200
TSSDF_BASE      equ 0x10300
TSS16_BASE      equ 0x10400
TSSSMALL_BASE   equ 0x10500
TSSE_BASE       equ 0x10600
TSSGP_BASE      equ 0x10700
TSSNP_BASE      equ 0x10800
TSSV_BASE       equ 0x10900
TSSREC_BASE     equ 0x10A00
TSSBAD_BASE     equ 0x10B00
TSSL_BASE       equ 0x10C00             ; the TSS the (invalid) LDT TSS descriptor names

LDT_DATA_SEL    equ 0x0C            ; LDT slot 1, TI=1, RPL0: data at base LDT_DATA_BASE
LDT_TGATE_SEL   equ 0x14            ; LDT slot 2: task gate -> SEL_TSSC
LDT_TSS_SEL     equ 0x1C            ; LDT slot 3: a TSS descriptor (not allowed in an LDT)
LDT_DATA_BASE   equ 0x12340
MAGIC_LDT       equ 0x5A5A1234

VEC_TASKINT     equ 0x50
VEC_V86TASKINT  equ 0x51

; the v86 task: CS = 0xF000 (the .rm16 section), DS = BSS_BASE >> 4 so that DS:VAR(x) is the
; .bss variable x
V86T_SS         equ 0x2800              ; SS:SP = linear 0x29000
V86T_SP         equ 0x1000
V86T_DS         equ BSS_BASE >> 4
V86T_ES         equ 0x3000
V86T_FS         equ 0x3100
V86T_ESP0       equ 0x2C000
%define VAR(v) ((v) - BSS_BASE)

; paging (part 7)
PT0             equ 0x100000        ; identity 0-4 MiB
PTA             equ 0x101000        ; linear 0x400000 -> 0x500000
PTB             equ 0x102000        ; linear 0x400000 -> 0x600000
PD_A            equ 0x103000
PD_B            equ 0x104000

section .bss
rec_eflags:     resd 1              ; filled by task_rec, the common body of the called tasks
rec_esp:        resd 1
rec_top:        resd 1
rec_tr:         resd 1
rec_acc_new:    resd 1
rec_acc_old:    resd 1
rec_cr0:        resd 1
rec_cr3:        resd 1
rec_mem:        resd 1
rec_runs:       resd 1
rec_fixup:      resd 1              ; nonzero: task_rec stores it as the caller's saved EIP
rec_saved_eip:  resd 1              ; the caller's saved EIP before that
rec_link:       resd 1              ; the back link and what its TSS holds (32-bit TSS)
rec_link_eip:   resd 1
rec_link_efl:   resd 1
rec_link_cs:    resd 1
rec_link_ds:    resd 1
tv_ds:          resw 1              ; written by the v86 task
tv_fs:          resw 1
tv_fl:          resd 1
tv_back:        resw 1
                resw 1
tb_eflags:      resd 1
tb_regs:        resd 8              ; EAX ECX EDX EBX ESP EBP ESI EDI in task B
tb_gs:          resd 1
tb_ldtr:        resd 1
tb_gsmem:       resd 1
main_esp:       resd 1
tmp_fl:         resd 1
t16_ax:         resw 1
t16_cx:         resw 1
t16_dx:         resw 1
t16_bx:         resw 1
t16_sp:         resw 1
t16_bp:         resw 1
t16_si:         resw 1
t16_di:         resw 1
t16_flags:      resw 1
t16_tr:         resw 1
t16_ds:         resw 1
t16_cs:         resw 1
t16_acc:        resw 1
                resw 1

PM32
test_main:
    PRINT "# tasks: hardware task switching"
    mov dword [LDT_DATA_BASE], MAGIC_LDT
    SET_GDT SEL_LDT, LDT_BASE, 0x1F, 0x0082
    mov dword [LDT_BASE], 0
    mov dword [LDT_BASE + 4], 0
    SET_DESC LDT_BASE + 8, LDT_DATA_BASE, 0xFFFF, 0x0093
    SET_GATE LDT_BASE + (LDT_TGATE_SEL & ~7), SEL_TSSC, 0, 0x8500
    SET_DESC LDT_BASE + (LDT_TSS_SEL & ~7), TSSL_BASE, 0x67, 0x0089
    TSS32_INIT TSSL_BASE, ldt_tss_entry, 0x2D000, 2

    ; ---------------------------------------------------------------- 1. JMP to a TSS
    PRINT "# JMP to a 32-bit TSS and back"
    SET_GDT SEL_TSSB, TSSB_BASE, 0x67, 0x0089
    TSS32_INIT TSSB_BASE, task_b, 0x21000, 0x2 | EFL_CF | EFL_OF
    mov dword [TSSB_BASE + T32_LDT], SEL_LDT
    mov dword [TSSB_BASE + T32_GS], LDT_DATA_SEL
    mov ax, SEL_DATA16
    mov fs, ax
    xor ax, ax
    mov gs, ax
    mov [main_esp], esp
    mov eax, 0x11111111
    mov ecx, 0x22222222
    mov edx, 0x33333333
    mov ebx, 0x44444444
    mov ebp, 0x55555555
    mov esi, 0x66666666
    mov edi, 0x77777777
    push dword 0x2 | EFL_CF | EFL_ZF | EFL_SF | EFL_DF
    popfd
    jmp SEL_TSSB:0
jmp_b_back:
    pushfd
    pop dword [tmp_fl]
    cld
    CHECK_EQ [tmp_fl], 0x2 | EFL_CF | EFL_ZF | EFL_SF | EFL_DF, "JMP back: EFLAGS reloaded from the main TSS"
    CHECK_EQ eax, 0x11111111, "JMP back: EAX reloaded"
    CHECK_EQ ecx, 0x22222222, "JMP back: ECX reloaded"
    CHECK_EQ edx, 0x33333333, "JMP back: EDX reloaded"
    CHECK_EQ ebx, 0x44444444, "JMP back: EBX reloaded"
    CHECK_EQ ebp, 0x55555555, "JMP back: EBP reloaded"
    CHECK_EQ esi, 0x66666666, "JMP back: ESI reloaded"
    CHECK_EQ edi, 0x77777777, "JMP back: EDI reloaded"
    mov eax, esp
    CHECK_EQ eax, [main_esp], "JMP back: ESP reloaded"
    xor eax, eax
    mov ax, fs
    CHECK_EQ eax, SEL_DATA16, "JMP back: FS = SEL_DATA16 reloaded"
    mov ax, gs
    CHECK_EQ eax, 0, "JMP back: GS = null reloaded"
    str ax
    CHECK_EQ eax, SEL_TSS, "JMP back: TR = SEL_TSS"
    sldt ax
    CHECK_EQ eax, 0, "JMP back: LDTR = 0 from the main TSS"
    movzx eax, byte [GDT_ACCESS(SEL_TSS)]
    CHECK_EQ eax, ACC_TSS32_BUSY, "JMP back: main TSS busy again"
    movzx eax, byte [GDT_ACCESS(SEL_TSSB)]
    CHECK_EQ eax, ACC_TSS32, "JMP back: task B's busy bit cleared"
    CHECK_EQ [TSSB_BASE + T32_EIP], jmp_b_out_next, "JMP back: task B's EIP saved (after its JMP)"
    CHECK_EQ [TSSB_BASE + T32_EBX], 0xB0B0B0B0, "JMP back: task B's EBX saved"
    CHECK_EQ [TSSB_BASE + T32_ESP], 0x21000, "JMP back: task B's ESP saved"
    CHECK_MASK [TSSB_BASE + T32_GS], 0xFFFF, LDT_DATA_SEL, "JMP back: task B's GS saved"
    CHECK_MASK [TSSB_BASE + T32_LDT], 0xFFFF, SEL_LDT, "JMP back: task B's LDT field kept"
    mov eax, cr0
    CHECK_MASK eax, CR0_TS, CR0_TS, "JMP back: CR0.TS set by the switch"
    clts
    mov ax, SEL_DATA32
    mov fs, ax
    mov gs, ax

    ; ---------------------------------------------------------------- 2. CALL to a TSS
    PRINT "# CALL to a 32-bit TSS, IRET back"
    SET_GDT SEL_TSSC, TSSC_BASE, 0x67, 0x0089
    TSS32_INIT TSSC_BASE, task_rec, 0x22000, 0x2
    mov dword [TSSC_BASE + T32_LINK], 0xFFFF
    mov dword [rec_runs], 0
    mov dword [rec_fixup], 0
    mov ebx, 0x12345678
    push dword 0x2 | EFL_CF
    popfd
    call SEL_TSSC:0
call_c_back:
    pushfd
    pop dword [tmp_fl]
    CHECK_EQ [tmp_fl], 0x2 | EFL_CF, "IRET back: caller's EFLAGS (NT=0)"
    CHECK_EQ ebx, 0x12345678, "IRET back: caller's EBX"
    CHECK_EQ [rec_runs], 1, "task C ran once"
    CHECK_EQ [rec_eflags], 0x2 | EFL_NT, "CALL: NT set in the new task"
    CHECK_EQ [rec_tr], SEL_TSSC, "CALL: TR = the new TSS"
    CHECK_EQ [rec_acc_new], ACC_TSS32_BUSY, "CALL: new TSS busy"
    CHECK_EQ [rec_acc_old], ACC_TSS32_BUSY, "CALL: caller's TSS stays busy"
    CHECK_MASK [rec_cr0], CR0_TS, CR0_TS, "CALL: CR0.TS set in the new task"
    CHECK_EQ [rec_esp], 0x22000, "CALL: ESP from the new TSS, nothing pushed"
    CHECK_MASK [TSSC_BASE + T32_LINK], 0xFFFF, SEL_TSS, "CALL: back link = caller's TSS"
    CHECK_EQ [TSS_BASE + T32_EIP], call_c_back, "CALL: caller's EIP saved (after the CALL)"
    CHECK_EQ [TSS_BASE + T32_EFLAGS], 0x2 | EFL_CF, "CALL: caller's EFLAGS saved"
    CHECK_EQ [TSS_BASE + T32_EBX], 0x12345678, "CALL: caller's EBX saved"
    movzx eax, byte [GDT_ACCESS(SEL_TSSC)]
    CHECK_EQ eax, ACC_TSS32, "IRET: callee's busy bit cleared"
    movzx eax, byte [GDT_ACCESS(SEL_TSS)]
    CHECK_EQ eax, ACC_TSS32_BUSY, "IRET: caller's TSS busy"
    CHECK_EQ [TSSC_BASE + T32_EFLAGS], 0x2, "IRET: NT cleared in the callee's saved EFLAGS"
    CHECK_EQ [TSSC_BASE + T32_EIP], task_rec.after, "IRET: callee's EIP saved (after its IRET)"
    xor eax, eax
    str ax
    CHECK_EQ eax, SEL_TSS, "IRET: TR = caller's TSS"
    clts

    ; ---------------------------------------------------------------- 3. CALL a task gate
    PRINT "# CALL through a task gate in the GDT"
    SET_GATE GDT_BASE + SEL_TGATE_C, SEL_TSSC, 0, 0x8500
    mov dword [TSSC_BASE + T32_LINK], 0
    ; (QEMU 7.2 evaluates the new task's flags lazily with the caller's last flag operation
    ; when a far CALL switches tasks; a POPFD first makes its flags state explicit.)
    push dword 2
    popfd
    call SEL_TGATE_C:0
call_gate_back:
    pushfd
    pop dword [tmp_fl]
    CHECK_MASK [tmp_fl], EFL_NT, 0, "IRET back: NT clear"
    CHECK_EQ [rec_runs], 2, "task C ran again (resumed after its IRET)"
    CHECK_EQ [rec_eflags], 0x2 | EFL_NT, "task gate: NT set in the new task"
    CHECK_EQ [rec_tr], SEL_TSSC, "task gate: TR = the TSS named by the gate"
    CHECK_EQ [rec_acc_new], ACC_TSS32_BUSY, "task gate: new TSS busy"
    CHECK_MASK [TSSC_BASE + T32_LINK], 0xFFFF, SEL_TSS, "task gate: back link = caller's TSS"
    CHECK_EQ [TSS_BASE + T32_EIP], call_gate_back, "task gate: caller's EIP saved"
    movzx eax, byte [GDT_ACCESS(SEL_TSSC)]
    CHECK_EQ eax, ACC_TSS32, "task gate: callee not busy after IRET"
    clts

    ; ---------------------------------------------------------------- 4. INT n, task gate
    PRINT "# INT 0x50 through a task gate in the IDT"
    SET_GDT SEL_TSSD, TSSD_BASE, 0x67, 0x0089
    TSS32_INIT TSSD_BASE, task_rec, 0x23000, 0x2
    SET_IDT VEC_TASKINT, SEL_TSSD, 0, 0x8500
    mov ebx, 0xCAFE0001
    int VEC_TASKINT
int_back:
    CHECK_EQ ebx, 0xCAFE0001, "INT task: caller's EBX back"
    CHECK_EQ [rec_runs], 3, "INT task ran"
    CHECK_EQ [rec_tr], SEL_TSSD, "INT task: TR"
    CHECK_EQ [rec_eflags], 0x2 | EFL_NT, "INT task: NT set"
    CHECK_EQ [rec_esp], 0x23000, "INT task: no error code pushed for INT n"
    CHECK_MASK [TSSD_BASE + T32_LINK], 0xFFFF, SEL_TSS, "INT task: back link"
    CHECK_EQ [TSS_BASE + T32_EIP], int_back, "INT task: caller's EIP saved = after INT"
    movzx eax, byte [GDT_ACCESS(SEL_TSSD)]
    CHECK_EQ eax, ACC_TSS32, "INT task: not busy after IRET"
    clts

    ; ---------------------------------------------------------------- 5. #GP through a task gate
    PRINT "# #GP through a task gate: error code on the new task's stack"
    SET_GDT SEL_TSSGP, TSSGP_BASE, 0x67, 0x0089
    TSS32_INIT TSSGP_BASE, task_rec, 0x26000, 0x2
    SET_IDT VEC_GP, SEL_TSSGP, 0, 0x8500
    mov dword [rec_fixup], gp_resume
    mov ax, 0xFFF8
gp_insn:
    mov ds, ax
    ; not reached: task_rec makes the caller resume at gp_resume
    RESTORE_IDT_GATE VEC_GP
    NOT_OK "#GP task: came back to the faulting instruction's successor"
gp_resume:
    RESTORE_IDT_GATE VEC_GP
    CHECK_EQ [rec_runs], 4, "#GP task ran"
    CHECK_EQ [rec_tr], SEL_TSSGP, "#GP task: TR"
    CHECK_EQ [rec_esp], 0x26000 - 4, "#GP task: one dword pushed on its stack"
    CHECK_EQ [rec_top], 0xFFF8, "#GP task: the error code 0xFFF8 on its stack"
    CHECK_EQ [rec_eflags], 0x2 | EFL_NT, "#GP task: NT set"
    CHECK_EQ [rec_saved_eip], gp_insn, "#GP task: caller's saved EIP = the faulting MOV"
    CHECK_MASK [TSSGP_BASE + T32_LINK], 0xFFFF, SEL_TSS, "#GP task: back link = faulting task"
    clts

    ; ---------------------------------------------------------------- 6. #DF task
    PRINT "# #DF through a task gate (#GP with its IDT gate not present -> #NP -> #DF)"
    SET_GDT SEL_TSSDF, TSSDF_BASE, 0x67, 0x0089
    TSS32_INIT TSSDF_BASE, task_rec, 0x24000, 0x2
    mov dword [TSSDF_BASE + T32_LINK], 0
    SET_IDT VEC_DF, SEL_TSSDF, 0, 0x8500
    and byte [IDT_BASE + VEC_GP * 8 + 5], 0x7F      ; #GP gate not present
    mov dword [rec_fixup], df_resume
    mov ax, 0xFFF8
    mov ds, ax
    RESTORE_IDT_GATE VEC_GP
    RESTORE_IDT_GATE VEC_DF
    NOT_OK "#DF task: came back to the faulting instruction's successor"
df_resume:
    RESTORE_IDT_GATE VEC_GP
    RESTORE_IDT_GATE VEC_DF
    CHECK_EQ [rec_runs], 5, "#DF task ran"
    CHECK_EQ [rec_tr], SEL_TSSDF, "#DF task: TR"
    CHECK_EQ [rec_esp], 0x24000 - 4, "#DF task: one dword pushed on its stack"
    CHECK_EQ [rec_top], 0, "#DF task: error code 0"
    CHECK_EQ [rec_eflags], 0x2 | EFL_NT, "#DF task: NT set"
    CHECK_MASK [TSSDF_BASE + T32_LINK], 0xFFFF, SEL_TSS, "#DF task: back link = faulting task"
    CHECK_EQ [rec_acc_old], ACC_TSS32_BUSY, "#DF task: faulting task stays busy"
    movzx eax, byte [GDT_ACCESS(SEL_TSSDF)]
    CHECK_EQ eax, ACC_TSS32, "#DF task: not busy after its IRET"
    xor eax, eax
    mov ax, ds
    CHECK_EQ eax, SEL_DATA32, "#DF task: caller's DS as saved"
    clts

    ; ---------------------------------------------------------------- 7. CR3 from the new TSS
    PRINT "# CR3 loaded from the new TSS with paging on"
    call build_paging
    mov dword [TSS_BASE + T32_CR3], PD_A
    mov eax, PD_A
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    jmp .pg_on
.pg_on:
    SET_GDT SEL_TSSE, TSSE_BASE, 0x67, 0x0089
    TSS32_INIT TSSE_BASE, task_rec, 0x25000, 0x2
    mov dword [TSSE_BASE + T32_CR3], PD_B
    CHECK_EQ [0x400000], 0xAAAA5555, "paging: 0x400000 -> 0x500000 with PD_A"
    call SEL_TSSE:0
    CHECK_EQ [rec_cr3], PD_B, "CR3 = the new TSS's CR3 field in the new task"
    CHECK_EQ [rec_mem], 0xBBBB6666, "the new task sees 0x400000 -> 0x600000"
    mov eax, cr3
    CHECK_EQ eax, PD_A, "IRET back: CR3 = the caller's TSS CR3 field"
    CHECK_EQ [0x400000], 0xAAAA5555, "IRET back: 0x400000 -> 0x500000 again"
    mov eax, cr0
    and eax, ~CR0_PG
    mov cr0, eax
    jmp .pg_off
.pg_off:
    xor eax, eax
    mov cr3, eax
    mov dword [TSS_BASE + T32_CR3], 0
    clts

    ; ---------------------------------------------------------------- 8. 16-bit TSS
    PRINT "# CALL to a 16-bit TSS (type 1), IRET back"
    call init_tss16
    SET_GDT SEL_TSS16, TSS16_BASE, T16_SIZE - 1, 0x0081
    mov ebx, 0x0BADF00D
    call SEL_TSS16:0
    CHECK_EQ ebx, 0x0BADF00D, "16-bit task: caller's EBX back"
    movzx eax, word [t16_ax]
    CHECK_EQ eax, 0x1111, "16-bit task: AX from its TSS"
    movzx eax, word [t16_cx]
    CHECK_EQ eax, 0x2222, "16-bit task: CX"
    movzx eax, word [t16_dx]
    CHECK_EQ eax, 0x3333, "16-bit task: DX"
    movzx eax, word [t16_bx]
    CHECK_EQ eax, 0x4444, "16-bit task: BX"
    movzx eax, word [t16_sp]
    CHECK_EQ eax, 0xE000, "16-bit task: SP"
    movzx eax, word [t16_bp]
    CHECK_EQ eax, 0x5555, "16-bit task: BP"
    movzx eax, word [t16_si]
    CHECK_EQ eax, 0x6666, "16-bit task: SI"
    movzx eax, word [t16_di]
    CHECK_EQ eax, 0x7777, "16-bit task: DI"
    movzx eax, word [t16_flags]
    CHECK_EQ eax, 0x2 | EFL_NT | EFL_CF, "16-bit task: FLAGS from its TSS, NT set"
    movzx eax, word [t16_tr]
    CHECK_EQ eax, SEL_TSS16, "16-bit task: TR"
    movzx eax, word [t16_ds]
    CHECK_EQ eax, SEL_DATA16, "16-bit task: DS"
    movzx eax, word [t16_cs]
    CHECK_EQ eax, SEL_CODE16, "16-bit task: CS"
    movzx eax, word [t16_acc]
    CHECK_EQ eax, ACC_TSS16_BUSY, "16-bit task: its TSS busy (type 3)"
    movzx eax, word [TSS16_BASE + T16_LINK]
    CHECK_EQ eax, SEL_TSS, "16-bit task: back link"
    movzx eax, byte [GDT_ACCESS(SEL_TSS16)]
    CHECK_EQ eax, ACC_TSS16, "16-bit task: not busy after IRET (type 1)"
    movzx eax, word [TSS16_BASE + T16_IP]
    CHECK_EQ eax, t16_after, "16-bit task: IP saved in its TSS"
    movzx eax, word [TSS16_BASE + T16_FLAGS]
    CHECK_EQ eax, 0x2 | EFL_CF, "16-bit task: saved FLAGS with NT cleared"
    movzx eax, word [TSS16_BASE + T16_BX]
    CHECK_EQ eax, 0x4444, "16-bit task: BX saved"
    movzx eax, word [TSS16_BASE + T16_SI]
    CHECK_EQ eax, 0x6666, "16-bit task: SI saved"
    movzx eax, word [TSS16_BASE + T16_SP]
    CHECK_EQ eax, 0xE000, "16-bit task: SP saved"
    clts

    ; ---------------------------------------------------------------- 8b. task gate in an LDT
    PRINT "# CALL through a task gate in the LDT"
    mov ax, SEL_LDT
    lldt ax
    mov dword [TSSC_BASE + T32_LINK], 0
    push dword 2
    popfd
    call LDT_TGATE_SEL:0
    CHECK_EQ [rec_tr], SEL_TSSC, "LDT task gate: TR = the TSS it names"
    CHECK_MASK [TSSC_BASE + T32_LINK], 0xFFFF, SEL_TSS, "LDT task gate: back link"
    xor eax, eax
    sldt ax
    CHECK_EQ eax, 0, "IRET back: LDTR reloaded from the caller's TSS (0)"
    mov ax, SEL_LDT
    lldt ax
%ifdef ORACLE_QEMU
    PRINT "# skipped for QEMU (it raises #TS, the SDM says #GP for JMP/CALL): TSS descriptor in the LDT"
%else
    ; (a CPU that switches anyway runs ldt_tss_entry, which JMPs back: no exception is seen)
    FAULT VEC_GP, LDT_TSS_SEL, "JMP to a TSS descriptor in the LDT -> #GP(sel)", jmp LDT_TSS_SEL:0
%endif
    xor eax, eax
    lldt ax
    clts

    ; ---------------------------------------------------------------- 8c. fault after the commit
    PRINT "# a bad DS in the new TSS: #TS after the switch, in the new task"
    SET_GDT SEL_TSSBAD, TSSBAD_BASE, 0x67, 0x0089
    TSS32_INIT TSSBAD_BASE, tbad_entry, 0x2B000, 2
    mov dword [TSSBAD_BASE + T32_DS], 0xFFF8
    EXPECT .tbad_rec
    jmp SEL_TSSBAD:0
.tbad_back:
    xor eax, eax
    str ax
    CHECK_EQ eax, SEL_TSS, "bad DS: JMP back to the main task"
    movzx eax, byte [GDT_ACCESS(SEL_TSSBAD)]
    CHECK_EQ eax, ACC_TSS32, "bad DS: that TSS not busy after the JMP away"
    clts
    jmp .tbad_done
.tbad_rec:
%ifdef ORACLE_QEMU
    ; (QEMU 7.2 saves a bogus EIP for a fault after the task-switch commit point)
    CHECK_EXC VEC_TS, 0xFFF8, "bad DS in the new TSS -> #TS(0xFFF8)"
%else
    CHECK_EXC_AT VEC_TS, 0xFFF8, tbad_entry, "bad DS in the new TSS -> #TS(0xFFF8) at the new task's EIP"
%endif
    xor eax, eax
    str ax
    CHECK_EQ eax, SEL_TSSBAD, "bad DS: the #TS belongs to the new task (TR = it)"
    movzx eax, byte [GDT_ACCESS(SEL_TSSBAD)]
    CHECK_EQ eax, ACC_TSS32_BUSY, "bad DS: the new TSS is busy"
    movzx eax, byte [GDT_ACCESS(SEL_TSS)]
    CHECK_EQ eax, ACC_TSS32, "bad DS: the old TSS is not (JMP)"
    CHECK_EQ [TSS_BASE + T32_EIP], .tbad_back, "bad DS: the old task's state was saved"
    clts
    jmp SEL_TSS:0
.tbad_done:

    ; ---------------------------------------------------------------- 9. errors
    PRINT "# errors"
    mov ebx, 0xE0E0E0E0
    FAULT VEC_GP, SEL_TSS, "JMP to the busy (running) TSS -> #GP(sel)", jmp SEL_TSS:0
    FAULT VEC_GP, SEL_TSS, "CALL to the busy TSS -> #GP(sel)", call SEL_TSS:0
    SET_GATE GDT_BASE + SEL_TGATE_BUSY, SEL_TSS, 0, 0x8500
    FAULT VEC_GP, SEL_TSS, "JMP through a task gate to a busy TSS -> #GP(TSS sel)", jmp SEL_TGATE_BUSY:0
    FAULT VEC_GP, SEL_TSS, "CALL through a task gate to a busy TSS -> #GP(TSS sel)", call SEL_TGATE_BUSY:0
    TSS32_INIT TSSSMALL_BASE, task_rec, 0x27000, 0x2
    SET_GDT SEL_TSSSMALL, TSSSMALL_BASE, 0x60, 0x0089
    FAULT VEC_TS, SEL_TSSSMALL, "JMP to a TSS with limit 0x60 -> #TS(sel)", jmp SEL_TSSSMALL:0
    FAULT VEC_TS, SEL_TSSSMALL, "CALL to a TSS with limit 0x60 -> #TS(sel)", call SEL_TSSSMALL:0
    movzx eax, byte [GDT_ACCESS(SEL_TSSSMALL)]
    CHECK_EQ eax, ACC_TSS32, "#TS: that TSS not marked busy"
    xor eax, eax
    str ax
    CHECK_EQ eax, SEL_TSS, "#TS: TR unchanged"
    SET_GATE GDT_BASE + SEL_TGATE_NP, SEL_TSSC, 0, 0x0500
    FAULT VEC_NP, SEL_TGATE_NP, "JMP to a not-present task gate -> #NP(gate sel)", jmp SEL_TGATE_NP:0
    TSS32_INIT TSSNP_BASE, task_rec, 0x27000, 0x2
    SET_GDT SEL_TSSNP, TSSNP_BASE, 0x67, 0x0009
    FAULT VEC_NP, SEL_TSSNP, "CALL to a not-present TSS -> #NP(sel)", call SEL_TSSNP:0
    ; IRET with NT=1 returns along the back link, which must name a busy TSS
    mov dword [TSS_BASE + T32_LINK], SEL_TSSC
    push dword 0x2 | EFL_NT
    popfd
    FAULT VEC_TS, SEL_TSSC, "IRET, NT=1, back link to an available TSS -> #TS(link)", iretd
    mov dword [TSS_BASE + T32_LINK], SEL_DATA32
    push dword 0x2 | EFL_NT
    popfd
    FAULT VEC_TS, SEL_DATA32, "IRET, NT=1, back link to a data segment -> #TS(link)", iretd
    mov dword [TSS_BASE + T32_LINK], 0
    pushfd
    pop dword [tmp_fl]
    CHECK_MASK [tmp_fl], EFL_NT, 0, "recovered with NT=0"
    CHECK_EQ ebx, 0xE0E0E0E0, "errors: EBX untouched"
    xor eax, eax
    str ax
    CHECK_EQ eax, SEL_TSS, "errors: TR unchanged"
    movzx eax, byte [GDT_ACCESS(SEL_TSS)]
    CHECK_EQ eax, ACC_TSS32_BUSY, "errors: running TSS still busy"
    movzx eax, byte [GDT_ACCESS(SEL_TSSC)]
    CHECK_EQ eax, ACC_TSS32, "errors: TSS C still available"

    PRINT "# errors from ring 3"
    SET_GATE GDT_BASE + SEL_TGATE_R3, SEL_TSSC, 0, 0xE500
    mov dword [rec_runs], 0
    ENTER_RING3 .r3, 0xF000
.r3:
    FAULT VEC_GP, SEL_TGATE_C, "ring 3: CALL task gate DPL0 -> #GP(gate sel)", call SEL_TGATE_C | 3:0
    ENTER_RING3 .r3a, 0xF000
.r3a:
    FAULT VEC_GP, SEL_TGATE_C, "ring 3: JMP task gate DPL0 -> #GP(gate sel)", jmp SEL_TGATE_C | 3:0
    ENTER_RING3 .r3b, 0xF000
.r3b:
    FAULT VEC_GP, SEL_TSSB, "ring 3: JMP to a TSS with DPL0 -> #GP(TSS sel)", jmp SEL_TSSB | 3:0
    ENTER_RING3 .r3c, 0xF000
.r3c:
    FAULT VEC_GP, VEC_TASKINT * 8 + 2, "ring 3: INT 0x50 (task gate DPL0) -> #GP(0x50*8+2)", int VEC_TASKINT
    SET_IDT VEC_GP, SEL_TSSGP, 0, 0x8500            ; DPL0 task gate for #GP
    ENTER_RING3 .r3d, 0xF000
.r3d:
    CHECK_EQ [rec_runs], 0, "ring 3: no task ran"
    ; an exception ignores the gate's DPL: #GP at CPL3 through the DPL0 task gate
    mov dword [rec_fixup], .r3e
    mov ax, SEL_DATA32
    mov ds, ax                                      ; DPL0 data at CPL3: #GP(0x10)
    NOT_OK "ring 3: MOV DS, DPL0 data did not fault"
.r3e:
    mov eax, cs
    CHECK_EQ eax, SEL_CODE32_R3 | 3, "ring 3: #GP through a DPL0 task gate, IRET back to ring 3"
    CHECK_EQ [rec_runs], 1, "ring 3: the #GP task ran (exceptions ignore the gate DPL)"
    CHECK_EQ [rec_tr], SEL_TSSGP, "ring 3: #GP task: TR"
    CHECK_EQ [rec_top], SEL_DATA32, "ring 3: #GP task: error code = the selector"
    CHECK_EQ [rec_link_cs], SEL_CODE32_R3 | 3, "ring 3: #GP task: faulting task's saved CS is ring 3"
    ; a DPL3 task gate to a DPL0 TSS is fine from ring 3 (the TSS's DPL is not checked)
    call SEL_TGATE_R3 | 3:0
    ; back in ring 3 (the caller's state came back from the main TSS)
    mov eax, cs
    CHECK_EQ eax, SEL_CODE32_R3 | 3, "ring 3: CALL DPL3 task gate, IRET back to ring 3"
    CHECK_EQ [rec_runs], 2, "ring 3: task C ran through the DPL3 gate"
    CHECK_EQ [rec_tr], SEL_TSSC, "ring 3: TR in the called task"
    EXPECT .r0
    ud2
.r0:
    mov esp, STACK_TOP
    RESTORE_IDT_GATE VEC_GP
    xor eax, eax
    str ax
    CHECK_EQ eax, SEL_TSS, "back in ring 0, TR = SEL_TSS"
    clts

    ; ---------------------------------------------------------------- 10. a v86 task
    PRINT "# JMP to a TSS with EFLAGS.VM=1 (a virtual-8086 task); INT from it through a task gate"
    SET_GDT SEL_TSSV, TSSV_BASE, 0x67, 0x0089
    TSS32_INIT TSSV_BASE, v86task, V86T_SP, EFL_VM | EFL_IOPL | 2
    mov dword [TSSV_BASE + T32_CS], 0xF000
    mov dword [TSSV_BASE + T32_SS], V86T_SS
    mov dword [TSSV_BASE + T32_DS], V86T_DS
    mov dword [TSSV_BASE + T32_ES], V86T_ES
    mov dword [TSSV_BASE + T32_FS], V86T_FS
    mov dword [TSSV_BASE + T32_GS], 0
    mov dword [TSSV_BASE + T32_LDT], SEL_LDT
    mov dword [TSSV_BASE + T32_ESP0], V86T_ESP0
    SET_GDT SEL_TSSREC, TSSREC_BASE, 0x67, 0x0089
    TSS32_INIT TSSREC_BASE, task_rec, 0x2A000, 2
    SET_IDT VEC_V86TASKINT, SEL_TSSREC, 0, 0xE500     ; DPL3: INT n from v86 (CPL3)
    mov dword [0x30020], 0
    mov dword [rec_runs], 0
    EXPECT .v_hlt
    jmp SEL_TSSV:0
.v_main_back:
    xor eax, eax
    str ax
    CHECK_EQ eax, SEL_TSS, "v86 task: JMP back, TR = SEL_TSS"
    movzx eax, byte [GDT_ACCESS(SEL_TSSV)]
    CHECK_EQ eax, ACC_TSS32, "v86 task: not busy after the JMP away"
    movzx eax, byte [GDT_ACCESS(SEL_TSSREC)]
    CHECK_EQ eax, ACC_TSS32, "v86 task: the INT task not busy after its IRET"
    pushfd
    pop dword [tmp_fl]
    CHECK_MASK [tmp_fl], EFL_VM | EFL_NT, 0, "v86 task: main task back with VM=0, NT=0"
    clts
    FINISH

    ; The v86 task's HLT raised #GP(0) through the (interrupt-gate) library stub, on the v86
    ; task's TSS.SS0:ESP0; EXPECT recovered here at CPL0, still in the v86 task.
.v_hlt:
    CHECK_EXC_AT VEC_GP, 0, v86task_hlt, "v86 task: HLT -> #GP(0) at its address"
    CHECK_EQ [exc_cs], 0xF000, "v86 task: #GP frame CS = 0xF000"
    CHECK_MASK [exc_eflags], EFL_VM | EFL_IOPL, EFL_VM | EFL_IOPL, "v86 task: #GP frame EFLAGS has VM, IOPL 3"
    CHECK_EQ [exc_ss], V86T_SS, "v86 task: #GP frame SS"
    CHECK_EQ [exc_esp], V86T_SP, "v86 task: #GP frame ESP"
    xor eax, eax
    str ax
    CHECK_EQ eax, SEL_TSSV, "v86 task: TR = SEL_TSSV"
    sldt ax
    CHECK_EQ eax, SEL_LDT, "v86 task: LDTR loaded from its TSS"
    mov ax, LDT_DATA_SEL
    NOFAULT "v86 task: its LDT is usable (MOV GS, LDT selector)", mov gs, ax
    xor eax, eax
    cmp dword [exc_vector], 0xFFFFFFFF
    jne .v_nogs                                     ; (the load failed: GS is not usable)
    mov eax, [gs:0]
.v_nogs:
    CHECK_EQ eax, MAGIC_LDT, "v86 task: GS base from its LDT"
    mov ax, SEL_DATA32
    mov gs, ax
    movzx eax, word [tv_ds]
    CHECK_EQ eax, V86T_DS, "v86 task: DS = the TSS's DS value"
    movzx eax, word [tv_fs]
    CHECK_EQ eax, V86T_FS, "v86 task: FS = the TSS's FS value"
    CHECK_EQ [0x30020], 0x4321, "v86 task: ES base = 0x3000*16"
    CHECK_MASK [tv_fl], EFL_VM | EFL_IOPL, EFL_IOPL, "v86 task: PUSHFD image has IOPL 3, VM 0"
    CHECK_EQ [rec_runs], 1, "v86 task: INT 0x51 ran the task behind the gate"
    CHECK_EQ [rec_tr], SEL_TSSREC, "INT from v86 through a task gate: TR"
    CHECK_EQ [rec_eflags], 0x2 | EFL_NT, "INT from v86 through a task gate: NT, VM=0"
    CHECK_EQ [rec_link], SEL_TSSV, "INT from v86 through a task gate: back link"
    CHECK_EQ [rec_link_eip], v86task_after, "v86 task's saved EIP = after the INT"
    CHECK_MASK [rec_link_efl], EFL_VM | EFL_IOPL, EFL_VM | EFL_IOPL, "v86 task's saved EFLAGS has VM"
    CHECK_EQ [rec_link_cs], 0xF000, "v86 task's saved CS = 0xF000"
    CHECK_EQ [rec_link_ds], V86T_DS, "v86 task's saved DS"
    movzx eax, word [tv_back]
    CHECK_EQ eax, 1, "IRET from the INT task resumed the v86 task in v86 mode"
    clts
    jmp SEL_TSS:0

; ---------------------------------------------------------------------------------------------
; Task B (entered by JMP): records its registers, checks what it can, JMPs back.
task_b:
    pushfd
    pop dword [tb_eflags]
    mov [tb_regs + 0], eax
    mov [tb_regs + 4], ecx
    mov [tb_regs + 8], edx
    mov [tb_regs + 12], ebx
    mov [tb_regs + 16], esp
    mov [tb_regs + 20], ebp
    mov [tb_regs + 24], esi
    mov [tb_regs + 28], edi
    xor eax, eax
    mov ax, gs
    mov [tb_gs], eax
    sldt ax
    mov [tb_ldtr], eax
    mov eax, [gs:0]
    mov [tb_gsmem], eax
    CHECK_EQ [tb_eflags], 0x2 | EFL_CF | EFL_OF, "JMP: EFLAGS from the new TSS, NT clear"
    CHECK_EQ [tb_regs + 0], 0xA0A0A000, "JMP: EAX from the new TSS"
    CHECK_EQ [tb_regs + 4], 0xA0A0A004, "JMP: ECX"
    CHECK_EQ [tb_regs + 8], 0xA0A0A008, "JMP: EDX"
    CHECK_EQ [tb_regs + 12], 0xA0A0A00C, "JMP: EBX"
    CHECK_EQ [tb_regs + 16], 0x21000, "JMP: ESP"
    CHECK_EQ [tb_regs + 20], 0xA0A0A014, "JMP: EBP"
    CHECK_EQ [tb_regs + 24], 0xA0A0A018, "JMP: ESI"
    CHECK_EQ [tb_regs + 28], 0xA0A0A01C, "JMP: EDI"
    CHECK_EQ [tb_ldtr], SEL_LDT, "JMP: LDTR from the new TSS"
    CHECK_EQ [tb_gs], LDT_DATA_SEL, "JMP: GS = an LDT selector"
    CHECK_EQ [tb_gsmem], MAGIC_LDT, "JMP: GS base from the new LDT"
    xor eax, eax
    str ax
    CHECK_EQ eax, SEL_TSSB, "JMP: TR = SEL_TSSB"
    mov eax, cr0
    CHECK_MASK eax, CR0_TS, CR0_TS, "JMP: CR0.TS set"
    movzx eax, byte [GDT_ACCESS(SEL_TSSB)]
    CHECK_EQ eax, ACC_TSS32_BUSY, "JMP: new TSS marked busy"
    movzx eax, byte [GDT_ACCESS(SEL_TSS)]
    CHECK_EQ eax, ACC_TSS32, "JMP: old TSS no longer busy"
    CHECK_EQ [TSS_BASE + T32_EIP], jmp_b_back, "JMP: old EIP saved (after the JMP)"
    CHECK_EQ [TSS_BASE + T32_EFLAGS], 0x2 | EFL_CF | EFL_ZF | EFL_SF | EFL_DF, "JMP: old EFLAGS saved"
    CHECK_EQ [TSS_BASE + T32_EAX], 0x11111111, "JMP: old EAX saved"
    CHECK_EQ [TSS_BASE + T32_ECX], 0x22222222, "JMP: old ECX saved"
    CHECK_EQ [TSS_BASE + T32_EDX], 0x33333333, "JMP: old EDX saved"
    CHECK_EQ [TSS_BASE + T32_EBX], 0x44444444, "JMP: old EBX saved"
    CHECK_EQ [TSS_BASE + T32_ESP], [main_esp], "JMP: old ESP saved"
    CHECK_EQ [TSS_BASE + T32_EBP], 0x55555555, "JMP: old EBP saved"
    CHECK_EQ [TSS_BASE + T32_ESI], 0x66666666, "JMP: old ESI saved"
    CHECK_EQ [TSS_BASE + T32_EDI], 0x77777777, "JMP: old EDI saved"
    CHECK_MASK [TSS_BASE + T32_ES], 0xFFFF, SEL_DATA32, "JMP: old ES saved"
    CHECK_MASK [TSS_BASE + T32_CS], 0xFFFF, SEL_CODE32, "JMP: old CS saved"
    CHECK_MASK [TSS_BASE + T32_SS], 0xFFFF, SEL_DATA32, "JMP: old SS saved"
    CHECK_MASK [TSS_BASE + T32_DS], 0xFFFF, SEL_DATA32, "JMP: old DS saved"
    CHECK_MASK [TSS_BASE + T32_FS], 0xFFFF, SEL_DATA16, "JMP: old FS saved"
    CHECK_MASK [TSS_BASE + T32_GS], 0xFFFF, 0, "JMP: old GS (null) saved"
    clts
    mov ebx, 0xB0B0B0B0
    jmp SEL_TSS:0
jmp_b_out_next:
    NOT_OK "task B resumed"
    FINISH

tbad_entry:
    ud2                                             ; (not reached: #TS first)
ldt_tss_entry:
    clts                                            ; (not reached: #GP first)
    jmp SEL_TSS:0

; task_rec: the body of the called tasks C, D, E, GP, DF. Records its state, optionally
; redirects the caller (rec_fixup), IRETs back along the back link, and starts over when it is
; entered again (its saved EIP is task_rec.after).
task_rec:
    pushfd
    pop dword [rec_eflags]
    mov [rec_esp], esp
    mov eax, [esp]
    mov [rec_top], eax
    xor eax, eax
    str ax
    mov [rec_tr], eax
    and eax, 0xFFF8
    movzx ecx, byte [GDT_BASE + eax + 5]
    mov [rec_acc_new], ecx
    movzx ecx, byte [GDT_ACCESS(SEL_TSS)]
    mov [rec_acc_old], ecx
    mov eax, cr0
    mov [rec_cr0], eax
    mov eax, cr3
    mov [rec_cr3], eax
    test eax, eax
    jz .nopg
    mov eax, [0x400000]
    mov [rec_mem], eax
.nopg:
    mov eax, [TSS_BASE + T32_EIP]
    mov [rec_saved_eip], eax
    mov eax, [rec_tr]
    call desc_base
    movzx eax, word [eax + T32_LINK]
    mov [rec_link], eax
    call desc_base
    mov ecx, [eax + T32_EIP]
    mov [rec_link_eip], ecx
    mov ecx, [eax + T32_EFLAGS]
    mov [rec_link_efl], ecx
    movzx ecx, word [eax + T32_CS]
    mov [rec_link_cs], ecx
    movzx ecx, word [eax + T32_DS]
    mov [rec_link_ds], ecx
    mov eax, [rec_fixup]
    test eax, eax
    jz .nofix
    mov [TSS_BASE + T32_EIP], eax
    mov dword [rec_fixup], 0
.nofix:
    inc dword [rec_runs]
    clts
    iretd
.after:
    jmp task_rec

; desc_base: EAX = a GDT selector -> EAX = the base of its descriptor.
desc_base:
    push ebx
    and eax, 0xFFF8
    mov ebx, [GDT_BASE + eax + 2]
    and ebx, 0x00FFFFFF
    movzx eax, byte [GDT_BASE + eax + 7]
    shl eax, 24
    or eax, ebx
    pop ebx
    ret

; Page tables for part 7.
build_paging:
    pushad
    mov edi, PT0
    mov eax, 0x007
    mov ecx, 1024
.pt0:
    stosd
    add eax, 0x1000
    loop .pt0
    mov edi, PTA
    xor eax, eax
    mov ecx, 1024 * 4
    rep stosd                               ; PTA, PTB, PD_A, PD_B zeroed
    mov dword [PTA], 0x500007
    mov dword [PTB], 0x600007
    mov dword [PD_A], PT0 | 7
    mov dword [PD_A + 4], PTA | 7
    mov dword [PD_B], PT0 | 7
    mov dword [PD_B + 4], PTB | 7
    mov dword [0x500000], 0xAAAA5555
    mov dword [0x600000], 0xBBBB6666
    popad
    ret

init_tss16:
    pushad
    mov edi, TSS16_BASE
    xor eax, eax
    mov ecx, T16_SIZE / 4
    rep stosd
    mov word [TSS16_BASE + T16_IP], t16_entry
    mov word [TSS16_BASE + T16_FLAGS], 0x2 | EFL_CF
    mov word [TSS16_BASE + T16_AX], 0x1111
    mov word [TSS16_BASE + T16_CX], 0x2222
    mov word [TSS16_BASE + T16_DX], 0x3333
    mov word [TSS16_BASE + T16_BX], 0x4444
    mov word [TSS16_BASE + T16_SP], 0xE000
    mov word [TSS16_BASE + T16_BP], 0x5555
    mov word [TSS16_BASE + T16_SI], 0x6666
    mov word [TSS16_BASE + T16_DI], 0x7777
    mov word [TSS16_BASE + T16_ES], SEL_DATA16
    mov word [TSS16_BASE + T16_CS], SEL_CODE16
    mov word [TSS16_BASE + T16_SS], SEL_DATA16
    mov word [TSS16_BASE + T16_DS], SEL_DATA16
    mov word [TSS16_BASE + T16_SP0], 0xD000
    mov word [TSS16_BASE + T16_SS0], SEL_DATA16
    popad
    ret

; The 16-bit task: CS = SEL_CODE16 (base 0xF0000), DS = SS = SEL_DATA16 (base 0).
RM16
t16_entry:
    mov [t16_ax], ax
    mov [t16_cx], cx
    mov [t16_dx], dx
    mov [t16_bx], bx
    mov [t16_sp], sp
    mov [t16_bp], bp
    mov [t16_si], si
    mov [t16_di], di
    pushf
    pop word [t16_flags]
    str word [t16_tr]
    mov [t16_ds], ds
    mov [t16_cs], cs
    mov ax, 0                       ; (no flag changes: the saved FLAGS are checked)
    mov al, [GDT_ACCESS(SEL_TSS16)]
    mov [t16_acc], ax
    iret
t16_after:
    jmp t16_entry

; The v86 task (part 10): CS = 0xF000, DS = V86T_DS, ES = V86T_ES, IOPL 3.
v86task:
    mov [VAR(tv_ds)], ds
    mov [VAR(tv_fs)], fs
    mov word [es:0x20], 0x4321
    pushfd
    pop eax
    mov [VAR(tv_fl)], eax
    int VEC_V86TASKINT
v86task_after:
    mov word [VAR(tv_back)], 1
v86task_hlt:
    hlt
PM32

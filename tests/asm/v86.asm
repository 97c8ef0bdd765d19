; v86.asm: virtual-8086 mode (SDM vol. 3A, chapter 20) entered by IRETD with VM=1 from CPL0:
; real-mode segmentation in v86, the IOPL-sensitive instructions at IOPL 3 (work) and at
; IOPL 0 (#GP(0) to the ring-0 monitor with the v86 frame: GS FS DS ES SS ESP EFLAGS CS EIP and
; the error code, DS/ES/FS/GS null in the handler), IN/OUT through the I/O bitmap whatever the
; IOPL, INT n at IOPL 3 to a protected-mode handler and IRETD back to v86, and the virtual mode
; extensions: CR4.VME (INT n redirected to the v86 program's own IVT by the TSS redirection
; bitmap, CLI/STI/PUSHF/POPF on VIF at IOPL < 3, STI/POPF with VIP set -> #GP) and CR4.PVI (CLI
; and STI on VIF at CPL3 in protected mode).
; Oracles: QEMU's TCG does not model CR4.VME or CR4.PVI (it takes them as written and behaves as
; without), so the ROM assembled with -DORACLE_QEMU (which leaves those sections out) passes on
; tests/asm/qemu-run.sh (-cpu pentium3), and the full ROM passes on tests/asm/bochs-run.sh
; (Bochs 2.7, -cpu p3_katmai).
;
; The monitor: while the tests run, IDT vector 13 is v86_mon. A #GP from v86 mode is logged
; (IP, error code, EFLAGS; the whole frame of the first and the last one, and the segment
; registers the handler found) and the instruction is skipped, like a monitor that emulates it;
; a #GP on HLT ends the v86 run (run_v86 returns). A #GP from protected mode goes to the
; library's stub, so FAULT/EXPECT keep working.
%include "pm.inc"
%include "tasks.inc"

SEL_V86TSS      equ 0x40
V86TSS          equ 0x10000
V86TSS_IOMAP    equ 0x88                        ; redirection bitmap at 0x68-0x87
V86TSS_LIMIT    equ V86TSS_IOMAP + 0x2000       ; the bitmap for all 64K ports + the 0xFF byte

V86_CS          equ 0xF000                      ; v86 code: the .rm16 section
V86_SS          equ 0x2000
V86_SP          equ 0x1000                      ; linear 0x21000
V86_DS          equ BSS_BASE >> 4               ; DS:[var - BSS_BASE] = the .bss variable
V86_ES          equ 0x3000
V86_FS          equ 0x0600
V86_GS          equ 0x0700
%define VAR(v) ((v) - BSS_BASE)                 ; a .bss variable seen through V86_DS

section .bss
mon_count:      resd 1
mon_ip:         resd 16
mon_err:        resd 16
mon_efl:        resd 16
mon_first:      resd 10                         ; err EIP CS EFLAGS ESP SS ES DS FS GS
mon_last:       resd 10
mon_hseg:       resd 4                          ; DS ES FS GS at the first #GP's handler entry
mon_esp:        resd 1                          ; handler ESP at the first #GP
run_esp:        resd 1
v_ip:           resd 1
v_efl:          resd 1
pmi_count:      resd 1
pmi_frame:      resd 9                          ; EIP CS EFLAGS ESP SS ES DS FS GS
pmi_hseg:       resd 4
pmi_esp:        resd 1
se_cs:          resd 1
se_ss:          resd 1
se_esp:         resd 1
se_fl:          resd 1
tmp:            resd 1
; written by the v86 code (words)
ivt_count:      resw 1
ivt_wrong:      resw 1
ivt_flags:      resw 1                          ; FLAGS image the redirected INT pushed
ivt_inner:      resw 1                          ; PUSHF inside the v86 handler
ivt_ret_ip:     resw 1
t1_es:          resw 1
t1_fl_sti:      resw 1
t1_fl_cli:      resw 1
t1_fl_popf:     resw 1
t1_fl_popf_if:  resw 1
t1_fld:         resd 1
t1_after_int:   resw 1
t1_ds_after:    resw 1
t1_iret_ok:     resw 1
t2_done:        resw 1
t3_fl_after:    resw 1
t3_fl_cli:      resw 1
t3_fl_sti:      resw 1
t3_done:        resw 1
t4_done:        resw 1
t5_done:        resw 1
                resw 1

%macro RUN_V86 2                                ; ip, eflags (VM and bit 1 added)
    mov dword [v_ip], %1
    mov dword [v_efl], (%2) | EFL_VM | 2
    call run_v86
%endmacro

PM32
test_main:
    PRINT "# v86: virtual-8086 mode, VME, PVI"
    MASK_PIC
    ; own TSS: ring-0 stack, the redirection bitmap and a full I/O bitmap (ports 0x80 and 0x84
    ; allowed)
    mov edi, V86TSS
    xor eax, eax
    mov ecx, V86TSS_IOMAP / 4
    rep stosd
    mov al, 0xFF
    mov ecx, 0x2001
    rep stosb
    mov dword [V86TSS + T32_ESP0], RING0_STACK_TOP
    mov dword [V86TSS + T32_SS0], SEL_DATA32
    mov word [V86TSS + T32_IOBASE], V86TSS_IOMAP
    and byte [V86TSS + V86TSS_IOMAP + 0x10], ~0x11  ; ports 0x80, 0x84
    and byte [V86TSS + V86TSS_IOMAP + (DEBUG_PORT >> 3)], ~(1 << (DEBUG_PORT & 7))  ; checks at CPL3
    or byte [V86TSS + 0x68 + (0x43 >> 3)], 1 << (0x43 & 7)  ; INT 0x43: not redirected
    SET_GDT SEL_V86TSS, V86TSS, V86TSS_LIMIT, 0x0089
    mov ax, SEL_V86TSS
    ltr ax
    ; the v86 program's IVT at linear 0: 0x42 -> v86_int42, 0x41/0x43 -> v86_int_wrong
    mov word [0x41 * 4], v86_int_wrong
    mov word [0x41 * 4 + 2], V86_CS
    mov word [0x42 * 4], v86_int42
    mov word [0x42 * 4 + 2], V86_CS
    mov word [0x43 * 4], v86_int_wrong
    mov word [0x43 * 4 + 2], V86_CS
    ; protected-mode handlers for INT 0x41/0x43 (DPL3 gates) and the monitor
    SET_IDT 0x41, SEL_CODE32, pm_int_rec, 0xEE00
    SET_IDT 0x43, SEL_CODE32, pm_int_rec, 0xEE00
    SET_IDT 0x44, SEL_CODE32_R3, pm_int_rec, 0xEE00    ; handler code DPL3: not from v86
    SET_IDT VEC_GP, SEL_CODE32, v86_mon, 0x8E00
    mov dword [0x30010], 0
    mov dword [0x30012], 0

    ; ------------------------------------------------------------ IOPL 3
    PRINT "# v86 at IOPL 3 (CR4.VME=0)"
    RUN_V86 v86_t1, EFL_IOPL
    CHECK_EQ [mon_count], 2, "IOPL3: two #GPs (IN from a denied port, the final HLT)"
    CHECK_EQ [mon_ip], v86_t1_in81, "IOPL3: IN AL, 0x81 (bitmap bit set) -> #GP despite IOPL 3"
    CHECK_EQ [mon_err], 0, "IOPL3: its error code 0"
    CHECK_EQ [mon_ip + 4], v86_t1_hlt, "IOPL3: HLT -> #GP"
    movzx eax, word [t1_es]
    CHECK_EQ eax, V86_ES, "MOV ES in v86: the selector value"
    movzx eax, word [0x30010]
    CHECK_EQ eax, 0x1234, "ES=0x3000: [ES:0x10] is linear 0x30010 (base = sel*16)"
    movzx eax, word [0x30012]
    CHECK_EQ eax, 0x5678, "FS=0x3001: [FS:2] is linear 0x30012"
    movzx eax, word [t1_fl_sti]
    CHECK_MASK eax, EFL_IF | EFL_IOPL, EFL_IF | EFL_IOPL, "IOPL3: STI sets IF, PUSHF shows IOPL 3"
    movzx eax, word [t1_fl_cli]
    CHECK_MASK eax, EFL_IF, 0, "IOPL3: CLI clears IF"
    movzx eax, word [t1_fl_popf]
    CHECK_MASK eax, EFL_IOPL | EFL_IF, EFL_IOPL, "IOPL3: POPF of 0 leaves IOPL 3"
    movzx eax, word [t1_fl_popf_if]
    CHECK_MASK eax, EFL_IF, EFL_IF, "IOPL3: POPF sets IF"
    CHECK_MASK [t1_fld], EFL_VM | EFL_RF | EFL_IOPL, EFL_IOPL, "IOPL3: PUSHFD image has VM=0, IOPL 3"
    movzx eax, word [t1_iret_ok]
    CHECK_EQ eax, 1, "IOPL3: IRET in v86 returns to the popped CS:IP"
    CHECK_EQ [pmi_count], 1, "IOPL3: INT 0x41 went to the protected-mode handler"
    movzx eax, word [ivt_wrong]
    CHECK_EQ eax, 0, "IOPL3: ... not to the v86 IVT"
    CHECK_EQ [pmi_esp], RING0_STACK_TOP - 36, "INT from v86: handler ESP = TSS.ESP0 - 9 dwords"
    CHECK_EQ [pmi_frame + 0], v86_t1_after_int, "INT from v86: frame EIP"
    CHECK_EQ [pmi_frame + 4], V86_CS, "INT from v86: frame CS"
    CHECK_MASK [pmi_frame + 8], EFL_VM | EFL_IOPL, EFL_VM | EFL_IOPL, "INT from v86: frame EFLAGS with VM"
    CHECK_EQ [pmi_frame + 12], V86_SP, "INT from v86: frame ESP"
    CHECK_EQ [pmi_frame + 16], V86_SS, "INT from v86: frame SS"
    CHECK_EQ [pmi_frame + 20], V86_ES, "INT from v86: frame ES"
    CHECK_EQ [pmi_frame + 24], V86_DS, "INT from v86: frame DS"
    CHECK_EQ [pmi_frame + 28], V86_FS, "INT from v86: frame FS"
    CHECK_EQ [pmi_frame + 32], V86_GS, "INT from v86: frame GS"
    CHECK_EQ [pmi_hseg + 0], 0, "INT from v86: DS null in the handler"
    CHECK_EQ [pmi_hseg + 4], 0, "INT from v86: ES null in the handler"
    CHECK_EQ [pmi_hseg + 8], 0, "INT from v86: FS null in the handler"
    CHECK_EQ [pmi_hseg + 12], 0, "INT from v86: GS null in the handler"
    movzx eax, word [t1_after_int]
    CHECK_EQ eax, 1, "IRETD from the handler resumed v86 after the INT"
    movzx eax, word [t1_ds_after]
    CHECK_EQ eax, V86_DS, "IRETD to v86 reloaded DS from the frame"

    PRINT "# v86: INT to a DPL3 handler, INT3 and INT 3 at IOPL 0"
    mov dword [pmi_count], 0
    RUN_V86 v86_t1b, EFL_IOPL
    CHECK_EQ [mon_count], 2, "INT 0x44 (handler code DPL3) from v86 faults, then the HLT"
    CHECK_EQ [mon_ip], v86_t1b_int44, "INT 0x44 from v86 to a DPL3 code segment -> #GP"
    CHECK_EQ [mon_err], SEL_CODE32_R3, "... with the code segment's selector as error code"
    CHECK_EQ [pmi_count], 0, "INT 0x44: the handler did not run"
    EXPECT .bp_done
    RUN_V86 v86_t6, 0
    NOT_OK "v86 INT3 at IOPL 0: no #BP"
.bp_done:
    CHECK_EXC_AT VEC_BP, 0, v86_t6_after, "INT3 (CC) in v86 at IOPL 0 is not IOPL-sensitive: #BP via the IDT"
    CHECK_EQ [exc_cs], V86_CS, "INT3 from v86: frame CS"
    CHECK_MASK [exc_eflags], EFL_VM, EFL_VM, "INT3 from v86: frame EFLAGS has VM"
    CHECK_EQ [mon_count], 1, "INT 3 (CD 03) in v86 at IOPL 0 is INT n: #GP(0) first"
    CHECK_EQ [mon_ip], v86_t6_int_3, "... at the CD 03"
    CHECK_EQ [mon_err], 0, "... error code 0"

    PRINT "# SYSENTER from v86 mode"
    mov ecx, 0x174
    xor edx, edx
    mov eax, SEL_CODE32                         ; CS 0x08, SS 0x10: the library's layout
    wrmsr
    mov ecx, 0x175
    mov eax, 0x7000
    wrmsr
    mov ecx, 0x176
    mov eax, v86_sysenter_target
    wrmsr
    mov dword [se_cs], 0
    RUN_V86 v86_t7, EFL_IOPL | EFL_IF
    CHECK_EQ [se_cs], SEL_CODE32, "SYSENTER from v86: CS = SYSENTER_CS"
    CHECK_EQ [se_ss], SEL_DATA32, "SYSENTER from v86: SS = SYSENTER_CS + 8"
    CHECK_EQ [se_esp], 0x7000, "SYSENTER from v86: ESP = SYSENTER_ESP"
    CHECK_MASK [se_fl], EFL_VM | EFL_IF, 0, "SYSENTER from v86: VM and IF cleared"
    CHECK_EQ [mon_count], 0, "SYSENTER from v86: no #GP"
    mov ecx, 0x174
    xor eax, eax
    xor edx, edx
    wrmsr

    ; ------------------------------------------------------------ IOPL 0
    PRINT "# v86 at IOPL 0 (CR4.VME=0): the monitor sees the sensitive instructions"
    mov dword [pmi_count], 0
    RUN_V86 v86_t2, 0
    CHECK_EQ [mon_count], 9, "IOPL0: nine #GPs"
    CHECK_EQ [mon_ip + 0], v86_t2_cli, "IOPL0: CLI -> #GP"
    CHECK_EQ [mon_ip + 4], v86_t2_sti, "IOPL0: STI -> #GP"
    CHECK_EQ [mon_ip + 8], v86_t2_pushf, "IOPL0: PUSHF -> #GP"
    CHECK_EQ [mon_ip + 12], v86_t2_popf, "IOPL0: POPF -> #GP"
    CHECK_EQ [mon_ip + 16], v86_t2_int, "IOPL0: INT 0x41 -> #GP"
    CHECK_EQ [mon_ip + 20], v86_t2_iret, "IOPL0: IRET -> #GP"
    CHECK_EQ [mon_ip + 24], v86_t2_in81, "IOPL0: IN AL, 0x81 (bit set) -> #GP; IN AL, 0x80 (bit clear) allowed"
    CHECK_EQ [mon_ip + 28], v86_t2_pushfd, "IOPL0: PUSHFD -> #GP"
    CHECK_EQ [mon_ip + 32], v86_t2_hlt, "IOPL0: HLT -> #GP"
    mov eax, [mon_err]
    or eax, [mon_err + 4]
    or eax, [mon_err + 8]
    or eax, [mon_err + 12]
    or eax, [mon_err + 16]
    or eax, [mon_err + 20]
    CHECK_EQ eax, 0, "IOPL0: error codes 0"
    CHECK_EQ [pmi_count], 0, "IOPL0: INT 0x41 did not reach its gate"
    movzx eax, word [t2_done]
    CHECK_EQ eax, 1, "IOPL0: the monitor resumed v86 after each"
    CHECK_EQ [mon_esp], RING0_STACK_TOP - 40, "#GP from v86: handler ESP = TSS.ESP0 - 10 dwords"
    CHECK_EQ [mon_first + 0], 0, "#GP frame: error code 0"
    CHECK_EQ [mon_first + 4], v86_t2_cli, "#GP frame: EIP"
    CHECK_EQ [mon_first + 8], V86_CS, "#GP frame: CS"
    CHECK_MASK [mon_first + 12], ~EFL_RF, EFL_VM | 2, "#GP frame: EFLAGS = VM|2 (IOPL 0; RF aside)"
    CHECK_EQ [mon_first + 16], V86_SP, "#GP frame: ESP"
    CHECK_EQ [mon_first + 20], V86_SS, "#GP frame: SS"
    CHECK_EQ [mon_first + 24], V86_ES, "#GP frame: ES"
    CHECK_EQ [mon_first + 28], V86_DS, "#GP frame: DS"
    CHECK_EQ [mon_first + 32], V86_FS, "#GP frame: FS"
    CHECK_EQ [mon_first + 36], V86_GS, "#GP frame: GS"
    CHECK_EQ [mon_hseg + 0], 0, "#GP handler: DS null"
    CHECK_EQ [mon_hseg + 4], 0, "#GP handler: ES null"
    CHECK_EQ [mon_hseg + 8], 0, "#GP handler: FS null"
    CHECK_EQ [mon_hseg + 12], 0, "#GP handler: GS null"

%ifdef ORACLE_QEMU
    PRINT "# skipped for QEMU (its TCG does not model CR4.VME/PVI): the VME and PVI checks"
%else
    ; ------------------------------------------------------------ VME, IOPL 0
    PRINT "# CR4.VME=1, IOPL 0"
    mov eax, cr4
    or eax, CR4_VME
    mov cr4, eax
    mov word [ivt_count], 0
    RUN_V86 v86_t3, 0
    CHECK_EQ [mon_count], 4, "VME: three #GPs and the HLT"
    CHECK_EQ [mon_ip + 0], v86_t3_int43, "VME: INT 0x43 (redirection bit set) -> #GP"
    CHECK_EQ [mon_ip + 4], v86_t3_pushfd, "VME: PUSHFD -> #GP"
    CHECK_EQ [mon_ip + 8], v86_t3_popfd, "VME: POPFD -> #GP"
    movzx eax, word [ivt_count]
    CHECK_EQ eax, 1, "VME: INT 0x42 (bit clear) ran the v86 IVT handler"
    movzx eax, word [ivt_ret_ip]
    CHECK_EQ eax, v86_t3_ret42, "VME: its return IP"
    movzx eax, word [ivt_flags]
    CHECK_MASK eax, EFL_IF | EFL_IOPL, EFL_IF | EFL_IOPL, "VME: the pushed FLAGS have IF = VIF (1), IOPL 3"
    movzx eax, word [ivt_inner]
    CHECK_MASK eax, EFL_IF, 0, "VME: VIF cleared in the handler (PUSHF shows IF=0)"
    movzx eax, word [t3_fl_after]
    CHECK_MASK eax, EFL_IF, EFL_IF, "VME: IRET in v86 restored VIF from the image"
    movzx eax, word [t3_fl_cli]
    CHECK_MASK eax, EFL_IF | EFL_IOPL, EFL_IOPL, "VME: CLI -> PUSHF shows IF=0 (VIF), IOPL 3"
    movzx eax, word [t3_fl_sti]
    CHECK_MASK eax, EFL_IF, EFL_IF, "VME: STI -> PUSHF shows IF=1 (VIF)"
    CHECK_MASK [mon_last + 12], EFL_VIF | EFL_IF | EFL_IOPL, EFL_VIF, "VME: at the HLT, VIF=1, IF=0, IOPL 0"
    CHECK_EQ [pmi_count], 0, "VME: no protected-mode INT handler ran"
    movzx eax, word [t3_done]
    CHECK_EQ eax, 1, "VME: the v86 code ran to the end"

    PRINT "# CR4.VME=1, IOPL 0, VIP set"
    RUN_V86 v86_t4, EFL_VIP
    CHECK_EQ [mon_count], 3, "VIP: two #GPs and the HLT"
    CHECK_EQ [mon_ip + 0], v86_t4_sti, "VIP: STI -> #GP(0)"
    CHECK_EQ [mon_err + 0], 0, "VIP: STI error code 0"
    CHECK_MASK [mon_efl + 0], EFL_VIP | EFL_VIF, EFL_VIP, "VIP: the frame has VIP=1, VIF=0"
    CHECK_EQ [mon_ip + 4], v86_t4_popf, "VIP: POPF with IF=1 -> #GP(0)"
    movzx eax, word [t4_done]
    CHECK_EQ eax, 1, "VIP: CLI and POPF with IF=0 did not fault"

    PRINT "# CR4.VME=1, IOPL 3"
    mov word [ivt_count], 0
    RUN_V86 v86_t5, EFL_IOPL | EFL_IF
    CHECK_EQ [mon_count], 1, "VME IOPL3: only the HLT faulted"
    movzx eax, word [ivt_count]
    CHECK_EQ eax, 1, "VME IOPL3: INT 0x42 (bit clear) -> the v86 IVT"
    movzx eax, word [ivt_flags]
    CHECK_MASK eax, EFL_IF | EFL_IOPL, EFL_IF | EFL_IOPL, "VME IOPL3: the pushed FLAGS are the real ones (IF=1)"
    movzx eax, word [ivt_inner]
    CHECK_MASK eax, EFL_IF, 0, "VME IOPL3: IF cleared in the v86 handler"
    CHECK_EQ [pmi_count], 1, "VME IOPL3: INT 0x43 (bit set) -> the protected-mode handler"
    CHECK_EQ [pmi_frame], v86_t5_after43, "VME IOPL3: its frame EIP"
    movzx eax, word [t5_done]
    CHECK_EQ eax, 1, "VME IOPL3: the v86 code ran to the end"
    movzx eax, word [ivt_wrong]
    CHECK_EQ eax, 0, "no INT reached a wrong v86 IVT entry"
    mov eax, cr4
    and eax, ~CR4_VME
    mov cr4, eax

    ; ------------------------------------------------------------ PVI
    PRINT "# CR4.PVI=1: CLI/STI at CPL3 work on VIF"
    RESTORE_IDT_GATE VEC_GP
    mov eax, cr4
    or eax, CR4_PVI
    mov cr4, eax
    ENTER_RING3_AT SEL_CODE32_R3, .p3, 0xF000, 0x2
.p3:
    NOFAULT "PVI: STI at CPL3, IOPL 0 does not fault", sti
    pushfd
    pop dword [tmp]
    CHECK_MASK [tmp], EFL_VIF | EFL_IF, EFL_VIF, "PVI: STI set VIF, not IF"
    NOFAULT "PVI: CLI at CPL3, IOPL 0 does not fault", cli
    pushfd
    pop dword [tmp]
    CHECK_MASK [tmp], EFL_VIF | EFL_IF, 0, "PVI: CLI cleared VIF"
    TO_RING0
    ENTER_RING3_AT SEL_CODE32_R3, .p3b, 0xF000, 0x2 | EFL_VIP
.p3b:
    FAULT VEC_GP, 0, "PVI: STI with VIP=1 -> #GP(0)", sti
    mov eax, cr4
    and eax, ~CR4_PVI
    mov cr4, eax
    ENTER_RING3_AT SEL_CODE32_R3, .p3c, 0xF000, 0x2
.p3c:
    FAULT VEC_GP, 0, "PVI=0: CLI at CPL3, IOPL 0 -> #GP(0)", cli
    mov esp, STACK_TOP
%endif
    FINISH

; ---------------------------------------------------------------------------------------------
; run_v86: IRETD into v86 mode at V86_CS:[v_ip] with EFLAGS [v_efl] and the V86_* segments;
; returns when the v86 code executes HLT (the monitor). Keeps the general registers.
run_v86:
    pushad
    mov dword [mon_count], 0
    mov [run_esp], esp
    push dword V86_GS
    push dword V86_FS
    push dword V86_DS
    push dword V86_ES
    push dword V86_SS
    push dword V86_SP
    push dword [v_efl]
    push dword V86_CS
    push dword [v_ip]
    iretd

; The #GP monitor.
MF_ERR equ 32                                   ; frame offsets after pushad
MF_EIP equ 36
MF_CS  equ 40
MF_EFL equ 44
v86_mon:
    test byte [ss:esp + 14], EFL_VM >> 16
    jnz .v86
    jmp exc_stubs + VEC_GP * 16
.v86:
    pushad
    cmp dword [ss:mon_count], 0
    jne .segs_done
    lea eax, [esp + 32]
    mov [ss:mon_esp], eax
    xor eax, eax
    mov ax, ds
    mov [ss:mon_hseg + 0], eax
    mov ax, es
    mov [ss:mon_hseg + 4], eax
    mov ax, fs
    mov [ss:mon_hseg + 8], eax
    mov ax, gs
    mov [ss:mon_hseg + 12], eax
.segs_done:
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    cld
    mov ecx, [mon_count]
    cmp ecx, 16
    jae .nolog
    mov eax, [esp + MF_EIP]
    mov [mon_ip + ecx * 4], eax
    mov eax, [esp + MF_ERR]
    mov [mon_err + ecx * 4], eax
    mov eax, [esp + MF_EFL]
    mov [mon_efl + ecx * 4], eax
.nolog:
    lea esi, [esp + MF_ERR]
    mov edi, mon_last
    push ecx
    mov ecx, 10
    rep movsd
    pop ecx
    test ecx, ecx
    jnz .notfirst
    lea esi, [esp + MF_ERR]
    mov edi, mon_first
    mov ecx, 10
    rep movsd
.notfirst:
    inc dword [mon_count]
    movzx eax, word [esp + MF_CS]
    shl eax, 4
    movzx ebx, word [esp + MF_EIP]
    add eax, ebx
    movzx ebx, byte [eax]
    cmp bl, 0xF4
    je .exit
    mov edx, 1
    cmp bl, 0x66
    jne .op
    inc edx
    movzx ebx, byte [eax + 1]
.op:
    cmp bl, 0xCD                                ; INT imm8
    je .two
    and bl, 0xFC
    cmp bl, 0xE4                                ; IN/OUT imm8
    jne .len
.two:
    inc edx
.len:
    add [esp + MF_EIP], edx
    popad
    add esp, 4
    iretd
.exit:
    mov esp, [run_esp]
    mov ax, SEL_DATA32
    mov fs, ax
    mov gs, ax
    popad
    ret

; SYSENTER from v86_t7 lands here (CPL0, flat CS/SS, ESP 0x7000): records, then leaves the v86
; run like the monitor's HLT exit.
v86_sysenter_target:
    mov [ss:se_esp], esp
    pushfd
    pop dword [ss:se_fl]
    xor eax, eax
    mov ax, cs
    mov [ss:se_cs], eax
    mov ax, ss
    mov [ss:se_ss], eax
    mov esp, [ss:run_esp]
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    popad
    ret

; INT 0x41/0x43 through DPL3 interrupt gates: records the frame from v86 (9 dwords) and the
; segment registers at entry, IRETD back.
pm_int_rec:
    mov [ss:pmi_esp], esp
    push eax
    xor eax, eax
    mov ax, ds
    mov [ss:pmi_hseg + 0], eax
    mov ax, es
    mov [ss:pmi_hseg + 4], eax
    mov ax, fs
    mov [ss:pmi_hseg + 8], eax
    mov ax, gs
    mov [ss:pmi_hseg + 12], eax
%assign k 0
%rep 9
    mov eax, [esp + 4 + k * 4]
    mov [ss:pmi_frame + k * 4], eax
  %assign k k + 1
%endrep
    inc dword [ss:pmi_count]
    pop eax
    iretd

; ---------------------------------------------------------------------------------------------
; v86 code (CS = 0xF000: the .rm16 section; DS = V86_DS: VAR(x) addresses .bss variable x)
RM16
v86_t1:                                         ; IOPL 3
    mov [VAR(t1_es)], es
    mov word [es:0x10], 0x1234
    mov ax, 0x3001
    mov fs, ax
    mov word [fs:2], 0x5678
    mov ax, V86_FS
    mov fs, ax
    sti
    pushf
    pop ax
    mov [VAR(t1_fl_sti)], ax
    cli
    pushf
    pop ax
    mov [VAR(t1_fl_cli)], ax
    push word 0
    popf
    pushf
    pop ax
    mov [VAR(t1_fl_popf)], ax
    push word EFL_IF
    popf
    pushf
    pop ax
    mov [VAR(t1_fl_popf_if)], ax
    cli
    pushfd
    pop eax
    mov [VAR(t1_fld)], eax
    pushf
    push cs
    push word v86_t1_iret_to
    iret
    hlt                                         ; (skipped IRET would end here)
v86_t1_iret_to:
    mov word [VAR(t1_iret_ok)], 1
    int 0x41
v86_t1_after_int:
    mov word [VAR(t1_after_int)], 1
    mov [VAR(t1_ds_after)], ds
v86_t1_in81:
    in al, 0x81
    in al, 0x80
v86_t1_hlt:
    hlt

v86_t1b:                                        ; IOPL 3
v86_t1b_int44:
    int 0x44
    hlt

v86_t6:                                         ; IOPL 0
v86_t6_int_3:
    db 0xCD, 0x03                               ; INT 3, the two-byte INT n form
    int3
v86_t6_after:
    hlt

v86_t7:                                         ; IOPL 3, IF 1
    sysenter
    hlt

v86_t2:                                         ; IOPL 0
v86_t2_cli:
    cli
v86_t2_sti:
    sti
v86_t2_pushf:
    pushf
v86_t2_popf:
    popf
v86_t2_int:
    int 0x41
v86_t2_iret:
    iret
    in al, 0x80
v86_t2_in81:
    in al, 0x81
v86_t2_pushfd:
    pushfd
    mov word [VAR(t2_done)], 1
v86_t2_hlt:
    hlt

v86_t3:                                         ; VME, IOPL 0
    sti                                         ; VIF=1
    int 0x42
v86_t3_ret42:
    pushf
    pop ax
    mov [VAR(t3_fl_after)], ax
v86_t3_int43:
    int 0x43
    cli
    pushf
    pop ax
    mov [VAR(t3_fl_cli)], ax
    sti
    pushf
    pop ax
    mov [VAR(t3_fl_sti)], ax
v86_t3_pushfd:
    pushfd
v86_t3_popfd:
    popfd
    mov word [VAR(t3_done)], 1
    hlt

v86_t4:                                         ; VME, IOPL 0, VIP=1
    cli
v86_t4_sti:
    sti
    push word 0
    popf                                        ; IF=0 in the image: allowed
    push word EFL_IF
v86_t4_popf:
    popf                                        ; IF=1 with VIP: #GP (skipped: no pop)
    pop ax
    mov word [VAR(t4_done)], 1
    hlt

v86_t5:                                         ; VME, IOPL 3, IF=1
    int 0x42
    int 0x43
v86_t5_after43:
    cli
    mov word [VAR(t5_done)], 1
    hlt

; v86 IVT handlers
v86_int42:
    push bp
    mov bp, sp
    push ax
    mov ax, [bp + 6]
    mov [VAR(ivt_flags)], ax
    mov ax, [bp + 2]
    mov [VAR(ivt_ret_ip)], ax
    pushf
    pop ax
    mov [VAR(ivt_inner)], ax
    inc word [VAR(ivt_count)]
    pop ax
    pop bp
    iret

v86_int_wrong:
    inc word [VAR(ivt_wrong)]
    iret
PM32

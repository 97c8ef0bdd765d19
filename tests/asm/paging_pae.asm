; paging_pae.asm: PAE paging (CR4.PAE=1, 64-bit entries, CR3 -> 4 PDPTEs): 2 MiB pages,
; 4 KiB pages, not-present PDPTE/PDE/PTE, reserved bits in PTEs and 2 MiB PDEs (bit 63 while
; EFER.NXE=0, an address bit above MAXPHYADDR, PDE bits 20:13), R/W and U/S through the three
; levels (a PDPTE has neither), the accessed and dirty bits, and INVLPG. NX is in paging_nx.asm.
;
; The P bit of reserved-bit faults is masked out of the error codes here: the SDM says it is 1,
; QEMU reports 0 (pm_strict.asm checks it exactly).
%include "pm.inc"

PDPT        equ 0x100000            ; 4 PDPTEs (32-byte aligned)
PD0         equ 0x101000            ; linear 0-1 GiB
PD1         equ 0x102000            ; linear 1-2 GiB
PT_A        equ 0x103000            ; linear 0x200000-0x3FFFFF (PD0[1])
PT_B        equ 0x104000            ; linear 0x40000000-0x401FFFFF (PD1[0])

FRAME       equ 0x200000            ; the identity-visible frames behind the test pages
LIN_ALIAS   equ 0x400000            ; PD0[2]: 2 MiB page -> physical 0x200000
LIN_RSVD2M  equ 0x600000            ; PD0[3]: 2 MiB page with reserved bit 13
LIN_SUP2M   equ 0x800000            ; PD0[4]: 2 MiB page -> 0x200000, supervisor, read-only
LIN         equ 0x40000000          ; PT_B page n at LIN + n*0x1000
LIN_NOPDE   equ 0x40400000          ; PD1[2] not present
LIN_NOPDPTE equ 0x80000000          ; PDPT[2] not present

P   equ 1
RW  equ 2
US  equ 4
A   equ 0x20
D   equ 0x40
PS  equ 0x80

; Writes a 64-bit entry: address, low dword, high dword
%macro ENTRY 3
    mov dword [%1], %2
    mov dword [(%1) + 4], %3
%endmacro

USER_STACK  equ 0xF000

PM32
test_main:
    PRINT "# paging_pae: PAE paging, 4 KiB and 2 MiB pages, reserved bits, protection"
    xor eax, eax
    mov edi, PDPT
    mov ecx, 0x5000 / 4
    rep stosd
    ENTRY PDPT + 0, PD0 | P, 0
    ENTRY PDPT + 8, PD1 | P, 0
    ENTRY PD0 + 0 * 8, 0 | PS | P | RW | US, 0                  ; identity 0-2 MiB
    ENTRY PD0 + 1 * 8, PT_A | P | RW | US, 0
    ENTRY PD0 + 2 * 8, FRAME | PS | P | RW | US, 0
    ENTRY PD0 + 3 * 8, FRAME | (1 << 13) | PS | P | RW | US, 0
    ENTRY PD0 + 4 * 8, FRAME | PS | P, 0
    ENTRY PD1 + 0 * 8, PT_B | P | RW | US, 0
    ENTRY PD1 + 1 * 8, PT_A | P | US, 0                         ; read-only at the PDE level
    mov edi, PT_A                                               ; identity 0x200000-0x3FFFFF
    mov eax, FRAME | P | RW | US
.ident:
    mov [edi], eax
    add eax, 0x1000
    add edi, 8
    cmp edi, PT_A + 0x1000
    jb .ident
    ENTRY PT_B + 0 * 8, (FRAME + 0x0000) | P | RW | US, 0
    ENTRY PT_B + 1 * 8, (FRAME + 0x1000) | RW | US, 0          ; not present
    ENTRY PT_B + 2 * 8, (FRAME + 0x2000) | P | RW | US, 0x80000000  ; bit 63 (XD) with NXE=0
    ENTRY PT_B + 3 * 8, (FRAME + 0x3000) | P | RW | US, 1 << (51 - 32)  ; bit 51 > MAXPHYADDR
    ENTRY PT_B + 4 * 8, (FRAME + 0x4000) | P | US, 0           ; read-only
    ENTRY PT_B + 5 * 8, (FRAME + 0x5000) | P | RW, 0           ; supervisor
    ENTRY PT_B + 6 * 8, (FRAME + 0x6000) | P | RW | US, 0      ; A/D test
    ENTRY PT_B + 7 * 8, (FRAME + 0x7000) | P | RW | US, 0      ; INVLPG test
    mov edi, FRAME
    mov eax, 0xF0000000
.fill:
    mov [edi], eax
    inc eax
    add edi, 0x1000
    cmp edi, FRAME + 0x10000
    jb .fill

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    and eax, ~CR0_WP
    mov cr0, eax
    jmp .paged
.paged:
    mov eax, cr4
    CHECK_MASK eax, CR4_PAE, CR4_PAE, "CR4.PAE=1, paging on: running through a 2 MiB identity page"
    CHECK_EQ [FRAME + 0x1000], 0xF0000001, "4 KiB identity pages through PT_A"
    CHECK_EQ [LIN_ALIAS + 0x3000], 0xF0000003, "2 MiB page at 0x400000 -> physical 0x200000"
    CHECK_EQ [LIN + 0x0000], 0xF0000000, "4 KiB page at 0x40000000 through PDPTE 1"
    mov dword [LIN + 0x7F0], 0x600DF00D
    CHECK_EQ [FRAME + 0x7F0], 0x600DF00D, "a write lands in the frame"

    PRINT "# not present"
    FAULT VEC_PF, 0, "read, PTE not present -> #PF(0)", mov eax, [LIN + 0x1004]
    CHECK_EQ [exc_cr2], LIN + 0x1004, "CR2"
    FAULT VEC_PF, 2, "write, PDE not present -> #PF(W)", mov [LIN_NOPDE + 8], eax
    CHECK_EQ [exc_cr2], LIN_NOPDE + 8, "CR2"
    FAULT VEC_PF, 0, "read, PDPTE not present -> #PF(0)", mov eax, [LIN_NOPDPTE + 0x12345]
    CHECK_EQ [exc_cr2], LIN_NOPDPTE + 0x12345, "CR2"

    PRINT "# reserved bits (P bit of the error code masked, see the header)"
%macro RSVD_FAULT 3+    ; error code without P, description, instruction
    EXPECT %%resume
%%insn:
    %3
    DISARM
%%resume:
    CHECK_EXC_AT VEC_PF, [exc_error], %%insn, %2
    CHECK_MASK [exc_error], ~1, %1, "... error code (P masked)"
%endmacro
    RSVD_FAULT 8, "PTE bit 63 (XD) while EFER.NXE=0 -> #PF(RSVD)", mov eax, [LIN + 0x2000]
    CHECK_EQ [exc_cr2], LIN + 0x2000, "CR2"
    RSVD_FAULT 0xA, "PTE bit 51 (above MAXPHYADDR), write -> #PF(W|RSVD)", mov [LIN + 0x3000], eax
    RSVD_FAULT 8, "2 MiB PDE with bit 13 set -> #PF(RSVD)", mov eax, [LIN_RSVD2M]
    CHECK_EQ [exc_cr2], LIN_RSVD2M, "CR2"

    PRINT "# protection"
    NOFAULT "CR0.WP=0: supervisor write to a read-only PTE", mov dword [LIN + 0x4000], 0xAAAA0004
    NOFAULT "CR0.WP=0: supervisor write to a read-only 2 MiB page", mov dword [LIN_SUP2M + 0x10], 0xAAAA0010
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    FAULT VEC_PF, 3, "CR0.WP=1: supervisor write to a read-only PTE -> #PF(P|W)", mov dword [LIN + 0x4000], 0
    FAULT VEC_PF, 3, "CR0.WP=1: supervisor write to a read-only 2 MiB page -> #PF(P|W)", mov dword [LIN_SUP2M], 0
    FAULT VEC_PF, 3, "CR0.WP=1: write through a read-only PDE -> #PF(P|W)", mov dword [0x40200000], 0
%macro USER_FAULT 3+
    EXPECT %%resume
    ENTER_RING3 %%insn, USER_STACK
%%insn:
    %3
    ud2
%%resume:
    CHECK_EXC_AT VEC_PF, %1, %%insn, %2
%endmacro
    USER_FAULT 5, "user read of a supervisor PTE -> #PF(P|U)", mov eax, [LIN + 0x5000]
    USER_FAULT 5, "user read of a supervisor 2 MiB page -> #PF(P|U)", mov eax, [LIN_SUP2M]
    USER_FAULT 7, "user write of a read-only PTE -> #PF(P|W|U)", mov [LIN + 0x4000], eax
    USER_FAULT 7, "user write through a read-only PDE -> #PF(P|W|U)", mov [0x40200000], eax
    EXPECT .user_ok
    ENTER_RING3 .user_code, USER_STACK
.user_code:
    mov eax, [LIN + 0x4000]                     ; user pages through a PDPTE (no U/S bit)
    mov [LIN + 0x0100], eax
    ud2
.user_ok:
    CHECK_EXC VEC_UD, 0, "user read and write of user pages through PDPTE 1: no #PF"
    CHECK_EQ [FRAME + 0x100], 0xAAAA0004, "the user write happened"
    mov eax, cr0
    and eax, ~CR0_WP
    mov cr0, eax

    PRINT "# accessed and dirty bits"
    CHECK_MASK [PT_B + 6 * 8], A | D, 0, "(setup) page 6: A=0, D=0"
    mov eax, [LIN + 0x6000]
    CHECK_MASK [PT_B + 6 * 8], A | D, A, "a read sets A only"
    mov [LIN + 0x6000], eax
    CHECK_MASK [PT_B + 6 * 8], A | D, A | D, "a write sets D"
    CHECK_EQ [PT_B + 6 * 8 + 4], 0, "the high dword of the PTE is untouched"
    CHECK_MASK [PD0 + 2 * 8], A | D, A, "2 MiB page read earlier: A=1, D=0"
    mov dword [LIN_ALIAS + 0x10000], 1
    CHECK_MASK [PD0 + 2 * 8], A | D, A | D, "a write through the 2 MiB page sets its D"

    PRINT "# INVLPG and MOV CR3"
    CHECK_EQ [LIN + 0x7000], 0xF0000007, "page 7 -> frame 7"
    ENTRY PT_B + 7 * 8, (FRAME + 0x8000) | P | RW | US, 0
    invlpg [LIN + 0x7000]
    CHECK_EQ [LIN + 0x7000], 0xF0000008, "after INVLPG: page 7 -> frame 8"
    ENTRY PT_B + 7 * 8, (FRAME + 0x9000) | P | RW | US, 0
    mov eax, cr3
    mov cr3, eax
    CHECK_EQ [LIN + 0x7000], 0xF0000009, "after MOV CR3: page 7 -> frame 9"

    PRINT "# a 2 MiB page at 0x600000 becomes valid once bit 13 is cleared (CR3 reload)"
    ENTRY PD0 + 3 * 8, FRAME | PS | P | RW | US, 0
    mov eax, cr3
    mov cr3, eax
    NOFAULT "read 0x600000", mov eax, [LIN_RSVD2M + 0x5000]
    CHECK_EQ eax, 0xF0000005, "0x605000 -> physical 0x205000"
    FINISH

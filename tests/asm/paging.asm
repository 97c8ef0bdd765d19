; paging.asm: 32-bit paging (CR4.PAE=0): 4 KiB pages, #PF error codes and CR2 for not-present
; pages at both levels, reads, writes, fetches and user-mode accesses, protection at the PDE and
; PTE levels, CR0.WP, the accessed and dirty bits, TLB invalidation by MOV CR3 and INVLPG, PSE
; 4 MiB pages (and PS ignored while CR4.PSE=0), a reserved-bit fault, PGE global pages (only what
; the SDM guarantees: INVLPG and toggling CR4.PGE flush them, MOV CR3 flushes the non-global
; ones), restartable string instructions, and #PF -> #NP -> #DF.
;
; Reserved bit: the brief asked for bit 13 of a 4 MiB PDE, but bits 20:13 hold physical-address
; bits 39:32 up to MAXPHYADDR (PSE-36: QEMU's and Bochs's pentium3 have MAXPHYADDR 36, so bit 13
; is an address bit there). Bit 21 is reserved for every MAXPHYADDR up to 40, so it is used.
%include "pm.inc"

PD          equ 0x100000            ; page directory
PT0         equ 0x101000            ; identity map of 0-4 MiB (user, writable)
PTT         equ 0x102000            ; test pages at linear 0x40000000 (PDE 0x100)
PTS         equ 0x103000            ; linear 0x40400000: PDE supervisor, PTE user
PT_RO         equ 0x104000            ; linear 0x40C00000: PDE read-only, PTE writable
PT_ALT      equ 0x400000            ; a page table at a 4 MiB-aligned address (see PSE)

LIN         equ 0x40000000          ; PTT page n is at LIN + n*0x1000
LIN_SUPPDE  equ 0x40400000
LIN_BIG     equ 0x40800000          ; PDE 0x102: PS=1, address 0x400000
LIN_ROPDE   equ 0x40C00000
LIN_RSVD    equ 0x41000000          ; PDE 0x104: 4 MiB page with reserved bit 21
LIN_NOPDE   equ 0x80000000          ; PDE 0x200: not present

FRAME       equ 0x200000            ; physical frames 0x200000 + n*0x1000, identity-visible

P   equ 1
RW  equ 2
US  equ 4
A   equ 0x20
D   equ 0x40
PS  equ 0x80
G   equ 0x100

%define PTE(n) (PTT + (n) * 4)
%define PDE(lin) (PD + ((lin) >> 22) * 4)

USER_STACK  equ 0xF000

PM32
test_main:
    PRINT "# paging: 32-bit paging, #PF, WP, A/D, TLB, PSE, PGE"
    ; ---- build the tables (paging is off)
    xor eax, eax
    mov edi, PD
    mov ecx, 0x5000 / 4
    rep stosd
    mov edi, PT0                                ; identity 0-4 MiB, user and writable
    mov eax, P | RW | US
.ident:
    stosd
    add eax, 0x1000
    cmp edi, PT0 + 0x1000
    jb .ident
    mov dword [PD], PT0 | P | RW | US
    mov dword [PDE(LIN)], PTT | P | RW | US
    mov dword [PDE(LIN_SUPPDE)], PTS | P | RW           ; supervisor at the PDE level
    mov dword [PDE(LIN_ROPDE)], PT_RO | P | US            ; read-only at the PDE level
    mov dword [PDE(LIN_BIG)], PT_ALT | PS | P | RW | US
    mov dword [PDE(LIN_RSVD)], (1 << 21) | PS | P | RW | US
    mov dword [PTE(0)], (FRAME + 0x0000) | P | RW | US  ; plain page
    mov dword [PTE(1)], (FRAME + 0x1000) | RW | US      ; not present
    mov dword [PTE(2)], (FRAME + 0x2000) | P | US       ; read-only
    mov dword [PTE(3)], (FRAME + 0x3000) | P | RW       ; supervisor
    mov dword [PTE(4)], (FRAME + 0x4000) | P | RW | US  ; A/D test (A=D=0)
    mov dword [PTE(5)], (FRAME + 0x5000) | P | RW | US | G
    mov dword [PTE(6)], (FRAME + 0x6000) | P | RW | US
    mov dword [PTS], (FRAME + 0x8000) | P | RW | US
    mov dword [PT_RO], (FRAME + 0x9000) | P | RW | US
    mov dword [PT_ALT], (FRAME + 0xA000) | P | RW | US
    ; distinct contents in each frame: FRAME + n*0x1000 holds 0xF0000000 + n
    mov edi, FRAME
    mov eax, 0xF0000000
.fill:
    mov [edi], eax
    inc eax
    add edi, 0x1000
    cmp edi, FRAME + 0x10000
    jb .fill

    ; ---- on
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    and eax, ~CR0_WP
    mov cr0, eax
    jmp .paged                                  ; (identity mapped: nothing to flush)
.paged:
    mov eax, cr0
    CHECK_MASK eax, CR0_PG | CR0_PE, CR0_PG | CR0_PE, "CR0.PG=1: running through the identity map"
    mov eax, cr3
    CHECK_EQ eax, PD, "CR3 reads back"
    CHECK_EQ [LIN], 0xF0000000, "linear 0x40000000 -> frame 0x200000"
    mov dword [LIN + 0x10], 0x12345678
    CHECK_EQ [FRAME + 0x10], 0x12345678, "a write through the mapping lands in the frame"
    CHECK_EQ [LIN + 0x6000], 0xF0000006, "page 6 -> frame 0x206000"

    ; ---- not present
    PRINT "# not-present pages: error code and CR2"
    FAULT VEC_PF, 0, "read, PTE not present -> #PF(0)", mov eax, [LIN + 0x1234]
    CHECK_EQ [exc_cr2], LIN + 0x1234, "CR2 = the faulting linear address"
    FAULT VEC_PF, 2, "write, PTE not present -> #PF(W)", mov dword [LIN + 0x1FFC], 0
    CHECK_EQ [exc_cr2], LIN + 0x1FFC, "CR2"
    FAULT VEC_PF, 0, "read, PDE not present -> #PF(0)", mov al, [LIN_NOPDE + 0x345]
    CHECK_EQ [exc_cr2], LIN_NOPDE + 0x345, "CR2"
    FAULT VEC_PF, 2, "write, PDE not present -> #PF(W)", mov [LIN_NOPDE + 0x400000 - 1], al
    CHECK_EQ [exc_cr2], LIN_NOPDE + 0x400000 - 1, "CR2"
    EXPECT .fetch_done
    mov eax, LIN + 0x1000
    jmp eax
.fetch_done:
    CHECK_EXC_AT VEC_PF, 0, LIN + 0x1000, "fetch from a not-present page -> #PF(0) (no I/D bit without NXE), saved EIP = the target"
    CHECK_EQ [exc_cr2], LIN + 0x1000, "CR2 = the jump target"

    ; ---- string instruction restart state
    mov esi, FRAME + 0x10
    mov edi, LIN + 0x0FF0
    mov ecx, 8
    cld
    EXPECT .rep_done
.rep_insn:
    rep movsd
    DISARM
.rep_done:
    CHECK_EXC_AT VEC_PF, 2, .rep_insn, "rep movsd into a not-present page -> #PF(W) at the rep movsd"
    CHECK_EQ [exc_cr2], LIN + 0x1000, "CR2 = first byte of the absent page"
    CHECK_EQ ecx, 4, "ECX = the 4 dwords not yet copied"
    CHECK_EQ edi, LIN + 0x1000, "EDI advanced past the 4 copied"
    CHECK_EQ esi, FRAME + 0x20, "ESI advanced too"

    ; ---- protection
    PRINT "# protection: R/W, U/S, CR0.WP"
    NOFAULT "CR0.WP=0: supervisor write to a read-only page is allowed", mov dword [LIN + 0x2000], 0xAAAA0002
    CHECK_EQ [FRAME + 0x2000], 0xAAAA0002, "the write happened"
    NOFAULT "CR0.WP=0: supervisor write, PDE read-only, is allowed", mov dword [LIN_ROPDE], 0xAAAA0009
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    FAULT VEC_PF, 3, "CR0.WP=1: supervisor write to a read-only PTE -> #PF(P|W)", mov dword [LIN + 0x2004], 0
    CHECK_EQ [exc_cr2], LIN + 0x2004, "CR2"
    FAULT VEC_PF, 3, "CR0.WP=1: supervisor write, read-only PDE + writable PTE -> #PF(P|W)", mov dword [LIN_ROPDE + 8], 0
    NOFAULT "CR0.WP=1: supervisor read of the read-only page", mov eax, [LIN + 0x2000]
    NOFAULT "supervisor read/write of a supervisor page", inc dword [LIN + 0x3000]
    CHECK_EQ [FRAME + 0x3000], 0xF0000004, "the increment happened"

%macro USER_FAULT 3+   ; error code, description, instruction run at CPL3
    EXPECT %%resume
    ENTER_RING3 %%insn, USER_STACK
%%insn:
    %3
    ud2                                         ; reached only if the access did not fault
%%resume:
    CHECK_EXC_AT VEC_PF, %1, %%insn, %2
%endmacro
    USER_FAULT 5, "user read of a supervisor PTE -> #PF(P|U)", mov eax, [LIN + 0x3000]
    CHECK_EQ [exc_cr2], LIN + 0x3000, "CR2"
    USER_FAULT 7, "user write of a supervisor PTE -> #PF(P|W|U)", mov [LIN + 0x3008], eax
    USER_FAULT 5, "user read, supervisor PDE + user PTE -> #PF(P|U)", mov eax, [LIN_SUPPDE]
    USER_FAULT 7, "user write of a read-only PTE -> #PF(P|W|U)", mov [LIN + 0x2000], eax
    USER_FAULT 7, "user write, read-only PDE + writable PTE -> #PF(P|W|U)", mov [LIN_ROPDE], eax
    USER_FAULT 4, "user read of a not-present PTE -> #PF(U)", mov eax, [LIN + 0x1000]
    USER_FAULT 6, "user write of a not-present PDE -> #PF(W|U)", mov [LIN_NOPDE], eax
    EXPECT .user_ok
    ENTER_RING3 .user_code, USER_STACK
.user_code:
    mov eax, [LIN + 0x2000]                     ; user read of a read-only user page: fine
    mov [LIN + 0x0020], eax                     ; user write of a user writable page: fine
    ud2                                         ; back to CPL0
.user_ok:
    CHECK_EXC VEC_UD, 0, "user read of a read-only page and write of a writable one: no #PF"
    CHECK_EQ [FRAME + 0x20], 0xAAAA0002, "the user write happened"
    mov eax, cr0
    and eax, ~CR0_WP
    mov cr0, eax

    ; ---- accessed and dirty
    PRINT "# accessed and dirty bits"
    CHECK_MASK [PTE(4)], A | D, 0, "(setup) page 4: A=0, D=0"
    mov eax, [LIN + 0x4000]
    CHECK_MASK [PTE(4)], A | D, A, "a read sets A, not D"
    CHECK_MASK [PDE(LIN)], A, A, "and the PDE's A"
    mov dword [LIN + 0x4000], 1
    CHECK_MASK [PTE(4)], A | D, A | D, "a write sets D"
    and dword [PTE(4)], ~(A | D)
    invlpg [LIN + 0x4000]
    mov dword [LIN + 0x4004], 2
    CHECK_MASK [PTE(4)], A | D, A | D, "a first write (after invlpg) sets A and D"
    EXPECT .ad_fault
    mov dword [LIN + 0x1000], 0
.ad_fault:
    CHECK_MASK [PTE(1)], A | D, 0, "a not-present PTE is not written"

    ; ---- TLB invalidation
    PRINT "# TLB: MOV CR3 and INVLPG"
    CHECK_EQ [LIN + 0x6000], 0xF0000006, "page 6 -> frame 6 (now cached)"
    mov dword [PTE(6)], (FRAME + 0x7000) | P | RW | US
    mov eax, cr3
    mov cr3, eax
    CHECK_EQ [LIN + 0x6000], 0xF0000007, "after a PTE change and MOV CR3: page 6 -> frame 7"
    mov dword [PTE(6)], (FRAME + 0x6000) | P | RW | US
    invlpg [LIN + 0x6ABC]
    CHECK_EQ [LIN + 0x6000], 0xF0000006, "after a PTE change and INVLPG (any address in the page): frame 6"
    mov dword [PTE(6)], (FRAME + 0x6000) | RW | US
    invlpg [LIN + 0x6000]
    FAULT VEC_PF, 0, "after clearing P and INVLPG: #PF", mov eax, [LIN + 0x6000]
    mov dword [PTE(6)], (FRAME + 0x6000) | P | RW | US
    mov dword [PDE(LIN)], 0
    mov eax, cr3
    mov cr3, eax
    FAULT VEC_PF, 0, "after clearing the PDE and MOV CR3: #PF", mov eax, [LIN]
    mov dword [PDE(LIN)], PTT | P | RW | US
    mov eax, cr3
    mov cr3, eax

    ; ---- PSE
    PRINT "# PSE: 4 MiB pages"
    CHECK_EQ [LIN_BIG], 0xF000000A, "CR4.PSE=0: PS is ignored, the PDE points to a page table"
    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    CHECK_EQ [LIN_BIG], (FRAME + 0xA000) | P | RW | US | A, "CR4.PSE=1: 4 MiB page at 0x400000 (reads the PTE there, A set by the use above)"
    mov dword [LIN_BIG + 0x3FFFFC], 0xB16B00B5
    mov eax, cr0                                ; check through a mapping-free path: paging
    and eax, ~CR0_PG                            ; off, then on again
    mov cr0, eax
    mov ebx, [0x7FFFFC]
    or eax, CR0_PG
    mov cr0, eax
    CHECK_EQ ebx, 0xB16B00B5, "offset 0x3FFFFC of the 4 MiB page is physical 0x7FFFFC"
    CHECK_MASK [PDE(LIN_BIG)], A | D, A | D, "the 4 MiB PDE got A and D"
    ; (the SDM says a reserved-bit fault has P=1 in the error code, QEMU reports P=0: the P bit
    ; is masked out here and checked in pm_strict.asm)
    EXPECT .rsvd_r
.rsvd_r_insn:
    mov eax, [LIN_RSVD + 0x10]
.rsvd_r:
    CHECK_EQ [exc_vector], VEC_PF, "4 MiB PDE with reserved bit 21: read -> #PF"
    CHECK_EQ [exc_eip], .rsvd_r_insn, "saved EIP = the read"
    CHECK_MASK [exc_error], ~1, 8, "error code RSVD (W=0, U=0)"
    CHECK_EQ [exc_cr2], LIN_RSVD + 0x10, "CR2"
    EXPECT .rsvd_w
    mov [LIN_RSVD], eax
.rsvd_w:
    CHECK_EQ [exc_vector], VEC_PF, "4 MiB PDE with reserved bit 21: write -> #PF"
    CHECK_MASK [exc_error], ~1, 0xA, "error code RSVD|W"
    mov eax, cr4
    and eax, ~CR4_PSE
    mov cr4, eax
    CHECK_EQ [LIN_BIG], 0xF000000A, "CR4.PSE=0 again: back to the page table"

    ; ---- PGE
    PRINT "# PGE: global pages"
    mov eax, cr4
    or eax, CR4_PGE
    mov cr4, eax
    CHECK_EQ [LIN + 0x5000], 0xF0000005, "global page 5 -> frame 5"
    CHECK_EQ [LIN + 0x6000], 0xF0000006, "non-global page 6 -> frame 6"
    mov dword [PTE(6)], (FRAME + 0x7000) | P | RW | US
    mov eax, cr3
    mov cr3, eax
    CHECK_EQ [LIN + 0x6000], 0xF0000007, "with CR4.PGE=1, MOV CR3 still flushes non-global page 6"
    mov dword [PTE(5)], (FRAME + 0x7000) | P | RW | US | G
    invlpg [LIN + 0x5000]
    CHECK_EQ [LIN + 0x5000], 0xF0000007, "INVLPG flushes global page 5"
    mov dword [PTE(5)], (FRAME + 0x5000) | P | RW | US | G
    mov eax, cr4
    and eax, ~CR4_PGE
    mov cr4, eax
    or eax, CR4_PGE
    mov cr4, eax
    CHECK_EQ [LIN + 0x5000], 0xF0000005, "clearing and setting CR4.PGE flushes global page 5"
    mov eax, cr4
    and eax, ~CR4_PGE
    mov cr4, eax

    ; ---- #PF while delivering #PF's... gate: #PF then #NP -> #DF
    PRINT "# #PF with a not-present #PF gate -> #DF"
    SET_IDT VEC_PF, SEL_CODE32, 0, 0x0E00
    EXPECT .df
    mov eax, [LIN + 0x1000]
    DISARM
.df:
    RESTORE_IDT_GATE VEC_PF
    CHECK_EXC VEC_DF, 0, "#PF, then #NP delivering it -> #DF(0)"
    FINISH

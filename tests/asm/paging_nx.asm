; paging_nx.asm: execute-disable (XD/NX) with PAE paging: IA32_EFER.NXE via RDMSR/WRMSR,
; instruction fetches from XD pages at each level (PTE, 2 MiB PDE, PDE above a PTE that allows
; execution) -> #PF with the I/D bit, data reads of XD pages still allowed, I/D on not-present
; fetches, user-mode fetches, and bit 63 becoming reserved again when NXE is cleared.
;
; Needs a CPU with NX (CPUID.80000001H:EDX bit 20). Without it the test prints one ok line
; saying it skipped, and PASS (vx86's p6 model has no NX). Validated with
;   tests/asm/qemu-run.sh --cpu pentium3,+nx ROM     and
;   tests/asm/bochs-run.sh --cpu p4_prescott_celeron_336 ROM
; and, for the skip path, on the plain pentium3 / p3_katmai models.
%include "pm.inc"

MSR_EFER    equ 0xC0000080
EFER_NXE    equ 1 << 11

PDPT        equ 0x100000
PD0         equ 0x101000
PT_A        equ 0x102000            ; linear 0x200000-0x3FFFFF, identity, per-page XD
PT_C        equ 0x103000            ; linear 0x600000-0x7FFFFF under an XD PDE

P   equ 1
RW  equ 2
US  equ 4
PS  equ 0x80
XD  equ 0x80000000                  ; in the high dword

PAGE_X      equ 0x200000            ; executable page with the stub
PAGE_XD     equ 0x201000            ; XD page with the stub
PAGE_NP     equ 0x203000            ; not present
LIN_XD2M    equ 0x400000            ; 2 MiB XD page -> physical 0x200000
LIN_XDPDE   equ 0x600000            ; PDE XD, PTE not XD -> physical 0x200000

USER_STACK  equ 0xF000

%macro ENTRY 3
    mov dword [%1], %2
    mov dword [(%1) + 4], %3
%endmacro

PM32
test_main:
    PRINT "# paging_nx: execute-disable pages (PAE + EFER.NXE)"
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_nx
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 20
    jnz .have_nx
.no_nx:
    OK "SKIP: CPUID.80000001H:EDX.NX = 0, this CPU model has no execute-disable"
    FINISH
.have_nx:
    ; tables
    xor eax, eax
    mov edi, PDPT
    mov ecx, 0x4000 / 4
    rep stosd
    ENTRY PDPT, PD0 | P, 0
    ENTRY PD0 + 0 * 8, 0 | PS | P | RW | US, 0                  ; identity 0-2 MiB, executable
    ENTRY PD0 + 1 * 8, PT_A | P | RW | US, 0
    ENTRY PD0 + 2 * 8, PAGE_X | PS | P | RW | US, XD           ; 2 MiB XD page
    ENTRY PD0 + 3 * 8, PT_C | P | RW | US, XD                  ; XD at the PDE level
    mov edi, PT_A
    mov eax, 0x200000 | P | RW | US
.ident:
    mov [edi], eax
    add eax, 0x1000
    add edi, 8
    cmp edi, PT_A + 0x1000
    jb .ident
    ENTRY PT_A + 1 * 8, PAGE_XD | P | RW | US, XD
    ENTRY PT_A + 3 * 8, PAGE_NP | RW | US, 0                    ; not present
    ENTRY PT_C, PAGE_X | P | RW | US, 0
    ; the stub: mov eax, 0x600D; jmp ebx
    mov esi, stub
    mov edi, PAGE_X
    mov ecx, stub_end - stub
    rep movsb
    mov esi, stub
    mov edi, PAGE_XD
    mov ecx, stub_end - stub
    rep movsb

    ; EFER.NXE
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_NXE
    wrmsr
    rdmsr
    CHECK_MASK eax, EFER_NXE, EFER_NXE, "wrmsr IA32_EFER.NXE=1 reads back"
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    jmp .paged
.paged:
    OK "PAE paging with NXE on"

    xor eax, eax
    mov ebx, .ret_x
    jmp PAGE_X
.ret_x:
    CHECK_EQ eax, 0x600D, "a page with XD=0 executes"

%macro FETCH_FAULT 3    ; target, error code, description
    EXPECT %%resume
    mov ebx, %%not_faulted
    mov eax, %1
    jmp eax
%%not_faulted:
    DISARM
%%resume:
    CHECK_EXC_AT VEC_PF, %2, %1, %3
    CHECK_EQ [exc_cr2], %1, "... CR2 = the target"
%endmacro
    FETCH_FAULT PAGE_XD, 0x11, "fetch from an XD PTE -> #PF(P|I/D), saved EIP = target"
    NOFAULT "data read of the XD page is allowed", mov eax, [PAGE_XD]
    CHECK_EQ eax, [stub], "it reads the stub"
    NOFAULT "data write of the XD page is allowed", mov byte [PAGE_XD + 0x100], 1
    FETCH_FAULT LIN_XD2M, 0x11, "fetch from an XD 2 MiB page -> #PF(P|I/D)"
    NOFAULT "data read of the 2 MiB XD page", mov eax, [LIN_XD2M]
    FETCH_FAULT LIN_XDPDE, 0x11, "fetch: XD PDE above an executable PTE -> #PF(P|I/D)"
    FETCH_FAULT PAGE_NP, 0x10, "fetch from a not-present page -> #PF(I/D)"
    FAULT VEC_PF, 0, "data read of the not-present page -> #PF(0), no I/D", mov eax, [PAGE_NP]

    EXPECT .user_done
    ENTER_RING3 .user, USER_STACK
.user:
    mov eax, PAGE_XD
    jmp eax
.user_done:
    CHECK_EXC_AT VEC_PF, 0x15, PAGE_XD, "user fetch from an XD page -> #PF(P|U|I/D)"

    ; NXE=0: bit 63 is reserved again
    mov ecx, MSR_EFER
    rdmsr
    and eax, ~EFER_NXE
    wrmsr
    mov eax, cr3
    mov cr3, eax
    EXPECT .rsvd
.rsvd_insn:
    mov eax, [PAGE_XD]
    DISARM
.rsvd:
    CHECK_EXC_AT VEC_PF, [exc_error], .rsvd_insn, "EFER.NXE=0: a data read of a PTE with bit 63 -> #PF"
    CHECK_MASK [exc_error], ~1, 8, "... RSVD (P masked: QEMU reports P=0, the SDM P=1)"
    FINISH

stub:
    mov eax, 0x600D
    jmp ebx
stub_end:

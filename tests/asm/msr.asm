; msr.asm: model-specific registers and CPUID's feature claims. CPUID differs between CPUs (and
; between vx86 and the oracles), so the CPUID part checks that whatever CPUID.1:EDX and
; CPUID.80000001h:EDX claim is backed: the CR4 bit can be set and the feature works (PSE and PAE
; map a page, CMOV and CMPXCHG8B compute, the MSRs exist). The MSR part runs for the claimed
; features: RDMSR reads back what WRMSR wrote (SYSENTER_CS/ESP/EIP, PAT, MTRRdefType, a variable
; MTRR pair, a fixed MTRR, EFER.NXE, TSC_AUX via RDTSCP), the TSC is near a written value and
; increases, and invalid writes raise #GP(0): an unknown MSR, an undefined PAT type, an
; undefined MTRR memory type (SDM vol. 3A, 11.11 and 11.12; vol. 4 for the MSRs).
; Oracles: Bochs 2.7 (tests/asm/bochs-run.sh; -cpu p3_katmai, and core2_penryn_t9600 for NX),
; which validates MSR writes as the SDM says; QEMU's TCG does not (it accepts unknown MSRs and
; undefined memory types, and ignores a TSC write), so the ROM assembled with -DORACLE_QEMU,
; which leaves those checks out, is the one that passes on qemu-run.sh (-cpu pentium3,+nx).
%include "pm.inc"
%include "tasks.inc"

MSR_TSC         equ 0x10
MSR_MTRRCAP     equ 0xFE
MSR_SYSENTER_CS equ 0x174
MSR_SYSENTER_ESP equ 0x175
MSR_SYSENTER_EIP equ 0x176
MSR_MTRR_BASE0  equ 0x200
MSR_MTRR_MASK0  equ 0x201
MSR_MTRR_FIX64K equ 0x250
MSR_PAT         equ 0x277
MSR_MTRR_DEF    equ 0x2FF
MSR_EFER        equ 0xC0000080
MSR_TSC_AUX     equ 0xC0000103
CR4_MCE         equ 1 << 6

PAGE_MAGIC_LO   equ 0x1111AAAA          ; at physical 0x400000 (identity)
PAGE_MAGIC_HI   equ 0x8888BBBB          ; at physical 0x800000
PDPT            equ 0x100000
PD_PAE          equ 0x101000
PD_PSE          equ 0x102000

section .bss
cpuid1_eax:     resd 1
cpuid1_edx:     resd 1
cpuidx_max:     resd 1
cpuidx_edx:     resd 1
tsc1:           resd 2
tsc2:           resd 2
q8:             resd 2
tmp:            resd 1

; IF_CLAIMED var, bit, "name", skip_label: prints "# not claimed: name" and jumps to skip_label
; when bit is clear in the dword var, else prints "# claimed: name" and falls through.
%macro IF_CLAIMED 4
    test dword [%1], 1 << (%2)
    jnz %%yes
    %strcat DESC_ "# not claimed: ", %3
    PRINT DESC_
    jmp %4
%%yes:
    %strcat DESC_ "# claimed: ", %3
    PRINT DESC_
%endmacro

; WRMSR_OK msr, edx, eax, "desc": WRMSR that must not fault
%macro WRMSR_OK 4
    mov ecx, %1
    mov edx, %2
    mov eax, %3
    NOFAULT %4, wrmsr
%endmacro
; WRMSR_GP msr, edx, eax, "desc": WRMSR that must raise #GP(0)
%macro WRMSR_GP 4
    mov ecx, %1
    mov edx, %2
    mov eax, %3
    FAULT VEC_GP, 0, %4, wrmsr
%endmacro
; RDMSR_IS msr, edx, eax, "desc": RDMSR reads EDX:EAX (three checks: no fault, EAX, EDX)
%macro RDMSR_IS 4
    mov ecx, %1
    xor eax, eax
    xor edx, edx
    %strcat DESC_ "RDMSR ", %4
    NOFAULT DESC_, rdmsr
    %strcat DESC_ "read back EAX: ", %4
    CHECK_EQ eax, %3, DESC_
    %strcat DESC_ "read back EDX: ", %4
    CHECK_EQ edx, %2, DESC_
%endmacro
; CR4_SETTABLE bits, "desc": CR4 |= bits without fault, reads back, CR4 restored
%macro CR4_SETTABLE 2
    mov eax, cr4
    mov [tmp], eax
    or eax, %1
    %strcat DESC_ "CR4 accepts ", %2
    NOFAULT DESC_, mov cr4, eax
    mov eax, cr4
    %strcat DESC_ "CR4 reads back ", %2
    CHECK_MASK eax, %1, %1, DESC_
    mov eax, [tmp]
    mov cr4, eax
%endmacro

PM32
test_main:
    PRINT "# msr: RDMSR/WRMSR, CPUID claims are backed"
    xor eax, eax
    cpuid
    mov [tmp], eax
    cmp dword [tmp], 1
    setae al
    movzx eax, al
    CHECK_EQ eax, 1, "CPUID: highest basic leaf >= 1"
    mov eax, 1
    cpuid
    mov [cpuid1_eax], eax
    mov [cpuid1_edx], edx
    PRINT_HEX "CPUID.1:EAX", [cpuid1_eax]
    PRINT_HEX "CPUID.1:EDX", [cpuid1_edx]
    mov eax, 0x80000000
    cpuid
    mov [cpuidx_max], eax
    mov dword [cpuidx_edx], 0
    mov ebx, eax
    sub ebx, 0x80000001
    cmp ebx, 0xFFFF                             ; 0x80000001 <= max <= 0x80010000
    ja .noext
    mov eax, 0x80000001
    cpuid
    mov [cpuidx_edx], edx
.noext:
    PRINT_HEX "CPUID.80000001h:EDX", [cpuidx_edx]

    ; --------------------------------------------------------------- MSRs that always exist
    ; (CPUID.1:EDX.MSR is checked below; RDMSR needs it)
    IF_CLAIMED cpuid1_edx, 5, "MSR (RDMSR/WRMSR)", .msr_done
%ifdef ORACLE_QEMU
    PRINT "# skipped for QEMU (its TCG accepts unknown MSRs): unknown MSR -> #GP"
%else
    mov ecx, 0x12345
    FAULT VEC_GP, 0, "RDMSR 0x12345 (no such MSR) -> #GP(0)", rdmsr
    WRMSR_GP 0x12345, 0, 0, "WRMSR 0x12345 (no such MSR) -> #GP(0)"
%endif
    mov ecx, MSR_TSC
    NOFAULT "RDMSR 0x10 (TSC)", rdmsr
.msr_done:

    ; --------------------------------------------------------------- TSC
    IF_CLAIMED cpuid1_edx, 4, "TSC", .tsc_done
    NOFAULT "RDTSC", rdtsc
    rdtsc
    mov [tsc1], eax
    mov [tsc1 + 4], edx
    mov ecx, 50
.spin:
    loop .spin
    rdtsc
    mov [tsc2], eax
    mov [tsc2 + 4], edx
    call tsc_increased
    CHECK_EQ eax, 1, "RDTSC increases"
%ifdef ORACLE_QEMU
    PRINT "# skipped for QEMU (its TCG ignores a TSC write): WRMSR TSC"
%else
    test dword [cpuid1_edx], 1 << 5
    jz .tsc_done
    WRMSR_OK MSR_TSC, 0x00000001, 0x00000000, "WRMSR TSC = 0x1_00000000"
    mov ecx, MSR_TSC
    rdmsr
    mov [tsc1], eax
    mov [tsc1 + 4], edx
    CHECK_EQ [tsc1 + 4], 1, "TSC read back: high dword 1"
    cmp dword [tsc1], 0x01000000
    setb al
    movzx eax, al
    CHECK_EQ eax, 1, "TSC read back: low dword < 0x01000000 (near the written value)"
    mov ecx, 50
.spin2:
    loop .spin2
    rdtsc
    mov [tsc2], eax
    mov [tsc2 + 4], edx
    call tsc_increased
    CHECK_EQ eax, 1, "RDTSC after the write: larger than the value read back"
    CHECK_EQ [tsc2 + 4], 1, "RDTSC after the write: high dword still 1"
%endif
.tsc_done:

    ; --------------------------------------------------------------- CR4 features
    IF_CLAIMED cpuid1_edx, 1, "VME", .vme_done
    CR4_SETTABLE CR4_VME | CR4_PVI, "VME|PVI"
.vme_done:
    IF_CLAIMED cpuid1_edx, 2, "DE", .de_done
    CR4_SETTABLE CR4_DE, "DE"
.de_done:
    IF_CLAIMED cpuid1_edx, 7, "MCE", .mce_done
    CR4_SETTABLE CR4_MCE, "MCE"
.mce_done:
    IF_CLAIMED cpuid1_edx, 13, "PGE", .pge_done
    CR4_SETTABLE CR4_PGE, "PGE"
.pge_done:

    call setup_pages
    IF_CLAIMED cpuid1_edx, 3, "PSE", .pse_done
    CR4_SETTABLE CR4_PSE, "PSE"
    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    mov eax, PD_PSE
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    jmp .pse_on
.pse_on:
    mov ebx, [0x400000]
    mov eax, cr0
    and eax, ~CR0_PG
    mov cr0, eax
    jmp .pse_off
.pse_off:
    mov eax, cr4
    and eax, ~CR4_PSE
    mov cr4, eax
    CHECK_EQ ebx, PAGE_MAGIC_HI, "PSE: a 4 MiB page maps linear 0x400000 to 0x800000"
.pse_done:

    IF_CLAIMED cpuid1_edx, 6, "PAE", .pae_done
    CR4_SETTABLE CR4_PAE, "PAE"
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    jmp .pae_on
.pae_on:
    mov ebx, [0x400000]
    mov eax, cr0
    and eax, ~CR0_PG
    mov cr0, eax
    jmp .pae_off
.pae_off:
    mov eax, cr4
    and eax, ~CR4_PAE
    mov cr4, eax
    CHECK_EQ ebx, PAGE_MAGIC_HI, "PAE: a 2 MiB page maps linear 0x400000 to 0x800000"
.pae_done:
    xor eax, eax
    mov cr3, eax

    ; --------------------------------------------------------------- instructions
    IF_CLAIMED cpuid1_edx, 15, "CMOV", .cmov_done
    mov ebx, 0x5555
    mov ecx, 0x7777
    xor eax, eax
    NOFAULT "CMOVZ executes", cmovz eax, ebx
    CHECK_EQ eax, 0x5555, "CMOVZ with ZF=1 moves"
    or ecx, ecx
    cmovz eax, ecx
    CHECK_EQ eax, 0x5555, "CMOVZ with ZF=0 does not move"
.cmov_done:
    IF_CLAIMED cpuid1_edx, 8, "CX8", .cx8_done
    mov dword [q8], 0x22222222
    mov dword [q8 + 4], 0x11111111
    mov eax, 0x22222222
    mov edx, 0x11111111
    mov ebx, 0x44444444
    mov ecx, 0x33333333
    NOFAULT "CMPXCHG8B executes", cmpxchg8b [q8]
    CHECK_EQ [q8], 0x44444444, "CMPXCHG8B equal: low dword stored"
    CHECK_EQ [q8 + 4], 0x33333333, "CMPXCHG8B equal: high dword stored"
.cx8_done:
    IF_CLAIMED cpuid1_edx, 0, "FPU", .fpu_done
    mov eax, cr0
    and eax, ~(CR0_EM | CR0_TS)
    mov cr0, eax
    fninit
    mov ax, 0xFFFF
    fnstsw ax
    movzx eax, ax
    CHECK_EQ eax, 0, "FPU: FNSTSW after FNINIT = 0"
.fpu_done:

    ; --------------------------------------------------------------- SYSENTER MSRs
    IF_CLAIMED cpuid1_edx, 11, "SEP", .sep_done
    WRMSR_OK MSR_SYSENTER_CS, 0, 0x0008, "WRMSR SYSENTER_CS"
    WRMSR_OK MSR_SYSENTER_ESP, 0, 0x12345678, "WRMSR SYSENTER_ESP"
    WRMSR_OK MSR_SYSENTER_EIP, 0, 0x87654320, "WRMSR SYSENTER_EIP"
    RDMSR_IS MSR_SYSENTER_CS, 0, 0x0008, "SYSENTER_CS"
    RDMSR_IS MSR_SYSENTER_ESP, 0, 0x12345678, "SYSENTER_ESP"
    RDMSR_IS MSR_SYSENTER_EIP, 0, 0x87654320, "SYSENTER_EIP"
    WRMSR_OK MSR_SYSENTER_CS, 0, 0, "WRMSR SYSENTER_CS = 0"
.sep_done:

    ; --------------------------------------------------------------- PAT
    IF_CLAIMED cpuid1_edx, 16, "PAT", .pat_done
    RDMSR_IS MSR_PAT, 0x00070406, 0x00070406, "PAT at reset = 0x0007040600070406"
    WRMSR_OK MSR_PAT, 0x00010506, 0x00040007, "WRMSR PAT (types 7 4 0 0 6 5 1 0)"
    RDMSR_IS MSR_PAT, 0x00010506, 0x00040007, "PAT"
%ifdef ORACLE_QEMU
    PRINT "# skipped for QEMU (its TCG accepts any PAT): undefined PAT types -> #GP"
%else
    WRMSR_GP MSR_PAT, 0x00070406, 0x00070402, "WRMSR PAT with a type 2 entry -> #GP(0)"
    WRMSR_GP MSR_PAT, 0x03070406, 0x00070406, "WRMSR PAT with a type 3 entry -> #GP(0)"
    WRMSR_GP MSR_PAT, 0x00070406, 0x00080406, "WRMSR PAT with a type 8 entry -> #GP(0)"
    RDMSR_IS MSR_PAT, 0x00010506, 0x00040007, "PAT unchanged by the faulting writes"
%endif
    WRMSR_OK MSR_PAT, 0x00070406, 0x00070406, "WRMSR PAT back to its reset value"
.pat_done:

    ; --------------------------------------------------------------- MTRRs
    IF_CLAIMED cpuid1_edx, 12, "MTRR", .mtrr_done
    mov ecx, MSR_MTRRCAP
    NOFAULT "RDMSR MTRRcap", rdmsr
    mov ecx, MSR_MTRRCAP
    rdmsr
    mov [tmp], eax
    movzx eax, byte [tmp]
    cmp eax, 1
    setae al
    movzx eax, al
    CHECK_EQ eax, 1, "MTRRcap: at least one variable range"
    WRMSR_OK MSR_MTRR_DEF, 0, 0x00000806, "WRMSR MTRRdefType (E=1, default WB)"
    RDMSR_IS MSR_MTRR_DEF, 0, 0x00000806, "MTRRdefType"
    WRMSR_OK MSR_MTRR_BASE0, 0, 0x00100006, "WRMSR MTRRphysBase0 (1 MiB, WB)"
    WRMSR_OK MSR_MTRR_MASK0, 0x0000000F, 0xFFF00800, "WRMSR MTRRphysMask0 (1 MiB, valid)"
    RDMSR_IS MSR_MTRR_BASE0, 0, 0x00100006, "MTRRphysBase0"
    RDMSR_IS MSR_MTRR_MASK0, 0x0000000F, 0xFFF00800, "MTRRphysMask0"
%ifdef ORACLE_QEMU
    PRINT "# skipped for QEMU (its TCG accepts any MTRR type): undefined MTRR types -> #GP"
%else
    WRMSR_GP MSR_MTRR_DEF, 0, 0x00000802, "WRMSR MTRRdefType with type 2 -> #GP(0)"
    WRMSR_GP MSR_MTRR_DEF, 0, 0x00000807, "WRMSR MTRRdefType with type 7 -> #GP(0)"
    WRMSR_GP MSR_MTRR_BASE0, 0, 0x00100003, "WRMSR MTRRphysBase0 with type 3 -> #GP(0)"
    RDMSR_IS MSR_MTRR_DEF, 0, 0x00000806, "MTRRdefType unchanged by the faulting writes"
    RDMSR_IS MSR_MTRR_BASE0, 0, 0x00100006, "MTRRphysBase0 unchanged"
%endif
    WRMSR_OK MSR_MTRR_MASK0, 0, 0, "WRMSR MTRRphysMask0 = 0 (range off)"
    WRMSR_OK MSR_MTRR_BASE0, 0, 0, "WRMSR MTRRphysBase0 = 0"
    WRMSR_OK MSR_MTRR_DEF, 0, 0, "WRMSR MTRRdefType = 0"
    mov ecx, MSR_MTRRCAP
    rdmsr
    test eax, 1 << 8                            ; FIX: fixed-range MTRRs
    jz .nofix
    WRMSR_OK MSR_MTRR_FIX64K, 0x05040100, 0x06060606, "WRMSR MTRRfix64K_00000"
    RDMSR_IS MSR_MTRR_FIX64K, 0x05040100, 0x06060606, "MTRRfix64K_00000"
%ifndef ORACLE_QEMU
    WRMSR_GP MSR_MTRR_FIX64K, 0x06060606, 0x06020606, "WRMSR MTRRfix64K_00000 with a type 2 byte -> #GP(0)"
    RDMSR_IS MSR_MTRR_FIX64K, 0x05040100, 0x06060606, "MTRRfix64K_00000 unchanged"
%endif
    WRMSR_OK MSR_MTRR_FIX64K, 0, 0, "WRMSR MTRRfix64K_00000 = 0"
    jmp .mtrr_done
.nofix:
    PRINT "# MTRRcap.FIX = 0: no fixed-range MTRRs"
.mtrr_done:

    ; --------------------------------------------------------------- extended features
    IF_CLAIMED cpuidx_edx, 20, "NX (EFER.NXE)", .nx_done
    RDMSR_IS MSR_EFER, 0, 0, "EFER = 0 at reset"
    WRMSR_OK MSR_EFER, 0, 0x800, "WRMSR EFER.NXE"
    RDMSR_IS MSR_EFER, 0, 0x800, "EFER.NXE"
    WRMSR_OK MSR_EFER, 0, 0, "WRMSR EFER = 0"
.nx_done:
    IF_CLAIMED cpuidx_edx, 27, "RDTSCP", .rdtscp_done
    WRMSR_OK MSR_TSC_AUX, 0, 0x00ABCDEF, "WRMSR TSC_AUX"
    RDMSR_IS MSR_TSC_AUX, 0, 0x00ABCDEF, "TSC_AUX"
    xor ecx, ecx
    NOFAULT "RDTSCP executes", rdtscp
    CHECK_EQ ecx, 0x00ABCDEF, "RDTSCP: ECX = TSC_AUX"
.rdtscp_done:
    FINISH

; tsc_increased: EAX = 1 if the 64-bit tsc2 > tsc1, else 0.
tsc_increased:
    mov eax, [tsc2 + 4]
    cmp eax, [tsc1 + 4]
    ja .yes
    jb .no
    mov eax, [tsc2]
    cmp eax, [tsc1]
    ja .yes
.no:
    xor eax, eax
    ret
.yes:
    mov eax, 1
    ret

; Page structures for the PSE and PAE checks: linear 0-4 MiB identity (the first 2 MiB for PAE),
; linear 0x400000 -> physical 0x800000.
setup_pages:
    pushad
    mov edi, PDPT
    xor eax, eax
    mov ecx, 0x3000 / 4
    rep stosd
    mov dword [PDPT], PD_PAE | 1                ; PDPTE: P only (bits 1, 2 are reserved)
    mov dword [PD_PAE], 0x83                    ; 2 MiB page at 0, P RW PS
    mov dword [PD_PAE + 2 * 8], 0x800083        ; linear 0x400000 -> 0x800000
    mov dword [PD_PSE], 0x83                    ; 4 MiB page at 0
    mov dword [PD_PSE + 4], 0x800083            ; linear 0x400000 -> 0x800000
    mov dword [0x400000], PAGE_MAGIC_LO
    mov dword [0x800000], PAGE_MAGIC_HI
    popad
    ret

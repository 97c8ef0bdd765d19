; pm_segments.asm: protected-mode segmentation at CPL0, the checks the SDM lists for loading
; segment registers (MOV Sreg, POP Sreg, LDS/LES/LFS/LGS/LSS, far JMP/CALL), LDT selectors,
; the descriptor instructions (SGDT/SIDT/SLDT/STR/LGDT/LLDT/LTR), LAR/LSL/VERR/VERW, ARPL,
; SMSW/LMSW/CLTS, the accessed bit, and big real mode ("unreal": a 4 GiB DS limit kept after
; going back to real mode).
;
; Not here: checks made on each access (segment limits, expand-down segments, accesses through
; null selectors, writes to read-only data, reads of execute-only code, stack limits), the
; accessed bit of CS and LTR with a null selector are in pm_strict.asm, because QEMU's TCG
; does not implement them (that file is validated on Bochs); DPL/RPL-versus-CPL checks that
; need CPL>0 are in the ring-3 tests.
;
; Error codes: a selector error code is the selector with RPL cleared (bits 15-3 index, bit 2 TI),
; EXT (bit 0) = 0 because every fault here comes from the instruction itself.
%include "pm.inc"

; Test descriptors, GDT slots 8-23
SEL_RO      equ 0x40    ; read-only data, base 0x20000, limit 0xFFF
SEL_NP      equ 0x48    ; writable data, not present
SEL_XO      equ 0x50    ; execute-only code, flat, 32-bit
SEL_RCODE   equ 0x58    ; readable code, base 0x20000, limit 0xFFF, 32-bit
SEL_CONF    equ 0x60    ; conforming readable code, DPL0, flat, 32-bit
SEL_NA      equ 0x68    ; writable data, accessed bit clear, base 0x20000, limit 0xFFF
SEL_CODE_NP equ 0x70    ; code, not present
SEL_LDTD    equ 0x78    ; LDT at LDT_BASE, 3 entries (limit 0x17)
SEL_CGATE   equ 0x80    ; 32-bit call gate (valid for LAR, not for LSL/VERR)
SEL_IGATE   equ 0x88    ; 32-bit interrupt gate (invalid for LAR)
SEL_RES8    equ 0x90    ; system type 8 (reserved)
SEL_GRAN    equ 0x98    ; data, G=1, limit field 1 -> 0x1FFF
SEL_TSS2    equ 0xA0    ; a second 32-bit TSS, available
SEL_LDT_NP  equ 0xB0    ; LDT descriptor, not present
SEL_TSS16   equ 0xB8    ; available 16-bit TSS (valid for LAR and LSL)

; LDT entries (TI=1)
LSEL_FLAT   equ 0x04    ; LDT[0]: flat data (index 0 of an LDT is a real descriptor, not null)
LSEL_DATA   equ 0x0C    ; LDT[1]: data, base 0x20000, limit 0xFFF, accessed bit clear
LSEL_NP     equ 0x14    ; LDT[2]: data, not present
LSEL_BEYOND equ 0x1C    ; LDT[3]: beyond the LDT limit

TSS2_BASE   equ 0x4800
DATA_AREA   equ 0x20000
HIGH_AREA   equ 0x200000    ; 2 MiB, above real mode's reach

section .bss
far_ptr:    resd 2          ; offset, selector for LDS/LSS/...
saved_gdtr: resb 6
            resb 2
store_area: resd 4
rm_value:   resd 1          ; what real mode read through the 4 GiB ES
rm_cr0:     resd 1

PM32
test_main:
    PRINT "# pm_segments: segment register loads, descriptor instructions, unreal mode"
    SET_GDT SEL_RO, DATA_AREA, 0xFFF, 0x0091
    SET_GDT SEL_NP, 0, 0xFFFFF, 0xC013
    SET_GDT SEL_XO, 0, 0xFFFFF, 0xC099
    SET_GDT SEL_RCODE, DATA_AREA, 0xFFF, 0x409B
    SET_GDT SEL_CONF, 0, 0xFFFFF, 0xC09F
    SET_GDT SEL_NA, DATA_AREA, 0xFFF, 0x0092
    SET_GDT SEL_CODE_NP, 0, 0xFFFFF, 0xC01B
    SET_GDT SEL_LDTD, LDT_BASE, 0x17, 0x0082
    SET_GATE GDT_BASE + SEL_CGATE, SEL_CODE32, 0x000F1234, 0x8C00
    SET_GATE GDT_BASE + SEL_IGATE, SEL_CODE32, 0x000F1234, 0x8E00
    SET_GDT SEL_RES8, 0, 0xFFFF, 0x0088
    SET_GDT SEL_GRAN, 0, 0x00001, 0x8093
    SET_GDT SEL_TSS2, TSS2_BASE, 0x67, 0x0089
    SET_GDT SEL_LDT_NP, LDT_BASE, 0x17, 0x0002
    SET_GDT SEL_TSS16, TSS2_BASE, 0x2B, 0x0081
    SET_DESC LDT_BASE + 0, 0, 0xFFFFF, 0xC093
    SET_DESC LDT_BASE + 8, DATA_AREA, 0xFFF, 0x0092
    SET_DESC LDT_BASE + 16, 0, 0xFFFFF, 0xC013
    mov dword [DATA_AREA], 0x600DDA7A
    mov dword [DATA_AREA + 0xFFC], 0x1A571A57

    ; ---------------------------------------------------------------- data segment loads
    PRINT "# MOV/POP to DS, ES, FS, GS"
    mov ax, 0x100
    FAULT VEC_GP, 0x100, "mov ds, 0x100 (beyond GDT limit 0xFF) -> #GP(0x100)", mov ds, ax
    mov ax, 0x103
    FAULT VEC_GP, 0x100, "mov es, 0x103: the error code drops the RPL -> #GP(0x100)", mov es, ax
    mov ax, 0xF8
    FAULT VEC_GP, 0xF8, "mov fs, 0xF8 (last slot, zero descriptor) -> #GP(0xF8)", mov fs, ax
    mov ax, SEL_NP
    FAULT VEC_NP, SEL_NP, "mov ds, not-present data -> #NP(sel)", mov ds, ax
    mov ax, SEL_NP | 3
    FAULT VEC_GP, SEL_NP, "mov gs, sel with RPL3 > DPL0 is checked before P -> #GP(sel)", mov gs, ax
    mov ax, SEL_XO
    FAULT VEC_GP, SEL_XO, "mov ds, execute-only code -> #GP(sel)", mov ds, ax
    mov ax, SEL_TSS
    FAULT VEC_GP, SEL_TSS, "mov es, TSS descriptor -> #GP(sel)", mov es, ax
    mov ax, SEL_LDTD
    FAULT VEC_GP, SEL_LDTD, "mov fs, LDT descriptor -> #GP(sel)", mov fs, ax
    mov ax, SEL_CGATE
    FAULT VEC_GP, SEL_CGATE, "mov gs, call gate -> #GP(sel)", mov gs, ax
    mov ax, SEL_DATA32 | 3
    FAULT VEC_GP, SEL_DATA32, "mov ds, DPL0 data with RPL3 (RPL > DPL) -> #GP(sel)", mov ds, ax
    mov ax, SEL_CONF | 3
    NOFAULT "mov es, conforming readable code with RPL3 (no DPL check) is allowed", mov es, ax
    mov ax, SEL_RCODE
    NOFAULT "mov es, readable code is allowed", mov es, ax
    mov eax, [es:0]
    CHECK_EQ eax, 0x600DDA7A, "read through ES = readable code (base 0x20000)"
    mov ax, SEL_DATA32_R3 | 3
    NOFAULT "mov fs, DPL3 data with RPL3 at CPL0 is allowed", mov fs, ax
    push dword 0x100
    FAULT VEC_GP, 0x100, "pop ds, 0x100 -> #GP(0x100)", pop ds
    push dword SEL_NP
    FAULT VEC_NP, SEL_NP, "pop es, not-present -> #NP(sel)", pop es
    mov esp, STACK_TOP
    mov ax, SEL_DATA32
    mov es, ax
    mov fs, ax
    mov gs, ax

    ; null selectors
    PRINT "# null selectors"
    xor eax, eax
    NOFAULT "mov es, 0 (null) is allowed", mov es, ax
    mov ax, 3
    NOFAULT "mov fs, 3 (null with RPL3) is allowed", mov fs, ax
    xor eax, eax
    NOFAULT "mov ds, 0 (null) is allowed", mov ds, ax
    mov ax, SEL_DATA32
    mov ds, ax
    xor eax, eax
    FAULT VEC_GP, 0, "mov ss, 0 (null) -> #GP(0)", mov ss, ax
    mov ax, SEL_DATA32
    mov fs, ax

    ; ---------------------------------------------------------------- stack segment loads
    PRINT "# MOV SS, LSS"
    mov ax, 0x100
    FAULT VEC_GP, 0x100, "mov ss, beyond GDT limit -> #GP(sel)", mov ss, ax
    mov ax, SEL_NP
    FAULT VEC_SS, SEL_NP, "mov ss, not-present writable data -> #SS(sel)", mov ss, ax
    mov ax, SEL_RO
    FAULT VEC_GP, SEL_RO, "mov ss, read-only data -> #GP(sel)", mov ss, ax
    mov ax, SEL_RCODE
    FAULT VEC_GP, SEL_RCODE, "mov ss, readable code -> #GP(sel)", mov ss, ax
    mov ax, SEL_DATA32 | 3
    FAULT VEC_GP, SEL_DATA32, "mov ss, RPL3 != CPL0 -> #GP(sel)", mov ss, ax
    mov ax, SEL_DATA32_R3
    FAULT VEC_GP, SEL_DATA32_R3, "mov ss, DPL3 != CPL0 (RPL0) -> #GP(sel)", mov ss, ax
    mov ax, SEL_TSS
    FAULT VEC_GP, SEL_TSS, "mov ss, TSS -> #GP(sel)", mov ss, ax

    ; ---------------------------------------------------------------- far pointers
    PRINT "# LDS, LES, LFS, LGS, LSS"
    mov dword [far_ptr], 0x12345678
    mov word [far_ptr + 4], SEL_NP
    mov eax, 0xAAAAAAAA
    FAULT VEC_NP, SEL_NP, "lds eax, [ptr to not-present] -> #NP(sel)", lds eax, [far_ptr]
    CHECK_EQ eax, 0xAAAAAAAA, "the faulting lds left EAX alone"
    FAULT VEC_SS, SEL_NP, "lss esp, [ptr to not-present] -> #SS(sel)", lss esp, [far_ptr]
    mov word [far_ptr + 4], 0
    FAULT VEC_GP, 0, "lss esp, [ptr to null] -> #GP(0)", lss esp, [far_ptr]
    NOFAULT "lfs ebx, [ptr to null] is allowed", lfs ebx, [far_ptr]
    CHECK_EQ ebx, 0x12345678, "lfs loaded EBX"
    mov word [far_ptr + 4], SEL_XO
    FAULT VEC_GP, SEL_XO, "lgs ebx, [ptr to execute-only code] -> #GP(sel)", lgs ebx, [far_ptr]
    mov word [far_ptr + 4], SEL_RO
    mov ecx, 0
    NOFAULT "les ecx, [ptr to read-only data] is allowed", les ecx, [far_ptr]
    CHECK_EQ ecx, 0x12345678, "les loaded ECX"
    mov eax, es
    CHECK_EQ eax, SEL_RO, "les loaded ES"
    mov eax, [es:0xFFC]
    CHECK_EQ eax, 0x1A571A57, "read through ES = read-only data at base 0x20000"
    mov ax, SEL_DATA32
    mov es, ax
    mov fs, ax
    mov gs, ax

    ; ---------------------------------------------------------------- code segment loads
    PRINT "# far JMP/CALL"
    FAULT VEC_GP, SEL_DATA32, "jmp far to a data segment -> #GP(sel)", jmp SEL_DATA32:.nowhere
    FAULT VEC_GP, SEL_DATA32, "call far to a data segment -> #GP(sel)", call SEL_DATA32:.nowhere
    FAULT VEC_GP, 0, "jmp far to null -> #GP(0)", jmp 0:.nowhere
    FAULT VEC_GP, 0x100, "jmp far beyond GDT limit -> #GP(sel)", jmp 0x100:.nowhere
    FAULT VEC_GP, SEL_LDTD, "jmp far to an LDT descriptor -> #GP(sel)", jmp SEL_LDTD:.nowhere
    FAULT VEC_NP, SEL_CODE_NP, "jmp far to not-present code -> #NP(sel)", jmp SEL_CODE_NP:.nowhere
    FAULT VEC_GP, 0, "jmp far to offset 0x1000 beyond code limit 0xFFF -> #GP(0)", jmp SEL_RCODE:0x1000
    EXPECT .conf_failed
    jmp SEL_CONF:.in_conf
.in_conf:
    DISARM
    mov eax, cs
    CHECK_EQ eax, SEL_CONF, "jmp far to conforming code DPL0: CS = sel (RPL = CPL 0)"
    jmp SEL_CODE32:.conf_done
.conf_failed:
    NOT_OK "jmp far to conforming code faulted"
.conf_done:
.nowhere:

    ; ---------------------------------------------------------------- accessed bit
    PRINT "# accessed bit"
    mov ax, SEL_NA
    mov es, ax
    movzx eax, byte [GDT_BASE + SEL_NA + 5]
    CHECK_EQ eax, 0x93, "mov es sets the accessed bit in the GDT descriptor"
    mov ax, SEL_DATA32
    mov es, ax

    ; ---------------------------------------------------------------- GDT limit
    PRINT "# LGDT/SGDT, SIDT"
    mov dword [store_area], 0xFFFFFFFF
    mov dword [store_area + 4], 0xFFFFFFFF
    sgdt [store_area]
    movzx eax, word [store_area]
    CHECK_EQ eax, GDT_LIMIT, "sgdt limit"
    CHECK_EQ [store_area + 2], GDT_BASE, "sgdt base"
    movzx eax, word [store_area + 6]
    CHECK_EQ eax, 0xFFFF, "sgdt writes 6 bytes only"
    sidt [store_area]
    movzx eax, word [store_area]
    CHECK_EQ eax, IDT_LIMIT, "sidt limit"
    CHECK_EQ [store_area + 2], IDT_BASE, "sidt base"
    sgdt [saved_gdtr]
    mov word [store_area], 0x47
    mov dword [store_area + 2], GDT_BASE
    lgdt [store_area]
    mov ax, SEL_RO
    NOFAULT "GDT limit 0x47: selector 0x40 (bytes 0x40-0x47) is inside", mov es, ax
    mov ax, SEL_NP
    FAULT VEC_GP, SEL_NP, "GDT limit 0x47: selector 0x48 -> #GP(0x48)", mov es, ax
    mov word [store_area], 0x46
    lgdt [store_area]
    mov ax, SEL_RO
    FAULT VEC_GP, SEL_RO, "GDT limit 0x46: selector 0x40 (ends at 0x47) -> #GP(0x40)", mov es, ax
    sgdt [store_area + 8]
    movzx eax, word [store_area + 8]
    CHECK_EQ eax, 0x46, "sgdt returns the new limit"
    lgdt [saved_gdtr]
    mov ax, SEL_DATA32
    mov es, ax

    ; ---------------------------------------------------------------- LDT
    PRINT "# LDT: LLDT, SLDT, TI=1 selectors"
    mov ax, LSEL_DATA
    FAULT VEC_GP, LSEL_DATA, "TI=1 selector with a null LDTR -> #GP(sel)", mov es, ax
    mov ax, SEL_DATA32
    FAULT VEC_GP, SEL_DATA32, "lldt with a data descriptor -> #GP(sel)", lldt ax
    mov ax, SEL_LDTD | 4
    FAULT VEC_GP, SEL_LDTD | 4, "lldt with a TI=1 selector -> #GP(sel)", lldt ax
    mov ax, SEL_LDT_NP
    FAULT VEC_NP, SEL_LDT_NP, "lldt with a not-present LDT -> #NP(sel)", lldt ax
    mov ax, SEL_LDTD
    NOFAULT "lldt with the LDT descriptor", lldt ax
    mov eax, 0xFFFFFFFF
    sldt eax
    CHECK_EQ eax, SEL_LDTD, "sldt r32 (zero-extended on P6 and later)"
    mov dword [store_area], 0xFFFFFFFF
    sldt [store_area]
    CHECK_EQ [store_area], 0xFFFF0000 | SEL_LDTD, "sldt m16 writes 16 bits"
    mov ax, LSEL_FLAT
    NOFAULT "mov es, 0x04 (LDT index 0 is not a null selector)", mov es, ax
    mov eax, [es:DATA_AREA]
    CHECK_EQ eax, 0x600DDA7A, "read through LDT[0] (flat)"
    mov ax, LSEL_DATA
    NOFAULT "mov fs, 0x0C (LDT[1], base 0x20000)", mov fs, ax
    mov eax, [fs:0]
    CHECK_EQ eax, 0x600DDA7A, "read through LDT[1]"
    movzx eax, byte [LDT_BASE + 8 + 5]
    CHECK_EQ eax, 0x93, "the load set the accessed bit in the LDT descriptor"
    mov ax, LSEL_FLAT
    NOFAULT "mov ss, 0x04 (flat writable data in the LDT)", mov ss, ax
    mov eax, ss
    CHECK_EQ eax, LSEL_FLAT, "SS = 0x04"
    mov ax, SEL_DATA32
    mov ss, ax
    mov ax, LSEL_DATA | 3
    FAULT VEC_GP, LSEL_DATA, "TI=1 selector with RPL3 > DPL0 -> #GP(sel)", mov gs, ax
    mov ax, LSEL_NP
    FAULT VEC_NP, LSEL_NP, "LDT[2] not present -> #NP(0x14)", mov gs, ax
    mov ax, LSEL_BEYOND
    FAULT VEC_GP, LSEL_BEYOND, "LDT[3] beyond LDT limit 0x17 -> #GP(0x1C)", mov gs, ax
    xor eax, eax
    NOFAULT "lldt 0 (null) is allowed", lldt ax
    mov ax, LSEL_FLAT
    FAULT VEC_GP, LSEL_FLAT, "after lldt 0, a TI=1 selector -> #GP(sel)", mov gs, ax
    mov ax, SEL_DATA32
    mov es, ax
    mov fs, ax
    mov gs, ax

    ; ---------------------------------------------------------------- TR
    PRINT "# LTR, STR"
    mov eax, 0xFFFFFFFF
    str eax
    CHECK_EQ eax, SEL_TSS, "str r32"
    mov dword [store_area], 0xFFFFFFFF
    str [store_area]
    CHECK_EQ [store_area], 0xFFFF0000 | SEL_TSS, "str m16 writes 16 bits"
    movzx eax, byte [GDT_BASE + SEL_TSS + 5]
    CHECK_EQ eax, 0x8B, "the TSS in TR is marked busy (type 0xB)"
    mov ax, SEL_TSS
    FAULT VEC_GP, SEL_TSS, "ltr with a busy TSS -> #GP(sel)", ltr ax
    mov ax, SEL_DATA32
    FAULT VEC_GP, SEL_DATA32, "ltr with a data descriptor -> #GP(sel)", ltr ax
    mov ax, SEL_TSS2
    NOFAULT "ltr with an available 32-bit TSS", ltr ax
    str eax
    CHECK_EQ eax, SEL_TSS2, "str after ltr"
    movzx eax, byte [GDT_BASE + SEL_TSS2 + 5]
    CHECK_EQ eax, 0x8B, "ltr marked the new TSS busy"
    movzx eax, byte [GDT_BASE + SEL_TSS + 5]
    CHECK_EQ eax, 0x8B, "ltr does not clear the old TSS's busy bit"
    mov byte [GDT_BASE + SEL_TSS + 5], 0x89
    mov ax, SEL_TSS
    ltr ax

    ; ---------------------------------------------------------------- LAR
    PRINT "# LAR"
%macro LAR_OK 3     ; selector, expected (masked by 0x00F0FF00), description
    mov ebx, %1
    mov eax, 0xDEADBEEF
    lar eax, ebx
    %strcat LAR_D %3, ": ZF=1"
    CHECK_ZF 1, LAR_D
    and eax, 0x00F0FF00
    %strcat LAR_D %3, ": access rights"
    CHECK_EQ eax, %2, LAR_D
%endmacro
%macro LAR_BAD 2    ; selector, description
    mov ebx, %1
    mov eax, 0xDEADBEEF
    lar eax, ebx
    %strcat LAR_D %2, ": ZF=0"
    CHECK_ZF 0, LAR_D
    %strcat LAR_D %2, ": destination unchanged"
    CHECK_EQ eax, 0xDEADBEEF, LAR_D
%endmacro
    LAR_OK SEL_CODE32, 0x00C09B00, "lar flat code"
    LAR_OK SEL_DATA32, 0x00C09300, "lar flat data"
    LAR_OK SEL_RO, 0x00009100, "lar read-only data"
    LAR_OK SEL_NP, 0x00C01300, "lar not-present data (LAR ignores P)"
    LAR_OK SEL_TSS, 0x00008B00, "lar busy 32-bit TSS"
    LAR_OK SEL_TSS16, 0x00008100, "lar available 16-bit TSS"
    LAR_OK SEL_LDTD, 0x00008200, "lar LDT"
    LAR_OK SEL_CGATE, 0x00008C00, "lar call gate"
    LAR_OK SEL_CONF | 3, 0x00C09F00, "lar conforming code with RPL3"
    LAR_OK SEL_DATA32_R3, 0x00C0F300, "lar DPL3 data"
    LAR_BAD SEL_IGATE, "lar interrupt gate"
    LAR_BAD SEL_RES8, "lar reserved system type 8"
    LAR_BAD 0, "lar null selector"
    LAR_BAD 0x100, "lar beyond the GDT limit"
    LAR_BAD SEL_DATA32 | 3, "lar DPL0 data with RPL3"
    LAR_BAD LSEL_FLAT, "lar TI=1 with a null LDTR"
    mov eax, 0xDEAD0000
    mov bx, SEL_DATA32
    lar ax, bx
    CHECK_EQ eax, 0xDEAD9300, "lar r16: low word masked by 0xFF00, upper half unchanged"

    ; ---------------------------------------------------------------- LSL
    PRINT "# LSL"
%macro LSL_OK 3
    mov ebx, %1
    mov eax, 0xDEADBEEF
    lsl eax, ebx
    %strcat LAR_D %3, ": ZF=1"
    CHECK_ZF 1, LAR_D
    %strcat LAR_D %3, ": limit"
    CHECK_EQ eax, %2, LAR_D
%endmacro
%macro LSL_BAD 2
    mov ebx, %1
    mov eax, 0xDEADBEEF
    lsl eax, ebx
    %strcat LAR_D %2, ": ZF=0"
    CHECK_ZF 0, LAR_D
    %strcat LAR_D %2, ": destination unchanged"
    CHECK_EQ eax, 0xDEADBEEF, LAR_D
%endmacro
    LSL_OK SEL_DATA32, 0xFFFFFFFF, "lsl G=1 limit 0xFFFFF"
    LSL_OK SEL_GRAN, 0x00001FFF, "lsl G=1 limit 1 -> 0x1FFF"
    LSL_OK SEL_RO, 0x00000FFF, "lsl byte-granular limit"
    LSL_OK SEL_NP, 0xFFFFFFFF, "lsl not-present data (LSL ignores P)"
    LSL_OK SEL_TSS, TSS_LIMIT, "lsl busy 32-bit TSS"
    LSL_OK SEL_TSS16, 0x2B, "lsl 16-bit TSS"
    LSL_OK SEL_LDTD, 0x17, "lsl LDT"
    LSL_BAD SEL_CGATE, "lsl call gate"
    LSL_BAD SEL_IGATE, "lsl interrupt gate"
    LSL_BAD 0, "lsl null selector"
    LSL_BAD SEL_RO | 3, "lsl DPL0 data with RPL3"
    mov eax, 0xDEAD0000
    mov bx, SEL_DATA32
    lsl ax, bx
    CHECK_EQ eax, 0xDEADFFFF, "lsl r16: low 16 bits of the limit, upper half unchanged"

    ; ---------------------------------------------------------------- VERR/VERW
    PRINT "# VERR, VERW"
%macro VER 4        ; verr|verw, selector, ZF, description
    mov ax, %2
    %1 ax
    CHECK_ZF %3, %4
%endmacro
    VER verr, SEL_DATA32, 1, "verr flat data -> ZF=1"
    VER verw, SEL_DATA32, 1, "verw flat data -> ZF=1"
    VER verr, SEL_RO, 1, "verr read-only data -> ZF=1"
    VER verw, SEL_RO, 0, "verw read-only data -> ZF=0"
    VER verr, SEL_RCODE, 1, "verr readable code -> ZF=1"
    VER verw, SEL_RCODE, 0, "verw readable code -> ZF=0"
    VER verr, SEL_XO, 0, "verr execute-only code -> ZF=0"
    VER verr, SEL_CONF | 3, 1, "verr conforming readable code, RPL3 -> ZF=1"
    VER verr, SEL_DATA32 | 3, 0, "verr DPL0 data with RPL3 -> ZF=0"
    VER verw, SEL_DATA32 | 3, 0, "verw DPL0 data with RPL3 -> ZF=0"
    VER verr, SEL_TSS, 0, "verr TSS -> ZF=0"
    VER verr, SEL_CGATE, 0, "verr call gate -> ZF=0"
    VER verr, 0, 0, "verr null -> ZF=0"
    VER verw, 0x100, 0, "verw beyond GDT limit -> ZF=0"

    ; ---------------------------------------------------------------- ARPL
    PRINT "# ARPL"
    mov ax, SEL_DATA32
    mov bx, 3
    arpl ax, bx
    CHECK_ZF 1, "arpl 0x10, 3: ZF=1 (RPL raised)"
    movzx eax, ax
    CHECK_EQ eax, SEL_DATA32 | 3, "arpl 0x10, 3: dest = 0x13"
    mov word [store_area], 0x0013
    mov word [store_area + 2], 0x5555
    mov bx, 0xFFF1
    arpl [store_area], bx
    CHECK_ZF 0, "arpl [0x13], 0xFFF1: ZF=0 (RPL 3 >= 1)"
    CHECK_EQ [store_area], 0x55550013, "arpl [0x13], 0xFFF1: memory unchanged"

    ; ---------------------------------------------------------------- SMSW, LMSW, CLTS
    PRINT "# SMSW, LMSW, CLTS"
    mov eax, cr0
    mov ebx, eax
    mov ax, 0x5555
    smsw ax
    movzx eax, ax
    movzx ecx, bx
    CHECK_EQ eax, ecx, "smsw r16 = low 16 bits of CR0"
    mov dword [store_area], 0xAAAAAAAA
    smsw [store_area]
    mov eax, ebx
    and eax, 0xFFFF
    or eax, 0xAAAA0000
    CHECK_EQ [store_area], eax, "smsw m16 writes 16 bits"
    mov ax, CR0_MP | CR0_TS                     ; PE=0 in the operand
    lmsw ax
    mov eax, cr0
    CHECK_MASK eax, 0xF, CR0_PE | CR0_MP | CR0_TS, "lmsw sets MP and TS but cannot clear PE"
    mov ax, 0xFFF0 | CR0_PE                     ; bits 4-15 set in the operand
    lmsw ax
    mov eax, cr0
    mov ecx, ebx
    and ecx, ~0xF
    or ecx, CR0_PE
    CHECK_EQ eax, ecx, "lmsw loads only bits 0-3 (clears MP, EM, TS; NE/ET untouched)"
    mov eax, cr0
    or eax, CR0_TS
    mov cr0, eax
    clts
    mov eax, cr0
    CHECK_MASK eax, CR0_TS, 0, "clts clears CR0.TS"
    mov cr0, ebx

    ; ---------------------------------------------------------------- unreal mode
    PRINT "# big real mode: a 4 GiB limit loaded in protected mode survives the switch"
    mov dword [HIGH_AREA], 0x0BADCAFE
    mov dword [rm_value], 0
    mov dword [HIGH_AREA + 0x10], 0
    mov [saved_esp], esp
    mov ax, SEL_DATA16                          ; 64 KiB, 16-bit: what real mode expects
    mov ds, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov ax, SEL_DATA32                          ; 4 GiB, base 0
    mov es, ax
    jmp SEL_CODE16:unreal_16
unreal_back:
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, [saved_esp]
    lidt [idt_ptr]
    CHECK_MASK [rm_cr0], CR0_PE, 0, "CR0.PE was 0 in real mode"
    CHECK_EQ [rm_value], 0x0BADCAFE, "real mode read [es:0x200000] through the 4 GiB ES"
    CHECK_EQ [HIGH_AREA + 0x10], 0x600DF00D, "real mode wrote [es:0x200010]"
    FINISH

section .bss
saved_esp: resd 1

RM16
; Entered through SEL_CODE16 (16-bit protected mode, base 0xF0000): leave protected mode.
unreal_16:
    mov eax, cr0
    and al, ~CR0_PE
    mov cr0, eax
    jmp 0xF000:.real
.real:
    xor ax, ax
    mov ds, ax                                  ; base 0, the 64 KiB limit stays
    mov ss, ax
    lidt [cs:rm_idt]
    mov eax, cr0
    mov [rm_cr0], eax
    mov eax, [es:dword HIGH_AREA]               ; ES still has base 0 and a 4 GiB limit
    mov [rm_value], eax
    mov dword [es:dword HIGH_AREA + 0x10], 0x600DF00D
    mov eax, cr0
    or al, CR0_PE
    mov cr0, eax
    jmp dword SEL_CODE32:unreal_back
rm_idt:
    dw 0x3FF
    dd 0

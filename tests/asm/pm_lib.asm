; pm_lib.asm: checks the test library itself (lib/pm.inc) on the way into protected mode: the
; state it promises at test_main, and that its exception machinery records and recovers as
; documented. If this test fails, the failures of the other tests mean little.
%include "pm.inc"

test_main:
    PRINT "# pm_lib: the library's own state and exception machinery"
    pushfd                                  ; PRINT keeps EFLAGS
    pop eax
    CHECK_EQ eax, 0x00000002, "EFLAGS = 2 at test_main"
    mov eax, cr0
    CHECK_MASK eax, CR0_PE | CR0_PG, CR0_PE, "CR0.PE=1, PG=0 at test_main"
    mov eax, cs
    CHECK_EQ eax, SEL_CODE32, "CS = SEL_CODE32"
    xor eax, eax
    mov ax, ss
    CHECK_EQ eax, SEL_DATA32, "SS = SEL_DATA32"
    mov eax, esp
    CHECK_EQ eax, STACK_TOP, "ESP = STACK_TOP"

    ; a fault recovered in "recover" mode keeps the general registers of the faulting moment
    mov eax, 0x11111111
    mov ebx, 0x22222222
    mov ecx, 0x33333333
    mov edx, 0x44444444
    mov esi, 0x55555555
    mov edi, 0x66666666
    mov ebp, 0x77777777
    FAULT VEC_UD, 0, "ud2 -> #UD, saved EIP = ud2", ud2
    CHECK_EQ eax, 0x11111111, "EAX kept across a recovered fault"
    CHECK_EQ ebx, 0x22222222, "EBX kept"
    CHECK_EQ ecx, 0x33333333, "ECX kept"
    CHECK_EQ edx, 0x44444444, "EDX kept"
    CHECK_EQ esi, 0x55555555, "ESI kept"
    CHECK_EQ edi, 0x66666666, "EDI kept"
    CHECK_EQ ebp, 0x77777777, "EBP kept"
    mov eax, esp
    CHECK_EQ eax, STACK_TOP, "ESP back to its value at EXPECT"
    CHECK_EQ [exc_cs], SEL_CODE32, "recorded CS"
    CHECK_EQ [exc_count], 1, "one exception counted"

    ; an error-code exception: the stubs must not push a dummy for #GP
    mov ax, 0xFFF8
    FAULT VEC_GP, 0xFFF8, "mov ds, 0xFFF8 (beyond the GDT limit) -> #GP(0xFFF8)", mov ds, ax

    ; flags survive a recovery (minus TF)
    stc
    FAULT VEC_UD, 0, "ud2 with CF=1", ud2
    CHECK_FLAGS EFL_CF, EFL_CF, "CF kept across a recovered fault"
    xor eax, eax
    CHECK_ZF 1, "CHECK_ZF sees ZF=1 after xor eax, eax"
    inc eax
    CHECK_ZF 0, "CHECK_ZF sees ZF=0 after inc"

    ; a trap: the saved EIP is the next instruction
    TRAP VEC_BP, 0, "int3 -> #BP, saved EIP after int3", int3

    ; keep mode: IRET back through the frame to the label, same stack
    mov eax, 0xAABBCCDD
    EXPECT_KEEP .kept
    int3
    DISARM
    NOT_OK "EXPECT_KEEP: int3 did not trap"
.kept:
    CHECK_EQ [exc_vector], VEC_BP, "EXPECT_KEEP recorded #BP"
    CHECK_EQ eax, 0xAABBCCDD, "EXPECT_KEEP kept EAX"
    mov eax, esp
    CHECK_EQ eax, STACK_TOP, "EXPECT_KEEP: ESP back where it was"

    NOFAULT "nop raises nothing", nop
    CHECK_EQ [exc_count], 5, "five exceptions counted in all"

    ; SET_GDT / SET_IDT produce what the CPU uses: a 16-bit data segment and an INT 0x40 gate
    SET_GDT SEL_FREE, 0x12345, 0xFFFF, 0x0093
    mov ax, SEL_FREE
    mov es, ax
    mov dword [0x12345 + 0x10], 0xCAFEF00D
    CHECK_EQ [es:0x10], 0xCAFEF00D, "SET_GDT: ES base 0x12345"
    mov ax, SEL_DATA32
    mov es, ax
    SET_IDT 0x40, SEL_CODE32, int40_handler, 0x8E00
    xor eax, eax
    int 0x40
    CHECK_EQ eax, 0x40404040, "SET_IDT: INT 0x40 reached its handler"

    ; a fault at CPL3 recovers to CPL0 (the TSS supplies the ring-0 stack)
    str eax
    CHECK_EQ eax, SEL_TSS, "TR = SEL_TSS"
    ENTER_RING3 .ring3, 0xF000
.ring3:
    CHECK_EQ [exc_count], 5, "checks work at CPL3 (port 0xE9 allowed by the I/O bitmap)"
    mov eax, cs
    CHECK_EQ eax, SEL_CODE32_R3 | 3, "CS at ring 3"
    mov ebx, 0x12345678
    FAULT VEC_GP, 0, "out 0xE8 at CPL3, IOPL 0, not allowed by the bitmap -> #GP(0)", out 0xE8, al
    CHECK_EQ [exc_cs], SEL_CODE32_R3 | 3, "recorded CS is the ring-3 one"
    CHECK_EQ [exc_ss], SEL_DATA32_R3 | 3, "recorded outer SS"
    CHECK_EQ [exc_esp], 0xF000, "recorded outer ESP"
    CHECK_EQ ebx, 0x12345678, "EBX from ring 3 kept"
    mov eax, cs
    CHECK_EQ eax, SEL_CODE32, "recovered to CPL0 in SEL_CODE32"
    xor eax, eax
    mov ax, ss
    CHECK_EQ eax, SEL_DATA32, "SS = SEL_DATA32 after recovery"
    mov eax, esp
    CHECK_EQ eax, 0xF000, "ESP = its value at the EXPECT (in ring 3)"
    mov esp, STACK_TOP
    FINISH

int40_handler:
    mov eax, 0x40404040
    iretd

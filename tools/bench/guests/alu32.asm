; Benchmark guest (a32): alu.asm's integer loop as flat 32-bit protected-mode code.
%include "layout32.inc"
%include "alu-loop.inc"

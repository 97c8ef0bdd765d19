; Benchmark guest (a): integer ALU loop.
;
; A dependent mix of ADD/SUB/XOR/shift/rotate/IMUL/LEA/TEST and a data-dependent Jcc, all on
; 32-bit registers from 16-bit real-mode code (nasm adds the 66h/67h prefixes), so it measures
; decode-once dispatch, operand-size prefixes and lazy-flag bookkeeping without memory traffic.

%include "layout.inc"
%include "alu-loop.inc"

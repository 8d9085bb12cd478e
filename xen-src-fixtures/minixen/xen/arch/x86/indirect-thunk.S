/*
 * Targets of -mindirect-branch=thunk-extern and
 * -mfunction-return=thunk-extern.  All of them share ONE section, so
 * every symbol but the first sits at a non-zero offset (16-byte aligned),
 * the shape that upstream create-diff-object could not handle in Xen's
 * arch/x86/indirect-thunk.o.  The bodies are the plain (unsafe) forms;
 * this tree is never run.
 */
        .section .text.__x86_thunks, "ax", @progbits

        .irp reg, ax, bx, cx, dx, si, di, bp, 8, 9, 10, 11, 12, 13, 14, 15
        .p2align 4, 0xcc
        .globl __x86_indirect_thunk_r\reg
        .type __x86_indirect_thunk_r\reg, @function
__x86_indirect_thunk_r\reg:
        jmp     *%r\reg
        int3
        .size __x86_indirect_thunk_r\reg, . - __x86_indirect_thunk_r\reg
        .endr

        .p2align 4, 0xcc
        .globl __x86_return_thunk
        .type __x86_return_thunk, @function
__x86_return_thunk:
        ret
        int3
        .size __x86_return_thunk, . - __x86_return_thunk

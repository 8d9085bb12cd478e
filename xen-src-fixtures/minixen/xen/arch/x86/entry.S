/* Image entry: set up a stack and call __start_xen(). */
        .section .text.header, "ax", @progbits
        .globl start
        .type start, @function
start:
        lea     cpu0_stack + 8192(%rip), %rsp
        call    __start_xen
1:      hlt
        jmp     1b
        .size start, . - start

        .section .bss.stack_aligned, "aw", @nobits
        .p2align 12
cpu0_stack:
        .skip   8192
        .size cpu0_stack, . - cpu0_stack

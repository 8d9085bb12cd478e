package org.livepatch.elf;

/** One program header of a linked image such as {@code xen-syms}. Relocatable objects have none. */
public record ProgramHeader(int type, int flags, long offset, long vaddr, long paddr, long filesz, long memsz, long align) {
    public static final int PT_LOAD = 1;
    public static final int PT_NOTE = 4;
}

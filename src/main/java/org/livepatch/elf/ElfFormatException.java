package org.livepatch.elf;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file that is not a well-formed ELF64 little-endian object of the kind we read.
 *
 * <p>Every parse failure becomes this one type, carrying the file, the structure being read
 * and the file offset, so a user sees "xen-syms: section header 12 at 0x1c40: ..." and never a
 * stack trace. Thrown only at the edge (the reader); code inside works on valid models.
 */
public final class ElfFormatException extends IOException {
    private final Path file;
    private final String structure;
    private final long offset;

    public ElfFormatException(Path file, String structure, long offset, String reason) {
        super(format(file, structure, offset, reason));
        this.file = file;
        this.structure = structure;
        this.offset = offset;
    }

    private static String format(Path file, String structure, long offset, String reason) {
        return "%s: %s at offset 0x%x: %s".formatted(file, structure, offset, reason);
    }

    public Path file() {
        return file;
    }

    /** The ELF structure being read, e.g. {@code "section header 3"} or {@code "symbol 17"}. */
    public String structure() {
        return structure;
    }

    public long offset() {
        return offset;
    }
}

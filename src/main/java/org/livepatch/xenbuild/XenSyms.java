package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.livepatch.elf.ElfFile;
import org.livepatch.xen.XenSymbolTable;

/**
 * The hypervisor's {@code xen-syms}, read and indexed once per run: {@code --xen-syms} by the check
 * stage, else the reference build's by the reference stage. Every later stage (the compiler check,
 * diff, assembly, verification) receives this model instead of opening the file again: the file
 * is tens of megabytes, and one reader means one wording and one exit code for a bad file.
 *
 * @param file  the file as opened (absolute)
 * @param table its symbols, indexed
 */
public record XenSyms(Path file, XenSymbolTable table) {

    /** Reads and indexes {@code file}; a missing, unreadable or malformed file is {@link BuildException.Reason#BAD_XEN_SYMS}. */
    public static XenSyms open(Path file) throws BuildException {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new BuildException(BuildException.Reason.BAD_XEN_SYMS, file, "xen-syms file does not exist or is not readable");
        }
        Path abs = file.toAbsolutePath();
        try {
            return new XenSyms(abs, XenSymbolTable.load(abs));
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_XEN_SYMS, file, "not a readable ELF file: " + e.getMessage(), e);
        }
    }

    public ElfFile elf() {
        return table.elf();
    }

    public Optional<BuildId> buildId() {
        return elf().buildId().map(BuildId::of);
    }

}

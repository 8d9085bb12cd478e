package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Section;
import org.livepatch.io.IoErrors;

/**
 * The proof that a reference build reproduces a shipped hypervisor: the rebuilt {@code xen-syms}
 * has the stock build-id. ld computes the id over the whole linked image ({@code --build-id=sha1}),
 * so equal ids mean every byte of code and data the diff's "original" side comes from is the byte
 * that runs; a payload built otherwise could patch functions whose old code differs from the
 * running code.
 *
 * @param stock   the shipped hypervisor's build-id
 * @param rebuilt the reference build's
 */
public record BuildIdProof(BuildId stock, BuildId rebuilt) {

    public boolean equal() {
        return stock.equals(rebuilt);
    }

    /**
     * What every user of a reference build does before diffing against it: when the request must
     * reproduce a shipped hypervisor ({@code --debian}), {@link #check} its rebuilt {@code xen-syms};
     * otherwise there is nothing to prove.
     */
    public static Optional<BuildIdProof> ifRequested(CheckedRequest checked, ReferenceBuild ref) throws BuildException {
        ReproductionTarget target = checked.request().reproduce();
        return target == null ? Optional.empty() : Optional.of(check(target, ref.xenSyms()));
    }

    /**
     * Compares the rebuilt {@code xen-syms} with the target; returns the proof when the ids are
     * equal, else stops with {@link BuildException.Reason#REFERENCE_NOT_REPRODUCED} naming the first
     * section that differs and what most likely made it differ.
     */
    public static BuildIdProof check(ReproductionTarget target, Path rebuiltXenSyms) throws BuildException {
        BuildId rebuilt = RequestChecks.readBuildId(rebuiltXenSyms);
        BuildIdProof proof = new BuildIdProof(target.stockBuildId(), rebuilt);
        if (proof.equal()) {
            return proof;
        }
        ElfFile stockElf = read(target.stockXenSyms());
        ElfFile rebuiltElf = read(rebuiltXenSyms);
        throw new BuildException(BuildException.Reason.REFERENCE_NOT_REPRODUCED, rebuiltXenSyms,
                "the rebuilt hypervisor is not " + target.description() + ": build-id " + rebuilt + ", stock "
                        + target.stockBuildId() + "; " + explain(stockElf, rebuiltElf)
                        + "; nothing was diffed (a payload built from these objects could patch code that is not running)");
    }

    private static ElfFile read(Path file) throws BuildException {
        try {
            return ElfReader.read(file);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_XEN_SYMS, file, IoErrors.describe(e), e);
        }
    }

    /**
     * The first differing section (stock order), and the likely cause, as one clause of the
     * message. Causes by what they leave: another compiler names itself in {@code .comment}; a
     * build string or variable of another length moves everything after it in {@code .rodata},
     * so code that addresses it changes too but keeps its size; a patch or config changes what
     * code there is, and code sizes with it.
     */
    static String explain(ElfFile stock, ElfFile rebuilt) {
        Optional<String> first = firstDifference(stock, rebuilt);
        List<String> stockGcc = RequestChecks.gccComments(stock);
        List<String> rebuiltGcc = RequestChecks.gccComments(rebuilt);
        String where = first.map(s -> "first differing section: " + s).orElse("no section differs but the build-id note");
        if (!stockGcc.equals(rebuiltGcc)) {
            return where + "; likely cause: the compiler (.comment: stock " + String.join(", ", stockGcc) + ", rebuilt "
                    + String.join(", ", rebuiltGcc) + "): build with the stock gcc (the toolchain image of that release)";
        }
        if (codeKeepsItsSize(stock, rebuilt) && dataDiffers(stock, rebuilt)) {
            return where + "; likely cause: a build string or variable (XEN_BUILD_DATE/TIME, DEB_VERSION, DEB_MAINTAINER,"
                    + " XEN_VENDORVERSION, lsb_release, the changeset): code keeps its size, data differs; compare 'strings'"
                    + " of the two files";
        }
        return where + "; likely cause: other code: a Debian patch not applied (or applied differently),"
                + " another config, or another binutils (ld, as)";
    }

    /** Every executable section of the stock file has a namesake of the same size in the rebuilt one. */
    private static boolean codeKeepsItsSize(ElfFile stock, ElfFile rebuilt) {
        for (Section s : stock.sections()) {
            if (s.isExec()) {
                List<Section> r = rebuilt.sectionsNamed(s.name());
                if (r.size() != 1 || r.get(0).size() != s.size()) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Some allocated, non-executable section (strings, data) differs in size or bytes. */
    private static boolean dataDiffers(ElfFile stock, ElfFile rebuilt) {
        for (Section s : stock.sections()) {
            if (s.isAlloc() && !s.isExec() && s.type() != org.livepatch.elf.Elf.SHT_NOTE && !s.isNoBits()) {
                List<Section> r = rebuilt.sectionsNamed(s.name());
                if (r.size() != 1 || r.get(0).size() != s.size() || !r.get(0).data().equals(s.data())) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The first section, in the stock file's order, whose name, type, address, size or bytes
     * differ in the rebuilt one, described with both sizes; the build-id note is skipped (it
     * differs whenever anything does). Empty when only that note differs.
     */
    static Optional<String> firstDifference(ElfFile stock, ElfFile rebuilt) {
        List<Section> a = stock.sections();
        List<Section> b = rebuilt.sections();
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            if (i >= a.size()) {
                return Optional.of(b.get(i).name() + " (only in the rebuilt file)");
            }
            Section s = a.get(i);
            if (i >= b.size()) {
                return Optional.of(s.name() + " (only in the stock file)");
            }
            Section r = b.get(i);
            if (!s.name().equals(r.name())) {
                return Optional.of(s.name() + " (the rebuilt file has " + (r.name().isEmpty() ? "no name" : r.name()) + " in its place)");
            }
            if (s.type() == org.livepatch.elf.Elf.SHT_NOTE && s.name().equals(".note.gnu.build-id")) {
                continue;
            }
            if (s.type() != r.type() || s.addr() != r.addr() || s.size() != r.size()) {
                return Optional.of(s.name() + String.format(" (stock %d bytes at %#x, rebuilt %d bytes at %#x)",
                        s.size(), s.addr(), r.size(), r.addr()));
            }
            if (!s.isNoBits() && !s.data().equals(r.data())) {
                return Optional.of(s.name() + String.format(" (same size, %d bytes; first different byte at +%#x)",
                        s.size(), firstByte(s, r)));
            }
        }
        return Optional.empty();
    }

    private static int firstByte(Section s, Section r) {
        int n = Math.min(s.data().length(), r.data().length());
        for (int i = 0; i < n; i++) {
            if (s.data().u8(i) != r.data().u8(i)) {
                return i;
            }
        }
        return n;
    }
}

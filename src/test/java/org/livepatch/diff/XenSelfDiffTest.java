package org.livepatch.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.testsupport.XenTree;
import org.livepatch.xen.XenSymbolTable;

/**
 * Every object of the real Xen 4.17.5 build diffed against itself must be "no change" (upstream
 * fails on arch/x86/indirect-thunk.o, whose functions start part-way into their sections).
 */
@Tag("xen")
class XenSelfDiffTest {

    @Test
    void everyObjectAgainstItselfIsNoChange() throws Exception {
        List<Path> objects = XenTree.objects();
        XenSymbolTable xen = XenSymbolTable.of(ElfReader.read(XenTree.xenSyms()));
        List<String> failures = new ArrayList<>();
        int diffed = 0;
        List<Object[]> times = new ArrayList<>();
        int skipped = 0;
        long t0 = System.nanoTime();
        for (Path o : objects) {
            byte[] bytes = Files.readAllBytes(o);
            if (bytes.length < 4 || bytes[0] != 0x7f || bytes[1] != 'E') {
                skipped++;  // arch/x86/efi/buildid.o is raw note data, not ELF
                continue;
            }
            if (bytes[4] != 2) {
                skipped++;  // 32-bit boot code (arch/x86/boot/cmdline.o, reloc.o): runs before Xen, never patched
                continue;
            }
            long t1 = System.nanoTime();
            try {
                ElfFile a = ElfReader.read(o, bytes);
                ElfFile b = ElfReader.read(o, bytes.clone());
                DiffResult r = new DiffEngine().diff(a, b, new DiffOptions(null, xen, false));
                if (r.status() != DiffResult.Status.NO_CHANGE) {
                    failures.add(o + ": " + r.status() + " " + r.changedFunctions() + r.newFunctions() + r.refusals());
                }
                diffed++;
                times.add(new Object[] {(System.nanoTime() - t1) / 1_000_000, XenTree.root().relativize(o)});
            } catch (RuntimeException e) {
                failures.add(o + ": " + e);
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("[xen self-diff] " + diffed + " objects diffed against themselves in " + ms + " ms ("
                + skipped + " non-ELF64 skipped), " + failures.size() + " failures");
        times.sort((x, y) -> Long.compare((Long) y[0], (Long) x[0]));
        for (int i = 0; i < Math.min(5, times.size()); i++) {
            System.out.println("[xen self-diff]   slowest: " + times.get(i)[1] + " " + times.get(i)[0] + " ms");
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertTrue(diffed > 380, "only " + diffed + " objects found");
        assertEquals(objects.size(), diffed + skipped);
    }
}

package org.livepatch.elf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.ModelAssertions;
import org.livepatch.testsupport.ReadelfListing;
import org.livepatch.testsupport.Tools;
import org.livepatch.testsupport.XenTree;

/** The ELF model on every object of a real Xen 4.17.5 hypervisor build, and on its xen-syms. */
@Tag("xen")
class XenTreeElfTest {

    @Test
    void everyObjectRoundTripsAndListsTheSame(@TempDir Path tmp) throws Exception {
        List<Path> objects = XenTree.objects();
        assertTrue(objects.size() > 300, "a full hypervisor build has ~385 objects, found " + objects.size());
        long t0 = System.nanoTime();
        int i = 0;
        for (Path o : objects) {
            ElfFile before = ElfReader.read(o);
            byte[] bytes = ObjectBuilder.copyOf(before).builder().toBytes();
            Path out = tmp.resolve((i++) + "-" + o.getFileName());
            Files.write(out, bytes);
            ModelAssertions.assertSameModel(before, ElfReader.read(out));
            ReadelfListing.assertSame(o, out);
            Files.delete(out);
        }
        System.out.printf("round-tripped %d Xen objects in %d ms (including readelf)%n", objects.size(), (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void xenSymsReadsCompletelyAndAgreesWithNm() throws Exception {
        Path syms = XenTree.xenSyms();
        long t0 = System.nanoTime();
        ElfFile elf = ElfReader.read(syms);
        long readMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(Elf.ET_EXEC, elf.header().type());
        assertEquals(Elf.EM_X86_64, elf.header().machine());
        assertFalse(elf.programHeaders().isEmpty());
        assertTrue(elf.symbols().size() > 5000, "xen-syms has a full symbol table: " + elf.symbols().size());
        assertEquals(20, elf.buildId().orElseThrow().length(), "sha1 build-id");

        String readelfNotes = Tools.run(null, "readelf", "-W", "-n", syms.toString());
        assertTrue(readelfNotes.contains(elf.buildId().orElseThrow().toHex()), "build-id agrees with readelf -n");

        // Every defined global that nm lists must be found by name at nm's address.
        String nm = Tools.run(null, "nm", "--defined-only", syms.toString());
        Map<String, Long> globals = new HashMap<>();
        for (String line : nm.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && Character.isUpperCase(f[1].charAt(0)) && !f[1].equals("A")) {
                globals.putIfAbsent(f[2], Long.parseUnsignedLong(f[0], 16));
            }
        }
        assertTrue(globals.size() > 1000);
        long t1 = System.nanoTime();
        for (Map.Entry<String, Long> g : globals.entrySet()) {
            List<Symbol> found = elf.symbolsNamed(g.getKey());
            assertFalse(found.isEmpty(), "symbol " + g.getKey());
            assertTrue(found.stream().anyMatch(s -> s.value() == g.getValue()), g.getKey() + " at " + Long.toHexString(g.getValue()));
        }
        long lookupMs = (System.nanoTime() - t1) / 1_000_000;
        System.out.printf("xen-syms: %d symbols, read in %d ms, %d lookups by name in %d ms%n", elf.symbols().size(), readMs, globals.size(), lookupMs);
    }
}

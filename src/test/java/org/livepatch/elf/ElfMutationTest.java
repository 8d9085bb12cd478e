package org.livepatch.elf;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.ElfFields;
import org.livepatch.testsupport.MinixenObjects;
import org.livepatch.testsupport.Tools;
import org.livepatch.testsupport.XenTree;

/**
 * Thousands of random byte flips and truncations of real objects. Each mutant must either parse
 * (and then also survive a rewrite and a listing) or fail with {@link ElfFormatException}; any
 * other exception or error is a bug in the reader's bounds checks. Seeds are fixed so a failure
 * reproduces.
 */
class ElfMutationTest {

    @Test
    void mutantsOfFixtureObjects(@TempDir Path tmp) throws Exception {
        List<Path> objs = Tools.buildRoundtripFixture(tmp, "-fcf-protection=branch");
        int[] outcome = mutate(objs, 4000, 20261126L);
        System.out.printf("fixture mutants: %d parsed, %d rejected%n", outcome[0], outcome[1]);
        assertTrue(outcome[1] > 0 && outcome[0] > 0, "both outcomes occur: " + Arrays.toString(outcome));
    }

    /**
     * Every field of every structure (ElfFields) of every minixen object and of its linked
     * xen-syms, set to each hostile value: parsed (then listed, and an object rewritten and the
     * rewrite read back: the writer must never produce what the reader refuses) or one
     * ElfFormatException naming the file.
     */
    @Test
    void everyFieldOfMinixenObjectsAndImage() throws Exception {
        MinixenObjects m = MinixenObjects.shared();
        List<Path> files = new ArrayList<>();
        try (var s = Files.walk(m.orig.resolve("xen"))) {
            s.filter(p -> p.toString().endsWith(".o")).sorted().forEach(files::add);
        }
        files.add(m.xenSyms());
        int inputs = 0;
        int parsed = 0;
        int rejected = 0;
        List<String> other = new ArrayList<>();
        for (Path f : files) {
            byte[] bytes = Files.readAllBytes(f);
            Path name = Path.of("mutant-" + f.getFileName());
            for (ElfFields.Field field : ElfFields.of(bytes)) {
                for (ElfFields.Mutant mu : ElfFields.mutants(bytes, field)) {
                    inputs++;
                    try {
                        ElfFile elf = ElfReader.read(name, mu.bytes());
                        parsed++;
                        new ElfSummary(elf).print(new PrintWriter(new StringWriter()), true, true);
                        if (elf.header().isRelocatable()) {
                            ElfReader.read(Path.of("rewrite-of-" + name), ObjectBuilder.copyOf(elf).builder().toBytes());
                        }
                    } catch (ElfFormatException e) {
                        if (e.getMessage().startsWith(name.toString()) && !e.getMessage().contains("\n")) {
                            rejected++;
                        } else {
                            other.add(f.getFileName() + " " + mu.describe() + ": " + e.getMessage());
                        }
                    } catch (Throwable t) {
                        other.add(f.getFileName() + " " + mu.describe() + ": " + t);
                    }
                }
            }
        }
        System.out.printf("ELF field mutants of %d minixen files: %d inputs, %d rejected (ElfFormatException), %d parsed, %d other%n",
                files.size(), inputs, rejected, parsed, other.size());
        assertTrue(other.isEmpty(), other.size() + " mutants:\n" + String.join("\n", other.subList(0, Math.min(30, other.size()))));
        assertTrue(parsed > 0 && rejected > 0, "both outcomes occur");
    }

    @Test
    @Tag("xen")
    void mutantsOfRealXenObjects() throws Exception {
        List<Path> all = XenTree.objects();
        List<Path> pick = new ArrayList<>();
        for (int i = 0; i < all.size(); i += Math.max(1, all.size() / 25)) {
            pick.add(all.get(i));
        }
        int[] outcome = mutate(pick, 3000, 17L);
        System.out.printf("xen mutants of %d objects: %d parsed, %d rejected%n", pick.size(), outcome[0], outcome[1]);
        assertTrue(outcome[1] > 0);
    }

    private static int[] mutate(List<Path> objs, int count, long seed) throws Exception {
        Random rnd = new Random(seed);
        int parsed = 0;
        int rejected = 0;
        List<byte[]> originals = new ArrayList<>();
        for (Path p : objs) {
            originals.add(Files.readAllBytes(p));
        }
        for (int i = 0; i < count; i++) {
            int which = rnd.nextInt(originals.size());
            byte[] b = originals.get(which).clone();
            String how;
            switch (rnd.nextInt(4)) {
                case 0 -> {
                    int len = rnd.nextInt(b.length);
                    b = Arrays.copyOf(b, len);
                    how = "truncate to " + len;
                }
                case 1 -> {
                    // Flips in the header tables hit the interesting fields far more often.
                    int n = 1 + rnd.nextInt(4);
                    for (int k = 0; k < n; k++) {
                        b[rnd.nextInt(Math.min(b.length, 64))] ^= (byte) (1 << rnd.nextInt(8));
                    }
                    how = n + " header flips";
                }
                case 2 -> {
                    long shoff = ElfReader.read(objs.get(which)).header().shoff();
                    int n = 1 + rnd.nextInt(6);
                    for (int k = 0; k < n; k++) {
                        int at = (int) (shoff + rnd.nextInt((int) (b.length - shoff)));
                        b[at] = (byte) rnd.nextInt(256);
                    }
                    how = n + " section-table bytes";
                }
                default -> {
                    int n = 1 + rnd.nextInt(16);
                    for (int k = 0; k < n; k++) {
                        b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                    }
                    how = n + " random bytes";
                }
            }
            Path name = Path.of("mutant-" + i + "-of-" + objs.get(which).getFileName());
            try {
                ElfFile elf = ElfReader.read(name, b);
                parsed++;
                // A parsed file must be usable: listed, and (when relocatable) copied and written.
                new ElfSummary(elf).print(new PrintWriter(new StringWriter()), true, true);
                if (elf.header().isRelocatable()) {
                    ObjectBuilder.copyOf(elf).builder().toBytes();
                }
            } catch (ElfFormatException e) {
                rejected++;
                assertTrue(e.getMessage().startsWith(name.toString()), e.getMessage());
            } catch (Throwable t) {
                StringWriter sw = new StringWriter();
                t.printStackTrace(new PrintWriter(sw));
                fail("mutant " + i + " (" + how + " of " + objs.get(which).getFileName() + ", seed " + seed + ") threw " + sw);
            }
        }
        return new int[] {parsed, rejected};
    }
}

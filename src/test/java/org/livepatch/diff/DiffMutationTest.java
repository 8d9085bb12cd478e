package org.livepatch.diff;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfFormatException;
import org.livepatch.elf.ElfReader;
import org.livepatch.link.LinkException;
import org.livepatch.link.PayloadAssembler;
import org.livepatch.testsupport.ElfFields;
import org.livepatch.testsupport.MinixenObjects;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.PayloadFile;
import org.livepatch.xen.XenSymbolTable;

/**
 * Every field of every ELF structure of real object pairs, set to each of a fixed list of hostile
 * values, on the original side and on the patched side (and in the {@code xen-syms} the diff reads
 * old sizes from), through the reader and the diff engine.
 * Each mutant must end in one of: a typed one-line error ({@link ElfFormatException},
 * {@link DiffInputException}), typed refusals, "no change", or a payload object that our own
 * reader reads back (so none of its relocations or symbols lies outside its section: the shape
 * of a silently wrong payload); a sample of those payload objects is also assembled and verified as the
 * pipeline would, which again must end in a payload or a typed refusal. Any other exception is a
 * hole in the checks. Objects: minixen's {@code traps.o} (exception table, {@code .fixup}, bug
 * frames) and {@code version.o} (strings), patched by the fixture patches, and the diff fixture
 * {@code alternatives} ({@code .altinstructions}, {@code .altinstr_replacement}).
 */
class DiffMutationTest {
    /** Every this-many payload objects is assembled (ld -r) and verified against the mutant's own image; all are re-read. */
    private static final int ASSEMBLE_EVERY = 500;

    private record Pair(String name, Path orig, Path patched, XenSymbolTable xen) {}

    private static final class Counts {
        int inputs;
        int elfErrors;
        int diffErrors;
        int refused;
        int noChange;
        int payloads;
        int assembled;
        int verified;
        int refusedLater;
        final Map<String, Integer> perSide = new TreeMap<>();
        final List<String> other = new ArrayList<>();
    }

    @Test
    void everyFieldOfBothSidesIsATypedErrorOrAConsistentResult(@TempDir Path tmp) throws Exception {
        MinixenObjects m = MinixenObjects.shared();
        XenSymbolTable minixenXen = XenSymbolTable.load(m.xenSyms());
        FixtureCase.Build alt = FixtureCase.load(FixtureCase.root().resolve("alternatives")).build(tmp.resolve("alt"), 0);
        List<Pair> pairs = List.of(
                new Pair("traps.o", m.origObject("arch/x86/traps.o"), m.patchedObject("arch/x86/traps.o"), minixenXen),
                new Pair("version.o", m.origObject("common/version.o"), m.patchedObject("common/version.o"), minixenXen),
                new Pair("alternatives.o", alt.orig(), alt.patched(), XenSymbolTable.load(alt.xenSyms())));
        Counts c = new Counts();
        long t0 = System.nanoTime();
        for (Pair p : pairs) {
            byte[] orig = Files.readAllBytes(p.orig());
            byte[] patched = Files.readAllBytes(p.patched());
            for (boolean mutateOrig : new boolean[] {true, false}) {
                byte[] base = mutateOrig ? orig : patched;
                for (ElfFields.Field f : ElfFields.of(base)) {
                    for (ElfFields.Mutant mu : ElfFields.mutants(base, f)) {
                        String what = p.name() + " " + (mutateOrig ? "orig" : "patched") + " " + mu.describe();
                        c.inputs++;
                        c.perSide.merge(p.name() + " " + (mutateOrig ? "orig" : "patched"), 1, Integer::sum);
                        one(c, p, mutateOrig ? mu.bytes() : orig, mutateOrig ? patched : mu.bytes(), what, tmp);
                    }
                }
            }
        }
        // The third input of create-diff-object: the running hypervisor's image, with traps.o's pair.
        Pair traps = pairs.get(0);
        byte[] image = Files.readAllBytes(m.xenSyms());
        byte[] trapsOrig = Files.readAllBytes(traps.orig());
        byte[] trapsPatched = Files.readAllBytes(traps.patched());
        for (ElfFields.Field f : ElfFields.of(image)) {
            for (ElfFields.Mutant mu : ElfFields.mutants(image, f)) {
                String what = "xen-syms " + mu.describe();
                c.inputs++;
                c.perSide.merge("xen-syms", 1, Integer::sum);
                XenSymbolTable xen;
                try {
                    xen = XenSymbolTable.of(ElfReader.read(Path.of("xen-syms"), mu.bytes()));
                } catch (ElfFormatException e) {
                    c.elfErrors++;
                    oneLine(c, what, e.getMessage(), "xen-syms");
                    continue;
                } catch (Throwable t) {
                    c.other.add(what + ": " + trace(t));
                    continue;
                }
                one(c, new Pair(traps.name(), traps.orig(), traps.patched(), xen), trapsOrig, trapsPatched, what, tmp);
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        int typed = c.elfErrors + c.diffErrors + c.refused;
        int accepted = c.noChange + c.payloads;
        System.out.printf("diff mutants: %d inputs (%s) in %d ms: %d typed errors (%d ELF, %d diff input, %d refused), "
                        + "%d accepted (%d no change, %d payload objects re-read; %d assembled: %d verified, %d refused with a typed reason), %d other%n",
                c.inputs, c.perSide, ms, typed, c.elfErrors, c.diffErrors, c.refused, accepted, c.noChange, c.payloads,
                c.assembled, c.verified, c.refusedLater, c.other.size());
        if (!c.other.isEmpty()) {
            fail(c.other.size() + " mutants ended in something other than a typed one-line error or a consistent result:\n"
                    + String.join("\n", c.other.subList(0, Math.min(40, c.other.size()))));
        }
        // The mutation reaches every outcome: a test whose inputs all parse (or all fail) proves little.
        assertTrue(c.elfErrors > 0 && c.diffErrors > 0 && c.refused > 0 && c.noChange > 0 && c.payloads > 0 && c.verified > 0,
                "every outcome occurs");
    }

    private static void one(Counts c, Pair p, byte[] orig, byte[] patched, String what, Path tmp) {
        Path on = Path.of("orig", p.name());
        Path pn = Path.of("patched", p.name());
        try {
            ElfFile o = ElfReader.read(on, orig);
            ElfFile n = ElfReader.read(pn, patched);
            DiffResult r = new DiffEngine().diff(o, n, new DiffOptions(null, p.xen(), false));
            switch (r.status()) {
                case REFUSED -> {
                    for (Refusal f : r.refusals()) {
                        oneLine(c, what, f.toString(), p.name());
                    }
                    c.refused++;
                }
                case NO_CHANGE -> c.noChange++;
                case CHANGES -> {
                    // Our own output must be an object our own reader accepts.
                    ElfReader.read(Path.of("payload-of-" + p.name()), r.output().clone());
                    c.payloads++;
                    if (c.payloads % ASSEMBLE_EVERY == 1) {
                        assembleAndVerify(c, p, r.output(), what, tmp);
                    }
                }
            }
        } catch (ElfFormatException e) {
            c.elfErrors++;
            oneLine(c, what, e.getMessage(), p.name());
        } catch (DiffInputException e) {
            c.diffErrors++;
            oneLine(c, what, e.getMessage(), p.name());
        } catch (Throwable t) {
            c.other.add(what + ": " + trace(t));
        }
    }

    private static void assembleAndVerify(Counts c, Pair p, byte[] object, String what, Path tmp) throws Exception {
        c.assembled++;
        Path obj = tmp.resolve("mutant-payload-" + p.name());
        Files.write(obj, object);
        PayloadAssembler.Payload payload;
        try {
            payload = new PayloadAssembler(p.xen()).assemble(List.of(obj), "mutant", PayloadAssembler.Options.defaults());
        } catch (LinkException e) {
            c.refusedLater++;
            oneLine(c, what, e.getMessage(), "");
            return;
        }
        LoadCheck.Report r = LoadCheck.check(p.xen(), List.of(PayloadFile.of("mutant", payload.bytes().toArray())), LoadCheck.Options.defaults());
        if (r.accepted()) {
            c.verified++;
        } else {
            c.refusedLater++;
            oneLine(c, what, r.firstRejection().message(), "");
        }
    }

    private static void oneLine(Counts c, String what, String message, String object) {
        if (message == null || message.isBlank() || message.contains("\n") || !message.contains(object)) {
            c.other.add(what + ": not a one-line message naming " + object + ": " + message);
        }
    }

    private static String trace(Throwable t) {
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        String[] lines = sw.toString().split("\n");
        return String.join("\n    ", java.util.Arrays.copyOf(lines, Math.min(6, lines.length)));
    }
}

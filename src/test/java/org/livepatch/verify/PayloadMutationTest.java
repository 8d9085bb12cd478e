package org.livepatch.verify;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.diff.DiffEngine;
import org.livepatch.diff.DiffOptions;
import org.livepatch.diff.DiffResult;
import org.livepatch.elf.ElfReader;
import org.livepatch.link.PayloadAssembler;
import org.livepatch.testsupport.ElfFields;
import org.livepatch.testsupport.MinixenObjects;
import org.livepatch.xen.XenSymbolTable;

/**
 * A real payload (minixen's {@code traps.o} and {@code version.o} changes, built by the diff and
 * the assembler as the pipeline builds it) with every field of every ELF structure and of each
 * {@code .livepatch.funcs} entry set to each of a fixed list of hostile values, checked by the
 * verifier against minixen's {@code xen-syms}. Each mutant must be accepted, and then be
 * planned, listed and dependency-checked without error, or refused with a typed reason, an errno
 * and a one-line message; never an exception. Needs no Xen tree (unlike {@link PayloadFuzzTest}).
 */
class PayloadMutationTest {

    @Test
    void everyFieldOfARealPayloadIsAcceptedOrRefusedWithATypedReason(@TempDir Path tmp) throws Exception {
        MinixenObjects m = MinixenObjects.shared();
        XenSymbolTable xen = XenSymbolTable.load(m.xenSyms());
        List<Path> objects = new ArrayList<>();
        for (String o : List.of("arch/x86/traps.o", "common/version.o")) {
            DiffResult r = new DiffEngine().diff(ElfReader.read(m.origObject(o)), ElfReader.read(m.patchedObject(o)),
                    new DiffOptions(null, xen, false));
            assertTrue(r.status() == DiffResult.Status.CHANGES, o + ": " + r.refusals());
            Path out = tmp.resolve(Path.of(o).getFileName());
            Files.write(out, r.output());
            objects.add(out);
        }
        byte[] payload = new PayloadAssembler(xen).assemble(objects, "hostile", PayloadAssembler.Options.defaults()).bytes().toArray();
        LoadCheck.Report base = LoadCheck.check(xen, List.of(PayloadFile.of("hostile", payload)), LoadCheck.Options.defaults());
        assertTrue(base.accepted(), "the unmutated payload loads: " + base.firstRejection());

        Map<RejectReason, Integer> reasons = new EnumMap<>(RejectReason.class);
        List<String> other = new ArrayList<>();
        int inputs = 0;
        int accepted = 0;
        int fields = 0;
        long t0 = System.nanoTime();
        for (ElfFields.Field f : ElfFields.of(payload)) {
            fields++;
            for (ElfFields.Mutant mu : ElfFields.mutants(payload, f)) {
                inputs++;
                PayloadFile file = PayloadFile.of("hostile", mu.bytes());
                try {
                    LoadCheck.Report r = LoadCheck.check(xen, List.of(file), LoadCheck.Options.defaults());
                    PayloadOutcome o = r.outcomes().get(0);
                    if (o.accepted()) {
                        accepted++;
                        new ApplyPlan(r).toJson(true);
                        new ApplyPlan(r).print(new PrintWriter(new StringWriter()), true);
                    } else {
                        Rejection rej = o.rejection();
                        if (rej.reason() == null || rej.errno() == null || rej.message().contains("\n") || !rej.message().startsWith("hostile: ")) {
                            other.add(mu.describe() + ": not a typed one-line refusal: " + rej);
                        }
                        reasons.merge(rej.reason(), 1, Integer::sum);
                    }
                    PayloadOutcome offline = LoadCheck.inspect(file);
                    if (offline.accepted()) {
                        PayloadInfo.toJson(List.of(offline));
                        DependencyGraph.of(xen.elf().buildId().orElseThrow(), List.of(offline)).analyse("hostile");
                    }
                } catch (Throwable t) {
                    StringWriter sw = new StringWriter();
                    t.printStackTrace(new PrintWriter(sw));
                    other.add(mu.describe() + ": " + String.join("\n    ", sw.toString().lines().limit(6).toList()));
                }
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        int refused = reasons.values().stream().mapToInt(Integer::intValue).sum();
        System.out.printf("payload mutants: %d inputs (%d fields of a %d-byte payload) in %d ms: %d typed refusals (%d distinct reasons), %d accepted, %d other%n",
                inputs, fields, payload.length, ms, refused, reasons.size(), accepted, other.size());
        if (!other.isEmpty()) {
            fail(other.size() + " payload mutants ended in something other than acceptance or a typed refusal:\n"
                    + String.join("\n", other.subList(0, Math.min(40, other.size()))));
        }
        assertTrue(accepted > 0 && refused > 0, "both outcomes occur");
        assertTrue(reasons.size() >= 20, "the mutation reaches many different checks: " + reasons.keySet());
    }
}

package org.livepatch.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.Bytes;
import org.livepatch.testsupport.ReadelfFacts;
import org.livepatch.testsupport.XenTree;
import org.livepatch.xen.XenSymbolTable;

/** Xen 4.17.5's own test payloads against the xen-syms they were built for. */
@Tag("xen")
class XenPayloadsTest {

    /** Payloads that stand alone on the hypervisor (all but bye, which stacks on hello). */
    private static final Set<String> REFUSED_ALONE = Set.of("xen_bye_world", "xen_no_xen_buildid", "xen_expectations_fail");

    @Test
    void everyStandaloneInTreePayloadLoadsAndApplies() throws Exception {
        List<Path> all = InTreePayloads.all();
        assertTrue(all.size() >= 14, "expected Xen's 14 test payloads, found " + all);
        for (Path p : all) {
            PayloadFile f = PayloadFile.read(p);
            if (REFUSED_ALONE.contains(f.name())) {
                continue;
            }
            LoadCheck.Report r = LoadCheck.check(InTreePayloads.xen(), List.of(f), LoadCheck.Options.defaults());
            assertTrue(r.accepted(), f.name() + ": " + r.firstRejection());
            assertTrue(r.outcomes().get(0).applied());
        }
    }

    @Test
    void helloThenByeStacks() throws Exception {
        LoadCheck.Report r = LoadCheck.check(InTreePayloads.xen(), List.of(InTreePayloads.file("xen_hello_world"), InTreePayloads.file("xen_bye_world")),
                LoadCheck.Options.defaults());
        assertTrue(r.accepted(), String.valueOf(r.firstRejection()));
        LoadedPayload hello = r.outcomes().get(0).payload();
        LoadedPayload bye = r.outcomes().get(1).payload();
        assertEquals(hello.buildId(), bye.depends());
        long xenExtraVersion = ReadelfFacts.globalAddress(XenTree.xenSyms(), "xen_extra_version");
        assertTrue(xenExtraVersion != 0);
        PatchFunction f = hello.funcs().get(0);
        assertEquals("xen_extra_version", f.name());
        assertEquals(xenExtraVersion, f.oldAddr());
        assertEquals("xen_hello_world", f.newSymbol());
        assertEquals(hello.layout().textAddr(), f.newAddr(), "xen_hello_world is the first text section");
        assertEquals(0xe9, f.patchBytes()[0] & 0xff);
        // Bye stacks on hello and patches the same function again (legitimately).
        assertEquals(xenExtraVersion, bye.funcs().get(0).oldAddr());
        assertTrue(bye.layout().base() >= hello.layout().end(), "payloads do not overlap");
    }

    @Test
    void refusedOnesFailForXensReasons() throws Exception {
        Rejection noXenId = only("xen_no_xen_buildid");
        assertEquals(RejectReason.SECTION_MISSING, noXenId.reason());
        assertEquals(22, noXenId.errno().value());
        assertTrue(noXenId.detail().contains(".livepatch.xen_depends"), noXenId.detail());

        Rejection expect = only("xen_expectations_fail");
        assertEquals(RejectReason.EXPECTATION_FAILED, expect.reason());
        assertEquals(RejectReason.Stage.APPLY, expect.reason().stage());
        assertTrue(expect.detail().contains("deadc0debabe"), expect.detail());

        Rejection bye = only("xen_bye_world");
        assertEquals(RejectReason.DEPENDS_MISMATCH, bye.reason());
        assertEquals(22, bye.errno().value());

        // Uploading alone is fine for all three but the one without xen_depends.
        for (String n : List.of("xen_bye_world", "xen_expectations_fail")) {
            LoadCheck.Report r = LoadCheck.check(InTreePayloads.xen(), List.of(InTreePayloads.file(n)), LoadCheck.Options.defaults().withUploadOnly(true));
            assertTrue(r.accepted(), n + ": " + r.firstRejection());
        }
    }

    private static Rejection only(String name) throws Exception {
        LoadCheck.Report r = LoadCheck.check(InTreePayloads.xen(), List.of(InTreePayloads.file(name)), LoadCheck.Options.defaults());
        assertFalse(r.accepted(), name + " should be refused");
        return r.firstRejection();
    }

    @Test
    void expectationsPassAgainstTheRealBytesButNotOnTopOfHello() throws Exception {
        LoadCheck.Report ok = LoadCheck.check(InTreePayloads.xen(), List.of(InTreePayloads.file("xen_expectations")), LoadCheck.Options.defaults());
        assertTrue(ok.accepted(), String.valueOf(ok.firstRejection()));
        assertNotNull(ok.outcomes().get(0).payload().funcs().get(0).expectation());
        // Once hello has written its jump into xen_extra_version, the expected bytes are gone.
        LoadCheck.Report stacked = LoadCheck.check(InTreePayloads.xen(), List.of(InTreePayloads.file("xen_hello_world"), InTreePayloads.file("xen_expectations")),
                LoadCheck.Options.defaults().withNodeps(true));
        assertEquals(RejectReason.EXPECTATION_FAILED, stacked.firstRejection().reason());
    }

    @Test
    void nopPatchKeepsEndbrAndWritesNops() throws Exception {
        LoadCheck.Report r = LoadCheck.check(InTreePayloads.xen(), List.of(InTreePayloads.file("xen_nop")), LoadCheck.Options.defaults());
        assertTrue(r.accepted(), String.valueOf(r.firstRejection()));
        PatchFunction f = r.outcomes().get(0).payload().funcs().get(0);
        assertTrue(f.isNop());
        assertEquals(ReadelfFacts.globalAddress(XenTree.xenSyms(), "xen_minor_version"), f.oldAddr());
        // An ENDBR64 (f3 0f 1e fa, read from the file) is left alone; xen_minor_version is no
        // indirect-call target, so in the reference build it has none and the NOPs start at 0.
        boolean endbr = java.util.Arrays.equals(ReadelfFacts.ENDBR64, ReadelfFacts.bytesAt(XenTree.xenSyms(), f.oldAddr(), 4));
        assertEquals(endbr ? 4 : 0, f.patchOffset());
        assertEquals(f.newSize() - f.patchOffset(), f.patchBytes().length);
    }

    @Test
    void replaceRevertsTheWholeStack() throws Exception {
        LoadCheck.Report r = LoadCheck.check(InTreePayloads.xen(), List.of(InTreePayloads.file("xen_hello_world"), InTreePayloads.file("xen_bye_world"),
                InTreePayloads.file("xen_replace_world")), LoadCheck.Options.defaults().withReplaceLast(true));
        assertTrue(r.accepted(), String.valueOf(r.firstRejection()));
        assertEquals(List.of("xen_bye_world", "xen_hello_world"), r.outcomes().get(2).reverted());
        PatchFunction f = r.outcomes().get(2).payload().funcs().get(0);
        assertEquals("xen-syms", f.oldAddrSource(), "replace_world has old_addr 0 and is resolved by name");

        // Replace over an applied payload with vetoing hooks is refused.
        LoadCheck.Report hooks = LoadCheck.check(InTreePayloads.xen(), List.of(InTreePayloads.file("xen_prepost_hooks"), InTreePayloads.file("xen_replace_world")),
                LoadCheck.Options.defaults().withReplaceLast(true));
        assertEquals(RejectReason.REPLACE_WITH_VETOING_HOOKS, hooks.firstRejection().reason());
        assertEquals(95, hooks.firstRejection().errno().value());
    }

    @Test
    void unmangledStaticNamesClashBetweenPayloads() throws Exception {
        // Both hand-written test payloads define a static __func__.1: the second upload is refused,
        // which is why create-diff-object renames __func__.N (build_symbol_table, "duplicate new symbol").
        LoadCheck.Report r = LoadCheck.check(InTreePayloads.xen(), List.of(InTreePayloads.file("xen_hello_world"), InTreePayloads.file("xen_prepost_hooks")),
                LoadCheck.Options.defaults());
        Rejection dup = r.firstRejection();
        assertEquals(RejectReason.DUPLICATE_SYMBOL, dup.reason());
        assertEquals(17, dup.errno().value());
        assertTrue(dup.detail().contains("__func__.1") && dup.detail().contains("xen_hello_world"), dup.detail());
    }

    @Test
    void dependencyCheckerFindsHelloThenBye() throws Exception {
        List<PayloadOutcome> read = new ArrayList<>();
        for (String n : List.of("xen_bye_world", "xen_hello_world")) {
            read.add(LoadCheck.inspect(InTreePayloads.file(n)));
        }
        DependencyGraph.Analysis a = DependencyGraph.of(InTreePayloads.xen().buildId().orElseThrow(), read).analyse("xen_hello_world");
        assertEquals(List.of("xen_hello_world", "xen_bye_world"), a.order());
        assertTrue(a.problems().isEmpty(), a.problems().toString());
        assertTrue(a.replace().possible(), a.replace().reason());

        // The whole in-tree set: hello -> bye is one stack among many single-payload ones.
        List<PayloadOutcome> all = new ArrayList<>();
        for (Path p : InTreePayloads.all()) {
            all.add(LoadCheck.inspect(PayloadFile.read(p)));
        }
        DependencyGraph.Analysis b = DependencyGraph.of(InTreePayloads.xen().buildId().orElseThrow(), all).analyse("xen_replace_world");
        assertTrue(b.stacks().contains(List.of("xen_hello_world", "xen_bye_world")), b.stacks().toString());
        assertTrue(b.order().isEmpty(), "no single order applies all of them");
        assertTrue(b.problems().stream().anyMatch(p -> p.payload().equals("xen_no_xen_buildid") && !p.note()), b.problems().toString());
        assertTrue(b.replace().possible(), b.replace().reason());
        assertEquals(List.of("xen_bye_world", "xen_hello_world"), b.replace().reverts());

        // A wrong hypervisor: every payload's xen_depends is wrong.
        DependencyGraph.Analysis c = DependencyGraph.of(org.livepatch.elf.Bytes.copyOf(new byte[20]), read).analyse(null);
        assertEquals(2, c.problems().stream().filter(p -> p.kind().equals("WRONG_XEN_DEPENDS")).count());
        assertFalse(c.ok());
    }

    @Test
    void runtimeSymbolNamesFollowXensRules() throws Exception {
        XenSymbolTable xen = InTreePayloads.xen();
        // A local function is known as "<file>#<name>", a global by its name: addresses from readelf.
        List<ReadelfFacts.Sym> syms = ReadelfFacts.symbols(XenTree.xenSyms());
        ReadelfFacts.Sym local = syms.stream().filter(s -> s.file() != null && s.bind().equals("LOCAL") && s.type().equals("FUNC")
                && s.defined() && s.value() != 0).findFirst().orElseThrow();
        assertEquals(local.value(), xen.runtime().lookup(local.file() + "#" + local.name()), local.toString());
        assertEquals(ReadelfFacts.globalAddress(XenTree.xenSyms(), "printk"), xen.runtime().lookup("printk"));
        assertEquals(0, xen.runtime().lookup("no_such_symbol_anywhere"));
        assertNull(xen.bytesAt(0, 4).map(Bytes::toArray).orElse(null));
    }
}

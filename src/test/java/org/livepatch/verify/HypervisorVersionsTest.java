package org.livepatch.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.xen.HypervisorVersion;

/**
 * One payload per difference between the modelled Xen releases, checked with each release's
 * rules: the reason and errno each release gives are written out here, with the Xen source line
 * that makes them (4.17.5 is the stable-4.17 tree, 4.20.4 and 4.22.0 the release tarballs; line
 * numbers in xen/common/livepatch.c unless another file is named). The payload and hypervisor are
 * {@link EveryRejectReasonTest}'s: new_func replaces old_func, calls printk.
 */
class HypervisorVersionsTest {
    private static final HypervisorRules X417 = HypervisorRules.XEN_4_17;
    private static final HypervisorRules X420 = HypervisorRules.XEN_4_20;
    private static final HypervisorRules X422 = HypervisorRules.XEN_4_22;
    private static final int R_X86_64_PC32 = 2;

    private static LoadCheck.Report check(HypervisorRules rules, byte[] payload) {
        return LoadCheck.check(EveryRejectReasonTest.xen(true), HypervisorRules.Choice.exact(rules), List.of(PayloadFile.of("p", payload)),
                LoadCheck.Options.defaults());
    }

    private static Rejection refused(HypervisorRules rules, byte[] payload, String reason, int errno) {
        Rejection r = check(rules, payload).firstRejection();
        assertNotNull(r, "Xen " + rules.name() + " should refuse with " + reason + ", but the payload was accepted");
        assertEquals(reason, r.reason().name(), rules + ": " + r.message());
        assertEquals(errno, r.errno().value(), rules + ": " + r.message());
        return r;
    }

    private static void accepted(HypervisorRules rules, byte[] payload) {
        LoadCheck.Report r = check(rules, payload);
        assertTrue(r.accepted(), rules + ": " + r.firstRejection());
    }

    private static ObjectBuilder.SectionHandle sec(EveryRejectReasonTest.Parts p, String name) {
        return p.b.sections().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    private static void unknownSymbol(EveryRejectReasonTest.Parts p) {
        p.b.addSpecialSymbol("not_in_xen", Elf.STB_GLOBAL, Elf.STT_NOTYPE, 0, Elf.SHN_UNDEF, 0, 0);
    }

    private static void otherXenBuildId(EveryRejectReasonTest.Parts p) {
        p.b.setData(sec(p, ".livepatch.xen_depends"), EveryRejectReasonTest.note(new byte[] {7, 7, 7, 7}, 3));
    }

    @Test
    void theSamePayloadLoadsOnEveryRelease() {
        for (HypervisorRules r : HypervisorRules.known()) {
            accepted(r, EveryRejectReasonTest.good());
        }
    }

    // 4.17.5: symbols are resolved (livepatch_elf.c:309, -ENOENT) long before xen_build_id_dep
    // (livepatch.c:1117); 4.20.4: check_xen_buildid (livepatch.c:1097) runs before
    // livepatch_elf_resolve_symbols and fails with -EINVAL (livepatch.c:512-517).
    @Test
    void theHypervisorBuildIdIsCheckedFirstFrom420() {
        byte[] p = EveryRejectReasonTest.payload(b -> {
            unknownSymbol(b);
            otherXenBuildId(b);
        });
        refused(X417, p, "UNKNOWN_SYMBOL", 2);
        refused(X420, p, "XEN_BUILD_ID_MISMATCH", 22);
        refused(X422, p, "XEN_BUILD_ID_MISMATCH", 22);
        // The mismatch alone: both refuse it with EINVAL, 4.17.5 only after everything else (livepatch.c:1117).
        byte[] mismatch = EveryRejectReasonTest.payload(HypervisorVersionsTest::otherXenBuildId);
        refused(X417, mismatch, "XEN_BUILD_ID_MISMATCH", 22);
        refused(X420, mismatch, "XEN_BUILD_ID_MISMATCH", 22);
    }

    // A missing .livepatch.xen_depends: 4.17.5 finds it in check_special_sections (livepatch.c:474,
    // called at :1105 after symbols and relocations); 4.20.4 in check_xen_buildid (:480-485), first.
    @Test
    void aMissingXenDependsIsFoundFirstFrom420() {
        byte[] p = EveryRejectReasonTest.payload(b -> {
            unknownSymbol(b);
            b.b.removeSection(sec(b, ".livepatch.xen_depends"));
        });
        refused(X417, p, "UNKNOWN_SYMBOL", 2);
        Rejection r = refused(X420, p, "SECTION_MISSING", 22);
        assertTrue(r.detail().startsWith(".livepatch.xen_depends is missing"), r.detail());
        // An empty one: 4.17.5 "is empty" (check_special_sections); 4.20.4 parse_buildid's size check (:462-463).
        byte[] empty = EveryRejectReasonTest.payload(b -> b.b.setData(sec(b, ".livepatch.xen_depends"), Bytes.EMPTY));
        refused(X417, empty, "SECTION_EMPTY", 22);
        refused(X420, empty, "BUILD_ID_NOTE_INVALID", 22);
    }

    // 4.17.5 reads .livepatch.xen_depends through its load address (livepatch.c:771, sec->load_addr),
    // which a section without SHF_ALLOC never gets; 4.20.4 reads it from the uploaded file in
    // check_xen_buildid (sec->addr still points at the upload buffer) and never again.
    @Test
    void aXenDependsThatIsNotLoadedIsFineFrom420() {
        byte[] p = EveryRejectReasonTest.payload(b -> b.b.setFlags(sec(b, ".livepatch.xen_depends"), 0));
        refused(X417, p, "SECTION_NOT_LOADED", 22);
        accepted(X420, p);
        accepted(X422, p);
    }

    // A build-id note of the wrong type: 4.17.5 turns any xen_build_id_check failure into -EINVAL
    // (livepatch.c:730-732); 4.20.4's parse_buildid returns its rc (livepatch.c:757-760), which is
    // -ENODATA for the type (version.c:122) and the name (version.c:135). For .livepatch.xen_depends
    // check_xen_buildid still says -EINVAL (livepatch.c:492-499).
    @Test
    void aNoteOfTheWrongTypeIsEnodataFrom420() {
        byte[] ownWrongType = EveryRejectReasonTest.payload(b -> b.b.setData(sec(b, ".note.gnu.build-id"),
                EveryRejectReasonTest.note(new byte[] {9, 9, 9, 9}, 1)));
        refused(X417, ownWrongType, "BUILD_ID_NOTE_INVALID", 22);
        refused(X420, ownWrongType, "BUILD_ID_NOTE_NO_DATA", 61);
        refused(X422, ownWrongType, "BUILD_ID_NOTE_NO_DATA", 61);
        byte[] dependsWrongType = EveryRejectReasonTest.payload(b -> b.b.setData(sec(b, ".livepatch.depends"),
                EveryRejectReasonTest.note(EveryRejectReasonTest.XEN_ID, 1)));
        refused(X417, dependsWrongType, "BUILD_ID_NOTE_INVALID", 22);
        refused(X420, dependsWrongType, "BUILD_ID_NOTE_NO_DATA", 61);
        byte[] xenDependsWrongType = EveryRejectReasonTest.payload(b -> b.b.setData(sec(b, ".livepatch.xen_depends"),
                EveryRejectReasonTest.note(EveryRejectReasonTest.XEN_ID, 1)));
        refused(X417, xenDependsWrongType, "BUILD_ID_NOTE_INVALID", 22);
        refused(X420, xenDependsWrongType, "BUILD_ID_NOTE_INVALID", 22);
    }

    /** A .altinstructions entry for new_func's first 5 bytes with a replacement of {@code replLen} bytes (pad_len 0). */
    private static byte[] withAlternative(int replLen) {
        return withAlternative(replLen, 0);
    }

    /** {@link #withAlternative(int)} for the CPU feature {@code cpuid} (struct alt_instr.cpuid, bytes 8-9; bit 15 inverts it). */
    static byte[] withAlternative(int replLen, int cpuid) {
        return EveryRejectReasonTest.payload(b -> {
            ObjectBuilder.SectionHandle repl = b.section(".altinstr_replacement", Elf.SHF_ALLOC | Elf.SHF_EXECINSTR, 1, new byte[8]);
            byte[] entry = new byte[14];
            entry[8] = (byte) cpuid;
            entry[9] = (byte) (cpuid >> 8);
            entry[10] = 5; // orig_len
            entry[11] = (byte) replLen; // repl_len
            ObjectBuilder.SectionHandle alt = b.section(".altinstructions", Elf.SHF_ALLOC, 1, entry);
            ObjectBuilder.SymbolHandle text = b.b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, b.text, 0, 0);
            ObjectBuilder.SymbolHandle replSym = b.b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, repl, 0, 0);
            b.b.addRelocations(alt, ".rela.altinstructions", Elf.SHF_INFO_LINK, List.of(
                    new ObjectBuilder.RelaEntry(0, R_X86_64_PC32, text, 0),
                    new ObjectBuilder.RelaEntry(4, R_X86_64_PC32, replSym, 0)));
        });
    }

    // repl_len > orig_len + pad_len: 4.17.5 BUG_ON(a->repl_len > total_len) (arch/x86/alternative.c:258)
    // stops the host, which the 4.17 model refuses to let happen; 4.20.4 returns -ENOSPC
    // (arch/x86/alternative.c:251-256), passed on by prepare_payload (livepatch.c:891-897).
    @Test
    void anOverlongAlternativeIsEnospcFrom420AndABugBefore() {
        accepted(X417, withAlternative(5));
        accepted(X420, withAlternative(5));
        Rejection r417 = refused(X417, withAlternative(6), "ALTERNATIVE_TOO_LONG", 28);
        assertTrue(r417.detail().contains("BUG_ON"), r417.detail());
        Rejection r420 = refused(X420, withAlternative(6), "ALTERNATIVE_TOO_LONG", 28);
        assertTrue(!r420.detail().contains("BUG_ON"), r420.detail());
    }

    // A feature outside the capability words: NCAPINTS is 21 in 4.17.5 and 4.20.4 (19 feature words
    // from the generated cpuid-autogen.h, X86_NR_SYNTH 1, X86_NR_BUG 1: asm/cpufeatures.h:8-67) and
    // 22 in 4.22.0 (33 synthetic features make X86_NR_SYNTH 2: asm/cpufeatures.h:47-74), so the
    // first refused feature is 0x2a0 or 0x2c0; the synthetic xen-syms has no cleared_caps, so
    // each release's own count is used. 4.17.5 BUG_ON(feat >= NCAPINTS * 32)
    // (arch/x86/alternative.c:260) stops the host, which the 4.17 model refuses to let happen;
    // 4.20.4 returns -ERANGE (arch/x86/alternative.c:267-272; 4.22.0 :299-304), passed on by
    // prepare_payload (livepatch.c:892-897). ALT_FLAG_NOT (bit 15) is not part of the number.
    @Test
    void aFeatureBeyondTheCapabilityWordsIsErangeFrom420AndABugBefore() {
        for (HypervisorRules r : HypervisorRules.known()) {
            accepted(r, withAlternative(5, 0x29f));
            accepted(r, withAlternative(5, 0x8000 | 0x29f));
        }
        Rejection r417 = refused(X417, withAlternative(5, 0x2a0), "ALTERNATIVE_FEATURE_OUT_OF_RANGE", 34);
        assertTrue(r417.beyondXen(), r417.message());
        assertTrue(r417.detail().contains("feature 0x2a0 outside of featureset range 0x2a0") && r417.detail().contains("BUG_ON"), r417.detail());
        assertTrue(r417.message().endsWith("[Xen 4.17 does not check this and would misbehave]"), r417.message());
        refused(X417, withAlternative(5, 0x8000 | 0x2a0), "ALTERNATIVE_FEATURE_OUT_OF_RANGE", 34);
        Rejection r420 = refused(X420, withAlternative(5, 0x2a0), "ALTERNATIVE_FEATURE_OUT_OF_RANGE", 34);
        assertTrue(!r420.beyondXen() && !r420.detail().contains("BUG_ON"), r420.message());
        assertEquals("p: ALTERNATIVE_FEATURE_OUT_OF_RANGE, ERANGE (34): Alt entry 0: feature 0x2a0 outside of featureset range 0x2a0"
                + " (NCAPINTS 21 (features below 0x2a0), from the Xen 4.20 release (xen-syms has no single cleared_caps/forced_caps of whole words))",
                r420.message());
        accepted(X422, withAlternative(5, 0x2a0));
        accepted(X422, withAlternative(5, 0x2bf));
        refused(X422, withAlternative(5, 0x2c0), "ALTERNATIVE_FEATURE_OUT_OF_RANGE", 34);
        // The lengths are checked first, entry by entry, in both releases (alternative.c:258-260 and :251-272).
        refused(X420, withAlternative(6, 0x2a0), "ALTERNATIVE_TOO_LONG", 28);
        // Under 4.17 an overlong replacement is a check beyond that release too.
        assertTrue(refused(X417, withAlternative(6), "ALTERNATIVE_TOO_LONG", 28).beyondXen());
    }

    /** new_func's .text followed by a .text.alt holding {@code call *0(%rip)} ({@code code}) and an .alt_call_sites naming it. */
    private static byte[] withAltCallSite(byte[] code, byte[] sites) {
        return EveryRejectReasonTest.payload(b -> {
            ObjectBuilder.SectionHandle t = b.b.addSection(".text.alt", Elf.SHT_PROGBITS, Elf.SHF_ALLOC | Elf.SHF_EXECINSTR, 16, 0, Bytes.copyOf(code));
            ObjectBuilder.SectionHandle s = b.section(".alt_call_sites", Elf.SHF_ALLOC, 4, sites);
            ObjectBuilder.SymbolHandle sym = b.b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, t, 0, 0);
            if (sites.length >= 4) {
                b.b.addRelocations(s, ".rela.alt_call_sites", Elf.SHF_INFO_LINK, List.of(new ObjectBuilder.RelaEntry(0, R_X86_64_PC32, sym, 0)));
            }
        });
    }

    private static final byte[] CALL_RIPREL = {(byte) 0xff, 0x15, 0, 0, 0, 0, (byte) 0xc3, (byte) 0x90};
    private static final byte[] DIRECT_CALL = {(byte) 0xe8, 0, 0, 0, 0, (byte) 0xc3, (byte) 0x90, (byte) 0x90};

    // .alt_call_sites: 4.17.5 and 4.20.4 never look at it (no mention in livepatch.c); 4.22.0 checks
    // the size (livepatch.c:914, section_ok, -EINVAL), that each site lies in the payload's text
    // (:938-947, -EINVAL) and that it is a CALL *RIPREL (arch/x86/alternative.c:394-399, -EINVAL).
    @Test
    void altCallSitesAreCheckedFrom422() {
        byte[] good = withAltCallSite(CALL_RIPREL, new byte[4]);
        accepted(X417, good);
        accepted(X420, good);
        accepted(X422, good);
        byte[] ragged = withAltCallSite(CALL_RIPREL, new byte[3]);
        accepted(X417, ragged);
        accepted(X420, ragged);
        refused(X422, ragged, "ALT_CALL_SITES_INVALID", 22);
        byte[] notIndirect = withAltCallSite(DIRECT_CALL, new byte[4]);
        accepted(X420, notIndirect);
        Rejection r = refused(X422, notIndirect, "ALT_CALL_SITES_INVALID", 22);
        assertTrue(r.detail().contains("not CALL *RIPREL"), r.detail());
        // An entry whose rel32 is 0 points at itself, in .alt_call_sites, not in the text.
        byte[] outside = EveryRejectReasonTest.payload(b -> b.section(".alt_call_sites", Elf.SHF_ALLOC, 4, new byte[4]));
        accepted(X420, outside);
        Rejection o = refused(X422, outside, "ALT_CALL_SITES_INVALID", 22);
        assertTrue(o.detail().contains("outside payload text"), o.detail());
    }

    // Checks no modelled release makes (xen/common/livepatch.c prepare_payload reads
    // metadata.data[len - 1] of an empty .modinfo at :937 in 4.17.5, :941 in 4.20.4 and :999 in
    // 4.22.0; resolve_old_address looks a NULL name up at :208 in all three): the
    // refusal names the release whose rules are in force, not 4.17.5.
    @Test
    void aCheckBeyondXenNamesTheReleaseOfTheRulesInForce() {
        byte[] percpu = EveryRejectReasonTest.payload(b -> b.b.addNoBits(".bss.percpu", Elf.SHF_ALLOC | Elf.SHF_WRITE, 8, 8));
        byte[] emptyModinfo = EveryRejectReasonTest.payload(b -> b.section(".modinfo", Elf.SHF_ALLOC, 1, new byte[0]));
        // The entry's name (offset 0 of struct livepatch_func) left NULL, and no old_addr either.
        byte[] noName = EveryRejectReasonTest.payload(b -> EveryRejectReasonTest.dropFuncsRela(b, 0));
        for (HypervisorRules r : HypervisorRules.known()) {
            Rejection nn = refused(r, noName, "FUNC_NAME_UNREADABLE", 14);
            assertTrue(nn.detail().endsWith("has neither old_addr nor name: Xen " + r.name() + " would look up a NULL name"), nn.detail());
            Rejection pc = refused(r, percpu, "PER_CPU_DATA", 22);
            assertTrue(pc.beyondXen(), pc.message());
            assertTrue(pc.message().endsWith(" [Xen " + r.name() + " does not check this and would misbehave]"), pc.message());
            Rejection mi = refused(r, emptyModinfo, "MODINFO_FORMAT", 22);
            assertEquals("Incorrect metadata format detected: .modinfo is empty (Xen " + r.name() + " would read the byte before it)", mi.detail());
            assertTrue(!mi.message().contains("4.17.5"), mi.message());
        }
    }

    // ---------------------------------------------------------------- choosing the rules

    @Test
    void theRulesAreChosenByTheHypervisorsRelease() {
        assertEquals(HypervisorRules.Choice.exact(X417), HypervisorRules.forVersion(new HypervisorVersion(4, 17, ".5")));
        assertEquals(HypervisorRules.Choice.exact(X420), HypervisorRules.forVersion(new HypervisorVersion(4, 20, ".4")));
        assertEquals(HypervisorRules.Choice.exact(X422), HypervisorRules.forVersion(new HypervisorVersion(4, 22, ".0")));
        assertEquals(new HypervisorRules.Choice(X417, Optional.of("Xen 4.19 is not modelled itself; checking with the Xen 4.17 rules")),
                HypervisorRules.forVersion(new HypervisorVersion(4, 19, ".0")));
        assertEquals(new HypervisorRules.Choice(X422, Optional.of("Xen 4.21 is not modelled itself; checking with the Xen 4.22 rules")),
                HypervisorRules.forVersion(new HypervisorVersion(4, 21, ".1")));
        assertEquals(new HypervisorRules.Choice(X422, Optional.of("Xen 4.23 is newer than the newest modelled release; checking with the Xen 4.22 rules")),
                HypervisorRules.forVersion(new HypervisorVersion(4, 23, "-unstable")));
        assertEquals(new HypervisorRules.Choice(X417, Optional.of("Xen 4.14 is older than the oldest modelled release; checking with the Xen 4.17 rules")),
                HypervisorRules.forVersion(new HypervisorVersion(4, 14, ".6")));
        // The synthetic xen-syms has no xen_major_version(): the 4.17 rules, as before releases were modelled.
        HypervisorRules.Choice unknown = HypervisorRules.forHypervisor(EveryRejectReasonTest.xen(true));
        assertEquals(X417, unknown.rules());
        assertTrue(unknown.notice().orElseThrow().endsWith("; checking with the Xen 4.17 rules"), unknown.notice().orElseThrow());
        assertEquals(unknown, LoadCheck.check(EveryRejectReasonTest.xen(true), List.of(PayloadFile.of("p", EveryRejectReasonTest.good())),
                LoadCheck.Options.defaults()).model());
    }

    @Test
    void releasesAreNamedAsUsersWriteThem() {
        assertEquals(Optional.of(X420), HypervisorRules.named("4.20"));
        assertEquals(Optional.of(X420), HypervisorRules.named("4.20.4"));
        assertEquals(Optional.of(X422), HypervisorRules.named(" 4.22 "));
        assertEquals(Optional.empty(), HypervisorRules.named("4.19"));
        assertEquals(Optional.empty(), HypervisorRules.named("4.2"));
        assertEquals("4.17, 4.20, 4.22", HypervisorRules.knownNames());
        assertEquals(0x15, X417.sysctlInterface());
        assertEquals(0x15, X420.sysctlInterface());
        assertEquals(0x16, X422.sysctlInterface());
    }
}

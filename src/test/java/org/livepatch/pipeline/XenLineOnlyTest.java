package org.livepatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.stage.Progress;
import org.livepatch.testsupport.LinkFixture;
import org.livepatch.testsupport.XenFixes;
import org.livepatch.testsupport.XenTree;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.PayloadFile;
import org.livepatch.cli.ExitMapper;

/**
 * Real fixes from Xen's stable-4.17 branch that add or remove lines above unrelated functions,
 * built with the pipeline against the real 4.17.5 tree: exactly the functions whose code really
 * changes are patched, and the ones that only print or record a moved {@code __LINE__} are
 * listed as line numbers only. And a fix that adds a per-CPU variable is refused.
 *
 * <p>The expected sets come from disassembling the original and patched objects (objdump -dr of
 * every .text.* section, and readelf -r of .rela.bug_frames.* decoded by hand), not from this
 * tool: for 0004 (XSA-480, p2m: 5 lines added in p2m_free_ptp), p2m_free_ptp and
 * p2m_change_altp2m_gfn differ in many instructions; change_type_range, set_typed_p2m_entry,
 * p2m_add_page and p2m_altp2m_get_or_propagate differ only in the {@code mov $line,%edx} of
 * domain_crash()'s printk (e.g. 0x380 -> 0x385), and p2m_change_type_one only in the line bits
 * of its bug frame (795 -> 800). For 0053 (XSA-507, PoD special pages, both hunks in
 * p2m_pod_decrease_reservation), p2m_pod_zero_check (two domain_crash lines, one reached through
 * a jump to a shared printk tail), p2m_pod_zero_check_superpage, p2m_pod_demand_populate and
 * guest_physmap_mark_populate_on_demand change only in such immediates and bug-frame lines.
 * Before line-only detection the pipeline patched 6 functions for 0004, 5 for 0053 and 6 for
 * 0002, and built a payload for 0037.
 */
@Tag("xen")
class XenLineOnlyTest {

    private static BuildRequest request(Path patch, Path out) throws Exception {
        return XenTree.request(patch, out).build();
    }

    private static Set<String> patched(PipelineResult r) {
        return r.functions().stream().map(PatchedFunction::name).collect(Collectors.toSet());
    }

    private static Set<String> lineOnly(PipelineResult r) {
        return r.lineOnly().stream().map(LineOnlyFunction::name).collect(Collectors.toSet());
    }

    private static void loads(PipelineResult r) throws Exception {
        var report = LoadCheck.check(LoadCheck.readHypervisor(XenTree.xenSyms()), List.of(PayloadFile.read(r.payload())),
                LoadCheck.Options.defaults());
        assertTrue(report.accepted(), "accepted by our loader: " + report.firstRejection());
    }

    @Test
    void p2mFlushFixPatchesTwoFunctionsAndListsFiveAsLineNumbersOnly(@TempDir Path tmp) throws Exception {
        PipelineResult r = LivepatchPipeline.run(request(XenFixes.patch("0004"), tmp.resolve("out")), Progress.NONE);
        assertEquals(Set.of("p2m_free_ptp", "p2m_change_altp2m_gfn"), patched(r));
        assertEquals(Set.of("change_type_range", "set_typed_p2m_entry", "p2m_add_page", "p2m_altp2m_get_or_propagate",
                "p2m_change_type_one"), lineOnly(r));
        assertTrue(r.lineOnly().stream().allMatch(f -> f.object().equals("arch/x86/mm/p2m.o")), r.lineOnly().toString());
        LineOnlyFunction crash = r.lineOnly().stream().filter(f -> f.name().equals("change_type_range")).findFirst().orElseThrow();
        // Both domain_crash() calls of change_type_range moved down by the 5 added lines.
        assertTrue(crash.reason().contains("875 -> 880") && crash.reason().contains("896 -> 901"), crash.reason());
        LineOnlyFunction frame = r.lineOnly().stream().filter(f -> f.name().equals("p2m_change_type_one")).findFirst().orElseThrow();
        assertEquals("line numbers only, not patched: bug frame line numbers", frame.reason());
        String json = Files.readString(r.report());
        assertTrue(json.contains("\"line_only_functions\"") && json.contains("\"p2m_altp2m_get_or_propagate\""), json);
        loads(r);
    }

    @Test
    void podFixPatchesOnlyTheFunctionItChanges(@TempDir Path tmp) throws Exception {
        PipelineResult r = LivepatchPipeline.run(request(XenFixes.patch("0053"), tmp.resolve("out")), Progress.NONE);
        assertEquals(Set.of("p2m_pod_decrease_reservation"), patched(r));
        assertEquals(Set.of("p2m_pod_zero_check", "p2m_pod_zero_check_superpage", "p2m_pod_demand_populate",
                "guest_physmap_mark_populate_on_demand"), lineOnly(r));
        loads(r);
    }

    @Test
    void shadowFixPatchesTheTracingFunctionOfEachPagingLevelOnly(@TempDir Path tmp) throws Exception {
        // 0002 (XSA-477) changes trace_emulate_write_val in shadow/multi.c, compiled three times
        // (guest_2/3/4.o). objdump: trace_emulate_write_val differs in each; sh_make_shadow only in
        // a domain_crash line (0x314 -> 0x30c in guest_2); readelf -r .rela.bug_frames.*: the
        // sh_destroy_*_shadow, sh_detach_old_tables and sh_clear_shadow_entry frames only in lines.
        // The fix also removes 8 lines of shadow/private.h above an inline function with a BUG
        // (line 619 -> 611), so set.o and common.o, rebuilt for the header, differ only in the
        // frames of the functions that inline it.
        PipelineResult r = LivepatchPipeline.run(request(XenFixes.patch("0002"), tmp.resolve("out")), Progress.NONE);
        assertEquals(Set.of("arch/x86/mm/shadow/guest_2.c#trace_emulate_write_val", "arch/x86/mm/shadow/guest_3.c#trace_emulate_write_val",
                "arch/x86/mm/shadow/guest_4.c#trace_emulate_write_val"), patched(r));
        Set<String> lines = r.lineOnly().stream().map(f -> f.object().replaceAll(".*/", "") + ":" + f.name()).collect(Collectors.toSet());
        assertEquals(Set.of(
                "guest_2.o:sh_make_shadow", "guest_2.o:sh_detach_old_tables__guest_2", "guest_2.o:sh_destroy_l2_shadow__guest_2",
                "guest_2.o:sh_clear_shadow_entry__guest_2",
                "guest_3.o:sh_make_shadow", "guest_3.o:sh_detach_old_tables__guest_3", "guest_3.o:sh_destroy_l2_shadow__guest_3",
                "guest_3.o:sh_clear_shadow_entry__guest_3",
                "guest_4.o:sh_make_shadow", "guest_4.o:sh_detach_old_tables__guest_4", "guest_4.o:sh_destroy_l2_shadow__guest_4",
                "guest_4.o:sh_destroy_l3_shadow__guest_4", "guest_4.o:sh_destroy_l4_shadow__guest_4", "guest_4.o:sh_clear_shadow_entry__guest_4",
                "set.o:shadow_set_l2e", "set.o:shadow_set_l3e", "set.o:shadow_set_l4e",
                "common.o:sh_set_toplevel_shadow", "common.o:sh_unpin", "common.o:shadow_put_top_level"),
                lines);
        loads(r);
    }

    @Test
    void bugFrameOnlyShiftsAreListedToo(@TempDir Path tmp) throws Exception {
        // 0003 (XSA-479) removes 18 lines of context_switch: objdump shows only context_switch's
        // code changing in domain.o, readelf -r the frames of continue_running (2121 -> 2103),
        // domain_relinquish_resources and relinquish_memory moving. 0046 (XSA-500, gnttab
        // copy checks) changes acquire_grant_for_copy; gnttab_release_mappings' frames move by 15.
        PipelineResult r = LivepatchPipeline.run(request(XenFixes.patch("0003"), tmp.resolve("a")), Progress.NONE);
        assertEquals(Set.of("context_switch"), patched(r));
        assertEquals(Set.of("continue_running", "domain_relinquish_resources", "relinquish_memory"), lineOnly(r));
        assertTrue(r.lineOnly().stream().allMatch(f -> f.reason().equals("line numbers only, not patched: bug frame line numbers")),
                r.lineOnly().toString());
        PipelineResult g = LivepatchPipeline.run(request(XenFixes.patch("0046"), tmp.resolve("b")), Progress.NONE);
        assertEquals(Set.of("common/grant_table.c#acquire_grant_for_copy"), patched(g));
        assertEquals(Set.of("gnttab_release_mappings"), lineOnly(g));
    }

    @Test
    void fixAddingAPerCpuVariableIsRefusedNamingIt(@TempDir Path tmp) throws Exception {
        // 0037 (XSA-494, x86/mm: accurately track which vCPU page tables are loaded) adds
        // DEFINE_PER_CPU(struct vcpu *, pgtable_vcpu) to arch/x86/flushtlb.c.
        BuildRequest req = request(XenFixes.patch("0037"), tmp.resolve("out"));
        PipelineException e = assertThrows(PipelineException.class, () -> LivepatchPipeline.run(req, Progress.NONE));
        assertEquals(PipelineException.Reason.UNPATCHABLE_CHANGE, e.reason());
        assertEquals(30, ExitMapper.of(e.reason()).number());
        List<String> lines = e.getMessage().lines().filter(l -> l.contains("pgtable_vcpu")).toList();
        assertEquals(1, lines.size(), e.getMessage());
        assertTrue(lines.get(0).contains("flushtlb.o: per_cpu__pgtable_vcpu: new per-CPU variable pgtable_vcpu (in .bss.percpu)"), lines.get(0));
        assertTrue(Files.notExists(tmp.resolve("out").resolve("0037-x86-mm-accurately-track-which-vCPU-page-tab.livepatch")), "no payload written");
    }
}

package org.livepatch.verify;

import org.livepatch.io.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Renders what {@code info} shows of payloads read without a hypervisor. */
public final class PayloadInfo {
    private PayloadInfo() {}

    public static void print(PrintWriter out, List<PayloadOutcome> outcomes) {
        for (PayloadOutcome o : outcomes) {
            LoadedPayload p = o.payload();
            if (p == null) {
                out.println(o.rejection().message());
                continue;
            }
            PayloadLayout l = p.layout();
            out.println(p.name() + ":");
            out.println("  build-id:    " + p.buildId().toHex());
            out.println("  depends:     " + p.depends().toHex());
            out.println("  xen_depends: " + p.xenDepends().toHex());
            out.printf("  size:        %d bytes in the file; text %d, rw %d, ro %d bytes loaded (%d pages)%n",
                    p.fileSize(), l.textSize(), l.rwSize(), l.roSize(), l.pages());
            out.println("  reapply:     " + (p.safeToReapply() ? "safe after revert" : "no (has .data/.bss): unload before applying again"));
            if (!p.metadata().isEmpty()) {
                out.println("  metadata:    " + String.join("; ", p.metadata()));
            }
            out.println("  funcs:       " + p.funcs().size());
            for (PatchFunction f : p.funcs()) {
                String old = f.oldAddr() != 0 ? "0x%x".formatted(f.oldAddr()) : "by name";
                String target = f.isNop() ? "NOP " + f.newSize() + " bytes" : (f.newSymbol() != null ? f.newSymbol() : "0x" + Long.toHexString(f.newAddr())) + " (" + f.newSize() + " bytes)";
                out.printf("    %s old %s (%d bytes) -> %s%s%n", f.name() == null ? "<no name>" : f.name(), old, f.oldSize(), target,
                        f.expectation() == null ? "" : ", expects " + PayloadLoader.hex(f.expectation()));
            }
            if (!p.hooks().isEmpty()) {
                out.println("  hooks:");
                for (PayloadHook h : p.hooks()) {
                    out.println("    " + h.section().substring(".livepatch.hooks.".length()) + ": " + (h.enabled() ? h.symbol() == null ? "0x" + Long.toHexString(h.address()) : h.symbol() : "disabled"));
                }
            }
        }
    }

    public static String toJson(List<PayloadOutcome> outcomes) {
        return toJson(outcomes, HypervisorRules.XEN_4_17);
    }

    /** As JSON, each payload naming the release whose rules read it ({@code "rules": "4.20"}). */
    public static String toJson(List<PayloadOutcome> outcomes, HypervisorRules rules) {
        List<Object> list = new ArrayList<>();
        for (PayloadOutcome o : outcomes) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", o.name());
            m.put("rules", rules.name());
            m.put("rejection", o.rejection() == null ? null : ApplyPlan.rejectionJson(o.rejection()));
            LoadedPayload p = o.payload();
            if (p != null) {
                m.put("buildId", p.buildId().toHex());
                m.put("depends", p.depends().toHex());
                m.put("xenDepends", p.xenDepends().toHex());
                m.put("fileSize", p.fileSize());
                m.put("textSize", p.layout().textSize());
                m.put("rwSize", p.layout().rwSize());
                m.put("roSize", p.layout().roSize());
                m.put("pages", p.layout().pages());
                m.put("safeToReapply", p.safeToReapply());
                m.put("metadata", p.metadata());
                m.put("funcs", ApplyPlan.funcsJson(p));
                m.put("hooks", ApplyPlan.hooksJson(p));
            }
            list.add(m);
        }
        return Json.write(list);
    }
}

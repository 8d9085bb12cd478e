package org.livepatch.verify;

import org.livepatch.io.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What loading and applying a stack of payloads would do: for each payload, where move_payload
 * places every section, what every relocation writes, and for every function
 * {@code name old_addr(old_size) -> new_addr(new_size)} with the bytes written at the old
 * function. Rendered as text for people and as JSON for CI.
 */
public final class ApplyPlan {
    private final LoadCheck.Report report;

    public ApplyPlan(LoadCheck.Report report) {
        this.report = report;
    }

    public LoadCheck.Report report() {
        return report;
    }

    /** Which release's rules were applied, and why when they are not the hypervisor's own. */
    private void printModel(PrintWriter out) {
        out.println("rules: " + report.model().rules() + report.model().notice().map(n -> " (" + n + ")").orElse(""));
        out.println("cpu features: " + report.cpuFeatures().describe());
    }

    /** One line per payload: "name: OK" or the rejection, after the rules line. */
    public void printVerdicts(PrintWriter out) {
        printModel(out);
        for (PayloadOutcome o : report.outcomes()) {
            if (o.accepted()) {
                String what = o.applied() ? "loaded and applied" : "uploaded";
                out.println(o.name() + ": OK (" + what + (o.reverted().isEmpty() ? "" : ", replaced " + String.join(", ", o.reverted())) + ")");
            } else {
                out.println(o.rejection().message());
            }
            if (o.payload() != null) {
                for (String w : o.payload().warnings()) {
                    out.println("  warning: " + w);
                }
            }
        }
    }

    public void print(PrintWriter out, boolean relocations) {
        printModel(out);
        for (PayloadOutcome o : report.outcomes()) {
            LoadedPayload p = o.payload();
            if (p == null) {
                out.println(o.rejection().message());
                continue;
            }
            PayloadLayout l = p.layout();
            out.printf("payload %s: build-id %s, %d pages at 0x%016x%n", p.name(), p.buildId().toHex(), l.pages(), l.base());
            out.printf("  text 0x%016x+0x%x  rw 0x%016x+0x%x  ro 0x%016x+0x%x%n", l.textAddr(), l.textSize(), l.rwAddr(), l.rwSize(), l.roAddr(), l.roSize());
            out.println("  sections:");
            for (PlacedSection s : l.sections()) {
                out.printf("    [%2d] %-36s %-4s 0x%016x size 0x%-6x align %d%s%n", s.index(), s.name(), s.region(), s.address(), s.size(), s.align(), s.nobits() ? " nobits" : "");
            }
            if (relocations) {
                out.println("  relocations:");
                for (ResolvedRelocation r : p.relocations()) {
                    out.printf("    %s+0x%x %s %s%+d: S=0x%x P=0x%016x -> 0x%x%s%n", r.section(), r.offset(), r.type(), r.symbol(), r.addend(),
                            r.symbolValue(), r.place(), r.value(), r.resolved() ? "" : " (unresolved)");
                }
            }
            out.println("  functions:");
            for (PatchFunction f : p.funcs()) {
                out.printf("    %s [old_addr from %s%s; writes %s at 0x%x]%n", f.describe(), f.oldAddrSource(), f.patchOffset() > 0 ? ", ENDBR64 kept" : "",
                        HexFormat.ofDelimiter(" ").formatHex(f.patchBytes()), f.oldAddr() + f.patchOffset());
            }
            for (PayloadHook h : p.hooks()) {
                out.printf("  hook %s: %s%n", h.section(), h.enabled() ? "0x%016x %s".formatted(h.address(), h.symbol() == null ? "" : h.symbol()) : "disabled");
            }
            if (!o.accepted()) {
                out.println("  " + o.rejection().message());
            }
        }
    }

    public String toJson(boolean relocations) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("accepted", report.accepted());
        root.put("base", Json.hex(report.base()));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("release", report.model().rules().name());
        model.put("sysctlInterface", Json.hex(report.model().rules().sysctlInterface()));
        model.put("notice", report.model().notice().orElse(null));
        model.put("capabilityWords", report.cpuFeatures().words());
        model.put("capabilityWordsFrom", report.cpuFeatures().source());
        root.put("rules", model);
        List<Object> list = new ArrayList<>();
        for (PayloadOutcome o : report.outcomes()) {
            list.add(outcomeJson(o, relocations));
        }
        root.put("payloads", list);
        return Json.write(root);
    }

    static Map<String, Object> rejectionJson(Rejection r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("reason", r.reason().name());
        m.put("errno", r.errno().value());
        m.put("errnoName", r.errno().name());
        m.put("stage", r.reason().stage().name());
        m.put("xenSource", r.reason().xenSource());
        m.put("beyondXen", r.beyondXen());
        m.put("message", r.detail());
        return m;
    }

    static Map<String, Object> outcomeJson(PayloadOutcome o, boolean relocations) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", o.name());
        m.put("accepted", o.accepted());
        m.put("applied", o.applied());
        if (!o.reverted().isEmpty()) {
            m.put("reverted", o.reverted());
        }
        m.put("rejection", o.rejection() == null ? null : rejectionJson(o.rejection()));
        LoadedPayload p = o.payload();
        if (p != null) {
            m.put("buildId", p.buildId().toHex());
            m.put("depends", p.depends().toHex());
            m.put("xenDepends", p.xenDepends().toHex());
            PayloadLayout l = p.layout();
            Map<String, Object> layout = new LinkedHashMap<>();
            layout.put("base", Json.hex(l.base()));
            layout.put("pages", l.pages());
            layout.put("text", Map.of("address", Json.hex(l.textAddr()), "size", l.textSize()));
            layout.put("rw", Map.of("address", Json.hex(l.rwAddr()), "size", l.rwSize()));
            layout.put("ro", Map.of("address", Json.hex(l.roAddr()), "size", l.roSize()));
            List<Object> secs = new ArrayList<>();
            for (PlacedSection s : l.sections()) {
                Map<String, Object> sm = new LinkedHashMap<>();
                sm.put("index", s.index());
                sm.put("name", s.name());
                sm.put("region", s.region().name());
                sm.put("address", Json.hex(s.address()));
                sm.put("size", s.size());
                sm.put("align", s.align());
                secs.add(sm);
            }
            layout.put("sections", secs);
            m.put("layout", layout);
            if (relocations) {
                List<Object> rels = new ArrayList<>();
                for (ResolvedRelocation r : p.relocations()) {
                    Map<String, Object> rm = new LinkedHashMap<>();
                    rm.put("section", r.section());
                    rm.put("offset", r.offset());
                    rm.put("type", r.type());
                    rm.put("symbol", r.symbol());
                    rm.put("addend", r.addend());
                    rm.put("symbolValue", Json.hex(r.symbolValue()));
                    rm.put("place", Json.hex(r.place()));
                    rm.put("value", Json.hex(r.value()));
                    rm.put("resolved", r.resolved());
                    rels.add(rm);
                }
                m.put("relocations", rels);
            }
            m.put("funcs", funcsJson(p));
            m.put("hooks", hooksJson(p));
            m.put("warnings", p.warnings());
        }
        return m;
    }

    static List<Object> funcsJson(LoadedPayload p) {
        List<Object> funcs = new ArrayList<>();
        for (PatchFunction f : p.funcs()) {
            Map<String, Object> fm = new LinkedHashMap<>();
            fm.put("name", f.name());
            fm.put("oldAddr", Json.hex(f.oldAddr()));
            fm.put("oldSize", f.oldSize());
            fm.put("oldAddrSource", f.oldAddrSource());
            fm.put("newAddr", Json.hex(f.newAddr()));
            fm.put("newSize", f.newSize());
            fm.put("newSymbol", f.newSymbol());
            fm.put("nop", f.isNop());
            fm.put("patchOffset", f.patchOffset());
            fm.put("patchBytes", HexFormat.of().formatHex(f.patchBytes()));
            fm.put("expectation", f.expectation() == null ? null : HexFormat.of().formatHex(f.expectation()));
            funcs.add(fm);
        }
        return funcs;
    }

    static List<Object> hooksJson(LoadedPayload p) {
        List<Object> hooks = new ArrayList<>();
        for (PayloadHook h : p.hooks()) {
            Map<String, Object> hm = new LinkedHashMap<>();
            hm.put("section", h.section());
            hm.put("address", Json.hex(h.address()));
            hm.put("symbol", h.symbol());
            hooks.add(hm);
        }
        return hooks;
    }
}

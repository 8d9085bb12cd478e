package org.livepatch.diff;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfHeader;
import org.livepatch.payload.FuncLayout;
import org.livepatch.xen.HypervisorVersion;
import org.livepatch.xen.XenSymbol;
import org.livepatch.xen.XenSymbolTable;
import org.livepatch.xen.XenSymsException;

/**
 * create-diff-object as a library: from the original and patched object of one translation unit,
 * the payload object that patches the difference, or the reason it cannot.
 *
 * <p>Stages, in order: index both objects ({@link ObjectIndex}, {@link DiffSide}); pair their
 * units ({@link SymbolCorrelation}); classify each patched unit ({@link ChangeDetector}); refuse
 * what cannot be patched; carry the changed and new functions and everything they need
 * ({@link InclusionPlan}); size the funcs entries against the hypervisor; write the object
 * ({@link PayloadObjectWriter}).
 */
public final class DiffEngine {

    public DiffResult diff(ElfFile origElf, ElfFile patchedElf, DiffOptions options) {
        checkHeaders(origElf, patchedElf);
        ObjectIndex origIdx = new ObjectIndex(origElf);
        ObjectIndex patchedIdx = new ObjectIndex(patchedElf);
        DiffSide orig = new DiffSide(origIdx);
        DiffSide patched = new DiffSide(patchedIdx);
        SymbolCorrelation corr = new SymbolCorrelation(origIdx, patchedIdx);
        ChangeDetector changes = new ChangeDetector(orig, patched, corr);

        List<Refusal> refusals = new ArrayList<>(corr.refusals());
        List<ReportEntry> report = new ArrayList<>();
        for (String n : corr.notes()) {
            report.add(new ReportEntry("note", patchedIdx.label, n));
        }
        String obj = patchedIdx.label;

        List<SectionSlice> changedFunctions = new ArrayList<>();
        List<SectionSlice> newGlobals = new ArrayList<>();
        List<String> lineOnly = new ArrayList<>();
        for (SectionSlice u : patchedIdx.units()) {
            ChangeDetector.Status st = changes.status(u);
            SectionRole role = patchedIdx.role(u.section());
            if (st == ChangeDetector.Status.SAME) {
                String lines = changes.lineOnly(u);
                if (lines != null && role == SectionRole.TEXT) {
                    lineOnly.add(u.symbol().name());
                    report.add(new ReportEntry("line-only", u.describe(), "line numbers only, not patched: " + lines));
                }
                continue;
            }
            if (role == SectionRole.INIT) {
                if (st == ChangeDetector.Status.CHANGED) {
                    report.add(new ReportEntry("note", u.describe(), "boot-time (__init) code or data changed in "
                            + u.section().name() + ": ignored, it has run and been freed in a running hypervisor"));
                }
                continue;
            }
            if (st == ChangeDetector.Status.CHANGED) {
                SectionSlice twin = corr.twinOfPatched(u);
                switch (role) {
                    case TEXT -> {
                        if (u.symbol() == null) {
                            refusals.add(new Refusal(obj, u.describe(), "changed assembly code without a function symbol ("
                                    + changes.why(u) + "); there is no function to redirect"));
                        } else if (XenNames.coldParent(u.symbol().name()) == null) {
                            changedFunctions.add(u);
                        }
                    }
                    case DATA, BSS -> refusals.add(dataRefusal(obj, u, twin, changes.why(u)));
                    case RODATA -> {
                        if (u.symbol() != null && u.symbol().isObject() && twin != null && u.symbol().size() != twin.symbol().size()
                                && !u.symbol().isLocal()) {
                            report.add(new ReportEntry("note", u.describe(), "global read-only data changed size; code in other objects keeps using the original"));
                        } else if (u.symbol() != null && !u.symbol().isLocal()) {
                            report.add(new ReportEntry("note", u.describe(), "global read-only data changed; only functions of this object that use it get the new copy"));
                        }
                    }
                    default -> { }
                }
            } else if (role.isData() && XenNames.isPerCpuSection(u.section().name())) {
                refusals.add(perCpuRefusal(obj, u));
            } else if (u.symbol() != null && !u.symbol().isLocal() && (role == SectionRole.TEXT || role.isData() || role == SectionRole.RODATA)) {
                newGlobals.add(u);
            }
        }
        for (SectionSlice o : origIdx.units()) {
            if (o.symbol() != null && corr.twinOfOrig(o) == null && o.isFunction() && origIdx.role(o.section()) == SectionRole.TEXT) {
                report.add(new ReportEntry("note", o.describe(), "removed from the patched object; the running copy stays in place"));
            }
        }

        boolean hooks = patched.tables.stream().anyMatch(t -> t.profile.isHook() && !t.entries.isEmpty());
        if (changedFunctions.isEmpty() && newGlobals.isEmpty() && !hooks) {
            if (!refusals.isEmpty()) {
                return refused(refusals, report, lineOnly);
            }
            report.add(new ReportEntry("note", obj, lineOnly.isEmpty() ? "no functional change" : "no functional change (line numbers only)"));
            return new DiffResult(DiffResult.Status.NO_CHANGE, List.of(), List.of(), lineOnly, List.of(), report, null, null);
        }

        InclusionPlan plan = new InclusionPlan(patched, changes, corr);
        for (SectionSlice u : changedFunctions) {
            plan.carry(u, "changed: " + changes.why(u));
            report.add(new ReportEntry("changed", u.describe(), changes.why(u)));
        }
        for (SectionSlice u : newGlobals) {
            plan.carry(u, "new global");
            report.add(new ReportEntry(u.isFunction() ? "new" : "included", u.describe(), "new global symbol"));
        }
        plan.close();
        refusals.addAll(plan.refusals);
        report.addAll(plan.report);
        for (var e : plan.wholeSections.entrySet()) {
            report.add(new ReportEntry("section", e.getKey().name(), e.getValue()));
        }
        for (var e : plan.kept.entrySet()) {
            if (!e.getValue().isEmpty()) {
                report.add(new ReportEntry("special", e.getKey().section.name(), e.getValue().size() + " of " + e.getKey().entries.size()
                        + " entries (" + e.getKey().entrySize + " bytes each) describe carried code"));
            }
        }

        FuncLayout layout = options.layout();
        if (layout == null && options.xen() != null) {
            try {
                HypervisorVersion v = options.xen().version();
                layout = v.payloadLayout();
                report.add(new ReportEntry("note", "layout", "Xen " + v.major() + "." + v.minor() + " in xen-syms: payload version " + layout.version()));
            } catch (XenSymsException e) {
                // The version is unreadable: version 2 is assumed below, as the note says.
            }
        }
        if (layout == null) {
            layout = FuncLayout.V2;
            report.add(new ReportEntry("note", "layout", "payload version 2 assumed (Xen 4.14 and later)"));
        }

        List<FuncEntry> funcs = new ArrayList<>();
        for (SectionSlice u : changedFunctions) {
            FuncEntry f = funcEntry(obj, u, corr.twinOfPatched(u), options, refusals, report);
            if (f != null) {
                funcs.add(f);
            }
        }
        if (!refusals.isEmpty()) {
            return refused(refusals, report, lineOnly);
        }

        Set<SectionSlice> named = new LinkedHashSet<>();
        for (FuncEntry f : funcs) {
            named.add(f.unit());
        }
        List<String> newFunctions = new ArrayList<>();
        for (SectionSlice u : plan.carried.keySet()) {
            if (changes.status(u) == ChangeDetector.Status.NEW && u.symbol() != null) {
                // Only names the hypervisor does not have yet; a renumbered static may reuse one.
                if (origIdx.elf.symbolsNamed(u.symbol().name()).isEmpty() || !u.symbol().isLocal()) {
                    named.add(u);
                }
                if (u.isFunction()) {
                    newFunctions.add(u.symbol().name());
                }
            }
        }
        byte[] out = new PayloadObjectWriter(plan, origIdx).write(funcs, layout, named);
        return new DiffResult(DiffResult.Status.CHANGES, changedFunctions.stream().map(u -> u.symbol().name()).toList(),
                newFunctions, lineOnly, List.of(), new ArrayList<>(new LinkedHashSet<>(report)), out, layout);
    }

    private static DiffResult refused(List<Refusal> refusals, List<ReportEntry> report, List<String> lineOnly) {
        List<Refusal> unique = new ArrayList<>(new LinkedHashSet<>(refusals));
        List<ReportEntry> r = new ArrayList<>(new LinkedHashSet<>(report));
        for (Refusal f : unique) {
            r.add(new ReportEntry("refused", f.symbol(), f.reason()));
        }
        return new DiffResult(DiffResult.Status.REFUSED, List.of(), List.of(), lineOnly, unique, r, null, null);
    }

    /**
     * A new per-CPU variable ({@code DEFINE_PER_CPU}): its symbol is an offset into each CPU's
     * per-CPU area, laid out when the hypervisor was linked and allocated at boot; a payload cannot
     * add to it, so {@code this_cpu(v)} would address memory that belongs to something else.
     */
    private static Refusal perCpuRefusal(String obj, SectionSlice u) {
        String what = u.symbol() == null ? "new per-CPU data" : "new per-CPU variable " + XenNames.perCpuName(u.symbol().name());
        return new Refusal(obj, u.describe(), what + " (in " + u.section().name() + "): per-CPU areas are laid out when Xen is"
                + " linked and cannot grow, so a payload cannot add per-CPU data");
    }

    private static Refusal dataRefusal(String obj, SectionSlice u, SectionSlice twin, String why) {
        String sec = u.section().name();
        if (u.symbol() != null && twin != null && twin.symbol() != null) {
            if (u.symbol().size() != twin.symbol().size()) {
                return new Refusal(obj, u.symbol().name(), "data object changed size from " + twin.symbol().size() + " to "
                        + u.symbol().size() + " bytes (in " + sec + "); the running hypervisor's object cannot be resized");
            }
            if (u.symbol().type() != twin.symbol().type()) {
                return new Refusal(obj, u.symbol().name(), "symbol type changed (in " + sec + ")");
            }
        }
        String what = sec.contains("read_mostly") ? "read-mostly data" : u.section().isNoBits() ? "zero-initialised data" : "initialised data";
        return new Refusal(obj, u.describe(), "changed " + what + " in " + sec + " (" + why
                + "); the running hypervisor's copy already holds a value a payload cannot re-initialise");
    }

    /**
     * The funcs entry of a changed function: its hypervisor name, and how much of the old function
     * the jump may overwrite. That is xen-syms' st_size, extended to the alignment padding that
     * follows when the function alone is too small (the padding up to the next symbol is free),
     * and it must hold a 5-byte jump, 9 bytes when the old function starts with ENDBR64.
     */
    private static FuncEntry funcEntry(String obj, SectionSlice u, SectionSlice twin, DiffOptions options, List<Refusal> refusals,
                                       List<ReportEntry> report) {
        String name = twin.xenName();
        long size;
        long room;
        long addr = 0;
        Bytes start;
        XenSymbolTable xen = options.xen();
        if (xen != null) {
            XenSymbol f;
            if (twin.symbol().isLocal()) {
                List<XenSymbol> l = xen.locals(twin.file(), twin.symbol().name());
                if (l.size() != 1) {
                    refusals.add(new Refusal(obj, twin.symbol().name(), l.isEmpty()
                            ? "no local symbol " + twin.symbol().name() + " after STT_FILE " + twin.file() + " in xen-syms; is it the hypervisor this object was built for?"
                            : "xen-syms has " + l.size() + " local symbols " + twin.symbol().name() + " after STT_FILE " + twin.file() + "; refusing to guess"));
                    return null;
                }
                f = l.get(0);
            } else {
                f = strongest(xen.globals(twin.symbol().name()));
                if (f == null) {
                    refusals.add(new Refusal(obj, twin.symbol().name(), "no global symbol " + twin.symbol().name()
                            + " in xen-syms; is it the hypervisor this object was built for?"));
                    return null;
                }
            }
            size = f.size();
            room = xen.extentOf(f);
            start = xen.bytesAt(f.address(), 4).orElse(null);
            if (options.resolveOldAddresses()) {
                addr = f.address();
            }
        } else {
            size = twin.symbol().size();
            room = twin.wholeSection() ? twin.section().size() - twin.symbol().value() : twin.end() - twin.symbol().value();
            long off = twin.symbol().value();
            start = twin.section().isNoBits() || off + 4 > twin.section().size() ? null : twin.section().data().slice((int) off, 4);
        }
        long align = Math.max(1, twin.section().addralign());
        long needed = X86Code.JUMP_SIZE + (X86Code.startsWithEndbr(start) ? X86Code.ENDBR_SIZE : 0);
        long oldSize = size;
        if (size < needed) {
            long padded = Math.min((size + align - 1) / align * align, room);
            if (padded >= needed) {
                oldSize = padded;
                report.add(new ReportEntry("note", u.describe(), "old function is " + size + " bytes; the " + (padded - size)
                        + " bytes of alignment padding after it make room for the " + needed + "-byte jump"));
            } else {
                refusals.add(new Refusal(obj, u.describe(), "too small to patch: the original is " + size + " bytes"
                        + (padded > size ? " (" + padded + " with padding)" : "") + " and the hypervisor needs " + needed
                        + (needed > X86Code.JUMP_SIZE ? " (a 5-byte jump after ENDBR64)" : " for a jump")));
                return null;
            }
        }
        return new FuncEntry(name, u, addr, oldSize);
    }

    /**
     * The definition of a global an old function's size is taken from: the STB_GLOBAL one (the last,
     * should there be several) over a weak one, else the first. A linked xen-syms holds one
     * definition per global name, so this only matters for a hand-made image; unlike the link
     * stage, which refuses such a name as ambiguous, create-diff-object has always picked one.
     */
    private static XenSymbol strongest(List<XenSymbol> definitions) {
        XenSymbol chosen = null;
        for (XenSymbol x : definitions) {
            if (chosen == null || x.bind() == Elf.STB_GLOBAL) {
                chosen = x;
            }
        }
        return chosen;
    }

    private static void checkHeaders(ElfFile a, ElfFile b) {
        for (ElfFile f : List.of(a, b)) {
            if (!f.header().isRelocatable()) {
                throw new DiffInputException(f.path() + ": not a relocatable object (e_type " + f.header().type() + ")");
            }
            if (f.header().machine() != Elf.EM_X86_64) {
                throw new DiffInputException(f.path() + ": machine " + f.header().machine() + " is not supported (x86_64 only)");
            }
            if (!f.programHeaders().isEmpty()) {
                throw new DiffInputException(f.path() + ": a relocatable object with program headers");
            }
            if (f.symtab().isEmpty()) {
                throw new DiffInputException(f.path() + ": no symbol table (stripped?)");
            }
        }
        ElfHeader ha = a.header();
        ElfHeader hb = b.header();
        if (ha.machine() != hb.machine() || ha.flags() != hb.flags() || ha.osAbi() != hb.osAbi()) {
            throw new DiffInputException(b.path() + ": ELF header differs from " + a.path() + " (machine, flags or OS ABI)");
        }
    }
}

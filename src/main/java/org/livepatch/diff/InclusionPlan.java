package org.livepatch.diff;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.Section;
import org.livepatch.elf.Symbol;

/**
 * What goes into the payload object, and why: the closure of the changed and new functions over
 * their references.
 *
 * <p>A reference from included code to something unchanged stays a reference to the running
 * hypervisor's copy, by the name Xen knows it by (the <em>original</em> object's name, so a
 * renumbered static still binds to the variable that holds the live value). Something new is
 * carried. Strings and constants are carried by value. Read-only data that changed is carried as
 * a new copy. Special-table entries are kept when the code they describe is carried.
 */
final class InclusionPlan {

    /** How one relocation of carried bytes is to be written. */
    sealed interface Binding {
        /** To a symbol of the running hypervisor; addend re-based onto that symbol. */
        record External(String name, boolean function, long addend) implements Binding {}

        /** To carried bytes: section {@code section} of the patched object at {@code location}; {@code addend} keeps any bias. */
        record Carried(Section section, long location, long addendMinusLocation) implements Binding {}

        record Refused(String reason) implements Binding {}
    }

    final DiffSide side;
    final ChangeDetector changes;
    final SymbolCorrelation corr;
    private final ObjectIndex idx;

    /** Sections copied whole, with why. */
    // Sections are keyed in index order by comparator: a Section record's hashCode would hash its bytes.
    final Map<Section, String> wholeSections = new java.util.TreeMap<>(java.util.Comparator.comparingInt(Section::index));
    /** Named data units carried on their own (their section is shared with other data). */
    final Map<SectionSlice, String> extracted = new LinkedHashMap<>();
    /** Every carried unit, with why. */
    final Map<SectionSlice, String> carried = new LinkedHashMap<>();
    /** Pieces of .fixup / .altinstr_replacement carried, per section. */
    final Map<Section, Set<OutOfLineCodePieces.Piece>> pieces = new java.util.TreeMap<>(java.util.Comparator.comparingInt(Section::index));
    /** Kept special-table entries, per table. */
    final Map<SpecialTable, List<SpecialTable.Entry>> kept = new LinkedHashMap<>();
    /** Hypervisor symbols referred to, with the first user. */
    final Map<String, String> externals = new LinkedHashMap<>();
    final List<Refusal> refusals = new ArrayList<>();
    final List<ReportEntry> report = new ArrayList<>();

    private final List<Runnable> work = new ArrayList<>();
    private final List<Promise> promised = new ArrayList<>();
    private final Set<Section> scanned = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<SectionSlice> scannedUnits = java.util.Collections.newSetFromMap(new IdentityHashMap<>());

    InclusionPlan(DiffSide side, ChangeDetector changes, SymbolCorrelation corr) {
        this.side = side;
        this.changes = changes;
        this.corr = corr;
        this.idx = side.index;
    }

    /** Carries {@code u} (and whatever it needs), recording why. */
    void carry(SectionSlice u, String why) {
        if (carried.containsKey(u)) {
            return;
        }
        carried.put(u, why);
        SectionRole role = idx.role(u.section());
        boolean extract = !u.wholeSection() && u.symbol() != null && (role == SectionRole.DATA || role == SectionRole.BSS
                || role == SectionRole.RODATA);
        if (extract) {
            extracted.put(u, why);
            work.add(() -> scanUnit(u));
        } else {
            copyWhole(u.section(), why);
        }
    }

    private void copyWhole(Section s, String why) {
        if (wholeSections.containsKey(s)) {
            return;
        }
        wholeSections.put(s, why);
        work.add(() -> scanSection(s));
    }

    void carryPiece(OutOfLineCodePieces.Piece p, String why) {
        Set<OutOfLineCodePieces.Piece> set = pieces.computeIfAbsent(p.section(), k -> new LinkedHashSet<>());
        if (set.add(p) && p.end() > p.start()) {
            String whole = side.pieces.wholeBecause(p.section());
            report.add(new ReportEntry("section", p.section().name() + "+0x" + Long.toHexString(p.start()),
                    whole == null ? why : why + "; carried whole because " + whole));
            work.add(() -> {
                for (Relocation r : idx.relocations(p.section(), p.start(), p.end())) {
                    bind(p.section(), r, idx.resolve(p.section(), r), p.section().name() + " piece for " + why);
                }
            });
        }
    }

    /** Runs the closure until nothing new is needed, then keeps the special entries of carried code. */
    void close() {
        boolean grew = true;
        while (grew) {
            while (!work.isEmpty()) {
                work.remove(work.size() - 1).run();
            }
            grew = keepSpecialEntries();
        }
        checkPromises();
    }

    private void scanSection(Section s) {
        if (!scanned.add(s) || s.isNoBits()) {
            return;
        }
        String user = describeSection(s);
        for (Relocation r : idx.relocations(s)) {
            bind(s, r, idx.resolve(s, r), user);
        }
    }

    private void scanUnit(SectionSlice u) {
        if (!scannedUnits.add(u) || u.section().isNoBits()) {
            return;
        }
        for (Relocation r : idx.relocations(u.section(), u.start(), u.end())) {
            bind(u.section(), r, idx.resolve(u.section(), r), u.describe());
        }
    }

    private String describeSection(Section s) {
        List<SectionSlice> us = idx.unitsOf(s);
        for (SectionSlice u : us) {
            if (u.symbol() != null && carried.containsKey(u)) {
                return u.describe();
            }
        }
        return s.name();
    }

    /** Decides how one relocation is written, carrying what it needs. */
    Binding bind(Section from, Relocation r, RelocationTarget t, String user) {
        switch (t) {
            case RelocationTarget.NoTarget n -> {
                return refuse(user, "has a relocation at " + from.name() + "+0x" + Long.toHexString(r.offset())
                        + " that names no symbol; the hypervisor cannot resolve it");
            }
            case RelocationTarget.StringTarget st -> {
                copyWhole(st.section(), "strings used by " + user);
                return carried(st.section(), r, st.offset(), user);
            }
            case RelocationTarget.ConstantTarget ct -> {
                copyWhole(ct.section(), "constants used by " + user);
                return carried(ct.section(), r, ct.offset(), user);
            }
            case RelocationTarget.SymbolTarget st -> {
                Symbol s = st.symbol();
                if (!s.hasSection()) {
                    if (s.isAbsolute()) {
                        return refuse(user, "refers to absolute symbol " + s.name() + ", which a payload cannot carry");
                    }
                    externals.putIfAbsent(s.name(), user);
                    return new Binding.External(s.name(), s.isFunction(), r.addend());
                }
                SectionSlice u = idx.unitOf(s);
                Section sec = idx.elf.section(s.shndx());
                if (u == null) {
                    return bindUnitless(sec, r, s.value() + st.offset(), user);
                }
                return bindUnit(u, r, s.value() + st.offset(), user);
            }
            case RelocationTarget.SectionTarget st -> {
                if (st.unit() != null) {
                    return bindUnit(st.unit(), r, st.offset(), user);
                }
                return bindUnitless(st.section(), r, st.offset(), user);
            }
        }
    }

    private Binding carried(Section sec, Relocation r, long location, String user) {
        promised.add(new Promise(sec, location, user));
        return new Binding.Carried(sec, location, r.addend() + r.symbol().value() - location);
    }

    /** A byte some carried relocation will point to, so it must be carried too. */
    private record Promise(Section section, long location, String user) {}

    /**
     * Every carried reference must land on carried bytes, or the writer would have nowhere to
     * point it. The rules above are meant to guarantee that; should a case slip through them, it
     * becomes a refusal naming the reference (one line), never a crash while writing.
     */
    private void checkPromises() {
        for (Promise p : promised) {
            if (!isCarried(p.section(), p.location())) {
                refuse(p.user(), "refers to " + p.section().name() + "+0x" + Long.toHexString(p.location())
                        + ", which this tool could not carry into the payload");
            }
        }
    }

    private Binding refuse(String user, String reason) {
        refusals.add(new Refusal(idx.label, user, reason));
        return new Binding.Refused(reason);
    }

    private Binding bindUnitless(Section sec, Relocation r, long location, String user) {
        if (idx.role(sec) == SectionRole.AUX_CODE) {
            OutOfLineCodePieces.Piece p = side.pieces.pieceAt(sec, location);
            if (p == null) {
                // No table entry describes these bytes, so nothing says where their code ends.
                copyWhole(sec, "code used by " + user);
            } else {
                carryPiece(p, user);
            }
            return carried(sec, r, location, user);
        }
        return refuse(user, "refers to " + sec.name() + "+0x" + Long.toHexString(location)
                + ", which is neither a symbol nor data a payload can carry");
    }

    private Binding bindUnit(SectionSlice u, Relocation r, long location, String user) {
        SectionRole role = idx.role(u.section());
        ChangeDetector.Status st = changes.status(u);
        if (role == SectionRole.INIT) {
            if (u.symbol() == null) {
                return refuse(user, "refers to unnamed boot-time (__init) data in " + u.section().name());
            }
            report.add(new ReportEntry("note", u.describe(), "boot-time (__init) symbol used by " + user
                    + "; it is freed after boot, so the reference is only safe if never followed"));
            return external(u, r, user);
        }
        if (carried.containsKey(u) || (wholeSections.containsKey(u.section()) && u.wholeSection())) {
            return carried(u.section(), r, location, user);
        }
        String parent = u.isFunction() ? XenNames.coldParent(u.symbol().name()) : null;
        if (parent != null) {
            // GCC's out-of-line cold part of a function (foo.cold, in .text.unlikely.foo) is
            // reached only by jumps from its parent and jumps back into it at fixed offsets. Only
            // carried code is scanned, so the user is the parent's new copy: it needs the cold
            // part that returns into that new copy, changed or not. The running hypervisor's
            // cold part would return into the old parent, in the middle of the code this payload
            // replaces.
            carry(u, "cold part of " + parent + ", used by " + user);
            report.add(new ReportEntry("included", u.describe(), "cold part of " + parent + "; carried with it"));
            return carried(u.section(), r, location, user);
        }
        if (st == ChangeDetector.Status.NEW) {
            carry(u, "new, used by " + user);
            report.add(new ReportEntry(u.isFunction() ? "new" : "included", u.describe(), "new, used by " + user));
            return carried(u.section(), r, location, user);
        }
        if (st == ChangeDetector.Status.CHANGED && (u.isFunction() || role == SectionRole.RODATA || role == SectionRole.TEXT)) {
            if (u.isFunction()) {
                // Changed functions are carried as such before the closure starts; this only
                // matters for one that was not, so the reference never dangles.
                carry(u, "changed, used by " + user);
            } else {
                carry(u, "changed read-only data used by " + user);
                report.add(new ReportEntry("included", u.describe(), "read-only data changed; the payload carries the new copy for " + user));
            }
            return carried(u.section(), r, location, user);
        }
        if (u.symbol() == null) {
            if (role == SectionRole.RODATA || role == SectionRole.TEXT) {
                carry(u, "unnamed " + (role == SectionRole.TEXT ? "code" : "read-only data") + " used by " + user);
                report.add(new ReportEntry("included", u.describe(), "has no symbol to bind to; carried as a copy for " + user));
                return carried(u.section(), r, location, user);
            }
            return refuse(user, "refers to unnamed data in " + u.section().name() + "+0x" + Long.toHexString(location)
                    + ", which cannot be bound to the running hypervisor's copy");
        }
        return external(u, r, user);
    }

    /** A reference to the running hypervisor's copy of an unchanged unit, by its original name. */
    private Binding external(SectionSlice u, Relocation r, String user) {
        SectionSlice twin = corr.twinOfPatched(u);
        SectionSlice named = twin != null ? twin : u;
        String name = named.xenName();
        if (externals.putIfAbsent(name, user) == null) {
            report.add(new ReportEntry("referenced", name, "unchanged, used by " + user + "; resolved in the running hypervisor"));
        }
        long addend = r.addend() + r.symbol().value() - u.symbol().value();
        return new Binding.External(name, u.isFunction(), addend);
    }

    /**
     * Keeps every entry of a special table that describes carried code (hooks always), carrying
     * what the kept entries point to. True when that carried anything new.
     */
    private boolean keepSpecialEntries() {
        int before = carried.size() + wholeSections.size() + pieces.values().stream().mapToInt(Set::size).sum();
        for (SpecialTable t : side.tables) {
            List<SpecialTable.Entry> list = kept.computeIfAbsent(t, k -> new ArrayList<>());
            for (SpecialTable.Entry e : t.entries) {
                if (list.contains(e)) {
                    continue;
                }
                SectionSlice owner = t.owner(idx, e);
                boolean keep = t.profile.isHook() || (owner != null && isCarriedCode(owner));
                if (!keep) {
                    continue;
                }
                list.add(e);
                String user = t.profile.isHook() ? t.section.name() : t.profile.kind() + " entry of " + owner.describe();
                if (t.profile.isHook()) {
                    report.add(new ReportEntry("special", t.section.name(), "hook sections are always part of the payload"));
                }
                for (Relocation r : e.relocations()) {
                    RelocationTarget target = t.target(idx, e, r);
                    if (target instanceof RelocationTarget.SymbolTarget st && st.symbol().hasSection() && t.profile.isHook()) {
                        SectionSlice hook = idx.unitOf(st.symbol());
                        if (hook != null && changes.status(hook) != ChangeDetector.Status.NEW) {
                            refusals.add(new Refusal(idx.label, st.symbol().name(), "hook function exists in the running hypervisor; hooks must be new functions"));
                            continue;
                        }
                    }
                    bindEntry(t, e, r, user);
                }
            }
        }
        for (var e : kept.entrySet()) {
            e.getValue().sort(java.util.Comparator.comparingLong(SpecialTable.Entry::start));
        }
        while (!work.isEmpty()) {
            work.remove(work.size() - 1).run();
        }
        int after = carried.size() + wholeSections.size() + pieces.values().stream().mapToInt(Set::size).sum();
        return after != before;
    }

    /**
     * How a field of a kept special-table entry is written. An empty replacement gets an empty
     * piece of its own: it must not bring along, or be judged by, the bytes of the replacement
     * it happens to point at.
     */
    Binding bindEntry(SpecialTable t, SpecialTable.Entry e, Relocation r, String user) {
        if (t.pointsAtEmptyReplacement(idx, e, r)) {
            RelocationTarget.SectionTarget st = (RelocationTarget.SectionTarget) t.target(idx, e, r);
            carryPiece(new OutOfLineCodePieces.Piece(st.section(), st.offset(), st.offset()), user);
            return carried(st.section(), r, st.offset(), user);
        }
        return bind(t.section, r, t.target(idx, e, r), user);
    }

    private boolean isCarriedCode(SectionSlice u) {
        return carried.containsKey(u) || (wholeSections.containsKey(u.section()) && idx.role(u.section()) == SectionRole.TEXT);
    }

    /** Where a carried byte of the patched object lands: the same offset of a whole copy, or inside an extracted unit or piece. */
    boolean isCarried(Section s, long location) {
        if (wholeSections.containsKey(s)) {
            return true;
        }
        for (SectionSlice u : extracted.keySet()) {
            if (u.section() == s && location >= u.start() && location <= u.end()) {
                return true;
            }
        }
        Set<OutOfLineCodePieces.Piece> ps = pieces.get(s);
        return ps != null && OutOfLineCodePieces.choose(ps, location) != null;
    }
}

package org.livepatch.diff;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.elf.ObjectBuilder.RelaEntry;
import org.livepatch.elf.ObjectBuilder.SectionHandle;
import org.livepatch.elf.ObjectBuilder.SymbolHandle;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.RelocationTypes;
import org.livepatch.elf.Section;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.LivepatchFunc;
import org.livepatch.payload.PayloadSections;

/**
 * Writes the payload object an {@link InclusionPlan} describes: carried sections, pieces and
 * special-table entries, their relocations re-pointed, the symbols the hypervisor needs, and
 * {@code .livepatch.funcs} with {@code .livepatch.strings}.
 *
 * <p>References between carried bytes go through section symbols (the hypervisor adds the
 * section's load address: xen/common/livepatch_elf.c, elf_resolve_symbols); references to the
 * running hypervisor are undefined symbols by Xen's name. Named symbols are only written for
 * replacement functions (their address is a funcs entry's new_addr) and for new things: the
 * hypervisor refuses a payload defining any other name it already has
 * (xen/common/livepatch.c: build_symbol_table, "duplicate new symbol").
 */
final class PayloadObjectWriter {
    private final InclusionPlan plan;
    private final ObjectIndex idx;
    private final ObjectIndex origIdx;
    private final ObjectBuilder b;
    private final Map<Section, SectionHandle> whole = new IdentityHashMap<>();
    private final Map<SectionSlice, SectionHandle> extracted = new IdentityHashMap<>();
    private final Map<Section, SectionHandle> pieceSections = new IdentityHashMap<>();
    private final Map<OutOfLineCodePieces.Piece, Long> pieceStart = new HashMap<>();
    private final Map<SectionHandle, SymbolHandle> sectionSymbols = new IdentityHashMap<>();
    private final Map<String, SymbolHandle> externals = new LinkedHashMap<>();
    private final Map<SectionSlice, SymbolHandle> named = new IdentityHashMap<>();

    PayloadObjectWriter(InclusionPlan plan, ObjectIndex origIdx) {
        this.plan = plan;
        this.idx = plan.side.index;
        this.origIdx = origIdx;
        this.b = ObjectBuilder.like(idx.elf.header());
    }

    byte[] write(List<FuncEntry> funcs, FuncLayout layout, Set<SectionSlice> namedUnits) {
        b.addSpecialSymbol(idx.primaryFile, Elf.STB_LOCAL, Elf.STT_FILE, 0, Elf.SHN_ABS, 0, 0);
        for (Section s : idx.elf.sections()) {
            if (plan.wholeSections.containsKey(s)) {
                whole.put(s, copy(s.name(), s, s.isNoBits() ? null : s.data(), s.size()));
            }
        }
        for (SectionSlice u : plan.extracted.keySet()) {
            if (whole.containsKey(u.section())) {
                continue;
            }
            Section s = u.section();
            long len = u.end() - u.start();
            extracted.put(u, copy(s.name(), s, s.isNoBits() ? null : s.data().slice((int) u.start(), (int) len), len));
        }
        for (Map.Entry<Section, Set<OutOfLineCodePieces.Piece>> e : plan.pieces.entrySet()) {
            if (whole.containsKey(e.getKey())) {
                continue;
            }
            List<OutOfLineCodePieces.Piece> ps = new ArrayList<>(e.getValue());
            ps.sort(Comparator.comparingLong(OutOfLineCodePieces.Piece::start));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (OutOfLineCodePieces.Piece p : ps) {
                pieceStart.put(p, (long) out.size());
                out.writeBytes(e.getKey().data().slice((int) p.start(), (int) (p.end() - p.start())).toArray());
            }
            pieceSections.put(e.getKey(), copy(e.getKey().name(), e.getKey(), Bytes.copyOf(out.toByteArray()), out.size()));
        }
        nameUnits(namedUnits);

        // Relocations of carried bytes, re-pointed.
        for (Map.Entry<Section, SectionHandle> e : whole.entrySet()) {
            relocate(e.getValue(), e.getKey(), idx.relocations(e.getKey()), 0, null);
        }
        for (Map.Entry<SectionSlice, SectionHandle> e : extracted.entrySet()) {
            SectionSlice u = e.getKey();
            relocate(e.getValue(), u.section(), idx.relocations(u.section(), u.start(), u.end()), u.start(), null);
        }
        for (Map.Entry<Section, SectionHandle> e : pieceSections.entrySet()) {
            List<RelaEntry> rels = new ArrayList<>();
            for (OutOfLineCodePieces.Piece p : plan.pieces.get(e.getKey())) {
                long shift = pieceStart.get(p) - p.start();
                for (Relocation r : idx.relocations(p.section(), p.start(), p.end())) {
                    RelaEntry rel = rel(r, plan.bind(p.section(), r, idx.resolve(p.section(), r), p.section().name()), r.offset() + shift);
                    if (rel != null) {
                        rels.add(rel);
                    }
                }
            }
            addRelocations(e.getValue(), rels);
        }
        writeSpecialTables();
        if (!funcs.isEmpty()) {
            writeFuncs(funcs, layout);
        }
        return b.toBytes();
    }

    private SectionHandle copy(String name, Section s, Bytes data, long size) {
        // SHF_GROUP would need the group carried too; a carried copy is never part of a COMDAT group.
        long flags = s.flags() & ~(Elf.SHF_GROUP | Elf.SHF_INFO_LINK | Elf.SHF_LINK_ORDER);
        SectionHandle out = data == null ? b.addNoBits(name, flags, Math.max(1, s.addralign()), size)
                : b.addSection(name, s.type(), flags, Math.max(1, s.addralign()), s.entsize(), data);
        sectionSymbols.put(out, b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, out, 0, 0));
        return out;
    }

    private void nameUnits(Set<SectionSlice> namedUnits) {
        for (SectionSlice u : namedUnits) {
            Placement p = place(u.section(), u.symbol().value());
            if (p == null) {
                continue;
            }
            SectionSlice twin = plan.corr.twinOfPatched(u);
            SectionSlice nameFrom = twin != null ? twin : u;
            var sym = nameFrom.symbol();
            String name = nameFrom.xenName();
            int bind = sym.isLocal() ? Elf.STB_LOCAL : sym.bind();
            named.put(u, b.addSymbol(name, bind, u.symbol().type(), u.symbol().other(), p.sec(), p.offset(), u.symbol().size()));
        }
    }

    record Placement(SectionHandle sec, long offset) {}

    /** Where byte {@code location} of patched section {@code s} is in the output, or null. */
    private Placement place(Section s, long location) {
        SectionHandle w = whole.get(s);
        if (w != null) {
            return new Placement(w, location);
        }
        for (Map.Entry<SectionSlice, SectionHandle> e : extracted.entrySet()) {
            SectionSlice u = e.getKey();
            if (u.section() == s && location >= u.start() && location <= u.end()) {
                return new Placement(e.getValue(), location - u.start());
            }
        }
        SectionHandle ps = pieceSections.get(s);
        if (ps != null) {
            OutOfLineCodePieces.Piece p = OutOfLineCodePieces.choose(plan.pieces.get(s), location);
            if (p != null) {
                return new Placement(ps, pieceStart.get(p) + location - p.start());
            }
        }
        return null;
    }

    private void relocate(SectionHandle out, Section from, List<Relocation> rels, long shift, String user) {
        List<RelaEntry> list = new ArrayList<>();
        for (Relocation r : rels) {
            RelaEntry rel = rel(r, plan.bind(from, r, idx.resolve(from, r), user == null ? from.name() : user), r.offset() - shift);
            if (rel != null) {
                list.add(rel);
            }
        }
        addRelocations(out, list);
    }

    private void addRelocations(SectionHandle out, List<RelaEntry> rels) {
        if (!rels.isEmpty()) {
            b.addRelocations(out, ".rela" + out.name(), Elf.SHF_INFO_LINK, rels);
        }
    }

    private RelaEntry rel(Relocation r, InclusionPlan.Binding binding, long newOffset) {
        return switch (binding) {
            case InclusionPlan.Binding.External ext -> new RelaEntry(newOffset, r.type(), external(ext.name()), ext.addend());
            case InclusionPlan.Binding.Carried c -> {
                Placement p = place(c.section(), c.location());
                if (p == null) {
                    throw new IllegalStateException(idx.label + ": " + c.section().name() + "+0x" + Long.toHexString(c.location())
                            + " is referenced but was not carried");
                }
                yield new RelaEntry(newOffset, r.type(), sectionSymbols.get(p.sec()), c.addendMinusLocation() + p.offset());
            }
            case InclusionPlan.Binding.Refused ref -> null;
        };
    }

    private SymbolHandle external(String name) {
        // Undefined and global: the hypervisor resolves undefined symbols by name whatever their
        // binding, and a global undefined symbol survives ld -r and binutils' strip unchanged.
        return externals.computeIfAbsent(name, n -> b.addSpecialSymbol(n, Elf.STB_GLOBAL, Elf.STT_NOTYPE, 0, Elf.SHN_UNDEF, 0, 0));
    }

    private void writeSpecialTables() {
        for (Map.Entry<SpecialTable, List<SpecialTable.Entry>> e : plan.kept.entrySet()) {
            SpecialTable t = e.getKey();
            if (e.getValue().isEmpty()) {
                continue;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            List<RelaEntry> rels = new ArrayList<>();
            List<long[]> moves = new ArrayList<>();
            for (SpecialTable.Entry en : e.getValue()) {
                long at = out.size();
                out.writeBytes(t.section.data().slice((int) en.start(), (int) (en.end() - en.start())).toArray());
                moves.add(new long[] {en.start(), at});
            }
            SectionHandle sec = copy(t.section.name(), t.section, Bytes.copyOf(out.toByteArray()), out.size());
            int i = 0;
            for (SpecialTable.Entry en : e.getValue()) {
                long shift = moves.get(i++)[1] - en.start();
                for (Relocation r : en.relocations()) {
                    RelaEntry rel = rel(r, plan.bindEntry(t, en, r, t.section.name()), r.offset() + shift);
                    if (rel != null) {
                        rels.add(rel);
                    }
                }
            }
            addRelocations(sec, rels);
        }
    }

    private void writeFuncs(List<FuncEntry> funcs, FuncLayout layout) {
        ByteArrayOutputStream strings = new ByteArrayOutputStream();
        Map<String, Long> offsets = new HashMap<>();
        for (FuncEntry f : funcs) {
            offsets.computeIfAbsent(f.name(), n -> {
                long o = strings.size();
                strings.writeBytes(n.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                strings.write(0);
                return o;
            });
        }
        // Both read-only and allocated: the hypervisor reads them through their load address
        // (xen/common/livepatch.c: prepare_payload) and never writes them since 4.17.3.
        SectionHandle str = b.addSection(PayloadSections.STRINGS, Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 1, 1, Bytes.copyOf(strings.toByteArray()));
        SymbolHandle strSym = b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, str, 0, 0);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        List<RelaEntry> rels = new ArrayList<>();
        for (FuncEntry f : funcs) {
            long base = data.size();
            data.writeBytes(new LivepatchFunc(0, 0, f.oldAddr(), f.newSize(), f.oldSize(), layout.version(), new byte[0]).encode(layout));
            rels.add(new RelaEntry(base + FuncLayout.NAME, RelocationTypes.R_X86_64_64, strSym, offsets.get(f.name())));
            SymbolHandle fn = named.get(f.unit());
            if (fn != null) {
                rels.add(new RelaEntry(base + FuncLayout.NEW_ADDR, RelocationTypes.R_X86_64_64, fn, 0));
            } else {
                Placement p = place(f.unit().section(), f.unit().symbol().value());
                rels.add(new RelaEntry(base + FuncLayout.NEW_ADDR, RelocationTypes.R_X86_64_64, sectionSymbols.get(p.sec()), p.offset()));
            }
        }
        SectionHandle funcs_ = b.addSection(PayloadSections.FUNCS, Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 8, layout.size(), Bytes.copyOf(data.toByteArray()));
        b.addRelocations(funcs_, ".rela" + PayloadSections.FUNCS, Elf.SHF_INFO_LINK, rels);
    }
}

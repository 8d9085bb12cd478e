package org.livepatch.diff;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.Section;

/**
 * Proves that the only byte differences between a function and its twin are {@code __LINE__}
 * arguments of a {@code printk} that prints {@code "<file>:<line>"}, as Xen's
 * {@code domain_crash()}, {@code dprintk()} and {@code gdprintk()} do
 * ({@code printk(... "%s:%d" ..., __FILE__, __LINE__ ...)}).
 *
 * <p>Why this matters: a hunk that adds or removes lines shifts {@code __LINE__} for everything
 * below it, so without this every function below with such a message would be patched, though
 * nothing about it changed but the number it prints. Why it must be strict: calling a real fix
 * "line numbers only" leaves the fix unpatched, which is far worse than patching a function for
 * nothing. So a difference counts as a line number only when all of this is shown from the code:
 *
 * <ol>
 *   <li>Both versions decode ({@link X86Decoder}) from the first byte to the last into the same
 *       instructions, and every differing byte lies in the 32-bit immediate of a
 *       {@code mov $imm32, %reg} without a relocation, whose old and new values are both plausible
 *       line numbers.</li>
 *   <li>From that move, plain moves only (and unconditional jumps inside the function) lead to a
 *       {@code call printk} or a tail {@code jmp printk}, and nothing on the way reads or writes
 *       the register, and nothing there is rewritten at boot by an alternative: the constant can
 *       only reach printk, as that argument.</li>
 *   <li>On every path into that call ({@link RegisterStrings}), the format (first argument) and
 *       the argument just before the constant hold the address of a string literal; the
 *       format's conversions put a plain {@code %s:%d} (or {@code %u}/{@code %i}) exactly on
 *       those two arguments, and the string for {@code %s} is a source file name
 *       ({@code __FILE__}).</li>
 * </ol>
 *
 * <p>A real constant that happens to sit next to a printk fails (2) or (3): it is not consumed
 * by printk alone, or not printed as the number after a file name. Arguments past the sixth (on
 * the stack) are not examined, so they never count as line numbers. The running hypervisor keeps
 * printing the old line in such a message; that is the whole cost of not patching.
 */
final class LineNumberProof {
    /** Lines of a C file: Xen's largest is far below this; a value outside is not taken as a line. */
    private static final long MAX_LINE = 1_000_000;
    private static final Pattern SOURCE_FILE = Pattern.compile("[A-Za-z0-9_./+-]+\\.(c|h|S|inc)");
    private static final Set<String> PRINTK_FAMILY = Set.of("printk");

    private final DiffSide side;
    private final Map<Section, Set<Long>> entryPoints = new IdentityHashMap<>();
    private final Map<Section, Set<Long>> patchedAtBoot = new IdentityHashMap<>();

    LineNumberProof(DiffSide side) {
        this.side = side;
    }

    /** One proven line-number difference: where, and the old and new line. */
    record LineChange(long offset, long oldLine, long newLine, String how) {
        @Override
        public String toString() {
            return how + " line " + oldLine + " -> " + newLine + " at +0x" + Long.toHexString(offset);
        }
    }

    /**
     * The line-number changes that explain every byte difference between {@code p} (patched) and
     * {@code o} (its twin), or null when any difference is not proven to be a line number. The
     * caller has already checked sizes, relocations and special-table entries are the same.
     */
    static List<LineChange> explain(LineNumberProof patchedSide, LineNumberProof origSide, SectionSlice p, SectionSlice o) {
        if (!p.isFunction() || !p.wholeSection() || !o.wholeSection() || p.section().isNoBits()) {
            return null;
        }
        Bytes pc = p.section().data();
        Bytes oc = o.section().data();
        List<X86Insn> pi = X86Decoder.decode(pc, p.start(), p.end());
        List<X86Insn> oi = X86Decoder.decode(oc, o.start(), o.end());
        if (pi == null || oi == null || pi.size() != oi.size()) {
            return null;
        }
        List<LineChange> out = new ArrayList<>();
        for (int k = 0; k < pi.size(); k++) {
            X86Insn a = pi.get(k);
            X86Insn b = oi.get(k);
            if (a.length() != b.length() || a.offset() - p.start() != b.offset() - o.start()) {
                return null;
            }
            Bytes ab = pc.slice((int) a.offset(), a.length());
            Bytes bb = oc.slice((int) b.offset(), b.length());
            if (ab.equals(bb)) {
                continue;
            }
            if (!a.isMovImm32ToReg() || !b.isMovImm32ToReg() || a.opcode() != b.opcode() || a.rex() != b.rex()
                    || !ab.slice(0, a.immAt()).equals(bb.slice(0, b.immAt()))) {
                return null; // a difference outside an immediate of a constant load
            }
            long newLine = ab.u32(a.immAt());
            long oldLine = bb.u32(b.immAt());
            if (!plausible(newLine) || !plausible(oldLine)) {
                return null;
            }
            String how = patchedSide.printkLineArgument(p, pi, k);
            if (how == null || !how.equals(origSide.printkLineArgument(o, oi, k))) {
                return null;
            }
            out.add(new LineChange(a.offset() - p.start(), oldLine, newLine, how));
        }
        return out.isEmpty() ? null : out;
    }

    private static boolean plausible(long line) {
        return line > 0 && line < MAX_LINE;
    }

    /**
     * Checks (2) and (3) for the constant load {@code insns[k]} of {@code u}; returns a short
     * description of the call ({@code "printk \"%s:%d\" argument 3"}), or null when not proven.
     */
    private String printkLineArgument(SectionSlice u, List<X86Insn> insns, int k) {
        Section s = u.section();
        Set<Long> entries = externalEntryPoints(s);
        if (entries == null) {
            return null;
        }
        // Bytes alternatives rewrite at boot: what runs there is not what was decoded.
        Set<Long> boot = patchedAtBoot.getOrDefault(s, Set.of());
        Map<Long, Relocation> relocs = new HashMap<>();
        for (Relocation r : side.index.relocations(s, u.start(), u.end())) {
            relocs.put(r.offset(), r);
        }
        Map<Long, List<Integer>> local = localPredecessors(insns, relocs, s.data());
        X86Insn load = insns.get(k);
        if (relocs.containsKey(load.offset() + load.immAt()) || touches(load, boot)) {
            return null; // an address, not a number
        }
        int reg = load.opcodeRegister();
        int arg = argumentIndex(reg);
        if (arg < 2) {
            return null; // the line follows the file name, so it is at least the third argument
        }
        int fileReg = X86Insn.ARGUMENT_REGISTERS[arg - 1];
        // Forward to the call (or tail call: a jmp with a relocation, as gcc emits for a printk
        // that ends a function), following unconditional jumps inside the function (gcc merges
        // the tails of several messages that differ only in their line): only plain moves that
        // leave the line register alone on the way. Other paths may join this one; they do not
        // change where this constant goes. The format and file are checked on every path below.
        Map<Long, Integer> at = new HashMap<>();
        for (int i = 0; i < insns.size(); i++) {
            at.put(insns.get(i).offset(), i);
        }
        Set<Integer> seen = new HashSet<>();
        int c = k + 1;
        boolean found = false;
        while (c < insns.size() && seen.add(c)) {
            X86Insn i = insns.get(c);
            if (touches(i, boot)) {
                return null;
            }
            boolean relocated = relocs.containsKey(i.offset() + i.immAt());
            if (i.isCallRel32() || (i.opcode() == 0xe9 && relocated)) {
                found = true;
                break;
            }
            if ((i.opcode() == 0xe9 || i.opcode() == 0xeb) && !relocated) {
                Integer t = at.get(i.localBranchTarget(s.data()));
                if (t == null) {
                    return null;
                }
                c = t;
                continue;
            }
            List<Integer> named = i.registersNamed();
            if (named == null || named.contains(reg)) {
                return null;
            }
            c++;
        }
        if (!found) {
            return null;
        }
        X86Insn call = insns.get(c);
        Relocation cr = relocs.get(call.offset() + call.immAt());
        if (cr == null || !(side.index.resolve(s, cr) instanceof RelocationTarget.SymbolTarget st) || st.offset() != 0
                || !PRINTK_FAMILY.contains(st.symbol().name())) {
            return null;
        }
        // What the format and the file argument hold at the call, over every path that reaches it.
        RegisterStrings flow = new RegisterStrings(insns, relocs, entries, boot, local, side.index, s);
        String format = flow.before(X86Insn.RDI, c);
        String file = flow.before(fileReg, c);
        if (format == null || file == null || !SOURCE_FILE.matcher(file).matches()) {
            return null;
        }
        List<String> conversions = conversions(format);
        if (conversions == null || conversions.size() < arg) {
            return null;
        }
        String fileConv = conversions.get(arg - 2);
        String lineConv = conversions.get(arg - 1);
        if (!fileConv.equals("%s") || !(lineConv.equals(":%d") || lineConv.equals(":%u") || lineConv.equals(":%i"))) {
            return null;
        }
        return st.symbol().name() + " \"%s:%d\" argument " + (arg + 1);
    }

    /** 0 for rdi, 1 for rsi, ... 5 for r9; -1 for a register that passes no argument. */
    private static int argumentIndex(int reg) {
        for (int i = 0; i < X86Insn.ARGUMENT_REGISTERS.length; i++) {
            if (X86Insn.ARGUMENT_REGISTERS[i] == reg) {
                return i;
            }
        }
        return -1;
    }

    private static boolean touches(X86Insn i, Set<Long> bytes) {
        for (long b = i.offset(); b < i.end(); b++) {
            if (bytes.contains(b)) {
                return true;
            }
        }
        return false;
    }

    /** For each in-section branch target, the branches (instruction indexes) that go there. */
    private static Map<Long, List<Integer>> localPredecessors(List<X86Insn> insns, Map<Long, Relocation> relocs, Bytes code) {
        Map<Long, List<Integer>> m = new HashMap<>();
        for (int i = 0; i < insns.size(); i++) {
            X86Insn x = insns.get(i);
            if (x.isCall() || relocs.containsKey(x.offset() + x.immAt())) {
                continue;
            }
            // A branch whose displacement carries a relocation goes where the relocation says
            // (an external entry point); its field holds a placeholder, not a distance.
            long t = x.localBranchTarget(code);
            if (t >= 0) {
                m.computeIfAbsent(t, k -> new ArrayList<>()).add(i);
            }
        }
        return m;
    }

    /**
     * The printf conversions of {@code format} in argument order, each with the one character of
     * literal text before it when that is a ':' (so {@code "%s:%d"} gives {@code "%s", ":%d"}); a
     * {@code *} width or precision takes an argument of its own. Null for a format this does not
     * understand.
     */
    static List<String> conversions(String format) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = format.length();
        while (i < n) {
            char ch = format.charAt(i);
            if (ch != '%') {
                i++;
                continue;
            }
            boolean colon = i > 0 && format.charAt(i - 1) == ':';
            int j = i + 1;
            if (j < n && format.charAt(j) == '%') {
                i = j + 1;
                continue;
            }
            while (j < n && "-+ #0".indexOf(format.charAt(j)) >= 0) {
                j++;
            }
            boolean plain = j == i + 1;
            while (j < n && (Character.isDigit(format.charAt(j)) || format.charAt(j) == '.' || format.charAt(j) == '*')) {
                if (format.charAt(j) == '*') {
                    out.add("*");
                }
                plain = false;
                j++;
            }
            int lengthStart = j;
            while (j < n && "hlLqjzt".indexOf(format.charAt(j)) >= 0) {
                j++;
            }
            plain &= j == lengthStart;
            if (j >= n) {
                return null;
            }
            char conv = format.charAt(j);
            if ("diouxXcspn".indexOf(conv) < 0) {
                return null;
            }
            if (conv == 'p') {
                // Xen's %p extensions (%pv, %pd, %ps, %pS, %ph...) take one argument and are
                // followed by letters that are part of the conversion.
                while (j + 1 < n && Character.isLetter(format.charAt(j + 1))) {
                    j++;
                }
            }
            out.add(plain ? (colon ? ":" : "") + "%" + conv : "%?");
            i = j + 1;
        }
        return out;
    }

    /**
     * Every offset of {@code s} where execution may arrive from outside the function's own
     * decoded branches: every place a relocation anywhere in the object points at (calls and
     * jumps from other sections such as the cold part, exception-table continuations,
     * alternatives, bug frames). Null when a relocation points into the section in a way whose
     * target cannot be computed exactly (a PC-relative word in data that is not a special
     * table, as a jump table would be): then no landing point can be ruled out.
     */
    private Set<Long> externalEntryPoints(Section s) {
        if (entryPoints.containsKey(s)) {
            return entryPoints.get(s);
        }
        Set<Long> e = new HashSet<>();
        Set<Relocation> inTables = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (SpecialTable t : side.tables) {
            for (SpecialTable.Entry en : t.entries) {
                for (Relocation r : en.relocations()) {
                    inTables.add(r);
                    long at = offsetIn(s, t.target(side.index, en, r));
                    if (at < 0) {
                        continue;
                    }
                    e.add(at);
                    if (t.profile == SpecialSectionProfile.BUG_FRAMES) {
                        e.add(at + 2); // execution resumes after the ud2 of a WARN
                    } else if (t.profile == SpecialSectionProfile.ALTERNATIVES && r.offset() == en.start() && !t.section.isNoBits()) {
                        // Code patched at boot: every byte of the original instructions counts,
                        // since what runs there is not what was decoded.
                        int origLen = t.section.data().u8((int) en.start() + 10);
                        Set<Long> boot = patchedAtBoot.computeIfAbsent(s, k -> new HashSet<>());
                        for (int b = 0; b < origLen; b++) {
                            e.add(at + b);
                            boot.add(at + b);
                        }
                    }
                }
            }
        }
        for (Section from : side.index.elf.sections()) {
            if (from.isNoBits() || side.index.role(from) == SectionRole.IGNORED || side.index.role(from) == SectionRole.SPECIAL) {
                continue;
            }
            for (Relocation r : side.index.relocations(from)) {
                if (inTables.contains(r) || r.symbol().index() == 0 || r.symbol().shndx() != s.index()) {
                    continue;
                }
                if (!from.isExec() && ObjectIndex.isPcRelative(side.index.elf.header().machine(), r.type())) {
                    entryPoints.put(s, null);
                    return null;
                }
                e.add(r.symbol().value() + side.index.pointedOffset(from, r));
            }
        }
        entryPoints.put(s, e);
        return e;
    }

    private static long offsetIn(Section s, RelocationTarget t) {
        return switch (t) {
            case RelocationTarget.SymbolTarget st -> st.symbol().hasSection() && st.symbol().shndx() == s.index() ? st.symbol().value() + st.offset() : -1;
            case RelocationTarget.SectionTarget st -> st.section() == s ? st.offset() : -1;
            default -> -1;
        };
    }
}

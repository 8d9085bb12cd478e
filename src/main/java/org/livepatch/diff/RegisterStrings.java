package org.livepatch.diff;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.Section;

/**
 * Which string literal a register certainly holds at a point of one function: a backward
 * "must" analysis over the function's decoded instructions.
 *
 * <p>gcc often loads a message's format and {@code __FILE__} into callee-saved registers once and
 * reaches the printk from several paths, so the load and the call are not in one straight line.
 * The value before an instruction is the value after each of its predecessors (the previous
 * instruction when that falls through, and every branch of the function that targets it); all
 * must agree. Along a path, an instruction that may write the register ends the walk: it must be
 * the load of a string's address ({@code lea sym(%rip)} or {@code mov $sym}) or a 64-bit copy
 * from another register, followed in turn. A call is crossed only by the registers the SysV ABI
 * makes a callee preserve (rbx, rbp, r12-r15). The function's first instruction, a point some
 * relocation or table can land on (every byte an alternative rewrites at boot is one), or an
 * exhausted budget give no answer; code nothing reaches
 * (padding after a jump) adds nothing.
 * A path that comes back to a point already being examined adds nothing (a loop carries the
 * value it was entered with unless something in it writes the register, which the walk sees).
 */
final class RegisterStrings {
    private static final int CALLEE_SAVED = (1 << 3) | (1 << 5) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 15);
    private static final int BUDGET = 20_000;
    /** Longest path followed back (it is recursion: bounded so a huge function cannot exhaust the stack). */
    private static final int MAX_DEPTH = 1_000;
    /** Marks "no information from this path" (it only loops back). */
    private static final String ANY = new String("any");

    private final List<X86Insn> insns;
    private final Map<Long, Relocation> relocs;
    private final Set<Long> externalEntries;
    private final Set<Long> patchedAtBoot;
    private final Map<Long, List<Integer>> branchesTo;
    private final ObjectIndex index;
    private final Section section;
    private int steps;

    RegisterStrings(List<X86Insn> insns, Map<Long, Relocation> relocs, Set<Long> externalEntries, Set<Long> patchedAtBoot,
                    Map<Long, List<Integer>> branchesTo, ObjectIndex index, Section section) {
        this.insns = insns;
        this.relocs = relocs;
        this.externalEntries = externalEntries;
        this.patchedAtBoot = patchedAtBoot;
        this.branchesTo = branchesTo;
        this.index = index;
        this.section = section;
    }

    /** The text of the string literal {@code reg} holds just before {@code insns[at]} runs, or null when not certain. */
    String before(int reg, int at) {
        steps = 0;
        String v = valueBefore(reg, at, new HashSet<>());
        return v == ANY ? null : v;
    }

    private String valueBefore(int reg, int i, Set<Long> visiting) {
        if (++steps > BUDGET || visiting.size() > MAX_DEPTH || i == 0 || externalEntries.contains(insns.get(i).offset())) {
            return null;
        }
        long key = ((long) i << 5) | reg;
        if (!visiting.add(key)) {
            return ANY;
        }
        try {
            String result = ANY;
            List<Integer> preds = branchesTo.getOrDefault(insns.get(i).offset(), List.of());
            boolean fall = insns.get(i - 1).fallsThrough();
            if (!fall && preds.isEmpty()) {
                // Nothing reaches it (alignment padding after a jump): no path, no value. Every
                // way in from outside was ruled out above, so this cannot hide a real path.
                return ANY;
            }
            if (fall) {
                result = merge(result, valueAfter(reg, i - 1, visiting));
            }
            for (int p : preds) {
                if (result == null) {
                    break;
                }
                result = merge(result, valueAfter(reg, p, visiting));
            }
            return result;
        } finally {
            visiting.remove(key);
        }
    }

    private static String merge(String a, String b) {
        if (a == null || b == null) {
            return null;
        }
        if (a == ANY) {
            return b;
        }
        if (b == ANY) {
            return a;
        }
        return a.equals(b) ? a : null;
    }

    private String valueAfter(int reg, int p, Set<Long> visiting) {
        X86Insn x = insns.get(p);
        if (x.isCall()) {
            return (CALLEE_SAVED & (1 << reg)) != 0 ? valueBefore(reg, p, visiting) : null;
        }
        if ((x.mayWrite() & (1 << reg)) == 0) {
            return valueBefore(reg, p, visiting);
        }
        if (x.registerWritten() != reg || x.registersNamed() == null || patchedAtBoot.contains(x.offset())) {
            return null; // (a load inside an alternative is replaced at boot)
        }
        int copied = x.registerCopied();
        if (copied >= 0) {
            return valueBefore(copied, p, visiting);
        }
        Relocation r;
        if (x.isRipRelativeLea() && (x.rex() & 8) != 0) {
            r = relocs.get(x.offset() + x.length() - 4);
        } else if (x.isMovImm32ToReg()) {
            r = relocs.get(x.offset() + x.immAt());
        } else {
            return null;
        }
        if (r == null) {
            return null;
        }
        return index.resolve(section, r) instanceof RelocationTarget.StringTarget st ? st.text() : null;
    }
}

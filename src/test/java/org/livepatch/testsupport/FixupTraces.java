package org.livepatch.testsupport;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the fixup code of every exception-table entry does, as objdump disassembles it: from the
 * entry's fixup address, instruction after instruction, through the jumps that stay inside
 * {@code .fixup} (the assembler resolved those, so they only work if the bytes around them
 * moved together), until the code leaves (a jump with a relocation, an indirect jump, a return).
 * Addresses are left out, so an object and a payload built from it compare equal exactly when
 * every fixup runs the same instructions.
 */
public final class FixupTraces {
    private FixupTraces() {}

    private static final Pattern INSN = Pattern.compile("^\\s*([0-9a-f]+):\\t([0-9a-f ]+)\\t(.*)$");
    private static final Pattern RELOC = Pattern.compile("^\\s*([0-9a-f]+): (R_X86_64_\\S+)\\s+(.*)$");
    private static final Pattern LOCAL_JUMP = Pattern.compile("^(j\\S*)\\s+([0-9a-f]+) <\\.fixup(\\+0x[0-9a-f]+)?>$");

    private record Insn(long at, long next, String text) {}

    /** Site ("section+0xoffset" of the faulting instruction) to the trace of its fixup code. */
    public static Map<String, String> of(Path obj) throws IOException, InterruptedException {
        TreeMap<Long, Insn> code = new TreeMap<>();
        Insn last = null;
        boolean hasFixup = ReadelfFacts.sections(obj).stream().anyMatch(s -> s.name().equals(".fixup"));
        String listing = hasFixup ? Tools.run(null, "objdump", "-d", "-r", "-w", "-j", ".fixup", obj.toString()) : "";
        for (String line : listing.split("\n")) {
            Matcher m = INSN.matcher(line);
            Matcher r = RELOC.matcher(line);
            if (m.matches()) {
                long at = Long.parseLong(m.group(1), 16);
                int len = m.group(2).trim().split(" ").length;
                // With -w objdump appends the instruction's relocations after a tab.
                String[] parts = m.group(3).split("\t");
                last = new Insn(at, at + len, parts[0].replaceAll("\\s+#.*$", "").trim());
                code.put(at, last);
                for (int k = 1; k < parts.length; k++) {
                    Matcher inline = RELOC.matcher(parts[k] + (k + 1 < parts.length ? " " + parts[k + 1] : ""));
                    if (inline.matches()) {
                        last = withRelocation(last, inline);
                        code.put(at, last);
                        k++;
                    }
                }
            } else if (r.matches() && last != null) {
                last = withRelocation(last, r);
                code.put(last.at(), last);
            }
        }
        Map<String, String> out = new TreeMap<>();
        Map<Long, ReadelfFacts.Rela> rels = ReadelfFacts.relocations(obj, ".rela.ex_table");
        for (Map.Entry<Long, ReadelfFacts.Rela> e : rels.entrySet()) {
            if (e.getKey() % 8 != 0) {
                continue;
            }
            ReadelfFacts.Rela fix = rels.get(e.getKey() + 4);
            assertTrue(fix != null, obj + ": exception-table entry at 0x" + Long.toHexString(e.getKey()) + " without a fixup relocation");
            String site = e.getValue().symbol() + "+0x" + Long.toHexString(e.getValue().target());
            out.put(site, fix.symbol().equals(".fixup") ? trace(obj, code, fix.target()) : "to " + fix.symbol() + "+0x" + Long.toHexString(fix.target()));
        }
        return out;
    }

    /** The operand is what the relocation says, not the placeholder bytes objdump decodes. */
    private static Insn withRelocation(Insn i, Matcher r) {
        // A carried function's section symbol (.text.fn) and the running hypervisor's function
        // (fn) are the same target at the same addend.
        String target = r.group(3).trim().replaceFirst("^\\.text\\.", "");
        return new Insn(i.at(), i.next(), i.text().replaceAll("0x0\\(%rip\\)|[0-9a-f]+ <[^>]*>", "RELOC") + " {" + r.group(2) + " " + target + "}");
    }

    private static String trace(Path obj, TreeMap<Long, Insn> code, long start) {
        List<String> steps = new ArrayList<>();
        long at = start;
        for (int n = 0; n < 32; n++) {
            Insn i = code.get(at);
            if (i == null) {
                steps.add("(no instruction at .fixup+0x" + Long.toHexString(at) + ")");
                break;
            }
            Matcher j = LOCAL_JUMP.matcher(i.text());
            if (j.matches()) {
                steps.add(j.group(1) + " local");
                long target = Long.parseLong(j.group(2), 16);
                if (!j.group(1).equals("jmp")) {
                    steps.add("[" + trace(obj, code, target) + "]");
                    at = i.next();
                    continue;
                }
                at = target;
                continue;
            }
            steps.add(i.text());
            if (i.text().startsWith("jmp") || i.text().startsWith("ret") || i.text().startsWith("ud2")) {
                break;
            }
            at = i.next();
        }
        return String.join("; ", steps);
    }
}

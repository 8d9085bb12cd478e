package org.livepatch.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The alternatives of a relocatable object as binutils shows them, independent of this project's
 * ELF reader: {@code readelf -S} for where sections are, {@code readelf -r} for where each
 * {@code struct alt_instr} (14 bytes in Xen 4.17: s32 orig, s32 repl, u16 cpuid, u8 orig_len,
 * repl_len, pad_len, priv) points, and the file's own bytes for the replacement code.
 *
 * <p>Each entry is keyed by the site it patches ({@code .text.fn+0x8}) and described by its
 * feature, lengths and the exact replacement bytes, so an object and the payload built from it
 * can be compared entry by entry wherever the replacement code ended up.
 */
public final class AltEntries {
    private AltEntries() {}

    private static final int SIZE = 14;
    private static final Pattern SEC = Pattern.compile("^\\s*\\[\\s*(\\d+)\\]\\s+(\\S+)\\s+(\\S+)\\s+([0-9a-f]{16})\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s.*$");

    private record Where(long fileOffset, long size) {}


    /** Site ("section+0xoffset") to the descriptions of the entries patching it, in table order. */
    public static Map<String, List<String>> of(Path obj) throws IOException, InterruptedException {
        Map<String, Where> sections = new TreeMap<>();
        for (String line : Tools.run(null, "readelf", "-W", "-S", obj.toString()).split("\n")) {
            Matcher m = SEC.matcher(line);
            if (m.matches()) {
                sections.put(m.group(2), new Where(Long.parseLong(m.group(5), 16), Long.parseLong(m.group(6), 16)));
            }
        }
        Map<String, List<String>> out = new TreeMap<>();
        Where table = sections.get(".altinstructions");
        if (table == null) {
            return out;
        }
        Map<Long, ReadelfFacts.Rela> rels = ReadelfFacts.relocations(obj, ".rela.altinstructions");
        byte[] file = Files.readAllBytes(obj);
        Where repl = sections.get(".altinstr_replacement");
        assertEquals(0, table.size() % SIZE, obj + ": .altinstructions of " + table.size() + " bytes");
        for (long e = 0; e < table.size(); e += SIZE) {
            ReadelfFacts.Rela site = rels.get(e);
            ReadelfFacts.Rela r = rels.get(e + 4);
            assertTrue(site != null && r != null, obj + ": alternatives entry at 0x" + Long.toHexString(e) + " lacks a relocation");
            assertEquals(".altinstr_replacement", r.symbol(), obj + ": entry at 0x" + Long.toHexString(e) + " replacement");
            int at = (int) (table.fileOffset() + e);
            int cpuid = (file[at + 8] & 0xff) | (file[at + 9] & 0xff) << 8;
            int origLen = file[at + 10] & 0xff;
            int replLen = file[at + 11] & 0xff;
            int padLen = file[at + 12] & 0xff;
            String bytes = "";
            if (replLen > 0) {
                assertTrue(repl != null && r.target() >= 0 && r.target() + replLen <= repl.size(), obj + ": entry at 0x"
                        + Long.toHexString(e) + ": replacement +0x" + Long.toHexString(r.target()) + "+" + replLen
                        + " outside .altinstr_replacement" + (repl == null ? "" : " of " + repl.size() + " bytes"));
                int from = (int) (repl.fileOffset() + r.target());
                bytes = HexFormat.of().formatHex(file, from, from + replLen);
            }
            String key = site.symbol() + "+0x" + Long.toHexString(site.target());
            out.computeIfAbsent(key, k -> new ArrayList<>()).add("feature " + cpuid + ", orig " + origLen + ", pad " + padLen
                    + ", replacement [" + bytes + "]");
        }
        return out;
    }
}

package org.livepatch.testsupport;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Symbols and bytes of an ELF executable (xen-syms) as binutils' {@code readelf} lists them: the
 * independent source tests compare our reader, symbol table and loader against.
 */
public final class ReadelfFacts {
    private ReadelfFacts() {}

    /** ENDBR64, as the Intel SDM encodes it. */
    public static final byte[] ENDBR64 = {(byte) 0xf3, 0x0f, 0x1e, (byte) 0xfa};

    /** One line of {@code readelf -W -s}; {@code file} is the STT_FILE symbol before it (null before any). */
    public record Sym(String name, long value, long size, String type, String bind, String ndx, String file) {
        public boolean defined() {
            return !ndx.equals("UND") && !ndx.equals("ABS");
        }
    }

    /** One allocated section of {@code readelf -W -S} with bytes in the file. */
    public record Sec(String name, long addr, long offset, long size) {}

    private static final Pattern SYM = Pattern.compile("^\\s*\\d+:\\s+([0-9a-f]+)\\s+(\\d+|0x[0-9a-f]+)\\s+(\\S+)\\s+(\\S+)\\s+\\S+\\s+(\\S+)\\s*(.*)$");
    private static final Pattern SEC = Pattern.compile("^\\s*\\[\\s*\\d+\\]\\s+(\\S+)\\s+(\\S+)\\s+([0-9a-f]{16})\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s.*$");

    public static List<Sym> symbols(Path elf) throws IOException, InterruptedException {
        List<Sym> out = new ArrayList<>();
        String file = null;
        for (String line : Tools.run(null, "readelf", "-W", "-s", elf.toString()).split("\n")) {
            Matcher m = SYM.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String size = m.group(2);
            Sym s = new Sym(m.group(6).trim(), Long.parseUnsignedLong(m.group(1), 16),
                    size.startsWith("0x") ? Long.parseLong(size.substring(2), 16) : Long.parseLong(size), m.group(3), m.group(4), m.group(5), file);
            if (s.type().equals("FILE")) {
                file = s.name();
            }
            out.add(s);
        }
        return out;
    }

    /** The address of the one global symbol {@code name}; fails if there is none or several. */
    public static long globalAddress(Path elf, String name) throws IOException, InterruptedException {
        List<Sym> l = symbols(elf).stream().filter(s -> s.name().equals(name) && s.bind().equals("GLOBAL") && s.defined()).toList();
        if (l.size() != 1) {
            throw new AssertionError("readelf lists " + l.size() + " global " + name + " in " + elf);
        }
        return l.get(0).value();
    }

    public static List<Sec> sections(Path elf) throws IOException, InterruptedException {
        List<Sec> out = new ArrayList<>();
        for (String line : Tools.run(null, "readelf", "-W", "-S", elf.toString()).split("\n")) {
            Matcher m = SEC.matcher(line);
            if (m.matches() && m.group(2).equals("PROGBITS")) {
                out.add(new Sec(m.group(1), Long.parseUnsignedLong(m.group(3), 16), Long.parseLong(m.group(4), 16), Long.parseLong(m.group(5), 16)));
            }
        }
        return out;
    }

    /** {@code n} bytes of the file at run-time address {@code addr}, read through readelf's section table. */
    public static byte[] bytesAt(Path elf, long addr, int n) throws IOException, InterruptedException {
        return bytesAt(elf, sections(elf), addr, n);
    }

    /** As {@link #bytesAt(Path, long, int)} with the section table already read. */
    public static byte[] bytesAt(Path elf, List<Sec> sections, long addr, int n) throws IOException {
        for (Sec s : sections) {
            if (s.addr() != 0 && addr >= s.addr() && addr + n <= s.addr() + s.size()) {
                byte[] b = new byte[n];
                try (RandomAccessFile f = new RandomAccessFile(elf.toFile(), "r")) {
                    f.seek(s.offset() + (addr - s.addr()));
                    f.readFully(b);
                }
                return b;
            }
        }
        throw new AssertionError("no section of " + elf + " holds 0x" + Long.toHexString(addr) + "+" + n);
    }

    /** A relocation as readelf lists it: the symbol it names and that symbol's value plus the addend. */
    public record Rela(String symbol, long target) {}

    private static final Pattern RELA_SECTION = Pattern.compile("^Relocation section '([^']*)'.*$");
    private static final Pattern RELA_LINE = Pattern.compile("^([0-9a-f]+)\\s+[0-9a-f]+\\s+(\\S+)\\s+([0-9a-f]+)\\s+(\\S+)\\s*([+-])\\s*([0-9a-f]+)$");

    /** The relocations of one relocation section ({@code .rela.ex_table}, ...) by offset, from {@code readelf -W -r}. */
    public static java.util.Map<Long, Rela> relocations(Path obj, String relaSection) throws IOException, InterruptedException {
        java.util.Map<Long, Rela> rels = new java.util.TreeMap<>();
        String current = null;
        for (String line : Tools.run(null, "readelf", "-W", "-r", obj.toString()).split("\n")) {
            Matcher h = RELA_SECTION.matcher(line);
            if (h.matches()) {
                current = h.group(1);
                continue;
            }
            Matcher m = RELA_LINE.matcher(line.trim());
            if (relaSection.equals(current) && m.matches()) {
                long add = Long.parseLong(m.group(6), 16) * (m.group(5).equals("-") ? -1 : 1);
                rels.put(Long.parseLong(m.group(1), 16), new Rela(m.group(4), Long.parseLong(m.group(3), 16) + add));
            }
        }
        return rels;
    }
}

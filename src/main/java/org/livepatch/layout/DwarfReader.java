package org.livepatch.layout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.Section;

/**
 * The debugging information entries of one relocatable object: {@code .debug_info} parsed with
 * {@code .debug_abbrev}, strings from {@code .debug_str}, and the file table of
 * {@code .debug_line} (for {@code DW_AT_decl_file}).
 *
 * <p>Why our own reader rather than parsing {@code readelf --debug-dump=info}: the text format
 * is meant for people (it changes between binutils releases, and a header change makes hundreds of
 * objects whose text would run to megabytes each), while the binary format is fixed by the DWARF
 * standard and needs only the few sections above. Only what type layouts need is understood:
 * DWARF 4 and 5 compilation-unit headers, every attribute form gcc emits for them (others are
 * refused with {@link DwarfException}, never guessed), and the DWARF 2–4 line-table header (the
 * caller compiles with {@code -gdwarf-4}). In an ET_REL object, offsets into other debug sections
 * are left to relocations, so those of {@code .rela.debug_info} are applied first.
 */
public final class DwarfReader {
    // Tags and attributes we look at (DWARF 5, section 7.5).
    public static final int TAG_ARRAY = 0x01, TAG_ENUM = 0x04, TAG_FORMAL_PARAMETER = 0x05, TAG_LEXICAL_BLOCK = 0x0b,
            TAG_MEMBER = 0x0d, TAG_POINTER = 0x0f, TAG_COMPILE_UNIT = 0x11, TAG_STRUCT = 0x13, TAG_SUBROUTINE_TYPE = 0x15,
            TAG_TYPEDEF = 0x16, TAG_UNION = 0x17, TAG_INLINED_SUBROUTINE = 0x1d, TAG_SUBRANGE = 0x21, TAG_BASE = 0x24,
            TAG_CONST = 0x26, TAG_ENUMERATOR = 0x28, TAG_SUBPROGRAM = 0x2e, TAG_VARIABLE = 0x34, TAG_VOLATILE = 0x35,
            TAG_RESTRICT = 0x37, TAG_ATOMIC = 0x47;
    public static final int AT_NAME = 0x03, AT_BYTE_SIZE = 0x0b, AT_STMT_LIST = 0x10, AT_COMP_DIR = 0x1b,
            AT_CONST_VALUE = 0x1c, AT_UPPER_BOUND = 0x2f, AT_ABSTRACT_ORIGIN = 0x31, AT_BIT_OFFSET = 0x0c,
            AT_BIT_SIZE = 0x0d, AT_COUNT = 0x37, AT_DATA_MEMBER_LOCATION = 0x38, AT_DECL_FILE = 0x3a,
            AT_DECLARATION = 0x3c, AT_SPECIFICATION = 0x47, AT_TYPE = 0x49, AT_DATA_BIT_OFFSET = 0x6b;

    /** One entry: its offset in .debug_info (what DW_AT_type and friends refer to), tag, attributes, children. */
    public static final class Die {
        final int offset;
        final int tag;
        final Map<Integer, Object> attrs = new HashMap<>(8);
        final List<Die> children = new ArrayList<>(0);

        Die(int offset, int tag) {
            this.offset = offset;
            this.tag = tag;
        }

        public int tag() {
            return tag;
        }

        public List<Die> children() {
            return children;
        }

        public String name() {
            return attrs.get(AT_NAME) instanceof String s ? s : null;
        }

        public Long number(int attr) {
            return attrs.get(attr) instanceof Long l ? l : null;
        }

        public boolean has(int attr) {
            return attrs.containsKey(attr);
        }

        /** A reference attribute, as an absolute .debug_info offset (see {@link Ref}). */
        public Integer ref(int attr) {
            return attrs.get(attr) instanceof Ref r ? r.offset() : null;
        }
    }

    /** A reference form, kept apart from plain numbers so a constant is never followed as a link. */
    record Ref(int offset) {}

    /** One compilation unit: its top entry and the file table its DW_AT_decl_file values index. */
    public record Unit(Die root, List<String> files, Map<Integer, Die> byOffset) {
        public String file(Long index) {
            if (index == null || index < 0 || index >= files.size()) {
                return null;
            }
            return files.get(index.intValue());
        }
    }

    private final byte[] info;
    private final Bytes abbrev;
    private final Bytes str;
    private final Bytes lineStr;
    private final Bytes line;

    private DwarfReader(byte[] info, Bytes abbrev, Bytes str, Bytes lineStr, Bytes line) {
        this.info = info;
        this.abbrev = abbrev;
        this.str = str;
        this.lineStr = lineStr;
        this.line = line;
    }

    /** The units of an object compiled with -g; empty if it has no .debug_info. */
    public static List<Unit> read(ElfFile elf) throws DwarfException {
        Optional<Section> infoSec = elf.section(".debug_info");
        if (infoSec.isEmpty()) {
            return List.of();
        }
        DwarfReader r = new DwarfReader(relocated(elf, infoSec.get()), data(elf, ".debug_abbrev"), data(elf, ".debug_str"),
                data(elf, ".debug_line_str"), elf.section(".debug_line").map(s -> Bytes.copyOf(relocated(elf, s))).orElse(Bytes.EMPTY));
        return r.units();
    }

    private static Bytes data(ElfFile elf, String name) {
        return elf.section(name).map(Section::data).orElse(Bytes.EMPTY);
    }

    /**
     * The section's bytes with its absolute relocations applied (S + A, symbols of an ET_REL being
     * section offsets): what a linker would have written into the 4- or 8-byte fields.
     */
    private static byte[] relocated(ElfFile elf, Section s) {
        byte[] b = s.data().toArray();
        Optional<org.livepatch.elf.RelocationSection> rela = elf.relocationsFor(s);
        if (rela.isEmpty()) {
            return b;
        }
        for (Relocation r : rela.get().relocations()) {
            long v = (r.symbol() == null ? 0 : r.symbol().value()) + r.addend();
            int width = switch (r.type()) {
                case 1 -> 8;            // R_X86_64_64
                case 10, 11 -> 4;       // R_X86_64_32, R_X86_64_32S
                default -> 0;           // PC-relative ones only appear against code, not offsets we read
            };
            if (width == 0 || r.offset() < 0 || r.offset() + width > b.length) {
                continue;
            }
            for (int i = 0; i < width; i++) {
                b[(int) r.offset() + i] = (byte) (v >>> (8 * i));
            }
        }
        return b;
    }

    private record AttrSpec(int attr, int form, long implicitConst) {}

    private record Abbrev(int tag, boolean hasChildren, List<AttrSpec> specs) {}

    private Map<Long, Abbrev> abbrevs(int offset) throws DwarfException {
        Map<Long, Abbrev> m = new HashMap<>();
        Cursor c = new Cursor(abbrev, offset);
        while (true) {
            long code = c.uleb();
            if (code == 0) {
                return m;
            }
            int tag = (int) c.uleb();
            boolean children = c.u8() != 0;
            List<AttrSpec> specs = new ArrayList<>();
            while (true) {
                int attr = (int) c.uleb();
                int form = (int) c.uleb();
                long implicit = form == 0x21 ? c.sleb() : 0;
                if (attr == 0 && form == 0) {
                    break;
                }
                specs.add(new AttrSpec(attr, form, implicit));
            }
            m.put(code, new Abbrev(tag, children, specs));
        }
    }

    private List<Unit> units() throws DwarfException {
        List<Unit> units = new ArrayList<>();
        Bytes all = Bytes.copyOf(info);
        int off = 0;
        while (off + 11 <= info.length) {
            Cursor c = new Cursor(all, off);
            long length = c.u32();
            if (length >= 0xfffffff0L) {
                throw new DwarfException("64-bit DWARF is not supported");
            }
            int end = off + 4 + (int) length;
            if (end > info.length) {
                throw new DwarfException("compilation unit at 0x" + Integer.toHexString(off) + " runs past .debug_info");
            }
            int version = c.u16();
            long abbrevOffset;
            int addrSize;
            if (version == 5) {
                int unitType = c.u8();
                addrSize = c.u8();
                abbrevOffset = c.u32();
                if (unitType != 1) { // DW_UT_compile; type/skeleton units are not what gcc -g makes here
                    throw new DwarfException("unit type " + unitType + " is not supported");
                }
            } else if (version >= 2 && version <= 4) {
                abbrevOffset = c.u32();
                addrSize = c.u8();
            } else {
                throw new DwarfException("DWARF version " + version + " is not supported");
            }
            Map<Long, Abbrev> table = abbrevs((int) abbrevOffset);
            Map<Integer, Die> byOffset = new HashMap<>();
            Die root = entries(c, end, table, addrSize, off, byOffset);
            List<String> files = root == null ? List.of() : files(root, version);
            if (root != null) {
                units.add(new Unit(root, files, byOffset));
            }
            off = end;
        }
        return units;
    }

    /** Reads the tree of entries of one unit; returns its root. */
    private Die entries(Cursor c, int end, Map<Long, Abbrev> table, int addrSize, int unitOffset, Map<Integer, Die> byOffset)
            throws DwarfException {
        Die root = null;
        List<Die> stack = new ArrayList<>();
        while (c.pos < end) {
            int at = c.pos;
            long code = c.uleb();
            if (code == 0) {
                if (!stack.isEmpty()) {
                    stack.remove(stack.size() - 1);
                }
                continue;
            }
            Abbrev a = table.get(code);
            if (a == null) {
                throw new DwarfException("unknown abbreviation " + code + " at 0x" + Integer.toHexString(at));
            }
            Die d = new Die(at, a.tag());
            for (AttrSpec s : a.specs()) {
                Object v = value(c, s.form(), s.implicitConst(), addrSize, unitOffset);
                if (v != null) {
                    d.attrs.put(s.attr(), v);
                }
            }
            byOffset.put(at, d);
            if (stack.isEmpty()) {
                if (root == null) {
                    root = d;
                }
            } else {
                stack.get(stack.size() - 1).children.add(d);
            }
            if (a.hasChildren()) {
                stack.add(d);
            }
        }
        return root;
    }

    private Object value(Cursor c, int form, long implicitConst, int addrSize, int unitOffset) throws DwarfException {
        return switch (form) {
            case 0x01 -> addrSize == 8 ? c.u64() : c.u32();                    // addr
            case 0x0b -> (long) c.u8();                                         // data1
            case 0x05 -> (long) c.u16();                                        // data2
            case 0x06 -> c.u32();                                               // data4
            case 0x07 -> c.u64();                                               // data8
            case 0x0d -> c.sleb();                                              // sdata
            case 0x0f -> c.uleb();                                              // udata
            case 0x21 -> implicitConst;                                         // implicit_const
            case 0x0c -> (long) c.u8();                                         // flag
            case 0x19 -> 1L;                                                    // flag_present
            case 0x08 -> c.cString();                                           // string
            case 0x0e -> stringAt(str, c.u32());                                // strp
            case 0x1f -> stringAt(lineStr, c.u32());                            // line_strp
            case 0x11 -> new Ref(unitOffset + c.u8());                          // ref1
            case 0x12 -> new Ref(unitOffset + c.u16());                         // ref2
            case 0x13 -> new Ref(unitOffset + (int) c.u32());                   // ref4
            case 0x14 -> new Ref(unitOffset + (int) c.u64());                   // ref8
            case 0x15 -> new Ref(unitOffset + (int) c.uleb());                  // ref_udata
            case 0x10 -> new Ref((int) c.u32());                                // ref_addr (32-bit DWARF)
            case 0x17 -> c.u32();                                               // sec_offset
            case 0x20 -> { c.skip(8); yield null; }                             // ref_sig8
            case 0x1e -> { c.skip(16); yield null; }                            // data16
            case 0x0a -> { c.skip(c.u8()); yield null; }                        // block1
            case 0x03 -> { c.skip(c.u16()); yield null; }                       // block2
            case 0x04 -> { c.skip((int) c.u32()); yield null; }                 // block4
            case 0x09, 0x18 -> { c.skip((int) c.uleb()); yield null; }          // block, exprloc
            case 0x22, 0x23 -> { c.uleb(); yield null; }                        // loclistx, rnglistx
            case 0x16 -> value(c, (int) c.uleb(), 0, addrSize, unitOffset);     // indirect
            default -> throw new DwarfException("attribute form 0x" + Integer.toHexString(form) + " is not supported");
        };
    }

    private static String stringAt(Bytes b, long offset) throws DwarfException {
        if (offset < 0 || offset >= b.length()) {
            throw new DwarfException("string offset 0x" + Long.toHexString(offset) + " outside its section");
        }
        String s = b.cString((int) offset);
        if (s == null) {
            throw new DwarfException("unterminated string at 0x" + Long.toHexString(offset));
        }
        return s;
    }

    /**
     * The file names DW_AT_decl_file indexes, as written in the line table (directory joined),
     * index 0 being "no file" in DWARF 2–4.
     */
    private List<String> files(Die root, int version) throws DwarfException {
        Long stmt = root.number(AT_STMT_LIST);
        if (stmt == null || line.isEmpty()) {
            return List.of();
        }
        Cursor c = new Cursor(line, stmt.intValue());
        c.u32(); // unit_length
        int v = c.u16();
        if (v < 2 || v > 4) {
            // A DWARF 5 line table: we ask gcc for DWARF 4, so this means flags we did not set.
            throw new DwarfException("line table version " + v + " is not supported (compile with -gdwarf-4)");
        }
        c.u32(); // header_length
        c.u8(); // minimum_instruction_length
        if (v >= 4) {
            c.u8(); // maximum_operations_per_instruction
        }
        c.u8(); // default_is_stmt
        c.u8(); // line_base
        c.u8(); // line_range
        int opcodeBase = c.u8();
        c.skip(opcodeBase - 1);
        List<String> dirs = new ArrayList<>();
        dirs.add("");
        for (String d = c.cString(); !d.isEmpty(); d = c.cString()) {
            dirs.add(d);
        }
        List<String> files = new ArrayList<>();
        files.add(null);
        for (String f = c.cString(); !f.isEmpty(); f = c.cString()) {
            int dir = (int) c.uleb();
            c.uleb(); // mtime
            c.uleb(); // length
            String d = dir > 0 && dir < dirs.size() ? dirs.get(dir) : "";
            files.add(normalise(d.isEmpty() || f.startsWith("/") ? f : d + "/" + f));
        }
        return files;
    }

    /** {@code ./include/xen/sched.h} -> {@code include/xen/sched.h}; paths are relative to xen/. */
    static String normalise(String p) {
        String s = p;
        while (s.startsWith("./")) {
            s = s.substring(2);
        }
        return s.replace("/./", "/");
    }

    /** A read position in a section, little-endian, bounds-checked. */
    private static final class Cursor {
        final Bytes b;
        int pos;

        Cursor(Bytes b, int pos) {
            this.b = b;
            this.pos = pos;
        }

        private void need(int n) throws DwarfException {
            if (pos < 0 || n < 0 || pos + n > b.length()) {
                throw new DwarfException("truncated debug section (need " + n + " byte(s) at 0x" + Integer.toHexString(pos) + ")");
            }
        }

        int u8() throws DwarfException {
            need(1);
            return b.u8(pos++);
        }

        int u16() throws DwarfException {
            need(2);
            int v = b.u16(pos);
            pos += 2;
            return v;
        }

        long u32() throws DwarfException {
            need(4);
            long v = b.u32(pos);
            pos += 4;
            return v;
        }

        long u64() throws DwarfException {
            need(8);
            long v = b.u64(pos);
            pos += 8;
            return v;
        }

        void skip(int n) throws DwarfException {
            need(n);
            pos += n;
        }

        long uleb() throws DwarfException {
            long result = 0;
            int shift = 0;
            while (true) {
                int x = u8();
                if (shift < 64) {
                    result |= (long) (x & 0x7f) << shift;
                }
                shift += 7;
                if ((x & 0x80) == 0) {
                    return result;
                }
            }
        }

        long sleb() throws DwarfException {
            long result = 0;
            int shift = 0;
            int x;
            do {
                x = u8();
                if (shift < 64) {
                    result |= (long) (x & 0x7f) << shift;
                }
                shift += 7;
            } while ((x & 0x80) != 0);
            if (shift < 64 && (x & 0x40) != 0) {
                result |= -1L << shift;
            }
            return result;
        }

        String cString() throws DwarfException {
            String s = b.cString(pos);
            if (s == null) {
                throw new DwarfException("unterminated string at 0x" + Integer.toHexString(pos));
            }
            pos += s.length() + 1; // Latin-1: one char per byte
            return s;
        }
    }
}

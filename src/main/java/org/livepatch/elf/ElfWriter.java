package org.livepatch.elf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the relocatable object an {@link ObjectBuilder} describes; the mirror of {@link ElfReader}.
 *
 * <p>Layout, in the order GNU as lays out objects so that {@code readelf} listings of a
 * round-tripped object line up with the original: the ELF header, the sections' bytes in section
 * order (each at its alignment), then {@code .symtab}, {@code .strtab}, {@code .shstrtab} and last
 * the section header table. The output depends only on the builder's contents: no time, no hash
 * order, so the same model always gives the same bytes.
 */
public final class ElfWriter {
    private ElfWriter() {}

    public static byte[] write(ObjectBuilder b) {
        List<ObjectBuilder.SectionHandle> secs = b.sections();
        Map<ObjectBuilder.SectionHandle, Integer> secIndex = new IdentityHashMap<>();
        for (int i = 0; i < secs.size(); i++) {
            secIndex.put(secs.get(i), i + 1);
        }
        int symtabIndex = secs.size() + 1;
        int strtabIndex = secs.size() + 2;
        int shstrtabIndex = secs.size() + 3;
        int shnum = secs.size() + 4;
        if (shnum >= Elf.SHN_LORESERVE) {
            throw new IllegalStateException(shnum + " sections need extended section numbering, which we do not write");
        }

        // The gABI wants every STB_LOCAL symbol before the first non-local one; sh_info of
        // .symtab is the index of that first non-local (xen/common/livepatch_elf.c relies on
        // nothing more, but ld -r and readelf do).
        List<ObjectBuilder.SymbolHandle> ordered = new ArrayList<>();
        for (ObjectBuilder.SymbolHandle s : b.symbols()) {
            if (s.isLocal()) ordered.add(s);
        }
        int firstGlobal = ordered.size() + 1;
        for (ObjectBuilder.SymbolHandle s : b.symbols()) {
            if (!s.isLocal()) ordered.add(s);
        }
        Map<ObjectBuilder.SymbolHandle, Integer> symIndex = new IdentityHashMap<>();
        for (int i = 0; i < ordered.size(); i++) {
            symIndex.put(ordered.get(i), i + 1);
        }

        StringTable strtab = new StringTable();
        Buf symtab = new Buf();
        symtab.zeros(Elf.SYM_SIZE);
        for (ObjectBuilder.SymbolHandle s : ordered) {
            int shndx;
            if (s.section() != null) {
                Integer idx = secIndex.get(s.section());
                if (idx == null) {
                    throw new IllegalStateException("symbol " + s + " is defined in removed section " + s.section());
                }
                shndx = idx;
            } else {
                shndx = s.specialIndex();
            }
            symtab.u32(strtab.add(s.name()));
            symtab.u8(Symbol.info(s.bind(), s.type()));
            symtab.u8(s.other());
            symtab.u16(shndx);
            symtab.u64(s.value());
            symtab.u64(s.size());
        }

        // Section contents, with RELA and GROUP bodies generated from the handles.
        List<Header> headers = new ArrayList<>();
        StringTable shstrtab = new StringTable();
        for (ObjectBuilder.SectionHandle s : secs) {
            byte[] body;
            int link = 0;
            int info = 0;
            switch (s.kind()) {
                case RELA -> {
                    Integer target = secIndex.get(s.relaTarget());
                    if (target == null) {
                        throw new IllegalStateException("RELA section " + s + " applies to a removed section");
                    }
                    Buf rb = new Buf();
                    for (ObjectBuilder.RelaEntry r : s.relocations()) {
                        int sym = 0;
                        if (r.symbol() != null) {
                            Integer si = symIndex.get(r.symbol());
                            if (si == null) {
                                throw new IllegalStateException("relocation in " + s + " names removed symbol " + r.symbol());
                            }
                            sym = si;
                        }
                        rb.u64(r.offset());
                        rb.u64(((long) sym << 32) | (r.type() & 0xffffffffL));
                        rb.u64(r.addend());
                    }
                    body = rb.toArray();
                    link = symtabIndex;
                    info = target;
                }
                case GROUP -> {
                    Buf gb = new Buf();
                    gb.u32(s.groupFlags());
                    for (ObjectBuilder.SectionHandle m : s.groupMembers()) {
                        gb.u32(secIndex.get(m));
                    }
                    body = gb.toArray();
                    link = symtabIndex;
                    Integer sig = symIndex.get(s.groupSignature());
                    if (sig == null) {
                        throw new IllegalStateException("group " + s + " is signed by a removed symbol");
                    }
                    info = sig;
                }
                default -> {
                    body = s.type() == Elf.SHT_NOBITS ? null : s.data().toArray();
                    if (s.linkOrder() != null) {
                        Integer l = secIndex.get(s.linkOrder());
                        if (l == null) {
                            throw new IllegalStateException("section " + s + " is linked to a removed section");
                        }
                        link = l;
                    } else {
                        link = s.rawLink();
                        info = s.rawInfo();
                    }
                }
            }
            headers.add(new Header(shstrtab.add(s.name()), s.type(), s.flags(), s.addr(), body,
                    body == null ? s.size() : body.length, link, info, s.align(), s.entsize()));
        }
        headers.add(new Header(shstrtab.add(".symtab"), Elf.SHT_SYMTAB, 0, 0, symtab.toArray(), symtab.size(), strtabIndex, firstGlobal, 8, Elf.SYM_SIZE));
        headers.add(new Header(shstrtab.add(".strtab"), Elf.SHT_STRTAB, 0, 0, strtab.bytes(), strtab.size(), 0, 0, 1, 0));
        int shstrName = shstrtab.add(".shstrtab");
        headers.add(new Header(shstrName, Elf.SHT_STRTAB, 0, 0, shstrtab.bytes(), shstrtab.size(), 0, 0, 1, 0));

        // Lay the bytes out.
        Buf out = new Buf();
        out.zeros(Elf.EHDR_SIZE);
        long[] offsets = new long[headers.size()];
        for (int i = 0; i < headers.size(); i++) {
            Header h = headers.get(i);
            out.alignTo(Math.max(1, h.align));
            offsets[i] = out.size();
            if (h.body != null) {
                out.bytes(h.body);
            }
        }
        out.alignTo(8);
        long shoff = out.size();
        out.zeros(Elf.SHDR_SIZE); // section 0
        for (int i = 0; i < headers.size(); i++) {
            Header h = headers.get(i);
            out.u32(h.name);
            out.u32(h.type);
            out.u64(h.flags);
            out.u64(h.addr);
            out.u64(offsets[i]);
            out.u64(h.size);
            out.u32(h.link);
            out.u32(h.info);
            out.u64(h.align);
            out.u64(h.entsize);
        }
        byte[] bytes = out.toArray();
        writeHeader(bytes, b, shoff, shnum, shstrtabIndex);
        return bytes;
    }

    private static void writeHeader(byte[] out, ObjectBuilder b, long shoff, int shnum, int shstrndx) {
        Buf h = new Buf();
        h.u8(0x7f);
        h.u8('E');
        h.u8('L');
        h.u8('F');
        h.u8(Elf.ELFCLASS64);
        h.u8(Elf.ELFDATA2LSB);
        h.u8(Elf.EV_CURRENT);
        h.u8(b.osAbi());
        h.zeros(8);
        h.u16(Elf.ET_REL);
        h.u16(b.machine());
        h.u32(Elf.EV_CURRENT);
        h.u64(0); // e_entry
        h.u64(0); // e_phoff
        h.u64(shoff);
        h.u32((int) b.elfFlags());
        h.u16(Elf.EHDR_SIZE);
        h.u16(0); // e_phentsize: no program headers in a relocatable object
        h.u16(0);
        h.u16(Elf.SHDR_SIZE);
        h.u16(shnum);
        h.u16(shstrndx);
        byte[] hb = h.toArray();
        System.arraycopy(hb, 0, out, 0, hb.length);
    }

    private record Header(int name, int type, long flags, long addr, byte[] body, long size, int link, int info, long align, long entsize) {}

    /** A string table: NUL first, each distinct name once, in first-use order. */
    static final class StringTable {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Map<String, Integer> offsets = new HashMap<>();

        StringTable() {
            bytes.write(0);
            offsets.put("", 0);
        }

        int add(String s) {
            Integer o = offsets.get(s);
            if (o != null) {
                return o;
            }
            int off = bytes.size();
            bytes.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
            bytes.write(0);
            offsets.put(s, off);
            return off;
        }

        byte[] bytes() {
            return bytes.toByteArray();
        }

        int size() {
            return bytes.size();
        }
    }

    /** A little-endian byte sink. */
    static final class Buf {
        private byte[] a = new byte[256];
        private int n;

        private void ensure(int more) {
            if (n + more > a.length) {
                long cap = Math.max((long) a.length * 2, (long) n + more);
                if (cap > Integer.MAX_VALUE - 16) {
                    throw new IllegalStateException("object larger than 2 GiB");
                }
                a = java.util.Arrays.copyOf(a, (int) cap);
            }
        }

        void u8(int v) {
            ensure(1);
            a[n++] = (byte) v;
        }

        void u16(int v) {
            u8(v);
            u8(v >>> 8);
        }

        void u32(long v) {
            ensure(4);
            for (int i = 0; i < 4; i++) a[n++] = (byte) (v >>> (8 * i));
        }

        void u64(long v) {
            ensure(8);
            for (int i = 0; i < 8; i++) a[n++] = (byte) (v >>> (8 * i));
        }

        void zeros(int count) {
            ensure(count);
            n += count;
        }

        void bytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, a, n, b.length);
            n += b.length;
        }

        void alignTo(long align) {
            long pad = (align - (n % align)) % align;
            zeros((int) pad);
        }

        int size() {
            return n;
        }

        byte[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}

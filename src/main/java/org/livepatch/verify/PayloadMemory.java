package org.livepatch.verify;

import java.util.HashMap;
import java.util.Map;
import org.livepatch.elf.Bytes;

/**
 * The loaded image of one payload: each placed section's bytes from the file (zeros for NOBITS),
 * with the loader's writes (relocations) kept in sparse pages so that a forged 2 MiB .bss costs
 * nothing until something is written into it.
 */
final class PayloadMemory {
    private static final int PAGE = 4096;

    private final PayloadLayout layout;
    private final Map<Integer, Bytes> initial;
    private final Map<Integer, Map<Long, byte[]>> written = new HashMap<>();

    PayloadMemory(PayloadLayout layout, Map<Integer, Bytes> initial) {
        this.layout = layout;
        this.initial = Map.copyOf(initial);
    }

    PayloadLayout layout() {
        return layout;
    }

    /** Writes {@code value} at {@code offset} of section {@code index}; the caller has checked the bounds. */
    void write(int index, long offset, byte[] value) {
        for (int i = 0; i < value.length; i++) {
            long o = offset + i;
            page(index, o / PAGE, true)[(int) (o % PAGE)] = value[i];
        }
    }

    private byte[] page(int index, long pageNo, boolean create) {
        Map<Long, byte[]> pages = written.get(index);
        byte[] p = pages == null ? null : pages.get(pageNo);
        if (p == null && create) {
            p = new byte[PAGE];
            Bytes data = initial.get(index);
            long from = pageNo * PAGE;
            if (data != null && from < data.length()) {
                int n = (int) Math.min(PAGE, data.length() - from);
                data.slice((int) from, n).copyTo(p, 0);
            }
            written.computeIfAbsent(index, k -> new HashMap<>()).put(pageNo, p);
        }
        return p;
    }

    private int byteAt(int index, long offset) {
        byte[] p = page(index, offset / PAGE, false);
        if (p != null) {
            return p[(int) (offset % PAGE)] & 0xff;
        }
        Bytes data = initial.get(index);
        return data != null && offset < data.length() ? data.u8((int) offset) : 0;
    }

    /** The bytes at {@code addr}, or null unless all {@code len} lie inside one placed section. */
    byte[] read(long addr, int len) {
        for (PlacedSection s : layout.sections()) {
            if (len > 0 && s.contains(addr, len) || len == 0 && s.contains(addr, 0)) {
                long off = addr - s.address();
                byte[] b = new byte[len];
                for (int i = 0; i < len; i++) {
                    b[i] = (byte) byteAt(s.index(), off + i);
                }
                return b;
            }
        }
        return null;
    }

    /** The bytes of a whole section as loaded (relocations applied). */
    byte[] section(int index) {
        PlacedSection s = layout.section(index);
        if (s == null || s.size() > Integer.MAX_VALUE) {
            return null;
        }
        byte[] b = new byte[(int) s.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) byteAt(index, i);
        }
        return b;
    }

    /** A NUL-terminated string at {@code addr} of at most {@code max} characters, or null if it leaves its section first. */
    String cString(long addr, int max) {
        PlacedSection s = layout.sectionAt(addr);
        if (s == null) {
            return null;
        }
        long off = addr - s.address();
        StringBuilder sb = new StringBuilder();
        for (long o = off; o < s.size() && sb.length() <= max; o++) {
            int c = byteAt(s.index(), o);
            if (c == 0) {
                return sb.toString();
            }
            sb.append((char) c);
        }
        return null;
    }

    static long u64(byte[] b, int o) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | (b[o + i] & 0xff);
        }
        return v;
    }

    static int u16(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8;
    }

    static long u32(byte[] b, int o) {
        return (b[o] & 0xffL) | (b[o + 1] & 0xffL) << 8 | (b[o + 2] & 0xffL) << 16 | (b[o + 3] & 0xffL) << 24;
    }

    static byte[] le(long v, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }
}

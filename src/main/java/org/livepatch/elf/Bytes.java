package org.livepatch.elf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An immutable run of bytes, usually a window onto a file read into memory.
 *
 * <p>Section data of a 24 MB {@code xen-syms} is not copied when the file is read: each section
 * is a window onto the one array. Equality is by content, so two models compare equal when their
 * sections hold the same bytes wherever they came from. Little-endian accessors because every
 * target (x86_64, aarch64) is little-endian.
 */
public final class Bytes {
    public static final Bytes EMPTY = new Bytes(new byte[0], 0, 0);

    private final byte[] array;
    private final int start;
    private final int length;

    private Bytes(byte[] array, int start, int length) {
        this.array = array;
        this.start = start;
        this.length = length;
    }

    /** Takes a copy of {@code data}, so later changes to the array cannot leak in. */
    public static Bytes copyOf(byte[] data) {
        return new Bytes(data.clone(), 0, data.length);
    }

    /** Wraps an array the caller promises never to change again (used by the reader and writers). */
    static Bytes wrapOwned(byte[] data, int start, int length) {
        return new Bytes(data, start, length);
    }

    public static Bytes ofString(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        return new Bytes(b, 0, b.length);
    }

    public int length() {
        return length;
    }

    public boolean isEmpty() {
        return length == 0;
    }

    public int u8(int offset) {
        check(offset, 1);
        return array[start + offset] & 0xff;
    }

    public int u16(int offset) {
        check(offset, 2);
        int p = start + offset;
        return (array[p] & 0xff) | (array[p + 1] & 0xff) << 8;
    }

    public int s32(int offset) {
        check(offset, 4);
        int p = start + offset;
        return (array[p] & 0xff) | (array[p + 1] & 0xff) << 8 | (array[p + 2] & 0xff) << 16 | (array[p + 3] & 0xff) << 24;
    }

    public long u32(int offset) {
        return s32(offset) & 0xffffffffL;
    }

    public long u64(int offset) {
        check(offset, 8);
        return (u32(offset) & 0xffffffffL) | u32(offset + 4) << 32;
    }

    public Bytes slice(int offset, int len) {
        check(offset, len);
        return new Bytes(array, start + offset, len);
    }

    public byte[] toArray() {
        return Arrays.copyOfRange(array, start, start + length);
    }

    /** Copies these bytes into {@code dest} at {@code destOffset}. */
    public void copyTo(byte[] dest, int destOffset) {
        System.arraycopy(array, start, dest, destOffset, length);
    }

    /**
     * The NUL-terminated string starting at {@code offset}, or {@code null} when no NUL follows
     * inside these bytes. Latin-1 so that every byte maps to one char and names round-trip exactly.
     */
    public String cString(int offset) {
        if (offset < 0 || offset >= length) {
            return null;
        }
        int p = start + offset;
        int end = start + length;
        int q = p;
        while (q < end && array[q] != 0) {
            q++;
        }
        if (q == end) {
            return null;
        }
        return new String(array, p, q - p, StandardCharsets.ISO_8859_1);
    }

    /** True when {@code other} holds the same bytes as the window {@code [offset, offset+other.length)}. */
    public boolean regionEquals(int offset, Bytes other) {
        if (offset < 0 || offset > length - other.length) {
            return false;
        }
        return Arrays.equals(array, start + offset, start + offset + other.length,
                other.array, other.start, other.start + other.length);
    }

    public String toHex() {
        StringBuilder sb = new StringBuilder(length * 2);
        for (int i = 0; i < length; i++) {
            sb.append(Character.forDigit(array[start + i] >> 4 & 0xf, 16));
            sb.append(Character.forDigit(array[start + i] & 0xf, 16));
        }
        return sb.toString();
    }

    private void check(int offset, int len) {
        if (offset < 0 || len < 0 || offset > length - len) {
            throw new IndexOutOfBoundsException("bytes [" + offset + ", +" + len + ") outside a window of " + length);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes b && Arrays.equals(array, start, start + length, b.array, b.start, b.start + b.length);
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (int i = start; i < start + length; i++) {
            h = 31 * h + array[i];
        }
        return h;
    }

    @Override
    public String toString() {
        return "Bytes[" + length + "]";
    }
}

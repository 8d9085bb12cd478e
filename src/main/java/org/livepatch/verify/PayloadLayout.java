package org.livepatch.verify;

import java.util.List;

/**
 * A payload's memory layout as move_payload (xen/common/livepatch.c) computes it, from a base
 * address: page-aligned text, RW and RO areas and every loaded section inside them.
 *
 * @param pages the number of pages vmalloc_xen is asked for
 */
public record PayloadLayout(long base, long textAddr, long textSize, long rwAddr, long rwSize, long roAddr, long roSize,
                            long pages, List<PlacedSection> sections) {
    public static final long PAGE_SIZE = 4096;

    public PayloadLayout {
        sections = List.copyOf(sections);
    }

    /** First address after the payload's pages. */
    public long end() {
        return base + pages * PAGE_SIZE;
    }

    public PlacedSection section(int index) {
        for (PlacedSection s : sections) {
            if (s.index() == index) {
                return s;
            }
        }
        return null;
    }

    public PlacedSection sectionAt(long addr) {
        for (PlacedSection s : sections) {
            if (s.size() > 0 && s.contains(addr, 1)) {
                return s;
            }
        }
        return null;
    }

    public boolean inText(long addr, long len) {
        long off = addr - textAddr;
        return Long.compareUnsigned(addr, textAddr) >= 0 && Long.compareUnsigned(len, textSize) <= 0
                && Long.compareUnsigned(off, textSize - len) <= 0;
    }

    static long pageAlign(long v) {
        return (v + PAGE_SIZE - 1) & -PAGE_SIZE;
    }
}

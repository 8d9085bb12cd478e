package org.livepatch.verify;

/** Where move_payload puts one SHF_ALLOC section: its region, address and size. */
public record PlacedSection(int index, String name, Region region, long address, long size, long align, boolean nobits) {

    public long end() {
        return address + size;
    }

    public boolean contains(long addr, long len) {
        long off = addr - address;
        return Long.compareUnsigned(addr, address) >= 0 && Long.compareUnsigned(off, size) <= 0 && Long.compareUnsigned(len, size - off) <= 0;
    }
}
